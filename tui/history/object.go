// Package history follows one object, one user or one request through
// the audit events: the requests that touched an object with the diff
// of its state after each, a user's activity over time, and the stages
// of one request joined. It reads events from an audit.Store and has no
// terminal dependency: the TUI and `ktrail history` both draw from it.
package history

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"ktrail/audit"
	"ktrail/filters"
	"ktrail/report"
)

// Object names a Kubernetes object as the audit log's objectRef does.
// Namespace is empty for cluster-scoped objects.
type Object struct {
	Resource, Namespace, Name string
}

// ParseObject reads RESOURCE/NAMESPACE/NAME, or RESOURCE/NAME for a
// cluster-scoped object ("pods/shop/web", "nodes/cp-1").
func ParseObject(s string) (Object, error) {
	parts := strings.Split(s, "/")
	for _, p := range parts {
		if p == "" {
			parts = nil
			break
		}
	}
	switch len(parts) {
	case 2:
		return Object{Resource: parts[0], Name: parts[1]}, nil
	case 3:
		return Object{Resource: parts[0], Namespace: parts[1], Name: parts[2]}, nil
	}
	return Object{}, fmt.Errorf("object %q: want RESOURCE/NAMESPACE/NAME or RESOURCE/NAME (cluster-scoped), e.g. pods/shop/web", audit.Sanitize(s))
}

// ObjectOf returns the object event r is about; ok is false when it
// names no object (a list, a non-resource URL).
func ObjectOf(s *audit.Store, r *audit.Rec) (Object, bool) {
	o := Object{Resource: s.Str(r.Resource), Namespace: s.Str(r.NS), Name: s.Str(r.Name)}
	return o, o.Resource != "" && o.Name != ""
}

// String is RESOURCE/NAMESPACE/NAME or RESOURCE/NAME.
func (o Object) String() string {
	if o.Namespace == "" {
		return o.Resource + "/" + o.Name
	}
	return o.Resource + "/" + o.Namespace + "/" + o.Name
}

// Filter is the filter expression for every event about the object, its
// subresources included.
func (o Object) Filter() string {
	return "resource == " + strconv.Quote(o.Resource) + " && namespace == " + strconv.Quote(o.Namespace) +
		" && name == " + strconv.Quote(o.Name)
}

// UserFilter is the filter expression for a user's events.
func UserFilter(user string) string { return "user == " + strconv.Quote(user) }

// Eval returns the ids of the events matching expr (sorted like v).
func Eval(ctx context.Context, s *audit.Store, v *audit.View, expr string, now time.Time) ([]uint32, error) {
	f, err := filters.Compile(s, []string{expr}, filters.Options{Now: now})
	if err != nil {
		return nil, err
	}
	return f.Eval(ctx, v)
}

// Change is one request that touched the object: its events (stages),
// who and when, and what it did to the object's state when the log has
// bodies.
type Change struct {
	IDs       []uint32 // the request's events, in the view's order
	Time      int64    // Unix ns (0: no time)
	AuditID   string
	Verb      string
	Sub       string // subresource
	User      string
	SourceIP  string
	UserAgent string
	Code      int
	Stages    []string
	// Diff is the unified diff (hunks only, no file header) from the
	// previous known state to the state after this request; empty when
	// nothing changed or no state is known.
	Diff []string
	// Kind says where the state came from or why there is none:
	// "created", "response", "request", "patch (merged)", "deleted",
	// "observed", "failed", "no body", "first state", "unchanged".
	Kind string
	// Lines is the number of lines of the state after this request.
	Lines int
	// Patch is the request's patch body, pretty-printed (patch requests
	// only; at most maxPatch lines).
	Patch []string
}

// maxPatch bounds the lines of a patch body kept.
const maxPatch = 60

// Options tune ObjectHistory.
type Options struct {
	Redact  bool // mask Secret values and tokens (report.RedactAuto)
	Context int  // diff context lines; 0 = 3
	MaxDiff int  // lines of diff kept per change; 0 = 400
	Limit   int  // requests kept (the newest); 0 = 5000
}

// ObjectHistory groups the events ids (all about one object, sorted like
// v) by request and computes the state diffs. Events whose bodies cannot
// be read or redacted are listed without a diff.
func ObjectHistory(ctx context.Context, s *audit.Store, v *audit.View, ids []uint32, opts Options) ([]Change, error) {
	if opts.Context <= 0 {
		opts.Context = 3
	}
	if opts.MaxDiff <= 0 {
		opts.MaxDiff = 400
	}
	if opts.Limit <= 0 {
		opts.Limit = 5000
	}
	changes := groupRequests(s, v, ids)
	if len(changes) > opts.Limit {
		changes = changes[len(changes)-opts.Limit:]
	}
	var prev any // the last known state
	var prevText, kind string
	have := false
	var raw []byte
	for i := range changes {
		if i&255 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		c := &changes[i]
		st, ok := stateOf(s, v, c, &raw, opts.Redact, prev, have)
		if st.patch != nil {
			c.Patch = patchLines(st.patch)
		}
		switch {
		case ok && st.deleted:
			c.Kind = "deleted"
			prev, prevText, have = nil, "", false
			continue
		case !ok:
			c.Kind = st.why
			continue
		}
		text := pretty(st.obj)
		c.Lines = strings.Count(text, "\n")
		kind = st.kind
		switch {
		case !have && c.Verb == "create":
			c.Kind = "created"
			c.Diff = unified("", text, opts)
		case !have:
			c.Kind = "first state"
		case text == prevText:
			c.Kind = "unchanged"
		default:
			c.Kind = kind
			c.Diff = unified(prevText, text, opts)
		}
		prev, prevText, have = st.obj, text, true
	}
	return changes, nil
}

// groupRequests turns events into one Change per request (same auditID
// hash, in the order of their first event).
func groupRequests(s *audit.Store, v *audit.View, ids []uint32) []Change {
	var out []Change
	at := map[uint64]int{}
	for _, id := range ids {
		r := v.Rec(id)
		i, ok := at[r.AuditID]
		if !ok {
			i = len(out)
			at[r.AuditID] = i
			c := Change{Verb: s.Str(r.Verb), Sub: s.Str(r.Subres), User: s.Str(r.User), SourceIP: s.Str(r.SourceIP),
				UserAgent: s.Str(r.UA)}
			if r.Flags&audit.FlagNoTime == 0 {
				c.Time = r.Time
			}
			out = append(out, c)
		}
		c := &out[i]
		c.IDs = append(c.IDs, id)
		c.Stages = append(c.Stages, r.Stage.String())
		if r.Code != 0 {
			c.Code = int(r.Code)
		}
	}
	return out
}

// state is what one request tells about the object.
type state struct {
	obj     any
	kind    string
	deleted bool
	why     string // when there is no state
	patch   any    // the decoded patch body of a patch request
}

// skipKinds are bodies that are not the object itself.
var skipKinds = map[string]bool{"Status": true, "DeleteOptions": true, "Binding": true, "Eviction": true,
	"Scale": true, "TokenRequest": true, "WatchEvent": true, "Table": true, "PartialObjectMetadata": true}

// stateOf reads the request's events and returns the object's state
// after it.
func stateOf(s *audit.Store, v *audit.View, c *Change, raw *[]byte, redact bool, prev any, have bool) (state, bool) {
	var req, resp json.RawMessage
	res, ok := readBodies(s, v, c, raw, redact, &req, &resp)
	if !ok {
		return res, false
	}
	var patch any
	if c.Verb == "patch" {
		patch = decode(req)
	}
	res, ok = stateFrom(c, req, resp, prev, have)
	res.patch = patch
	return res, ok
}

// readBodies reads the request's bodies (the last of each found among
// its events) and its auditID.
func readBodies(s *audit.Store, v *audit.View, c *Change, raw *[]byte, redact bool, req, resp *json.RawMessage) (state, bool) {
	for _, id := range c.IDs {
		b, err := s.Raw(v.Rec(id), (*raw)[:0])
		if err != nil {
			continue
		}
		*raw = b
		if redact {
			if b, _, err = report.RedactAuto(b); err != nil {
				return state{why: "not redactable"}, false
			}
		}
		e, err := audit.DecodeEvent(b)
		if err != nil {
			continue
		}
		if c.AuditID == "" {
			c.AuditID = e.AuditID
		}
		if len(e.RequestObject) > 0 && string(e.RequestObject) != "null" {
			*req = e.RequestObject
		}
		if len(e.ResponseObject) > 0 && string(e.ResponseObject) != "null" {
			*resp = e.ResponseObject
		}
	}
	return state{}, true
}

// stateFrom decides the object's state after the request from its
// bodies.
func stateFrom(c *Change, req, resp json.RawMessage, prev any, have bool) (state, bool) {
	if c.Code >= 300 {
		return state{why: "failed"}, false
	}
	if c.Verb == "delete" && c.Sub == "" && c.Code != 0 {
		return state{deleted: true}, true
	}
	if o, ok := objectBody(resp); ok {
		if isRead(c.Verb) {
			return state{obj: o, kind: "observed"}, true
		}
		return state{obj: o, kind: "response"}, true
	}
	if isRead(c.Verb) {
		return state{why: "read"}, false
	}
	if c.Verb == "patch" {
		if p, ok := decode(req).(map[string]any); ok && have {
			return state{obj: mergePatch(clone(prev), p), kind: "patch (merged)"}, true
		}
		return state{why: "no body"}, false
	}
	if o, ok := objectBody(req); ok {
		return state{obj: o, kind: "request"}, true
	}
	return state{why: "no body"}, false
}

func isRead(verb string) bool { return verb == "get" || verb == "list" || verb == "watch" }

// objectBody decodes a body that is an object's state (it has a kind,
// not one of skipKinds nor a list, and metadata), normalised.
func objectBody(b json.RawMessage) (any, bool) {
	m, ok := decode(b).(map[string]any)
	if !ok {
		return nil, false
	}
	kind, _ := m["kind"].(string)
	if kind == "" || skipKinds[kind] || strings.HasSuffix(kind, "List") {
		return nil, false
	}
	if _, ok := m["metadata"].(map[string]any); !ok {
		return nil, false
	}
	return normalize(m), true
}

func decode(b json.RawMessage) any {
	if len(b) == 0 {
		return nil
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.UseNumber()
	var x any
	if dec.Decode(&x) != nil {
		return nil
	}
	return x
}

// patchLines prints a patch body one leaf per line, "path = value"
// (spec.template.spec.containers[0].image = "shop:v2"), leaving out the
// strategic merge directives ($setElementOrder/…); at most maxPatch
// lines. A JSON Patch (a list of operations) prints one operation per
// line.
func patchLines(p any) []string {
	var lines []string
	if ops, ok := p.([]any); ok {
		for _, op := range ops {
			lines = append(lines, compact(op))
		}
	} else {
		flatten("", p, &lines)
	}
	if len(lines) > maxPatch {
		left := len(lines) - maxPatch
		lines = append(lines[:maxPatch:maxPatch], "… "+itoa(left)+" more lines")
	}
	return lines
}

func flatten(path string, x any, out *[]string) {
	switch t := x.(type) {
	case map[string]any:
		if len(t) == 0 {
			*out = append(*out, path+" = {}")
			return
		}
		keys := make([]string, 0, len(t))
		for k := range t {
			if !strings.HasPrefix(k, "$") {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		for _, k := range keys {
			p := k
			if path != "" {
				p = path + "." + k
			}
			flatten(p, t[k], out)
		}
	case []any:
		if len(t) == 0 {
			*out = append(*out, path+" = []")
			return
		}
		for i, v := range t {
			flatten(path+"["+itoa(i)+"]", v, out)
		}
	default:
		*out = append(*out, path+" = "+compact(t))
	}
}

// compact prints a JSON value on one line.
func compact(x any) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if enc.Encode(x) != nil {
		return "?"
	}
	return strings.TrimSuffix(b.String(), "\n")
}
