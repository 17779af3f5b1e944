package jsonview

import (
	"bytes"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// Style identifiers of the runs of a line.
const (
	sPlain uint8 = iota
	sKey
	sString
	sNumber
	sBool
	sNull
	sPunct
	sFolded
	sRedacted
	nStyles
)

// redacted is the raw content of a string value that the redactor replaced.
const redacted = "***REDACTED***"

// spaces is a source of indentation.
const spaces = "                                                                "

// run is a stretch of a line's text in one style, ending at byte end.
type run struct {
	end   int32
	style uint8
}

// lineBuf accumulates the plain text of one line together with its style
// runs. With a non-negative limit it stops soon after limit bytes and sets
// clipped, so that a multi-megabyte string costs nothing to render.
type lineBuf struct {
	text    []byte
	runs    []run
	limit   int
	clipped bool
}

// reset empties b and sets its byte limit (negative for none).
func (b *lineBuf) reset(limit int) {
	b.text, b.runs, b.limit, b.clipped = b.text[:0], b.runs[:0], limit, false
}

// full reports whether b has reached its limit.
func (b *lineBuf) full() bool {
	if b.limit >= 0 && len(b.text) >= b.limit {
		b.clipped = true
		return true
	}
	return false
}

// mark records that the text up to the current end is in style st.
func (b *lineBuf) mark(st uint8) {
	end := int32(len(b.text))
	if n := len(b.runs); n > 0 && b.runs[n-1].style == st {
		b.runs[n-1].end = end
		return
	}
	if n := len(b.runs); n > 0 && b.runs[n-1].end == end {
		return
	}
	b.runs = append(b.runs, run{end: end, style: st})
}

// brackets holds the fixed texts of objects (0) and arrays (1).
var brackets = [2]struct{ open, empty, folded, one, many string }{
	{"{", "{}", "{… ", " key}", " keys}"},
	{"[", "[]", "[… ", " item]", " items]"},
}

// addBytes appends s, which must not need escaping, in style st.
func (b *lineBuf) addBytes(st uint8, s []byte) {
	if b.full() {
		return
	}
	if b.limit >= 0 && len(b.text)+len(s) > b.limit {
		s = s[:b.limit-len(b.text)]
		b.clipped = true
	}
	b.text = append(b.text, s...)
	b.mark(st)
}

// add appends s, which must not need escaping, in style st.
func (b *lineBuf) add(st uint8, s string) {
	if b.full() {
		return
	}
	if b.limit >= 0 && len(b.text)+len(s) > b.limit {
		s = s[:b.limit-len(b.text)]
		b.clipped = true
	}
	b.text = append(b.text, s...)
	b.mark(st)
}

// addEscaped appends the raw content of a JSON string (or any other
// untrusted bytes) in style st, escaping everything unsafe.
func (b *lineBuf) addEscaped(st uint8, raw []byte) {
	if b.full() {
		return
	}
	max := -1
	if b.limit >= 0 {
		max = b.limit
	}
	var rest int
	b.text, rest = appendEscapedMax(b.text, raw, max)
	if rest > 0 {
		b.clipped = true
	}
	b.mark(st)
}

// mustEscape reports whether r must be shown as \uXXXX: C0 and C1
// controls, DEL, the Unicode line and paragraph separators, bidi
// formatting characters and every other invisible format character (zero
// width space, BOM, soft hyphen, tag characters, ...) except the zero width
// (non-)joiners that emoji and many scripts need, plus the unassigned code
// points that Unicode reserves as default-ignorable.
func mustEscape(r rune) bool {
	switch {
	case r < 0x20, r >= 0x7f && r <= 0x9f, r == 0xad:
		return true
	case r < 0x600:
		return false
	case r == 0x200c, r == 0x200d:
		return false
	case r == 0x2028, r == 0x2029, r == 0x2065, r >= 0xfff0 && r <= 0xfff8:
		return true
	case r >= 0xe0000 && r <= 0xe0fff:
		return r < 0xe0100 || r > 0xe01ef // all but variation selectors
	}
	return unicode.Is(unicode.Cf, r)
}

// appendEscaped appends src to dst with every unsafe rune written as
// \uXXXX and every invalid UTF-8 byte written as \ufffd. Printable ASCII,
// including the backslash escapes already present in JSON source, is
// copied unchanged.
func appendEscaped(dst, src []byte) []byte {
	dst, _ = appendEscapedMax(dst, src, -1)
	return dst
}

// appendEscapedMax is appendEscaped that stops once dst holds max bytes
// (max < 0 for no limit); it returns how many bytes of src were left.
func appendEscapedMax(dst, src []byte, max int) ([]byte, int) {
	const hex = "0123456789abcdef"
	i := 0
	for i < len(src) {
		if max >= 0 && len(dst) >= max {
			return dst, len(src) - i
		}
		c := src[i]
		if c >= 0x20 && c < 0x7f {
			// Copy a stretch of printable ASCII in one go.
			j := i + 1
			for j < len(src) && src[j] >= 0x20 && src[j] < 0x7f {
				j++
			}
			if max >= 0 && j-i > max-len(dst) {
				j = i + max - len(dst)
			}
			dst = append(dst, src[i:j]...)
			i = j
			continue
		}
		r, size := rune(c), 1
		if c >= utf8.RuneSelf {
			r, size = utf8.DecodeRune(src[i:])
			if r == utf8.RuneError && size == 1 {
				dst = append(dst, `\ufffd`...)
				i++
				continue
			}
		}
		if mustEscape(r) {
			if r > 0xffff { // outside the BMP: a UTF-16 surrogate pair, as JSON requires
				hi, lo := utf16.EncodeRune(r)
				dst = append(dst, '\\', 'u', hex[hi>>12&0xf], hex[hi>>8&0xf], hex[hi>>4&0xf], hex[hi&0xf])
				r = lo
			}
			dst = append(dst, '\\', 'u', hex[r>>12&0xf], hex[r>>8&0xf], hex[r>>4&0xf], hex[r&0xf])
		} else {
			dst = append(dst, src[i:i+size]...)
		}
		i += size
	}
	return dst, 0
}

// buildLine writes the plain text and style runs of node i into b. With
// openFolds the line is built as if no container were folded.
func (d *Doc) buildLine(b *lineBuf, i int, openFolds bool) {
	n := &d.nodes[i]
	for ind := 2 * int(n.depth); ind > 0 && !b.full(); ind -= len(spaces) {
		b.add(sPlain, spaces[:min(ind, len(spaces))])
	}
	if n.kind == kClose {
		if d.nodes[n.end].kind == kArray {
			b.add(sPunct, "]")
		} else {
			b.add(sPunct, "}")
		}
		if !d.last(int(n.end)) {
			b.add(sPunct, ",")
		}
		return
	}
	if n.keyEnd > 0 {
		b.add(sKey, `"`)
		b.addEscaped(sKey, d.raw[n.keyStart+1:n.keyEnd-1])
		b.add(sKey, `"`)
		b.add(sPunct, ":")
		b.add(sPlain, " ")
	}
	switch n.kind {
	case kObject, kArray:
		w := &brackets[0]
		if n.kind == kArray {
			w = &brackets[1]
		}
		switch {
		case !n.isOpen(i):
			b.add(sPunct, w.empty)
		case n.folded && !openFolds:
			var num [24]byte
			b.add(sFolded, w.folded)
			b.addBytes(sFolded, strconv.AppendInt(num[:0], int64(n.valEnd), 10))
			if n.valEnd == 1 {
				b.add(sFolded, w.one)
			} else {
				b.add(sFolded, w.many)
			}
		default:
			b.add(sPunct, w.open)
			return // an opening line has no comma
		}
	case kString:
		content := d.raw[n.valStart+1 : n.valEnd-1]
		st := sString
		if string(content) == redacted {
			st = sRedacted
		}
		b.add(st, `"`)
		b.addEscaped(st, content)
		b.add(st, `"`)
	case kNumber:
		b.addEscaped(sNumber, d.raw[n.valStart:n.valEnd])
	case kTrue:
		b.add(sBool, "true")
	case kFalse:
		b.add(sBool, "false")
	case kNull:
		b.add(sNull, "null")
	}
	if !d.last(i) {
		b.add(sPunct, ",")
	}
}

// Text returns the whole document as indented plain text with all folds
// open, one line per node, each line ending in a newline. It uses the same
// escaping as Render, so it is safe to print and is itself valid JSON.
func (d *Doc) Text() string {
	var sb strings.Builder
	sb.Grow(len(d.raw) + len(d.nodes)*4)
	b := &d.lb
	for i := range d.nodes {
		b.reset(-1)
		d.buildLine(b, i, true)
		sb.Write(b.text)
		sb.WriteByte('\n')
	}
	return sb.String()
}

// Search returns the visible lines whose text contains text, ignoring
// case, in ascending order. Later calls to Render highlight the matches;
// an empty text clears the highlighting and returns nil.
func (d *Doc) Search(text string) []int {
	d.needle = d.needle[:0]
	for _, r := range text {
		d.needle = append(d.needle, r)
	}
	if len(d.needle) == 0 {
		return nil
	}
	var lines []int
	b := &d.lb
	i := 0
	for l := 0; l < d.visible; l++ {
		if l > 0 {
			i = d.next(i)
		}
		b.reset(-1)
		d.buildLine(b, i, false)
		if s, _ := d.findMatch(b.text, 0); s >= 0 {
			lines = append(lines, l)
		}
	}
	return lines
}

// findMatch returns the byte range of the first case-insensitive match of
// the needle in text at or after from, or -1, -1.
func (d *Doc) findMatch(text []byte, from int) (int, int) {
	if len(d.needle) == 0 {
		return -1, -1
	}
	first := d.needle[0]
	ascii := first < utf8.RuneSelf && first != 'k' && first != 'K' && first != 's' && first != 'S'
	lo, up := byte(unicode.ToLower(first)), byte(unicode.ToUpper(first))
	for i := from; i < len(text); {
		if ascii {
			// Only these two bytes can start a match of an ASCII rune
			// without a non-ASCII case fold.
			j := indexEither(text[i:], lo, up)
			if j < 0 {
				return -1, -1
			}
			i += j
		}
		if end := matchAt(text, i, d.needle); end >= 0 {
			return i, end
		}
		_, size := utf8.DecodeRune(text[i:])
		i += size
	}
	return -1, -1
}

// indexEither returns the index of the first a or b in s, or -1.
func indexEither(s []byte, a, b byte) int {
	if a == b {
		return bytes.IndexByte(s, a)
	}
	for i, c := range s {
		if c == a || c == b {
			return i
		}
	}
	return -1
}

// matchAt returns the end of a case-insensitive match of needle starting
// at byte i of text, or -1.
func matchAt(text []byte, i int, needle []rune) int {
	for _, want := range needle {
		if i >= len(text) {
			return -1
		}
		r, size := rune(text[i]), 1
		if r >= utf8.RuneSelf {
			r, size = utf8.DecodeRune(text[i:])
		}
		if !equalFold(r, want) {
			return -1
		}
		i += size
	}
	return i
}

// equalFold reports whether a and b are equal under simple Unicode case
// folding.
func equalFold(a, b rune) bool {
	if a == b {
		return true
	}
	if a < utf8.RuneSelf && b < utf8.RuneSelf {
		if 'A' <= a && a <= 'Z' {
			a += 'a' - 'A'
		}
		if 'A' <= b && b <= 'Z' {
			b += 'a' - 'A'
		}
		return a == b
	}
	for r := unicode.SimpleFold(a); r != a; r = unicode.SimpleFold(r) {
		if r == b {
			return true
		}
	}
	return false
}
