package filters

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"ktrail/audit"
)

// TestEvalNewLate grows a store in two loads: the second brings events
// that are older than the first load's (late events), events of users the
// first load never saw, and exact copies of earlier events. EvalNew over
// the new records merged with the first result must equal a full Eval.
func TestEvalNewLate(t *testing.T) {
	data, err := os.ReadFile(recording)
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.SplitAfter(bytes.TrimRight(data, "\n"), []byte("\n"))
	lines[len(lines)-1] = append(lines[len(lines)-1], '\n')
	var first, second [][]byte
	for i, l := range lines {
		late := i < 60 || bytes.Contains(l, []byte(`"username":"alice"`)) || bytes.Contains(l, []byte(`"system:anonymous"`))
		if late {
			second = append(second, l)
		} else {
			first = append(first, l)
		}
	}
	second = append(second, first[3], first[10]) // exact copies: duplicates
	path := filepath.Join(t.TempDir(), "audit.log")
	if err := os.WriteFile(path, bytes.Join(first, nil), 0o600); err != nil {
		t.Fatal(err)
	}
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	s := audit.NewStore()
	l := audit.NewLoader(s, s.AddSegment(fh), fh, audit.LoaderOptions{})
	ctx := context.Background()
	size1 := int64(len(bytes.Join(first, nil)))
	if err := l.Load(ctx, size1, false); err != nil {
		t.Fatal(err)
	}
	exprs := []string{
		`verb == "create"`, `user == "alice"`, `user in ["alice", "system:anonymous"]`,
		`requestObject.kind == "Secret"`, `code >= 400`, `hasPrefix(user, "system:a")`, `true`,
	}
	filters := make([]*Filter, len(exprs))
	before := make([][]uint32, len(exprs))
	v1 := s.View()
	for i, e := range exprs {
		if filters[i], err = Compile(s, []string{e}, Options{Now: lastTime(s)}); err != nil {
			t.Fatal(err)
		}
		if before[i], err = filters[i].Eval(ctx, v1); err != nil {
			t.Fatal(err)
		}
	}
	if n := count(t, s, Options{}, `user == "alice"`); n != 0 {
		t.Fatalf("alice in the first load: %d", n)
	}
	// The second load: late events and duplicates.
	fa, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fa.Write(bytes.Join(second, nil))
	fa.Close()
	if err := l.Load(ctx, size1+int64(len(bytes.Join(second, nil))), true); err != nil {
		t.Fatal(err)
	}
	v2 := s.View()
	if v2.Len() != len(lines) || s.Duplicates() != 2 {
		t.Fatalf("store has %d events and %d duplicates, want %d and 2", v2.Len(), s.Duplicates(), len(lines))
	}
	if v2.Generation == v1.Generation {
		t.Fatal("the second load inserted no late event")
	}
	for i, f := range filters {
		added, err := f.EvalNew(ctx, v2, v1.NumRecs())
		if err != nil {
			t.Fatal(err)
		}
		if !slices.IsSortedFunc(added, v2.Compare) {
			t.Errorf("%s: EvalNew is not sorted", exprs[i])
		}
		merged := Merge(v2, before[i], added)
		full, err := f.Eval(ctx, v2)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(merged, full) {
			t.Errorf("%s: merged %d ids, full Eval %d", exprs[i], len(merged), len(full))
		}
	}
	// The constant "alice" was not interned when the filter compiled.
	if n, _ := filters[1].Eval(ctx, v2); len(n) != 1 {
		t.Errorf(`user == "alice" after the late load: %d matches, want 1`, len(n))
	}
}

func TestMerge(t *testing.T) {
	s := loadFile(t, recording)
	v := s.View()
	var all []uint32
	v.EachID(0, v.Len(), func(_ int, id uint32) bool { all = append(all, id); return true })
	var a, b []uint32
	for i, id := range all {
		if i%3 == 0 {
			a = append(a, id)
		}
		if i%2 == 0 || i%3 == 0 {
			b = append(b, id) // overlaps a
		}
	}
	got := Merge(v, a, b)
	var want []uint32
	for i, id := range all {
		if i%2 == 0 || i%3 == 0 {
			want = append(want, id)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("Merge: %d ids, want %d", len(got), len(want))
	}
	if got := Merge(v, nil, a); !slices.Equal(got, a) {
		t.Error("Merge with nil")
	}
}

// TestEvalRangeAndBounds checks windows of positions and the time bounds
// taken from since/after/before.
func TestEvalRangeAndBounds(t *testing.T) {
	s := loadFile(t, recording)
	v := s.View()
	ctx := context.Background()
	f, err := Compile(s, []string{`verb == "create"`}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for from := 0; from < v.Len(); from += 50 {
		ids, err := f.EvalRange(ctx, v, from, from+50)
		if err != nil {
			t.Fatal(err)
		}
		total += len(ids)
	}
	if total != 200 {
		t.Errorf("windows of 50: %d matches, want 200", total)
	}
	if ids, _ := f.EvalRange(ctx, v, 300, 400); len(ids) != 0 {
		t.Error("range past the end matched")
	}
	// The last 10 events by position, via a time bound.
	cut := v.At(v.Len() - 10).Time
	tb := time.Unix(0, cut).UTC().Format(time.RFC3339Nano)
	for _, e := range []string{`since("` + tb + `")`, `time >= date("` + tb + `")`, `after("` + tb + `") || time == date("` + tb + `")`} {
		f, err := Compile(s, []string{e}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		ids, _ := f.Eval(ctx, v)
		if len(ids) < 10 {
			t.Errorf("%s: %d matches, want at least 10", e, len(ids))
		}
		for _, id := range ids {
			if v.Rec(id).Time < cut {
				t.Errorf("%s: matched an earlier event", e)
			}
		}
	}
	f, _ = Compile(s, []string{`since("` + tb + `") && verb == "delete"`}, Options{})
	if f.lo != cut {
		t.Errorf("bound %d, want %d", f.lo, cut)
	}
}
