package tui

import (
	"slices"
	"time"

	tea "charm.land/bubbletea/v2"

	"ktrail/audit"
	"ktrail/report"
)

// markSet is the marked events with their notes, and the marks restored
// from the session whose events are not indexed (yet).
type markSet struct {
	notes   map[uint32]string             // marked event → note ("" none)
	ids     map[uint32]report.SessionMark // how each mark is saved
	pending []report.SessionMark
	version int // changes with every mark or note, for the row cache
}

func newMarkSet(s *report.Session) markSet {
	ms := markSet{notes: map[uint32]string{}, ids: map[uint32]report.SessionMark{}}
	if s != nil {
		ms.pending = slices.Clone(s.Marks)
	}
	return ms
}

func (s *markSet) has(id uint32) bool { _, ok := s.notes[id]; return ok }

// resolve finds the pending marks' events in v.
func (s *markSet) resolve(st *audit.Store, v *audit.View) {
	if len(s.pending) == 0 {
		return
	}
	sess := report.Session{Marks: s.pending}
	found, missing := sess.ResolveMarks(st, v)
	if len(found) == 0 {
		return
	}
	// ResolveMarks keeps the order of the marks: walk them again to
	// pair each found event with its saved mark.
	fi, mi := 0, 0
	for _, pm := range s.pending {
		if mi < len(missing) && missing[mi] == pm {
			mi++
			continue
		}
		if fi < len(found) {
			f := found[fi]
			fi++
			s.notes[f.ID], s.ids[f.ID] = f.Note, pm
		}
	}
	s.pending = missing
	s.version++
}

// toggleMark marks the cursor event, or unmarks it.
func (m *Model) toggleMark() {
	if !m.hasCursor {
		return
	}
	ms := &m.marks
	id := m.cursorID
	if ms.has(id) {
		delete(ms.notes, id)
		delete(ms.ids, id)
		m.setStatus("unmarked", false)
	} else {
		sm, err := report.MarkFor(m.ctx.store, m.view.Rec(id), "")
		if err != nil {
			m.setStatus("cannot mark this event: "+err.Error(), true)
			return
		}
		ms.notes[id], ms.ids[id] = "", sm
		m.setStatus("marked · M adds a note · ' and \" jump between marks", false)
	}
	ms.version++
	m.clampScroll()
	m.saveSession()
}

// noteKey is M: ask for the cursor event's note.
func (m *Model) noteKey() tea.Cmd {
	if !m.hasCursor {
		return nil
	}
	return m.prompt.open(promptNote, "note> ", m.marks.notes[m.cursorID])
}

// setNote marks the cursor event (if it is not) with the note.
func (m *Model) setNote(note string) {
	if !m.hasCursor {
		return
	}
	ms := &m.marks
	id := m.cursorID
	sm, ok := ms.ids[id]
	if !ok {
		var err error
		if sm, err = report.MarkFor(m.ctx.store, m.view.Rec(id), note); err != nil {
			m.setStatus("cannot mark this event: "+err.Error(), true)
			return
		}
	}
	sm.Note = note
	ms.notes[id], ms.ids[id] = note, sm
	ms.version++
	m.clampScroll()
	m.saveSession()
}

// jumpMark moves to the next (dir 1) or previous (-1) marked row,
// wrapping around.
func (m *Model) jumpMark(dir int) {
	n := m.rows.Len()
	best, wrap := -1, -1
	for id := range m.marks.notes {
		i, ok := m.rows.find(id)
		if !ok {
			continue
		}
		if dir > 0 {
			if i > m.cursor && (best < 0 || i < best) {
				best = i
			}
			if wrap < 0 || i < wrap {
				wrap = i
			}
		} else {
			if i < m.cursor && (best < 0 || i > best) {
				best = i
			}
			if wrap < 0 || i > wrap {
				wrap = i
			}
		}
	}
	switch {
	case n == 0 || wrap < 0:
		m.setStatus("no marked event among these rows (m marks one)", true)
		return
	case best < 0:
		best = wrap
		m.setStatus("marks wrapped around", false)
	}
	m.follow = false
	m.moveTo(best)
}

// session is the state OnSession keeps.
func (m *Model) session() *report.Session {
	s := &report.Session{Version: report.SessionVersion, Filter: m.filterSrc}
	if o := m.ctx.opts.Session; o != nil {
		s.Input = o.Input
	}
	if !m.tl.state.Fit() {
		s.From = time.Unix(0, m.tl.state.From).UTC().Format(time.RFC3339Nano)
		s.To = time.Unix(0, m.tl.state.To).UTC().Format(time.RFC3339Nano)
	}
	for _, sm := range m.marks.ids {
		s.Marks = append(s.Marks, sm)
	}
	s.Marks = append(s.Marks, m.marks.pending...)
	slices.SortFunc(s.Marks, func(a, b report.SessionMark) int {
		if c := a.Time.Compare(b.Time); c != 0 {
			return c
		}
		if a.AuditID != b.AuditID {
			if a.AuditID < b.AuditID {
				return -1
			}
			return 1
		}
		if a.Stage < b.Stage {
			return -1
		}
		if a.Stage > b.Stage {
			return 1
		}
		return 0
	})
	return s
}

// saveSession hands the session to OnSession, when there is one.
func (m *Model) saveSession() {
	if f := m.ctx.opts.OnSession; f != nil && m.started {
		f(m.session())
	}
}

// restoreWindow sets the timeline's window from a session or view's
// From and To (RFC 3339, or a duration before now); both must be set.
func (m *Model) restoreWindow(from, to string) {
	if from == "" || to == "" {
		return
	}
	parse := func(s string) (int64, bool) {
		if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
			return t.UnixNano(), true
		}
		if d, err := time.ParseDuration(s); err == nil {
			return m.ctx.now().Add(-d).UnixNano(), true
		}
		return 0, false
	}
	a, ok1 := parse(from)
	b, ok2 := parse(to)
	if ok1 && ok2 && b > a {
		m.tl.state.From, m.tl.state.To = a, b
	}
}

// markedList returns the marks in the view for a report.
func (m *Model) markedList() []report.Mark {
	out := make([]report.Mark, 0, len(m.marks.notes))
	for id, note := range m.marks.notes {
		out = append(out, report.Mark{ID: id, Note: note})
	}
	slices.SortFunc(out, func(a, b report.Mark) int { return m.view.Compare(a.ID, b.ID) })
	return out
}

// noteOf is what the detail pane's title says of a marked event: its
// note, or "marked"; "" for an unmarked event.
func (m *Model) noteOf(id uint32) string {
	note, ok := m.marks.notes[id]
	switch {
	case !ok:
		return ""
	case note == "":
		return "marked"
	}
	return note
}
