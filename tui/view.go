package tui

import (
	"fmt"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"ktrail/audit"
)

// View draws the screen from the state; it changes nothing.
func (m *Model) View() tea.View {
	v := tea.NewView(m.render())
	v.AltScreen = true
	v.MouseMode = tea.MouseModeCellMotion
	v.WindowTitle = "ktrail"
	if m.quitting {
		v.Content = ""
	}
	return v
}

// render builds the screen content as exactly height lines of width cells.
func (m *Model) render() string {
	lay := m.layout()
	screen := make([]string, lay.height)
	var b strings.Builder
	screen[0] = m.renderHeader(lay.width)
	if lay.bannerY >= 0 {
		screen[lay.bannerY] = padLine(m.ctx.styles.Banner.Render(audit.Sanitize(m.ctx.opts.Banner)), lay.width)
	}
	if lay.progressY >= 0 {
		screen[lay.progressY] = m.renderProgress(lay.width)
	}
	if lay.tlH > 0 {
		for i, l := range strings.Split(m.tl.render(m.ctx, lay.width, lay.tlH, m.cursorTime()), "\n") {
			if i < lay.tlH {
				screen[lay.tlY+i] = l
			}
		}
	}
	if lay.listHeadY >= 0 {
		lines := m.renderList(lay, &b)
		if m.pivot.open {
			lines = m.renderPivot(lay)
		}
		for i, l := range lines {
			screen[lay.listHeadY+i] = l
		}
	}
	if lay.detailOpen {
		if m.side.open {
			m.placePane(lay, screen, m.side.title(lay.detailW), m.side.render(m.ctx, lay.detailW, lay.detailH, m.focus == focusDetail))
		} else {
			title := m.detail.title(m.ctx, lay.detailW, m.noteOf(m.detail.id))
			m.placePane(lay, screen, title, m.detail.render(m.ctx, lay.detailW, lay.detailH, m.focus == focusDetail))
		}
	}
	screen[lay.barY] = m.renderBar(lay.width)
	screen[lay.hintY] = m.renderHint(lay.width)
	for i := range screen {
		if screen[i] == "" {
			screen[i] = strings.Repeat(" ", lay.width)
		}
	}
	switch m.overlay {
	case overlayHelp:
		overlayBox(screen, m.renderHelp(lay.width, lay.height), lay.width)
	case overlayColumns:
		overlayBox(screen, m.renderColumnPicker(), lay.width)
	case overlayViews:
		overlayBox(screen, m.renderViews(lay.width), lay.width)
	case overlayDetections:
		overlayBox(screen, m.renderDetections(lay.width, lay.height), lay.width)
	}
	if m.bar.editing {
		if pop := m.bar.renderCompletions(lay.width); len(pop) > 0 {
			for i, l := range pop {
				if y := lay.barY - len(pop) + i; y >= 1 {
					screen[y] = l
				}
			}
		}
	}
	return strings.Join(screen, "\n")
}

// placePane draws the detail pane (or the side pane in its place) into
// the screen lines.
func (m *Model) placePane(lay layoutInfo, screen []string, title string, lines []string) {
	st := m.ctx.styles
	border := st.PaneBorder
	if m.focus == focusDetail {
		border = st.PaneBorderFocused
	}
	if lay.detailX == 0 {
		screen[lay.detailY-1] = padLine(border.Render(title), lay.width)
		for i, l := range lines {
			screen[lay.detailY+i] = l
		}
		return
	}
	sep := border.Render("│")
	screen[lay.detailY-1] = padLine(screen[lay.detailY-1], lay.listW) + sep + padLine(border.Render(title), lay.detailW)
	for i := 0; i < lay.detailH; i++ {
		y := lay.detailY + i
		left := screen[y]
		if left == "" {
			left = strings.Repeat(" ", lay.listW)
		}
		right := strings.Repeat(" ", lay.detailW)
		if i < len(lines) {
			right = lines[i]
		}
		screen[y] = padLine(left, lay.listW) + sep + right
	}
}

// renderHeader is the top line: sources, counts, rate, follow state.
func (m *Model) renderHeader(w int) string {
	st := m.ctx.styles
	s := m.lastStatus
	name := "ktrail"
	if len(s.Names) == 1 {
		name += " · " + s.Names[0]
	} else if len(s.Names) > 1 {
		name += fmt.Sprintf(" · %s +%d", s.Names[0], len(s.Names)-1)
	}
	total := m.ctx.store.View().Len()
	parts := []string{st.Header.Render(audit.Sanitize(name)),
		st.HeaderDim.Render(plural(total, "event"))}
	if m.evalBusy {
		parts = append(parts, st.HeaderDim.Render("filtering…"))
	} else if !m.rows.all || m.filterSrc != "" {
		parts = append(parts, st.Header.Render(fmt.Sprintf("%s match", commas(int64(m.rows.Len())))))
	}
	if s.Skipped > 0 {
		parts = append(parts, st.Warning.Render(fmt.Sprintf("%s skipped", commas(s.Skipped))))
	}
	if s.Live {
		parts = append(parts, st.BadgeLive.Render(" LIVE "), st.HeaderDim.Render(fmt.Sprintf("%.0f ev/s", m.rate.rate)))
	}
	if m.follow {
		parts = append(parts, st.BadgeFollow.Render(" FOLLOW "))
	} else if s.Live {
		parts = append(parts, st.BadgePaused.Render(" PAUSED "))
	}
	if n := m.det.alerts() - m.det.seen; n > 0 {
		parts = append(parts, st.BadgeLive.Render(fmt.Sprintf(" ⚠ %s (D) ", plural(n, "alert"))))
	} else if f := len(m.det.res.Fired()); f > 0 {
		parts = append(parts, st.Warning.Render(fmt.Sprintf("%s fired (D)", plural(f, "rule"))))
	}
	if m.newCount > 0 {
		parts = append(parts, st.BadgeNew.Render(fmt.Sprintf(" %s new ", commas(int64(m.newCount)))))
	}
	if m.hasCursor {
		parts = append(parts, st.HeaderDim.Render(fmt.Sprintf("%s/%s", commas(int64(m.cursor+1)), commas(int64(m.rows.Len())))))
	}
	return padLine(strings.Join(parts, st.HeaderDim.Render(" · ")), w)
}

func (m *Model) showProgress() bool {
	s := m.lastStatus
	return s.Loading && s.Total > 0 && s.Done < s.Total
}

// renderProgress is the indexing progress bar: bytes, rate and ETA.
func (m *Model) renderProgress(w int) string {
	st := m.ctx.styles
	s := m.lastStatus
	frac := float64(s.Done) / float64(max(s.Total, 1))
	rate := m.rate.byteRate(s.Done)
	label := fmt.Sprintf(" indexing %s / %s", humanBytes(s.Done), humanBytes(s.Total))
	if rate > 0 {
		eta := time.Duration(float64(s.Total-s.Done) / rate * float64(time.Second)).Round(time.Second)
		label += fmt.Sprintf(" · %s/s · ETA %s", humanBytes(int64(rate)), eta)
	}
	barW := max(10, min(40, w-ansi.StringWidth(label)-2))
	full := int(frac * float64(barW))
	bar := st.ProgressFull.Render(strings.Repeat("█", full)) + st.ProgressEmpty.Render(strings.Repeat("░", barW-full))
	return padLine(bar+st.ProgressText.Render(label), w)
}

// renderHint is the bottom line: a status message, or the key hints.
func (m *Model) renderHint(w int) string {
	st := m.ctx.styles
	if m.status != "" {
		style := st.OK
		if m.statusErr {
			style = st.Error
		}
		return padLine(style.Render(audit.Sanitize(m.status)), w)
	}
	if m.bar.editing {
		return padLine(m.bar.hint(), w)
	}
	var parts []string
	for _, k := range m.ctx.keys.ShortHelp() {
		h := k.Help()
		parts = append(parts, st.KeyHintKey.Render(h.Key)+" "+st.KeyHintDesc.Render(h.Desc))
	}
	return padLine(strings.Join(parts, "  "), w)
}

// renderBar is the filter line: the editor while editing, else the filter
// in force.
func (m *Model) renderBar(w int) string {
	if m.prompt.active() {
		return padLine(m.prompt.view(), w)
	}
	if m.bar.editing {
		return padLine(m.bar.view(), w)
	}
	st := m.ctx.styles
	if m.filterSrc == "" {
		return padLine(st.FilterPrompt.Render("filter ")+st.Muted.Render("(none — press f to filter)"), w)
	}
	line := st.FilterPrompt.Render("filter ") + st.FilterText.Render(audit.Sanitize(m.filterSrc))
	if m.search.text != "" {
		line += st.Muted.Render("  search ") + st.Match.Render(audit.Sanitize(m.search.text))
	}
	return padLine(line, w)
}

// overlayBox draws a box centred over the screen lines.
func overlayBox(screen []string, box string, width int) {
	lines := strings.Split(box, "\n")
	bw := 0
	for _, l := range lines {
		bw = max(bw, ansi.StringWidth(l))
	}
	bw = min(bw, width)
	x := max(0, (width-bw)/2)
	y0 := max(0, min((len(screen)-len(lines))/2, len(screen)-len(lines)))
	for i, l := range lines {
		y := y0 + i
		if y >= len(screen) {
			break
		}
		row := screen[y]
		left := ansi.Truncate(row, x, "")
		right := ansi.TruncateLeft(row, x+bw, "")
		screen[y] = left + padLine(l, bw) + right
	}
}

// commas prints n with thousands separators.
func commas(n int64) string {
	s := fmt.Sprint(n)
	if n < 0 || len(s) <= 3 {
		return s
	}
	var b strings.Builder
	pre := len(s) % 3
	if pre > 0 {
		b.WriteString(s[:pre])
	}
	for i := pre; i < len(s); i += 3 {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(s[i : i+3])
	}
	return b.String()
}

// cursorTime is the time of the cursor event, or -1.
func (m *Model) cursorTime() int64 {
	if !m.hasCursor {
		return -1
	}
	r := m.view.Rec(m.cursorID)
	if r.Flags&audit.FlagNoTime != 0 {
		return -1
	}
	return r.Time
}

var _ = lipgloss.NewStyle

// plural prints n and the noun, plural unless n is 1: "1 event", "2 events".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return commas(int64(n)) + " " + noun + "s"
}
