package filters

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"ktrail/audit"
)

// This file reads the fields that are not in the index from an event's
// raw bytes: a scan of the top-level members that keeps the spans of the
// few that filters use, and small decoders for what is inside them.

var errBadJSON = errors.New("malformed JSON in event")

// rawEvent holds the raw value spans of an event's top-level members that
// filters read. A span is nil when the member is absent.
type rawEvent struct {
	user, impUser, sourceIPs, objectRef []byte
	responseStatus, annotations         []byte
	requestObject, responseObject       []byte
	auditID, requestURI, level, stage   []byte
}

// scan finds the members of the event object b.
func (ev *rawEvent) scan(b []byte) error {
	*ev = rawEvent{}
	var it objIter
	if !it.open(b, 0) {
		return errBadJSON
	}
	for {
		key, val, ok := it.next()
		if !ok {
			return it.err
		}
		switch string(key) {
		case "user":
			ev.user = val
		case "impersonatedUser":
			ev.impUser = val
		case "sourceIPs":
			ev.sourceIPs = val
		case "objectRef":
			ev.objectRef = val
		case "responseStatus":
			ev.responseStatus = val
		case "annotations":
			ev.annotations = val
		case "requestObject":
			ev.requestObject = val
		case "responseObject":
			ev.responseObject = val
		case "auditID":
			ev.auditID = val
		case "requestURI":
			ev.requestURI = val
		case "level":
			ev.level = val
		case "stage":
			ev.stage = val
		}
	}
}

// fill sets the raw-derived field f of e.
func (ev *rawEvent) fill(f fieldID, e *env) error {
	var err error
	switch f {
	case fUserUID:
		e.UserUID = strValue(member(ev.user, "uid"))
	case fImpGroups:
		e.ImpGroups, err = strArray(member(ev.impUser, "groups"))
	case fObjUID:
		e.ObjUID = strValue(member(ev.objectRef, "uid"))
	case fAPIVersion:
		e.APIVersion = strValue(member(ev.objectRef, "apiVersion"))
	case fURI:
		e.URI = strValue(ev.requestURI)
	case fReason:
		e.Reason = strValue(member(ev.responseStatus, "reason"))
	case fMessage:
		e.Message = strValue(member(ev.responseStatus, "message"))
	case fSourceIPs:
		e.SourceIPs, err = strArray(ev.sourceIPs)
	case fAuthzReason:
		e.AuthzReason = strValue(member(ev.annotations, "authorization.k8s.io/reason"))
	case fDecision:
		e.Decision = strValue(member(ev.annotations, "authorization.k8s.io/decision"))
	case fLevel:
		e.Level = strValue(ev.level)
	case fStage:
		e.Stage = strValue(ev.stage)
	case fAnnotations:
		e.Annotations, err = strMap(ev.annotations)
	case fAuditID:
		e.AuditID = strValue(ev.auditID)
	case fRequestObject:
		e.RequestObject, err = decodeAny(ev.requestObject)
	case fResponseObject:
		e.ResponseObject, err = decodeAny(ev.responseObject)
	}
	return err
}

// endTab marks the bytes that end a literal or a number.
var endTab = [256]bool{' ': true, '\t': true, '\n': true, '\r': true, ',': true, '}': true, ']': true, ':': true}

// skipValue returns the index just past the value starting at b[i] (not
// whitespace), or -1. Strings and nested values are skipped by
// audit.SkipValue; anything else runs to the next delimiter, so that a
// malformed scalar is kept whole for checkScalar and strValue.
func skipValue(b []byte, i int) int {
	if i >= len(b) {
		return -1
	}
	switch b[i] {
	case '"', '{', '[':
		end, err := audit.SkipValue(b, i)
		if err != nil {
			return -1
		}
		return end
	}
	j := i
	for j < len(b) && !endTab[b[j]] {
		j++
	}
	if j == i {
		return -1
	}
	return j
}

// objIter walks the members of a JSON object with audit.Members, giving
// each member's raw value.
type objIter struct {
	b   []byte
	m   audit.Members
	err error
}

// open positions the iterator inside the object at b[i]; false when b[i]
// is not an object (null included).
func (it *objIter) open(b []byte, i int) bool {
	it.b, it.err = b, nil
	return it.m.Open(b, i) == nil
}

// next returns the next member's raw key and value; ok is false at the
// end of the object or on malformed input (it.err is then set).
func (it *objIter) next() (key, val []byte, ok bool) {
	key, vs, done, err := it.m.Next()
	if done {
		return nil, nil, false
	}
	end := -1
	if err == nil {
		end = skipValue(it.b, vs)
	}
	if end < 0 {
		it.err = errBadJSON
		return nil, nil, false
	}
	it.m.Seek(end)
	return key, it.b[vs:end], true
}

// keyIs reports whether the raw (still escaped) key equals name.
func keyIs(raw []byte, name string) bool {
	if string(raw) == name {
		return true
	}
	if bytes.IndexByte(raw, '\\') < 0 {
		return false
	}
	var buf [64]byte
	return string(audit.Unescape(buf[:0], raw)) == name
}

// member returns the raw value of obj's member name, or nil (also when
// obj is malformed).
func member(obj []byte, name string) []byte {
	v, _ := memberErr(obj, name)
	return v
}

// isNullOrEmpty reports whether a raw value is absent or null.
func isNullOrEmpty(v []byte) bool { return len(v) == 0 || string(v) == "null" }

// strValue decodes a raw JSON string; absent and null give "", and other
// values their JSON text. Escapes are decoded with audit.Unescape, which
// keeps invalid UTF-8 as it is.
func strValue(v []byte) string {
	if isNullOrEmpty(v) {
		return ""
	}
	if len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
		return string(v)
	}
	in := v[1 : len(v)-1]
	if bytes.IndexByte(in, '\\') < 0 {
		return string(in)
	}
	return string(audit.Unescape(nil, in))
}

// strArray decodes a raw JSON array of strings; a value that is not an
// array gives nil.
func strArray(v []byte) ([]string, error) {
	i := audit.SkipWS(v, 0)
	if i >= len(v) || v[i] != '[' {
		return nil, nil
	}
	var out []string
	for i = audit.SkipWS(v, i+1); i < len(v) && v[i] != ']'; {
		end := skipValue(v, i)
		if end < 0 {
			return nil, errBadJSON
		}
		out = append(out, strValue(v[i:end]))
		i = audit.SkipWS(v, end)
		if i < len(v) && v[i] == ',' {
			i = audit.SkipWS(v, i+1)
		}
	}
	return out, nil
}

// emptyAnnotations is what events without annotations see; it is never
// written.
var emptyAnnotations = map[string]string{}

// strMap decodes a raw JSON object of strings; other values keep their
// JSON text.
func strMap(v []byte) (map[string]string, error) {
	var it objIter
	if !it.open(v, 0) {
		return emptyAnnotations, nil
	}
	m := make(map[string]string, 4)
	for {
		key, val, ok := it.next()
		if !ok {
			return m, it.err
		}
		k := string(key)
		if bytes.IndexByte(key, '\\') >= 0 {
			k = string(audit.Unescape(nil, key))
		}
		m[k] = strValue(val)
	}
}

// decodeAny decodes a raw JSON value as encoding/json does into an any
// (see decodeValue); absent and null give nil.
func decodeAny(v []byte) (any, error) {
	if isNullOrEmpty(v) {
		return nil, nil
	}
	out, end, err := decodeValue(v, 0, 0)
	if err == nil && audit.SkipWS(v, end) != len(v) {
		err = errBadJSON
	}
	if err != nil {
		return nil, fmt.Errorf("body: %w", err)
	}
	return out, nil
}

// pathElem is one step of a body path: an object member or an array
// element.
type pathElem struct {
	key   string
	index int
	isIdx bool
}

// lookup follows path from the raw value v and returns the raw value
// found, or nil when a step is missing or does not apply (a member of a
// non-object, an index of a non-array). Only the objects and arrays on
// the path are read; malformed JSON there is an error.
func lookup(v []byte, path []pathElem) ([]byte, error) {
	for _, p := range path {
		if isNullOrEmpty(v) {
			return nil, nil
		}
		var err error
		if p.isIdx {
			v, err = elementErr(v, p.index)
		} else {
			v, err = memberErr(v, p.key)
		}
		if err != nil {
			return nil, err
		}
	}
	return v, checkScalar(v)
}

// memberErr is member that reports malformed objects.
func memberErr(obj []byte, name string) ([]byte, error) {
	var it objIter
	if !it.open(obj, 0) {
		return nil, nil
	}
	for {
		key, val, ok := it.next()
		if !ok {
			return nil, it.err
		}
		if keyIs(key, name) {
			return val, nil
		}
	}
}

// elementErr is element that reports malformed arrays.
func elementErr(arr []byte, k int) ([]byte, error) {
	i := audit.SkipWS(arr, 0)
	if i >= len(arr) || arr[i] != '[' {
		return nil, nil
	}
	i = audit.SkipWS(arr, i+1)
	for n := 0; i < len(arr) && arr[i] != ']'; n++ {
		end := skipValue(arr, i)
		if end < 0 {
			return nil, errBadJSON
		}
		if n == k {
			return arr[i:end], nil
		}
		i = audit.SkipWS(arr, end)
		switch {
		case i < len(arr) && arr[i] == ',':
			i = audit.SkipWS(arr, i+1)
		case i >= len(arr) || arr[i] != ']':
			return nil, errBadJSON
		}
	}
	return nil, nil
}

// checkScalar reports a malformed scalar the way encoding/json would;
// objects and arrays are checked when they are decoded.
func checkScalar(v []byte) error {
	if len(v) == 0 {
		return nil
	}
	switch v[0] {
	case '{', '[':
		return nil
	case 't', 'f', 'n':
		if s := string(v); s == "true" || s == "false" || s == "null" {
			return nil
		}
	case '"':
		for _, c := range v {
			if c < 0x20 || c == '\\' {
				if json.Valid(v) {
					return nil
				}
				return errBadJSON
			}
		}
		return nil
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		if _, err := strconv.ParseFloat(string(v), 64); err == nil {
			return nil
		}
	}
	return errBadJSON
}
