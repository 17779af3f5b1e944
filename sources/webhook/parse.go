package webhook

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"ktrail/audit"
)

// Rejection reasons, the values of the reason label of
// ktrail_webhook_rejected_total and the keys of Stats.Rejected.
const (
	ReasonBadJSON        = "bad_json"         // not JSON, or truncated
	ReasonBadEvent       = "bad_event"        // an item is not a valid audit event
	ReasonWrongKind      = "wrong_kind"       // neither an EventList nor an Event
	ReasonTooLarge       = "too_large"        // the (decoded) body exceeds MaxBody
	ReasonUnauthorized   = "unauthorized"     // missing or wrong bearer token
	ReasonSpoolError     = "spool_error"      // writing or fsyncing the spool failed
	ReasonBadCluster     = "bad_cluster"      // invalid cluster label
	ReasonMethod         = "method"           // wrong HTTP method
	ReasonNotFound       = "not_found"        // unknown path
	ReasonContentType    = "bad_content_type" // not a JSON media type
	ReasonEncoding       = "bad_encoding"     // unsupported or damaged Content-Encoding
	ReasonReadError      = "read_error"       // the body could not be read (timeout, reset)
	ReasonPanic          = "panic"            // a handler panicked (a bug)
	ReasonShuttingDown   = "shutting_down"    // the server is stopping
	ReasonTooManyCluster = "too_many_clusters"
	ReasonBusy           = "busy" // the memory budget for bodies stayed full
)

var allReasons = []string{ReasonBadJSON, ReasonBadEvent, ReasonWrongKind, ReasonTooLarge,
	ReasonUnauthorized, ReasonSpoolError, ReasonBadCluster, ReasonMethod, ReasonNotFound,
	ReasonContentType, ReasonEncoding, ReasonReadError, ReasonPanic, ReasonShuttingDown,
	ReasonTooManyCluster, ReasonBusy}

// rejection is why a request is refused: an HTTP status, a metric
// reason and a one-line message.
type rejection struct {
	code   int
	reason string
	msg    string
}

func reject(code int, reason, format string, args ...any) *rejection {
	return &rejection{code: code, reason: reason, msg: fmt.Sprintf(format, args...)}
}

func badRequest(reason, format string, args ...any) *rejection {
	return reject(http.StatusBadRequest, reason, format, args...)
}

// parseBatch validates a decoded request body and appends its events to
// out, one line each (the item's bytes as received, or compacted when the
// item spans lines). It returns the extended slice and the number of
// events; on a rejection nothing of the batch is usable. A body is an
// EventList (items may lack kind and apiVersion), a JSON array of events,
// or a single Event.
func parseBatch(body, out []byte) ([]byte, int, *rejection) {
	i := audit.SkipWS(body, 0)
	if i == len(body) {
		return out, 0, badRequest(ReasonBadJSON, "empty body: expected an audit EventList or Event")
	}
	if !json.Valid(body) {
		return out, 0, jsonError(body)
	}
	var f audit.Fields
	switch body[i] {
	case '[':
		return appendItems(body, i, out, &f)
	case '{':
	default:
		return out, 0, badRequest(ReasonWrongKind, "body is %s, not an audit EventList or Event object", audit.JSONKind(body[i]))
	}
	var m audit.Members
	if err := m.Open(body, i); err != nil {
		return out, 0, badRequest(ReasonBadJSON, "body: %s", sanitize(err.Error()))
	}
	var kind []byte
	items := -1
	for {
		key, val, done, err := m.Next()
		if err != nil {
			return out, 0, badRequest(ReasonBadJSON, "body: %s", sanitize(err.Error()))
		}
		if done {
			break
		}
		switch string(key) {
		case "kind":
			if body[val] != '"' {
				return out, 0, badRequest(ReasonWrongKind, "kind is %s, not a string", audit.JSONKind(body[val]))
			}
			end, _ := audit.ScanString(body, val)
			kind = body[val+1 : end]
		case "items":
			items = val
		}
		if err := m.Skip(val); err != nil {
			return out, 0, badRequest(ReasonBadJSON, "body: %s", sanitize(err.Error()))
		}
	}
	switch k := string(kind); {
	case k == "EventList" || (k == "" && items >= 0):
		if items < 0 || body[items] == 'n' {
			return out, 0, nil // no items: nothing to write
		}
		if body[items] != '[' {
			return out, 0, badRequest(ReasonBadEvent, "items is %s, not an array", audit.JSONKind(body[items]))
		}
		return appendItems(body, items, out, &f)
	case k == "Event" || k == "":
		obj := bytes.TrimSpace(body)
		if err := checkEvent(obj, &f); err != nil {
			return out, 0, badRequest(ReasonBadEvent, "event: %s", sanitize(err.Error()))
		}
		return appendLine(out, obj), 1, nil
	default:
		return out, 0, badRequest(ReasonWrongKind, "kind %q is not an audit EventList or Event", clip(kind))
	}
}

// appendItems validates and appends the objects of the (valid) JSON array
// starting at body[i].
func appendItems(body []byte, i int, out []byte, f *audit.Fields) ([]byte, int, *rejection) {
	start := len(out)
	n := 0
	j := audit.SkipWS(body, i+1)
	if body[j] == ']' {
		return out, 0, nil
	}
	for {
		j = audit.SkipWS(body, j)
		end, err := audit.SkipValue(body, j)
		if err != nil {
			return out[:start], 0, badRequest(ReasonBadJSON, "items[%d]: %s", n, sanitize(err.Error()))
		}
		item := body[j:end]
		if item[0] != '{' {
			return out[:start], 0, badRequest(ReasonBadEvent, "items[%d] is %s, not an event object", n, audit.JSONKind(item[0]))
		}
		if err := checkEvent(item, f); err != nil {
			return out[:start], 0, badRequest(ReasonBadEvent, "items[%d]: %s", n, sanitize(err.Error()))
		}
		out = appendLine(out, item)
		n++
		j = audit.SkipWS(body, end)
		if body[j] == ']' {
			return out, n, nil
		}
		j++ // the comma
	}
}

// checkEvent checks that obj is an audit event ktrail can index: an
// object with non-empty string auditID and stage, of kind Event or none.
func checkEvent(obj []byte, f *audit.Fields) error {
	if err := audit.Extract(obj, f); err != nil {
		return err
	}
	switch {
	case f.IsList:
		return errors.New("an event must not have items (a list inside a list)")
	case f.GKE:
		return errors.New("a Cloud Logging entry (protoPayload) is not an audit Event")
	case len(f.AuditID) == 0:
		return errors.New("auditID is missing or empty")
	case len(f.Stage) == 0:
		return errors.New("stage is missing or empty")
	}
	return nil
}

// appendLine appends item and a newline, compacting an item that spans
// lines (pretty-printed input) so that each event stays on one line.
func appendLine(out, item []byte) []byte {
	if bytes.IndexByte(item, '\n') < 0 && bytes.IndexByte(item, '\r') < 0 {
		out = append(out, item...)
		return append(out, '\n')
	}
	buf := bytes.NewBuffer(out)
	if err := json.Compact(buf, item); err != nil {
		// Unreachable: the body was checked with json.Valid.
		panic("webhook: compacting a valid item: " + err.Error())
	}
	buf.WriteByte('\n')
	return buf.Bytes()
}

// jsonError describes why body is not valid JSON, in one line.
func jsonError(body []byte) *rejection {
	err := json.Unmarshal(body, new(any))
	var se *json.SyntaxError
	if errors.As(err, &se) {
		if se.Offset >= int64(len(body)) || bytes.Contains([]byte(se.Error()), []byte("unexpected end")) {
			return badRequest(ReasonBadJSON, "truncated JSON: the body ends at byte %d before the value is complete", len(body))
		}
		return badRequest(ReasonBadJSON, "body is not valid JSON: %s (at byte %d)", sanitize(se.Error()), se.Offset)
	}
	if err != nil {
		return badRequest(ReasonBadJSON, "body is not valid JSON: %s", sanitize(err.Error()))
	}
	return badRequest(ReasonBadJSON, "body is not valid JSON")
}

// clip shortens untrusted text for quoting with %q (which escapes it).
func clip(b []byte) string {
	if len(b) > 40 {
		return string(b[:40]) + "…"
	}
	return string(b)
}

// sanitize makes untrusted text safe to print on a terminal and in a log
// line.
func sanitize(s string) string { return audit.Sanitize(s) }
