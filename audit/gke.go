package audit

import (
	"encoding/json"
	"fmt"
	"strings"
)

// gkeEntry is the part of a Cloud Logging LogEntry (GKE Cloud Audit Logs,
// protoPayload of type google.cloud.audit.AuditLog) that maps onto the
// audit Event fields. See README "GKE exports" for the mapping.
type gkeEntry struct {
	InsertID  string            `json:"insertId"`
	Timestamp string            `json:"timestamp"`
	Labels    map[string]string `json:"labels"`
	Operation struct {
		ID string `json:"id"`
	} `json:"operation"`
	Resource struct {
		Labels map[string]string `json:"labels"`
	} `json:"resource"`
	Proto struct {
		AuthenticationInfo struct {
			PrincipalEmail string `json:"principalEmail"`
		} `json:"authenticationInfo"`
		MethodName      string `json:"methodName"`
		ResourceName    string `json:"resourceName"`
		RequestMetadata struct {
			CallerIP string `json:"callerIp"`
			UA       string `json:"callerSuppliedUserAgent"`
		} `json:"requestMetadata"`
		Status *struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		} `json:"status"`
		Request  json.RawMessage `json:"request"`
		Response json.RawMessage `json:"response"`
	} `json:"protoPayload"`
}

// grpcToHTTP maps google.rpc.Code values to the HTTP status the API server
// would have answered.
var grpcToHTTP = map[int]int{
	0: 200, 1: 499, 2: 500, 3: 400, 4: 504, 5: 404, 6: 409, 7: 403, 8: 429,
	9: 400, 10: 409, 11: 400, 12: 501, 13: 500, 14: 503, 15: 500, 16: 401,
}

// normalizeGKE fills f from a GKE LogEntry so that it indexes like a native
// Event. The raw bytes are not changed.
func normalizeGKE(b []byte, f *Fields) error {
	var e gkeEntry
	if err := json.Unmarshal(b, &e); err != nil {
		return fmt.Errorf("GKE LogEntry: %v", err)
	}
	p := &e.Proto
	if p.MethodName == "" {
		return &NotEventError{"LogEntry has no protoPayload.methodName: not a Kubernetes audit entry"}
	}
	items := f.Items[:0]
	*f = Fields{GKE: true, Items: items, Known: 1}
	f.AuditID = []byte(firstNonEmpty(e.Operation.ID, e.InsertID))
	f.Timestamp = []byte(e.Timestamp)
	f.User = []byte(p.AuthenticationInfo.PrincipalEmail)
	f.HasUser = true
	f.SourceIP = []byte(p.RequestMetadata.CallerIP)
	f.UserAgent = []byte(p.RequestMetadata.UA)
	f.Stage = []byte("ResponseComplete")
	switch {
	case len(p.Response) > 0:
		f.Level = []byte("RequestResponse")
	case len(p.Request) > 0:
		f.Level = []byte("Request")
	default:
		f.Level = []byte("Metadata")
	}
	f.Code = 200
	if p.Status != nil {
		if c, ok := grpcToHTTP[p.Status.Code]; ok {
			f.Code = c
		} else {
			f.Code = 500
		}
	}
	f.Decision = []byte(e.Labels["authorization.k8s.io/decision"])
	f.Cluster = []byte(e.Resource.Labels["cluster_name"])
	// methodName: io.k8s.<group>.<version>.<resource>[.<subresource>].<verb>
	if i := strings.LastIndexByte(p.MethodName, '.'); i >= 0 {
		f.Verb = []byte(p.MethodName[i+1:])
	}
	// resourceName: <group>/<version>[/namespaces/<ns>]/<resource>[/<name>[/<sub>]]
	parts := strings.Split(p.ResourceName, "/")
	if len(parts) >= 3 {
		group, rest := parts[0], parts[2:]
		if group != "core" {
			f.APIGroup = []byte(group)
		}
		f.ObjAPIVersion = []byte(parts[1])
		if len(rest) >= 3 && rest[0] == "namespaces" {
			f.Namespace = []byte(rest[1])
			rest = rest[2:]
		}
		f.Resource = []byte(rest[0])
		if len(rest) > 1 {
			f.Name = []byte(rest[1])
		}
		if len(rest) > 2 {
			f.Subresource = []byte(rest[2])
		}
	}
	return nil
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
