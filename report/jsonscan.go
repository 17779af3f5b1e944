package report

import (
	"bytes"
	"fmt"
	"strings"

	"ktrail/audit"
)

// This file holds the small JSON walker behind Redact. It reads the raw
// event bytes once, never re-marshals them, and records the byte ranges of
// the values to mask as edits; the output is the input with only those
// ranges replaced, so key order, spacing and every other byte survive.

// mode selects the masking rules for one event body.
type mode uint8

const (
	modeSecret mode = 1 << iota // data, stringData, last-applied-configuration
	modeToken                   // token members (TokenRequest, TokenReview)
)

// maxDepth bounds the nesting the walker follows, so that hostile input
// cannot exhaust the stack. Real Kubernetes objects stay far below it.
const maxDepth = 200

// lastApplied is the annotation whose value embeds the whole object as
// JSON, secret values included.
const lastApplied = "kubectl.kubernetes.io/last-applied-configuration"

// pointerUnescaper decodes a JSON Pointer (RFC 6901) reference token.
var pointerUnescaper = strings.NewReplacer("~1", "/", "~0", "~")

// markerJSON is Marker as a JSON string.
var markerJSON = []byte(`"` + Marker + `"`)

// edit replaces b[start:end] with repl.
type edit struct {
	start, end int
	repl       []byte
}

// errAt reports input the walker cannot follow, as the audit package's
// scanner does.
func errAt(off int, msg string) error { return &audit.SyntaxError{Off: off, Msg: msg} }

// redactor walks one JSON text and collects edits.
type redactor struct {
	b       []byte
	mode    mode
	edits   []edit
	depth   int
	scratch []byte
}

// scanString returns the index just past the string that starts at b[i]
// (a '"').
func scanString(b []byte, i int) (int, error) {
	q, err := audit.ScanString(b, i)
	if err != nil {
		return 0, errAt(i, "unterminated string")
	}
	return q + 1, nil
}

// scanScalar returns the index just past the number or literal at b[i].
// Numbers are a run of number bytes, not checked further.
func scanScalar(b []byte, i int) (int, error) {
	switch b[i] {
	case 't', 'f', 'n':
		j, err := audit.SkipValue(b, i)
		if err != nil {
			return 0, errAt(i, "invalid literal")
		}
		return j, nil
	}
	j := audit.SkipNumber(b, i)
	if j == i {
		return 0, errAt(i, fmt.Sprintf("unexpected byte 0x%02x", b[i]))
	}
	return j, nil
}

// skipValue returns the index just past the value at b[i] without
// recursion; brackets must match, strings are honoured.
func skipValue(b []byte, i int) (int, error) {
	if i >= len(b) {
		return 0, errAt(i, "unexpected end of JSON")
	}
	switch b[i] {
	case '"':
		return scanString(b, i)
	case '{', '[':
	default:
		return scanScalar(b, i)
	}
	var stackBuf [32]byte
	stack := stackBuf[:0]
	j := i
	for {
		j = audit.SkipWS(b, j)
		if j >= len(b) {
			return 0, errAt(j, "unexpected end of JSON")
		}
		var err error
		switch c := b[j]; c {
		case '"':
			j, err = scanString(b, j)
		case '{':
			stack = append(stack, '}')
			j++
		case '[':
			stack = append(stack, ']')
			j++
		case '}', ']':
			if len(stack) == 0 || stack[len(stack)-1] != c {
				return 0, errAt(j, "mismatched "+string(c))
			}
			stack = stack[:len(stack)-1]
			j++
			if len(stack) == 0 {
				return j, nil
			}
		case ',', ':':
			j++
		default:
			j, err = scanScalar(b, j)
		}
		if err != nil {
			return 0, err
		}
	}
}

func isNull(b []byte, start, end int) bool { return string(b[start:end]) == "null" }

// member is one scanned object member: its decoded key and where its
// value starts.
type member struct {
	key []byte
	vs  int
}

// objectMembers calls fn for each member of the object at b[i]; fn returns
// the index just past the member's value. It returns the index just past
// the object. The key passed to fn is only valid during the call.
func (r *redactor) objectMembers(i int, fn func(m member) (int, error)) (int, error) {
	b := r.b
	var it audit.Members
	if err := it.Open(b, i); err != nil {
		return 0, err
	}
	for {
		key, vs, done, err := it.Next()
		if err != nil {
			return 0, err
		}
		if done {
			return it.Pos(), nil
		}
		if vs >= len(b) {
			return 0, errAt(vs, "unexpected end of JSON")
		}
		if bytes.IndexByte(key, '\\') >= 0 {
			r.scratch = audit.Unescape(r.scratch[:0], key)
			key = r.scratch
		}
		ve, err := fn(member{key, vs})
		if err != nil {
			return 0, err
		}
		it.Seek(ve)
	}
}

// walk follows the value at b[i] and returns the index just past it,
// recording edits for the values the mode masks.
func (r *redactor) walk(i int) (int, error) {
	switch r.b[i] {
	case '{':
		return r.object(i)
	case '[':
		return r.array(i)
	}
	return skipValue(r.b, i)
}

func (r *redactor) enter(i int) error {
	r.depth++
	if r.depth > maxDepth {
		return errAt(i, "JSON nested too deeply")
	}
	return nil
}

func (r *redactor) array(i int) (int, error) {
	if err := r.enter(i); err != nil {
		return 0, err
	}
	defer func() { r.depth-- }()
	b := r.b
	j := audit.SkipWS(b, i+1)
	if j < len(b) && b[j] == ']' {
		return j + 1, nil
	}
	for {
		if j >= len(b) {
			return 0, errAt(j, "unexpected end of JSON")
		}
		var err error
		if j, err = r.walk(j); err != nil {
			return 0, err
		}
		j = audit.SkipWS(b, j)
		if j >= len(b) {
			return 0, errAt(j, "unexpected end of JSON")
		}
		switch b[j] {
		case ',':
			j = audit.SkipWS(b, j+1)
		case ']':
			return j + 1, nil
		default:
			return 0, errAt(j, "expected ',' or ']'")
		}
	}
}

// span is the value of a JSON Patch "value" member and the number of edits
// recorded before it was walked.
type span struct{ vs, ve, n0 int }

func (r *redactor) object(i int) (int, error) {
	if err := r.enter(i); err != nil {
		return 0, err
	}
	defer func() { r.depth-- }()
	var (
		path    []byte
		hasPath bool
		values  []span
	)
	b := r.b
	end, err := r.objectMembers(i, func(m member) (int, error) {
		vs := m.vs
		switch {
		case r.mode&modeSecret != 0 && isDataKey(m.key):
			return r.maskMap(vs)
		case r.mode&modeToken != 0 && string(m.key) == "token":
			ve, err := skipValue(b, vs)
			if err == nil && !isNull(b, vs, ve) {
				r.add(vs, ve, markerJSON)
			}
			return ve, err
		case r.mode&modeSecret != 0 && string(m.key) == lastApplied && b[vs] == '"':
			ve, err := scanString(b, vs)
			if err == nil {
				r.embedded(vs, ve)
			}
			return ve, err
		}
		isPath := string(m.key) == "path" && b[vs] == '"'
		isValue := string(m.key) == "value"
		n0 := len(r.edits)
		ve, err := r.walk(vs)
		if err != nil {
			return 0, err
		}
		if isPath {
			path, hasPath = audit.Unescape(path[:0], b[vs+1:ve-1]), true
		}
		if isValue {
			values = append(values, span{vs, ve, n0})
		}
		return ve, nil
	})
	if err != nil {
		return 0, err
	}
	if hasPath && r.mode&modeSecret != 0 {
		// A JSON Patch operation: what to mask depends on its path.
		for k := len(values) - 1; k >= 0; k-- {
			if err := r.patchValue(path, values[k]); err != nil {
				return 0, err
			}
		}
	}
	return end, nil
}

// isDataKey reports whether key holds a Secret's values.
func isDataKey(key []byte) bool {
	return string(key) == "data" || string(key) == "stringData"
}

// maskMap masks a data or stringData value: each member of an object (its
// key kept), or the whole value when it is not an object. Nulls reveal
// nothing and stay.
func (r *redactor) maskMap(vs int) (int, error) {
	b := r.b
	if b[vs] != '{' {
		ve, err := skipValue(b, vs)
		if err == nil && !isNull(b, vs, ve) {
			r.add(vs, ve, markerJSON)
		}
		return ve, err
	}
	return r.objectMembers(vs, func(m member) (int, error) {
		ve, err := skipValue(b, m.vs)
		if err == nil && !isNull(b, m.vs, ve) {
			r.add(m.vs, ve, markerJSON)
		}
		return ve, err
	})
}

// patchValue masks the value of a JSON Patch operation whose path points
// into data or stringData, or at the last-applied annotation. Edits made
// while the value was walked are replaced.
func (r *redactor) patchValue(path []byte, v span) error {
	segs := strings.Split(strings.TrimPrefix(string(path), "/"), "/")
	for i, s := range segs {
		segs[i] = pointerUnescaper.Replace(s)
	}
	dataAt := -1
	for i, s := range segs {
		if s == "data" || s == "stringData" {
			dataAt = i
			break
		}
	}
	last := segs[len(segs)-1]
	if dataAt < 0 && !(last == lastApplied && r.b[v.vs] == '"') {
		return nil
	}
	n1 := v.n0
	for n1 < len(r.edits) && r.edits[n1].start < v.ve {
		n1++
	}
	tail := append([]edit(nil), r.edits[n1:]...)
	r.edits = r.edits[:v.n0]
	switch {
	case dataAt == len(segs)-1: // the whole map
		if _, err := r.maskMap(v.vs); err != nil {
			return err
		}
	case dataAt >= 0: // one key, or deeper
		if !isNull(r.b, v.vs, v.ve) {
			r.add(v.vs, v.ve, markerJSON)
		}
	default:
		r.embedded(v.vs, v.ve)
	}
	r.edits = append(r.edits, tail...)
	return nil
}

// embedded masks the secret values inside the JSON document held by the
// string b[vs:ve] (the last-applied-configuration annotation) and
// re-encodes it. A value that is not a JSON object is replaced whole.
func (r *redactor) embedded(vs, ve int) {
	raw := r.b[vs+1 : ve-1]
	doc := raw
	if bytes.IndexByte(raw, '\\') >= 0 {
		doc = audit.Unescape(nil, raw)
	}
	i := audit.SkipWS(doc, 0)
	if i == len(doc) {
		return // empty: nothing to hide
	}
	sub := &redactor{b: doc, mode: modeSecret, depth: r.depth}
	ok := doc[i] == '{'
	if ok {
		end, err := sub.walk(i)
		ok = err == nil && audit.SkipWS(doc, end) == len(doc)
	}
	if !ok {
		r.add(vs, ve, markerJSON)
		return
	}
	if len(sub.edits) == 0 {
		return
	}
	out, err := applyEdits(doc, sub.edits)
	if err != nil {
		r.add(vs, ve, markerJSON)
		return
	}
	r.add(vs, ve, appendJSONString(nil, string(out)))
}

func (r *redactor) add(start, end int, repl []byte) {
	r.edits = append(r.edits, edit{start, end, repl})
}

// applyEdits returns b with the edits applied. Edits must be sorted and
// must not overlap.
func applyEdits(b []byte, edits []edit) ([]byte, error) {
	n := len(b)
	for _, e := range edits {
		n += len(e.repl) - (e.end - e.start)
	}
	out := make([]byte, 0, n)
	p := 0
	for _, e := range edits {
		if e.start < p || e.end < e.start || e.end > len(b) {
			return nil, fmt.Errorf("overlapping edits at byte %d", e.start)
		}
		out = append(out, b[p:e.start]...)
		out = append(out, e.repl...)
		p = e.end
	}
	return append(out, b[p:]...), nil
}
