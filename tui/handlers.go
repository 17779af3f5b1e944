package tui

import (
	"fmt"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"ktrail/themes"
)

// onKey routes a key to the layer that owns the keyboard: an overlay, a
// prompt, the filter bar, or the focused pane.
func (m *Model) onKey(msg tea.KeyPressMsg) tea.Cmd {
	k := m.ctx.keys
	if msg.String() == "ctrl+c" {
		m.quitting = true
		return tea.Quit
	}
	switch {
	case m.overlay == overlayHelp:
		m.overlay = overlayNone
		return nil
	case m.overlay == overlayColumns:
		return m.columnKey(msg)
	case m.overlay == overlayViews:
		return m.viewsKey(msg)
	case m.overlay == overlayDetections:
		return m.detectionsKey(msg)
	case m.prompt.active():
		return m.promptKey(msg)
	case m.bar.editing:
		return m.filterKey(msg)
	}
	if m.pivot.open {
		if cmd, ok := m.pivotKey(msg); ok {
			return cmd
		}
		if !key.Matches(msg, k.Quit, k.Help, k.Filter, k.Theme, k.Views, k.Report, k.Follow) {
			return nil
		}
	}
	switch {
	case key.Matches(msg, k.Quit):
		m.quitting = true
		return tea.Quit
	case key.Matches(msg, k.Help):
		m.overlay = overlayHelp
		return nil
	case key.Matches(msg, k.Filter):
		return m.bar.start(m.filterSrc)
	case key.Matches(msg, k.Search):
		return m.prompt.open(promptSearch, "search> ", m.search.text)
	case key.Matches(msg, k.JumpTime):
		return m.prompt.open(promptTime, "jump to time> ", "")
	case key.Matches(msg, k.Save):
		if m.ctx.opts.Save == nil {
			m.setStatus("saving is not available here", true)
			return nil
		}
		return m.prompt.open(promptSave, "save view to (.jsonl or .csv)> ", "")
	case key.Matches(msg, k.Follow):
		m.toggleFollow()
		return nil
	case key.Matches(msg, k.Theme):
		m.nextTheme()
		return nil
	case key.Matches(msg, k.Copy):
		return m.copyEvent()
	case key.Matches(msg, k.Columns):
		m.overlay, m.colPick = overlayColumns, 0
		return nil
	case key.Matches(msg, k.Detections):
		m.overlay, m.det.sel = overlayDetections, 0
		return nil
	case key.Matches(msg, k.Focus):
		m.cycleFocus()
		return nil
	case key.Matches(msg, k.Layout):
		m.detail.cycleLayout(m.ctx.width)
		m.clampScroll()
		return nil
	case key.Matches(msg, k.NextMatch):
		return m.findNext(1)
	case key.Matches(msg, k.PrevMatch):
		return m.findNext(-1)
	case key.Matches(msg, k.ZoomIn), key.Matches(msg, k.ZoomOut), key.Matches(msg, k.StackMode):
		return m.timelineKey(msg)
	}
	if cmd, ok := m.investigateKey(msg); ok {
		return cmd
	}
	switch m.focus {
	case focusDetail:
		if m.side.open {
			return m.sideKey(msg)
		}
		return m.detailKey(msg)
	case focusTimeline:
		return m.timelineKey(msg)
	}
	return m.listKey(msg)
}

// listKey handles the keys of the event list.
func (m *Model) listKey(msg tea.KeyPressMsg) tea.Cmd {
	k := m.ctx.keys
	page := max(1, m.layout().listRows-1)
	switch {
	case key.Matches(msg, k.Down):
		m.moveTo(m.cursor + 1)
	case key.Matches(msg, k.Up):
		m.moveTo(m.cursor - 1)
	case key.Matches(msg, k.PageDown):
		m.moveTo(m.cursor + page)
	case key.Matches(msg, k.PageUp):
		m.moveTo(m.cursor - page)
	case key.Matches(msg, k.Top):
		m.follow = false
		m.moveTo(0)
	case key.Matches(msg, k.Bottom):
		m.moveTo(m.rows.Len() - 1)
	case key.Matches(msg, k.Left):
		m.col = max(0, m.col-1)
	case key.Matches(msg, k.Right):
		m.col = min(len(m.visibleColumns())-1, m.col+1)
	case key.Matches(msg, k.Open):
		m.openDetail()
	case key.Matches(msg, k.Keep):
		return m.keepDrop(true)
	case key.Matches(msg, k.Drop):
		return m.keepDrop(false)
	case key.Matches(msg, k.Clear):
		return m.clearStep()
	}
	if m.cursor < m.rows.Len()-1 && (key.Matches(msg, k.Up, k.PageUp)) {
		m.follow = false
	}
	return nil
}

// clearStep is Esc outside any prompt: close the detail pane, then the
// search, then undo the last filter step.
func (m *Model) clearStep() tea.Cmd {
	switch {
	case m.detail.open:
		m.closeDetail()
	case m.side.open:
		m.closeSide()
	case m.search.text != "":
		m.search = searchState{}
	case m.tl.selecting:
		m.tl.state.ClearSelection()
		m.tl.selecting = false
	default:
		return m.undo()
	}
	return nil
}

// keepDrop adds "field == value" (keep) or "field != value" (drop) for the
// focused column's value under the cursor to the filter.
func (m *Model) keepDrop(keep bool) tea.Cmd {
	if !m.hasCursor {
		return nil
	}
	cols := m.visibleColumns()
	if m.col >= len(cols) {
		return nil
	}
	c := cols[m.col]
	clause := c.clause(m.ctx, m.view.Rec(m.cursorID), keep)
	if clause == "" {
		m.setStatus("the "+c.title+" column cannot be used with + / -", true)
		return nil
	}
	return m.addClause(clause)
}

func (m *Model) toggleFollow() {
	m.follow = !m.follow
	if m.follow {
		m.moveTo(m.rows.Len() - 1)
		m.newCount = 0
	}
}

func (m *Model) nextTheme() {
	all := m.ctx.opts.Themes
	if len(all) == 0 {
		all = themes.Builtins()
	}
	t := themes.Next(all, m.ctx.theme.Name)
	m.ctx.setTheme(t)
	m.bar.restyle()
	m.prompt.restyle()
	m.setStatus("theme: "+t.Name, false)
}

func (m *Model) cycleFocus() {
	switch m.focus {
	case focusList:
		if m.detail.open || m.side.open {
			m.focus = focusDetail
		} else {
			m.focus = focusTimeline
		}
	case focusDetail:
		m.focus = focusTimeline
	default:
		m.focus = focusList
	}
}

// copyEvent puts the cursor event's JSON (redacted unless --no-redact) on
// the clipboard with OSC 52.
func (m *Model) copyEvent() tea.Cmd {
	if !m.hasCursor {
		return nil
	}
	raw, err := m.eventJSON(m.cursorID)
	if err != nil {
		m.setStatus(err.Error(), true)
		return nil
	}
	m.setStatus(fmt.Sprintf("copied the event's JSON (%s) with OSC 52", humanBytes(int64(len(raw)))), false)
	return tea.SetClipboard(string(raw))
}

// eventJSON returns an event's bytes, redacted unless --no-redact.
func (m *Model) eventJSON(id uint32) ([]byte, error) {
	raw, err := m.ctx.store.Raw(m.view.Rec(id), nil)
	if err != nil {
		return nil, fmt.Errorf("reading the event: %v", err)
	}
	return redactFor(m.ctx, raw)
}

// onWheel scrolls the pane under the mouse.
func (m *Model) onWheel(msg tea.MouseWheelMsg) tea.Cmd {
	mouse := msg.Mouse()
	delta := 3
	if mouse.Button == tea.MouseWheelUp {
		delta = -3
	}
	lay := m.layout()
	if m.side.open && lay.inDetail(mouse.X, mouse.Y) {
		m.side.cursor += delta
		m.side.keepVisible(lay.detailH)
		return nil
	}
	if m.detail.open && lay.inDetail(mouse.X, mouse.Y) {
		m.detail.scroll(delta, lay.detailH)
		return nil
	}
	if delta < 0 {
		m.follow = false
	}
	m.moveTo(m.cursor + delta)
	return nil
}

// onClick selects the clicked row, or jumps to the clicked time bucket.
func (m *Model) onClick(msg tea.MouseClickMsg) tea.Cmd {
	mouse := msg.Mouse()
	if mouse.Button != tea.MouseLeft || m.overlay != overlayNone || m.prompt.active() || m.bar.editing {
		return nil
	}
	lay := m.layout()
	switch {
	case lay.inList(mouse.X, mouse.Y):
		m.focus = focusList
		m.follow = false
		m.moveTo(m.top + mouse.Y - lay.listY)
	case lay.inTimeline(mouse.X, mouse.Y):
		if from, _, ok := m.tl.hist.BucketAt(mouse.X); ok {
			m.follow = false
			m.moveTo(m.rows.searchTime(from))
		}
	case m.side.open && lay.inDetail(mouse.X, mouse.Y):
		m.focus = focusDetail
		m.side.cursor = m.side.top + mouse.Y - lay.detailY
		m.side.keepVisible(lay.detailH)
	case m.detail.open && lay.inDetail(mouse.X, mouse.Y):
		m.focus = focusDetail
		m.detail.clickLine(mouse.Y - lay.detailY)
	}
	return nil
}

func (m *Model) onPaste(msg tea.PasteMsg) tea.Cmd {
	switch {
	case m.prompt.active():
		return m.prompt.update(msg)
	case m.bar.editing:
		return m.bar.update(msg)
	}
	return nil
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// investigateKey handles the keys of pivots, histories, marks, views and
// reports; ok is false for other keys.
func (m *Model) investigateKey(msg tea.KeyPressMsg) (cmd tea.Cmd, ok bool) {
	k := m.ctx.keys
	switch {
	case key.Matches(msg, k.Pivot):
		return m.openPivot(), true
	case key.Matches(msg, k.Object):
		return m.followObject(), true
	case key.Matches(msg, k.UserActivity):
		return m.followUser(), true
	case key.Matches(msg, k.Request):
		return m.followRequest(), true
	case key.Matches(msg, k.Mark):
		m.toggleMark()
	case key.Matches(msg, k.Note):
		return m.noteKey(), true
	case key.Matches(msg, k.NextMark):
		m.jumpMark(1)
	case key.Matches(msg, k.PrevMark):
		m.jumpMark(-1)
	case key.Matches(msg, k.Views):
		m.openViews()
	case key.Matches(msg, k.Report):
		return m.reportKey(), true
	default:
		return nil, false
	}
	return nil, true
}
