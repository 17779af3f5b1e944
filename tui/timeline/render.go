package timeline

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
)

// Styles are the looks of the histogram. They should set colours and
// text attributes only: padding, margins or widths would break the
// exact line widths Render promises.
type Styles struct {
	// Stack styles the bars of each class, [mode][class], bottom up.
	// When the upper class of a fully covered cell has a foreground
	// colour, the cell shows the class boundary with an eighth block in
	// the lower class's colour on that colour as background.
	Stack [2][3]lipgloss.Style
	// Axis styles the axis line's filler, Label the time labels and the
	// top label line, Cursor the cursor mark.
	Axis, Label, Cursor lipgloss.Style
	// Selection is inherited by every cell of the selected buckets
	// (typically a background colour).
	Selection lipgloss.Style
	// Empty styles the baseline mark of buckets without events.
	Empty lipgloss.Style
	// Gap styles the band on the axis line under a silent period and
	// the largest gap's note on the top label line.
	Gap lipgloss.Style
}

// The characters Render draws.
const (
	emptyMark  = "·"
	cursorMark = "▲"
	selFill    = "─"
	gapFill    = "░"
)

// eighths[n] is a block n eighths high.
var eighths = [9]string{" ", "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"}

// Render draws h in exactly width columns and height lines, one bucket
// per column from the left (columns past the last bucket stay blank).
// With height 1 it draws only the bars; with 2 the bars and the axis
// line; from 3 on a top label line (step, total, largest bucket, legend)
// comes first. Bars stack the classes bottom up, scaled linearly to
// h.Max with eighth blocks; every class present gets at least one
// eighth, and a bucket without events shows a dim '·' on the baseline.
// The axis line has time labels (HH:MM, or HH:MM:SS when the step is
// under a minute; MM-DD at a day boundary when [From, To) spans several
// calendar days) in UTC when utc is set, else local time. The bucket
// holding cursorTime (negative: none) gets a '▲' on the axis line, and
// the buckets meeting [selFrom, selTo) (selFrom negative: none) take the
// Selection style, with '─' on the axis line under them. The buckets
// meeting a gap of h.Gaps get '░' in the Gap style on the axis line
// (over time labels, under the cursor mark), and the top label line
// names the largest gap when it fits.
func Render(h Histogram, st Styles, width, height int, cursorTime, selFrom, selTo int64, utc bool) string {
	if width <= 0 || height <= 0 {
		return ""
	}
	loc := time.Local
	if utc {
		loc = time.UTC
	}
	p := &painter{st: st, mode: h.Mode.index(), cache: map[styleKey]lipgloss.Style{}}
	selected := make([]bool, width)
	if selFrom >= 0 && selTo > selFrom {
		for x := range min(width, len(h.Counts)) {
			from, to, _ := h.BucketAt(x)
			selected[x] = from < selTo && to > selFrom
		}
	}
	barRows := max(height-1, 1)
	var lines []string
	if height >= 3 {
		barRows = height - 2
		lines = append(lines, p.header(h, width, loc))
	}
	grid := make([][]cell, barRows)
	for r := range grid {
		grid[r] = make([]cell, width)
	}
	for x := range width {
		p.column(h, x, grid, selected[x])
	}
	// grid[0] is the bottom row.
	for r := barRows - 1; r >= 0; r-- {
		lines = append(lines, p.line(grid[r]))
	}
	if height >= 2 {
		cx := -1
		if cursorTime >= 0 {
			cx = h.XOf(cursorTime)
		}
		lines = append(lines, p.line(p.axis(h, width, cx, selected, loc)))
	}
	return strings.Join(lines, "\n")
}

// kind is what a cell shows, for picking its style.
type kind uint8

const (
	kBlank kind = iota
	kBar        // a bar cell of class a
	kTwo        // a bar cell of class a (foreground) below class b (background)
	kEmpty
	kGap
	kAxis
	kLabel
	kCursor
)

// styleKey identifies a cell's style; cells with equal keys are drawn
// as one run.
type styleKey struct {
	kind kind
	a, b int8
	sel  bool
}

// cell is one terminal cell.
type cell struct {
	s string
	k styleKey
}

// painter turns cells into styled lines, caching derived styles.
type painter struct {
	st    Styles
	mode  int
	cache map[styleKey]lipgloss.Style
}

// style returns the style for k.
func (p *painter) style(k styleKey) lipgloss.Style {
	if s, ok := p.cache[k]; ok {
		return s
	}
	var s lipgloss.Style
	switch k.kind {
	case kBar:
		s = p.st.Stack[p.mode][k.a]
	case kTwo:
		s = p.st.Stack[p.mode][k.a].Background(p.st.Stack[p.mode][k.b].GetForeground())
	case kEmpty:
		s = p.st.Empty
	case kGap:
		s = p.st.Gap
	case kAxis:
		s = p.st.Axis
	case kLabel:
		s = p.st.Label
	case kCursor:
		s = p.st.Cursor
	}
	if k.sel {
		s = s.Inherit(p.st.Selection)
	}
	p.cache[k] = s
	return s
}

// line renders cells, one style per run of equal keys.
func (p *painter) line(cells []cell) string {
	var b, run strings.Builder
	for i := 0; i < len(cells); {
		k := cells[i].k
		run.Reset()
		for ; i < len(cells) && cells[i].k == k; i++ {
			s := cells[i].s
			if s == "" {
				s = " "
			}
			run.WriteString(s)
		}
		if k == (styleKey{}) {
			b.WriteString(run.String())
		} else {
			b.WriteString(p.style(k).Render(run.String()))
		}
	}
	return b.String()
}

// hasColor reports whether s sets a foreground colour.
func hasColor(s lipgloss.Style) bool {
	_, none := s.GetForeground().(lipgloss.NoColor)
	return !none
}

// column fills column x of grid (bottom row first) with the bar of the
// bucket drawn there.
func (p *painter) column(h Histogram, x int, grid [][]cell, sel bool) {
	blank := cell{" ", styleKey{kind: kBlank, sel: sel}}
	for r := range grid {
		grid[r][x] = blank
	}
	if x >= len(h.Counts) {
		return
	}
	c := h.Counts[x]
	if c[0]+c[1]+c[2] == 0 {
		grid[0][x] = cell{emptyMark, styleKey{kind: kEmpty, sel: sel}}
		return
	}
	e := stack(c, h.Max, 8*len(grid))
	var start [3]int
	for k := 1; k < 3; k++ {
		start[k] = start[k-1] + e[k-1]
	}
	for r := range grid {
		lo, hi := 8*r, 8*r+8
		var o [3]int // the eighths of each class in this cell
		filled, top := 0, -1
		for k := range 3 {
			o[k] = max(0, min(hi, start[k]+e[k])-max(lo, start[k]))
			filled += o[k]
			if o[k] > 0 {
				top = k
			}
		}
		if filled == 0 {
			break
		}
		key := styleKey{kind: kBar, a: int8(top), sel: sel}
		ch := eighths[filled]
		if filled == 8 && o[top] < 8 && hasColor(p.st.Stack[p.mode][top]) {
			below := top - 1
			for o[below] == 0 {
				below--
			}
			key = styleKey{kind: kTwo, a: int8(below), b: int8(top), sel: sel}
			ch = eighths[8-o[top]]
		}
		grid[r][x] = cell{ch, key}
	}
}

// stack returns how many eighths of a bar of capE eighths each class
// gets: the bar's height is its total scaled to maxv, split by cumulative
// rounding, and every class present gets at least one eighth.
func stack(c [3]uint32, maxv uint32, capE int) (e [3]int) {
	tot := uint64(c[0]) + uint64(c[1]) + uint64(c[2])
	if tot == 0 || maxv == 0 {
		return e
	}
	m := uint64(maxv)
	t := int((tot*uint64(capE)*2 + m) / (2 * m))
	present := 0
	for _, n := range c {
		if n > 0 {
			present++
		}
	}
	t = min(max(t, present), capE)
	var cum uint64
	prev := 0
	for k, n := range c {
		cum += uint64(n)
		b := int((cum*uint64(t)*2 + tot) / (2 * tot))
		e[k], prev = b-prev, b
	}
	for k, n := range c {
		if n > 0 && e[k] == 0 {
			j := 0
			for i := range e {
				if e[i] > e[j] {
					j = i
				}
			}
			e[j]--
			e[k]++
		}
	}
	return e
}

// header returns the top label line: step, total and largest bucket on
// the left, the classes' legend on the right when it fits.
func (p *painter) header(h Histogram, width int, loc *time.Location) string {
	var text, gap string
	if h.Step > 0 {
		noun := "events"
		if h.Total == 1 {
			noun = "event"
		}
		text = fmt.Sprintf("%s/col · %s %s · max %s", stepText(h.Step), group(h.Total), noun, group(int(h.Max)))
		if g, ok := (Gaps{List: h.Gaps}).Largest(); ok {
			gap = " · " + GapText(g, loc)
		}
	}
	if ansi.StringWidth(text+gap) > width {
		gap = ""
	}
	text = ansi.Truncate(text, width, "…")
	tw := ansi.StringWidth(text + gap)
	names := h.Mode.ClassNames()
	lw := len(names[0]) + len(names[1]) + len(names[2]) + 2
	var b strings.Builder
	b.WriteString(p.st.Label.Render(text))
	if gap != "" {
		b.WriteString(p.st.Gap.Render(gap))
	}
	if h.Step > 0 && tw+2+lw <= width {
		b.WriteString(strings.Repeat(" ", width-tw-lw))
		for k, n := range names {
			if k > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(p.st.Stack[p.mode][k].Render(n))
		}
	} else {
		b.WriteString(strings.Repeat(" ", width-tw))
	}
	return b.String()
}

// stepText formats a bucket size: 30s, 5m, 2h, 7d.
func stepText(step int64) string {
	d := time.Duration(step)
	for _, u := range []struct {
		d    time.Duration
		name string
	}{{day, "d"}, {time.Hour, "h"}, {time.Minute, "m"}, {time.Second, "s"}} {
		if d >= u.d && d%u.d == 0 {
			return strconv.FormatInt(int64(d/u.d), 10) + u.name
		}
	}
	return d.String()
}

// group formats n with thousands separators.
func group(n int) string {
	s := strconv.Itoa(n)
	if n < 0 {
		return s
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// label is an axis label at column x.
type label struct {
	x    int
	text string
}

// axis returns the cells of the axis line: the cursor mark at column cx
// (-1: none), time labels where they fit without touching each other or
// the cursor (day labels placed first), '─' under the selection.
func (p *painter) axis(h Histogram, width, cx int, selected []bool, loc *time.Location) []cell {
	cells := make([]cell, width)
	used := make([]bool, width)
	for x := range cells {
		if selected[x] {
			cells[x] = cell{selFill, styleKey{kind: kAxis, sel: true}}
		} else {
			cells[x] = cell{" ", styleKey{kind: kAxis}}
		}
	}
	for _, g := range h.Gaps {
		a, b := gapColumns(h, g, width)
		for x := a; x <= b; x++ {
			cells[x] = cell{gapFill, styleKey{kind: kGap, sel: selected[x]}}
			used[x] = true
		}
	}
	if cx >= 0 && cx < width {
		cells[cx] = cell{cursorMark, styleKey{kind: kCursor, sel: selected[cx]}}
		used[cx] = true
	}
	days, times := labels(h, min(width, len(h.Counts)), loc)
	for _, l := range append(days, times...) {
		end := l.x + len(l.text) // labels are ASCII
		if end > width {
			continue
		}
		free := true
		for x := max(l.x-1, 0); x < min(end+1, width); x++ {
			free = free && !used[x]
		}
		if !free {
			continue
		}
		for i := range len(l.text) {
			x := l.x + i
			used[x] = true
			cells[x] = cell{l.text[i : i+1], styleKey{kind: kLabel, sel: selected[x]}}
		}
	}
	return cells
}

// labels returns the candidate axis labels of the first n buckets: the
// buckets holding a multiple of a nice label interval (in loc's wall
// time), as dates where a day begins and the range spans several days,
// else as times.
func labels(h Histogram, n int, loc *time.Location) (days, times []label) {
	if h.Step <= 0 || n <= 0 {
		return nil, nil
	}
	layout := "15:04"
	if h.Step < int64(time.Minute) {
		layout = "15:04:05"
	}
	gap := int64(len(layout) + 2) // columns from one label to the next
	every := h.Step * gap
	for _, s := range niceSteps {
		if int64(s)%h.Step == 0 && int64(s)/h.Step >= gap {
			every = int64(s)
			break
		}
	}
	multiDay := dayOf(h.From, loc) != dayOf(h.To-1, loc)
	for x := range n {
		from, to, _ := h.BucketAt(x)
		_, off := time.Unix(0, from).In(loc).Zone()
		a, b := from+int64(off)*1e9, to+int64(off)*1e9
		if floorDiv(b-1, every)*every < a {
			continue // no multiple of the interval in this bucket
		}
		if d, ok := dayStart(from, to, loc); ok && (multiDay || h.Step >= int64(day)) {
			days = append(days, label{x, d.Format("01-02")})
			continue
		}
		times = append(times, label{x, time.Unix(0, from).In(loc).Format(layout)})
	}
	return days, times
}

// dayOf returns t's calendar date in loc as yyyymmdd.
func dayOf(t int64, loc *time.Location) int {
	y, m, d := time.Unix(0, t).In(loc).Date()
	return y*10000 + int(m)*100 + d
}

// dayStart returns the first midnight in [from, to), if any.
func dayStart(from, to int64, loc *time.Location) (time.Time, bool) {
	t := time.Unix(0, from).In(loc)
	y, m, d := t.Date()
	mid := time.Date(y, m, d, 0, 0, 0, 0, loc)
	if !mid.Equal(t) {
		mid = time.Date(y, m, d+1, 0, 0, 0, 0, loc)
	}
	return mid, mid.UnixNano() < to
}

// gapColumns returns the first and last columns whose buckets lie
// inside the gap; a gap shorter than a bucket marks the bucket holding
// its middle. a > b when nothing is drawn.
func gapColumns(h Histogram, g Gap, width int) (a, b int) {
	n := min(width, len(h.Counts))
	if h.Step <= 0 || n == 0 || g.To <= h.From || g.From >= h.To {
		return 0, -1
	}
	a = int(floorDiv(g.From-h.From+h.Step-1, h.Step))
	b = int(floorDiv(g.To-h.From, h.Step)) - 1
	if a > b {
		mid := g.From + (g.To-g.From)/2
		a = int(floorDiv(mid-h.From, h.Step))
		b = a
	}
	return max(a, 0), min(b, n-1)
}

// GapText describes a gap: "gap 10m2s from 14:11:58".
func GapText(g Gap, loc *time.Location) string {
	d := g.Len().Round(time.Second)
	return "gap " + d.String() + " from " + time.Unix(0, g.From).In(loc).Format("15:04:05")
}
