package timeline

import (
	"testing"
	"time"
)

func TestStateZoom(t *testing.T) {
	first := t0.UnixNano()
	last := first + int64(time.Hour) - 1
	end := last + 1
	var s State
	if from, to := s.Window(first, last); from != first || to != end || !s.Fit() {
		t.Fatalf("fit window [%d,%d)", from-first, to-first)
	}
	// Zooming in on the middle halves the window around it.
	mid := first + int64(30*time.Minute)
	s.ZoomIn(mid, first, last)
	from, to := s.Window(first, last)
	if s.Fit() || to-from != int64(30*time.Minute) || from != first+int64(15*time.Minute) {
		t.Fatalf("zoom in: [%v, %v)", time.Duration(from-first), time.Duration(to-first))
	}
	// The centre keeps its relative place: 10 min into a 30 min window
	// stays a third of the way into the 15 min one.
	c := from + int64(10*time.Minute)
	s.ZoomIn(c, first, last)
	if from2, to2 := s.Window(first, last); to2-from2 != int64(15*time.Minute) || c-from2 != (c-from)/2 {
		t.Fatalf("zoom in off centre: [%v, %v)", time.Duration(from2-first), time.Duration(to2-first))
	}
	// Repeated zooming stops at MinSpan.
	for range 20 {
		s.ZoomIn(mid, first, last)
	}
	from, to = s.Window(first, last)
	if span := to - from; span < MinSpan || span >= 2*MinSpan {
		t.Fatalf("narrowest window %v", time.Duration(span))
	}
	if mid < from || mid >= to {
		t.Fatalf("zoom lost the centre: %d not in [%d,%d)", mid, from, to)
	}
	span := to - from
	s.ZoomIn(mid, first, last)
	if f, tt := s.Window(first, last); f != from || tt != to {
		t.Fatalf("zoom past MinSpan moved the window: %v", time.Duration(tt-f))
	}
	// Zooming out doubles and stays inside the data until it covers it.
	for i := 0; !s.Fit(); i++ {
		if i > 20 {
			t.Fatal("zoom out never reaches fit")
		}
		s.ZoomOut(first, last)
		f, tt := s.Window(first, last)
		if f < first || tt > end {
			t.Fatalf("zoom out left the data: [%d, %d)", f-first, tt-first)
		}
		if !s.Fit() && tt-f != 2*span {
			t.Fatalf("zoom out: span %v, want %v", time.Duration(tt-f), time.Duration(2*span))
		}
		span = tt - f
	}
	if from, to := s.Window(first, last); from != first || to != end {
		t.Fatalf("back to fit: [%d,%d)", from-first, to-first)
	}
	s.ZoomOut(first, last)
	if !s.Fit() {
		t.Fatal("zoom out of a fitting window zoomed")
	}
	// Zooming in at the edges clamps into the data.
	s.ZoomIn(first-int64(time.Hour), first, last)
	if from, to := s.Window(first, last); from != first || to != first+int64(30*time.Minute) {
		t.Fatalf("zoom at the start: [%v, %v)", time.Duration(from-first), time.Duration(to-first))
	}
	s.ResetZoom()
	s.ZoomIn(last, first, last)
	if from, to := s.Window(first, last); to != end || from != end-int64(30*time.Minute) {
		t.Fatalf("zoom at the end: [%v, %v)", time.Duration(from-first), time.Duration(to-first))
	}
	// Data narrower than MinSpan cannot be zoomed.
	var small State
	small.ZoomIn(first+1, first, first+int64(5*time.Second))
	if !small.Fit() {
		t.Error("zoomed into 5 s of data")
	}
}

func TestStateToggleMode(t *testing.T) {
	var s State
	if s.Mode != ByOutcome {
		t.Fatal("zero State is not ByOutcome")
	}
	s.ToggleMode()
	if s.Mode != ByVerbClass || s.Mode.String() != "verb" {
		t.Errorf("toggled to %v", s.Mode)
	}
	s.ToggleMode()
	if s.Mode != ByOutcome || s.Mode.String() != "outcome" {
		t.Errorf("toggled back to %v", s.Mode)
	}
}

func TestStateCursorAndSelection(t *testing.T) {
	h := handHist()
	step := h.Step
	var s State
	if s.Cursor() != -1 {
		t.Fatal("zero State has a cursor")
	}
	if s.MoveCursor(Histogram{}, 1) != -1 || s.Cursor() != -1 {
		t.Fatal("cursor on a histogram without buckets")
	}
	if got := s.MoveCursor(h, 1); got != h.From {
		t.Fatalf("first right: %d, want the first bucket", got-h.From)
	}
	if got := s.MoveCursor(h, 3); got != h.From+3*step || s.Cursor() != got {
		t.Fatalf("right 3: bucket %d", (got-h.From)/step)
	}
	if got := s.MoveCursor(h, 100); got != h.From+11*step {
		t.Fatalf("clamp right: bucket %d", (got-h.From)/step)
	}
	if got := s.MoveCursor(h, -100); got != h.From {
		t.Fatalf("clamp left: bucket %d", (got-h.From)/step)
	}
	var s2 State
	if got := s2.MoveCursor(h, -1); got != h.From+11*step {
		t.Fatalf("first left: bucket %d, want the last", (got-h.From)/step)
	}
	// A cursor outside the histogram (after zooming) enters from its side.
	s2.SetCursor(h.To + int64(time.Hour))
	if got := s2.MoveCursor(h, -1); got != h.From+11*step {
		t.Fatalf("from the right: bucket %d", (got-h.From)/step)
	}
	s2.SetCursor(h.From - 1)
	if got := s2.MoveCursor(h, 1); got != h.From {
		t.Fatalf("from the left: bucket %d", (got-h.From)/step)
	}
	// A cursor inside a bucket snaps to bucket starts as it moves.
	s2.SetCursor(h.From + 2*step + 17)
	if got := s2.MoveCursor(h, 0); got != h.From+2*step {
		t.Fatalf("snap: %d", got-h.From)
	}

	// Selection: anchor at bucket 4, cursor to 7, then back past the anchor to 2.
	var sel State
	sel.StartSelection()
	if _, _, ok := sel.Selection(h); ok || sel.Selecting() {
		t.Fatal("selection without a cursor")
	}
	sel.SetCursor(h.From + 4*step)
	sel.StartSelection()
	if from, to, ok := sel.Selection(h); !ok || from != h.From+4*step || to != h.From+5*step {
		t.Fatalf("anchor only: [%d,%d) %v", (from-h.From)/step, (to-h.From)/step, ok)
	}
	sel.MoveCursor(h, 3)
	if from, to, ok := sel.Selection(h); !ok || from != h.From+4*step || to != h.From+8*step {
		t.Fatalf("4..7: [%d,%d) %v", (from-h.From)/step, (to-h.From)/step, ok)
	}
	sel.MoveCursor(h, -5)
	if from, to, ok := sel.Selection(h); !ok || from != h.From+2*step || to != h.From+5*step {
		t.Fatalf("2..4: [%d,%d) %v", (from-h.From)/step, (to-h.From)/step, ok)
	}
	// Against a coarser histogram the selection covers whole buckets.
	coarse := Histogram{From: h.From, To: h.From + 12*step, Step: 5 * step, Counts: make([][3]uint32, 3)}
	if from, to, ok := sel.Selection(coarse); !ok || from != h.From || to != h.From+5*step {
		t.Fatalf("coarse: [%d,%d) %v", (from-h.From)/step, (to-h.From)/step, ok)
	}
	sel.ClearSelection()
	if _, _, ok := sel.Selection(h); ok || sel.Selecting() {
		t.Fatal("selection after ClearSelection")
	}
	if sel.Cursor() != h.From+2*step {
		t.Fatal("ClearSelection moved the cursor")
	}
	sel.StartSelection()
	sel.SetCursor(-1)
	if _, _, ok := sel.Selection(h); ok {
		t.Fatal("selection survived removing the cursor")
	}
}
