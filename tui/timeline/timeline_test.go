package timeline

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"ktrail/audit"
	"ktrail/audit/auditgen"
)

// memSeg is an in-memory audit.Segment.
type memSeg struct {
	*bytes.Reader
	name string
}

func (m memSeg) Name() string { return m.name }

// load indexes each data slice as its own segment into a new store.
func load(tb testing.TB, data ...[]byte) *audit.Store {
	tb.Helper()
	s := audit.NewStore()
	for i, b := range data {
		seg := memSeg{bytes.NewReader(b), fmt.Sprintf("seg%d", i)}
		l := audit.NewLoader(s, s.AddSegment(seg), seg, audit.LoaderOptions{})
		if err := l.Load(context.Background(), int64(len(b)), true); err != nil {
			tb.Fatal(err)
		}
	}
	return s
}

var t0 = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)

// ev returns an event line at t0+off; code 0 means no response yet.
func ev(id string, off time.Duration, verb string, code int) string {
	ts := t0.Add(off).Format(time.RFC3339Nano)
	if code == 0 {
		return fmt.Sprintf(`{"auditID":%q,"stage":"RequestReceived","verb":%q,"requestReceivedTimestamp":%q,"stageTimestamp":%q}`, id, verb, ts, ts)
	}
	return fmt.Sprintf(`{"auditID":%q,"stage":"ResponseComplete","verb":%q,"responseStatus":{"code":%d},"requestReceivedTimestamp":%q,"stageTimestamp":%q}`, id, verb, code, ts, ts)
}

// noTimeEv returns an event line without any time field.
func noTimeEv(id, verb string) string {
	return fmt.Sprintf(`{"auditID":%q,"stage":"ResponseComplete","verb":%q,"responseStatus":{"code":500}}`, id, verb)
}

func lines(ls ...string) []byte { return []byte(strings.Join(ls, "\n") + "\n") }

// genStore returns a store of n auditgen events plus three events
// without a time.
func genStore(tb testing.TB, n int, rate float64) *audit.Store {
	tb.Helper()
	var buf bytes.Buffer
	if _, err := auditgen.New(auditgen.Config{Seed: 1, Rate: rate}).WriteN(&buf, n); err != nil {
		tb.Fatal(err)
	}
	return load(tb, buf.Bytes(), lines(noTimeEv("nt1", "get"), noTimeEv("nt2", "delete"), noTimeEv("nt3", "patch")))
}

// synthStore returns a store of n index records (no bytes behind them)
// with a mix of verbs and codes, about 5 ms apart.
func synthStore(tb testing.TB, n int) *audit.Store {
	tb.Helper()
	s := audit.NewStore()
	in := s.Interner()
	var verbs []uint32
	for _, v := range []string{"get", "list", "watch", "create", "update", "patch", "delete", "deletecollection", "get", "list"} {
		verbs = append(verbs, in.InternString(v))
	}
	codes := []uint16{200, 200, 200, 201, 0, 404, 409, 403, 500, 503, 200, 200}
	r := rand.New(rand.NewPCG(1, 2))
	t := t0.UnixNano()
	batch := make([]audit.Rec, 0, 1<<16)
	for i := range n {
		t += r.Int64N(10e6) + 1
		batch = append(batch, audit.Rec{
			Time: t, AuditID: uint64(i + 1), Len: 100, Stage: audit.StageResponseComplete,
			Verb: verbs[r.IntN(len(verbs))], Code: codes[r.IntN(len(codes))],
		})
		if len(batch) == cap(batch) || i == n-1 {
			s.Append(batch)
			batch = batch[:0]
		}
	}
	if s.Len() != n {
		tb.Fatalf("store holds %d records, want %d", s.Len(), n)
	}
	return s
}

// naive recounts h's buckets the slow, obvious way.
func naive(s *audit.Store, v *audit.View, rows Rows, h Histogram, from, to int64) (counts [][3]uint32, total int, maxv uint32) {
	counts = make([][3]uint32, len(h.Counts))
	for i := range rows.Len() {
		r := v.Rec(rows.ID(i))
		if r.Flags&audit.FlagNoTime != 0 || r.Time < from || r.Time >= to {
			continue
		}
		k := 0
		if h.Mode == ByOutcome {
			switch {
			case r.Code >= 500:
				k = 2
			case r.Code >= 400:
				k = 1
			}
		} else {
			switch s.Str(r.Verb) {
			case "get", "list", "watch":
				k = 0
			case "delete", "deletecollection":
				k = 2
			default:
				k = 1
			}
		}
		b := (r.Time - h.From) / h.Step
		counts[b][k]++
		total++
	}
	for _, c := range counts {
		maxv = max(maxv, c[0]+c[1]+c[2])
	}
	return counts, total, maxv
}

// checkBuild builds and compares with naive.
func checkBuild(t *testing.T, s *audit.Store, rows Rows, from, to int64, width int, mode Mode) Histogram {
	t.Helper()
	v := s.View()
	h, err := Build(context.Background(), s, v, rows, from, to, width, mode)
	if err != nil {
		t.Fatal(err)
	}
	name := fmt.Sprintf("rows %d [%d,%d) width %d mode %v", rows.Len(), from, to, width, mode)
	if h.Step != NiceStep(from, to, width) || h.From%h.Step != 0 || h.From > from || h.To < to ||
		h.To != h.From+int64(len(h.Counts))*h.Step || len(h.Counts) > width || len(h.Counts) == 0 || h.Mode != mode {
		t.Fatalf("%s: bad geometry From %d To %d Step %d buckets %d", name, h.From, h.To, h.Step, len(h.Counts))
	}
	counts, total, maxv := naive(s, v, rows, h, from, to)
	if h.Total != total || h.Max != maxv {
		t.Errorf("%s: total %d max %d, want %d %d", name, h.Total, h.Max, total, maxv)
	}
	for b := range counts {
		if h.Counts[b] != counts[b] {
			t.Fatalf("%s: bucket %d = %v, want %v", name, b, h.Counts[b], counts[b])
		}
	}
	return h
}

func TestNiceStep(t *testing.T) {
	const s, m, hr, d = int64(time.Second), int64(time.Minute), int64(time.Hour), int64(24 * time.Hour)
	base := t0.UnixNano()
	midnight := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC).UnixNano()
	tests := []struct {
		from, to int64
		n        int
		want     int64
	}{
		{base, base + 60*s, 60, s},
		{base, base + 61*s, 60, 2 * s},
		{base, base + 60*s, 12, 5 * s},
		{base, base + 60*s, 5, 15 * s},
		{base, base + hr, 60, m},
		{base, base + hr, 12, 5 * m},
		{base, base + hr + 1, 12, 10 * m},
		{base, base + hr, 4, 15 * m},
		{base, base + hr, 1, hr},
		{midnight, midnight + 24*hr, 8, 3 * hr},
		{midnight, midnight + 24*hr, 2, 12 * hr},
		// From 10:00 a day touches nine 3h buckets (09-12 … 09-12).
		{base, base + 24*hr, 8, 6 * hr},
		{base, base + 24*hr, 2, d},
		// Alignment counts: [30s, 90s) touches two 1m buckets.
		{30 * s, 90 * s, 1, 2 * m},
		{30 * s, 90 * s, 2, 30 * s},
		{0, 3 * d, 1, 7 * d},
		{0, 3 * d, 2, 2 * d},
		{0, 20 * d, 1, 30 * d},
		{0, 100 * d, 1, 180 * d},
		{0, 365 * d, 1, 365 * d},
		// Past the table the step doubles: 100 years in 10 buckets.
		{0, 100 * 365 * d, 10, 16 * 365 * d},
		{base, base, 10, s},
		{base, base - 5, 10, s},
		{base, base + s, 0, s},
		{base, base + 1, 1, s},
	}
	for _, tc := range tests {
		if got := NiceStep(tc.from, tc.to, tc.n); got != tc.want {
			t.Errorf("NiceStep(%d, %d, %d) = %v, want %v", tc.from, tc.to, tc.n, time.Duration(got), time.Duration(tc.want))
		}
	}
	// Whatever the range, the result fits and the next smaller step does not.
	r := rand.New(rand.NewPCG(3, 4))
	for range 2000 {
		from := base + r.Int64N(int64(time.Hour))
		to := from + 1 + r.Int64N(int64(40*24*time.Hour))
		n := 1 + r.IntN(300)
		got := NiceStep(from, to, n)
		if numBuckets(from, to, got) > int64(n) {
			t.Fatalf("NiceStep(%d, %d, %d) = %d does not fit", from, to, n, got)
		}
		for i, st := range niceSteps {
			if int64(st) == got && i > 0 && numBuckets(from, to, int64(niceSteps[i-1])) <= int64(n) {
				t.Fatalf("NiceStep(%d, %d, %d) = %v but %v fits", from, to, n, st, niceSteps[i-1])
			}
		}
	}
}

func TestBuildMatchesNaiveCount(t *testing.T) {
	s := genStore(t, 20000, 20)
	v := s.View()
	first, last, ok := Bounds(v, v)
	if !ok {
		t.Fatal("no bounds")
	}
	var errIDs, sparse IDs
	for i := range v.Len() {
		id := v.ID(i)
		if v.Rec(id).Code >= 400 {
			errIDs = append(errIDs, id)
		}
		if i%7 == 0 {
			sparse = append(sparse, id)
		}
	}
	if len(errIDs) == 0 {
		t.Fatal("the generated log has no errors")
	}
	span := last - first
	windows := [][2]int64{
		{first, last + 1},
		{first + span/3, first + span/2},                            // inside the data
		{first - span/4, first + span/5},                            // starting before the data
		{last - span/7, last + span},                                // ending after it
		{first + span/2, first + span/2 + 1e9},                      // one second
		{last + int64(time.Hour), last + int64(time.Hour) + 2*60e9}, // no data
		{0, first + int64(time.Minute)},                             // reaching the no-time events' zero
		{first + 1, first + 1 + int64(time.Hour)},                   // unaligned
	}
	for _, mode := range []Mode{ByOutcome, ByVerbClass} {
		for _, rows := range []Rows{v, errIDs, sparse, IDs(nil)} {
			for _, w := range windows {
				for _, width := range []int{1, 7, 80, 161, 1000} {
					checkBuild(t, s, rows, w[0], w[1], width, mode)
				}
			}
		}
	}
	h := checkBuild(t, s, v, first, last+1, 80, ByOutcome)
	if h.Total != v.Len()-3 {
		t.Errorf("full range counted %d events, want %d (all but the three without a time)", h.Total, v.Len()-3)
	}
}

func TestBuildParallelMatchesNaive(t *testing.T) {
	s := synthStore(t, 3*parallelMin/2)
	v := s.View()
	first, last, _ := Bounds(v, v)
	var ids IDs
	v.EachID(0, v.Len(), func(_ int, id uint32) bool { ids = append(ids, id); return true })
	for _, mode := range []Mode{ByOutcome, ByVerbClass} {
		checkBuild(t, s, v, first, last+1, 160, mode)
		checkBuild(t, s, ids, first+12345, last-67890, 97, mode)
	}
}

func TestBuildExcludesOutsideAndNoTime(t *testing.T) {
	s := load(t, lines(
		noTimeEv("n1", "get"),
		ev("a", 0, "get", 200),
		ev("b", 30*time.Second, "delete", 404),
		ev("c", 59*time.Second, "create", 0),
		ev("d", 60*time.Second, "patch", 500),
		ev("e", 119*time.Second, "list", 503),
		ev("f", 120*time.Second, "watch", 200),
	), lines(noTimeEv("n2", "delete")))
	v := s.View()
	base := t0.UnixNano()
	h, err := Build(context.Background(), s, v, v, base+int64(30*time.Second), base+int64(120*time.Second), 2, ByOutcome)
	if err != nil {
		t.Fatal(err)
	}
	// [10:00:30, 10:02:00) in 1m buckets from 10:00: b and c; d and e.
	want := [][3]uint32{{1, 1, 0}, {0, 0, 2}}
	if h.Step != int64(time.Minute) || h.From != base || fmt.Sprint(h.Counts) != fmt.Sprint(want) || h.Total != 4 || h.Max != 2 {
		t.Errorf("got step %v from %d counts %v total %d max %d, want 1m %d %v 4 2", time.Duration(h.Step), h.From, h.Counts, h.Total, h.Max, base, want)
	}
	h, _ = Build(context.Background(), s, v, v, base, base+int64(3*time.Minute), 3, ByVerbClass)
	// get delete create | patch list | watch.
	want = [][3]uint32{{1, 1, 1}, {1, 1, 0}, {1, 0, 0}}
	if fmt.Sprint(h.Counts) != fmt.Sprint(want) {
		t.Errorf("by verb: %v, want %v", h.Counts, want)
	}
	// A window from time 0 holds the no-time events' zero time: still skipped.
	h, _ = Build(context.Background(), s, v, v, 0, base+int64(time.Hour), 10, ByOutcome)
	if h.Total != 6 {
		t.Errorf("window from 0 counted %d events, want the 6 timed ones", h.Total)
	}
	for _, bad := range [][2]int64{{base, base}, {base, base - 1}} {
		if h, err := Build(context.Background(), s, v, v, bad[0], bad[1], 10, ByOutcome); err != nil || len(h.Counts) != 0 || h.Step != 0 {
			t.Errorf("empty range: %+v %v", h, err)
		}
	}
	if h, _ := Build(context.Background(), s, v, v, base, base+1e9, 0, ByOutcome); len(h.Counts) != 0 {
		t.Errorf("zero buckets gave %d", len(h.Counts))
	}
}

func TestBuildCancelled(t *testing.T) {
	s := synthStore(t, 200_000)
	v := s.View()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	first, last, _ := Bounds(v, v)
	if _, err := Build(ctx, s, v, v, first, last+1, 100, ByOutcome); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled Build returned %v", err)
	}
}

func TestBounds(t *testing.T) {
	s := load(t, lines(
		noTimeEv("n1", "get"),
		ev("a", 5*time.Second, "get", 200),
		ev("b", 10*time.Second, "get", 200),
		ev("c", 20*time.Second, "get", 200),
		noTimeEv("n2", "list"),
	))
	v := s.View()
	base := t0.UnixNano()
	first, last, ok := Bounds(v, v)
	if !ok || first != base+5e9 || last != base+20e9 {
		t.Errorf("Bounds = %d %d %v, want +5s +20s", first-base, last-base, ok)
	}
	// The two no-time events sort first.
	first, last, ok = Bounds(v, IDs{v.ID(0), v.ID(1), v.ID(2), v.ID(3)})
	if !ok || first != base+5e9 || last != base+10e9 {
		t.Errorf("subset Bounds = %d %d %v, want +5s +10s", first-base, last-base, ok)
	}
	if _, _, ok := Bounds(v, IDs{v.ID(0), v.ID(1)}); ok {
		t.Error("only no-time rows gave bounds")
	}
	if _, _, ok := Bounds(v, IDs{}); ok {
		t.Error("no rows gave bounds")
	}
	if _, _, ok := Bounds(nil, v); ok {
		t.Error("nil view gave bounds")
	}
	if first, last, ok := Bounds(v, IDs{v.ID(4)}); !ok || first != last || first != base+20e9 {
		t.Errorf("one row: %d %d %v", first, last, ok)
	}
}

func TestBucketAtXOfRoundTrip(t *testing.T) {
	s := genStore(t, 3000, 50)
	v := s.View()
	first, last, _ := Bounds(v, v)
	for _, width := range []int{1, 13, 80, 161} {
		h, _ := Build(context.Background(), s, v, v, first, last+1, width, ByOutcome)
		for x := range h.Len() {
			from, to, ok := h.BucketAt(x)
			if !ok || to-from != h.Step || h.XOf(from) != x || h.XOf(to-1) != x || h.XOf((from+to)/2) != x {
				t.Fatalf("width %d bucket %d: [%d,%d) %v XOf %d %d", width, x, from, to, ok, h.XOf(from), h.XOf(to-1))
			}
		}
		if h.XOf(h.From-1) != -1 || h.XOf(h.To) != -1 {
			t.Errorf("width %d: times outside map to %d %d", width, h.XOf(h.From-1), h.XOf(h.To))
		}
		if _, _, ok := h.BucketAt(-1); ok {
			t.Error("BucketAt(-1) ok")
		}
		if _, _, ok := h.BucketAt(h.Len()); ok {
			t.Error("BucketAt(len) ok")
		}
	}
	var empty Histogram
	if empty.XOf(5) != -1 {
		t.Error("empty histogram maps a time")
	}
	if _, _, ok := empty.BucketAt(0); ok {
		t.Error("empty histogram has a bucket")
	}
}

func BenchmarkBuild1M(b *testing.B) {
	s := synthStore(b, 1_000_000)
	v := s.View()
	first, last, _ := Bounds(v, v)
	var ids IDs
	v.EachID(0, v.Len(), func(_ int, id uint32) bool { ids = append(ids, id); return true })
	for _, bc := range []struct {
		name string
		rows Rows
		mode Mode
	}{{"View/outcome", v, ByOutcome}, {"View/verb", v, ByVerbClass}, {"IDs/outcome", ids, ByOutcome}} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				h, err := Build(context.Background(), s, v, bc.rows, first, last+1, 160, bc.mode)
				if err != nil || h.Total != 1_000_000 {
					b.Fatal(h.Total, err)
				}
			}
		})
	}
}
