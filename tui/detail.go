package tui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"ktrail/audit"
	"ktrail/report"
	"ktrail/tui/jsonview"
)

// detailPane shows one event as foldable, coloured JSON.
type detailPane struct {
	open    bool
	mode    detailLayout
	id      uint32
	doc     *jsonview.Doc
	err     string
	top     int
	cursor  int
	xoff    int
	size    int
	lastH   int
	matches []int
	folded  bool
}

// show loads the event id into the pane (redacted unless --no-redact);
// the scroll position is kept when the same event is shown again.
func (d *detailPane) show(c *programContext, v *audit.View, id uint32) {
	if d.doc != nil && d.id == id {
		return
	}
	d.id, d.top, d.cursor, d.xoff, d.err, d.matches = id, 0, 0, 0, "", nil
	raw, err := c.store.Raw(v.Rec(id), nil)
	if err != nil {
		d.doc, d.err = nil, "cannot read the event: "+err.Error()
		return
	}
	d.size = len(raw)
	if raw, err = redactFor(c, raw); err != nil {
		d.doc, d.err = nil, err.Error()
		return
	}
	doc, err := jsonview.Parse(raw)
	if err != nil {
		d.doc, d.err = nil, err.Error()
		return
	}
	doc.FoldDefaults()
	d.doc = doc
}

func (m *Model) openDetail() {
	if !m.hasCursor {
		return
	}
	m.detail.open = true
	m.detail.doc = nil
	m.detail.show(m.ctx, m.view, m.cursorID)
	m.focus = focusDetail
	m.clampScroll()
}

func (m *Model) closeDetail() {
	m.detail.open = false
	m.detail.doc = nil
	m.focus = focusList
	m.clampScroll()
}

func (d *detailPane) styles(c *programContext) jsonview.Styles {
	st := c.styles
	return jsonview.Styles{Key: st.JSONKey, String: st.JSONString, Number: st.JSONNumber, Bool: st.JSONBool,
		Null: st.JSONNull, Punct: st.JSONPunct, Folded: st.JSONFolded, Redacted: st.JSONRedacted, Match: st.Match, Cursor: st.RowSelected}
}

// title is the line above the pane: path under the cursor and hints.
func (d *detailPane) title(c *programContext, w int, note string) string {
	s := fmt.Sprintf("─ event %s", humanBytes(int64(d.size)))
	if note != "" {
		s += " · ● " + audit.Sanitize(note)
	}
	if d.doc != nil {
		if p := d.doc.PathAt(d.cursor); p != "" {
			s += " · " + audit.Sanitize(p)
		}
		s += fmt.Sprintf(" · line %d/%d", d.cursor+1, d.doc.Lines())
	}
	s += " · Enter fold · Z all · z layout · Esc close "
	return fit(s+strings.Repeat("─", max(0, w)), w, false)
}

// render returns exactly h lines of w cells.
func (d *detailPane) render(c *programContext, w, h int, focused bool) []string {
	d.lastH = h
	lines := make([]string, 0, h)
	if d.doc == nil {
		msg := d.err
		if msg == "" {
			msg = "no event"
		}
		lines = append(lines, padLine(c.styles.Error.Render(audit.Sanitize(msg)), w))
	} else {
		cur := d.cursor
		if !focused {
			cur = -1
		}
		lines = append(lines, d.doc.Render(d.styles(c), d.top, h, w, d.xoff, cur)...)
	}
	for len(lines) < h {
		lines = append(lines, strings.Repeat(" ", w))
	}
	return lines[:h]
}

// scroll moves the cursor line by delta and keeps it visible.
func (d *detailPane) scroll(delta, h int) {
	if d.doc == nil {
		return
	}
	d.cursor = max(0, min(d.doc.Lines()-1, d.cursor+delta))
	d.keepVisible(h)
}

func (d *detailPane) keepVisible(h int) {
	h = max(1, h)
	if d.cursor < d.top {
		d.top = d.cursor
	}
	if d.cursor >= d.top+h {
		d.top = d.cursor - h + 1
	}
	d.top = max(0, min(d.top, max(0, d.doc.Lines()-h)))
}

func (d *detailPane) clickLine(y int) {
	if d.doc == nil {
		return
	}
	line := d.top + y
	if line == d.cursor {
		d.doc.Toggle(line)
	}
	d.cursor = max(0, min(d.doc.Lines()-1, line))
}

// detailKey handles keys while the detail pane has the focus.
func (m *Model) detailKey(msg tea.KeyPressMsg) tea.Cmd {
	k := m.ctx.keys
	d := &m.detail
	if d.doc == nil {
		if key.Matches(msg, k.Clear) {
			m.closeDetail()
		}
		return nil
	}
	h := m.layout().detailH
	switch {
	case key.Matches(msg, k.Down):
		d.scroll(1, h)
	case key.Matches(msg, k.Up):
		d.scroll(-1, h)
	case key.Matches(msg, k.PageDown):
		d.scroll(h-1, h)
	case key.Matches(msg, k.PageUp):
		d.scroll(-(h - 1), h)
	case key.Matches(msg, k.Top):
		d.scroll(-d.doc.Lines(), h)
	case key.Matches(msg, k.Bottom):
		d.scroll(d.doc.Lines(), h)
	case key.Matches(msg, k.Left):
		d.xoff = max(0, d.xoff-8)
	case key.Matches(msg, k.Right):
		d.xoff += 8
	case key.Matches(msg, k.Open):
		d.doc.Toggle(d.cursor)
		d.keepVisible(h)
	case key.Matches(msg, k.Fold):
		d.folded = !d.folded
		if d.folded {
			d.doc.FoldAll()
		} else {
			d.doc.UnfoldAll()
		}
		d.cursor = min(d.cursor, d.doc.Lines()-1)
		d.keepVisible(h)
	case key.Matches(msg, k.Clear):
		m.closeDetail()
	case msg.String() == "J":
		m.moveTo(m.cursor + 1)
	case msg.String() == "K":
		m.moveTo(m.cursor - 1)
	}
	return nil
}

// findInDetail moves the detail cursor to the next line holding the
// search text.
func (d *detailPane) find(text string, dir, h int) bool {
	if d.doc == nil || text == "" {
		return false
	}
	d.matches = d.doc.Search(text)
	if len(d.matches) == 0 {
		return false
	}
	next := -1
	if dir > 0 {
		for _, l := range d.matches {
			if l > d.cursor {
				next = l
				break
			}
		}
		if next < 0 {
			next = d.matches[0]
		}
	} else {
		for i := len(d.matches) - 1; i >= 0; i-- {
			if d.matches[i] < d.cursor {
				next = d.matches[i]
				break
			}
		}
		if next < 0 {
			next = d.matches[len(d.matches)-1]
		}
	}
	d.cursor = next
	d.keepVisible(h)
	return true
}

// redactFor masks Secret values and tokens unless --no-redact. An event
// that cannot be redacted is not shown at all: failing open would leak.
func redactFor(c *programContext, raw []byte) ([]byte, error) {
	if !c.opts.Redact {
		return raw, nil
	}
	red, _, err := report.RedactAuto(raw)
	if err != nil {
		return nil, fmt.Errorf("cannot redact this event, so it is not shown (--no-redact shows it): %v", err)
	}
	return red, nil
}
