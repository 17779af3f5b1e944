package jsonview

import (
	"image/color"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
)

// Styles are the styles Render applies. Only their text attributes
// (colours, bold, italic, underline, reverse, blink, faint, strikethrough)
// are used; layout properties such as padding, width or borders are
// ignored. The zero value renders plain text.
type Styles struct {
	Key      lipgloss.Style // object keys, quotes included
	String   lipgloss.Style // string values, quotes included
	Number   lipgloss.Style
	Bool     lipgloss.Style
	Null     lipgloss.Style
	Punct    lipgloss.Style // brackets, colons and commas
	Folded   lipgloss.Style // the summary of a folded container
	Redacted lipgloss.Style // string values equal to "***REDACTED***"
	Match    lipgloss.Style // search matches, layered over the token style
	Cursor   lipgloss.Style // the cursor line, layered over the whole line
}

// ellipsis ends lines that are cut at the right edge.
const ellipsis = "…"

// ellipsisWidth is the width of ellipsis in cells.
var ellipsisWidth = ansi.StringWidth(ellipsis)

// styleKey is the part of a lipgloss.Style that Render uses.
type styleKey struct {
	attrs       uint8
	ul          lipgloss.Underline
	fg, bg, ulc color.Color
}

// styleCache holds the SGR sequences compiled from the last Styles.
type styleCache struct {
	valid  bool
	keys   [10]styleKey
	pre    [nStyles]string // by style id; sPlain is always ""
	match  string
	cursor string
}

// keyOf extracts the text attributes of s.
func keyOf(s lipgloss.Style) styleKey {
	var a uint8
	for bit, on := range [...]bool{s.GetBold(), s.GetItalic(), s.GetStrikethrough(), s.GetReverse(), s.GetBlink(), s.GetFaint()} {
		if on {
			a |= 1 << bit
		}
	}
	return styleKey{attrs: a, ul: s.GetUnderlineStyle(), fg: s.GetForeground(), bg: s.GetBackground(), ulc: s.GetUnderlineColor()}
}

// sameColor compares two colours without panicking on incomparable ones.
func sameColor(a, b color.Color) (eq bool) {
	defer func() {
		if recover() != nil {
			eq = false
		}
	}()
	return a == b
}

// same reports whether k and o produce the same SGR sequence.
func (k styleKey) same(o styleKey) bool {
	return k.attrs == o.attrs && k.ul == o.ul && sameColor(k.fg, o.fg) && sameColor(k.bg, o.bg) && sameColor(k.ulc, o.ulc)
}

// isNoColor reports whether c is lipgloss's "no colour" value.
func isNoColor(c color.Color) bool {
	_, ok := c.(lipgloss.NoColor)
	return ok
}

// sgr returns the SGR sequence that starts text in style k, or "" when k
// sets nothing. It mirrors what lipgloss.Style.Render emits for a plain
// single-line string, so the result only ever contains SGR sequences.
func (k styleKey) sgr() string {
	var te ansi.Style
	if k.attrs&1 != 0 {
		te = te.Bold()
	}
	if k.attrs&2 != 0 {
		te = te.Italic(true)
	}
	if k.ul != lipgloss.UnderlineNone {
		te = te.Underline(true)
	}
	if k.attrs&8 != 0 {
		te = te.Reverse(true)
	}
	if k.attrs&16 != 0 {
		te = te.Blink(true)
	}
	if k.attrs&32 != 0 {
		te = te.Faint()
	}
	if !isNoColor(k.fg) {
		te = te.ForegroundColor(k.fg)
	}
	if !isNoColor(k.bg) {
		te = te.BackgroundColor(k.bg)
	}
	if !isNoColor(k.ulc) {
		te = te.UnderlineColor(k.ulc)
	}
	if k.ul != lipgloss.UnderlineNone {
		te = te.UnderlineStyle(k.ul)
	}
	if k.attrs&4 != 0 {
		te = te.Strikethrough(true)
	}
	if len(te) == 0 {
		return ""
	}
	return te.String()
}

// compile returns the SGR sequences for st, reusing the previous ones when
// st has not changed.
func (d *Doc) compile(st *Styles) *styleCache {
	src := [10]lipgloss.Style{st.Key, st.String, st.Number, st.Bool, st.Null, st.Punct, st.Folded, st.Redacted, st.Match, st.Cursor}
	c := &d.styles
	var keys [10]styleKey
	same := c.valid
	for j := range src {
		keys[j] = keyOf(src[j])
		same = same && keys[j].same(c.keys[j])
	}
	if same {
		return c
	}
	c.valid, c.keys = true, keys
	for j, id := range [8]uint8{sKey, sString, sNumber, sBool, sNull, sPunct, sFolded, sRedacted} {
		c.pre[id] = keys[j].sgr()
	}
	c.match, c.cursor = keys[8].sgr(), keys[9].sgr()
	return c
}

// Render returns the visible lines [top, top+height), or fewer when the
// document ends first. Every line is exactly width cells wide: shorter
// lines are padded with spaces, longer ones are cut and end in "…", and
// xoff scrolls horizontally by that many cells. The line whose number is
// cursor has st.Cursor layered over its full width, and matches of the
// last Search are highlighted with st.Match. Rendering visits O(height)
// nodes after a cached or nearby position and reads at most about
// xoff+width cells of any line, however long it is.
func (d *Doc) Render(st Styles, top, height, width, xoff, cursor int) []string {
	top = max(top, 0)
	xoff = max(xoff, 0)
	n := min(height, d.visible-top)
	if n <= 0 {
		return nil
	}
	cs := d.compile(&st)
	out := make([]string, 0, n)
	i := d.seek(top)
	for k := 0; k < n; k++ {
		if k > 0 {
			i = d.next(i)
		}
		out = append(out, d.renderLine(cs, i, width, xoff, top+k == cursor))
	}
	return out
}

// cluster is one grapheme cluster of a line: bytes [start, end) drawn at
// cells [col, col+w).
type cluster struct {
	start, end, col, w int32
}

// renderLine renders node i's line. It builds a prefix of the line that is
// long enough to fill the window, doubling the budget in the rare case
// (zero-width runes, huge indentation) that the first guess falls short.
func (d *Doc) renderLine(cs *styleCache, i, width, xoff int, cur bool) string {
	if width <= 0 {
		return ""
	}
	budget := 4*(xoff+width) + 64 + 8*len(d.needle)
	for {
		d.lb.reset(budget)
		d.buildLine(&d.lb, i, false)
		if s, ok := d.cut(cs, width, xoff, cur); ok {
			return s
		}
		budget *= 2
	}
}

// clusterAt returns the end and width of the grapheme cluster at pos.
func clusterAt(text []byte, pos int) (int, int) {
	if text[pos] < 0x80 && (pos+1 == len(text) || text[pos+1] < 0x80) {
		return pos + 1, 1 // the line holds printable ASCII only
	}
	cl, w := ansi.FirstGraphemeCluster(text[pos:], ansi.GraphemeWidth)
	return pos + len(cl), w
}

// cut writes the window [xoff, xoff+width) of the line in d.lb. It
// reports false when the line was clipped too early to decide.
func (d *Doc) cut(cs *styleCache, width, xoff int, cur bool) (string, bool) {
	b := &d.lb
	text := b.text
	wlim := xoff + width
	clusters := d.clusters[:0]
	col, truncated := 0, false
	for pos := 0; pos < len(text); {
		end, w := clusterAt(text, pos)
		if b.clipped && end >= len(text) {
			return "", false // the last cluster may be incomplete
		}
		if col+w > wlim {
			truncated = true
			break
		}
		clusters = append(clusters, cluster{int32(pos), int32(end), int32(col), int32(w)})
		col += w
		pos = end
	}
	d.clusters = clusters
	if b.clipped && !truncated {
		return "", false
	}
	limit := wlim
	if truncated {
		limit = max(wlim-ellipsisWidth, xoff)
	}
	// Matches, as byte ranges, that may touch a visible cluster.
	matches := d.matches[:0]
	if len(d.needle) > 0 && len(clusters) > 0 {
		stop := int(clusters[len(clusters)-1].end)
		if b.clipped && len(text)-stop < 4*len(d.needle) {
			return "", false
		}
		for from := 0; from < stop; {
			s, e := d.findMatch(text, from)
			if s < 0 || s >= stop {
				break
			}
			matches = append(matches, [2]int32{int32(s), int32(e)})
			from = e
		}
	}
	d.matches = matches

	e := emitter{out: d.out[:0], cs: cs, cur: cur}
	// Consecutive clusters in the same style are written in one piece,
	// the pending bytes [ps, pe) of pw cells.
	runs, r, m := b.runs, 0, 0
	ps, pe, pw, pst, phit := 0, 0, 0, sPlain, false
	for _, c := range clusters {
		s, end := int(c.col), int(c.col+c.w)
		if s >= limit || (end <= xoff && c.w > 0) || (c.w == 0 && s < xoff) {
			continue
		}
		if s < xoff || end > limit {
			if pe > ps {
				e.write(pst, phit, text[ps:pe], pw)
				ps = pe
			}
			e.spaces(min(end, limit) - max(s, xoff))
			continue
		}
		for r < len(runs)-1 && int(runs[r].end) <= int(c.start) {
			r++
		}
		for m < len(matches) && matches[m][1] <= c.start {
			m++
		}
		st, hit := runs[r].style, m < len(matches) && matches[m][0] < c.end
		if pe > ps && (st != pst || hit != phit || int(c.start) != pe) {
			e.write(pst, phit, text[ps:pe], pw)
			ps = pe
		}
		if pe == ps {
			ps, pw, pst, phit = int(c.start), 0, st, hit
		}
		pe = int(c.end)
		pw += int(c.w)
	}
	if pe > ps {
		e.write(pst, phit, text[ps:pe], pw)
	}
	if truncated && width >= ellipsisWidth {
		e.spaces(limit - xoff - e.cols)
		e.writeString(sPlain, false, ellipsis, ellipsisWidth)
	}
	e.spaces(width - e.cols)
	e.close()
	d.out = e.out
	return string(e.out), true
}

// emitter appends styled text to a line, switching SGR sequences only
// when the effective style changes.
type emitter struct {
	out     []byte
	cs      *styleCache
	cur     bool   // the cursor line
	pre     string // token SGR in effect
	hit     bool   // match SGR in effect
	open    bool   // an SGR sequence is in effect
	started bool   // something has been written
	cols    int    // cells written
}

// begin switches to style st, highlighted when hit.
func (e *emitter) begin(st uint8, hit bool) {
	pre := e.cs.pre[st]
	if e.started && pre == e.pre && hit == e.hit {
		return
	}
	e.close()
	e.pre, e.hit, e.started = pre, hit, true
	n := len(e.out)
	e.out = append(e.out, pre...)
	if e.cur {
		e.out = append(e.out, e.cs.cursor...)
	}
	if hit {
		e.out = append(e.out, e.cs.match...)
	}
	e.open = len(e.out) > n
}

// write appends text of w cells in style st.
func (e *emitter) write(st uint8, hit bool, text []byte, w int) {
	e.begin(st, hit)
	e.out = append(e.out, text...)
	e.cols += w
}

// writeString appends text of w cells in style st.
func (e *emitter) writeString(st uint8, hit bool, text string, w int) {
	e.begin(st, hit)
	e.out = append(e.out, text...)
	e.cols += w
}

// spaces appends n unstyled (but cursor-coloured) spaces.
func (e *emitter) spaces(n int) {
	for n > 0 {
		k := min(n, len(spaces))
		e.writeString(sPlain, false, spaces[:k], k)
		n -= k
	}
}

// close ends the SGR sequence in effect, if any.
func (e *emitter) close() {
	if e.open {
		e.out = append(e.out, ansi.ResetStyle...)
		e.open = false
	}
}
