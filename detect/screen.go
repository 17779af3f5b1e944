package detect

import (
	"context"
	"math/bits"
	"runtime"
	"slices"
	"strings"
	"sync"

	"ktrail/audit"
	"ktrail/filters"
)

// The screen: the gated rules' expressions joined with || into one
// filter, evaluated once per candidate event (of any rule). Within one
// evaluation the filters package reads and scans an event's bytes once,
// however many rules look at its body, so the rules that read bodies
// share that cost; each rule's own filter then runs only on its
// candidates that passed the screen (most candidates of body rules do
// not). An event whose screen evaluation fails (a body that does not
// decode in one rule's path) could hide another rule's match, so when the
// screen counts any failure the whole screen is ignored.

// buildScreen compiles the screen of the gated rules, cheap ones first.
// It returns nil when there is nothing to share (fewer than two rules
// that read bodies) or the joined expression does not compile.
func buildScreen(s *audit.Store, rules []*compiled, g *gates, opts filters.Options) *filters.Filter {
	var cheap, body []string
	for i, c := range rules {
		if !g.isGated(i) {
			continue
		}
		if strings.Contains(c.rule.Expr, "requestObject") || strings.Contains(c.rule.Expr, "responseObject") {
			body = append(body, "("+c.rule.Expr+")")
		} else {
			cheap = append(cheap, "("+c.rule.Expr+")")
		}
	}
	if len(body) < 2 {
		return nil
	}
	f, err := filters.Compile(s, []string{strings.Join(append(cheap, body...), " || ")}, opts)
	if err != nil {
		return nil
	}
	return f
}

// screen evaluates the screen on the union of the candidates and drops
// from each rule's candidates the events that failed it.
func (e *Engine) screen(ctx context.Context, v *audit.View, cands [][]uint32) {
	if e.scr == nil {
		return
	}
	words := (v.NumRecs() + 63) / 64
	union := make([]uint64, words)
	total := 0
	for i, c := range cands {
		if e.gates.isGated(i) {
			total += len(c)
			for _, id := range c {
				union[id/64] |= 1 << (id % 64)
			}
		}
	}
	if total == 0 {
		return
	}
	pass := make([]uint64, words)
	errs := e.scr.Errors()
	parts := min(runtime.GOMAXPROCS(0), max(total/(8<<10), 1))
	var wg sync.WaitGroup
	for p := range parts {
		a, b := words*p/parts, words*(p+1)/parts
		wg.Go(func() {
			for k := a; k < b; k++ {
				if k&63 == 0 && ctx.Err() != nil {
					return
				}
				for word := union[k]; word != 0; {
					bit := bits.TrailingZeros64(word)
					word &^= 1 << bit
					if ok, _ := e.scr.Match(v, uint32(k*64+bit)); ok {
						pass[k] |= 1 << bit
					}
				}
			}
		})
	}
	wg.Wait()
	if e.scr.Errors() != errs || ctx.Err() != nil {
		return // see above: no screening this time
	}
	for i, c := range cands {
		if e.gates.isGated(i) {
			cands[i] = slices.DeleteFunc(c, func(id uint32) bool { return pass[id/64]&(1<<(id%64)) == 0 })
		}
	}
}
