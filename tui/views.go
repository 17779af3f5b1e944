package tui

import (
	"context"
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"ktrail/audit"
)

// openViews shows the saved views (v).
func (m *Model) openViews() {
	m.overlay = overlayViews
	m.viewPick = max(0, min(m.viewPick, len(m.views)-1))
}

// viewsKey handles the saved views list: Enter recalls, n/s saves the
// current view under a name, d deletes, Esc closes.
func (m *Model) viewsKey(msg tea.KeyPressMsg) tea.Cmd {
	k := m.ctx.keys
	switch {
	case key.Matches(msg, k.Down):
		m.viewPick = min(len(m.views)-1, m.viewPick+1)
	case key.Matches(msg, k.Up):
		m.viewPick = max(0, m.viewPick-1)
	case key.Matches(msg, k.Open):
		if m.viewPick < len(m.views) {
			m.overlay = overlayNone
			return m.recallView(m.views[m.viewPick])
		}
	case key.Matches(msg, k.ViewSave):
		m.overlay = overlayNone
		return m.prompt.open(promptViewName, "save view as> ", "")
	case key.Matches(msg, k.ViewDelete):
		if m.viewPick < len(m.views) {
			name := m.views[m.viewPick].Name
			m.views = append(m.views[:m.viewPick:m.viewPick], m.views[m.viewPick+1:]...)
			m.viewPick = max(0, min(m.viewPick, len(m.views)-1))
			if f := m.ctx.opts.OnDeleteView; f != nil {
				f(name)
			}
			m.setStatus("deleted view "+audit.Sanitize(name), false)
		}
	case key.Matches(msg, k.Clear), key.Matches(msg, k.Views), key.Matches(msg, k.Quit):
		m.overlay = overlayNone
	}
	return nil
}

// currentView is the filter, columns and timeline window as a view.
func (m *Model) currentView(name string) View {
	v := View{Name: name, Filter: m.filterSrc}
	for _, c := range m.columns {
		v.Columns = append(v.Columns, c.name)
	}
	if !m.tl.state.Fit() {
		v.From = time.Unix(0, m.tl.state.From).UTC().Format(time.RFC3339Nano)
		v.To = time.Unix(0, m.tl.state.To).UTC().Format(time.RFC3339Nano)
	}
	return v
}

// saveView stores the current view under name (replacing one of that
// name).
func (m *Model) saveView(name string) {
	if name == "" {
		return
	}
	v := m.currentView(name)
	replaced := false
	for i := range m.views {
		if m.views[i].Name == name {
			m.views[i], replaced = v, true
		}
	}
	if !replaced {
		m.views = append(m.views, v)
	}
	if f := m.ctx.opts.OnSaveView; f != nil {
		f(v)
	}
	m.setStatus("saved view "+audit.Sanitize(name), false)
}

// recallView applies a view: its filter as a new step, its columns and
// its window.
func (m *Model) recallView(v View) tea.Cmd {
	var cmd tea.Cmd
	if v.Filter != m.filterSrc {
		if err := m.setFilter(v.Filter); err != nil {
			m.setStatus("view "+audit.Sanitize(v.Name)+": "+err.Error(), true)
			return nil
		}
		cmd = m.evalCmd()
	}
	if len(v.Columns) > 0 {
		m.columns = pickColumns(v.Columns)
		m.colsVersion++
		m.col = min(m.col, len(m.columns)-1)
	}
	m.tl.state.ResetZoom()
	m.restoreWindow(v.From, v.To)
	m.saveSession()
	m.setStatus("view "+audit.Sanitize(v.Name), false)
	return tea.Batch(cmd, m.histCmd(true))
}

// renderViews lists the saved views.
func (m *Model) renderViews(width int) string {
	st := m.ctx.styles
	lines := []string{st.HelpSection.Render("Saved views") + st.Muted.Render("  Enter recall · n/s save current · d delete · Esc close")}
	if len(m.views) == 0 {
		lines = append(lines, st.Muted.Render("(none yet: n saves the current filter, columns and time range)"))
	}
	w := max(20, min(width-8, 100))
	for i, v := range m.views {
		desc := v.Filter
		if desc == "" {
			desc = "(no filter)"
		}
		if v.From != "" {
			desc += " · " + v.From + " – " + v.To
		}
		line := fit(audit.Sanitize(v.Name), 16, false) + "  " + audit.Sanitize(desc)
		line = fit(line, w, false)
		if i == m.viewPick {
			line = st.RowSelected.Render(line)
		}
		lines = append(lines, line)
	}
	return st.Dialog.Render(strings.Join(lines, "\n"))
}

// reportKey is S: ask where to write a report.
func (m *Model) reportKey() tea.Cmd {
	if m.ctx.opts.Report == nil {
		m.setStatus("reports are not available here", true)
		return nil
	}
	return m.prompt.open(promptReport, "report to> ", "")
}

// reportMsg reports a finished report.
type reportMsg struct {
	text string
	err  error
}

// reportCmd runs Options.Report off the render path.
func (m *Model) reportCmd(path string) tea.Cmd {
	req := ReportRequest{Path: path, View: m.view, Filter: m.filterSrc, Marks: m.markedList()}
	if !m.tl.state.Fit() {
		req.From, req.To = time.Unix(0, m.tl.state.From).UTC(), time.Unix(0, m.tl.state.To).UTC()
	}
	r, fn := m.rows, m.ctx.opts.Report
	return func() tea.Msg {
		ids := r.ids
		if r.all {
			ids = make([]uint32, 0, r.Len())
			r.v.EachID(0, r.v.Len(), func(_ int, id uint32) bool { ids = append(ids, id); return true })
		}
		req.IDs = ids
		text, err := fn(context.Background(), req)
		return reportMsg{text: text, err: err}
	}
}

func (m *Model) onReport(msg reportMsg) {
	if msg.err != nil {
		m.setStatus(fmt.Sprintf("report: %v", msg.err), true)
		return
	}
	m.setStatus(msg.text, false)
}
