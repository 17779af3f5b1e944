package audit

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
)

// Fields holds the indexed fields of one event as sub-slices of its raw
// bytes (string contents still JSON-escaped). Extract fills it in one pass
// over the event, skipping request and response bodies without decoding
// them.
type Fields struct {
	Kind, APIVersion             []byte
	Level, AuditID, Stage, Verb  []byte
	UserAgent, RequestURI        []byte
	User, UserUID                []byte
	Groups                       []byte // raw JSON array
	ImpUser                      []byte
	ImpGroups                    []byte // raw JSON array
	SourceIP                     []byte // first of sourceIPs
	Resource, Namespace, Name    []byte
	APIGroup, ObjAPIVersion      []byte
	Subresource, ObjUID          []byte
	Code                         int
	Reason                       []byte
	Received, StageTS, Timestamp []byte
	Decision                     []byte
	Cluster                      []byte // GKE: resource.labels.cluster_name
	Truncated                    bool
	// HasUser is true when a "user" member is present (even if empty).
	HasUser bool
	// Items holds the [start,end) spans of an EventList's items, relative
	// to the start of the scanned bytes.
	Items [][2]int
	// IsList is true for an EventList (or a JSON array of events).
	IsList bool
	// GKE is true for a Cloud Logging LogEntry (protoPayload present).
	GKE bool
	// Known counts the audit Event members found; zero means the object is
	// not an audit event.
	Known int
}

// NotEventError reports valid JSON that is not an audit event.
type NotEventError struct{ Msg string }

func (e *NotEventError) Error() string { return e.Msg }

// Reset clears f for reuse, keeping the Items capacity.
func (f *Fields) Reset() {
	items := f.Items[:0]
	*f = Fields{Items: items}
}

// objIter walks the members of a JSON object.
type objIter struct {
	b    []byte
	i    int
	more bool
}

// open positions the iterator inside the object starting at b[i].
func (it *objIter) open(b []byte, i int) error {
	i = skipWS(b, i)
	if i >= len(b) {
		return synErr(i, errTruncated)
	}
	if b[i] != '{' {
		return badChar(b, i)
	}
	it.b, it.i, it.more = b, i+1, false
	return nil
}

// next returns the next member's raw key and the index where its value
// starts. done is true after the closing brace, and it.i is then just past
// it. The caller must set it.i to the end of the value before calling next
// again (see skip).
func (it *objIter) next() (key []byte, val int, done bool, err error) {
	b := it.b
	i := skipWS(b, it.i)
	if i >= len(b) {
		return nil, 0, false, synErr(i, errTruncated)
	}
	if it.more {
		if b[i] == '}' {
			it.i = i + 1
			return nil, 0, true, nil
		}
		if b[i] != ',' {
			return nil, 0, false, badChar(b, i)
		}
		i = skipWS(b, i+1)
		if i >= len(b) {
			return nil, 0, false, synErr(i, errTruncated)
		}
	} else if b[i] == '}' {
		it.i = i + 1
		return nil, 0, true, nil
	}
	if b[i] != '"' {
		return nil, 0, false, badChar(b, i)
	}
	end, err := scanString(b, i)
	if err != nil {
		return nil, 0, false, err
	}
	key = b[i+1 : end]
	i = skipWS(b, end+1)
	if i >= len(b) {
		return nil, 0, false, synErr(i, errTruncated)
	}
	if b[i] != ':' {
		return nil, 0, false, badChar(b, i)
	}
	it.more = true
	return key, skipWS(b, i+1), false, nil
}

// skip moves past the value starting at val.
func (it *objIter) skip(val int) error {
	end, err := skipValue(it.b, val)
	it.i = end
	return err
}

// str reads the string value at val (null reads as empty) and advances.
func (it *objIter) str(val int) ([]byte, error) {
	b := it.b
	if val < len(b) && b[val] == '"' {
		end, err := scanString(b, val)
		if err != nil {
			return nil, err
		}
		it.i = end + 1
		return b[val+1 : end], nil
	}
	if val < len(b) && b[val] == 'n' {
		end, err := skipLiteral(b, val, "null")
		it.i = end
		return nil, err
	}
	if val >= len(b) {
		return nil, synErr(val, errTruncated)
	}
	return nil, typeErr(b, val, "a string")
}

// raw returns the raw bytes of the value at val and advances.
func (it *objIter) raw(val int) ([]byte, error) {
	end, err := skipValue(it.b, val)
	if err != nil {
		return nil, err
	}
	it.i = end
	return it.b[val:end], nil
}

// typeErr reports a value of the wrong JSON type.
func typeErr(b []byte, i int, want string) error {
	return synErr(i, fmt.Sprintf("expected %s, found %s", want, JSONKind(b[i])))
}

// JSONKind names the JSON type of a value that starts with c: "an
// object", "a string", "a number"…
func JSONKind(c byte) string {
	switch {
	case c == '{':
		return "an object"
	case c == '[':
		return "an array"
	case c == '"':
		return "a string"
	case c == 't' || c == 'f':
		return "a boolean"
	case c == 'n':
		return "null"
	case c == '-' || (c >= '0' && c <= '9'):
		return "a number"
	}
	return fmt.Sprintf("byte 0x%02x", c)
}

// Extract scans one JSON object (an Event, an EventList, or a GKE
// LogEntry) and fills f. Trailing whitespace after the object is allowed;
// anything else is an error.
func Extract(b []byte, f *Fields) error {
	f.Reset()
	i := skipWS(b, 0)
	if i >= len(b) {
		return synErr(i, "empty input")
	}
	if b[i] != '{' {
		if b[i] == '[' {
			return extractArray(b, i, f)
		}
		return &NotEventError{"JSON value is not an object (" + JSONKind(b[i]) + ")"}
	}
	var it objIter
	if err := it.open(b, i); err != nil {
		return err
	}
	if err := extractEvent(&it, f); err != nil {
		return err
	}
	if j := skipWS(b, it.i); j < len(b) {
		return synErr(j, "unexpected data after the event")
	}
	return f.validate()
}

// validate checks that the scanned object is something we can index.
func (f *Fields) validate() error {
	switch k := string(f.Kind); {
	case f.IsList:
		if k != "" && k != "EventList" {
			return &NotEventError{fmt.Sprintf("kind %q with items is not an EventList", clip(f.Kind))}
		}
		return nil
	case k == "" || k == "Event":
	default:
		return &NotEventError{fmt.Sprintf("kind %q is not an audit Event", clip(f.Kind))}
	}
	if f.GKE {
		return nil
	}
	if f.Known == 0 {
		return &NotEventError{"object has no audit Event fields (auditID, stage, verb, requestURI, level)"}
	}
	return nil
}

// clip shortens attacker-controlled text quoted inside an error message.
func clip(b []byte) string {
	if len(b) > 40 {
		return string(b[:40]) + "…"
	}
	return string(b)
}

func extractArray(b []byte, i int, f *Fields) error {
	f.IsList = true
	end, err := scanItems(b, i, f, "array element")
	if err != nil {
		return err
	}
	return trailing(b, end)
}

// scanItems records the spans of the objects in the array at b[i] and
// returns the index just past the array.
func scanItems(b []byte, i int, f *Fields, what string) (int, error) {
	j := skipWS(b, i+1)
	if j < len(b) && b[j] == ']' {
		return j + 1, nil
	}
	for {
		j = skipWS(b, j)
		if j >= len(b) {
			return 0, synErr(j, errTruncated)
		}
		if b[j] != '{' {
			if _, err := skipValue(b, j); err != nil {
				return 0, err
			}
			return 0, &NotEventError{what + " is not an object (" + JSONKind(b[j]) + ")"}
		}
		end, err := skipNested(b, j)
		if err != nil {
			return 0, err
		}
		f.Items = append(f.Items, [2]int{j, end})
		j = skipWS(b, end)
		if j >= len(b) {
			return 0, synErr(j, errTruncated)
		}
		if b[j] == ']' {
			return j + 1, nil
		}
		if b[j] != ',' {
			return 0, badChar(b, j)
		}
		j++
	}
}

func trailing(b []byte, j int) error {
	if j = skipWS(b, j); j < len(b) {
		return synErr(j, "unexpected data after the event")
	}
	return nil
}

// extractEvent reads the top-level members of an event object.
func extractEvent(it *objIter, f *Fields) error {
	for {
		key, val, done, err := it.next()
		if err != nil || done {
			return err
		}
		switch string(key) {
		case "kind":
			f.Kind, err = it.str(val)
		case "apiVersion":
			f.APIVersion, err = it.str(val)
		case "level":
			f.Known++
			f.Level, err = it.str(val)
		case "auditID":
			f.Known++
			f.AuditID, err = it.str(val)
		case "stage":
			f.Known++
			f.Stage, err = it.str(val)
		case "verb":
			f.Known++
			f.Verb, err = it.str(val)
		case "requestURI":
			f.Known++
			f.RequestURI, err = it.str(val)
		case "userAgent":
			f.UserAgent, err = it.str(val)
		case "user":
			f.HasUser = true
			f.User, f.UserUID, f.Groups, err = extractUser(it, val)
		case "impersonatedUser":
			f.ImpUser, _, f.ImpGroups, err = extractUser(it, val)
		case "sourceIPs":
			f.SourceIP, err = extractFirstString(it, val)
		case "objectRef":
			err = extractObjectRef(it, val, f)
		case "responseStatus":
			err = extractStatus(it, val, f)
		case "requestReceivedTimestamp":
			f.Received, err = it.str(val)
		case "stageTimestamp":
			f.StageTS, err = it.str(val)
		case "timestamp":
			f.Timestamp, err = it.str(val)
		case "annotations":
			err = extractAnnotations(it, val, f)
		case "items":
			err = extractItems(it, val, f)
		case "protoPayload":
			f.GKE = true
			err = it.skip(val)
		default:
			err = it.skip(val)
		}
		if err != nil {
			return fieldErr(key, err)
		}
	}
}

// fieldErr names the member whose value was of the wrong type.
func fieldErr(key []byte, err error) error {
	var se *SyntaxError
	if errors.As(err, &se) && strings.HasPrefix(se.Msg, "expected ") {
		return &NotEventError{fmt.Sprintf("%s: %s", clip(key), se.Msg)}
	}
	return err
}

func isNull(b []byte, i int) bool { return i < len(b) && b[i] == 'n' }

func extractUser(it *objIter, val int) (name, uid, groups []byte, err error) {
	if isNull(it.b, val) {
		return nil, nil, nil, it.skip(val)
	}
	var sub objIter
	if err := sub.open(it.b, val); err != nil {
		return nil, nil, nil, typeOr(it.b, val, err, "an object")
	}
	for {
		key, v, done, err := sub.next()
		if err != nil {
			return nil, nil, nil, err
		}
		if done {
			break
		}
		switch string(key) {
		case "username":
			name, err = sub.str(v)
		case "uid":
			uid, err = sub.str(v)
		case "groups":
			groups, err = sub.raw(v)
		default:
			err = sub.skip(v)
		}
		if err != nil {
			return nil, nil, nil, err
		}
	}
	it.i = sub.i
	return name, uid, groups, nil
}

// typeOr turns an "invalid character" from open into a type error when the
// value is well-formed but of another type.
func typeOr(b []byte, i int, err error, want string) error {
	i = skipWS(b, i)
	if i < len(b) && b[i] != '{' {
		return typeErr(b, i, want)
	}
	return err
}

func extractFirstString(it *objIter, val int) ([]byte, error) {
	b := it.b
	if isNull(b, val) {
		return nil, it.skip(val)
	}
	if val >= len(b) {
		return nil, synErr(val, errTruncated)
	}
	if b[val] != '[' {
		return nil, typeErr(b, val, "an array")
	}
	end, err := skipNested(b, val)
	if err != nil {
		return nil, err
	}
	it.i = end
	j := skipWS(b, val+1)
	if b[j] == '"' {
		e, err := scanString(b, j)
		if err != nil {
			return nil, err
		}
		return b[j+1 : e], nil
	}
	return nil, nil
}

func extractObjectRef(it *objIter, val int, f *Fields) error {
	if isNull(it.b, val) {
		return it.skip(val)
	}
	var sub objIter
	if err := sub.open(it.b, val); err != nil {
		return typeOr(it.b, val, err, "an object")
	}
	for {
		key, v, done, err := sub.next()
		if err != nil {
			return err
		}
		if done {
			break
		}
		switch string(key) {
		case "resource":
			f.Resource, err = sub.str(v)
		case "namespace":
			f.Namespace, err = sub.str(v)
		case "name":
			f.Name, err = sub.str(v)
		case "apiGroup":
			f.APIGroup, err = sub.str(v)
		case "apiVersion":
			f.ObjAPIVersion, err = sub.str(v)
		case "subresource":
			f.Subresource, err = sub.str(v)
		case "uid":
			f.ObjUID, err = sub.str(v)
		default:
			err = sub.skip(v)
		}
		if err != nil {
			return err
		}
	}
	it.i = sub.i
	return nil
}

func extractStatus(it *objIter, val int, f *Fields) error {
	if isNull(it.b, val) {
		return it.skip(val)
	}
	var sub objIter
	if err := sub.open(it.b, val); err != nil {
		return typeOr(it.b, val, err, "an object")
	}
	for {
		key, v, done, err := sub.next()
		if err != nil {
			return err
		}
		if done {
			break
		}
		switch string(key) {
		case "code":
			var raw []byte
			raw, err = sub.raw(v)
			if err == nil {
				n, ok := parseUint(raw)
				if !ok || n > 65535 {
					if raw[0] == '"' {
						return &NotEventError{"responseStatus.code: expected a number, found a string"}
					}
					return &NotEventError{"responseStatus.code is not an HTTP status code"}
				}
				f.Code = n
			}
		case "reason":
			f.Reason, err = sub.str(v)
		default:
			err = sub.skip(v)
		}
		if err != nil {
			return err
		}
	}
	it.i = sub.i
	return nil
}

var (
	keyDecision  = []byte("authorization.k8s.io/decision")
	keyTruncated = []byte("audit.k8s.io/truncated")
)

func extractAnnotations(it *objIter, val int, f *Fields) error {
	if isNull(it.b, val) {
		return it.skip(val)
	}
	var sub objIter
	if err := sub.open(it.b, val); err != nil {
		return typeOr(it.b, val, err, "an object")
	}
	for {
		key, v, done, err := sub.next()
		if err != nil {
			return err
		}
		if done {
			break
		}
		switch {
		case bytes.Equal(key, keyDecision):
			f.Decision, err = sub.str(v)
		case bytes.Equal(key, keyTruncated):
			f.Truncated = true
			err = sub.skip(v)
		default:
			err = sub.skip(v)
		}
		if err != nil {
			return err
		}
	}
	it.i = sub.i
	return nil
}

func extractItems(it *objIter, val int, f *Fields) error {
	b := it.b
	f.IsList = true
	if isNull(b, val) {
		return it.skip(val)
	}
	if val >= len(b) {
		return synErr(val, errTruncated)
	}
	if b[val] != '[' {
		return typeErr(b, val, "an array")
	}
	end, err := scanItems(b, val, f, "EventList item")
	it.i = end
	return err
}
