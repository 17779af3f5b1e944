package detect

import (
	"net/netip"
	"slices"
	"strings"
	"testing"

	"ktrail/audit"
)

// want is what a built-in rule must find in the recorded fixture: at
// least hits hits (or alerts alerts for a threshold rule), one of which
// (one event of one alert) has every field value of event.
type want struct {
	hits, alerts int
	event        map[string]string
}

// fixtureWants lists every built-in rule. The events are those of the
// scenario in ../testdata/kube-apiserver-v1.37/detections/README.md.
var fixtureWants = map[string]want{
	"auth-401-burst":            {hits: 25, alerts: 1, event: map[string]string{"code": "401", "sourceIP": "203.0.113.45", "user": ""}},
	"authz-403-burst":           {hits: 10, alerts: 1, event: map[string]string{"user": "mallory", "resource": "secrets", "code": "403"}},
	"anonymous-allowed":         {hits: 3, event: map[string]string{"user": "system:anonymous", "uri": "/version", "code": "200"}},
	"anonymous-resource-access": {hits: 1, event: map[string]string{"user": "system:anonymous", "verb": "list", "resource": "configmaps", "code": "200"}},
	"secret-read-by-human":      {hits: 7, event: map[string]string{"user": "alice", "verb": "get", "name": "app-secret-3"}},
	"secret-read-many-distinct": {hits: 6, alerts: 1, event: map[string]string{"user": "alice", "name": "app-secret-6"}},
	"pod-exec":                  {hits: 2, event: map[string]string{"user": "admin", "subresource": "exec", "name": "web", "code": "400"}},
	"pod-attach":                {hits: 1, event: map[string]string{"subresource": "attach", "verb": "create", "name": "web"}},
	"pod-portforward":           {hits: 1, event: map[string]string{"subresource": "portforward", "verb": "create", "name": "web"}},
	"ephemeral-container":       {hits: 1, event: map[string]string{"verb": "patch", "subresource": "ephemeralcontainers", "name": "web", "code": "200"}},
	"rbac-role-write":           {hits: 4, event: map[string]string{"verb": "delete", "resource": "roles", "name": "wildcard-role"}},
	"rbac-binding-write":        {hits: 4, event: map[string]string{"verb": "create", "resource": "clusterrolebindings", "name": "backdoor-admin"}},
	"cluster-admin-binding":     {hits: 2, event: map[string]string{"resource": "rolebindings", "name": "ns-admin", "namespace": "team-a"}},
	"rbac-wildcard-rule":        {hits: 1, event: map[string]string{"verb": "create", "resource": "roles", "name": "wildcard-role"}},
	"impersonation":             {hits: 2, event: map[string]string{"user": "admin", "impersonatedUser": "alice", "resource": "secrets"}},
	"impersonation-privileged":  {hits: 1, event: map[string]string{"impersonatedUser": "system:admin", "impersonatedGroups": "system:masters"}},
	"privileged-container":      {hits: 2, event: map[string]string{"resource": "daemonsets", "name": "node-agent"}},
	"hostpath-volume":           {hits: 2, event: map[string]string{"resource": "pods", "name": "hostpath-pod", "code": "201"}},
	"host-namespaces":           {hits: 3, event: map[string]string{"resource": "pods", "name": "hostnet-pod"}},
	"kube-system-workload":      {hits: 2, event: map[string]string{"resource": "deployments", "namespace": "kube-system", "name": "kube-dns-helper"}},
	"sa-token-request":          {hits: 2, event: map[string]string{"resource": "serviceaccounts", "subresource": "token", "name": "default"}},
	"sa-token-long-lived":       {hits: 1, event: map[string]string{"subresource": "token", "namespace": "team-a", "code": "201"}},
	"csr-created":               {hits: 1, event: map[string]string{"resource": "certificatesigningrequests", "name": "e2e-mallory"}},
	"csr-approved":              {hits: 1, event: map[string]string{"subresource": "approval", "verb": "update", "name": "e2e-mallory"}},
	"admission-webhook-change":  {hits: 4, event: map[string]string{"verb": "delete", "resource": "mutatingwebhookconfigurations", "name": "e2e-mutator"}},
	"events-deleted":            {hits: 2, event: map[string]string{"verb": "deletecollection", "resource": "events", "namespace": "team-a"}},
	"node-proxy":                {hits: 2, event: map[string]string{"resource": "nodes", "subresource": "proxy", "name": "e2e-node-1"}},
	"rules-review-recon":        {hits: 1, event: map[string]string{"user": "mallory", "resource": "selfsubjectrulesreviews"}},
	"scanner-user-agent":        {hits: 4, event: map[string]string{"userAgent": "kube-hunter/0.6.8", "sourceIP": "198.51.100.7"}},
	"raw-http-client":           {hits: 25, event: map[string]string{"userAgent": "curl/8.5.0", "uri": "/healthz"}},
}

// has reports whether event id has every field value of w.
func has(t *testing.T, s *audit.Store, id uint32, w map[string]string) bool {
	for k, want := range w {
		if got := val(t, s, id, k); got != want && !(k == "impersonatedGroups" && slices.Contains(strings.Split(got, ","), want)) {
			return false
		}
	}
	return true
}

func TestBuiltinsOnRecordedFixture(t *testing.T) {
	s := loadFixture(t)
	res := runBuiltins(t, s)
	if len(res.Rules) < 18 {
		t.Fatalf("%d built-in rules, want at least 18", len(res.Rules))
	}
	for _, rr := range res.Rules {
		id := rr.Rule.ID
		w, ok := fixtureWants[id]
		if !ok {
			t.Errorf("%s: no expectation on the recorded fixture: every built-in rule must be tested there", id)
			continue
		}
		if rr.Errors != 0 {
			t.Errorf("%s: %d evaluation errors", id, rr.Errors)
		}
		if len(rr.Hits) < w.hits {
			t.Errorf("%s: %d hits, want at least %d", id, len(rr.Hits), w.hits)
		}
		if rr.Rule.Alerting() != (w.alerts > 0) {
			t.Errorf("%s: alerting %v, but the table expects %d alerts", id, rr.Rule.Alerting(), w.alerts)
		}
		if len(rr.Alerts) < w.alerts {
			t.Errorf("%s: %d alerts, want at least %d", id, len(rr.Alerts), w.alerts)
		}
		ids := rr.Hits
		if w.alerts > 0 {
			ids = nil
			for _, a := range rr.Alerts {
				ids = append(ids, a.IDs...)
			}
		}
		if !slices.ContainsFunc(ids, func(id uint32) bool { return has(t, s, id, w.event) }) {
			t.Errorf("%s: no hit has %v", id, w.event)
		}
	}
	for id := range fixtureWants {
		if res.Rule(id) == nil {
			t.Errorf("%s: in the table but not a built-in rule", id)
		}
	}
}

// TestBuiltinsQuietOnBootstrap checks that no rule fires on the API
// server's own start-up (the RBAC bootstrap creates cluster-admin, roles
// with "*" and dozens of bindings) nor on anything a system identity did
// in the recorded fixture: every hit is the scenario's.
func TestBuiltinsQuietOnBootstrap(t *testing.T) {
	s := loadFixture(t)
	res := runBuiltins(t, s)
	v := s.View()
	// The scenario starts with admin's first request; before it there is
	// only the API server's own traffic.
	start := -1
	for pos := range v.Len() {
		if s.Str(v.At(pos).User) == "admin" {
			start = pos
			break
		}
	}
	if start < 100 {
		t.Fatalf("the scenario starts at position %d: the fixture should begin with the bootstrap", start)
	}
	before := map[uint32]bool{}
	v.EachID(0, start, func(_ int, id uint32) bool { before[id] = true; return true })
	scenario := map[string]bool{"admin": true, "alice": true, "mallory": true, "system:anonymous": true, "": true}
	for _, rr := range res.Rules {
		for _, id := range rr.Hits {
			u := val(t, s, id, "user")
			if before[id] || !scenario[u] {
				t.Errorf("%s: hit on benign traffic: user %q %s %s/%s at %s", rr.Rule.ID, u,
					val(t, s, id, "verb"), val(t, s, id, "resource"), val(t, s, id, "name"), val(t, s, id, "time"))
			}
		}
	}
}

// The demo's attacker address; every event of the incident comes from it.
const incidentIP = "203.0.113.45"

var people = map[string]bool{"alice@example.com": true, "bob@example.com": true, "carol@example.com": true}

// demoByDesign says which hits a rule may have in the demo's normal
// traffic, because they are what the rule is about: people reading
// secrets or using exec and port-forward, and the internet scanners'
// anonymous probes with their tools' user agents.
var demoByDesign = map[string]func(user, sourceIP string) bool{
	"secret-read-by-human": func(u, _ string) bool { return people[u] },
	"pod-exec":             func(u, _ string) bool { return people[u] },
	"pod-portforward":      func(u, _ string) bool { return people[u] },
	"anonymous-allowed":    func(_, ip string) bool { return public(ip) },
	"scanner-user-agent":   func(_, ip string) bool { return public(ip) },
	"raw-http-client":      func(_, ip string) bool { return public(ip) },
}

// public reports whether ip is a public (internet) address.
func public(ip string) bool {
	a, err := netip.ParseAddr(ip)
	return err == nil && !a.IsPrivate() && !a.IsLoopback()
}

// demoIncident lists the rules that must fire on the demo's incident
// (audit/auditgen/DEMO.md), each with an event of the incident it must
// report.
var demoIncident = map[string]map[string]string{
	"authz-403-burst":       {"user": "system:anonymous", "code": "403"},
	"anonymous-allowed":     {"uri": "/version"},
	"pod-exec":              {"name": "payments-7d9f8c6b5d-mcd9q"},
	"rbac-binding-write":    {"name": "backdoor-admin"},
	"cluster-admin-binding": {"name": "backdoor-admin", "verb": "create"},
	"privileged-container":  {"name": "kube-proxy-helper", "namespace": "kube-system"},
	"hostpath-volume":       {"name": "kube-proxy-helper"},
	"host-namespaces":       {"name": "kube-proxy-helper"},
	"kube-system-workload":  {"name": "kube-proxy-helper"},
	"sa-token-request":      {"name": "deployer", "namespace": "ci"},
	"sa-token-long-lived":   {"name": "deployer", "namespace": "ci"},
	"events-deleted":        {"verb": "deletecollection", "namespace": "prod"},
	"rules-review-recon":    {"user": "system:serviceaccount:ci:deployer"},
	"scanner-user-agent":    {"user": "system:anonymous"},
	"raw-http-client":       {"userAgent": "python-requests/2.31.0", "user": "system:serviceaccount:ci:deployer"},
}

func TestBuiltinsOnDemo(t *testing.T) {
	s := loadDemo(t)
	res := runBuiltins(t, s)
	for _, rr := range res.Rules {
		id := rr.Rule.ID
		if rr.Errors != 0 {
			t.Errorf("%s: %d evaluation errors", id, rr.Errors)
		}
		// Threshold rules: every alert belongs to the incident.
		for _, a := range rr.Alerts {
			for _, eid := range a.IDs {
				if ip := val(t, s, eid, "sourceIP"); ip != incidentIP {
					t.Errorf("%s: alert %v includes an event from %s (normal traffic)", id, a.Group, ip)
					break
				}
			}
		}
		if rr.Rule.Alerting() {
			continue // its hits are only candidates
		}
		ok := demoByDesign[id]
		for _, eid := range rr.Hits {
			u, ip := val(t, s, eid, "user"), val(t, s, eid, "sourceIP")
			if ip != incidentIP && (ok == nil || !ok(u, ip)) {
				t.Errorf("%s: fires on the demo's normal traffic: %s %s %s/%s from %s", id, u,
					val(t, s, eid, "verb"), val(t, s, eid, "resource"), val(t, s, eid, "name"), ip)
			}
		}
	}
	for id, ev := range demoIncident {
		rr := res.Rule(id)
		if rr == nil {
			t.Errorf("%s: not a built-in rule", id)
			continue
		}
		ids := rr.Hits
		if rr.Rule.Alerting() {
			ids = nil
			for _, a := range rr.Alerts {
				ids = append(ids, a.IDs...)
			}
		}
		found := slices.ContainsFunc(ids, func(eid uint32) bool {
			return val(t, s, eid, "sourceIP") == incidentIP && has(t, s, eid, ev)
		})
		if !found {
			t.Errorf("%s: does not report the demo incident's event %v", id, ev)
		}
	}
}

func TestBuiltinsMetadata(t *testing.T) {
	rules := Builtins()
	seen := map[string]bool{}
	for _, r := range rules {
		if r.Name == r.ID || r.Description == "" || SeverityRank(r.Severity) < 0 {
			t.Errorf("%s: needs a name, a description and a severity", r.ID)
		}
		ok := false
		for _, p := range []string{"https://attack.mitre.org/techniques/", "https://microsoft.github.io/Threat-Matrix-for-Kubernetes/",
			"https://owasp.org/www-project-kubernetes-top-ten/", "https://www.cisecurity.org/"} {
			ok = ok || strings.HasPrefix(r.Reference, p)
		}
		if !ok {
			t.Errorf("%s: reference %q is not a MITRE ATT&CK, threat-matrix, OWASP or CIS page", r.ID, r.Reference)
		}
		if seen[r.ID] {
			t.Errorf("%s: duplicate id", r.ID)
		}
		seen[r.ID] = true
	}
	// Builtins returns a copy each time.
	rules[0].Expr = "false"
	if Builtins()[0].Expr == "false" {
		t.Error("Builtins shares its slice")
	}
}
