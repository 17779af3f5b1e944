package tui

import (
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"ktrail/audit"
)

// pivotView is the pivot table (p): the matching events grouped by one or
// two fields, in place of the event list.
type pivotView struct {
	open        bool
	spec        pivotSpec
	sortBy      int
	desc        bool
	groups      []pivotGroup
	order       []int32
	total       int
	from, to    int64
	busy        bool
	seq         int // of the last computation started
	sortSeq     int
	rowsGen     int // the rows the groups were computed from
	at          time.Time
	cursor, top int
}

// openPivot shows the pivot grouped by the focused column's field.
func (m *Model) openPivot() tea.Cmd {
	f := 0
	if cols := m.visibleColumns(); m.col < len(cols) {
		name := cols[m.col].name
		if name == "namespace/name" {
			name = "namespace"
		}
		if i := pivotFieldIndex(m.pivotFields, name); i >= 0 {
			f = i
		}
	}
	m.closeDetail()
	m.closeSide()
	m.pivot.open = true
	m.pivot.spec = pivotSpec{f1: f, f2: -1}
	m.pivot.cursor, m.pivot.top = 0, 0
	return m.pivotCmd()
}

func (m *Model) onPivot(msg pivotMsg) tea.Cmd {
	p := &m.pivot
	if msg.seq != p.seq {
		return nil
	}
	p.busy = false
	p.groups, p.order, p.total, p.from, p.to, p.rowsGen = msg.groups, msg.order, msg.total, msg.from, msg.to, msg.rowsGen
	p.at = time.Now()
	p.cursor = max(0, min(p.cursor, len(p.order)-1))
	if p.open && msg.rowsGen != m.rowsGen {
		return m.pivotCmd() // the rows changed meanwhile
	}
	if msg.sortBy != p.sortBy || msg.desc != p.desc {
		p.sortSeq++
		return m.resortCmd()
	}
	return nil
}

func (m *Model) onPivotSort(msg pivotSortMsg) {
	if msg.seq == m.pivot.sortSeq && len(msg.order) == len(m.pivot.groups) {
		m.pivot.order = msg.order
	}
}

// refreshPivot recomputes an open pivot whose rows changed (a new filter
// now, live events at most once a second).
func (m *Model) refreshPivot(force bool) tea.Cmd {
	p := &m.pivot
	if !p.open || p.busy || p.rowsGen == m.rowsGen || (!force && time.Since(p.at) < time.Second) {
		return nil
	}
	return m.pivotCmd()
}

// pivotKey handles the pivot's keys; handled is false for keys the pivot
// leaves to the rest of the program.
func (m *Model) pivotKey(msg tea.KeyPressMsg) (cmd tea.Cmd, handled bool) {
	k := m.ctx.keys
	p := &m.pivot
	page := max(1, m.layout().listRows-3)
	n := len(p.order)
	move := func(i int) { p.cursor = max(0, min(i, n-1)) }
	nf := len(m.pivotFields)
	switch {
	case key.Matches(msg, k.Down):
		move(p.cursor + 1)
	case key.Matches(msg, k.Up):
		move(p.cursor - 1)
	case key.Matches(msg, k.PageDown):
		move(p.cursor + page)
	case key.Matches(msg, k.PageUp):
		move(p.cursor - page)
	case key.Matches(msg, k.Top):
		move(0)
	case key.Matches(msg, k.Bottom):
		move(n - 1)
	case key.Matches(msg, k.Left), key.Matches(msg, k.Right):
		d := 1
		if key.Matches(msg, k.Left) {
			d = nf - 1
		}
		f := (p.spec.f1 + d) % nf
		if f == p.spec.f2 {
			f = (f + d) % nf
		}
		p.spec.f1 = f
		p.cursor, p.top = 0, 0
		return m.pivotCmd(), true
	case key.Matches(msg, k.Focus):
		f := p.spec.f2 + 1
		if f == p.spec.f1 {
			f++
		}
		if f >= nf {
			f = -1
		}
		p.spec.f2 = f
		p.cursor, p.top = 0, 0
		return m.pivotCmd(), true
	case key.Matches(msg, k.PivotSort):
		by := int(msg.String()[0] - '1')
		if by == p.sortBy {
			p.desc = !p.desc
		} else {
			p.sortBy, p.desc = by, false
		}
		p.sortSeq++
		return m.resortCmd(), true
	case key.Matches(msg, k.Pivot):
		return m.prompt.open(promptPivot, "pivot by (field or field,field)> ", m.pivotSpecText()), true
	case key.Matches(msg, k.Open):
		return m.pivotDrill(), true
	case key.Matches(msg, k.Clear):
		p.open = false
		m.clampScroll()
	default:
		return nil, false
	}
	return nil, true
}

// pivotSpecText is the pivot's fields as typed: user or user,verb.
func (m *Model) pivotSpecText() string {
	s := m.pivotFields[m.pivot.spec.f1].name
	if f2 := m.pivot.spec.f2; f2 >= 0 {
		s += "," + m.pivotFields[f2].name
	}
	return s
}

// setPivotSpec reads "field" or "field,field" from the prompt.
func (m *Model) setPivotSpec(text string) tea.Cmd {
	parts := strings.Split(text, ",")
	if len(parts) > 2 || strings.TrimSpace(parts[0]) == "" {
		m.setStatus("pivot by one or two fields: user, or user,verb", true)
		return nil
	}
	spec := pivotSpec{f2: -1}
	for i, part := range parts {
		f := pivotFieldIndex(m.pivotFields, strings.TrimSpace(part))
		if f < 0 {
			names := make([]string, len(m.pivotFields))
			for j, pf := range m.pivotFields {
				names[j] = pf.name
			}
			m.setStatus(fmt.Sprintf("cannot pivot by %q: choose from %s", strings.TrimSpace(part), strings.Join(names, ", ")), true)
			return nil
		}
		if i == 0 {
			spec.f1 = f
		} else if f != spec.f1 {
			spec.f2 = f
		}
	}
	m.pivot.spec = spec
	m.pivot.cursor, m.pivot.top = 0, 0
	return m.pivotCmd()
}

// pivotDrill adds the group under the cursor to the filter; Esc on the
// list then undoes it and comes back here.
func (m *Model) pivotDrill() tea.Cmd {
	p := &m.pivot
	if p.cursor >= len(p.order) {
		return nil
	}
	g := &p.groups[p.order[p.cursor]]
	before := len(m.steps)
	cmd := m.addClause(groupClause(m.ctx.store, m.pivotFields, p.spec, g))
	if len(m.steps) > before {
		m.steps[len(m.steps)-1].pivot = true
		p.open = false
		m.follow = false
		m.moveTo(0)
	}
	return cmd
}

// renderPivot draws the pivot table in the list's place: a title line,
// the column headers, then the visible groups.
func (m *Model) renderPivot(lay layoutInfo) []string {
	st := m.ctx.styles
	p := &m.pivot
	w := lay.listW
	rows := max(1, lay.listRows-1)
	if p.cursor < p.top {
		p.top = p.cursor
	}
	if p.cursor >= p.top+rows {
		p.top = p.cursor - rows + 1
	}
	lines := make([]string, 0, lay.listRows+1)
	title := "pivot by " + m.pivotSpecText()
	info := fmt.Sprintf(" · %s · %s", plural(len(p.order), "group"), plural(p.total, "event"))
	if p.busy {
		info += " · counting…"
	}
	hint := "   ←/→ field · Tab second field · p type · 1-4 sort · Enter drill down · Esc back"
	lines = append(lines, padLine(st.TitleFocused.Render(title)+st.Muted.Render(info+hint), w))
	tw := 12
	layout := "15:04:05.000"
	if m.ctx.multiDay {
		tw, layout = 14, "01-02 15:04:05"
	}
	keyW := max(8, w-(8+tw*2+sparkN+4))
	kw := []int{keyW}
	if p.spec.f2 >= 0 {
		a, b := m.pivotFields[p.spec.f1].w, m.pivotFields[p.spec.f2].w
		switch {
		case b > 0 && b < keyW/2:
			kw = []int{keyW - b - 1, b}
		case a > 0 && a < keyW/2:
			kw = []int{a, keyW - a - 1}
		default:
			kw = []int{keyW / 2, keyW - keyW/2 - 1}
		}
	}
	arrow := func(by int, natural string) string {
		if p.sortBy != by {
			return ""
		}
		if p.desc == (natural == "▼") {
			return "▲"
		}
		return "▼"
	}
	var hdr []string
	names := []int{p.spec.f1, p.spec.f2}
	for i, wdt := range kw {
		t := strings.ToUpper(m.pivotFields[names[i]].name)
		if i == 0 {
			t += arrow(sortKey, "▲")
		}
		hdr = append(hdr, st.ColumnHeader.Render(fit(t, wdt, false)))
	}
	hdr = append(hdr, st.ColumnHeader.Render(fit("COUNT"+arrow(sortCount, "▼"), 8, true)),
		st.ColumnHeader.Render(fit("FIRST"+arrow(sortFirst, "▲"), tw, false)),
		st.ColumnHeader.Render(fit("LAST"+arrow(sortLast, "▼"), tw, false)),
		st.ColumnHeader.Render(fit("ACTIVITY", sparkN, false)))
	lines = append(lines, padLine(strings.Join(hdr, " "), w))
	s := m.ctx.store
	for i := p.top; i < p.top+rows; i++ {
		if i >= len(p.order) {
			lines = append(lines, strings.Repeat(" ", w))
			continue
		}
		g := &p.groups[p.order[i]]
		keys := []uint32{g.k1, g.k2}
		var cells []string
		for j, wdt := range kw {
			v := m.pivotFields[names[j]].str(s, keys[j])
			if v == "" {
				v = `""`
			}
			cells = append(cells, fit(audit.Sanitize(v), wdt, false))
		}
		tm := func(ns int64) string {
			if ns == 0 {
				return fit("-", tw, false)
			}
			return time.Unix(0, ns).In(m.ctx.loc()).Format(layout)
		}
		line := strings.Join(cells, " ") + " " + fit(commas(int64(g.count)), 8, true) + " " + tm(g.first) + " " + tm(g.last) + " "
		if i == p.cursor {
			lines = append(lines, st.RowSelected.Render(padLine(line+sparkline(&g.spark), w)))
			continue
		}
		lines = append(lines, padLine(st.Row.Render(line)+st.TimelineOK.Render(sparkline(&g.spark)), w))
	}
	return lines
}
