package detect

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"os"
	"testing"
	"time"

	"ktrail/audit"
	"ktrail/audit/auditgen"
	"ktrail/filters"
)

// fixture is the audit log recorded from a real kube-apiserver for these
// rules (see its README.md).
const fixture = "../testdata/kube-apiserver-v1.37/detections/audit.log"

// memSeg is an in-memory segment.
type memSeg struct {
	*bytes.Reader
	name string
}

func (m memSeg) Name() string { return m.name }

// loadBytes indexes JSON lines into a new store.
func loadBytes(t testing.TB, name string, data []byte) *audit.Store {
	t.Helper()
	s := audit.NewStore()
	seg := memSeg{bytes.NewReader(data), name}
	l := audit.NewLoader(s, s.AddSegment(seg), seg, audit.LoaderOptions{})
	if err := l.Load(context.Background(), int64(len(data)), true); err != nil {
		t.Fatal(err)
	}
	if n := l.SkippedTotal(); n != 0 {
		t.Fatalf("%s: %d lines skipped", name, n)
	}
	return s
}

// loadFixture indexes the recorded log.
func loadFixture(t testing.TB) *audit.Store {
	t.Helper()
	b, err := os.ReadFile(fixture)
	if err != nil {
		t.Fatal(err)
	}
	return loadBytes(t, "audit.log", b)
}

// loadDemo indexes the embedded demo dataset.
func loadDemo(t testing.TB) *audit.Store {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(auditgen.Demo()))
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return loadBytes(t, "demo.jsonl", b)
}

// lastTime is the time of the store's last event (the "now" of its filters).
func lastTime(s *audit.Store) time.Time {
	v := s.View()
	return time.Unix(0, v.At(v.Len()-1).Time).UTC()
}

// runBuiltins compiles the built-in rules for s and runs them over all
// events.
func runBuiltins(t testing.TB, s *audit.Store) Result {
	t.Helper()
	e, err := Compile(s, Builtins(), filters.Options{Now: lastTime(s)})
	if err != nil {
		t.Fatal(err)
	}
	res := e.Run(context.Background(), s.View(), nil)
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	return res
}

// val returns a field of event id as filters.Value does.
func val(t testing.TB, s *audit.Store, id uint32, name string) string {
	t.Helper()
	v, err := filters.Value(s, s.View().Rec(id), name)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
