package audit

import (
	"bytes"
	"context"
	"os"
	"runtime"
	"testing"

	"ktrail/audit/auditgen"
)

// benchLog returns a generated log of about size bytes, or the file named
// by KTRAIL_BENCH_LOG.
func benchLog(b *testing.B, size int64) []byte {
	if p := os.Getenv("KTRAIL_BENCH_LOG"); p != "" {
		data, err := os.ReadFile(p)
		if err != nil {
			b.Fatal(err)
		}
		return data
	}
	var buf bytes.Buffer
	if _, err := auditgen.New(auditgen.Config{Seed: 1}).WriteBytes(&buf, size); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes()
}

// BenchmarkExtract measures the single-core field extractor.
func BenchmarkExtract(b *testing.B) {
	data := benchLog(b, 64<<20)
	lines := bytes.Split(data, []byte("\n"))
	b.SetBytes(int64(len(data)))
	var f Fields
	for b.Loop() {
		for _, l := range lines {
			if len(l) > 0 {
				if err := Extract(l, &f); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
}

// BenchmarkIndex measures a full parallel index into a Store, and reports
// heap bytes per event.
func BenchmarkIndex(b *testing.B) {
	data := benchLog(b, 256<<20)
	b.SetBytes(int64(len(data)))
	var s *Store
	for b.Loop() {
		s = NewStore()
		seg := newMemSeg("bench", data)
		l := NewLoader(s, s.AddSegment(seg), seg, LoaderOptions{})
		if err := l.Load(context.Background(), int64(len(data)), true); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	var m runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m)
	// The benchmark's input buffer is in the heap too; subtract it.
	b.ReportMetric(float64(int64(m.HeapAlloc)-int64(len(data)))/float64(s.Len()), "heapB/event")
	b.ReportMetric(float64(s.Len()), "events")
	runtime.KeepAlive(data)
	keep := s
	runtime.KeepAlive(keep)
}
