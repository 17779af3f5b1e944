package audit

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// ErrKind classifies skipped input so that a stream full of one kind of
// noise (klog lines between events, say) is reported once, not per line.
type ErrKind uint8

// The kinds of skipped input.
const (
	ErrText      ErrKind = iota // a line of text that is not JSON
	ErrBinary                   // bytes that are not text at all
	ErrMalformed                // JSON with a syntax error
	ErrTruncated                // JSON that ends before the value does
	ErrNotEvent                 // valid JSON that is not an audit event
	ErrPartial                  // the last line of a file has no end
	numErrKinds
)

var errKindNames = [...]string{"non-JSON text", "binary data", "malformed JSON", "truncated JSON", "not an audit event", "incomplete last line"}

func (k ErrKind) String() string { return errKindNames[k] }

// LineError describes one skipped line or event.
type LineError struct {
	Source string
	Line   int
	Kind   ErrKind
	Msg    string
	// Offset is the byte offset of the line in its segment.
	Offset int64
}

// Error formats the error as FILE:LINE: reason, with control characters
// escaped so that it is safe to print on a terminal.
func (e *LineError) Error() string {
	return fmt.Sprintf("%s:%d: %s", Sanitize(e.Source), e.Line, Sanitize(e.Msg))
}

// Sanitize makes s safe to print on a terminal: control characters
// (C0, DEL, C1, including ESC and BEL) and invalid UTF-8 bytes are shown
// as Go-style escapes, and bidirectional-override characters are escaped
// too. Printable text is unchanged.
func Sanitize(s string) string {
	if isClean(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n <= 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r >= 0x80 && r < 0xa0, isBidi(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

func isBidi(r rune) bool {
	return (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) || r == 0x200e || r == 0x200f || r == 0x061c
}

func isClean(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c == 0x7f {
			return false
		}
		if c >= 0x80 {
			r, n := utf8.DecodeRuneInString(s[i:])
			if (r == utf8.RuneError && n <= 1) || (r >= 0x80 && r < 0xa0) || isBidi(r) {
				return false
			}
			i += n - 1
		}
	}
	return true
}

// classifyLine decides what kind of noise a non-JSON line is.
func classifyLine(line []byte) ErrKind {
	bad := 0
	for _, c := range line {
		if c == 0 {
			return ErrBinary
		}
		if c < 0x20 && c != '\t' {
			bad++
		}
	}
	if !utf8.Valid(line) || bad*10 > len(line) {
		return ErrBinary
	}
	return ErrText
}

// describeLine names well-known kinds of text found in audit streams.
func describeLine(line []byte) string {
	s := string(line)
	if len(s) > 5 && strings.ContainsRune("IWEF", rune(s[0])) && s[1] >= '0' && s[1] <= '9' {
		return "a klog line"
	}
	return "text"
}
