package detect

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"os"
	"reflect"
	"strings"
	"testing"

	"ktrail/audit"
	"ktrail/audit/auditgen"
	"ktrail/filters"
)

// feedInSteps indexes data into a new store a few lines at a time, as a
// live tail does, calling Feed after each step, and returns the store and
// the last Feed result.
func feedInSteps(t *testing.T, data []byte, step int) (*audit.Store, *Engine, Result) {
	t.Helper()
	s := audit.NewStore()
	seg := memSeg{bytes.NewReader(data), "live"}
	l := audit.NewLoader(s, s.AddSegment(seg), seg, audit.LoaderOptions{Workers: 1})
	e, err := Compile(s, Builtins(), filters.Options{Now: t0})
	if err != nil {
		t.Fatal(err)
	}
	var res Result
	fed, calls := 0, 0
	for end := 0; end < len(data); {
		end = min(end+step, len(data))
		if err := l.Load(context.Background(), int64(end), end == len(data)); err != nil {
			t.Fatal(err)
		}
		v := s.View()
		res = e.Feed(context.Background(), v, fed)
		if res.Err != nil {
			t.Fatal(res.Err)
		}
		fed = v.NumRecs()
		calls++
	}
	if calls < 10 {
		t.Fatalf("only %d Feed calls: make the steps smaller", calls)
	}
	return s, e, res
}

// sameResult compares a Feed result with a Run result.
func sameResult(t *testing.T, what string, fed, run Result) {
	t.Helper()
	if len(fed.Rules) != len(run.Rules) {
		t.Fatalf("%s: %d rules fed, %d run", what, len(fed.Rules), len(run.Rules))
	}
	fired := 0
	for i := range run.Rules {
		f, r := fed.Rules[i], run.Rules[i]
		if !reflect.DeepEqual(f.Hits, r.Hits) {
			t.Errorf("%s: %s: Feed has %d hits, Run %d", what, r.Rule.ID, len(f.Hits), len(r.Hits))
		}
		if !reflect.DeepEqual(f.Alerts, r.Alerts) {
			t.Errorf("%s: %s: Feed alerts %+v\nRun alerts %+v", what, r.Rule.ID, f.Alerts, r.Alerts)
		}
		if r.Fired() {
			fired++
		}
	}
	if fired == 0 {
		t.Errorf("%s: nothing fired: the comparison proves little", what)
	}
}

func TestFeedEqualsRun(t *testing.T) {
	fixture, err := os.ReadFile(fixture)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(auditgen.Demo()))
	if err != nil {
		t.Fatal(err)
	}
	demo, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		data []byte
		step int
	}{
		{"fixture in order", fixture, 20 << 10},
		{"fixture, second half first", halvesSwapped(fixture), 20 << 10},
		{"fixture, line blocks reversed", blocksReversed(fixture, 7), 20 << 10},
		{"demo in order", demo, 300 << 10},
		{"demo, line blocks reversed", blocksReversed(demo, 50), 300 << 10},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, e, fed := feedInSteps(t, c.data, c.step)
			if reordered := !strings.HasSuffix(c.name, "in order"); reordered && s.View().Generation == 0 {
				t.Fatal("no event arrived late: the reordering does not exercise late events")
			}
			run := e.Run(context.Background(), s.View(), nil)
			if run.Err != nil {
				t.Fatal(run.Err)
			}
			sameResult(t, c.name, fed, run)
			// Reset and one Feed of everything is the same again.
			e.Reset()
			sameResult(t, c.name+" after Reset", e.Feed(context.Background(), s.View(), 0), run)
		})
	}
}

// halvesSwapped puts the second half of the lines first, so that the
// first half arrives late.
func halvesSwapped(data []byte) []byte {
	lines := bytes.SplitAfter(data, []byte("\n"))
	h := len(lines) / 2
	return bytes.Join(append(lines[h:], lines[:h]...), nil)
}

// blocksReversed reverses the order of blocks of n lines: every block
// but the first arrives before the events it follows.
func blocksReversed(data []byte, n int) []byte {
	lines := bytes.SplitAfter(data, []byte("\n"))
	var blocks [][]byte
	for i := 0; i < len(lines); i += n {
		blocks = append(blocks, bytes.Join(lines[i:min(i+n, len(lines))], nil))
	}
	var out []byte
	for i := len(blocks) - 1; i >= 0; i-- {
		out = append(out, blocks[i]...)
	}
	return out
}

// TestFeedLateEventChangesAlert checks the documented behaviour: a late
// event completes a burst whose alert had not fired.
func TestFeedLateEventChangesAlert(t *testing.T) {
	early := eventLines([]ev{{0, "a", "s1", ""}, {2e9, "a", "s2", ""}})
	late := eventLines([]ev{{1e9, "a", "s3", ""}})
	late = bytes.ReplaceAll(late, []byte(`"id-0"`), []byte(`"id-late"`))
	s := audit.NewStore()
	data := append(append([]byte{}, early...), late...)
	seg := memSeg{bytes.NewReader(data), "live"}
	l := audit.NewLoader(s, s.AddSegment(seg), seg, audit.LoaderOptions{})
	e, err := Compile(s, []Rule{countRule(3, 10e9)}, filters.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Load(context.Background(), int64(len(early)), false); err != nil {
		t.Fatal(err)
	}
	if res := e.Feed(context.Background(), s.View(), 0); len(res.Rules[0].Alerts) != 0 {
		t.Fatalf("alert with two events: %+v", res.Rules[0].Alerts)
	}
	if err := l.Load(context.Background(), int64(len(data)), true); err != nil {
		t.Fatal(err)
	}
	res := e.Feed(context.Background(), s.View(), 2)
	if len(res.Rules[0].Alerts) != 1 || res.Rules[0].Alerts[0].Count != 3 {
		t.Fatalf("after the late event: %+v", res.Rules[0].Alerts)
	}
	if got := val(t, s, res.Rules[0].Alerts[0].IDs[1], "name"); got != "s3" {
		t.Errorf("the late event is not in the middle of the alert: %s", got)
	}
}
