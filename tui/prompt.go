package tui

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"time"

	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"ktrail/audit"
)

// promptKind says what a one-line prompt asks for.
type promptKind int

const (
	promptNone promptKind = iota
	promptSearch
	promptTime
	promptSave
	promptOverwrite
	promptPivot
	promptNote
	promptViewName
	promptReport
)

// prompt is the one-line question shown in place of the filter line.
type prompt struct {
	ctx   *programContext
	kind  promptKind
	label string
	input textinput.Model
	path  string // the save path waiting for an overwrite answer
}

func newPrompt(c *programContext) prompt {
	in := textinput.New()
	in.Prompt = ""
	noBlink(&in)
	return prompt{ctx: c, input: in}
}

func (p *prompt) active() bool   { return p.kind != promptNone }
func (p *prompt) setWidth(w int) { p.input.SetWidth(max(10, w-40)) }
func (p *prompt) restyle()       {}
func (p *prompt) close()         { p.kind = promptNone; p.input.Blur() }
func (p *prompt) update(msg tea.Msg) tea.Cmd {
	var cmd tea.Cmd
	p.input, cmd = p.input.Update(msg)
	return cmd
}

func (p *prompt) open(kind promptKind, label, value string) tea.Cmd {
	p.kind, p.label = kind, label
	p.input.SetValue(value)
	p.input.CursorEnd()
	return p.input.Focus()
}

func (p *prompt) view() string {
	st := p.ctx.styles
	text := []rune(p.input.Value())
	pos := min(p.input.Position(), len(text))
	var sb strings.Builder
	sb.WriteString(st.FilterPrompt.Render(p.label))
	for i := 0; i <= len(text); i++ {
		ch := " "
		if i < len(text) {
			ch = audit.Sanitize(string(text[i]))
		}
		if i == pos {
			sb.WriteString(st.RowSelected.Render(ch))
		} else if i < len(text) {
			sb.WriteString(st.FilterText.Render(ch))
		}
	}
	return tailFit(sb.String(), p.ctx.width)
}

// promptKey handles keys while a prompt is open.
func (m *Model) promptKey(msg tea.KeyPressMsg) tea.Cmd {
	p := &m.prompt
	if p.kind == promptOverwrite {
		p.close()
		if s := msg.String(); s == "y" || s == "Y" {
			return m.saveCmd(p.path, true)
		}
		m.setStatus("not saved: "+p.path+" exists", true)
		return nil
	}
	switch msg.String() {
	case "esc":
		p.close()
		return nil
	case "enter":
		val := strings.TrimSpace(p.input.Value())
		kind := p.kind
		p.close()
		switch kind {
		case promptSearch:
			return m.startSearch(val)
		case promptTime:
			m.jumpToTime(val)
		case promptSave:
			if val == "" {
				return nil
			}
			return m.saveCmd(val, false)
		case promptPivot:
			return m.setPivotSpec(val)
		case promptNote:
			m.setNote(val)
		case promptViewName:
			m.saveView(val)
		case promptReport:
			if val != "" {
				return m.reportCmd(val)
			}
		}
		return nil
	}
	return p.update(msg)
}

// jumpToTime moves the cursor to the first event at or after the time
// typed: RFC 3339, "2006-01-02 15:04[:05]", "15:04[:05]" on the cursor's
// day, or a duration before the last event ("10m").
func (m *Model) jumpToTime(s string) {
	t, err := m.parseJump(s)
	if err != nil {
		m.setStatus(err.Error(), true)
		return
	}
	m.follow = false
	m.moveTo(m.rows.searchTime(t.UnixNano()))
	m.setStatus("jumped to "+t.In(m.ctx.loc()).Format("2006-01-02 15:04:05"), false)
}

func (m *Model) parseJump(s string) (time.Time, error) {
	loc := m.ctx.loc()
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02 15:04:05", "2006-01-02 15:04", "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, nil
		}
	}
	base := time.Now().In(loc)
	if t := m.cursorTime(); t >= 0 {
		base = time.Unix(0, t).In(loc)
	}
	for _, layout := range []string{"15:04:05", "15:04"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return time.Date(base.Year(), base.Month(), base.Day(), t.Hour(), t.Minute(), t.Second(), 0, loc), nil
		}
	}
	if d, err := time.ParseDuration(strings.TrimPrefix(s, "-")); err == nil && m.rows.Len() > 0 {
		last := m.rows.Rec(m.rows.Len() - 1).Time
		return time.Unix(0, last).Add(-d), nil
	}
	return time.Time{}, fmt.Errorf("time %q: use 15:04, 15:04:05, 2006-01-02 15:04, RFC 3339, or 10m (before the last event)", s)
}

// savedMsg reports a finished save.
type savedMsg struct {
	path string
	n    int
	err  error
}

// saveCmd writes the matching events to path off the render path.
func (m *Model) saveCmd(path string, overwrite bool) tea.Cmd {
	save, v, r := m.ctx.opts.Save, m.view, m.rows
	ids := r.ids
	return func() tea.Msg {
		if r.all {
			ids = make([]uint32, 0, r.Len())
			v.EachID(0, v.Len(), func(_ int, id uint32) bool { ids = append(ids, id); return true })
		}
		n, err := save(context.Background(), path, v, ids, overwrite)
		return savedMsg{path: path, n: n, err: err}
	}
}

func (m *Model) onSaved(msg savedMsg) {
	switch {
	case errors.Is(msg.err, fs.ErrExist):
		m.prompt.kind, m.prompt.path = promptOverwrite, msg.path
		m.prompt.label = audit.Sanitize(msg.path) + " exists — overwrite? (y/N) "
		m.prompt.input.SetValue("")
	case msg.err != nil:
		m.setStatus("save: "+msg.err.Error(), true)
	default:
		m.setStatus(fmt.Sprintf("saved %s to %s", plural(msg.n, "event"), audit.Sanitize(msg.path)), false)
	}
}

// noBlink stops the input's virtual cursor from blinking: the TUI draws
// its own cursor, and a blinking one would wake the program twice a
// second for nothing.
func noBlink(in *textinput.Model) {
	st := in.Styles()
	st.Cursor.Blink = false
	in.SetStyles(st)
}
