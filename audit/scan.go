package audit

import (
	"bytes"
	"errors"
	"fmt"
)

// This file holds the low-level JSON scanning primitives used by the field
// extractor. They work on raw bytes, never allocate, and report byte
// positions so that callers can name where input went wrong.

// SyntaxError describes malformed JSON at a byte offset within one event.
type SyntaxError struct {
	Off int    // byte offset within the scanned value
	Msg string // what was wrong
}

// Error returns the message with its offset.
func (e *SyntaxError) Error() string { return fmt.Sprintf("%s at byte %d", e.Msg, e.Off) }

// errTruncated is the message for a value that ends before it is complete.
const errTruncated = "unexpected end of JSON (truncated event)"

// IsTruncated reports whether err is a syntax error caused by input ending
// in the middle of a value.
func IsTruncated(err error) bool {
	var se *SyntaxError
	return errors.As(err, &se) && se.Msg == errTruncated
}

func synErr(off int, msg string) error { return &SyntaxError{Off: off, Msg: msg} }

func badChar(b []byte, i int) error {
	if i >= len(b) {
		return synErr(i, errTruncated)
	}
	c := b[i]
	if c >= 0x20 && c < 0x7f {
		return synErr(i, fmt.Sprintf("invalid character %q", c))
	}
	return synErr(i, fmt.Sprintf("invalid byte 0x%02x", c))
}

// wsTable marks JSON whitespace.
var wsTable = [256]bool{' ': true, '\t': true, '\n': true, '\r': true}

// skipWS returns the index of the first non-whitespace byte at or after i.
func skipWS(b []byte, i int) int {
	for i < len(b) && wsTable[b[i]] {
		i++
	}
	return i
}

// scanString expects b[i] == '"' and returns the index of the closing
// quote, or an error if the string is unterminated. The contents are
// b[i+1:end], still escaped.
func scanString(b []byte, i int) (end int, err error) {
	j := i + 1
	for {
		k := bytes.IndexByte(b[j:], '"')
		if k < 0 {
			return 0, synErr(len(b), errTruncated)
		}
		q := j + k
		if q == i+1 || b[q-1] != '\\' {
			return q, nil
		}
		// Count the backslashes before the quote: an odd number escapes it.
		n := 0
		for p := q - 1; p > i && b[p] == '\\'; p-- {
			n++
		}
		if n%2 == 0 {
			return q, nil
		}
		j = q + 1
	}
}

// structTable marks the bytes that matter while skipping a nested value.
var structTable = [256]uint8{'"': 1, '{': 2, '[': 2, '}': 3, ']': 3}

// skipValue skips the JSON value starting at b[i] (after whitespace) and
// returns the index just past it. Objects and arrays are skipped by
// counting brackets outside strings; their inner syntax is checked only
// loosely, which is enough to find where they end.
func skipValue(b []byte, i int) (int, error) {
	i = skipWS(b, i)
	if i >= len(b) {
		return i, synErr(i, errTruncated)
	}
	switch c := b[i]; {
	case c == '"':
		end, err := scanString(b, i)
		if err != nil {
			return 0, err
		}
		return end + 1, nil
	case c == '{' || c == '[':
		return skipNested(b, i)
	case c == '-' || (c >= '0' && c <= '9'):
		return skipNumber(b, i+1), nil
	case c == 't':
		return skipLiteral(b, i, "true")
	case c == 'f':
		return skipLiteral(b, i, "false")
	case c == 'n':
		return skipLiteral(b, i, "null")
	default:
		return 0, badChar(b, i)
	}
}

var numTable = [256]bool{'0': true, '1': true, '2': true, '3': true, '4': true, '5': true, '6': true, '7': true, '8': true, '9': true, '.': true, 'e': true, 'E': true, '+': true, '-': true}

// skipNumber returns the index of the first byte at or after i that
// cannot be part of a JSON number; the number's grammar is not checked.
func skipNumber(b []byte, i int) int {
	for i < len(b) && numTable[b[i]] {
		i++
	}
	return i
}

func skipLiteral(b []byte, i int, lit string) (int, error) {
	if len(b)-i < len(lit) {
		if string(b[i:]) == lit[:len(b)-i] {
			return 0, synErr(len(b), errTruncated)
		}
		return 0, badChar(b, i)
	}
	if string(b[i:i+len(lit)]) != lit {
		return 0, badChar(b, i)
	}
	return i + len(lit), nil
}

// skipNested skips an object or array starting at b[i].
func skipNested(b []byte, i int) (int, error) {
	depth := 0
	// Remember the opening brackets to catch mismatches such as {].
	var stack [64]byte
	var deep []byte
	for j := i; j < len(b); j++ {
		switch structTable[b[j]] {
		case 0:
			continue
		case 1:
			end, err := scanString(b, j)
			if err != nil {
				return 0, err
			}
			j = end
		case 2:
			if depth < len(stack) {
				stack[depth] = b[j]
			} else {
				deep = append(deep, b[j])
			}
			depth++
		case 3:
			depth--
			var open byte
			if depth < len(stack) {
				open = stack[depth]
			} else {
				open = deep[len(deep)-1]
				deep = deep[:len(deep)-1]
			}
			if (open == '{') != (b[j] == '}') {
				return 0, synErr(j, fmt.Sprintf("mismatched %q", b[j]))
			}
			if depth == 0 {
				return j + 1, nil
			}
		}
	}
	return 0, synErr(len(b), errTruncated)
}

// parseUint parses a JSON number that should be a small non-negative
// integer, such as an HTTP status code.
func parseUint(b []byte) (int, bool) {
	if len(b) == 0 || len(b) > 9 {
		return 0, false
	}
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}
