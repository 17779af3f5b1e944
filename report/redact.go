package report

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"ktrail/audit"
)

// Marker replaces every masked value. It is the same whatever the value
// was, so it reveals neither the value nor its length.
const Marker = "***REDACTED***"

// Redact masks the secret values in one audit event's raw bytes. resource
// and subresource are the event's objectRef (for a GKE LogEntry, the ones
// its protoPayload.resourceName names); they select the rules:
//
//   - secrets: in requestObject and responseObject (GKE: protoPayload
//     request and response), the value of every member of each data and
//     stringData map, at any depth, so Secrets, SecretLists (items), watch
//     events (object), Table rows (rows[].object), merge and strategic merge
//     patches and apply configurations are all covered; the value of JSON
//     Patch operations whose path goes through /data or /stringData (a
//     path of /data with an object value keeps its keys); and the
//     secret values inside the kubectl.kubernetes.io/last-applied-configuration
//     annotation, whose JSON is masked and re-encoded (replaced whole when
//     it is not a JSON object).
//   - serviceaccounts/token (TokenRequest) and tokenreviews: every token
//     member in those bodies, which covers status.token of a TokenRequest
//     response and spec.token of a TokenReview.
//   - anything else: nothing; Redact returns at once.
//
// A masked value becomes the JSON string Marker; keys are kept so that
// investigators see which keys were there. Nulls stay null. Only the
// masked values' bytes change; when nothing is masked, out is raw itself
// and changed is false. A body that is a bare JSON string is masked whole.
//
// When the event must be masked but cannot be followed (malformed or too
// deeply nested JSON, or an EventList rather than one event), Redact
// returns a nil slice and an error, so that callers fail closed. It never
// panics.
func Redact(raw []byte, resource, subresource string) (out []byte, changed bool, err error) {
	m := modeFor(resource, subresource)
	if m == 0 {
		return raw, false, nil
	}
	return redactMode(raw, m)
}

// RedactAuto is Redact for callers that do not have the event's index
// record: it reads objectRef.resource and objectRef.subresource, or a GKE
// LogEntry's protoPayload.resourceName and methodName, from raw itself.
// Events that cannot be about secrets or tokens are returned after a
// quick byte search, unparsed; the others cost a walk up to their
// objectRef (a few microseconds), so callers that have the record should
// prefer Redact.
func RedactAuto(raw []byte) ([]byte, bool, error) {
	if !mayNameSecrets(raw) {
		return raw, false, nil
	}
	m, err := detectMode(raw)
	if err != nil {
		return nil, false, fmt.Errorf("report: redact: %w", err)
	}
	if m == 0 {
		return raw, false, nil
	}
	return redactMode(raw, m)
}

// mayNameSecrets reports whether raw could name a resource whose bodies
// are masked: it holds one of their names, or a \u escape of a lower-case
// letter (U+0060 to U+007F) that could spell one in disguise.
func mayNameSecrets(raw []byte) bool {
	for _, s := range [...]string{"secrets", "serviceaccounts", "tokenreviews", `\u006`, `\u007`} {
		if bytes.Contains(raw, []byte(s)) {
			return true
		}
	}
	return false
}

// modeFor maps an event's resource and subresource to masking rules.
func modeFor(resource, subresource string) mode {
	switch resource {
	case "secrets":
		return modeSecret
	case "tokenreviews":
		return modeToken
	case "serviceaccounts":
		if subresource == "token" {
			return modeToken
		}
	}
	return 0
}

func redactMode(raw []byte, m mode) ([]byte, bool, error) {
	r := &redactor{b: raw, mode: m}
	if err := r.event(); err != nil {
		return nil, false, fmt.Errorf("report: redact: %w", err)
	}
	if len(r.edits) == 0 {
		return raw, false, nil
	}
	out, err := applyEdits(raw, r.edits)
	if err != nil {
		return nil, false, fmt.Errorf("report: redact: %w", err)
	}
	return out, true, nil
}

// event walks a native Event or a GKE LogEntry and masks its bodies.
func (r *redactor) event() error {
	return r.topLevel(func(m member) (int, error) {
		switch string(m.key) {
		case "requestObject", "responseObject":
			return r.body(m.vs)
		case "items":
			return 0, errList(m.vs)
		case "protoPayload":
			if r.b[m.vs] != '{' {
				break
			}
			return r.objectMembers(m.vs, func(p member) (int, error) {
				if k := string(p.key); k == "request" || k == "response" {
					return r.body(p.vs)
				}
				return skipValue(r.b, p.vs)
			})
		}
		return skipValue(r.b, m.vs)
	})
}

// topLevel calls fn for each member of the event object, which must be
// the whole of r.b apart from white space.
func (r *redactor) topLevel(fn func(m member) (int, error)) error {
	i := audit.SkipWS(r.b, 0)
	if i >= len(r.b) || r.b[i] != '{' {
		return errAt(i, "event is not a JSON object")
	}
	end, err := r.objectMembers(i, fn)
	if err != nil {
		return err
	}
	if j := audit.SkipWS(r.b, end); j < len(r.b) {
		return errAt(j, "unexpected data after the event")
	}
	return nil
}

// body masks one request or response body.
func (r *redactor) body(vs int) (int, error) {
	if r.b[vs] == '"' {
		// Not an object at all (a patch kept as text?): hide it whole.
		ve, err := scanString(r.b, vs)
		if err == nil {
			r.add(vs, ve, markerJSON)
		}
		return ve, err
	}
	return r.walk(vs)
}

// detectMode finds the masking rules for raw from its own fields.
func detectMode(raw []byte) (mode, error) {
	var m mode
	r := &redactor{b: raw}
	str := func(vs int) (string, int, error) {
		if raw[vs] != '"' {
			ve, err := skipValue(raw, vs)
			return "", ve, err
		}
		ve, err := scanString(raw, vs)
		if err != nil {
			return "", 0, err
		}
		return string(audit.Unescape(nil, raw[vs+1:ve-1])), ve, nil
	}
	err := r.topLevel(func(t member) (int, error) {
		if string(t.key) == "items" {
			return 0, errList(t.vs)
		}
		if k := string(t.key); (k != "objectRef" && k != "protoPayload") || raw[t.vs] != '{' {
			return skipValue(raw, t.vs)
		}
		gke := string(t.key) == "protoPayload"
		var res, sub string
		end, err := r.objectMembers(t.vs, func(o member) (int, error) {
			k := string(o.key)
			s, ve, err := str(o.vs)
			switch {
			case !gke && k == "resource":
				res = s
			case !gke && k == "subresource":
				sub = s
			case gke && k == "resourceName":
				m |= modeFor(gkeResource(s))
			case gke && k == "methodName":
				m |= modeFor(gkeMethod(s))
			}
			return ve, err
		})
		m |= modeFor(res, sub)
		if err == nil && !gke {
			// A native event has one objectRef, near its start: the
			// bodies after it need not be read.
			err = errFound
		}
		return end, err
	})
	if err == errFound {
		err = nil
	}
	return m, err
}

// errList refuses an EventList, whose items each need their own rules.
func errList(off int) error {
	return errAt(off, "an EventList, not one event: redact its items one at a time")
}

// errFound stops detectMode's walk once the resource is known.
var errFound = errors.New("found")

// gkeResource splits a GKE resourceName,
// <group>/<version>[/namespaces/<ns>]/<resource>[/<name>[/<subresource>]],
// as the audit package does.
func gkeResource(name string) (resource, subresource string) {
	parts := strings.Split(name, "/")
	if len(parts) < 3 {
		return "", ""
	}
	rest := parts[2:]
	if len(rest) >= 3 && rest[0] == "namespaces" {
		rest = rest[2:]
	}
	if len(rest) > 2 {
		subresource = rest[2]
	}
	return rest[0], subresource
}

// gkeMethod reads a GKE methodName, io.k8s.<group>.<version>.<resource>
// [.<subresource>].<verb>, loosely: it only looks for the resource names
// that carry secrets, so a group with dots in it does not matter.
func gkeMethod(method string) (resource, subresource string) {
	parts := strings.Split(method, ".")
	for i, p := range parts {
		switch p {
		case "secrets", "tokenreviews":
			return p, ""
		case "serviceaccounts":
			if i+1 < len(parts) && parts[i+1] == "token" {
				return p, "token"
			}
		}
	}
	return "", ""
}
