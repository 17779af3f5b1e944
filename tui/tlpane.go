package tui

import (
	"context"
	"strconv"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"ktrail/tui/timeline"
)

// timelinePane holds the histogram of the matching events and the
// timeline's interaction state. The histogram is built off the render
// path and at most a few times a second while events stream in.
type timelinePane struct {
	state     timeline.State
	hist      timeline.Histogram
	busy      bool
	dirty     bool
	built     time.Time
	seq       int
	shown     int // seq of the histogram in hist
	selecting bool
	cache     string
	cacheKey  tlKey
	gaps      timeline.Gaps // silent periods of the rows (all of them, not just the window)
	gapsGen   int           // the rows generation gaps were found for
}

// histMsg carries a built histogram, and the gaps when they were found
// again.
type histMsg struct {
	seq     int
	hist    timeline.Histogram
	gaps    *timeline.Gaps
	gapsGen int
}

// histCmd rebuilds the histogram when the rows changed (force: now;
// otherwise at most four times a second).
func (m *Model) histCmd(force bool) tea.Cmd {
	t := &m.tl
	lay := m.layout()
	if lay.tlH == 0 {
		return nil
	}
	if force {
		t.dirty = true
	}
	if t.busy || !t.dirty || (!force && time.Since(t.built) < 250*time.Millisecond) {
		return nil
	}
	t.busy, t.dirty = true, false
	t.seq++
	s, v, r, seq, mode := m.ctx.store, m.view, m.rows.timelineRows(), t.seq, t.state.Mode
	st := t.state
	width := lay.width
	gen, gaps := m.rowsGen, t.gaps
	needGaps := t.gapsGen != gen
	return func() tea.Msg {
		msg := histMsg{seq: seq, gapsGen: gen}
		if needGaps {
			g, err := timeline.FindGaps(context.Background(), v, r, 0)
			if err == nil {
				msg.gaps, gaps = &g, g
			}
		}
		first, last, ok := timeline.Bounds(v, r)
		if !ok {
			return msg
		}
		from, to := st.Window(first, last)
		h, err := timeline.Build(context.Background(), s, v, r, from, to, width, mode)
		if err != nil {
			return msg
		}
		h.Gaps = gaps.List
		msg.hist = h
		return msg
	}
}

func (m *Model) onHist(msg histMsg) tea.Cmd {
	t := &m.tl
	t.busy = false
	t.built = time.Now()
	if msg.gaps != nil {
		t.gaps, t.gapsGen = *msg.gaps, msg.gapsGen
	}
	if msg.seq == t.seq {
		t.hist, t.shown = msg.hist, msg.seq
	}
	if t.dirty {
		// The rows changed while this one was being built (a new filter):
		// build again now rather than at the next tick.
		return m.histCmd(true)
	}
	return nil
}

// render draws the timeline in w×h cells.
func (t *timelinePane) render(c *programContext, w, h int, cursorTime int64) string {
	st := c.styles
	sty := timeline.Styles{
		Axis: st.TimelineAxis, Label: st.TimelineLabel, Cursor: st.TimelineCursor,
		Selection: st.TimelineSelection, Empty: st.TimelineEmpty, Gap: st.Warning,
	}
	sty.Stack[timeline.ByOutcome] = [3]lipgloss.Style{st.TimelineOK, st.Timeline4xx, st.Timeline5xx}
	sty.Stack[timeline.ByVerbClass] = [3]lipgloss.Style{st.TimelineRead, st.TimelineWrite, st.TimelineDelete}
	selFrom, selTo := int64(-1), int64(-1)
	if a, b, ok := t.state.Selection(t.hist); ok {
		selFrom, selTo = a, b
	}
	if tc := t.state.Cursor(); tc >= 0 && t.selecting {
		cursorTime = tc
	}
	k := tlKey{seq: t.shown, w: w, h: h, x: t.hist.XOf(cursorTime), selFrom: selFrom, selTo: selTo, styles: st}
	if k.x < 0 {
		k.x = -1
	}
	if t.cacheKey != k || t.cache == "" {
		t.cache = timeline.Render(t.hist, sty, w, h, cursorTime, selFrom, selTo, c.opts.UTC)
		t.cacheKey = k
	}
	return t.cache
}

// tlKey is what a rendered timeline depends on: redrawing it only when
// one of these changes keeps scrolling cheap.
type tlKey struct {
	seq, w, h, x   int
	selFrom, selTo int64
	styles         any
}

// timelineKey handles the timeline's keys: ←/→ move its cursor (and the
// list with it), ] / [ zoom, b switches the stacking, v selects a span and
// Enter makes the span a time filter.
func (m *Model) timelineKey(msg tea.KeyPressMsg) tea.Cmd {
	k := m.ctx.keys
	t := &m.tl
	first, last, ok := timeline.Bounds(m.view, m.rows.timelineRows())
	switch {
	case key.Matches(msg, k.ZoomIn):
		if ok {
			c := m.cursorTime()
			if c < 0 {
				c = (first + last) / 2
			}
			t.state.ZoomIn(c, first, last)
		}
		return m.histCmd(true)
	case key.Matches(msg, k.ZoomOut):
		if ok {
			t.state.ZoomOut(first, last)
		}
		return m.histCmd(true)
	case key.Matches(msg, k.StackMode):
		t.state.ToggleMode()
		return m.histCmd(true)
	case key.Matches(msg, k.Left), key.Matches(msg, k.Right), key.Matches(msg, k.Up), key.Matches(msg, k.Down):
		delta := 1
		if key.Matches(msg, k.Left) || key.Matches(msg, k.Up) {
			delta = -1
		}
		if t.state.Cursor() < 0 && m.cursorTime() >= 0 {
			t.state.SetCursor(m.cursorTime())
		}
		if at := t.state.MoveCursor(t.hist, delta); at >= 0 {
			m.follow = false
			m.moveTo(m.rows.searchTime(at))
		}
		t.selecting = true
	case key.Matches(msg, k.Select):
		if t.state.Cursor() < 0 && m.cursorTime() >= 0 {
			t.state.SetCursor(m.cursorTime())
			t.state.MoveCursor(t.hist, 0)
		}
		t.state.StartSelection()
		t.selecting = true
	case key.Matches(msg, k.Open):
		if from, to, ok := t.state.Selection(t.hist); ok {
			t.state.ClearSelection()
			t.selecting = false
			return m.addClause(spanClause(from, to))
		}
	case key.Matches(msg, k.Clear):
		if t.state.Selecting() {
			t.state.ClearSelection()
			return nil
		}
		return m.clearStep()
	}
	return nil
}

// spanClause is the filter for the time span [from, to).
func spanClause(from, to int64) string {
	f := func(t int64) string { return strconv.Quote(time.Unix(0, t).UTC().Format(time.RFC3339Nano)) }
	return "since(" + f(from) + ") && before(" + f(to) + ")"
}

// addClause ANDs a clause to the filter as a new step.
func (m *Model) addClause(clause string) tea.Cmd {
	src := clause
	if m.filterSrc != "" {
		src = "(" + m.filterSrc + ") && " + clause
	}
	if err := m.setFilter(src); err != nil {
		m.setStatus(err.Error(), true)
		return nil
	}
	m.tl.state.ResetZoom()
	return m.evalCmd()
}
