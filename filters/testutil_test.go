package filters

import (
	"context"
	"os"
	"testing"
	"time"

	"ktrail/audit"
)

// recording is the real kube-apiserver audit log in the repository.
const recording = "../testdata/kube-apiserver-v1.37/audit.log"

// loadFile indexes a JSON-lines file into a new Store.
func loadFile(t testing.TB, path string) *audit.Store {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	st, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	s := audit.NewStore()
	seg := s.AddSegment(f)
	l := audit.NewLoader(s, seg, f, audit.LoaderOptions{})
	if err := l.Load(context.Background(), st.Size(), true); err != nil {
		t.Fatal(err)
	}
	return s
}

// lastTime returns the time of the store's last event.
func lastTime(s *audit.Store) time.Time {
	v := s.View()
	return time.Unix(0, v.At(v.Len()-1).Time).UTC()
}

// count compiles exprs and returns the number of matches.
func count(t testing.TB, s *audit.Store, opts Options, exprs ...string) int {
	t.Helper()
	f, err := Compile(s, exprs, opts)
	if err != nil {
		t.Fatalf("%q: %v", exprs, err)
	}
	ids, err := f.Eval(context.Background(), s.View())
	if err != nil {
		t.Fatalf("%q: %v", exprs, err)
	}
	return len(ids)
}
