package tui

// Keystroke-to-frame benchmarks over 1M events: the time from a key press
// to the frame that shows its result, including the Cmds the key starts
// (a filter's evaluation, then the histogram), as the bubbletea runtime
// would run them. Run them with
//
//	go test -run '^$' -bench 'Key|View' -benchmem -count 3 ./tui/
//
// Besides ns/op, B/op and allocs/op each reports ms/frame; the filter
// benchmark reports ms/frame for the list frame (the filtered rows and
// count) and ms/frame+tl for the frame that also has the rebuilt
// timeline. The first benchmark of a run builds the 1M-event store (a few
// seconds, once per test binary).

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	"runtime"
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
// Why copies of 50K real events instead of 1M generated ones: indexing 1M
// generated events means writing and reading about 1.5 GB (tens of
// seconds on the 2-core machine) for every test binary run. The list,
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
		return errorString("no timed events to copy")
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
			return errorString("copies were taken for duplicates")
		}
	}
	if s.Len() != target {
		return errorString("wrong number of events after extending")
	}
	return nil
}

type errorString string

func (e errorString) Error() string { return string(e) }

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

func reportFrame(b *testing.B) {
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
		d.press(keys[(i/turn)%2])
		i++
	}
	reportFrame(b)
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
				d.press(benchKeyEnter)
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
				d.press(benchKeyEnter)
				b.StopTimer()
				if !d.m.detail.open || d.m.detail.doc == nil || !strings.Contains(d.frame, "─ event") {
					b.Fatalf("no detail pane: open %v, err %q", d.m.detail.open, d.m.detail.err)
				}
				d.press(benchKeyEsc)
				d.press(benchKeyJ)
				b.StartTimer()
			}
			reportFrame(b)
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
			reportFrame(b)
		})
	}
}

// benchScrollCost measures one j plus its frame, from the middle of the
// store's rows at w×h: allocations and bytes per press.
func benchScrollCost(t *testing.T, s *audit.Store, now time.Time, w, h int) (allocs, bytes float64) {
	d := benchNew(t, s, now, w, h)
	d.m.moveTo(s.Len() / 2)
	d.update(benchKeyJ) // warm up
	const runs = 200
	var i int
	press := func() {
		if i++; (i/50)%2 == 0 {
			d.update(benchKeyJ)
		} else {
			d.update(benchKeyK)
		}
	}
	allocs = testing.AllocsPerRun(runs, press)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for range runs {
		press()
	}
	runtime.ReadMemStats(&after)
	return allocs, float64(after.TotalAlloc-before.TotalAlloc) / runs
}

// TestScrollAllocsIndependentOfSize checks that scrolling allocates for
// the visible rows only: one j plus its frame allocates no more (objects
// and bytes) at 1M events than at 10K, and the key itself (Update
// without View) allocates nothing.
func TestScrollAllocsIndependentOfSize(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a 1M-event store")
	}
	fx := benchStores(t)
	for _, sz := range benchSizes {
		bigA, bigB := benchScrollCost(t, fx.big, fx.now, sz.w, sz.h)
		smallA, smallB := benchScrollCost(t, fx.small, fx.smallNow, sz.w, sz.h)
		t.Logf("%s: j+View at 1M: %.0f allocs %.0f B; at 10K: %.0f allocs %.0f B", sz.name, bigA, bigB, smallA, smallB)
		// The slack covers the rows' different contents (longer names,
		// other status styles) and the longer counts in the header.
		if bigA > smallA*1.05+16 {
			t.Errorf("%s: j+View allocates %.0f objects at 1M events, %.0f at 10K", sz.name, bigA, smallA)
		}
		if bigB > smallB*1.10+4096 {
			t.Errorf("%s: j+View allocates %.0f B at 1M events, %.0f B at 10K", sz.name, bigB, smallB)
		}
	}
	d := benchNew(t, fx.big, fx.now, 160, 48)
	d.m.moveTo(fx.big.Len() / 2)
	if n := testing.AllocsPerRun(200, func() { d.m.Update(benchKeyJ) }); n != 0 {
		t.Errorf("the j key itself (Update) allocates %.1f objects", n)
	}
}
