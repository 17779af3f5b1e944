package timeline

import (
	"context"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
	"time"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
)

// colourStyles are styles with colours, as the TUI would use.
func colourStyles() Styles {
	var st Styles
	cols := [2][3]string{{"#5f5", "#fa0", "#f33"}, {"#5af", "#fd5", "#f5f"}}
	for m := range 2 {
		for k := range 3 {
			st.Stack[m][k] = lipgloss.NewStyle().Foreground(lipgloss.Color(cols[m][k]))
		}
	}
	st.Axis = lipgloss.NewStyle().Foreground(lipgloss.Color("8"))
	st.Label = lipgloss.NewStyle().Bold(true)
	st.Cursor = lipgloss.NewStyle().Foreground(lipgloss.Color("#fff"))
	st.Selection = lipgloss.NewStyle().Background(lipgloss.Color("#333"))
	st.Empty = lipgloss.NewStyle().Faint(true)
	return st
}

// mapStyle returns a style that replaces every character with c.
func mapStyle(c rune) lipgloss.Style {
	return lipgloss.NewStyle().Transform(func(s string) string { return strings.Repeat(string(c), ansi.StringWidth(s)) })
}

// handHist is a 12-bucket histogram of 1m buckets from 10:00 UTC.
func handHist() Histogram {
	return Histogram{
		From: t0.UnixNano(), To: t0.Add(12 * time.Minute).UnixNano(), Step: int64(time.Minute),
		Counts: [][3]uint32{{8, 0, 0}, {4, 0, 0}, {}, {1, 0, 0}, {2, 2, 0}, {0, 0, 8}, {}, {3, 0, 0}, {0, 1, 0}, {6, 0, 0}, {7, 0, 0}, {}},
		Max:    8, Total: 42,
	}
}

func TestRenderExactPlain(t *testing.T) {
	h := handHist()
	cursor := t0.Add(7*time.Minute + 30*time.Second).UnixNano()
	got := Render(h, Styles{}, 12, 3, cursor, -1, 0, true)
	want := "1m/col · 42…\n" +
		"█▄·▁▄█·▃▁▆▇·\n" +
		"10:00  ▲    "
	if got != want {
		t.Errorf("3 lines:\n%s\nwant\n%s", got, want)
	}
	got = Render(h, Styles{}, 12, 4, -1, -1, 0, true)
	want = "1m/col · 42…\n" +
		"█    █   ▄▆ \n" +
		"██·▂██·▆▂██·\n" +
		"10:00       "
	if got != want {
		t.Errorf("4 lines:\n%s\nwant\n%s", got, want)
	}
	// Height 2: no top line; the selection (10:03-10:05) underlines the axis.
	got = Render(h, Styles{}, 12, 2, -1, t0.Add(3*time.Minute).UnixNano(), t0.Add(5*time.Minute).UnixNano(), true)
	want = "█▄·▁▄█·▃▁▆▇·\n" +
		"10:00       "
	if got != want {
		t.Errorf("2 lines:\n%s\nwant\n%s", got, want)
	}
	got = Render(h, Styles{}, 16, 2, -1, t0.Add(9*time.Minute).UnixNano(), t0.Add(11*time.Minute).UnixNano(), true)
	want = "█▄·▁▄█·▃▁▆▇·    \n" +
		"10:00    ─10:10 "
	if got != want {
		t.Errorf("selection:\n%s\nwant\n%s", got, want)
	}
	// A wide top line carries the legend.
	top, _, _ := strings.Cut(Render(h, Styles{}, 50, 3, -1, -1, 0, true), "\n")
	if want := "1m/col · 42 events · max 8" + strings.Repeat(" ", 14) + "ok 4xx 5xx"; top != want {
		t.Errorf("top line %q, want %q", top, want)
	}
	if got := Render(h, Styles{}, 12, 1, -1, -1, 0, true); got != "█▄·▁▄█·▃▁▆▇·" {
		t.Errorf("1 line: %q", got)
	}
}

func TestRenderClassesStackBottomUp(t *testing.T) {
	h := handHist()
	var st Styles
	for k, c := range "ofx" {
		st.Stack[ByOutcome][k] = mapStyle(c)
	}
	lines := strings.Split(Render(h, st, 12, 4, -1, -1, 0, true), "\n")
	// {2,2,0} is half ok, half 4xx: the cell is drawn in the upper class.
	want := []string{
		"o    x   oo ",
		"oo·ofx·ofoo·",
	}
	if lines[1] != want[0] || lines[2] != want[1] {
		t.Errorf("classes:\n%s\n%s\nwant\n%s\n%s", lines[1], lines[2], want[0], want[1])
	}
	h.Mode = ByVerbClass
	if top := Render(h, st, 50, 3, -1, -1, 0, true); !strings.Contains(top, "read write delete") {
		t.Errorf("verb legend missing: %q", top)
	}
}

func TestRenderTwoColourCell(t *testing.T) {
	h := Histogram{From: t0.UnixNano(), To: t0.Add(time.Minute).UnixNano(), Step: int64(time.Minute), Counts: [][3]uint32{{4, 0, 12}}, Max: 16, Total: 16}
	st := colourStyles()
	lines := strings.Split(Render(h, st, 1, 4, -1, -1, 0, true), "\n")
	// 4 ok below 12 5xx in 16 eighths: the bottom cell is half ok (fg)
	// on 5xx (bg), the top cell all 5xx.
	if got := ansi.Strip(lines[1]) + ansi.Strip(lines[2]); got != "█▄" {
		t.Errorf("cells %q, want █▄", got)
	}
	if !strings.Contains(lines[2], "48;") {
		t.Errorf("bottom cell has no background colour: %q", lines[2])
	}
	if strings.Contains(lines[1], "48;") {
		t.Errorf("top cell has a background colour: %q", lines[1])
	}
	// Without colours the cell is simply full.
	if got := Render(h, Styles{}, 1, 4, -1, -1, 0, true); !strings.HasPrefix(got, "…\n█\n█") {
		t.Errorf("plain: %q", got)
	}
}

func TestStackEighths(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for range 5000 {
		var c [3]uint32
		for k := range c {
			if r.IntN(3) > 0 {
				c[k] = uint32(r.IntN(1000))
			}
		}
		tot := c[0] + c[1] + c[2]
		maxv := tot + uint32(r.IntN(100_000))
		capE := 8 * (1 + r.IntN(5))
		e := stack(c, maxv, capE)
		sum := e[0] + e[1] + e[2]
		if sum > capE || (tot > 0) != (sum > 0) {
			t.Fatalf("stack(%v, %d, %d) = %v", c, maxv, capE, e)
		}
		for k := range c {
			if (c[k] > 0) != (e[k] > 0) {
				t.Fatalf("stack(%v, %d, %d) = %v: class %d", c, maxv, capE, e, k)
			}
		}
		if tot == maxv && tot > 0 && sum != capE {
			t.Fatalf("the largest bucket %v is %d of %d eighths", c, sum, capE)
		}
	}
}

func TestRenderLineWidths(t *testing.T) {
	s := genStore(t, 5000, 0.05) // about a day
	v := s.View()
	first, last, _ := Bounds(v, v)
	for _, st := range []Styles{{}, colourStyles()} {
		for _, mode := range []Mode{ByOutcome, ByVerbClass} {
			for _, width := range []int{10, 80, 161} {
				for _, win := range [][2]int64{{first, last + 1}, {first, first + int64(5*time.Minute)}, {first, first + int64(time.Hour)}} {
					h, err := Build(context.Background(), s, v, v, win[0], win[1], width, mode)
					if err != nil {
						t.Fatal(err)
					}
					cursor := h.From + h.Step*int64(h.Len()/2)
					for _, height := range []int{1, 2, 3, 6} {
						out := Render(h, st, width, height, cursor, h.From+h.Step, h.From+4*h.Step, mode == ByOutcome)
						lines := strings.Split(out, "\n")
						if len(lines) != height {
							t.Fatalf("width %d height %d: %d lines", width, height, len(lines))
						}
						for i, l := range lines {
							if w := ansi.StringWidth(l); w != width {
								t.Fatalf("width %d height %d line %d is %d wide: %q", width, height, i, w, l)
							}
						}
					}
				}
			}
		}
	}
	if Render(Histogram{}, Styles{}, 0, 3, -1, -1, 0, true) != "" || Render(Histogram{}, Styles{}, 5, 0, -1, -1, 0, true) != "" {
		t.Error("an empty area is not the empty string")
	}
	if got := Render(Histogram{}, Styles{}, 5, 3, -1, -1, 0, true); got != "     \n     \n     " {
		t.Errorf("histogram without buckets: %q", got)
	}
}

func TestRenderEmptyBucketsVisible(t *testing.T) {
	s := load(t, lines(
		ev("a", 0, "get", 200),
		ev("b", 10*time.Second, "get", 200),
		// Silence from 10:01 to 10:05.
		ev("c", 5*time.Minute, "get", 500),
		ev("d", 9*time.Minute+59*time.Second, "get", 200),
	))
	v := s.View()
	base := t0.UnixNano()
	h, _ := Build(context.Background(), s, v, v, base, base+int64(10*time.Minute), 10, ByOutcome)
	ls := strings.Split(Render(h, Styles{}, 10, 4, -1, -1, 0, true), "\n")
	bottom := []rune(ls[2])
	for x := range h.Len() {
		empty := h.Counts[x] == [3]uint32{}
		if (bottom[x] == '·') != empty {
			t.Errorf("bucket %d (%v) drawn as %q", x, h.Counts[x], bottom[x])
		}
	}
	// Max 2 in 16 eighths: one event fills the bottom cell.
	if got := string(bottom); got != "█····█···█" {
		t.Errorf("bottom row %q", got)
	}
}

func TestRenderDayLabels(t *testing.T) {
	from := time.Date(2026, 11, 24, 22, 0, 0, 0, time.UTC).UnixNano()
	h := Histogram{From: from, To: from + int64(6*time.Hour), Step: int64(10 * time.Minute), Counts: make([][3]uint32, 36)}
	axis := func(utc bool) string {
		ls := strings.Split(Render(h, Styles{}, 40, 3, -1, -1, 0, utc), "\n")
		return ls[2]
	}
	if got, want := axis(true), "22:00       11-25       02:00           "; got != want {
		t.Errorf("UTC axis\n%q\nwant\n%q", got, want)
	}
	defer func(l *time.Location) { time.Local = l }(time.Local)
	time.Local = time.FixedZone("UTC+1", 3600)
	if got, want := axis(false), "      11-25       02:00       04:00     "; got != want {
		t.Errorf("UTC+1 axis\n%q\nwant\n%q", got, want)
	}
	// Within one calendar day there is no date.
	time.Local = time.FixedZone("UTC+5:30", 5*3600+1800)
	if got, want := axis(false), "   04:00       06:00       08:00        "; got != want {
		t.Errorf("UTC+5:30 axis\n%q\nwant\n%q", got, want)
	}
	// Day steps label weeks (aligned to the epoch, a Thursday) with dates.
	h = Histogram{From: from + int64(2*time.Hour), Step: int64(24 * time.Hour), Counts: make([][3]uint32, 20)}
	h.To = h.From + 20*h.Step
	if got, want := axis(true), " 11-26  12-03  12-10                    "; got != want {
		t.Errorf("day steps\n%q\nwant\n%q", got, want)
	}
}

var labelRE = regexp.MustCompile(`^([0-2]\d:[0-5]\d(:[0-5]\d)?|[01]\d-[0-3]\d)$`)

func TestRenderLabelsNeverOverlap(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	base := t0.UnixNano()
	seen := map[int]bool{}
	for range 3000 {
		from := base + r.Int64N(int64(48*time.Hour))
		to := from + 1 + r.Int64N([]int64{int64(time.Minute), int64(time.Hour), int64(72 * time.Hour), int64(90 * 24 * time.Hour)}[r.IntN(4)])
		width := 1 + r.IntN(200)
		h := Histogram{Step: NiceStep(from, to, width)}
		h.From = floorDiv(from, h.Step) * h.Step
		h.Counts = make([][3]uint32, numBuckets(from, to, h.Step))
		h.To = h.From + int64(h.Len())*h.Step
		cursor := int64(-1)
		if r.IntN(2) == 0 {
			cursor = h.From + r.Int64N(h.To-h.From)
		}
		ls := strings.Split(Render(h, Styles{}, width, 2, cursor, -1, 0, r.IntN(2) == 0), "\n")
		axis := []rune(ls[1])
		last := -2
		for x := 0; x < len(axis); {
			if axis[x] == ' ' {
				x++
				continue
			}
			end := x
			for end < len(axis) && axis[end] != ' ' {
				end++
			}
			tok := string(axis[x:end])
			if tok != "▲" && !labelRE.MatchString(tok) {
				t.Fatalf("width %d step %v: token %q in axis %q", width, time.Duration(h.Step), tok, string(axis))
			}
			if tok == "▲" && x != h.XOf(cursor) {
				t.Fatalf("cursor at %d, want %d", x, h.XOf(cursor))
			}
			if x <= last+1 {
				t.Fatalf("labels touch in %q", string(axis))
			}
			if tok != "▲" {
				seen[len(tok)] = true
				isTime := strings.Contains(tok, ":")
				if isTime && (len(tok) == 8) != (h.Step < int64(time.Minute)) {
					t.Fatalf("step %v: label %q", time.Duration(h.Step), tok)
				}
			}
			last = end - 1
			x = end
		}
	}
	if !seen[5] || !seen[8] {
		t.Errorf("label kinds seen: %v", seen)
	}
}

func TestRenderCursor(t *testing.T) {
	h := handHist()
	for x := range h.Len() {
		from, to, _ := h.BucketAt(x)
		for _, c := range []int64{from, to - 1} {
			ls := strings.Split(Render(h, Styles{}, 20, 3, c, -1, 0, true), "\n")
			axis := []rune(ls[2])
			if axis[x] != '▲' || strings.Count(ls[2], "▲") != 1 || x != h.XOf(c) {
				t.Errorf("cursor %d: axis %q", x, ls[2])
			}
		}
	}
	for _, c := range []int64{-1, h.From - 1, h.To} {
		if out := Render(h, Styles{}, 20, 3, c, -1, 0, true); strings.Contains(out, "▲") {
			t.Errorf("cursor %d outside drawn: %q", c, out)
		}
	}
	// The cursor wins over a label.
	if ls := strings.Split(Render(h, Styles{}, 12, 2, h.From+h.Step, -1, 0, true), "\n"); ls[1] != " ▲          " {
		t.Errorf("cursor over label: %q", ls[1])
	}
}

func TestRenderSelection(t *testing.T) {
	h := handHist()
	st := Styles{Selection: mapStyle('S')}
	selFrom, selTo := h.From+3*h.Step+1, h.From+6*h.Step // buckets 3..5
	out := Render(h, st, 14, 5, h.From+4*h.Step, selFrom, selTo, true)
	for i, l := range strings.Split(out, "\n")[1:] {
		for x, c := range []rune(l) {
			if sel := x >= 3 && x <= 5; (c == 'S') != sel {
				t.Errorf("line %d column %d: %q (selected %v): %q", i+1, x, c, sel, l)
			}
		}
	}
	if out := Render(h, st, 14, 5, -1, -1, 0, true); strings.Contains(out, "S") {
		t.Errorf("no selection drawn as one: %q", out)
	}
}
