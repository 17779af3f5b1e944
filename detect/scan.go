package detect

import (
	"context"
	"runtime"
	"sync"

	"ktrail/audit"
)

// scanPositions runs the gate pass over every event of v (or those whose
// bit is set in sel) on all cores and returns each gated rule's
// candidates in view order.
func (e *Engine) scanPositions(ctx context.Context, v *audit.View, sel []uint64) [][]uint32 {
	return e.scan(v, v.Len(), func(w *gateWorker, a, b int) {
		v.EachID(a, b, func(pos int, id uint32) bool {
			if pos&4095 == 0 && ctx.Err() != nil {
				return false
			}
			if sel == nil || sel[id/64]&(1<<(id%64)) != 0 {
				w.visit(id)
			}
			return true
		})
	})
}

// scanRecords runs the gate pass over the records with ids [from,
// v.NumRecs()) that are not duplicates; the candidates are in id order.
func (e *Engine) scanRecords(ctx context.Context, v *audit.View, from int) [][]uint32 {
	return e.scan(v, v.NumRecs()-from, func(w *gateWorker, a, b int) {
		for i := from + a; i < from+b; i++ {
			if i&4095 == 0 && ctx.Err() != nil {
				return
			}
			if v.Rec(uint32(i)).Flags&audit.FlagDup == 0 {
				w.visit(uint32(i))
			}
		}
	})
}

// scan splits [0, n) into one contiguous part per core, runs fn over each
// with its own worker, and joins the candidates part by part.
func (e *Engine) scan(v *audit.View, n int, fn func(w *gateWorker, a, b int)) [][]uint32 {
	if n <= 0 || len(e.gates.fields) == 0 {
		return make([][]uint32, len(e.rules))
	}
	parts := min(runtime.GOMAXPROCS(0), max(n/(16<<10), 1))
	workers := make([]*gateWorker, parts)
	var wg sync.WaitGroup
	for p := range parts {
		workers[p] = e.gates.newWorker(v, len(e.rules))
		a, b := n*p/parts, n*(p+1)/parts
		wg.Go(func() { fn(workers[p], a, b) })
	}
	wg.Wait()
	if parts == 1 {
		return workers[0].cands
	}
	out := make([][]uint32, len(e.rules))
	for i := range out {
		size := 0
		for _, w := range workers {
			size += len(w.cands[i])
		}
		if size == 0 {
			continue
		}
		out[i] = make([]uint32, 0, size)
		for _, w := range workers {
			out[i] = append(out[i], w.cands[i]...)
		}
	}
	return out
}
