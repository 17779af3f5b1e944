package timeline

import "time"

// MinSpan is the narrowest window ZoomIn goes to.
const MinSpan = int64(10 * time.Second)

// State is the timeline's interaction state kept by the TUI model: the
// visible window, the mode, the bucket cursor and the selection anchor.
// The zero value fits the window to the data, counts by outcome and has
// no cursor and no selection. Times are Unix ns; the cursor and anchor
// are times, so they survive rebuilding the histogram with another step.
type State struct {
	// From and To are the zoomed window [From, To); both 0 means the
	// window fits the data.
	From, To int64
	// Mode is how buckets are split into classes.
	Mode Mode

	cursor    int64
	hasCursor bool
	anchor    int64
	selecting bool
}

// Window returns the visible range [from, to): the full data range
// [first, last] (to is last+1, so the last event is included) unless
// zoomed.
func (s *State) Window(first, last int64) (from, to int64) {
	if s.Fit() {
		return first, last + 1
	}
	return s.From, s.To
}

// Fit reports whether the window fits the data (not zoomed).
func (s *State) Fit() bool { return s.To <= s.From }

// ZoomIn halves the visible range, keeping center (clamped into the
// window) at the same relative position, and never narrower than
// MinSpan; the window is then kept inside the data range [first, last].
func (s *State) ZoomIn(center int64, first, last int64) {
	from, to := s.Window(first, last)
	span := to - from
	ns := max(span/2, MinSpan)
	if ns >= span {
		return
	}
	center = min(max(center, from), to-1)
	nf := center - int64(float64(center-from)*float64(ns)/float64(span))
	s.set(nf, nf+ns, first, last)
}

// ZoomOut doubles the visible range around its middle, clamped to the
// data range; once it covers all of the data the window fits it again.
func (s *State) ZoomOut(first, last int64) {
	if s.Fit() {
		return
	}
	from, to := s.Window(first, last)
	span := to - from
	nf := from - span/2
	s.set(nf, nf+2*span, first, last)
}

// set makes [from, to) the window, shifted inside the data range
// [first, last]; a window as wide as the data becomes "fit".
func (s *State) set(from, to, first, last int64) {
	end := last + 1
	if to-from >= end-first {
		s.From, s.To = 0, 0
		return
	}
	if from < first {
		from, to = first, to+(first-from)
	}
	if to > end {
		from, to = from-(to-end), end
	}
	s.From, s.To = from, to
}

// ResetZoom makes the window fit the data again.
func (s *State) ResetZoom() { s.From, s.To = 0, 0 }

// ToggleMode switches between ByOutcome and ByVerbClass.
func (s *State) ToggleMode() {
	if s.Mode == ByOutcome {
		s.Mode = ByVerbClass
	} else {
		s.Mode = ByOutcome
	}
}

// Cursor returns the cursor's time (the start of the bucket it was put
// on), or -1 when there is no cursor.
func (s *State) Cursor() int64 {
	if !s.hasCursor {
		return -1
	}
	return s.cursor
}

// SetCursor puts the cursor on time t (e.g. a bucket start from
// Histogram.BucketAt after a mouse click); a negative t removes it.
func (s *State) SetCursor(t int64) {
	s.cursor, s.hasCursor = t, t >= 0
	if !s.hasCursor {
		s.selecting = false
	}
}

// MoveCursor moves the bucket cursor by delta buckets of h, clamped to
// its buckets, and returns the start time of the bucket it lands on. A
// missing cursor appears on the first bucket (delta > 0) or the last
// (delta ≤ 0); a cursor outside h starts from the nearer end. It returns
// -1 when h has no buckets.
func (s *State) MoveCursor(h Histogram, delta int) int64 {
	n := len(h.Counts)
	if n == 0 || h.Step <= 0 {
		return -1
	}
	var x int
	switch {
	case !s.hasCursor && delta > 0:
		x = 0
	case !s.hasCursor:
		x = n - 1
	case s.cursor < h.From:
		x = delta - 1
	case s.cursor >= h.To:
		x = n + delta
	default:
		x = h.XOf(s.cursor) + delta
	}
	x = min(max(x, 0), n-1)
	s.cursor, s.hasCursor = h.From+int64(x)*h.Step, true
	return s.cursor
}

// StartSelection anchors a selection at the cursor's bucket; the
// selection then spans from the anchor to the cursor as it moves. It
// does nothing without a cursor.
func (s *State) StartSelection() {
	if s.hasCursor {
		s.anchor, s.selecting = s.cursor, true
	}
}

// Selecting reports whether a selection is active.
func (s *State) Selecting() bool { return s.selecting && s.hasCursor }

// Selection returns the selected range [from, to): the buckets of h from
// the anchor's to the cursor's, both included, in either order.
func (s *State) Selection(h Histogram) (from, to int64, ok bool) {
	if !s.Selecting() || h.Step <= 0 {
		return 0, 0, false
	}
	lo, hi := min(s.anchor, s.cursor), max(s.anchor, s.cursor)
	align := func(t int64) int64 { return h.From + floorDiv(t-h.From, h.Step)*h.Step }
	return align(lo), align(hi) + h.Step, true
}

// ClearSelection ends the selection; the cursor stays.
func (s *State) ClearSelection() { s.selecting = false }
