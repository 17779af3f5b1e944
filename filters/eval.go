package filters

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"ktrail/audit"
)

// Chunking of the parallel evaluation, in events.
const (
	minChunk = 4 << 10
	maxChunk = 64 << 10
)

// Eval returns the ids of the matching events in time order (v's order),
// using all cores.
func (f *Filter) Eval(ctx context.Context, v *audit.View) ([]uint32, error) {
	return f.EvalRange(ctx, v, 0, v.Len())
}

// EvalRange evaluates the events at sorted positions [from, to) only, and
// returns the ids that match in time order.
func (f *Filter) EvalRange(ctx context.Context, v *audit.View, from, to int) ([]uint32, error) {
	from, to = max(from, 0), min(to, v.Len())
	if f.lo != math.MinInt64 && from < to {
		from = max(from, v.Search(f.lo))
	}
	if f.hi != math.MaxInt64 && from < to {
		to = min(to, v.Search(f.hi))
	}
	if from >= to || f.never {
		return nil, ctx.Err()
	}
	if f.all {
		ids := make([]uint32, 0, to-from)
		v.EachID(from, to, func(_ int, id uint32) bool { ids = append(ids, id); return true })
		return ids, ctx.Err()
	}
	f.refresh()
	out := getBuf(to - from)
	n := f.parallel(ctx, to-from, func(w *worker, a, b int) int {
		return w.evalPositions(ctx, v, from+a, from+b, out[a:b])
	}, out)
	if err := ctx.Err(); err != nil {
		putBuf(out)
		return nil, err
	}
	if n < len(out)/4 {
		ids := slices.Clone(out[:n])
		putBuf(out)
		return ids, nil
	}
	return out[:n], nil
}

// bufs holds evaluation buffers: a filter over a million events needs a
// 4 MB scratch slice, and allocating (and zeroing) it for every key press
// costs a millisecond or two. Every element is written before it is read.
var bufs sync.Pool

func getBuf(n int) []uint32 {
	if p, ok := bufs.Get().(*[]uint32); ok && cap(*p) >= n {
		return (*p)[:n]
	}
	return make([]uint32, n)
}

func putBuf(b []uint32) {
	bufs.Put(&b)
}

// clip returns ids in a slice of its own size when the evaluation buffer
// is mostly unused.
func clip(ids []uint32) []uint32 {
	if len(ids) < cap(ids)/4 {
		return slices.Clone(ids)
	}
	return ids
}

// parallel runs fn over [0, n) in chunks on all cores. Each call writes
// its matches at the start of its own part of out and returns how many;
// parallel then packs them in chunk order and returns the total.
func (f *Filter) parallel(ctx context.Context, n int, fn func(w *worker, a, b int) int, out []uint32) int {
	workers := runtime.GOMAXPROCS(0)
	chunk := min(max(n/(workers*8), minChunk), maxChunk)
	nchunks := (n + chunk - 1) / chunk
	counts := make([]int, nchunks)
	run := func(next *atomic.Int64) {
		w := f.getWorker(true)
		defer f.putWorker(w)
		for {
			k := int(next.Add(1) - 1)
			if k >= nchunks || ctx.Err() != nil {
				return
			}
			a := k * chunk
			counts[k] = fn(w, a, min(a+chunk, n))
		}
	}
	var next atomic.Int64
	if workers = min(workers, nchunks); workers <= 1 {
		run(&next)
	} else {
		var wg sync.WaitGroup
		for range workers {
			wg.Go(func() { run(&next) })
		}
		wg.Wait()
	}
	total := 0
	for k, c := range counts {
		copy(out[total:], out[k*chunk:k*chunk+c])
		total += c
	}
	return total
}

// evalPositions evaluates positions [a, b) of v and writes the matching
// ids to out, returning how many.
func (w *worker) evalPositions(ctx context.Context, v *audit.View, a, b int, out []uint32) int {
	n := 0
	root := w.f.root
	// EachID walks the order chunk by chunk: no position lookup per event.
	v.EachID(a, b, func(pos int, id uint32) bool {
		if pos&1023 == 0 && ctx.Err() != nil {
			return false
		}
		r := v.Rec(id)
		w.cur, w.filled, w.rawState, w.failed = r, 0, 0, false
		w.gen++
		if root(w, r) && !w.failed {
			out[n] = id
			n++
		} else if w.failed {
			w.errs++
		}
		return true
	})
	return n
}

// EvalNew evaluates the records with id ≥ fromRec that are in the order
// (duplicates are skipped) and returns the matching ids sorted by
// v.Compare. It is how a live tail filters only what arrived.
func (f *Filter) EvalNew(ctx context.Context, v *audit.View, fromRec int) ([]uint32, error) {
	fromRec = max(fromRec, 0)
	n := v.NumRecs() - fromRec
	if n <= 0 || f.never {
		return nil, ctx.Err()
	}
	f.refresh()
	out := make([]uint32, n)
	total := f.parallel(ctx, n, func(w *worker, a, b int) int {
		k := 0
		for i := a; i < b; i++ {
			if i&1023 == 0 && ctx.Err() != nil {
				return k
			}
			id := uint32(fromRec + i)
			r := v.Rec(id)
			if r.Flags&audit.FlagDup != 0 {
				continue
			}
			if f.all || w.eval(r) {
				out[a+k] = id
				k++
			}
		}
		return k
	}, out)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	ids := clip(out[:total])
	slices.SortFunc(ids, v.Compare)
	return ids, nil
}

// Merge merges two id lists that are each sorted by v.Compare into one;
// an id in both appears once.
func Merge(v *audit.View, a, b []uint32) []uint32 {
	out := make([]uint32, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i] == b[j]:
			out = append(out, a[i])
			i++
			j++
		case v.Compare(a[i], b[j]) <= 0:
			out = append(out, a[i])
			i++
		default:
			out = append(out, b[j])
			j++
		}
	}
	out = append(out, a[i:]...)
	return append(out, b[j:]...)
}

// Match tests one event. An evaluation that fails (see Errors) is no
// match; the error is for an id the view does not hold.
func (f *Filter) Match(v *audit.View, id uint32) (bool, error) {
	if int(id) >= v.NumRecs() {
		return false, fmt.Errorf("filter: no event with id %d (the view has %d)", id, v.NumRecs())
	}
	if f.all || f.never {
		return f.all, nil
	}
	f.refresh()
	w := f.getWorker(false)
	defer f.putWorker(w)
	return w.eval(v.Rec(id)), nil
}
