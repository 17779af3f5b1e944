package auditgen

import "strconv"

// level is an audit level that logs something.
type level uint8

const (
	levelMetadata level = iota
	levelRequest
	levelRequestResponse
)

// String returns the level's name as the API server writes it.
func (l level) String() string {
	switch l {
	case levelRequest:
		return "Request"
	case levelRequestResponse:
		return "RequestResponse"
	}
	return "Metadata"
}

// stage is a bit set of audit stages.
type stage uint8

const (
	stageRequestReceived stage = 1 << iota
	stageResponseStarted
	stageResponseComplete
)

// resource describes an API resource type.
type resource struct {
	name, group, version, kind string
	namespaced                 bool
}

// qualified returns "resource.group" (or just the resource for the core group).
func (r resource) qualified() string {
	if r.group == "" {
		return r.name
	}
	return r.name + "." + r.group
}

// objRef is the audit ObjectReference of a request.
type objRef struct {
	res                      resource
	namespace, name, uid, rv string
	sub                      string
}

// failure is a non-success response. An empty reason means the response
// carried no Status object (only the code is logged).
type failure struct {
	code    int
	reason  string
	message string
	details []byte
}

// bodyFunc appends the JSON of a request or response object.
type bodyFunc func(dst []byte, r *request) []byte

// request is one API request, rendered as one event per logged stage.
type request struct {
	id       [36]byte
	level    level
	verb     string
	uri      []byte
	user     []byte // rendered user; nil for a failed authentication
	imp      []byte // rendered impersonated user
	ip       string
	ua       string
	ref      objRef
	hasRef   bool
	code     int
	fail     failure
	failed   bool
	recv     int64 // µs since the epoch
	started  int64
	done     int64
	stages   stage
	decision string // "" when authorization did not run
	reason   string
	legacy   string // authentication.k8s.io/legacy-token
	issued   string // authentication.kubernetes.io/issued-credential-id
	podSec   string // pod-security.kubernetes.io/enforce-policy
	slow     bool   // carries apiserver.latency.k8s.io annotations
	reqBody  bodyFunc
	respBody bodyFunc
	seed     uint64

	// Context for the body functions.
	c   *cluster
	w   *workload
	p   *pod
	n   *node
	a   *actor
	s1  string
	s2  string
	i1  int
	rv  int64
	now int64
}

// appendEvent appends the event of r at stage st.
func appendEvent(dst []byte, r *request, st stage, tc *timeCache) []byte {
	dst = append(dst, `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"`...)
	dst = append(dst, r.level.String()...)
	dst = append(dst, `","auditID":"`...)
	dst = append(dst, r.id[:]...)
	dst = append(dst, `","stage":"`...)
	var at int64
	switch st {
	case stageRequestReceived:
		dst = append(dst, "RequestReceived"...)
		at = r.recv
	case stageResponseStarted:
		dst = append(dst, "ResponseStarted"...)
		at = r.started
	default:
		dst = append(dst, "ResponseComplete"...)
		at = r.done
	}
	dst = append(dst, `","requestURI":`...)
	dst = appendStrBytes(dst, r.uri)
	dst = append(dst, `,"verb":`...)
	dst = appendStr(dst, r.verb)
	dst = append(dst, `,"user":`...)
	if r.user == nil {
		dst = append(dst, '{', '}')
	} else {
		dst = append(dst, r.user...)
	}
	if r.imp != nil && st != stageRequestReceived {
		dst = append(dst, `,"impersonatedUser":`...)
		dst = append(dst, r.imp...)
	}
	dst = append(dst, `,"sourceIPs":[`...)
	dst = appendStr(dst, r.ip)
	dst = append(dst, ']')
	if r.ua != "" {
		dst = append(dst, `,"userAgent":`...)
		dst = appendStr(dst, r.ua)
	}
	if r.hasRef {
		dst = appendObjRef(dst, &r.ref)
	}
	if st != stageRequestReceived {
		dst = appendResponseStatus(dst, r)
	}
	if st == stageResponseComplete {
		if r.level >= levelRequest && r.reqBody != nil && !(r.failed && (r.code == 403 || r.code == 401 || r.code == 429)) {
			dst = append(dst, `,"requestObject":`...)
			dst = r.reqBody(dst, r)
		}
		if r.level == levelRequestResponse {
			if r.failed && r.fail.reason != "" {
				dst = append(dst, `,"responseObject":{"kind":"Status","apiVersion":"v1","metadata":{},`...)
				dst = appendStatusFields(dst, r)
				dst = append(dst, '}')
			} else if !r.failed && r.respBody != nil {
				dst = append(dst, `,"responseObject":`...)
				dst = r.respBody(dst, r)
			}
		}
	}
	dst = append(dst, `,"requestReceivedTimestamp":`...)
	dst = tc.appendMicro(dst, r.recv)
	dst = append(dst, `,"stageTimestamp":`...)
	dst = tc.appendMicro(dst, at)
	dst = appendAnnotations(dst, r, st)
	return append(dst, '}')
}

// appendObjRef appends the objectRef field.
func appendObjRef(dst []byte, o *objRef) []byte {
	dst = append(dst, `,"objectRef":{`...)
	first := true
	if o.res.name != "" {
		dst = appendKV(dst, first, "resource", o.res.name)
		first = false
	}
	if o.namespace != "" {
		dst = appendKV(dst, first, "namespace", o.namespace)
		first = false
	}
	if o.name != "" {
		dst = appendKV(dst, first, "name", o.name)
		first = false
	}
	if o.uid != "" {
		dst = appendKV(dst, first, "uid", o.uid)
		first = false
	}
	if o.res.group != "" {
		dst = appendKV(dst, first, "apiGroup", o.res.group)
		first = false
	}
	if o.res.version != "" {
		dst = appendKV(dst, first, "apiVersion", o.res.version)
		first = false
	}
	if o.rv != "" {
		dst = appendKV(dst, first, "resourceVersion", o.rv)
		first = false
	}
	if o.sub != "" {
		dst = appendKV(dst, first, "subresource", o.sub)
	}
	return append(dst, '}')
}

// appendResponseStatus appends the responseStatus field.
func appendResponseStatus(dst []byte, r *request) []byte {
	dst = append(dst, `,"responseStatus":{"metadata":{},`...)
	if r.failed && r.fail.reason != "" {
		dst = appendStatusFields(dst, r)
		return append(dst, '}')
	}
	dst = append(dst, `"code":`...)
	dst = appendInt(dst, int64(r.code))
	return append(dst, '}')
}

// appendStatusFields appends the fields of a failure Status that follow
// its metadata, without the closing brace.
func appendStatusFields(dst []byte, r *request) []byte {
	dst = append(dst, `"status":"Failure"`...)
	if r.fail.message != "" {
		dst = append(dst, `,"message":`...)
		dst = appendStr(dst, r.fail.message)
	}
	dst = append(dst, `,"reason":`...)
	dst = appendStr(dst, r.fail.reason)
	if r.fail.details != nil {
		dst = append(dst, `,"details":`...)
		dst = append(dst, r.fail.details...)
	}
	dst = append(dst, `,"code":`...)
	return appendInt(dst, int64(r.fail.code))
}

// appendAnnotations appends the annotations field, keys in sorted order.
func appendAnnotations(dst []byte, r *request, st stage) []byte {
	authz := r.decision != "" && st != stageRequestReceived
	slow := r.slow && st == stageResponseComplete
	issued := r.issued != "" && st == stageResponseComplete && !r.failed
	podSec := r.podSec != "" && st == stageResponseComplete
	if !authz && !slow && !issued && !podSec && r.legacy == "" {
		return dst
	}
	dst = append(dst, `,"annotations":{`...)
	first := true
	if slow {
		dst = appendLatencies(dst, r)
		first = false
	}
	if r.legacy != "" {
		dst = appendKV(dst, first, "authentication.k8s.io/legacy-token", r.legacy)
		first = false
	}
	if issued {
		dst = appendKV(dst, first, "authentication.kubernetes.io/issued-credential-id", r.issued)
		first = false
	}
	if authz {
		dst = appendKV(dst, first, "authorization.k8s.io/decision", r.decision)
		dst = appendKV(dst, false, "authorization.k8s.io/reason", r.reason)
		first = false
	}
	if podSec {
		dst = appendKV(dst, first, "pod-security.kubernetes.io/enforce-policy", r.podSec)
	}
	return append(dst, '}')
}

// appendLatencies appends the per-layer latency annotations that the API
// server adds to requests slower than 500 ms.
func appendLatencies(dst []byte, r *request) []byte {
	total := r.done - r.recv
	rr := newRNG(r.seed ^ 0x5bd1e995)
	authn := int64(rr.between(20, 900))
	authz := int64(rr.between(10, 400))
	etcd := total * int64(rr.between(55, 90)) / 100
	ser := (total - etcd) * int64(rr.between(30, 70)) / 100
	write := (total - etcd - ser) / 3
	transform := int64(rr.between(5, 80))
	dst = appendKV(dst, true, "apiserver.latency.k8s.io/authentication", durationString(authn))
	dst = appendKV(dst, false, "apiserver.latency.k8s.io/authorization", durationString(authz))
	dst = appendKV(dst, false, "apiserver.latency.k8s.io/etcd", durationString(etcd))
	dst = appendKV(dst, false, "apiserver.latency.k8s.io/response-write", durationString(write))
	dst = appendKV(dst, false, "apiserver.latency.k8s.io/serialize-response-object", durationString(ser))
	dst = appendKV(dst, false, "apiserver.latency.k8s.io/total", durationString(total))
	return appendKV(dst, false, "apiserver.latency.k8s.io/transform-response-object", durationString(transform))
}

// appendDetails renders StatusDetails for name, group and kind.
func appendDetails(name string, res resource) []byte {
	b := []byte{'{'}
	first := true
	if name != "" {
		b = appendKV(b, first, "name", name)
		first = false
	}
	if res.group != "" {
		b = appendKV(b, first, "group", res.group)
		first = false
	}
	if res.name != "" {
		b = appendKV(b, first, "kind", res.name)
	}
	return append(b, '}')
}

// forbidden marks r as denied by RBAC for user.
func (r *request) forbidden(user string) {
	r.decision, r.reason = "forbid", ""
	var msg string
	if !r.hasRef {
		msg = "forbidden: User " + strconv.Quote(user) + " cannot " + r.verb + " path " + strconv.Quote(r.pathOnly())
		r.setFailure(403, "Forbidden", msg, []byte("{}"))
		return
	}
	res := r.ref.res.name
	if r.ref.sub != "" {
		res += "/" + r.ref.sub
	}
	who := "User " + strconv.Quote(user) + " cannot " + r.verb + " resource " + strconv.Quote(res) +
		" in API group " + strconv.Quote(r.ref.res.group)
	if r.ref.namespace != "" {
		who += " in the namespace " + strconv.Quote(r.ref.namespace)
	} else {
		who += " at the cluster scope"
	}
	q := r.ref.res.qualified()
	if r.ref.name != "" && r.verb != "create" || r.ref.sub != "" {
		msg = q + " " + strconv.Quote(r.ref.name) + " is forbidden: " + who
		r.setFailure(403, "Forbidden", msg, appendDetails(r.ref.name, r.ref.res))
		return
	}
	r.setFailure(403, "Forbidden", q+" is forbidden: "+who, appendDetails("", r.ref.res))
}

// notFound marks r as answered 404 for its object.
func (r *request) notFound() {
	r.setFailure(404, "NotFound", r.ref.res.qualified()+" "+strconv.Quote(r.ref.name)+" not found",
		appendDetails(r.ref.name, r.ref.res))
}

// conflict marks r as answered 409 because of a stale resourceVersion.
func (r *request) conflict() {
	r.setFailure(409, "Conflict", "Operation cannot be fulfilled on "+r.ref.res.qualified()+" "+
		strconv.Quote(r.ref.name)+": the object has been modified; please apply your changes to the latest version and try again",
		appendDetails(r.ref.name, r.ref.res))
}

// alreadyExists marks r as answered 409 because its object exists.
func (r *request) alreadyExists() {
	r.setFailure(409, "AlreadyExists", r.ref.res.qualified()+" "+strconv.Quote(r.ref.name)+" already exists",
		appendDetails(r.ref.name, r.ref.res))
}

// unauthorized marks r as a failed authentication: no user, no
// authorization, a single ResponseStarted event.
func (r *request) unauthorized() {
	r.user, r.imp = nil, nil
	r.decision, r.reason, r.legacy = "", "", ""
	r.level = levelMetadata
	r.stages = stageResponseStarted
	r.setFailure(401, "Unauthorized", "Unauthorized", nil)
}

// setFailure records a failure response.
func (r *request) setFailure(code int, reason, msg string, details []byte) {
	r.failed = true
	r.code = code
	r.fail = failure{code: code, reason: reason, message: msg, details: details}
}

// pathOnly returns the request URI without its query.
func (r *request) pathOnly() string {
	for i, c := range r.uri {
		if c == '?' {
			return string(r.uri[:i])
		}
	}
	return string(r.uri)
}
