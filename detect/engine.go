package detect

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"sync"

	"ktrail/audit"
	"ktrail/filters"
)

// Engine holds a set of compiled rules over one store. Run may be called
// from any number of goroutines; Feed keeps incremental state and must be
// called from one goroutine at a time.
type Engine struct {
	s     *audit.Store
	rules []*compiled
	gates *gates
	scr   *filters.Filter // see screen.go; nil without one

	mu   sync.Mutex // serialises Feed
	feed []*feedState
}

// compiled is one rule ready to evaluate.
type compiled struct {
	rule   Rule
	filter *filters.Filter
	win    *windowRule // nil for a rule without a threshold
}

// feedState is what Feed keeps per rule between calls.
type feedState struct {
	hits []uint32
	ws   *windowState
}

// Result is the outcome of Run or Feed: one RuleResult per rule, in the
// order the rules were given to Compile.
type Result struct {
	Rules []RuleResult
	// Err is set when the evaluation was cancelled; the results are then
	// incomplete.
	Err error
}

// RuleResult is what one rule found.
type RuleResult struct {
	// Rule is the rule (shared with the engine: do not modify it).
	Rule *Rule
	// Hits are the ids of the matching events, in view order. For a
	// threshold rule they are the candidates its alerts are made of.
	Hits []uint32
	// Alerts are the threshold rule's alerts, ordered by their first
	// event; always empty for a rule without a threshold.
	Alerts []Alert
	// Errors counts the events whose evaluation failed (a body that does
	// not decode); they did not match.
	Errors int64
}

// Fired reports whether the rule found something: an alert for a
// threshold rule, a hit otherwise.
func (rr *RuleResult) Fired() bool {
	if rr.Rule.Alerting() {
		return len(rr.Alerts) > 0
	}
	return len(rr.Hits) > 0
}

// Fired returns the results of the rules that fired, in rule order.
func (r Result) Fired() []RuleResult {
	var out []RuleResult
	for _, rr := range r.Rules {
		if rr.Fired() {
			out = append(out, rr)
		}
	}
	return out
}

// Rule returns the result of the rule with the given id, or nil.
func (r Result) Rule(id string) *RuleResult {
	for i := range r.Rules {
		if r.Rules[i].Rule.ID == id {
			return &r.Rules[i]
		}
	}
	return nil
}

// Compile validates the rules and compiles every expression for store s
// (opts as for filters.Compile: Now is what since("1h") counts from). An
// error names the rule. The views later given to Run and Feed must be
// views of s.
func Compile(s *audit.Store, rules []Rule, opts filters.Options) (*Engine, error) {
	e := &Engine{s: s}
	seen := map[string]bool{}
	for i := range rules {
		r := rules[i]
		if err := r.validate(nil); err != nil {
			return nil, fmt.Errorf("detect: %s: %s", ruleLabel(i, r.ID), oneLine(err.Error()))
		}
		if seen[r.ID] {
			return nil, fmt.Errorf("detect: %s: id: %q is used by two rules", ruleLabel(i, r.ID), r.ID)
		}
		seen[r.ID] = true
		f, err := filters.Compile(s, []string{r.Expr}, opts)
		if err != nil {
			return nil, fmt.Errorf("detect: %s: expr: %s", ruleLabel(i, r.ID), oneLine(err.Error()))
		}
		c := &compiled{rule: r, filter: f}
		if r.Threshold > 0 {
			w := &windowRule{s: s, window: int64(r.Window), threshold: r.Threshold}
			for _, g := range r.GroupBy {
				w.group = append(w.group, newField(g))
			}
			if r.Distinct != "" {
				d := newField(r.Distinct)
				w.distinct = &d
			}
			c.win = w
		}
		e.rules = append(e.rules, c)
	}
	e.gates = buildGates(s, e.rules, opts)
	e.scr = buildScreen(s, e.rules, e.gates, opts)
	e.Reset()
	return e, nil
}

// Rules returns the engine's rules, in order.
func (e *Engine) Rules() []Rule {
	out := make([]Rule, len(e.rules))
	for i, c := range e.rules {
		out[i] = c.rule
	}
	return out
}

// Run evaluates every rule over v, or over the events with the given ids
// only (nil means all; the ids need not be sorted). Windows are computed
// over the evaluated events in time order.
func (e *Engine) Run(ctx context.Context, v *audit.View, ids []uint32) Result {
	var sel []uint64 // a bit per record id when ids restricts the events
	if ids != nil {
		sel = make([]uint64, (v.NumRecs()+63)/64)
		for _, id := range ids {
			if int(id) < v.NumRecs() {
				sel[id/64] |= 1 << (id % 64)
			}
		}
	}
	n := v.Len()
	if ids != nil {
		n = min(n, len(ids))
	}
	cands := e.scanPositions(ctx, v, sel)
	e.screen(ctx, v, cands)
	res := Result{Rules: make([]RuleResult, len(e.rules))}
	var errMu sync.Mutex
	e.parallel(ctx, func(i int) {
		c := e.rules[i]
		var hits []uint32
		var err error
		switch {
		case e.gates.isGated(i) && len(cands[i]) <= n/8:
			hits, err = matchList(ctx, c.filter, v, cands[i])
		case ids != nil && len(ids) < v.Len()/32:
			hits, err = matchEach(ctx, c.filter, v, ids)
		default:
			hits, err = c.filter.Eval(ctx, v)
			if err == nil && sel != nil {
				hits = slices.DeleteFunc(hits, func(id uint32) bool { return sel[id/64]&(1<<(id%64)) == 0 })
			}
		}
		if err != nil {
			errMu.Lock()
			res.Err = err
			errMu.Unlock()
			return
		}
		rr := RuleResult{Rule: &c.rule, Hits: clipIDs(hits)}
		if c.win != nil {
			ws := newWindowState()
			ws.run(c.win, v, hits)
			rr.Alerts = c.win.alerts(v, ws.alerting)
		}
		rr.Errors = c.filter.Errors()
		res.Rules[i] = rr
	})
	if res.Err == nil {
		res.Err = ctx.Err()
	}
	for i := range res.Rules {
		if res.Rules[i].Rule == nil {
			res.Rules[i].Rule = &e.rules[i].rule
		}
	}
	return res
}

// matchList evaluates f on candidate ids, in order, and returns those
// that match.
func matchList(ctx context.Context, f *filters.Filter, v *audit.View, ids []uint32) ([]uint32, error) {
	out := ids[:0:0]
	for k, id := range ids {
		if k&1023 == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if ok, _ := f.Match(v, id); ok {
			out = append(out, id)
		}
	}
	return out, nil
}

// matchEach evaluates f on each of ids and returns the matches in view
// order.
func matchEach(ctx context.Context, f *filters.Filter, v *audit.View, ids []uint32) ([]uint32, error) {
	var out []uint32
	for k, id := range ids {
		if k&1023 == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if int(id) >= v.NumRecs() || v.Rec(id).Flags&audit.FlagDup != 0 {
			continue
		}
		if ok, _ := f.Match(v, id); ok {
			out = append(out, id)
		}
	}
	slices.SortFunc(out, v.Compare)
	return slices.Compact(out), nil
}

// parallel runs fn for every rule index, a few rules at a time: each
// filter evaluation is itself spread over the cores, but most rules touch
// few events after their first indexed condition, so running two or three
// at once keeps the cores busy.
func (e *Engine) parallel(ctx context.Context, fn func(i int)) {
	workers := min(max(runtime.GOMAXPROCS(0), 2), len(e.rules))
	next := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := range next {
				fn(i)
			}
		})
	}
	for i := range e.rules {
		if ctx.Err() != nil {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
}

// Reset forgets what Feed has seen.
func (e *Engine) Reset() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.feed = make([]*feedState, len(e.rules))
	for i, c := range e.rules {
		e.feed[i] = &feedState{}
		if c.win != nil {
			e.feed[i].ws = newWindowState()
		}
	}
}

// Feed evaluates the records with id ≥ fromRec (those that arrived since
// the previous call; duplicates are skipped) and returns the cumulative
// result of everything fed since Compile or Reset. It is how the live view
// keeps its detection counts current: each call costs the new records
// only, plus the groups they touch.
//
// Late and out-of-order events: the store inserts a late event at its
// time, and Feed does the same in the rule's state. Hits are merged in
// view order. For a threshold rule, an event that sorts after the last
// event of its group is stepped through the group's window at once; one
// that sorts before it (it arrived late) is merged into the group's event
// list and that group alone is replayed from its first event. So the
// alerts after any sequence of Feed calls are exactly those Run computes
// over the same events, at the cost of a replay of one group per late
// event; an alert raised earlier can then change (or disappear, when a
// late event splits a burst differently).
func (e *Engine) Feed(ctx context.Context, v *audit.View, fromRec int) Result {
	e.mu.Lock()
	defer e.mu.Unlock()
	res := Result{Rules: make([]RuleResult, len(e.rules))}
	fromRec = max(fromRec, 0)
	n := v.NumRecs() - fromRec
	cands := e.scanRecords(ctx, v, fromRec)
	e.screen(ctx, v, cands)
	var errMu sync.Mutex
	e.parallel(ctx, func(i int) {
		c, st := e.rules[i], e.feed[i]
		var ids []uint32
		var err error
		if e.gates.isGated(i) && len(cands[i]) <= n/8 {
			if ids, err = matchList(ctx, c.filter, v, cands[i]); err == nil {
				slices.SortFunc(ids, v.Compare)
			}
		} else {
			ids, err = c.filter.EvalNew(ctx, v, fromRec)
		}
		if err != nil {
			errMu.Lock()
			res.Err = err
			errMu.Unlock()
			return
		}
		if len(ids) > 0 {
			if n := len(st.hits); n == 0 || v.Compare(st.hits[n-1], ids[0]) < 0 {
				st.hits = append(st.hits, ids...)
			} else {
				st.hits = filters.Merge(v, st.hits, ids)
			}
			if c.win != nil {
				st.ws.run(c.win, v, ids)
			}
		}
		rr := RuleResult{Rule: &c.rule, Hits: clipIDs(st.hits), Errors: c.filter.Errors()}
		if c.win != nil {
			rr.Alerts = c.win.alerts(v, st.ws.alerting)
		}
		res.Rules[i] = rr
	})
	if res.Err == nil {
		res.Err = ctx.Err()
	}
	for i := range res.Rules {
		if res.Rules[i].Rule == nil {
			res.Rules[i].Rule = &e.rules[i].rule
		}
	}
	return res
}

// clipIDs returns ids without spare capacity (appends by the caller never
// reach the engine's own list), nil when empty.
func clipIDs(ids []uint32) []uint32 {
	if len(ids) == 0 {
		return nil
	}
	return slices.Clip(ids)
}
