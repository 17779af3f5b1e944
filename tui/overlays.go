package tui

import (
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
)

// renderHelp draws the help overlay from the KeyMap: the same bindings
// the keys use.
func (m *Model) renderHelp(width, height int) string {
	st := m.ctx.styles
	groups := m.ctx.keys.FullHelp()
	titles := []string{"Move", "Filter & search", "Panes & actions", "Timeline", "Investigate"}
	var cols []string
	for gi, g := range groups {
		kw := 0
		for _, b := range g {
			kw = max(kw, ansi.StringWidth(b.Help().Key))
		}
		lines := []string{st.HelpSection.Render(titles[gi])}
		for _, b := range g {
			h := b.Help()
			lines = append(lines, st.HelpKey.Render(fit(h.Key, kw, false))+"  "+st.HelpDesc.Render(h.Desc))
		}
		cols = append(cols, strings.Join(lines, "\n"))
	}
	// As many columns side by side as fit the screen with the box's
	// border and padding.
	join := func(i ...int) string {
		parts := make([]string, len(i))
		for k, j := range i {
			parts[k] = cols[j]
		}
		return strings.Join(parts, "\n\n")
	}
	layouts := [][]string{cols, {join(0, 3), join(1, 2), join(4)}, {join(0, 4), join(1, 2, 3)}, {join(0, 3, 1, 2, 4)}}
	var box string
	for _, l := range layouts {
		body := joinColumns(l, 3)
		box = st.HelpBox.Render(body + "\n\n" + st.Muted.Render("Mouse: wheel scrolls, click selects. Any key closes."))
		if lipgloss.Height(box) >= height {
			box = st.HelpBox.Render(body)
		}
		if lipgloss.Width(box) <= width {
			break
		}
	}
	return box
}

// joinColumns puts multi-line blocks side by side with gap spaces.
func joinColumns(blocks []string, gap int) string {
	split := make([][]string, len(blocks))
	widths := make([]int, len(blocks))
	rows := 0
	for i, b := range blocks {
		split[i] = strings.Split(b, "\n")
		rows = max(rows, len(split[i]))
		for _, l := range split[i] {
			widths[i] = max(widths[i], ansi.StringWidth(l))
		}
	}
	var out []string
	for r := 0; r < rows; r++ {
		var sb strings.Builder
		for i := range split {
			cell := ""
			if r < len(split[i]) {
				cell = split[i][r]
			}
			if i < len(split)-1 {
				cell = padLine(cell, widths[i]) + strings.Repeat(" ", gap)
			}
			sb.WriteString(cell)
		}
		out = append(out, strings.TrimRight(sb.String(), " "))
	}
	return strings.Join(out, "\n")
}

// renderColumnPicker lists every column with a check box.
func (m *Model) renderColumnPicker() string {
	st := m.ctx.styles
	lines := []string{st.HelpSection.Render("Columns") + st.Muted.Render("  space toggle · J/K move · Enter/Esc close")}
	for i, c := range allColumns() {
		mark := "[ ]"
		if m.hasColumn(c.name) {
			mark = "[x]"
		}
		line := mark + " " + c.name
		if i == m.colPick {
			line = st.RowSelected.Render(line)
		}
		lines = append(lines, line)
	}
	return st.Dialog.Render(strings.Join(lines, "\n"))
}

func (m *Model) hasColumn(name string) bool {
	for _, c := range m.columns {
		if c.name == name {
			return true
		}
	}
	return false
}

// columnKey handles the column picker: space toggles, J/K (or shift
// arrows) move the column in the order.
func (m *Model) columnKey(msg tea.KeyPressMsg) tea.Cmd {
	k := m.ctx.keys
	m.colsVersion++
	all := allColumns()
	switch {
	case key.Matches(msg, k.Down):
		m.colPick = min(len(all)-1, m.colPick+1)
	case key.Matches(msg, k.Up):
		m.colPick = max(0, m.colPick-1)
	case msg.String() == "space" || msg.String() == "x":
		name := all[m.colPick].name
		if m.hasColumn(name) {
			if len(m.columns) > 1 {
				m.columns = removeColumn(m.columns, name)
			}
		} else {
			m.columns = append(m.columns, all[m.colPick])
		}
		m.col = min(m.col, len(m.columns)-1)
	case msg.String() == "J" || msg.String() == "K":
		name := all[m.colPick].name
		for i, c := range m.columns {
			if c.name != name {
				continue
			}
			j := i + 1
			if msg.String() == "K" {
				j = i - 1
			}
			if j >= 0 && j < len(m.columns) {
				m.columns[i], m.columns[j] = m.columns[j], m.columns[i]
			}
			break
		}
	case key.Matches(msg, k.Open), key.Matches(msg, k.Clear), key.Matches(msg, k.Columns), key.Matches(msg, k.Quit):
		m.overlay = overlayNone
	}
	return nil
}

func removeColumn(cols []*column, name string) []*column {
	out := cols[:0:0]
	for _, c := range cols {
		if c.name != name {
			out = append(out, c)
		}
	}
	return out
}
