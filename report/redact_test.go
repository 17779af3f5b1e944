package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const realLog = "../testdata/kube-apiserver-v1.37/audit.log"

// readLines returns the events of a JSON-lines file.
func readLines(t testing.TB, path string) [][]byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out [][]byte
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		if len(bytes.TrimSpace(sc.Bytes())) > 0 {
			out = append(out, bytes.Clone(sc.Bytes()))
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// objectRef reads the resource and subresource of a native event.
func objectRef(t testing.TB, ev []byte) (string, string) {
	t.Helper()
	var e struct {
		ObjectRef struct{ Resource, Subresource string }
	}
	if err := json.Unmarshal(ev, &e); err != nil {
		t.Fatal(err)
	}
	return e.ObjectRef.Resource, e.ObjectRef.Subresource
}

func sameSlice(a, b []byte) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}

func TestRedactRealLog(t *testing.T) {
	lines := readLines(t, realLog)
	secrets, masked := 0, 0
	for i, ev := range lines {
		res, sub := objectRef(t, ev)
		out, changed, err := Redact(ev, res, sub)
		if err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		auto, autoChanged, err := RedactAuto(ev)
		if err != nil {
			t.Fatalf("line %d: RedactAuto: %v", i+1, err)
		}
		if !bytes.Equal(auto, out) || autoChanged != changed {
			t.Errorf("line %d: RedactAuto differs from Redact", i+1)
		}
		if res != "secrets" {
			if changed || !sameSlice(out, ev) {
				t.Errorf("line %d (%s): not a secret but changed", i+1, res)
			}
			continue
		}
		secrets++
		if !json.Valid(out) {
			t.Errorf("line %d: output is not valid JSON", i+1)
		}
		if bytes.Contains(out, []byte("aHVudGVyMg")) {
			t.Errorf("line %d: the secret's base64 value is still there", i+1)
		}
		if !changed {
			if !sameSlice(out, ev) {
				t.Errorf("line %d: unchanged but a copy", i+1)
			}
			continue
		}
		masked++
		// Exactly the two values changed; every other byte is the same.
		want := bytes.ReplaceAll(ev, []byte(`"aHVudGVyMg=="`), []byte(`"***REDACTED***"`))
		if !bytes.Equal(out, want) {
			t.Errorf("line %d: more than the secret values changed:\n got %s\nwant %s", i+1, out, want)
		}
	}
	if secrets < 5 || masked != 1 {
		t.Errorf("found %d secret events, masked %d; want ≥5 and 1 (the create of db-creds)", secrets, masked)
	}
}

// The masked form of a value.
const M = `"***REDACTED***"`

var redactCases = []struct {
	name, res, sub, in, want string
}{
	{"create: data and stringData in both bodies", "secrets", "",
		`{"kind":"Event","objectRef":{"resource":"secrets","namespace":"a","name":"db"},"requestObject":{"kind":"Secret","metadata":{"name":"db"},"data":{"password":"UzNDUkVUMQ==","user":"YWRtaW4="},"stringData":{"token":"S3CRET-2"},"type":"Opaque"},"responseObject":{"kind":"Secret","data":{"password":"UzNDUkVUMQ==","user":"YWRtaW4=","token":"UzNDUkVUMg=="},"type":"Opaque"},"stageTimestamp":"2026-11-25T20:54:58Z"}`,
		`{"kind":"Event","objectRef":{"resource":"secrets","namespace":"a","name":"db"},"requestObject":{"kind":"Secret","metadata":{"name":"db"},"data":{"password":` + M + `,"user":` + M + `},"stringData":{"token":` + M + `},"type":"Opaque"},"responseObject":{"kind":"Secret","data":{"password":` + M + `,"user":` + M + `,"token":` + M + `},"type":"Opaque"},"stageTimestamp":"2026-11-25T20:54:58Z"}`},
	{"list: items", "secrets", "",
		`{"objectRef":{"resource":"secrets"},"responseObject":{"kind":"SecretList","metadata":{},"items":[{"metadata":{"name":"a"},"data":{"k":"UzNDUkVUMQ=="}},{"metadata":{"name":"b"},"data":{"k2":"UzNDUkVUMg=="},"type":"kubernetes.io/tls"},{"metadata":{"name":"c"}}]}}`,
		`{"objectRef":{"resource":"secrets"},"responseObject":{"kind":"SecretList","metadata":{},"items":[{"metadata":{"name":"a"},"data":{"k":` + M + `}},{"metadata":{"name":"b"},"data":{"k2":` + M + `},"type":"kubernetes.io/tls"},{"metadata":{"name":"c"}}]}}`},
	{"watch event", "secrets", "",
		`{"objectRef":{"resource":"secrets"},"verb":"watch","responseObject":{"type":"ADDED","object":{"kind":"Secret","metadata":{"name":"a"},"data":{"k":"UzNDUkVUMQ=="}}}}`,
		`{"objectRef":{"resource":"secrets"},"verb":"watch","responseObject":{"type":"ADDED","object":{"kind":"Secret","metadata":{"name":"a"},"data":{"k":` + M + `}}}}`},
	{"table with objects", "secrets", "",
		`{"objectRef":{"resource":"secrets"},"responseObject":{"kind":"Table","columnDefinitions":[{"name":"Data","description":"data"}],"rows":[{"cells":["a","Opaque",1],"object":{"kind":"Secret","metadata":{"name":"a"},"data":{"k":"UzNDUkVUMQ=="}}}]}}`,
		`{"objectRef":{"resource":"secrets"},"responseObject":{"kind":"Table","columnDefinitions":[{"name":"Data","description":"data"}],"rows":[{"cells":["a","Opaque",1],"object":{"kind":"Secret","metadata":{"name":"a"},"data":{"k":` + M + `}}}]}}`},
	{"merge patch, nulls kept", "secrets", "",
		`{"objectRef":{"resource":"secrets"},"verb":"patch","requestObject":{"data":{"password":"UzNDUkVUMQ==","old":null},"stringData":{"x":"S3CRET-2"}}}`,
		`{"objectRef":{"resource":"secrets"},"verb":"patch","requestObject":{"data":{"password":` + M + `,"old":null},"stringData":{"x":` + M + `}}}`},
	{"strategic merge patch directives", "secrets", "",
		`{"objectRef":{"resource":"secrets"},"requestObject":{"$retainKeys":["data","type"],"data":{"$patch":"replace","k":"UzNDUkVUMQ=="}}}`,
		`{"objectRef":{"resource":"secrets"},"requestObject":{"$retainKeys":["data","type"],"data":{"$patch":` + M + `,"k":` + M + `}}}`},
	{"JSON patch", "secrets", "",
		`{"objectRef":{"resource":"secrets"},"requestObject":[{"op":"replace","path":"/data/password","value":"UzNDUkVUMQ=="},{"op":"add","path":"/data","value":{"a":"UzNDUkVUMg==","b":null}},{"op":"add","path":"/stringData/x","value":"S3CRET-3"},{"value":"S3CRET-4","op":"test","path":"/data/k"},{"op":"add","path":"/stringData","value":"S3CRET-5"},{"op":"add","path":"/metadata/labels/app","value":"web"},{"op":"remove","path":"/data/old"},{"op":"copy","from":"/data/a","path":"/data/b"},{"op":"add","path":"/","value":{"data":{"k":"S3CRET-6"},"metadata":{"name":"x"}}},{"op":"add","path":"/metadata/annotations/kubectl.kubernetes.io~1last-applied-configuration","value":"{\"data\":{\"k\":\"S3CRET-7\"}}"}]}`,
		`{"objectRef":{"resource":"secrets"},"requestObject":[{"op":"replace","path":"/data/password","value":` + M + `},{"op":"add","path":"/data","value":{"a":` + M + `,"b":null}},{"op":"add","path":"/stringData/x","value":` + M + `},{"value":` + M + `,"op":"test","path":"/data/k"},{"op":"add","path":"/stringData","value":` + M + `},{"op":"add","path":"/metadata/labels/app","value":"web"},{"op":"remove","path":"/data/old"},{"op":"copy","from":"/data/a","path":"/data/b"},{"op":"add","path":"/","value":{"data":{"k":` + M + `},"metadata":{"name":"x"}}},{"op":"add","path":"/metadata/annotations/kubectl.kubernetes.io~1last-applied-configuration","value":"{\"data\":{\"k\":\"***REDACTED***\"}}"}]}`},
	{"apply configuration, pretty printed", "secrets", "",
		"{\n  \"objectRef\": {\"resource\": \"secrets\"},\n  \"requestObject\": {\n    \"apiVersion\": \"v1\",\n    \"kind\": \"Secret\",\n    \"data\" : {\n      \"k\" :  \"UzNDUkVUMQ==\" ,\n      \"j\": \"UzNDUkVUMg==\"\n    }\n  }\n}\n",
		"{\n  \"objectRef\": {\"resource\": \"secrets\"},\n  \"requestObject\": {\n    \"apiVersion\": \"v1\",\n    \"kind\": \"Secret\",\n    \"data\" : {\n      \"k\" :  " + M + " ,\n      \"j\": " + M + "\n    }\n  }\n}\n"},
	{"last-applied-configuration", "secrets", "",
		`{"objectRef":{"resource":"secrets"},"responseObject":{"kind":"Secret","metadata":{"name":"db","annotations":{"kubectl.kubernetes.io/last-applied-configuration":"{\"apiVersion\":\"v1\",\"data\":{\"password\":\"UzNDUkVUMQ==\"},\"kind\":\"Secret\",\"metadata\":{\"annotations\":{},\"name\":\"db\",\"namespace\":\"a\"},\"stringData\":{\"u\":\"S3CRET-2 \\u003c\\u003e\"},\"type\":\"Opaque\"}\n","other":"keep"}},"data":{"password":"UzNDUkVUMQ=="}}}`,
		`{"objectRef":{"resource":"secrets"},"responseObject":{"kind":"Secret","metadata":{"name":"db","annotations":{"kubectl.kubernetes.io/last-applied-configuration":"{\"apiVersion\":\"v1\",\"data\":{\"password\":\"***REDACTED***\"},\"kind\":\"Secret\",\"metadata\":{\"annotations\":{},\"name\":\"db\",\"namespace\":\"a\"},\"stringData\":{\"u\":\"***REDACTED***\"},\"type\":\"Opaque\"}\n","other":"keep"}},"data":{"password":` + M + `}}}`},
	{"last-applied-configuration with nothing secret is kept", "secrets", "",
		`{"objectRef":{"resource":"secrets"},"requestObject":{"metadata":{"annotations":{"kubectl.kubernetes.io/last-applied-configuration":"{\"kind\":\"Secret\",\"type\":\"Opaque\"}\n"}}}}`,
		`{"objectRef":{"resource":"secrets"},"requestObject":{"metadata":{"annotations":{"kubectl.kubernetes.io/last-applied-configuration":"{\"kind\":\"Secret\",\"type\":\"Opaque\"}\n"}}}}`},
	{"last-applied-configuration that is not JSON", "secrets", "",
		`{"objectRef":{"resource":"secrets"},"requestObject":{"metadata":{"annotations":{"kubectl.kubernetes.io/last-applied-configuration":"data:\n  password: S3CRET-1\n"}}}}`,
		`{"objectRef":{"resource":"secrets"},"requestObject":{"metadata":{"annotations":{"kubectl.kubernetes.io/last-applied-configuration":` + M + `}}}}`},
	{"last-applied-configuration truncated", "secrets", "",
		`{"objectRef":{"resource":"secrets"},"requestObject":{"metadata":{"annotations":{"kubectl.kubernetes.io/last-applied-configuration":"{\"data\":{\"password\":\"S3CRET-1"}}}}`,
		`{"objectRef":{"resource":"secrets"},"requestObject":{"metadata":{"annotations":{"kubectl.kubernetes.io/last-applied-configuration":` + M + `}}}}`},
	{"data that is not a map", "secrets", "",
		`{"objectRef":{"resource":"secrets"},"requestObject":{"data":"S3CRET-1","stringData":["S3CRET-2"]},"responseObject":{"data":null}}`,
		`{"objectRef":{"resource":"secrets"},"requestObject":{"data":` + M + `,"stringData":` + M + `},"responseObject":{"data":null}}`},
	{"escaped keys", "secrets", "",
		`{"objectRef":{"resource":"secrets"},"requestObj\u0065ct":{"d\u0061ta":{"k":"S3CRET-1"},"metadata":{"annotations":{"kubectl.kubernetes.io\/last-applied-configuration":"{\"str\u0069ngData\":{\"k\":\"S3CRET-2\"}}"}}}}`,
		`{"objectRef":{"resource":"secrets"},"requestObj\u0065ct":{"d\u0061ta":{"k":` + M + `},"metadata":{"annotations":{"kubectl.kubernetes.io\/last-applied-configuration":"{\"stringData\":{\"k\":\"***REDACTED***\"}}"}}}}`},
	{"body kept as text", "secrets", "",
		`{"objectRef":{"resource":"secrets"},"requestObject":"data: {k: S3CRET-1}"}`,
		`{"objectRef":{"resource":"secrets"},"requestObject":` + M + `}`},
	{"secret event with nothing to mask", "secrets", "",
		`{"objectRef":{"resource":"secrets"},"responseObject":{"kind":"Status","status":"Failure","code":403,"details":{"kind":"secrets"}}}`,
		`{"objectRef":{"resource":"secrets"},"responseObject":{"kind":"Status","status":"Failure","code":403,"details":{"kind":"secrets"}}}`},
	{"TokenRequest", "serviceaccounts", "token",
		`{"objectRef":{"resource":"serviceaccounts","namespace":"a","name":"default","subresource":"token"},"requestObject":{"kind":"TokenRequest","spec":{"audiences":["api"],"expirationSeconds":3600},"status":{"token":""}},"responseObject":{"kind":"TokenRequest","spec":{"audiences":["api"]},"status":{"token":"eyJhbGciOiJSUzI1NiJ9.S3CRET-1.sig","expirationTimestamp":"2026-11-25T21:54:58Z"}}}`,
		`{"objectRef":{"resource":"serviceaccounts","namespace":"a","name":"default","subresource":"token"},"requestObject":{"kind":"TokenRequest","spec":{"audiences":["api"],"expirationSeconds":3600},"status":{"token":` + M + `}},"responseObject":{"kind":"TokenRequest","spec":{"audiences":["api"]},"status":{"token":` + M + `,"expirationTimestamp":"2026-11-25T21:54:58Z"}}}`},
	{"TokenReview", "tokenreviews", "",
		`{"objectRef":{"resource":"tokenreviews","apiGroup":"authentication.k8s.io"},"requestObject":{"kind":"TokenReview","spec":{"token":"S3CRET-1"}},"responseObject":{"kind":"TokenReview","spec":{"token":"S3CRET-1"},"status":{"authenticated":true,"user":{"username":"bob"}}}}`,
		`{"objectRef":{"resource":"tokenreviews","apiGroup":"authentication.k8s.io"},"requestObject":{"kind":"TokenReview","spec":{"token":` + M + `}},"responseObject":{"kind":"TokenReview","spec":{"token":` + M + `},"status":{"authenticated":true,"user":{"username":"bob"}}}}`},
	{"service account itself is not masked", "serviceaccounts", "",
		`{"objectRef":{"resource":"serviceaccounts"},"responseObject":{"kind":"ServiceAccount","secrets":[{"name":"t"}],"data":{"k":"v"},"token":"x"}}`,
		`{"objectRef":{"resource":"serviceaccounts"},"responseObject":{"kind":"ServiceAccount","secrets":[{"name":"t"}],"data":{"k":"v"},"token":"x"}}`},
	{"GKE secret create", "secrets", "",
		`{"insertId":"1","protoPayload":{"@type":"type.googleapis.com/google.cloud.audit.AuditLog","methodName":"io.k8s.core.v1.secrets.create","request":{"@type":"core.k8s.io/v1.Secret","data":{"password":"UzNDUkVUMQ=="},"kind":"Secret"},"resourceName":"core/v1/namespaces/a/secrets/db","response":{"@type":"core.k8s.io/v1.Secret","data":{"password":"UzNDUkVUMQ=="},"metadata":{"annotations":{"kubectl.kubernetes.io/last-applied-configuration":"{\"data\":{\"password\":\"UzNDUkVUMQ==\"}}"}}},"status":{}},"timestamp":"2024-01-01T01:00:00Z"}`,
		`{"insertId":"1","protoPayload":{"@type":"type.googleapis.com/google.cloud.audit.AuditLog","methodName":"io.k8s.core.v1.secrets.create","request":{"@type":"core.k8s.io/v1.Secret","data":{"password":` + M + `},"kind":"Secret"},"resourceName":"core/v1/namespaces/a/secrets/db","response":{"@type":"core.k8s.io/v1.Secret","data":{"password":` + M + `},"metadata":{"annotations":{"kubectl.kubernetes.io/last-applied-configuration":"{\"data\":{\"password\":\"***REDACTED***\"}}"}}},"status":{}},"timestamp":"2024-01-01T01:00:00Z"}`},
	{"GKE patch of a secret", "secrets", "",
		`{"protoPayload":{"methodName":"io.k8s.core.v1.secrets.patch","request":{"@type":"k8s.io/Patch","data":{"k":"S3CRET-1"}},"resourceName":"core/v1/namespaces/a/secrets/db"}}`,
		`{"protoPayload":{"methodName":"io.k8s.core.v1.secrets.patch","request":{"@type":"k8s.io/Patch","data":{"k":` + M + `}},"resourceName":"core/v1/namespaces/a/secrets/db"}}`},
	{"GKE TokenRequest", "serviceaccounts", "token",
		`{"protoPayload":{"methodName":"io.k8s.core.v1.serviceaccounts.token.create","resourceName":"core/v1/namespaces/a/serviceaccounts/default/token","response":{"@type":"authentication.k8s.io/v1.TokenRequest","status":{"token":"S3CRET-1"}}}}`,
		`{"protoPayload":{"methodName":"io.k8s.core.v1.serviceaccounts.token.create","resourceName":"core/v1/namespaces/a/serviceaccounts/default/token","response":{"@type":"authentication.k8s.io/v1.TokenRequest","status":{"token":` + M + `}}}}`},
	{"GKE pod untouched", "pods", "",
		`{"protoPayload":{"methodName":"io.k8s.core.v1.pods.create","resourceName":"core/v1/namespaces/a/pods/p","request":{"data":{"k":"v"}}}}`,
		`{"protoPayload":{"methodName":"io.k8s.core.v1.pods.create","resourceName":"core/v1/namespaces/a/pods/p","request":{"data":{"k":"v"}}}}`},
	{"secret values elsewhere in the event are not bodies", "secrets", "",
		`{"objectRef":{"resource":"secrets"},"annotations":{"data":"x"},"responseStatus":{"data":{"k":"v"}}}`,
		`{"objectRef":{"resource":"secrets"},"annotations":{"data":"x"},"responseStatus":{"data":{"k":"v"}}}`},
}

func TestRedactShapes(t *testing.T) {
	for _, c := range redactCases {
		t.Run(c.name, func(t *testing.T) {
			in := []byte(c.in)
			out, changed, err := Redact(in, c.res, c.sub)
			if err != nil {
				t.Fatal(err)
			}
			if string(out) != c.want {
				t.Fatalf("Redact:\n got %s\nwant %s", out, c.want)
			}
			if changed != (c.in != c.want) {
				t.Errorf("changed = %v", changed)
			}
			if !changed && !sameSlice(out, in) {
				t.Errorf("unchanged output is a copy")
			}
			if !json.Valid(out) {
				t.Errorf("output is not valid JSON")
			}
			if strings.Contains(string(out), "S3CRET") || strings.Contains(string(out), "UzNDUkVU") {
				if c.in != c.want {
					t.Errorf("a secret value is left: %s", out)
				}
			}
			auto, autoChanged, err := RedactAuto(in)
			if err != nil {
				t.Fatalf("RedactAuto: %v", err)
			}
			if string(auto) != c.want || autoChanged != changed {
				t.Errorf("RedactAuto:\n got %s\nwant %s", auto, c.want)
			}
		})
	}
}

func TestRedactSkipsOtherResources(t *testing.T) {
	in := []byte(`{"objectRef":{"resource":"configmaps"},"requestObject":{"data":{"k":"v"}}}`)
	for _, rs := range [][2]string{{"configmaps", ""}, {"pods", "exec"}, {"serviceaccounts", ""}, {"", ""}, {"Secrets", ""}} {
		out, changed, err := Redact(in, rs[0], rs[1])
		if err != nil || changed || !sameSlice(out, in) {
			t.Errorf("%v: changed=%v err=%v", rs, changed, err)
		}
	}
	// Malformed input is never looked at when there is nothing to mask.
	bad := []byte(`{"requestObject":{"data":`)
	if out, changed, err := Redact(bad, "pods", ""); err != nil || changed || !sameSlice(out, bad) {
		t.Errorf("malformed pod event: changed=%v err=%v", changed, err)
	}
}

func TestRedactMalformedFailsClosed(t *testing.T) {
	for _, in := range []string{
		``,
		`[]`,
		`{"requestObject":{"data":{"k":"S3CRET"`,
		`{"requestObject":{"data":{"k":"S3CRET"}}} trailing`,
		`{"requestObject":{"data":{"k":"S3CRET"}]}`,
		`{"requestObject":{"data":{"k" "S3CRET"}}}`,
		`{"requestObject":` + strings.Repeat("[", 300) + strings.Repeat("]", 300) + `}`,
		`{"requestObject":{"metadata":nul}}`,
	} {
		out, changed, err := Redact([]byte(in), "secrets", "")
		if err == nil || out != nil || changed {
			t.Errorf("%.60q: out=%q changed=%v err=%v; want an error and no bytes", in, out, changed, err)
			continue
		}
		if !strings.HasPrefix(err.Error(), "report: ") {
			t.Errorf("error %q lacks the package prefix", err)
		}
	}
	// A whole EventList is refused rather than passed through.
	list := []byte(`{"kind":"EventList","items":[{"objectRef":{"resource":"secrets"},"requestObject":{"data":{"k":"S3CRET"}}}]}`)
	if _, _, err := RedactAuto(list); err == nil {
		t.Error("RedactAuto: EventList passed")
	}
	if _, _, err := Redact(list, "secrets", ""); err == nil {
		t.Error("Redact: EventList passed")
	}
	// RedactAuto cannot tell what a malformed event is: it fails closed too.
	if _, _, err := RedactAuto([]byte(`{"objectRef":{"resource":"secrets"`)); err == nil {
		t.Error("RedactAuto: malformed secret event passed")
	}
}

// dataLeft reports a data or stringData value in v that is not masked.
func dataLeft(v any) bool {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if k == "data" || k == "stringData" {
				switch x := x.(type) {
				case nil:
				case map[string]any:
					for _, y := range x {
						if y != nil && y != Marker {
							return true
						}
					}
				default:
					if x != Marker {
						return true
					}
				}
				continue
			}
			if dataLeft(x) {
				return true
			}
		}
	case []any:
		for _, x := range v {
			if dataLeft(x) {
				return true
			}
		}
	}
	return false
}

func FuzzRedact(f *testing.F) {
	for _, c := range redactCases {
		f.Add([]byte(c.in), uint8(0))
		f.Add([]byte(c.in), uint8(1))
	}
	for _, ev := range readLines(f, realLog)[200:] {
		f.Add(ev, uint8(0))
	}
	f.Fuzz(func(t *testing.T, in []byte, which uint8) {
		var (
			out     []byte
			changed bool
			err     error
		)
		switch which % 4 {
		case 0:
			out, changed, err = Redact(in, "secrets", "")
		case 1:
			out, changed, err = Redact(in, "serviceaccounts", "token")
		case 2:
			out, changed, err = RedactAuto(in)
		default:
			out, changed, err = Redact(in, "pods", "")
			if err != nil || changed || !sameSlice(out, in) {
				t.Fatal("a pod event was touched")
			}
		}
		if err != nil {
			if out != nil || changed {
				t.Fatal("error with output")
			}
			return
		}
		if !changed && !bytes.Equal(out, in) {
			t.Fatal("unchanged but different")
		}
		if !json.Valid(in) {
			return
		}
		if !json.Valid(out) {
			t.Fatalf("valid input, invalid output:\n%q\n%q", in, out)
		}
		if which%4 != 0 {
			return
		}
		var ev map[string]any
		if json.Unmarshal(out, &ev) != nil {
			return
		}
		for _, k := range []string{"requestObject", "responseObject"} {
			if dataLeft(ev[k]) {
				t.Fatalf("secret data left in %s:\n%q\n%q", k, in, out)
			}
		}
	})
}

func BenchmarkRedact(b *testing.B) {
	lines := readLines(b, realLog)
	pod := lines[len(lines)-4] // admin creates pod web: RequestResponse, 2 KB+
	secret := lines[217]
	b.Run("pod", func(b *testing.B) {
		b.SetBytes(int64(len(pod)))
		for b.Loop() {
			Redact(pod, "pods", "")
		}
	})
	b.Run("metadata-auto", func(b *testing.B) {
		ev := lines[len(lines)-6] // alice's forbidden list: no body, names secrets
		b.SetBytes(int64(len(ev)))
		for b.Loop() {
			RedactAuto(ev)
		}
	})
	b.Run("configmap-auto", func(b *testing.B) {
		ev := lines[0]
		b.SetBytes(int64(len(ev)))
		for b.Loop() {
			RedactAuto(ev)
		}
	})
	b.Run("pod-auto", func(b *testing.B) {
		b.SetBytes(int64(len(pod)))
		for b.Loop() {
			RedactAuto(pod)
		}
	})
	b.Run("secret", func(b *testing.B) {
		b.SetBytes(int64(len(secret)))
		for b.Loop() {
			Redact(secret, "secrets", "")
		}
	})
	b.Run("secret-auto", func(b *testing.B) {
		b.SetBytes(int64(len(secret)))
		for b.Loop() {
			RedactAuto(secret)
		}
	})
}

// TestRedactSharedSamples runs the third-party samples (GKE LogEntries,
// v1beta1 events) through RedactAuto: none carries a secret body, so all
// must come back as they are. It skips when the folder is absent.
func TestRedactSharedSamples(t *testing.T) {
	const dir = "../../shared/testdata/real"
	files, _ := filepath.Glob(filepath.Join(dir, "*.jsonl"))
	if len(files) == 0 {
		t.Skip("no shared samples in", dir)
	}
	for _, f := range files {
		for i, ev := range readLines(t, f) {
			out, changed, err := RedactAuto(ev)
			if err != nil || changed || !sameSlice(out, ev) {
				t.Errorf("%s:%d: changed=%v err=%v", filepath.Base(f), i+1, changed, err)
			}
		}
	}
}
