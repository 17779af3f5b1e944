package filters

import (
	"context"
	"os"
	"slices"
	"testing"

	"ktrail/audit"
)

// The expected counts below were computed in plain Python from the JSON
// by testdata/oracle.py (cases in testdata/*-cases.txt).

// recordingCases cover every field and helper on the recording.
var recordingCases = []struct {
	expr string
	want int
}{
	{"verb == \"create\"", 200},
	{"verb != \"create\"", 28},
	{"verb in [\"get\", \"list\", \"delete\"]", 10},
	{"verb not in [\"create\"]", 28},
	{"resource == \"secrets\"", 6},
	{"\"secrets\" == resource", 6},
	{"subresource == \"\"", 210},
	{"namespace == \"team-a\"", 8},
	{"ns == \"kube-system\"", 18},
	{"name == \"db-creds\"", 3},
	{"apiGroup == \"rbac.authorization.k8s.io\"", 141},
	{"apiVersion == \"v1\"", 226},
	{"objectUID != \"\"", 0},
	{"uri contains \"/secrets\"", 6},
	{"hasPrefix(uri, \"/apis/\")", 209},
	{"code >= 400", 8},
	{"code == 201", 197},
	{"code > 200 && code < 404", 200},
	{"code in [401, 403]", 3},
	{"code in 400..499", 8},
	{"code != 200", 205},
	{"code == 0", 0},
	{"reason == \"NotFound\"", 4},
	{"reason in [\"Forbidden\", \"AlreadyExists\"]", 3},
	{"message contains \"forbidden\"", 2},
	{"level == \"RequestResponse\"", 148},
	{"level in [\"Metadata\", \"Request\"]", 80},
	{"stage == \"ResponseStarted\"", 1},
	{"stage != \"ResponseComplete\"", 1},
	{"decision == \"forbid\"", 2},
	{"decision == \"allow\"", 225},
	{"decision == \"\"", 1},
	{"authzReason != \"\"", 0},
	{"authzReason contains \"RBAC\"", 0},
	{"annotations[\"authorization.k8s.io/decision\"] == \"forbid\"", 2},
	{"\"authorization.k8s.io/reason\" in annotations", 227},
	{"len(annotations) == 0", 1},
	{"user == \"system:anonymous\"", 1},
	{"user == \"\"", 1},
	{"user == \"nobody-at-all\"", 0},
	{"user in [\"admin\", \"alice\"]", 10},
	{"effectiveUser == \"admin\"", 9},
	{"impersonatedUser != \"\"", 0},
	{"userUID != \"\"", 226},
	{"\"system:masters\" in groups", 225},
	{"\"system:unauthenticated\" in groups", 1},
	{"len(groups) == 0", 1},
	{"any(groups, # startsWith \"system:auth\")", 226},
	{"len(impersonatedGroups) > 0", 0},
	{"hasPrefix(user, \"system:\")", 217},
	{"hasSuffix(user, \"apiserver\")", 216},
	{"user startsWith \"adm\"", 9},
	{"contains(userAgent, \"kubectl\")", 10},
	{"userAgent contains \"curl\"", 2},
	{"matches(user, \"^sys\")", 217},
	{"user matches \"^(admin|alice)$\"", 10},
	{"not (user matches \"^system:\")", 11},
	{"lower(userAgent) contains \"kube-apiserver\"", 216},
	{"sourceIP == \"127.0.0.1\"", 228},
	{"\"127.0.0.1\" in sourceIPs", 228},
	{"cidr(sourceIP, \"127.0.0.0/8\")", 228},
	{"cidr(sourceIP, \"10.0.0.0/8\")", 0},
	{"!cidr(sourceIP, \"10.0.0.0/8\")", 228},
	{"isServiceAccount()", 0},
	{"isSystem()", 216},
	{"isHuman()", 10},
	{"isHuman(effectiveUser)", 10},
	{"isSystem(user) && verb == \"create\"", 196},
	{"since(\"1m\")", 228},
	{"since(\"1h\")", 228},
	{"before(\"30s\")", 0},
	{"after(\"30s\")", 228},
	{"time > now() - duration(\"30s\")", 228},
	{"latency > duration(\"10ms\")", 15},
	{"latency <= duration(\"1ms\")", 6},
	{"auditID != \"\"", 228},
	{"cluster == \"\"", 228},
	{"requestObject != nil", 221},
	{"responseObject == nil", 80},
	{"requestObject.kind == \"Secret\"", 1},
	{"requestObject.kind in [\"Secret\", \"Pod\", \"Namespace\"]", 7},
	{"requestObject.kind != \"ClusterRole\"", 155},
	{"requestObject.metadata.name == \"db-creds\"", 1},
	{"requestObject?.spec?.containers[0].image != nil", 1},
	{"requestObject.spec.containers[0].name == \"web\"", 1},
	{"any(requestObject.spec.containers, .image contains \"nginx\")", 1},
	{"requestObject.spec.leaseDurationSeconds == 3600", 2},
	{"requestObject.spec.leaseDurationSeconds > 100", 2},
	{"requestObject[\"kind\"] == \"Pod\"", 1},
	{"responseObject.kind == \"Status\"", 4},
	{"responseObject.metadata.namespace == \"team-a\"", 2},
	{"len(requestObject.data) > 0", 3},
	{"verb == \"delete\" && resource == \"secrets\"", 1},
	{"verb == \"create\" || code >= 400", 205},
	{"!(verb == \"create\") && user != \"system:apiserver\"", 8},
	{"user == \"admin\" and verb in [\"create\", \"delete\"] and resource == \"secrets\"", 2},
	{"verb + \"/\" + resource == \"delete/secrets\"", 1},
	{"name contains namespace && namespace != \"\"", 0},
	{"user == \"admin\" && requestObject.kind == \"Secret\"", 1},
	{"code >= 400 ? reason != \"\" : false", 8},
	{"true", 228},
	{"false", 0},
	{"1 == 1 && verb == \"get\"", 3},
}

// audit2rbacCases use impersonation, v1beta1 timestamps and RequestReceived
// events.
var audit2rbacCases = []struct {
	expr string
	want int
}{
	{"impersonatedUser == \"bob\"", 29},
	{"impersonatedUser != \"\"", 37},
	{"effectiveUser == \"bob\"", 29},
	{"effectiveUser == \"system:admin\"", 720},
	{"isServiceAccount(impersonatedUser)", 5},
	{"isHuman(effectiveUser)", 32},
	{"\"system:serviceaccounts:ns1\" in impersonatedGroups", 5},
	{"user == \"system:admin\"", 757},
	{"stage == \"RequestReceived\"", 320},
	{"code == 403", 11},
	{"code == 0", 320},
	{"reason == \"Forbidden\" && effectiveUser == \"bob\"", 4},
	{"verb == \"delete\" && ns == \"ns1\"", 0},
	{"latency > duration(\"0s\")", 0},
	{"sourceIP == \"::1\"", 757},
	{"cidr(sourceIP, \"::1/128\")", 757},
	{"since(\"10m\")", 28},
	{"time >= date(\"2017-09-11T19:56:00Z\")", 755},
	{"after(\"2017-09-11T19:56:00Z\") && before(\"2017-09-11T19:57:00Z\")", 0},
}

// modes are the two ways a filter runs: fast paths, and the expr VM only.
var modes = []struct {
	name   string
	vmOnly bool
}{{"fast", false}, {"vm", true}}

// checkCases runs each case in both modes and checks the count, that
// both modes return the same ids, that Match agrees with Eval, and that
// no evaluation failed.
func checkCases(t *testing.T, s *audit.Store, cases []struct {
	expr string
	want int
}) {
	now := lastTime(s)
	v := s.View()
	for _, tc := range cases {
		t.Run(tc.expr, func(t *testing.T) {
			var got [2][]uint32
			for i, m := range modes {
				f, err := Compile(s, []string{tc.expr}, Options{Now: now, vmOnly: m.vmOnly})
				if err != nil {
					t.Fatalf("%s: %v", m.name, err)
				}
				ids, err := f.Eval(context.Background(), v)
				if err != nil {
					t.Fatalf("%s: %v", m.name, err)
				}
				if len(ids) != tc.want {
					t.Errorf("%s: %d matches, want %d", m.name, len(ids), tc.want)
				}
				var matched []uint32
				v.EachID(0, v.Len(), func(_ int, id uint32) bool {
					if ok, err := f.Match(v, id); err != nil {
						t.Fatal(err)
					} else if ok {
						matched = append(matched, id)
					}
					return true
				})
				if !slices.Equal(matched, ids) {
					t.Errorf("%s: Match finds %d events, Eval %d", m.name, len(matched), len(ids))
				}
				if n := f.Errors(); n != 0 {
					t.Errorf("%s: %d evaluation errors", m.name, n)
				}
				got[i] = ids
			}
			if !slices.Equal(got[0], got[1]) {
				t.Errorf("fast and VM results differ:\nfast %v\nvm   %v", got[0], got[1])
			}
		})
	}
}

func TestRecording(t *testing.T) {
	s := loadFile(t, recording)
	if s.Len() != 228 {
		t.Fatalf("recording has %d events, want 228", s.Len())
	}
	checkCases(t, s, recordingCases)
}

// realDir holds third-party samples that are never copied into the
// repository; tests that read it skip when it is absent.
const realDir = "../../shared/testdata/real/"

func TestAudit2RBAC(t *testing.T) {
	path := realDir + "liggitt_audit2rbac_demo-v1beta1.jsonl"
	if _, err := os.Stat(path); err != nil {
		t.Skip("third-party samples not present:", err)
	}
	s := loadFile(t, path)
	checkCases(t, s, audit2rbacCases)
}

// TestGKE checks that GKE LogEntries filter on their indexed fields and
// read as empty where the raw shape differs.
func TestGKE(t *testing.T) {
	path := realDir + "GoogleCloudPlatform_khi_gke-cloudaudit-k8s.jsonl"
	if _, err := os.Stat(path); err != nil {
		t.Skip("third-party samples not present:", err)
	}
	s := loadFile(t, path)
	opts := Options{Now: lastTime(s)}
	if n := count(t, s, opts, `verb != "" && user != ""`); n != s.Len() {
		t.Errorf("GKE events with verb and user: %d of %d", n, s.Len())
	}
	if n := count(t, s, opts, `uri == "" && requestObject == nil && message == ""`); n != s.Len() {
		t.Errorf("GKE raw-derived fields should read empty: %d of %d", n, s.Len())
	}
}
