package tui

import (
	"errors"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"ktrail/audit"
	"ktrail/filters"
)

// filterBar edits the filter expression: live checking with the error's
// position, completion of field names and of values present in the data,
// and history on ↑/↓.
type filterBar struct {
	ctx     *programContext
	input   textinput.Model
	editing bool
	err     *filters.CompileError
	errText string

	history []string
	histPos int // len(history) = the line being edited
	draft   string

	cands    []string // completions for the token at the cursor
	candSel  int
	tokFrom  int // rune offset where the completed token starts
	cycling  bool
	cycleEnd int

	values map[string]fieldValues // per field, the values seen in the data
	asked  map[string]bool
}

// fieldValues are the distinct values of one field, most frequent first.
type fieldValues struct {
	recs int // number of records scanned
	vals []string
}

func newFilterBar(c *programContext, history []string) filterBar {
	in := textinput.New()
	in.Prompt = ""
	noBlink(&in)
	in.KeyMap.AcceptSuggestion = key.NewBinding(key.WithDisabled())
	in.KeyMap.NextSuggestion = key.NewBinding(key.WithDisabled())
	in.KeyMap.PrevSuggestion = key.NewBinding(key.WithDisabled())
	b := filterBar{ctx: c, input: in, history: slices.Clone(history), values: map[string]fieldValues{}, asked: map[string]bool{}}
	b.histPos = len(b.history)
	return b
}

func (b *filterBar) setWidth(w int) { b.input.SetWidth(max(10, w-10)) }

func (b *filterBar) restyle() {}

// start opens the editor on src.
func (b *filterBar) start(src string) tea.Cmd {
	b.editing = true
	b.input.SetValue(src)
	b.input.CursorEnd()
	b.histPos = len(b.history)
	b.check()
	b.complete()
	return b.input.Focus()
}

func (b *filterBar) stop() {
	b.editing = false
	b.input.Blur()
	b.cands = nil
}

// remember adds an applied filter to the history.
func (b *filterBar) remember(src string) {
	if src == "" || (len(b.history) > 0 && b.history[len(b.history)-1] == src) {
		return
	}
	b.history = append(b.history, src)
	b.histPos = len(b.history)
}

// check compiles the text and keeps the error, if any.
func (b *filterBar) check() {
	b.err, b.errText = nil, ""
	_, err := filters.Compile(b.ctx.store, []string{b.input.Value()}, filters.Options{Now: b.ctx.opts.Now})
	if err != nil {
		var ce *filters.CompileError
		if errors.As(err, &ce) {
			b.err = ce
		}
		b.errText = err.Error()
	}
}

func (b *filterBar) update(msg tea.Msg) tea.Cmd {
	var cmd tea.Cmd
	b.input, cmd = b.input.Update(msg)
	b.cycling = false
	b.check()
	return tea.Batch(cmd, b.complete())
}

// filterKey handles keys while the filter is being edited.
func (m *Model) filterKey(msg tea.KeyPressMsg) tea.Cmd {
	b := &m.bar
	switch msg.String() {
	case "esc":
		b.stop()
		return nil
	case "enter":
		src := strings.TrimSpace(b.input.Value())
		if b.err != nil {
			return nil // the error is on screen; Enter does not apply it
		}
		b.stop()
		if src == m.filterSrc {
			return nil
		}
		if err := m.setFilter(src); err != nil {
			m.setStatus(err.Error(), true)
			return nil
		}
		return m.evalCmd()
	case "tab", "shift+tab":
		b.accept(msg.String() == "tab")
		return b.complete()
	case "up":
		b.older()
		return nil
	case "down":
		b.newer()
		return nil
	}
	return b.update(msg)
}

func (b *filterBar) older() {
	if b.histPos == 0 || len(b.history) == 0 {
		return
	}
	if b.histPos == len(b.history) {
		b.draft = b.input.Value()
	}
	b.histPos--
	b.input.SetValue(b.history[b.histPos])
	b.input.CursorEnd()
	b.check()
}

func (b *filterBar) newer() {
	if b.histPos >= len(b.history) {
		return
	}
	b.histPos++
	if b.histPos == len(b.history) {
		b.input.SetValue(b.draft)
	} else {
		b.input.SetValue(b.history[b.histPos])
	}
	b.input.CursorEnd()
	b.check()
}

// helperNames are the functions completion offers besides field names.
var helperNames = []string{"since(", "after(", "before(", "duration(", "now()", "isHuman()", "isSystem()", "isServiceAccount()",
	"cidr(", "matches", "contains", "startsWith", "endsWith", "lower(", "upper(", "in", "not", "and", "or"}

// valueCtx finds `field OP "partial` before the cursor.
var valueCtx = regexp.MustCompile(`([A-Za-z]+)\s*(?:==|!=|startsWith|contains|endsWith|in\s*\[(?:\s*"(?:[^"\\]|\\.)*"\s*,)*)\s*"((?:[^"\\]|\\.)*)$`)

// identTail finds the identifier being typed before the cursor.
var identTail = regexp.MustCompile(`[A-Za-z_][A-Za-z0-9_]*$`)

// complete recomputes the candidates for the token at the cursor; it may
// start a scan for the values of a field.
func (b *filterBar) complete() tea.Cmd {
	if b.cycling {
		return nil
	}
	text := []rune(b.input.Value())
	pos := min(b.input.Position(), len(text))
	before := string(text[:pos])
	b.cands, b.candSel = nil, -1
	if mm := valueCtx.FindStringSubmatch(before); mm != nil {
		field, part := mm[1], mm[2]
		b.tokFrom = pos - len([]rune(part)) - 1
		fv, ok := b.values[field]
		v := b.ctx.store.View()
		if !ok || (fv.recs < v.NumRecs() && !b.asked[field]) {
			if getter := fieldGetter(field); getter != nil && !b.asked[field] {
				b.asked[field] = true
				return scanValues(b.ctx.store, v, field, getter)
			}
		}
		lp := strings.ToLower(part)
		for _, val := range fv.vals {
			if strings.HasPrefix(strings.ToLower(val), lp) {
				b.cands = append(b.cands, strconv.Quote(val))
				if len(b.cands) == 50 {
					break
				}
			}
		}
		return nil
	}
	id := identTail.FindString(before)
	if id == "" {
		return nil
	}
	b.tokFrom = pos - len([]rune(id))
	for _, n := range append(filters.FieldNames(), helperNames...) {
		if strings.HasPrefix(n, id) && n != id {
			b.cands = append(b.cands, n)
		}
	}
	return nil
}

// accept replaces the token at the cursor with the next (or previous)
// candidate; repeated Tabs cycle.
func (b *filterBar) accept(forward bool) {
	if len(b.cands) == 0 {
		return
	}
	if forward {
		b.candSel = (b.candSel + 1) % len(b.cands)
	} else {
		b.candSel = (b.candSel - 1 + len(b.cands)) % len(b.cands)
	}
	text := []rune(b.input.Value())
	pos := min(b.input.Position(), len(text))
	end := pos
	if b.cycling {
		end = b.cycleEnd
	}
	cand := []rune(b.cands[b.candSel])
	out := append(append(slices.Clone(text[:b.tokFrom]), cand...), text[end:]...)
	b.input.SetValue(string(out))
	b.cycleEnd = b.tokFrom + len(cand)
	b.input.SetCursor(b.cycleEnd)
	b.cycling = true
	b.check()
}

// valuesMsg brings the distinct values of a field.
type valuesMsg struct {
	field string
	fv    fieldValues
}

func (b *filterBar) onValues(msg valuesMsg) {
	b.values[msg.field] = msg.fv
	b.asked[msg.field] = false
	if b.editing {
		b.complete()
	}
}

// scanValues counts the values of a field over the records, off the
// render path.
func scanValues(s *audit.Store, v *audit.View, field string, get func(*audit.Rec) uint32) tea.Cmd {
	return func() tea.Msg {
		counts := map[uint32]int{}
		n := v.NumRecs()
		for id := 0; id < n; id++ {
			counts[get(v.Rec(uint32(id)))]++
		}
		type kv struct {
			s string
			n int
		}
		list := make([]kv, 0, len(counts))
		for id, c := range counts {
			if str := s.Str(id); str != "" {
				list = append(list, kv{str, c})
			}
		}
		slices.SortFunc(list, func(a, b kv) int {
			if a.n != b.n {
				return b.n - a.n
			}
			return strings.Compare(a.s, b.s)
		})
		vals := make([]string, len(list))
		for i, e := range list {
			vals[i] = e.s
		}
		return valuesMsg{field: field, fv: fieldValues{recs: n, vals: vals}}
	}
}

// fieldGetter returns the interned id of an indexed string field.
func fieldGetter(field string) func(*audit.Rec) uint32 {
	switch field {
	case "user":
		return func(r *audit.Rec) uint32 { return r.User }
	case "impersonatedUser":
		return func(r *audit.Rec) uint32 { return r.ImpUser }
	case "verb":
		return func(r *audit.Rec) uint32 { return r.Verb }
	case "resource":
		return func(r *audit.Rec) uint32 { return r.Resource }
	case "subresource":
		return func(r *audit.Rec) uint32 { return r.Subres }
	case "namespace", "ns":
		return func(r *audit.Rec) uint32 { return r.NS }
	case "name":
		return func(r *audit.Rec) uint32 { return r.Name }
	case "apiGroup":
		return func(r *audit.Rec) uint32 { return r.APIGroup }
	case "sourceIP":
		return func(r *audit.Rec) uint32 { return r.SourceIP }
	case "userAgent":
		return func(r *audit.Rec) uint32 { return r.UA }
	case "cluster":
		return func(r *audit.Rec) uint32 { return r.Cluster }
	}
	return nil
}

// view draws the editor with the error position marked.
func (b *filterBar) view() string {
	st := b.ctx.styles
	text := []rune(b.input.Value())
	pos := min(b.input.Position(), len(text))
	errAt := -1
	if b.err != nil && b.err.Line == 1 {
		errAt = b.err.Col - 1
	}
	var sb strings.Builder
	sb.WriteString(st.FilterPrompt.Render("filter> "))
	for i := 0; i <= len(text); i++ {
		ch := " "
		if i < len(text) {
			ch = audit.Sanitize(string(text[i]))
		}
		switch {
		case i == pos:
			sb.WriteString(st.RowSelected.Render(ch))
		case i == errAt:
			sb.WriteString(st.FilterErrorPos.Render(ch))
		case i < len(text):
			sb.WriteString(st.FilterText.Render(ch))
		}
	}
	return tailFit(sb.String(), b.ctx.width)
}

// hint is the line under the editor: the error, or how to use it.
func (b *filterBar) hint() string {
	st := b.ctx.styles
	if b.errText != "" {
		return st.FilterError.Render("✗ " + b.errText)
	}
	return st.FilterOK.Render("✓ valid") + st.Muted.Render(" · Enter apply · Esc cancel · Tab complete · ↑/↓ history")
}

// renderCompletions draws the candidates above the editor.
func (b *filterBar) renderCompletions(w int) []string {
	if len(b.cands) == 0 {
		return nil
	}
	st := b.ctx.styles
	var sb strings.Builder
	for i, c := range b.cands {
		if ansi.StringWidth(sb.String()) > w {
			break
		}
		item := " " + audit.Sanitize(c) + " "
		if i == b.candSel {
			sb.WriteString(st.CompletionSelected.Render(item))
		} else {
			sb.WriteString(st.Completion.Render(item))
		}
	}
	return []string{padLine(sb.String(), w)}
}

// tailFit keeps the end of a line that is too wide (where the cursor
// usually is).
func tailFit(s string, w int) string {
	sw := ansi.StringWidth(s)
	if sw <= w {
		return s
	}
	return "…" + ansi.TruncateLeft(s, sw-w+1, "")
}
