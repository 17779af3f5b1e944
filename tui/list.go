package tui

import (
	"strings"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"ktrail/audit"
)

// sized is a column with the width it gets on this screen.
type sized struct {
	*column
	w int
}

// visibleColumns drops the least important columns until the chosen ones
// fit the list's width.
func (m *Model) visibleColumns() []*column {
	cols := m.fitColumns(m.layout().listW - m.gutter())
	out := make([]*column, len(cols))
	for i, c := range cols {
		out[i] = c.column
	}
	return out
}

// fitColumns gives each column its width: minimums first, the spare width
// shared by the flexible columns; columns of the highest priority number
// are dropped while the minimums do not fit.
func (m *Model) fitColumns(width int) []sized {
	cols := m.columns
	for {
		need := len(cols) - 1
		worst, at := -1, -1
		for i, c := range cols {
			need += m.minWidth(c)
			if c.prio > worst {
				worst, at = c.prio, i
			}
		}
		if need <= width || len(cols) <= 1 {
			spare := max(0, width-need)
			flex := 0
			for _, c := range cols {
				flex += c.flex
			}
			out := make([]sized, len(cols))
			given := 0
			for i, c := range cols {
				out[i] = sized{c, m.minWidth(c)}
				if flex > 0 && c.flex > 0 {
					add := spare * c.flex / flex
					out[i].w += add
					given += add
				}
			}
			// What integer division left goes to the last flexible column;
			// with none, to the last column.
			for i := len(out) - 1; i >= 0; i-- {
				if out[i].flex > 0 || flex == 0 {
					out[i].w += spare - given
					break
				}
			}
			return out
		}
		cols = append(cols[:at:at], cols[at+1:]...)
	}
}

// gutter is the width of the marks' gutter: shown only while some
// event is marked.
func (m *Model) gutter() int {
	if len(m.marks.notes) == 0 {
		return 0
	}
	return 2
}

// minWidth is a column's narrowest width; times show the date when the
// events span days.
func (m *Model) minWidth(c *column) int {
	if c.name == "time" && m.ctx.multiDay {
		return 14
	}
	return c.min
}

// renderList draws the column header and the visible rows: only those,
// whatever the number of events.
func (m *Model) renderList(lay layoutInfo, b *strings.Builder) []string {
	st := m.ctx.styles
	gut := m.gutter()
	cols := m.fitColumns(lay.listW - gut)
	m.rowCache.check(rowCacheKey{width: lay.listW, cols: m.colsVersion, styles: st, search: m.search.lower, ncols: len(cols),
		multiDay: m.ctx.multiDay, marks: m.marks.version})
	lines := make([]string, 0, lay.listRows+1)
	b.Reset()
	if gut > 0 {
		b.WriteString("  ")
	}
	for i, c := range cols {
		if i > 0 {
			b.WriteString(" ")
		}
		title := fit(c.title, c.w, c.right)
		if i == m.col && m.focus == focusList {
			b.WriteString(st.TitleFocused.Render(title))
		} else {
			b.WriteString(st.ColumnHeader.Render(title))
		}
	}
	lines = append(lines, padLine(b.String(), lay.listW))
	n := m.rows.Len()
	var buf []byte
	for i := m.top; i < m.top+lay.listRows; i++ {
		if i >= n {
			lines = append(lines, strings.Repeat(" ", lay.listW))
			continue
		}
		id := m.rows.ID(i)
		selected := i == m.cursor && m.hasCursor
		if !selected {
			if line, ok := m.rowCache.get(id); ok {
				lines = append(lines, line)
				continue
			}
		}
		r := m.view.Rec(id)
		b.Reset()
		if gut > 0 {
			switch {
			case !m.marks.has(id):
				b.WriteString("  ")
			case selected:
				b.WriteString("● ")
			default:
				b.WriteString(st.Warning.Render("●") + " ")
			}
		}
		for j, c := range cols {
			if j > 0 {
				b.WriteString(" ")
			}
			buf = c.cell(m.ctx, r, buf[:0])
			text := fit(audit.Sanitize(string(buf)), c.w, c.right)
			switch {
			case selected:
				b.WriteString(text)
			case c.style != nil:
				m.writeMatched(b, text, c.style(m.ctx, r))
			default:
				m.writeMatched(b, text, st.Row)
			}
		}
		line := padLine(b.String(), lay.listW)
		if !selected {
			m.rowCache.put(id, line, lay.listRows)
		}
		if selected {
			sel := st.RowSelected
			if m.focus != focusList {
				sel = st.RowSelectedBlur
			}
			line = sel.Render(line)
		}
		lines = append(lines, line)
	}
	return lines
}

// writeMatched writes text in style, with the search matches highlighted.
func (m *Model) writeMatched(b *strings.Builder, text string, style lipgloss.Style) {
	q := m.search.lower
	if q == "" {
		b.WriteString(style.Render(text))
		return
	}
	low := strings.ToLower(text)
	if len(low) != len(text) {
		b.WriteString(style.Render(text))
		return
	}
	for {
		i := strings.Index(low, q)
		if i < 0 {
			break
		}
		if i > 0 {
			b.WriteString(style.Render(text[:i]))
		}
		b.WriteString(m.ctx.styles.Match.Render(text[i : i+len(q)]))
		text, low = text[i+len(q):], low[i+len(q):]
	}
	if text != "" {
		b.WriteString(style.Render(text))
	}
}

// fit cuts s to w cells with an ellipsis, or pads it to w cells.
func fit(s string, w int, right bool) string {
	sw := ansi.StringWidth(s)
	if sw > w {
		return ansi.Truncate(s, w, "…")
	}
	pad := strings.Repeat(" ", w-sw)
	if right {
		return pad + s
	}
	return s + pad
}

// padLine pads or cuts a styled line to exactly w cells.
func padLine(s string, w int) string {
	sw := ansi.StringWidth(s)
	if sw > w {
		return ansi.Truncate(s, w, "…")
	}
	return s + strings.Repeat(" ", w-sw)
}

// rowCacheKey is what a rendered row depends on besides its event.
type rowCacheKey struct {
	width, cols, ncols int
	styles             any
	search             string
	multiDay           bool
	marks              int
}

// rowCache keeps the rendered lines of rows that are not selected, so that
// scrolling renders only the rows that come into view.
type rowCache struct {
	key   rowCacheKey
	lines map[uint32]string
}

func (c *rowCache) check(k rowCacheKey) {
	if c.lines == nil || c.key != k {
		c.key, c.lines = k, make(map[uint32]string, 128)
	}
}

func (c *rowCache) get(id uint32) (string, bool) {
	s, ok := c.lines[id]
	return s, ok
}

// put stores a line; the cache is dropped when it holds many screens.
func (c *rowCache) put(id uint32, line string, rows int) {
	if len(c.lines) > 8*max(rows, 16) {
		clear(c.lines)
	}
	c.lines[id] = line
}
