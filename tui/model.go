// Package tui is ktrail's terminal user interface: a bubbletea v2 model
// over an audit.Store with a timeline, a virtualised event list, a detail
// pane and a filter bar. It renders only what is visible and receives new
// events as batched ticks, never one message per event.
package tui

import (
	"context"
	"slices"
	"time"

	tea "charm.land/bubbletea/v2"

	"ktrail/audit"
	"ktrail/filters"
	"ktrail/tui/timeline"
)

// tickInterval paces live updates: at most 20 batches a second.
const tickInterval = 50 * time.Millisecond

// focusArea is the pane that receives keys.
type focusArea int

const (
	focusList focusArea = iota
	focusDetail
	focusTimeline
)

// overlay is a modal layer over the panes.
type overlay int

const (
	overlayNone overlay = iota
	overlayHelp
	overlayColumns
	overlayViews
	overlayDetections
)

// step is one entry of the undo stack that Esc pops.
type step struct {
	filter string
	pivot  bool // the step was a pivot drill-down: undoing it reopens the pivot
}

// Model is the root bubbletea model.
type Model struct {
	ctx *programContext

	view      *audit.View // the snapshot rows refer to
	filter    *filters.Filter
	filterSrc string
	filterGen int
	steps     []step
	rows      rows
	rowsGen   int  // counts row set changes
	evaluated int  // records of view covered by rows
	evalBusy  bool // a full evaluation is running
	tailBusy  bool
	evalErrs  int64

	cursor, top int
	cursorID    uint32
	hasCursor   bool
	follow      bool
	newCount    int
	col         int // focused column in the list
	columns     []*column
	colsVersion int
	rowCache    rowCache

	focus   focusArea
	overlay overlay
	detail  detailPane
	tl      timelinePane
	det     detections
	bar     filterBar
	search  searchState
	prompt  prompt
	colPick int

	pivot       pivotView
	pivotFields []pivotField
	side        sidePane
	marks       markSet
	views       []View
	viewPick    int
	started     bool // New is done: state changes are saved from now on

	status     string
	statusErr  bool
	statusAt   time.Time
	rate       rateMeter
	lastStatus Status
	quitting   bool
}

// New returns the model; call it with the options cmd has prepared.
func New(opts Options) *Model {
	c := &programContext{keys: DefaultKeyMap(), store: opts.Store, opts: opts, width: 80, height: 24}
	c.setTheme(opts.Theme)
	m := &Model{ctx: c, follow: opts.Follow}
	m.columns = pickColumns(opts.Columns)
	m.view = opts.Store.View()
	m.rows = rows{v: m.view, all: true}
	m.tl.state.Mode = timeline.ByOutcome
	m.bar = newFilterBar(c, opts.History)
	m.prompt = newPrompt(c)
	m.pivotFields = pivotFields()
	m.marks = newMarkSet(opts.Session)
	m.views = slices.Clone(opts.Views)
	src := opts.Filter
	if src == "" && opts.Session != nil {
		src = opts.Session.Filter
		if m.setFilter(src) != nil {
			src = "" // a session's filter that no longer compiles is dropped
		}
	}
	if m.filter == nil {
		if err := m.setFilter(src); err != nil {
			m.setStatus(err.Error(), true)
			m.bar.start(src)
		}
	}
	if s := opts.Session; s != nil {
		m.restoreWindow(s.From, s.To)
	}
	m.started = true
	return m
}

// Init starts the live tick and the first evaluation.
func (m *Model) Init() tea.Cmd {
	return tea.Batch(tick(), m.evalCmd(), m.histCmd(true))
}

type tickMsg time.Time

func tick() tea.Cmd {
	return tea.Tick(tickInterval, func(t time.Time) tea.Msg { return tickMsg(t) })
}

// Update is a thin switch: each message has its own handler.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.ctx.width, m.ctx.height = msg.Width, msg.Height
		m.bar.setWidth(msg.Width)
		m.prompt.setWidth(msg.Width)
		m.clampScroll()
		return m, m.histCmd(true)
	case tickMsg:
		return m, m.onTick(time.Time(msg))
	case evalMsg:
		return m, m.onEval(msg)
	case tailMsg:
		return m, m.onTail(msg)
	case histMsg:
		return m, m.onHist(msg)
	case detMsg:
		m.onDet(msg)
		return m, nil
	case valuesMsg:
		m.bar.onValues(msg)
		return m, nil
	case searchMsg:
		m.onSearch(msg)
		return m, nil
	case savedMsg:
		m.onSaved(msg)
		return m, nil
	case pivotMsg:
		return m, m.onPivot(msg)
	case pivotSortMsg:
		m.onPivotSort(msg)
		return m, nil
	case sideMsg:
		m.onSide(msg)
		return m, nil
	case reportMsg:
		m.onReport(msg)
		return m, nil
	case tea.KeyPressMsg:
		return m, m.onKey(msg)
	case tea.MouseWheelMsg:
		return m, m.onWheel(msg)
	case tea.MouseClickMsg:
		return m, m.onClick(msg)
	case tea.PasteMsg:
		return m, m.onPaste(msg)
	}
	return m, nil
}

// onTick polls the Store (new events arrive as one batch per tick) and
// the sources' status.
func (m *Model) onTick(now time.Time) tea.Cmd {
	cmds := []tea.Cmd{tick()}
	if m.ctx.opts.Status != nil {
		m.lastStatus = m.ctx.opts.Status()
	}
	v := m.ctx.store.View()
	m.rate.observe(now, v.Len(), m.lastStatus.Done)
	if v.NumRecs() > m.evaluated && !m.evalBusy && !m.tailBusy {
		m.tailBusy = true
		cmds = append(cmds, m.tailCmd(v))
	}
	if m.status != "" && !m.statusErr && now.Sub(m.statusAt) > 4*time.Second {
		m.status = ""
	}
	cmds = append(cmds, m.histCmd(false), m.refreshPivot(false), m.detCmd(v))
	return tea.Batch(cmds...)
}

// evalMsg carries the result of evaluating the whole view.
type evalMsg struct {
	gen       int
	v         *audit.View
	ids       []uint32
	all       bool
	evaluated int
	err       error
}

// evalCmd evaluates the current filter over the current snapshot.
func (m *Model) evalCmd() tea.Cmd {
	f, gen := m.filter, m.filterGen
	v := m.ctx.store.View()
	m.evalBusy = true
	if f == nil || f.MatchAll() {
		return func() tea.Msg { return evalMsg{gen: gen, v: v, all: true, evaluated: v.NumRecs()} }
	}
	return func() tea.Msg {
		ids, err := f.Eval(context.Background(), v)
		return evalMsg{gen: gen, v: v, ids: ids, evaluated: v.NumRecs(), err: err}
	}
}

func (m *Model) onEval(msg evalMsg) tea.Cmd {
	if msg.gen != m.filterGen {
		return nil
	}
	m.evalBusy = false
	if msg.err != nil {
		m.setStatus("filter: "+msg.err.Error(), true)
		return nil
	}
	m.setRows(rows{v: msg.v, all: msg.all, ids: msg.ids}, msg.evaluated, true)
	m.marks.resolve(m.ctx.store, msg.v)
	return tea.Batch(m.histCmd(true), m.refreshPivot(true))
}

// tailMsg carries the matches among records that arrived since the last
// evaluation.
type tailMsg struct {
	gen       int
	v         *audit.View
	ids       []uint32
	evaluated int
}

// tailCmd evaluates only the records added since the last evaluation.
func (m *Model) tailCmd(v *audit.View) tea.Cmd {
	f, gen, from := m.filter, m.filterGen, m.evaluated
	if f == nil || f.MatchAll() {
		return func() tea.Msg { return tailMsg{gen: gen, v: v, evaluated: v.NumRecs()} }
	}
	return func() tea.Msg {
		ids, _ := f.EvalNew(context.Background(), v, from)
		return tailMsg{gen: gen, v: v, ids: ids, evaluated: v.NumRecs()}
	}
}

func (m *Model) onTail(msg tailMsg) tea.Cmd {
	m.tailBusy = false
	if msg.gen != m.filterGen || m.evalBusy {
		return nil
	}
	r := rows{v: msg.v, all: m.rows.all}
	if !r.all {
		r.ids = mergeTail(msg.v, m.rows.ids, msg.ids)
	}
	m.setRows(r, msg.evaluated, false)
	m.marks.resolve(m.ctx.store, msg.v)
	return nil
}

// mergeTail adds the new matches to the old: an append when they all sort
// after the old ones (the usual live case), a merge otherwise.
func mergeTail(v *audit.View, old, add []uint32) []uint32 {
	if len(add) == 0 {
		return old
	}
	if len(old) == 0 || v.Compare(old[len(old)-1], add[0]) < 0 {
		return append(old, add...)
	}
	return filters.Merge(v, old, add)
}

// setRows installs a new row set and keeps the cursor on its event (or on
// the newest one when following).
func (m *Model) setRows(r rows, evaluated int, replaced bool) {
	before := m.rows.Len()
	m.rows, m.view, m.evaluated = r, r.v, evaluated
	n := r.Len()
	switch {
	case n == 0:
		m.cursor, m.top, m.hasCursor = 0, 0, false
	case m.follow:
		m.moveTo(n - 1)
	case !m.hasCursor:
		m.moveTo(0)
	default:
		i, _ := r.find(m.cursorID)
		m.moveTo(min(i, n-1))
		// Events arriving on a live input are "new"; the first pass
		// over a file is not news.
		if !replaced && n > before && m.lastStatus.Live {
			m.newCount += n - before
		}
	}
	if replaced {
		m.newCount = 0
	}
	m.search.invalidate()
	m.rowsGen++
	m.tl.dirty = true
	m.ctx.multiDay = spansDays(m.view, m.ctx.loc())
}

// spansDays reports whether the view's timed events fall on more than one
// calendar day.
func spansDays(v *audit.View, loc *time.Location) bool {
	n := v.Len()
	if n == 0 {
		return false
	}
	first, last := v.At(0), v.At(n-1)
	if first.Flags&audit.FlagNoTime != 0 {
		i := v.Search(1)
		if i >= n {
			return false
		}
		first = v.At(i)
	}
	y1, m1, d1 := time.Unix(0, first.Time).In(loc).Date()
	y2, m2, d2 := time.Unix(0, last.Time).In(loc).Date()
	return y1 != y2 || m1 != m2 || d1 != d2
}

// moveTo puts the cursor on row i and scrolls it into view.
func (m *Model) moveTo(i int) {
	n := m.rows.Len()
	if n == 0 {
		m.cursor, m.hasCursor = 0, false
		return
	}
	i = max(0, min(i, n-1))
	m.cursor, m.cursorID, m.hasCursor = i, m.rows.ID(i), true
	m.clampScroll()
	if m.detail.open {
		m.detail.show(m.ctx, m.view, m.cursorID)
	}
	if m.side.open {
		m.syncSide()
	}
	if i == n-1 {
		m.newCount = 0
	}
}

// clampScroll keeps the cursor inside the visible list window.
func (m *Model) clampScroll() {
	h := max(1, m.layout().listRows)
	if m.cursor < m.top {
		m.top = m.cursor
	}
	if m.cursor >= m.top+h {
		m.top = m.cursor - h + 1
	}
	m.top = max(0, min(m.top, m.rows.Len()-h))
}

// setFilter compiles src and, when it is valid, makes it the filter and
// starts evaluating it. The previous filter goes on the undo stack.
func (m *Model) setFilter(src string) error {
	f, err := filters.Compile(m.ctx.store, []string{src}, filters.Options{Now: m.ctx.opts.Now})
	if err != nil {
		return err
	}
	if m.filter != nil {
		m.steps = append(m.steps, step{filter: m.filterSrc})
	}
	m.installFilter(f, src)
	return nil
}

func (m *Model) installFilter(f *filters.Filter, src string) {
	m.filter, m.filterSrc = f, src
	m.filterGen++
	m.newCount = 0
	if src != "" && m.ctx.opts.OnHistory != nil {
		m.ctx.opts.OnHistory(src)
	}
	m.bar.remember(src)
	m.saveSession()
}

// undo pops the last filter step.
func (m *Model) undo() tea.Cmd {
	if len(m.steps) == 0 {
		return nil
	}
	s := m.steps[len(m.steps)-1]
	m.steps = m.steps[:len(m.steps)-1]
	f, err := filters.Compile(m.ctx.store, []string{s.filter}, filters.Options{Now: m.ctx.opts.Now})
	if err != nil {
		return nil
	}
	m.filter, m.filterSrc = f, s.filter
	m.filterGen++
	if s.pivot {
		m.pivot.open = true
		m.pivot.rowsGen = -1 // count again once the rows are back
	}
	m.saveSession()
	return m.evalCmd()
}

func (m *Model) setStatus(s string, isErr bool) {
	m.status, m.statusErr, m.statusAt = s, isErr, time.Now()
}

// rateMeter measures events per second over the last second or so.
// It measures indexed bytes per second the same way.
type rateMeter struct {
	at         time.Time
	n          int
	done       int64
	rate, brat float64
}

func (r *rateMeter) observe(now time.Time, n int, done int64) {
	if r.at.IsZero() {
		r.at, r.n, r.done = now, n, done
		return
	}
	if d := now.Sub(r.at); d >= time.Second {
		r.rate = float64(n-r.n) / d.Seconds()
		r.brat = float64(done-r.done) / d.Seconds()
		r.at, r.n, r.done = now, n, done
	}
}

// byteRate returns the indexed bytes per second.
func (r *rateMeter) byteRate(int64) float64 { return r.brat }
