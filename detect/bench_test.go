package detect

import (
	"bytes"
	"context"
	"sync"
	"testing"
	"time"

	"ktrail/audit"
	"ktrail/audit/auditgen"
	"ktrail/filters"
)

// Run the benchmarks with
//
//	go test -run '^$' -bench . -benchtime 10x ./detect/
//
// The 1M-event store is built once per test binary: 50,000 generated
// events are indexed for real, then copies of their index records, moved
// later in time by whole multiples of the base span, fill it up to one
// million. The copies keep the originals' bytes, so rules that read
// bodies read real events, and the mix of users, verbs and codes is the
// generator's.
const (
	benchEvents = 1_000_000
	benchBase   = 50_000
)

var bench struct {
	once    sync.Once
	s       *audit.Store
	partial *audit.View // the store 10,000 events before the end
}

func benchStore(b *testing.B) *audit.Store {
	b.Helper()
	bench.once.Do(func() {
		var buf bytes.Buffer
		if _, err := auditgen.New(auditgen.Config{Seed: 1}).WriteN(&buf, benchBase); err != nil {
			b.Fatal(err)
		}
		s := loadBytes(b, "bench.jsonl", buf.Bytes())
		extend(b, s, benchEvents-10_000)
		bench.partial = s.View()
		extend(b, s, benchEvents)
		bench.s = s
	})
	if bench.s == nil {
		b.Fatal("the benchmark store could not be built")
	}
	return bench.s
}

// extend appends copies of the store's records until it holds target
// events; each round of copies sorts after everything held.
func extend(b *testing.B, s *audit.Store, target int) {
	v := s.View()
	var base []audit.Rec
	v.EachID(0, v.Len(), func(_ int, id uint32) bool {
		if r := v.Rec(id); r.Flags&(audit.FlagNoTime|audit.FlagDup) == 0 {
			base = append(base, *r)
		}
		return true
	})
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
			b.Fatal("copies taken for duplicates")
		}
	}
}

// BenchmarkBuiltins1M runs the whole built-in library over 1M events.
func BenchmarkBuiltins1M(b *testing.B) {
	s := benchStore(b)
	v := s.View()
	e, err := Compile(s, Builtins(), filters.Options{Now: lastTime(s)})
	if err != nil {
		b.Fatal(err)
	}
	var hits, alerts int
	b.ResetTimer()
	for b.Loop() {
		res := e.Run(context.Background(), v, nil)
		if res.Err != nil {
			b.Fatal(res.Err)
		}
		hits, alerts = 0, 0
		for _, rr := range res.Rules {
			hits += len(rr.Hits)
			alerts += len(rr.Alerts)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/run")
	b.ReportMetric(float64(hits), "hits")
	b.ReportMetric(float64(alerts), "alerts")
}

// BenchmarkFeed10K feeds the last 10,000 events of the 1M store to an
// engine that has been fed the rest, as the live view does after a burst.
func BenchmarkFeed10K(b *testing.B) {
	s := benchStore(b)
	v := s.View()
	e, err := Compile(s, Builtins(), filters.Options{Now: lastTime(s)})
	if err != nil {
		b.Fatal(err)
	}
	from := bench.partial.NumRecs()
	for b.Loop() {
		b.StopTimer()
		e.Reset()
		if res := e.Feed(context.Background(), bench.partial, 0); res.Err != nil {
			b.Fatal(res.Err)
		}
		b.StartTimer()
		if res := e.Feed(context.Background(), v, from); res.Err != nil {
			b.Fatal(res.Err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/feed")
}

// BenchmarkFeed1M feeds all 1M events at once (the live view's first
// Feed after loading a large file).
func BenchmarkFeed1M(b *testing.B) {
	s := benchStore(b)
	v := s.View()
	e, err := Compile(s, Builtins(), filters.Options{Now: lastTime(s)})
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		e.Reset()
		if res := e.Feed(context.Background(), v, 0); res.Err != nil {
			b.Fatal(res.Err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/feed")
}
