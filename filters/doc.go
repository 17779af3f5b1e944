// Package filters compiles filter expressions over an audit.Store and
// evaluates them on all cores.
//
// A filter is one or more expr-lang (https://expr-lang.org) expressions,
// joined with AND, each of which must be true or false for an event:
//
//	user == "alice" && verb in ["delete", "patch"]
//	hasPrefix(user, "system:serviceaccount:") && code >= 400
//	requestObject.spec.hostNetwork == true
//
// Strings may use double or single quotes. VOCABULARY.md is the user's
// reference; this comment is the same table for Go readers.
//
// # Fields
//
// "index" fields are read from the audit.Rec index record; "raw" fields
// are read from the event's bytes, only when an expression uses them,
// once per event. A missing value reads as "" (strings), 0 (code), an
// empty list or map, or nil (bodies).
//
//	user                string             index  user.username; "" for a 401 (user: {})
//	groups              []string           index  user.groups
//	userUID             string             raw    user.uid
//	impersonatedUser    string             index  impersonatedUser.username
//	impersonatedGroups  []string           raw    impersonatedUser.groups
//	effectiveUser       string             index  impersonatedUser if set, else user
//	verb                string             index  verb (get, list, watch, create, …)
//	resource            string             index  objectRef.resource
//	subresource         string             index  objectRef.subresource
//	namespace           string             index  objectRef.namespace
//	ns                  string             index  alias of namespace
//	name                string             index  objectRef.name
//	objectUID           string             raw    objectRef.uid
//	apiGroup            string             index  objectRef.apiGroup ("" for the core group)
//	apiVersion          string             raw    objectRef.apiVersion
//	uri                 string             raw    requestURI
//	code                int                index  responseStatus.code; 0 when absent
//	reason              string             raw    responseStatus.reason
//	message             string             raw    responseStatus.message
//	level               string             index  Metadata, Request, RequestResponse; "" when absent or None
//	stage               string             index  RequestReceived, ResponseStarted, ResponseComplete, Panic
//	sourceIP            string             index  first of sourceIPs (may come from X-Forwarded-For)
//	sourceIPs           []string           raw    sourceIPs
//	userAgent           string             index  userAgent
//	decision            string             index  annotation authorization.k8s.io/decision (allow, forbid)
//	authzReason         string             raw    annotation authorization.k8s.io/reason
//	annotations         map[string]string  raw    annotations: annotations["audit.k8s.io/truncated"]
//	time                time.Time          index  requestReceivedTimestamp, else stageTimestamp, else timestamp (UTC); zero when none
//	latency             time.Duration      index  stageTimestamp − requestReceivedTimestamp, to the microsecond; 0 when either is missing
//	auditID             string             raw    auditID
//	cluster             string             index  the cluster label of the source (webhook path, GKE cluster_name)
//	requestObject       any                raw    the request body, decoded as encoding/json does; nil when absent
//	responseObject      any                raw    the response body; nil when absent
//
// Member access on bodies, and on list elements inside predicates
// (any(requestObject.spec.containers, .securityContext.privileged)), is
// nil-safe: a missing member reads as nil. Ordering comparisons with a
// missing value are false, and a missing list is empty. A body predicate
// reads only the members on its path; a malformed value there makes the
// event fail (no match, counted by Filter.Errors).
//
// GKE Cloud Audit LogEntries are indexed like native events; their
// raw-only fields (uri, reason, message, bodies, …) read as empty.
//
// # Helpers
//
// With no argument, isServiceAccount, isSystem and isHuman apply to user.
//
//	matches(s, re)            s matches the Go regular expression re; also the operator: s matches re
//	contains(s, sub)          s contains sub; also the operator: s contains sub
//	hasPrefix(s, p)           s starts with p; also s startsWith p
//	hasSuffix(s, p)           s ends with p; also s endsWith p
//	lower(s)                  s in lower case
//	cidr(ip, net)             ip is inside the CIDR net ("10.0.0.0/8", or one address); false for a bad ip
//	since(t)                  time ≥ t
//	after(t)                  time > t
//	before(t)                 time < t
//	duration(s)               a time.Duration: duration("1h30m"); compare with latency
//	now()                     Options.Now
//	isServiceAccount(u?)      u starts with "system:serviceaccount:"
//	isSystem(u?)              u starts with "system:", except system:anonymous and service accounts
//	                          outside kube-system, kube-public and kube-node-lease
//	isHuman(u?)               u is not empty and does not start with "system:"
//
// The t of since, after and before is an RFC 3339 time
// ("2026-11-25T10:00:00Z"), a date ("2026-11-25", midnight UTC), or a
// duration before Options.Now ("90s", "1h", "7d"); they are false for
// events without a time. The other expr-lang builtins (len, any, all,
// filter, upper, split, date, …) are available too.
//
// # Evaluation
//
// Compile walks each expression's syntax tree and compiles the parts it
// can into Go closures over the index record, without the expr VM:
//
//   - ==, != and in (up to 8 values) on the string fields of the index,
//     each constant looked up in the interner once (a value not interned
//     yet never matches, and is looked up again on the next evaluation);
//   - level, stage and decision against their names;
//   - code compared with a number (==, !=, <, <=, >, >=);
//   - time compared with a constant time, since/after/before with a
//     constant argument, latency compared with a constant duration;
//   - &&, ||, ! and constant subexpressions (now(), duration("1h"), …);
//   - any subexpression over one indexed string field, the groups, code,
//     level, stage or decision (hasPrefix(user, "system:"),
//     matches(userAgent, "curl"), "system:masters" in groups,
//     cidr(sourceIP, "10.0.0.0/8"), code in 400..499, lower(verb) == "get")
//     runs in the VM once per distinct value and is cached per worker in
//     a table indexed by interned id;
//   - subexpressions over two or three such fields (verb + "/" + resource
//     == "delete/secrets") are cached per distinct tuple while that pays;
//   - a body path compared with constants (requestObject.kind == "Pod",
//     requestObject.spec.hostNetwork == true) is looked up in the raw
//     JSON, skipping events whose bytes do not contain the last key.
//
// Everything else runs in the expr VM (one VM and one environment per
// worker), which reads only the fields its part of the expression uses.
// Top-level time conditions also narrow the positions searched, because
// the view is sorted by time. Evaluation is spread over GOMAXPROCS
// workers in chunks of positions and returns ids in time order.
package filters
