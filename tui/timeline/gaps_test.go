package timeline

import (
	"context"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"ktrail/audit"
)

// timedStore indexes records at the given offsets from t0 (latency 10ms).
func timedStore(tb testing.TB, offs []time.Duration) *audit.Store {
	tb.Helper()
	s := audit.NewStore()
	batch := make([]audit.Rec, len(offs))
	for i, o := range offs {
		batch[i] = audit.Rec{Time: t0.Add(o).UnixNano(), AuditID: uint64(i + 1), Len: 100, Stage: audit.StageResponseComplete, Latency: 0.01}
	}
	s.Append(batch)
	return s
}

// steady is Poisson traffic at rate events/s for d, skipping [holeFrom, holeTo).
func steady(rate float64, d, holeFrom, holeTo time.Duration) []time.Duration {
	r := rand.New(rand.NewPCG(7, 9))
	var out []time.Duration
	for t := time.Duration(0); t < d; t += time.Duration(r.ExpFloat64() / rate * 1e9) {
		if t < holeFrom || t >= holeTo {
			out = append(out, t)
		}
	}
	return out
}

func gapsOfStore(t *testing.T, s *audit.Store, minGap time.Duration) Gaps {
	t.Helper()
	v := s.View()
	g, err := FindGaps(context.Background(), v, v, minGap)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestFindGapsInsertedSilence(t *testing.T) {
	// Two hours at about one event a second with 30 minutes of silence.
	g := gapsOfStore(t, timedStore(t, steady(1, 2*time.Hour, 40*time.Minute, 70*time.Minute)), 0)
	if len(g.List) != 1 {
		t.Fatalf("%d gaps: %+v (threshold %v)", len(g.List), g.List, g.Threshold)
	}
	if d := g.List[0].Len(); d < 30*time.Minute || d > 31*time.Minute {
		t.Fatalf("gap of %v", d)
	}
	if from := time.Unix(0, g.List[0].From).Sub(t0); from > 40*time.Minute || from < 39*time.Minute {
		t.Fatalf("gap from %v", from)
	}
	if g.Threshold != time.Minute {
		t.Fatalf("threshold %v, want the 1m floor", g.Threshold)
	}
}

func TestFindGapsNoneOnSteadyOrPeriodicTraffic(t *testing.T) {
	if g := gapsOfStore(t, timedStore(t, steady(1, 3*time.Hour, 0, 0)), 0); len(g.List) != 0 {
		t.Fatalf("steady traffic: %+v", g.List)
	}
	// A job that makes 50 calls in a burst every 5 minutes: its pauses are
	// its usual rate, not silences.
	var offs []time.Duration
	for b := time.Duration(0); b < 3*time.Hour; b += 5 * time.Minute {
		for i := range 50 {
			offs = append(offs, b+time.Duration(i)*20*time.Millisecond)
		}
	}
	g := gapsOfStore(t, timedStore(t, offs), 0)
	if len(g.List) != 0 || g.Threshold < 10*time.Minute {
		t.Fatalf("periodic bursts: %d gaps, threshold %v", len(g.List), g.Threshold)
	}
	if g := gapsOfStore(t, timedStore(t, steady(1, 10*time.Second, 0, 0)), 0); len(g.List) != 0 || g.Events >= MinGapEvents {
		t.Fatalf("few events: %+v", g)
	}
}

func TestRenderMarksGaps(t *testing.T) {
	h := handHist()
	// Silent from 10:02:30 to 10:06:30: buckets 3, 4 and 5 lie inside.
	h.Gaps = []Gap{{From: t0.Add(150 * time.Second).UnixNano(), To: t0.Add(390 * time.Second).UnixNano()}}
	got := Render(h, Styles{}, 60, 3, -1, -1, 0, true)
	lines := strings.Split(got, "\n")
	if !strings.Contains(lines[0], "gap 4m0s from 10:02:30") {
		t.Fatalf("label line %q", lines[0])
	}
	// The band takes the place of the labels it meets.
	if axis := []rune(lines[2]); string(axis[3:6]) != "░░░" || strings.Count(string(axis), "░") != 3 {
		t.Fatalf("axis %q", string(axis))
	}
	// A gap shorter than a bucket marks the bucket holding its middle.
	h.Gaps = []Gap{{From: t0.Add(610 * time.Second).UnixNano(), To: t0.Add(650 * time.Second).UnixNano()}}
	axis := strings.Split(Render(h, Styles{}, 12, 2, -1, -1, 0, true), "\n")[1]
	if []rune(axis)[10] != '░' || strings.Count(axis, "░") != 1 {
		t.Fatalf("axis %q", axis)
	}
}
