package filters

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"ktrail/audit"
	"ktrail/internal/fuzzy"
)

// fieldID names one field of the vocabulary.
type fieldID uint8

// The fields. The order is that of the env struct and of fieldTable.
const (
	fUser fieldID = iota
	fGroups
	fUserUID
	fImpUser
	fImpGroups
	fEffUser
	fVerb
	fResource
	fSubres
	fNamespace
	fNS
	fName
	fObjUID
	fAPIGroup
	fAPIVersion
	fURI
	fCode
	fReason
	fMessage
	fLevel
	fStage
	fSourceIP
	fSourceIPs
	fUA
	fDecision
	fAuthzReason
	fAnnotations
	fTime
	fLatency
	fAuditID
	fCluster
	fRequestObject
	fResponseObject
	numFields
)

// fieldKind says where a field's value comes from.
type fieldKind uint8

const (
	kID      fieldKind = iota // an interned string id in the Rec
	kGroups                   // an interned raw JSON array in the Rec
	kEnum                     // level, stage, decision enums in the Rec
	kCode                     // Rec.Code
	kTime                     // Rec.Time
	kLatency                  // Rec.Latency
	kRaw                      // read from the event's raw bytes
	kBody                     // a request or response body, read from the raw bytes
)

// fieldInfo describes one vocabulary field.
type fieldInfo struct {
	name string
	kind fieldKind
	typ  string // expr type, for documentation and hints
}

// fieldTable lists the vocabulary in fieldID order.
var fieldTable = [numFields]fieldInfo{
	fUser:           {"user", kID, "string"},
	fGroups:         {"groups", kGroups, "[]string"},
	fUserUID:        {"userUID", kRaw, "string"},
	fImpUser:        {"impersonatedUser", kID, "string"},
	fImpGroups:      {"impersonatedGroups", kRaw, "[]string"},
	fEffUser:        {"effectiveUser", kID, "string"},
	fVerb:           {"verb", kID, "string"},
	fResource:       {"resource", kID, "string"},
	fSubres:         {"subresource", kID, "string"},
	fNamespace:      {"namespace", kID, "string"},
	fNS:             {"ns", kID, "string"},
	fName:           {"name", kID, "string"},
	fObjUID:         {"objectUID", kRaw, "string"},
	fAPIGroup:       {"apiGroup", kID, "string"},
	fAPIVersion:     {"apiVersion", kRaw, "string"},
	fURI:            {"uri", kRaw, "string"},
	fCode:           {"code", kCode, "int"},
	fReason:         {"reason", kRaw, "string"},
	fMessage:        {"message", kRaw, "string"},
	fLevel:          {"level", kEnum, "string"},
	fStage:          {"stage", kEnum, "string"},
	fSourceIP:       {"sourceIP", kID, "string"},
	fSourceIPs:      {"sourceIPs", kRaw, "[]string"},
	fUA:             {"userAgent", kID, "string"},
	fDecision:       {"decision", kEnum, "string"},
	fAuthzReason:    {"authzReason", kRaw, "string"},
	fAnnotations:    {"annotations", kRaw, "map[string]string"},
	fTime:           {"time", kTime, "time.Time"},
	fLatency:        {"latency", kLatency, "time.Duration"},
	fAuditID:        {"auditID", kRaw, "string"},
	fCluster:        {"cluster", kID, "string"},
	fRequestObject:  {"requestObject", kBody, "any"},
	fResponseObject: {"responseObject", kBody, "any"},
}

// fieldByName maps a vocabulary name to its id.
func fieldByName(name string) (fieldID, bool) {
	for i := range fieldTable {
		if fieldTable[i].name == name {
			return fieldID(i), true
		}
	}
	return 0, false
}

// FieldNames returns the names of the filter vocabulary, sorted.
func FieldNames() []string {
	names := make([]string, 0, numFields)
	for _, f := range fieldTable {
		names = append(names, f.name)
	}
	sort.Strings(names)
	return names
}

// env is the environment the expr VM sees. Its expr tags are the
// vocabulary; a worker fills only the fields a program references.
type env struct {
	User           string            `expr:"user"`
	Groups         []string          `expr:"groups"`
	UserUID        string            `expr:"userUID"`
	ImpUser        string            `expr:"impersonatedUser"`
	ImpGroups      []string          `expr:"impersonatedGroups"`
	EffUser        string            `expr:"effectiveUser"`
	Verb           string            `expr:"verb"`
	Resource       string            `expr:"resource"`
	Subres         string            `expr:"subresource"`
	Namespace      string            `expr:"namespace"`
	NS             string            `expr:"ns"`
	Name           string            `expr:"name"`
	ObjUID         string            `expr:"objectUID"`
	APIGroup       string            `expr:"apiGroup"`
	APIVersion     string            `expr:"apiVersion"`
	URI            string            `expr:"uri"`
	Code           int               `expr:"code"`
	Reason         string            `expr:"reason"`
	Message        string            `expr:"message"`
	Level          string            `expr:"level"`
	Stage          string            `expr:"stage"`
	SourceIP       string            `expr:"sourceIP"`
	SourceIPs      []string          `expr:"sourceIPs"`
	UA             string            `expr:"userAgent"`
	Decision       string            `expr:"decision"`
	AuthzReason    string            `expr:"authzReason"`
	Annotations    map[string]string `expr:"annotations"`
	Time           time.Time         `expr:"time"`
	Latency        time.Duration     `expr:"latency"`
	AuditID        string            `expr:"auditID"`
	Cluster        string            `expr:"cluster"`
	RequestObject  any               `expr:"requestObject"`
	ResponseObject any               `expr:"responseObject"`
	// Body holds the body paths a program reads, one slot per path (see
	// bodySlot); the rewritten program refers to them as __body[i].
	Body []any `expr:"__body"`
}

// bodyIdent is the env name of the body path slots.
const bodyIdent = "__body"

// recID returns the interned id behind an id or groups field.
func recID(f fieldID, r *audit.Rec) uint32 {
	switch f {
	case fUser:
		return r.User
	case fGroups:
		return r.Groups
	case fImpUser:
		return r.ImpUser
	case fEffUser:
		if r.ImpUser != 0 {
			return r.ImpUser
		}
		return r.User
	case fVerb:
		return r.Verb
	case fResource:
		return r.Resource
	case fSubres:
		return r.Subres
	case fNamespace, fNS:
		return r.NS
	case fName:
		return r.Name
	case fAPIGroup:
		return r.APIGroup
	case fSourceIP:
		return r.SourceIP
	case fUA:
		return r.UA
	case fCluster:
		return r.Cluster
	}
	panic("filter: recID of non-id field " + fieldTable[f].name)
}

// idGetter returns a function that reads the interned id of field f.
func idGetter(f fieldID) func(*audit.Rec) uint32 {
	switch f {
	case fUser:
		return func(r *audit.Rec) uint32 { return r.User }
	case fGroups:
		return func(r *audit.Rec) uint32 { return r.Groups }
	case fImpUser:
		return func(r *audit.Rec) uint32 { return r.ImpUser }
	case fVerb:
		return func(r *audit.Rec) uint32 { return r.Verb }
	case fResource:
		return func(r *audit.Rec) uint32 { return r.Resource }
	case fSubres:
		return func(r *audit.Rec) uint32 { return r.Subres }
	case fNamespace, fNS:
		return func(r *audit.Rec) uint32 { return r.NS }
	case fName:
		return func(r *audit.Rec) uint32 { return r.Name }
	case fAPIGroup:
		return func(r *audit.Rec) uint32 { return r.APIGroup }
	case fSourceIP:
		return func(r *audit.Rec) uint32 { return r.SourceIP }
	case fUA:
		return func(r *audit.Rec) uint32 { return r.UA }
	case fCluster:
		return func(r *audit.Rec) uint32 { return r.Cluster }
	}
	return func(r *audit.Rec) uint32 { return recID(f, r) }
}

// enumOf returns the enum value of level, stage or decision, and the
// value that means "outside the known names".
func enumOf(f fieldID, r *audit.Rec) (v, other uint8) {
	switch f {
	case fLevel:
		return uint8(r.Level), uint8(audit.LevelOther)
	case fStage:
		return uint8(r.Stage), uint8(audit.StageOther)
	}
	return uint8(r.Decision), uint8(audit.DecisionOther)
}

// enumNames returns the names of an enum field's known values, by value.
func enumNames(f fieldID) []string {
	switch f {
	case fLevel:
		return []string{"", "Metadata", "Request", "RequestResponse"}
	case fStage:
		return []string{"", "RequestReceived", "ResponseStarted", "ResponseComplete", "Panic"}
	}
	return []string{"", "allow", "forbid"}
}

// eventTime returns the event time as the filter sees it: UTC, or the
// zero time when the event has none.
func eventTime(r *audit.Rec) time.Time {
	if r.Flags&audit.FlagNoTime != 0 {
		return time.Time{}
	}
	return time.Unix(0, r.Time).UTC()
}

// latencyOf returns stage − received. The index keeps it as float32
// seconds; rounding to the microsecond (the API server's resolution)
// recovers the exact value below about 16 s.
func latencyOf(r *audit.Rec) time.Duration {
	return time.Duration(math.Round(float64(r.Latency)*1e6)) * time.Microsecond
}

// decodeGroups decodes an interned raw JSON array of strings.
func decodeGroups(raw string) ([]string, error) {
	g, err := strArray([]byte(raw))
	if err != nil {
		return nil, fmt.Errorf("filter: groups: %v", err)
	}
	return g, nil
}

// Value returns the string form of a vocabulary field of one event, for
// display, grouping and columns: times are RFC 3339 with nanoseconds in
// UTC (empty when the event has none), latency is a Go duration, lists
// are joined with ",", annotations are sorted key=value pairs joined with
// ",", and bodies are their raw JSON. Fields that are not in the index
// are read from the event's raw bytes. An unknown name is an error with
// a did-you-mean hint.
func Value(s *audit.Store, r *audit.Rec, name string) (string, error) {
	f, ok := fieldByName(name)
	if !ok {
		msg := fmt.Sprintf("filter: unknown field %q", audit.Sanitize(name))
		if h := nearest(name, FieldNames()); h != "" {
			msg += " — did you mean " + h + "?"
		}
		return "", errors.New(msg)
	}
	info := fieldTable[f]
	switch info.kind {
	case kID:
		return s.Str(recID(f, r)), nil
	case kGroups:
		g, err := decodeGroups(s.Str(r.Groups))
		return strings.Join(g, ","), err
	case kEnum:
		v, other := enumOf(f, r)
		if v != other {
			return enumNames(f)[v], nil
		}
	case kCode:
		return strconv.Itoa(int(r.Code)), nil
	case kTime:
		if r.Flags&audit.FlagNoTime != 0 {
			return "", nil
		}
		return eventTime(r).Format(time.RFC3339Nano), nil
	case kLatency:
		return latencyOf(r).String(), nil
	}
	raw, err := s.Raw(r, nil)
	if err != nil {
		return "", fmt.Errorf("filter: %s: %w", name, err)
	}
	var ev rawEvent
	if err := ev.scan(raw); err != nil {
		return "", fmt.Errorf("filter: %s: %w", name, err)
	}
	if info.kind == kBody {
		b := ev.requestObject
		if f == fResponseObject {
			b = ev.responseObject
		}
		if isNullOrEmpty(b) {
			return "", nil
		}
		return string(b), nil
	}
	var e env
	if err := ev.fill(f, &e); err != nil {
		return "", fmt.Errorf("filter: %s: %w", name, err)
	}
	switch f {
	case fImpGroups:
		return strings.Join(e.ImpGroups, ","), nil
	case fSourceIPs:
		return strings.Join(e.SourceIPs, ","), nil
	case fAnnotations:
		keys := make([]string, 0, len(e.Annotations))
		for k := range e.Annotations {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = k + "=" + e.Annotations[k]
		}
		return strings.Join(parts, ","), nil
	}
	return rawString(f, &e), nil
}

// rawString returns a string-typed raw field of e.
func rawString(f fieldID, e *env) string {
	switch f {
	case fUserUID:
		return e.UserUID
	case fObjUID:
		return e.ObjUID
	case fAPIVersion:
		return e.APIVersion
	case fURI:
		return e.URI
	case fReason:
		return e.Reason
	case fMessage:
		return e.Message
	case fAuthzReason:
		return e.AuthzReason
	case fAuditID:
		return e.AuditID
	case fLevel:
		return e.Level
	case fStage:
		return e.Stage
	case fDecision:
		return e.Decision
	}
	return ""
}

// nearest returns the candidate closest to s by edit distance, ignoring
// case, or "" when none is close enough to be a plausible typo.
func nearest(s string, cands []string) string {
	best, bestD := "", 1<<30
	ls := strings.ToLower(s)
	for _, c := range cands {
		d := fuzzy.Distance(ls, strings.ToLower(c))
		if d < bestD {
			best, bestD = c, d
		}
	}
	if bestD > 1+len(s)/4 {
		return ""
	}
	return best
}
