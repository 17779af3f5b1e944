package filters

import (
	"bytes"
	"encoding/json"
	"strconv"
	"unicode/utf8"

	"ktrail/audit"
)

// decodeValue decodes the JSON value at b[i:] into what encoding/json
// would produce for an any (map[string]any, []any, string, float64, bool,
// nil) and returns the index after it. It is several times faster than
// encoding/json for the bodies filters read; strings with escapes, control
// characters or invalid UTF-8 are handed to encoding/json so that the
// results stay the same.
func decodeValue(b []byte, i int, depth int) (any, int, error) {
	i = audit.SkipWS(b, i)
	if i >= len(b) || depth > 10000 {
		return nil, 0, errBadJSON
	}
	switch c := b[i]; {
	case c == '{':
		m := map[string]any{}
		i = audit.SkipWS(b, i+1)
		if i < len(b) && b[i] == '}' {
			return m, i + 1, nil
		}
		for {
			if i >= len(b) || b[i] != '"' {
				return nil, 0, errBadJSON
			}
			k, j, err := decodeString(b, i)
			if err != nil {
				return nil, 0, err
			}
			j = audit.SkipWS(b, j)
			if j >= len(b) || b[j] != ':' {
				return nil, 0, errBadJSON
			}
			v, j, err := decodeValue(b, j+1, depth+1)
			if err != nil {
				return nil, 0, err
			}
			m[k] = v
			j = audit.SkipWS(b, j)
			if j < len(b) && b[j] == '}' {
				return m, j + 1, nil
			}
			if j >= len(b) || b[j] != ',' {
				return nil, 0, errBadJSON
			}
			i = audit.SkipWS(b, j+1)
		}
	case c == '[':
		a := []any{}
		i = audit.SkipWS(b, i+1)
		if i < len(b) && b[i] == ']' {
			return a, i + 1, nil
		}
		for {
			v, j, err := decodeValue(b, i, depth+1)
			if err != nil {
				return nil, 0, err
			}
			a = append(a, v)
			j = audit.SkipWS(b, j)
			if j < len(b) && b[j] == ']' {
				return a, j + 1, nil
			}
			if j >= len(b) || b[j] != ',' {
				return nil, 0, errBadJSON
			}
			i = j + 1
		}
	case c == '"':
		return decodeString(b, i)
	case c == 't':
		if bytes.HasPrefix(b[i:], []byte("true")) {
			return true, i + 4, nil
		}
	case c == 'f':
		if bytes.HasPrefix(b[i:], []byte("false")) {
			return false, i + 5, nil
		}
	case c == 'n':
		if bytes.HasPrefix(b[i:], []byte("null")) {
			return nil, i + 4, nil
		}
	case c == '-' || (c >= '0' && c <= '9'):
		j := numberEnd(b, i)
		if j > i {
			f, err := strconv.ParseFloat(string(b[i:j]), 64)
			if err != nil {
				return nil, 0, errBadJSON // out of range, as encoding/json
			}
			return f, j, nil
		}
	}
	return nil, 0, errBadJSON
}

// decodeString decodes the JSON string at b[i] ('"').
func decodeString(b []byte, i int) (string, int, error) {
	q, err := audit.ScanString(b, i)
	if err != nil {
		return "", 0, errBadJSON
	}
	e := q + 1
	in := b[i+1 : e-1]
	plain := true
	for _, c := range in {
		if c < 0x20 || c == '\\' || c >= 0x80 {
			plain = false
			break
		}
	}
	if plain || (bytes.IndexByte(in, '\\') < 0 && utf8.Valid(in) && !hasControl(in)) {
		return string(in), e, nil
	}
	var s string
	if err := json.Unmarshal(b[i:e], &s); err != nil {
		return "", 0, errBadJSON
	}
	return s, e, nil
}

func hasControl(b []byte) bool {
	for _, c := range b {
		if c < 0x20 {
			return true
		}
	}
	return false
}

// numberEnd returns the end of the JSON number at b[i], or i when it does
// not follow the JSON grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func numberEnd(b []byte, i int) int {
	start, j := i, i
	digits := func() bool {
		k := j
		for j < len(b) && b[j] >= '0' && b[j] <= '9' {
			j++
		}
		return j > k
	}
	if j < len(b) && b[j] == '-' {
		j++
	}
	switch {
	case j < len(b) && b[j] == '0':
		j++
	case !digits():
		return start
	}
	if j < len(b) && b[j] == '.' {
		j++
		if !digits() {
			return start
		}
	}
	if j < len(b) && (b[j] == 'e' || b[j] == 'E') {
		j++
		if j < len(b) && (b[j] == '+' || b[j] == '-') {
			j++
		}
		if !digits() {
			return start
		}
	}
	if j < len(b) && !endTab[b[j]] {
		return start // 01, 1x: not a number
	}
	return j
}
