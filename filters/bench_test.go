package filters

import (
	"bytes"
	"context"
	"io"
	"os"
	"runtime"
	"sync"
	"testing"
	"time"

	"ktrail/audit"
)

// Benchmarks over 1M synthetic events. Run them with
//
//	go test -run '^$' -bench . -benchtime 20x ./filters/
//
// Each reports ns/event and events/s besides ns/op (one op = one Eval
// over the whole store); the body benchmarks also report MB/s of event
// bytes.

const benchEvents = 1_000_000

// benchData holds the stores shared by the benchmarks of one test binary
// run, built on first use.
type benchData struct {
	once  sync.Once
	store *audit.Store

	spoolOnce sync.Once
	spool     *audit.Store
	spoolPath string
	spoolSize int64
	spoolDir  string
}

var bench benchData

func (d *benchData) index(b *testing.B) *audit.Store {
	d.once.Do(func() { d.store = synthStore(b, benchEvents) })
	return d.store
}

// spoolStore generates and indexes a spool of benchEvents JSON lines
// (about 1.4 GB), once per test binary run; the file is removed by
// TestMain.
func (d *benchData) spoolStore(b *testing.B) (*audit.Store, int64) {
	d.spoolOnce.Do(func() {
		dir, err := os.MkdirTemp("", "ktrail-filters-bench-")
		if err != nil {
			b.Fatal(err)
		}
		d.spoolDir = dir
		d.spoolPath, d.spoolSize = writeSpool(b, dir, benchEvents)
		d.spool = loadFile(b, d.spoolPath)
	})
	return d.spool, d.spoolSize
}

func TestMain(m *testing.M) {
	code := m.Run()
	if bench.spoolDir != "" {
		os.RemoveAll(bench.spoolDir)
	}
	os.Exit(code)
}

// benchEval runs Eval of exprs over s b.N times.
func benchEval(b *testing.B, s *audit.Store, bytesPerOp int64, exprs ...string) {
	benchEvalOpts(b, s, bytesPerOp, Options{}, exprs...)
}

// benchEvalOpts is benchEval with options; Now is set to the end of the
// synthetic day.
func benchEvalOpts(b *testing.B, s *audit.Store, bytesPerOp int64, opts Options, exprs ...string) {
	opts.Now = synthStart.Add(24 * time.Hour)
	f, err := Compile(s, exprs, opts)
	if err != nil {
		b.Fatal(err)
	}
	v := s.View()
	ctx := context.Background()
	ids, err := f.Eval(ctx, v) // warm the caches and the page cache
	if err != nil {
		b.Fatal(err)
	}
	if bytesPerOp > 0 {
		b.SetBytes(bytesPerOp)
	}
	runtime.GC()
	b.ResetTimer()
	for b.Loop() {
		if _, err := f.Eval(ctx, v); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	perOp := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	b.ReportMetric(perOp/float64(v.Len()), "ns/event")
	b.ReportMetric(float64(v.Len())/perOp*1e9, "events/s")
	b.ReportMetric(float64(len(ids)), "matches")
	if f.Errors() > 0 {
		b.Fatalf("%d evaluation errors", f.Errors())
	}
}

// BenchmarkFieldFilter is an equality filter on indexed fields.
func BenchmarkFieldFilter(b *testing.B) {
	benchEval(b, bench.index(b), 0, `verb == "delete" && resource == "secrets"`)
}

// BenchmarkExprFilter mixes cached string predicates and code ranges.
func BenchmarkExprFilter(b *testing.B) {
	s := bench.index(b)
	for _, e := range []struct{ name, expr string }{
		{"prefix-code-regex", `hasPrefix(user, "system:serviceaccount:") && code >= 400 || matches(userAgent, "curl|python")`},
		{"in-groups-since", `"system:masters" in groups && since("6h") && verb in ["create", "update", "patch", "delete"]`},
		{"helpers", `isHuman() && !cidr(sourceIP, "10.0.0.0/8") || latency > duration("100ms") && code in 500..599`},
	} {
		b.Run(e.name, func(b *testing.B) { benchEval(b, s, 0, e.expr) })
	}
}

// BenchmarkVMFallback measures expressions the fast paths cannot turn
// into Rec comparisons. pair-cache reads two indexed fields: the VM runs
// once per distinct pair. per-event has too many distinct pairs, so the
// VM runs for every event. vm-only is BenchmarkFieldFilter's expression
// forced through the VM, the cost the fast path saves.
func BenchmarkVMFallback(b *testing.B) {
	s := bench.index(b)
	for _, e := range []struct {
		name, expr string
		opts       Options
	}{
		{"pair-cache", `verb + "/" + resource == "delete/secrets" || lower(user) == lower(impersonatedUser)`, Options{}},
		{"per-event", `name contains namespace`, Options{}},
		{"vm-only", `verb == "delete" && resource == "secrets"`, Options{vmOnly: true}},
	} {
		b.Run(e.name, func(b *testing.B) { benchEvalOpts(b, s, 0, e.opts, e.expr) })
	}
}

// BenchmarkBodyFilter reads request bodies from a spool file.
func BenchmarkBodyFilter(b *testing.B) {
	s, size := bench.spoolStore(b)
	for _, e := range []struct{ name, expr string }{
		{"raw-path", `requestObject.spec.hostNetwork == true`},
		{"vm-any", `any(requestObject.spec.containers, .securityContext.privileged == true)`},
		{"indexed-first", `verb == "create" && resource == "pods" && requestObject.spec.hostNetwork == true`},
	} {
		b.Run(e.name, func(b *testing.B) { benchEval(b, s, size, e.expr) })
	}
}

// BenchmarkBodyGrepBaseline is the peer of BenchmarkBodyFilter: reading
// the spool sequentially and counting a byte pattern, as grep -c does.
func BenchmarkBodyGrepBaseline(b *testing.B) {
	bench.spoolStore(b)
	needle := []byte(`"hostNetwork":true`)
	buf := make([]byte, 1<<20)
	b.SetBytes(bench.spoolSize)
	for b.Loop() {
		f, err := os.Open(bench.spoolPath)
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for {
			m, err := io.ReadFull(f, buf)
			n += bytes.Count(buf[:m], needle)
			if err != nil {
				break
			}
		}
		f.Close()
		if n == 0 {
			b.Fatal("no match")
		}
	}
}
