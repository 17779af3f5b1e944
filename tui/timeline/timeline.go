// Package timeline computes and draws the event-rate histogram of the
// TUI's timeline pane: how many of the matching audit events fall into
// each time bucket, split into three classes (by outcome or by kind of
// verb), plus the small interaction state (zoom window, bucket cursor,
// selection) the TUI model keeps for it. It has no bubbletea dependency:
// everything here is a pure function of its arguments or a plain struct.
package timeline

import (
	"context"
	"runtime"
	"sort"
	"sync"
	"time"

	"ktrail/audit"
)

// Mode selects how the events of a bucket are split into the three
// stacked classes.
type Mode int

// The histogram modes.
const (
	// ByOutcome splits by HTTP status: ok (below 400, including code 0,
	// no response yet), 4xx, and 5xx (500 and above).
	ByOutcome Mode = iota
	// ByVerbClass splits by verb: read (get, list, watch), write (create,
	// update, patch and any other verb), and delete (delete,
	// deletecollection).
	ByVerbClass
)

// numModes is the number of modes.
const numModes = 2

// String returns the mode's short name.
func (m Mode) String() string {
	if m == ByVerbClass {
		return "verb"
	}
	return "outcome"
}

// ClassNames returns the names of the mode's three classes, bottom up.
func (m Mode) ClassNames() [3]string { return classNames[m.index()] }

var classNames = [numModes][3]string{{"ok", "4xx", "5xx"}, {"read", "write", "delete"}}

// index returns the mode as an index into per-mode tables; unknown modes
// count as ByOutcome.
func (m Mode) index() int {
	if m == ByVerbClass {
		return 1
	}
	return 0
}

// Rows is the set of matching events in time order: *audit.View (every
// event) and IDs (the ids a filter matched, sorted like the view)
// implement it.
type Rows interface {
	Len() int
	ID(i int) uint32
}

// IDs is a list of record ids sorted like the view they come from.
type IDs []uint32

// Len returns the number of ids.
func (ids IDs) Len() int { return len(ids) }

// ID returns the i-th id.
func (ids IDs) ID(i int) uint32 { return ids[i] }

// Histogram is the number of events per time bucket and class.
type Histogram struct {
	From, To int64       // Unix ns; [From, To) is covered by the buckets, From is a multiple of Step
	Step     int64       // bucket size in ns; 0 for a histogram without buckets
	Counts   [][3]uint32 // per bucket, per class (bottom-up order of Mode.ClassNames)
	Max      uint32      // the largest bucket total
	Total    int         // the number of events counted
	Mode     Mode
	// Gaps are silent periods to mark (see FindGaps); Build leaves it
	// empty, the caller fills it.
	Gaps []Gap
}

// Len returns the number of buckets.
func (h Histogram) Len() int { return len(h.Counts) }

// BucketAt returns the time range of the bucket drawn in column x.
func (h Histogram) BucketAt(x int) (from, to int64, ok bool) {
	if h.Step <= 0 || x < 0 || x >= len(h.Counts) {
		return 0, 0, false
	}
	from = h.From + int64(x)*h.Step
	return from, from + h.Step, true
}

// XOf returns the column of the bucket that holds time t, or -1 if t is
// outside [From, To).
func (h Histogram) XOf(t int64) int {
	if h.Step <= 0 || t < h.From || t >= h.To {
		return -1
	}
	x := int((t - h.From) / h.Step)
	if x >= len(h.Counts) {
		return -1
	}
	return x
}

// niceSteps are the bucket sizes NiceStep chooses from, smallest first.
var niceSteps = []time.Duration{
	time.Second, 2 * time.Second, 5 * time.Second, 10 * time.Second, 15 * time.Second, 30 * time.Second,
	time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute, 15 * time.Minute, 30 * time.Minute,
	time.Hour, 2 * time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour,
	day, 2 * day, 7 * day, 14 * day, 30 * day, 60 * day, 90 * day, 180 * day, 365 * day,
}

const day = 24 * time.Hour

// NiceStep returns the smallest "nice" bucket size (1s 2s 5s 10s 15s 30s
// 1m 2m 5m 10m 15m 30m 1h 2h 3h 6h 12h 1d 2d 7d 14d 30d 60d 90d 180d
// 365d, then doubling) such that [from, to), with buckets aligned to
// multiples of the step, fits in at most n buckets. An empty range gives
// one second; n below 1 counts as 1. (A range across the Unix epoch
// always touches two buckets; for it and n = 1 the result is a step of
// about 73 years.)
func NiceStep(from, to int64, n int) int64 {
	n = max(n, 1)
	if to <= from {
		return int64(time.Second)
	}
	fits := func(step int64) bool { return numBuckets(from, to, step) <= int64(n) }
	for _, s := range niceSteps {
		if fits(int64(s)) {
			return int64(s)
		}
	}
	step := int64(niceSteps[len(niceSteps)-1])
	for !fits(step) && step < 1<<61 {
		step *= 2
	}
	return step
}

// numBuckets returns how many step-aligned buckets [from, to) touches.
func numBuckets(from, to, step int64) int64 {
	return floorDiv(to-1, step) - floorDiv(from, step) + 1
}

// floorDiv is a/b rounded towards minus infinity (b > 0).
func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}

// Build counts the rows whose time is in [from, to) into step-aligned
// buckets, at most buckets of them (one per column), with the step from
// NiceStep. The first and last bucket may reach outside [from, to); only
// the part inside is counted. Rows without a time are skipped. Rows must
// be in the view's time order: bucket boundaries are found by binary
// search and each row is visited once, so passing v itself as rows (all
// events) or IDs is the fast path. Big inputs are counted on several
// goroutines; ctx is checked every 64K rows.
func Build(ctx context.Context, s *audit.Store, v *audit.View, rows Rows, from, to int64, buckets int, mode Mode) (Histogram, error) {
	h := Histogram{From: from, To: from, Mode: mode}
	if buckets < 1 || to <= from {
		return h, nil
	}
	h.Step = NiceStep(from, to, buckets)
	h.From = floorDiv(from, h.Step) * h.Step
	nb := int(numBuckets(from, to, h.Step))
	h.To = h.From + int64(nb)*h.Step
	h.Counts = make([][3]uint32, nb)
	if v == nil || rows == nil || rows.Len() == 0 {
		return h, nil
	}
	// bounds[b] is the first row of bucket b; bounds[nb] ends the last.
	bounds := make([]int, nb+1)
	n := rows.Len()
	timeAt := func(i int) int64 { return v.Rec(rows.ID(i)).Time }
	prev := 0
	for b := 0; b <= nb; b++ {
		t := h.From + int64(b)*h.Step
		switch b {
		case 0:
			t = from
		case nb:
			t = to
		}
		bounds[b] = prev + sort.Search(n-prev, func(i int) bool { return timeAt(prev+i) >= t })
		prev = bounds[b]
	}
	c := newClassifier(s, mode)
	lo, hi := bounds[0], bounds[nb]
	parts := 1
	if hi-lo >= parallelMin {
		parts = min(runtime.GOMAXPROCS(0), maxParts, (hi-lo)/(parallelMin/2))
	}
	if parts <= 1 {
		if err := count(ctx, c, v, rows, bounds, lo, hi, h.Counts); err != nil {
			return Histogram{}, err
		}
	} else {
		partial := make([][][3]uint32, parts)
		errs := make([]error, parts)
		var wg sync.WaitGroup
		for p := range parts {
			a, b := lo+(hi-lo)*p/parts, lo+(hi-lo)*(p+1)/parts
			partial[p] = make([][3]uint32, nb)
			wg.Go(func() { errs[p] = count(ctx, c, v, rows, bounds, a, b, partial[p]) })
		}
		wg.Wait()
		for p := range parts {
			if errs[p] != nil {
				return Histogram{}, errs[p]
			}
			for b := range h.Counts {
				for k := range 3 {
					h.Counts[b][k] += partial[p][b][k]
				}
			}
		}
	}
	for _, cs := range h.Counts {
		tot := cs[0] + cs[1] + cs[2]
		h.Total += int(tot)
		h.Max = max(h.Max, tot)
	}
	return h, nil
}

const (
	// parallelMin is the number of rows from which Build splits the work.
	parallelMin = 1 << 18
	// maxParts bounds the goroutines of one Build.
	maxParts = 4
	// checkEvery is how many rows are counted between checks of ctx.
	checkEvery = 1 << 16
)

// count adds the rows at positions [lo, hi) to counts, using bounds (the
// first row of each bucket) to find each row's bucket.
func count(ctx context.Context, c *classifier, v *audit.View, rows Rows, bounds []int, lo, hi int, counts [][3]uint32) error {
	if lo >= hi {
		return ctx.Err()
	}
	b := sort.SearchInts(bounds, lo+1) - 1 // the bucket holding row lo
	next := bounds[b+1]
	var err error
	add := func(i int, id uint32) bool {
		if i&(checkEvery-1) == 0 {
			if err = ctx.Err(); err != nil {
				return false
			}
		}
		for i >= next {
			b++
			next = bounds[b+1]
		}
		r := v.Rec(id)
		if r.Flags&audit.FlagNoTime == 0 {
			counts[b][c.class(r)]++
		}
		return true
	}
	switch rs := rows.(type) {
	case *audit.View:
		rs.EachID(lo, hi, add)
	case IDs:
		for i, id := range rs[lo:hi] {
			if !add(lo+i, id) {
				break
			}
		}
	default:
		for i := lo; i < hi; i++ {
			if !add(i, rows.ID(i)) {
				break
			}
		}
	}
	return err
}

// classifier maps a record to its class under a mode.
type classifier struct {
	byVerb                       bool
	get, list, watch, del, delco uint32
}

// noID stands for a verb the store has never seen: no record has it.
const noID = ^uint32(0)

// newClassifier resolves the verb ids once.
func newClassifier(s *audit.Store, mode Mode) *classifier {
	c := &classifier{byVerb: mode == ByVerbClass}
	lookup := func(verb string) uint32 {
		if s == nil {
			return noID
		}
		if id, ok := s.Interner().Lookup(verb); ok {
			return id
		}
		return noID
	}
	if c.byVerb {
		c.get, c.list, c.watch = lookup("get"), lookup("list"), lookup("watch")
		c.del, c.delco = lookup("delete"), lookup("deletecollection")
	}
	return c
}

// class returns r's class: 0, 1 or 2.
func (c *classifier) class(r *audit.Rec) int {
	if !c.byVerb {
		switch {
		case r.Code < 400:
			return 0
		case r.Code < 500:
			return 1
		}
		return 2
	}
	switch r.Verb {
	case c.get, c.list, c.watch:
		return 0
	case c.del, c.delco:
		return 2
	}
	return 1
}

// Bounds returns the times of the first and last rows that have a time.
// Rows are time sorted and events without a time sort first, so this is
// a binary search; ok is false when no row has a time.
func Bounds(v *audit.View, rows Rows) (first, last int64, ok bool) {
	if v == nil || rows == nil || rows.Len() == 0 {
		return 0, 0, false
	}
	n := rows.Len()
	rec := func(i int) *audit.Rec { return v.Rec(rows.ID(i)) }
	timed := func(i int) bool { return rec(i).Flags&audit.FlagNoTime == 0 }
	fi := 0
	if !timed(0) {
		// Events without a time have Time 0: skip to the first positive
		// time, then look back over the (rare) events timed at 0 itself.
		fi = sort.Search(n, func(i int) bool { return rec(i).Time > 0 })
		for j := fi - 1; j >= 0 && rec(j).Time == 0; j-- {
			if timed(j) {
				fi = j
			}
		}
		if fi == n {
			return 0, 0, false
		}
	}
	li := n - 1
	for li >= fi && !timed(li) {
		li--
	}
	if li < fi {
		return 0, 0, false
	}
	return rec(fi).Time, rec(li).Time, true
}
