package tui

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"ktrail/audit"
	"ktrail/tui/history"
)

// sideKind is what the side pane follows.
type sideKind int

const (
	sideObject  sideKind = iota // o: an object's requests and state diffs
	sideUser                    // u: a user's activity over time
	sideRequest                 // a: the stages of one request
)

// sidePane shows a history document (object, user or request) in the
// detail pane's place. The document is computed off the render path.
type sidePane struct {
	open   bool
	kind   sideKind
	name   string
	doc    []history.Line
	busy   bool
	err    string
	seq    int
	top    int
	cursor int
	xoff   int
}

// sideMsg carries a computed document.
type sideMsg struct {
	seq int
	doc []history.Line
	err error
}

func (m *Model) closeSide() {
	if m.side.open {
		m.side.open = false
		m.focus = focusList
		m.clampScroll()
	}
}

// openSide shows the pane and starts computing its document with fn.
func (m *Model) openSide(kind sideKind, name string, fn func(ctx context.Context) ([]history.Line, error)) tea.Cmd {
	m.closeDetail()
	m.pivot.open = false
	s := &m.side
	s.seq++
	*s = sidePane{open: true, kind: kind, name: name, busy: true, seq: s.seq}
	m.focus = focusDetail
	m.clampScroll()
	seq := s.seq
	return func() tea.Msg {
		doc, err := fn(context.Background())
		return sideMsg{seq: seq, doc: doc, err: err}
	}
}

func (m *Model) onSide(msg sideMsg) {
	s := &m.side
	if msg.seq != s.seq {
		return
	}
	s.busy = false
	if msg.err != nil {
		s.err = msg.err.Error()
		return
	}
	s.doc = msg.doc
	m.syncSide()
}

// followObject is o: the cursor event's object, every event about it as
// the filter, and its history with diffs in the side pane.
func (m *Model) followObject() tea.Cmd {
	if !m.hasCursor {
		return nil
	}
	o, ok := history.ObjectOf(m.ctx.store, m.view.Rec(m.cursorID))
	if !ok {
		m.setStatus("this event names no object (no resource and name)", true)
		return nil
	}
	cmd := m.replaceFilter(o.Filter())
	st, redact, now := m.ctx.store, m.ctx.opts.Redact, m.ctx.opts.Now
	loc := m.ctx.loc()
	return tea.Batch(cmd, m.openSide(sideObject, o.String(), func(ctx context.Context) ([]history.Line, error) {
		v := st.View()
		ids, err := history.Eval(ctx, st, v, o.Filter(), now)
		if err != nil {
			return nil, err
		}
		ch, err := history.ObjectHistory(ctx, st, v, ids, history.Options{Redact: redact})
		if err != nil {
			return nil, err
		}
		return history.ObjectDoc(o, ch, loc), nil
	}))
}

// followUser is u: the cursor event's user as the filter, and their
// activity per time bucket and verb in the side pane.
func (m *Model) followUser() tea.Cmd {
	if !m.hasCursor {
		return nil
	}
	user := m.ctx.store.Str(m.view.Rec(m.cursorID).User)
	cmd := m.replaceFilter(history.UserFilter(user))
	st, now, loc := m.ctx.store, m.ctx.opts.Now, m.ctx.loc()
	return tea.Batch(cmd, m.openSide(sideUser, user, func(ctx context.Context) ([]history.Line, error) {
		v := st.View()
		ids, err := history.Eval(ctx, st, v, history.UserFilter(user), now)
		if err != nil {
			return nil, err
		}
		return history.UserDoc(history.UserActivity(st, v, ids, user), loc), nil
	}))
}

// followRequest is a: the stages of the cursor event's request as the
// filter, joined in the side pane with their timings.
func (m *Model) followRequest() tea.Cmd {
	if !m.hasCursor {
		return nil
	}
	r := m.view.Rec(m.cursorID)
	raw, err := m.ctx.store.Raw(r, nil)
	if err != nil {
		m.setStatus("reading the event: "+err.Error(), true)
		return nil
	}
	e, err := audit.DecodeEvent(raw)
	if err != nil || e.AuditID == "" {
		m.setStatus("this event has no auditID", true)
		return nil
	}
	s := m.ctx.store
	// The indexed conditions go first so that only the request's own
	// events are read for their auditID.
	expr := "verb == " + strconv.Quote(s.Str(r.Verb)) + " && user == " + strconv.Quote(s.Str(r.User)) +
		" && auditID == " + strconv.Quote(e.AuditID)
	cmd := m.replaceFilter(expr)
	v, id, redact, loc := m.view, m.cursorID, m.ctx.opts.Redact, m.ctx.loc()
	return tea.Batch(cmd, m.openSide(sideRequest, e.AuditID, func(ctx context.Context) ([]history.Line, error) {
		ids, err := history.RequestIDs(ctx, v, id)
		if err != nil {
			return nil, err
		}
		q, err := history.JoinRequest(s, v, ids, redact)
		if err != nil {
			return nil, err
		}
		return history.RequestDoc(q, loc), nil
	}))
}

// replaceFilter makes expr the filter as a new step (Esc undoes it).
func (m *Model) replaceFilter(expr string) tea.Cmd {
	if expr == m.filterSrc {
		return nil
	}
	if err := m.setFilter(expr); err != nil {
		m.setStatus(err.Error(), true)
		return nil
	}
	m.tl.state.ResetZoom()
	m.follow = false
	return m.evalCmd()
}

// syncSide scrolls the pane to the entry of the list's cursor event (the
// same request).
func (m *Model) syncSide() {
	s := &m.side
	if !s.open || !m.hasCursor || len(s.doc) == 0 {
		return
	}
	h := m.view.Rec(m.cursorID).AuditID
	for i, l := range s.doc {
		if l.HasID && int(l.ID) < m.view.NumRecs() && m.view.Rec(l.ID).AuditID == h {
			s.cursor = i
			s.top = i
			s.keepVisible(m.layout().detailH)
			return
		}
	}
}

func (s *sidePane) keepVisible(h int) {
	h = max(1, h)
	s.cursor = max(0, min(s.cursor, len(s.doc)-1))
	if s.cursor < s.top {
		s.top = s.cursor
	}
	if s.cursor >= s.top+h {
		s.top = s.cursor - h + 1
	}
	s.top = max(0, min(s.top, max(0, len(s.doc)-h)))
}

// sideKey handles the keys of the side pane when it has the focus.
func (m *Model) sideKey(msg tea.KeyPressMsg) tea.Cmd {
	k := m.ctx.keys
	s := &m.side
	h := m.layout().detailH
	switch {
	case key.Matches(msg, k.Down):
		s.cursor++
	case key.Matches(msg, k.Up):
		s.cursor--
	case key.Matches(msg, k.PageDown):
		s.cursor += h - 1
	case key.Matches(msg, k.PageUp):
		s.cursor -= h - 1
	case key.Matches(msg, k.Top):
		s.cursor = 0
	case key.Matches(msg, k.Bottom):
		s.cursor = len(s.doc) - 1
	case key.Matches(msg, k.Left):
		s.xoff = max(0, s.xoff-8)
	case key.Matches(msg, k.Right):
		s.xoff += 8
	case key.Matches(msg, k.Open):
		// Go to the event of the line in the list.
		if s.cursor < len(s.doc) && s.doc[s.cursor].HasID {
			if i, ok := m.rows.find(s.doc[s.cursor].ID); ok {
				m.follow = false
				m.moveTo(i)
			}
		}
	case key.Matches(msg, k.Clear):
		m.closeSide()
		return nil
	case msg.String() == "J":
		m.moveTo(m.cursor + 1)
		m.syncSide()
	case msg.String() == "K":
		m.moveTo(m.cursor - 1)
		m.syncSide()
	}
	s.keepVisible(h)
	return nil
}

// sideTitle is the line above the pane.
func (s *sidePane) title(w int) string {
	what := map[sideKind]string{sideObject: "object history", sideUser: "user activity", sideRequest: "request"}[s.kind]
	t := "─ " + what + " · " + audit.Sanitize(s.name)
	if len(s.doc) > 0 {
		t += fmt.Sprintf(" · line %d/%d", s.cursor+1, len(s.doc))
	}
	t += " · Enter go to event · J/K list · Esc close "
	return fit(t+strings.Repeat("─", max(0, w)), w, false)
}

// render returns exactly h lines of w cells.
func (s *sidePane) render(c *programContext, w, h int, focused bool) []string {
	st := c.styles
	lines := make([]string, 0, h)
	switch {
	case s.err != "":
		lines = append(lines, padLine(st.Error.Render(audit.Sanitize(s.err)), w))
	case s.busy:
		lines = append(lines, padLine(st.Muted.Render("reading the events…"), w))
	}
	for i := s.top; i < len(s.doc) && len(lines) < h; i++ {
		l := s.doc[i]
		text := l.Text
		if s.xoff > 0 {
			text = ansi.TruncateLeft(text, s.xoff, "")
		}
		text = fit(text, w, false)
		if focused && i == s.cursor {
			lines = append(lines, st.RowSelected.Render(text))
			continue
		}
		lines = append(lines, sideStyle(c, l.Kind).Render(text))
	}
	for len(lines) < h {
		lines = append(lines, strings.Repeat(" ", w))
	}
	return lines[:h]
}

// sideStyle maps a document line kind to a style.
func sideStyle(c *programContext, k history.Kind) lipgloss.Style {
	st := c.styles
	switch k {
	case history.Title:
		return st.TitleFocused
	case history.Head:
		return st.Title
	case history.Meta:
		return st.Muted
	case history.Hunk:
		return st.JSONKey
	case history.Add:
		return st.Code2xx
	case history.Del:
		return st.VerbDelete
	case history.Warn:
		return st.Warning
	case history.Patch:
		return st.JSONString
	}
	return st.Row
}
