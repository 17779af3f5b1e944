package audit

import (
	"encoding/json"
	"fmt"
	"time"
)

// Event is the full audit.k8s.io/v1 Event, with the v1beta1 extras, as
// decoded from an event's raw bytes. The index (Rec) is what ktrail keeps in
// memory; an Event is decoded only when someone looks at one event (the
// detail pane, a report). Bodies stay raw JSON. Unknown members are ignored
// here but are never lost: the raw bytes remain the record of truth.
type Event struct {
	Kind                     string            `json:"kind,omitempty"`
	APIVersion               string            `json:"apiVersion,omitempty"`
	Level                    string            `json:"level"`
	AuditID                  string            `json:"auditID"`
	Stage                    string            `json:"stage"`
	RequestURI               string            `json:"requestURI"`
	Verb                     string            `json:"verb"`
	User                     UserInfo          `json:"user"`
	ImpersonatedUser         *UserInfo         `json:"impersonatedUser,omitempty"`
	SourceIPs                []string          `json:"sourceIPs,omitempty"`
	UserAgent                string            `json:"userAgent,omitempty"`
	ObjectRef                *ObjectReference  `json:"objectRef,omitempty"`
	ResponseStatus           *Status           `json:"responseStatus,omitempty"`
	RequestObject            json.RawMessage   `json:"requestObject,omitempty"`
	ResponseObject           json.RawMessage   `json:"responseObject,omitempty"`
	RequestReceivedTimestamp string            `json:"requestReceivedTimestamp,omitempty"`
	StageTimestamp           string            `json:"stageTimestamp,omitempty"`
	Annotations              map[string]string `json:"annotations,omitempty"`
	// Timestamp and Metadata.CreationTimestamp are v1beta1 fields, also
	// seen in files that claim v1.
	Timestamp string `json:"timestamp,omitempty"`
	Metadata  *struct {
		CreationTimestamp string `json:"creationTimestamp,omitempty"`
	} `json:"metadata,omitempty"`
}

// UserInfo is the authenticated (or impersonated) user.
type UserInfo struct {
	Username string              `json:"username,omitempty"`
	UID      string              `json:"uid,omitempty"`
	Groups   []string            `json:"groups,omitempty"`
	Extra    map[string][]string `json:"extra,omitempty"`
}

// ObjectReference names the object a request was about.
type ObjectReference struct {
	Resource        string `json:"resource,omitempty"`
	Namespace       string `json:"namespace,omitempty"`
	Name            string `json:"name,omitempty"`
	UID             string `json:"uid,omitempty"`
	APIGroup        string `json:"apiGroup,omitempty"`
	APIVersion      string `json:"apiVersion,omitempty"`
	ResourceVersion string `json:"resourceVersion,omitempty"`
	Subresource     string `json:"subresource,omitempty"`
}

// Status is the responseStatus of an event.
type Status struct {
	Code    int    `json:"code,omitempty"`
	Status  string `json:"status,omitempty"`
	Reason  string `json:"reason,omitempty"`
	Message string `json:"message,omitempty"`
}

// DecodeEvent decodes one event's raw bytes.
func DecodeEvent(raw []byte) (*Event, error) {
	var e Event
	if err := json.Unmarshal(raw, &e); err != nil {
		return nil, fmt.Errorf("audit: decode event: %w", err)
	}
	return &e, nil
}

// Time returns the event's time: requestReceivedTimestamp, else
// stageTimestamp, else the v1beta1 timestamp; ok is false when none parses.
func (e *Event) Time() (t time.Time, ok bool) {
	for _, s := range []string{e.RequestReceivedTimestamp, e.StageTimestamp, e.Timestamp} {
		if ns, ok := ParseTime([]byte(s)); ok {
			return time.Unix(0, ns).UTC(), true
		}
	}
	return time.Time{}, false
}

// Latency returns stageTimestamp − requestReceivedTimestamp, or 0 when
// either is missing.
func (e *Event) Latency() time.Duration {
	r, ok1 := ParseTime([]byte(e.RequestReceivedTimestamp))
	s, ok2 := ParseTime([]byte(e.StageTimestamp))
	if !ok1 || !ok2 {
		return 0
	}
	return time.Duration(s - r)
}

// EffectiveUser returns the impersonated user if any, else the user.
func (e *Event) EffectiveUser() string {
	if e.ImpersonatedUser != nil && e.ImpersonatedUser.Username != "" {
		return e.ImpersonatedUser.Username
	}
	return e.User.Username
}
