package tui

// Keystroke-to-frame benchmarks over 1M events: the time from a key press
// to the frame that shows its result, including the Cmds the key starts
// (a filter's evaluation, then the histogram), as the bubbletea runtime
// would run them. Run them with
//
//	go test -run '^$' -bench 'Key|View' -benchmem -count 3 ./tui/
//
// Besides ns/op, B/op and allocs/op each reports ms/frame; the filter
// benchmarks report ms/frame for the list frame (the filtered rows and
// count) and ms/frame+tl for the frame that also has the rebuilt
// timeline. The first benchmark of a run builds the 1M-event store (a few
// seconds, once per test binary).

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"ktrail/audit"
	"ktrail/audit/auditgen"
	"ktrail/filters"
	"ktrail/sources"
	"ktrail/themes"
)

const (
	benchEvents = 1_000_000 // the size the requirement names
	benchSmall  = 10_000    // the size scrolling is compared against
	// benchBase real events are generated, written and indexed; the rest
	// of the 1M are copies of their index records (see benchExtend).
	benchBase = 50_000
)

// benchFixture holds the stores shared by the benchmarks and the test of
// one test binary run, built on first use.
//
// Why copies of 50K real events instead of 1M generated ones: 1M
// generated events are about 1.5 GB to generate, write to a temporary
// file and index again for every test binary run (several seconds at the
// rates in BENCHMARKS.md, and 1.5 GB of disk). The list,
// the filters over indexed fields and the timeline read only the index
// records (audit.Rec: interned ids, time, code...), so 50K real events,
// indexed through the real sources path, plus copies of their records
// moved later in time by whole multiples of the base span, give the same
// data shape (the same mix of users, verbs, codes and string ids) at a
// twentieth of the cost. The copies' bytes are the original events' (the
// detail pane of a copy shows the original's JSON, with its time), so
// Store.Raw and the detail pane work on every row.
type benchFixture struct {
	once      sync.Once
	big       *audit.Store // benchEvents events
	small     *audit.Store // the first benchSmall generated events, indexed alone
	topUser   string       // the most frequent user of big
	now       time.Time    // the last event of big
	smallNow  time.Time
	sets      []*sources.Set // kept open for Store.Raw until the process ends
	setupTime time.Duration
	err       error
}

var benchFix benchFixture

// benchStores returns the 1M-event and the 10K-event stores.
func benchStores(tb testing.TB) *benchFixture {
	tb.Helper()
	benchFix.once.Do(func() { benchFix.err = benchFix.build() })
	if benchFix.err != nil {
		tb.Fatal(benchFix.err)
	}
	return &benchFix
}

func (f *benchFixture) build() error {
	t0 := time.Now()
	dir, err := os.MkdirTemp("", "ktrail-tui-bench-")
	if err != nil {
		return err
	}
	// The files are removed as soon as they are indexed: the Sets keep
	// them open, so their bytes stay readable until the process exits.
	defer os.RemoveAll(dir)
	if f.big, err = f.load(dir, "base.jsonl", benchBase); err != nil {
		return err
	}
	if f.small, err = f.load(dir, "small.jsonl", benchSmall); err != nil {
		return err
	}
	if err := benchExtend(f.big, benchEvents); err != nil {
		return err
	}
	f.now = benchLastTime(f.big)
	f.smallNow = benchLastTime(f.small)
	f.topUser = benchTopUser(f.big)
	f.setupTime = time.Since(t0)
	return nil
}

// load writes n generated events (seed 1: the same first events for
// every n) to a file and indexes it through the sources package, as
// ktrail does for a file argument.
func (f *benchFixture) load(dir, name string, n int) (*audit.Store, error) {
	path := filepath.Join(dir, name)
	file, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	w := bufio.NewWriterSize(file, 1<<20)
	if _, err := auditgen.New(auditgen.Config{Seed: 1}).WriteN(w, n); err != nil {
		file.Close()
		return nil, err
	}
	if err := w.Flush(); err != nil {
		file.Close()
		return nil, err
	}
	if err := file.Close(); err != nil {
		return nil, err
	}
	store := audit.NewStore()
	set, err := sources.Open(store, []string{path}, nil, sources.Options{})
	if err != nil {
		return nil, err
	}
	if err := set.Run(context.Background()); err != nil {
		return nil, err
	}
	f.sets = append(f.sets, set)
	return store, nil
}

// benchExtend appends copies of the store's records, each round moved
// later by the span of the originals (plus a second), until the store
// holds target events. Every copy sorts after the events already held, so
// Append takes its append path, and no copy is a duplicate (its time
// differs, and its audit ID is remixed).
func benchExtend(s *audit.Store, target int) error {
	v := s.View()
	base := make([]audit.Rec, 0, v.Len())
	v.EachID(0, v.Len(), func(_ int, id uint32) bool {
		if r := v.Rec(id); r.Flags&(audit.FlagNoTime|audit.FlagDup) == 0 {
			base = append(base, *r)
		}
		return true
	})
	if len(base) == 0 {
		return benchError("no timed events to copy")
	}
	span := base[len(base)-1].Time - base[0].Time + int64(time.Second)
	batch := make([]audit.Rec, 0, len(base))
	for k := int64(1); s.Len() < target; k++ {
		batch = batch[:0]
		for _, r := range base {
			if s.Len()+len(batch) == target {
				break
			}
			r.Time += k * span
			r.AuditID ^= uint64(k) * 0x9e3779b97f4a7c15
			batch = append(batch, r)
		}
		if _, dups := s.Append(batch); dups != 0 {
			return benchError("copies were taken for duplicates")
		}
	}
	if s.Len() != target {
		return benchError("wrong number of events after extending")
	}
	return nil
}

type benchError string

func (e benchError) Error() string { return string(e) }

func benchLastTime(s *audit.Store) time.Time {
	v := s.View()
	return time.Unix(0, v.At(v.Len()-1).Time).UTC()
}

// benchTopUser returns the most frequent user name.
func benchTopUser(s *audit.Store) string {
	v := s.View()
	counts := map[uint32]int{}
	for id := range v.NumRecs() {
		counts[v.Rec(uint32(id)).User]++
	}
	best, bestN := "", 0
	for id, n := range counts {
		if name := s.Str(id); name != "" && (n > bestN || n == bestN && name < best) {
			best, bestN = name, n
		}
	}
	return best
}

// benchDriver plays the bubbletea runtime for one Model: after each
// message it renders a frame; it runs every Cmd in its own goroutine and
// feeds the message back, expanding batches. Timers (the live tick, the
// cursor blink) are not waited for: their messages are dropped, as if the
// runtime delivered them after the measured frame.
type benchDriver struct {
	tb    testing.TB
	m     *Model
	msgs  chan tea.Msg
	frame string
	// The time from the last press to the frame after the evaluation
	// result (the list frame) and after the histogram (list + timeline).
	evalAt, histAt time.Duration
}

func benchNew(tb testing.TB, s *audit.Store, now time.Time, w, h int) *benchDriver {
	tb.Helper()
	m := New(Options{Store: s, Theme: themes.Default(), UTC: true, Redact: true, Now: now})
	d := &benchDriver{tb: tb, m: m, msgs: make(chan tea.Msg, 1<<12)}
	d.update(tea.WindowSizeMsg{Width: w, Height: h})
	d.start(m.Init())
	d.settle(time.Now())
	if !m.hasCursor || m.rows.Len() != s.Len() {
		tb.Fatalf("model not ready: %d rows of %d", m.rows.Len(), s.Len())
	}
	return d
}

func (d *benchDriver) start(cmd tea.Cmd) {
	if cmd != nil {
		go func() { d.msgs <- cmd() }()
	}
}

// update delivers one message, starts its Cmd and renders the frame.
func (d *benchDriver) update(msg tea.Msg) {
	_, cmd := d.m.Update(msg)
	d.start(cmd)
	d.frame = d.m.View().Content
}

// busy reports whether the model waits for work it started.
func (d *benchDriver) busy() bool { return d.m.evalBusy || d.m.tailBusy || d.m.tl.busy }

// settle delivers Cmd results until the model waits for nothing.
func (d *benchDriver) settle(t0 time.Time) {
	if !d.busy() {
		return
	}
	timeout := time.NewTimer(time.Minute)
	defer timeout.Stop()
	for d.busy() {
		select {
		case msg := <-d.msgs:
			d.deliver(msg, t0)
		case <-timeout.C:
			d.tb.Fatal("the model was still busy after a minute")
		}
	}
}

func (d *benchDriver) deliver(msg tea.Msg, t0 time.Time) {
	switch msg := msg.(type) {
	case tea.BatchMsg:
		for _, c := range msg {
			d.start(c)
		}
	case evalMsg:
		d.update(msg)
		if !d.m.evalBusy {
			d.evalAt = time.Since(t0)
		}
	case histMsg:
		d.update(msg)
		d.histAt = time.Since(t0)
	case tailMsg, valuesMsg, searchMsg, savedMsg:
		d.update(msg)
	default: // tickMsg, cursor blinks: timers, not results
	}
}

// press is one keystroke up to the frame that shows its result.
func (d *benchDriver) press(k tea.KeyPressMsg) {
	t0 := time.Now()
	d.evalAt, d.histAt = 0, 0
	d.update(k)
	d.settle(t0)
}

// pressTimed is press with the profiler label ktrail-bench=timed, which
// the goroutines of the Cmds inherit, so that a CPU profile can be
// narrowed to the measured keystrokes:
//
//	go tool pprof -tagfocus ktrail-bench=timed -top tui.test cpu.out
func (d *benchDriver) pressTimed(k tea.KeyPressMsg) {
	pprof.Do(context.Background(), pprof.Labels("ktrail-bench", "timed"), func(context.Context) { d.press(k) })
}

var (
	benchKeyJ     = tea.KeyPressMsg{Code: 'j', Text: "j"}
	benchKeyK     = tea.KeyPressMsg{Code: 'k', Text: "k"}
	benchKeyPgDn  = tea.KeyPressMsg{Code: tea.KeyPgDown}
	benchKeyPgUp  = tea.KeyPressMsg{Code: tea.KeyPgUp}
	benchKeyEnd   = tea.KeyPressMsg{Code: 'g', ShiftedCode: 'G', Mod: tea.ModShift, Text: "G"}
	benchKeyHome  = tea.KeyPressMsg{Code: 'g', Text: "g"}
	benchKeyF     = tea.KeyPressMsg{Code: 'f', Text: "f"}
	benchKeyEnter = tea.KeyPressMsg{Code: tea.KeyEnter}
	benchKeyEsc   = tea.KeyPressMsg{Code: tea.KeyEscape}
)

// benchSizes are the terminal sizes measured.
var benchSizes = []struct {
	name string
	w, h int
}{{"160x48", 160, 48}, {"80x24", 80, 24}}

func benchReportFrame(b *testing.B) {
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1e6, "ms/frame")
}

// benchScroll presses keys[0] from the middle of the rows, switching to
// keys[1] and back every turn presses, so the list really scrolls.
func benchScroll(b *testing.B, d *benchDriver, keys [2]tea.KeyPressMsg, turn int) {
	d.m.moveTo(d.m.rows.Len() / 2)
	d.update(tea.WindowSizeMsg{Width: d.m.ctx.width, Height: d.m.ctx.height}) // a steady frame
	d.settle(time.Now())
	b.ReportAllocs()
	runtime.GC()
	i := 0
	for b.Loop() {
		d.pressTimed(keys[(i/turn)%2])
		i++
	}
	benchReportFrame(b)
	b.ReportMetric(float64(d.m.layout().listRows), "rows")
}

// BenchmarkKeyScrollRow is j (and k, to turn back) at two sizes of store
// and two sizes of terminal: allocs/op must not depend on the number of
// events, only on the number of visible rows.
func BenchmarkKeyScrollRow(b *testing.B) {
	fx := benchStores(b)
	for _, st := range []struct {
		name  string
		s     *audit.Store
		now   time.Time
		turns int
	}{{"1M", fx.big, fx.now, 2000}, {"10K", fx.small, fx.smallNow, 2000}} {
		for _, sz := range benchSizes {
			b.Run(st.name+"/"+sz.name, func(b *testing.B) {
				d := benchNew(b, st.s, st.now, sz.w, sz.h)
				benchScroll(b, d, [2]tea.KeyPressMsg{benchKeyJ, benchKeyK}, st.turns)
			})
		}
	}
}

// BenchmarkKeyPageDown is PgDn (and PgUp, to turn back).
func BenchmarkKeyPageDown(b *testing.B) {
	fx := benchStores(b)
	for _, sz := range benchSizes {
		b.Run("1M/"+sz.name, func(b *testing.B) {
			d := benchNew(b, fx.big, fx.now, sz.w, sz.h)
			benchScroll(b, d, [2]tea.KeyPressMsg{benchKeyPgDn, benchKeyPgUp}, 500)
		})
	}
}

// BenchmarkKeyEnd is G (last event) and g (first event) alternately.
func BenchmarkKeyEnd(b *testing.B) {
	fx := benchStores(b)
	for _, sz := range benchSizes {
		b.Run("1M/"+sz.name, func(b *testing.B) {
			d := benchNew(b, fx.big, fx.now, sz.w, sz.h)
			benchScroll(b, d, [2]tea.KeyPressMsg{benchKeyEnd, benchKeyHome}, 1)
			if d.m.cursor != 0 && d.m.cursor != d.m.rows.Len()-1 {
				b.Fatalf("cursor at %d", d.m.cursor)
			}
		})
	}
}

// BenchmarkKeyFilterApply is Enter in the filter bar: from the key to the
// frame with the filtered list (ms/frame) and to the frame that also has
// the timeline of the matches (ms/frame+tl, = ns/op). Between iterations,
// untimed, Esc undoes the filter (back to all events) and f plus a paste
// types it again, so every iteration compiles and evaluates it over 1M.
func BenchmarkKeyFilterApply(b *testing.B) {
	fx := benchStores(b)
	for _, c := range []struct{ name, expr string }{
		{"verb", `verb == "delete"`},
		{"user", `user == "` + fx.topUser + `"`},
	} {
		b.Run(c.name, func(b *testing.B) {
			want := benchCount(b, fx.big, fx.now, c.expr)
			d := benchNew(b, fx.big, fx.now, 160, 48)
			typeExpr := func() {
				d.press(benchKeyF)
				d.update(tea.PasteMsg{Content: c.expr})
				if !d.m.bar.editing || d.m.bar.err != nil || d.m.bar.input.Value() != c.expr {
					b.Fatalf("filter bar: editing %v, err %v, text %q", d.m.bar.editing, d.m.bar.err, d.m.bar.input.Value())
				}
			}
			typeExpr()
			b.ReportAllocs()
			runtime.GC()
			var list, full time.Duration
			for b.Loop() {
				d.pressTimed(benchKeyEnter)
				list += d.evalAt
				full += d.histAt
				b.StopTimer()
				if d.m.filterSrc != c.expr || d.m.rows.Len() != want || d.evalAt == 0 || d.histAt == 0 {
					b.Fatalf("after Enter: filter %q, %d rows (want %d), eval %v, hist %v",
						d.m.filterSrc, d.m.rows.Len(), want, d.evalAt, d.histAt)
				}
				d.press(benchKeyEsc)
				if d.m.filterSrc != "" || !d.m.rows.all {
					b.Fatalf("Esc did not undo the filter: %q", d.m.filterSrc)
				}
				typeExpr()
				b.StartTimer()
			}
			b.ReportMetric(float64(list.Nanoseconds())/float64(b.N)/1e6, "ms/frame")
			b.ReportMetric(float64(full.Nanoseconds())/float64(b.N)/1e6, "ms/frame+tl")
			b.ReportMetric(float64(want), "matches")
		})
	}
}

// BenchmarkKeyFilterUndo is the way back: Esc undoes the filter and the
// list shows all 1M events again (ms/frame; no evaluation is needed),
// then the timeline of all of them (ms/frame+tl, = ns/op). Between
// iterations, untimed, the filter is applied again.
func BenchmarkKeyFilterUndo(b *testing.B) {
	fx := benchStores(b)
	expr := `verb == "delete"`
	d := benchNew(b, fx.big, fx.now, 160, 48)
	apply := func() {
		d.press(benchKeyF)
		d.update(tea.PasteMsg{Content: expr})
		d.press(benchKeyEnter)
		if d.m.filterSrc != expr || d.m.rows.all {
			b.Fatalf("filter %q not applied", expr)
		}
	}
	apply()
	b.ReportAllocs()
	runtime.GC()
	var list, full time.Duration
	for b.Loop() {
		d.pressTimed(benchKeyEsc)
		list += d.evalAt
		full += d.histAt
		b.StopTimer()
		if d.m.filterSrc != "" || d.m.rows.Len() != fx.big.Len() || d.evalAt == 0 || d.histAt == 0 {
			b.Fatalf("after Esc: filter %q, %d rows, eval %v, hist %v", d.m.filterSrc, d.m.rows.Len(), d.evalAt, d.histAt)
		}
		apply()
		b.StartTimer()
	}
	b.ReportMetric(float64(list.Nanoseconds())/float64(b.N)/1e6, "ms/frame")
	b.ReportMetric(float64(full.Nanoseconds())/float64(b.N)/1e6, "ms/frame+tl")
}

// benchCount is the engine's count for expr, to check the list against.
func benchCount(tb testing.TB, s *audit.Store, now time.Time, expr string) int {
	tb.Helper()
	f, err := filters.Compile(s, []string{expr}, filters.Options{Now: now})
	if err != nil {
		tb.Fatal(err)
	}
	ids, err := f.Eval(context.Background(), s.View())
	if err != nil {
		tb.Fatal(err)
	}
	if len(ids) == 0 {
		tb.Fatalf("%s matches nothing", expr)
	}
	return len(ids)
}

// BenchmarkKeyOpenDetail is Enter on a row: the event's bytes are read,
// redacted and parsed, and the frame has the detail pane. Between
// iterations, untimed, Esc closes the pane and j moves to the next row.
func BenchmarkKeyOpenDetail(b *testing.B) {
	fx := benchStores(b)
	for _, sz := range benchSizes {
		b.Run("1M/"+sz.name, func(b *testing.B) {
			d := benchNew(b, fx.big, fx.now, sz.w, sz.h)
			d.m.moveTo(d.m.rows.Len() / 2)
			b.ReportAllocs()
			runtime.GC()
			for b.Loop() {
				d.pressTimed(benchKeyEnter)
				b.StopTimer()
				if !d.m.detail.open || d.m.detail.doc == nil || !strings.Contains(d.frame, "─ event") {
					b.Fatalf("no detail pane: open %v, err %q", d.m.detail.open, d.m.detail.err)
				}
				d.press(benchKeyEsc)
				d.press(benchKeyJ)
				b.StartTimer()
			}
			benchReportFrame(b)
		})
	}
}

// BenchmarkView is View alone (no state change) with the cursor in the
// middle of 1M events.
func BenchmarkView(b *testing.B) {
	fx := benchStores(b)
	for _, sz := range benchSizes {
		b.Run("1M/"+sz.name, func(b *testing.B) {
			d := benchNew(b, fx.big, fx.now, sz.w, sz.h)
			d.m.moveTo(d.m.rows.Len() / 2)
			b.ReportAllocs()
			runtime.GC()
			for b.Loop() {
				d.frame = d.m.View().Content
			}
			benchReportFrame(b)
		})
	}
}

// benchFiltered returns a model of s at w×h with filter expr applied
// ("" = none).
func benchFiltered(t *testing.T, s *audit.Store, now time.Time, expr string, w, h int) *benchDriver {
	d := benchNew(t, s, now, w, h)
	if expr != "" {
		d.press(benchKeyF)
		d.update(tea.PasteMsg{Content: expr})
		d.press(benchKeyEnter)
		if d.m.filterSrc != expr || d.m.rows.all {
			t.Fatalf("filter %q not applied", expr)
		}
	}
	return d
}

// benchScrollCost presses j (and k, turning every 100 presses) from row
// pos and returns the objects and bytes each press plus its frame
// allocated, in press order.
func benchScrollCost(d *benchDriver, pos int) (allocs, bytes []uint64) {
	d.m.moveTo(pos)
	d.update(benchKeyJ) // warm up
	var before, after runtime.MemStats
	for i := range 400 {
		k := benchKeyJ
		if (i/100)%2 == 1 {
			k = benchKeyK
		}
		runtime.ReadMemStats(&before)
		d.update(k)
		runtime.ReadMemStats(&after)
		allocs = append(allocs, after.Mallocs-before.Mallocs)
		bytes = append(bytes, after.TotalAlloc-before.TotalAlloc)
	}
	return allocs, bytes
}

// benchStats returns the median and the mean of xs.
func benchStats(xs []uint64) (median, mean float64) {
	s := slices.Clone(xs)
	slices.Sort(s)
	var sum uint64
	for _, x := range s {
		sum += x
	}
	return float64(s[len(s)/2]), float64(sum) / float64(len(s))
}

// TestScrollAllocsIndependentOfSize checks that scrolling allocates for
// what is visible only: one j (or k) plus its frame allocates no more,
// objects and bytes, at 1M events than at 10K, with and without a filter;
// and the key itself (Update without View) allocates nothing.
//
// The typical press is compared (the median), and the mean bytes with
// more slack, which catches an allocation that grows with the events even
// if it happens on few presses only. The presses that move the cursor
// into another timeline bucket redraw the timeline (a cost bounded by its
// cells); they are what the mean's slack is for.
//
// Both models show the same events and the same timeline, so that only
// the number of events differs: the 1M-event model scrolls from the
// middle of the store (the 11th copy of the generated events, see
// benchExtend) over the copies of the events the 10K-event model scrolls
// over (the 10K generated events are the first of the 50K), and the 10K
// model is given the 1M model's histogram. How many objects and bytes a
// row or the timeline costs depends on what they show (the length of
// names, the colour runs of the bars), not on the number of events, and
// this test is about the number of events. BenchmarkKeyScrollRow shows
// both models as they are.
func TestScrollAllocsIndependentOfSize(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a 1M-event store")
	}
	fx := benchStores(t)
	t.Logf("fixture: %d and %d events, built in %v", fx.big.Len(), fx.small.Len(), fx.setupTime.Round(time.Millisecond))
	for _, expr := range []string{"", `verb != "watch"`} {
		for _, sz := range benchSizes {
			big := benchFiltered(t, fx.big, fx.now, expr, sz.w, sz.h)
			small := benchFiltered(t, fx.small, fx.smallNow, expr, sz.w, sz.h)
			small.m.tl.seq++ // a new histogram, as a rebuild would bring
			small.update(histMsg{seq: small.m.tl.seq, hist: big.m.tl.hist})
			if !strings.Contains(small.frame, benchTimelineLine(big.frame)) {
				t.Fatal("the 10K model does not draw the 1M model's histogram")
			}
			smallPos := small.m.rows.Len() / 2
			bigPos := benchSameEvent(t, big.m, big.m.rows.Len()/2, small.m.rows.Rec(smallPos).Off())
			bigA, bigB := benchScrollCost(big, bigPos)
			smallA, smallB := benchScrollCost(small, smallPos)
			bigAMed, bigAMean := benchStats(bigA)
			bigBMed, bigBMean := benchStats(bigB)
			smallAMed, smallAMean := benchStats(smallA)
			smallBMed, smallBMean := benchStats(smallB)
			what := fmt.Sprintf("filter %q, %s", expr, sz.name)
			t.Logf("%s: j+View median/mean at 1M (row %d): %.0f/%.0f allocs %.0f/%.0f B; at 10K (row %d): %.0f/%.0f allocs %.0f/%.0f B",
				what, bigPos, bigAMed, bigAMean, bigBMed, bigBMean, smallPos, smallAMed, smallAMean, smallBMed, smallBMean)
			// The slack covers the longer counts in the header and the
			// times of the copies.
			if bigAMed > smallAMed*1.02+8 {
				t.Errorf("%s: a press allocates %.0f objects at 1M events, %.0f at 10K (median)", what, bigAMed, smallAMed)
			}
			if bigBMed > smallBMed*1.02+512 {
				t.Errorf("%s: a press allocates %.0f B at 1M events, %.0f B at 10K (median)", what, bigBMed, smallBMed)
			}
			if bigBMean > smallBMean*1.05+4096 {
				t.Errorf("%s: a press allocates %.0f B at 1M events, %.0f B at 10K (mean)", what, bigBMean, smallBMean)
			}
		}
	}
	d := benchNew(t, fx.big, fx.now, 160, 48)
	d.m.moveTo(fx.big.Len() / 2)
	if n := testing.AllocsPerRun(200, func() { d.m.Update(benchKeyJ) }); n != 0 {
		t.Errorf("the j key itself (Update) allocates %.1f objects", n)
	}
}

// benchSameEvent returns the first row from row from on whose event has
// its bytes at offset off (in the 1M store, a copy of the event at off).
func benchSameEvent(t *testing.T, m *Model, from int, off int64) int {
	for i := from; i < m.rows.Len(); i++ {
		if m.rows.Rec(i).Off() == off {
			return i
		}
	}
	t.Fatalf("no copy of the event at offset %d after row %d", off, from)
	return 0
}

// benchTimelineLine returns the first bar line of the timeline in frame
// (the line under its label line).
func benchTimelineLine(frame string) string { return strings.Split(frame, "\n")[2] }
