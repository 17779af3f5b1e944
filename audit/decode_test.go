package audit

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// memSeg is a Segment over bytes in memory.
type memSeg struct {
	*bytes.Reader
	name string
}

func (m memSeg) Name() string { return m.name }

func newMemSeg(name string, b []byte) memSeg { return memSeg{bytes.NewReader(b), name} }

// loadBytes indexes b into a new store and returns the store and the
// skipped-line errors.
func loadBytes(t testing.TB, name string, b []byte) (*Store, []*LineError) {
	t.Helper()
	s := NewStore()
	seg := newMemSeg(name, b)
	id := s.AddSegment(seg)
	var errs []*LineError
	l := NewLoader(s, id, seg, LoaderOptions{ChunkSize: 1 << 10, OnError: func(e *LineError) { errs = append(errs, e) }})
	if err := l.Load(context.Background(), int64(len(b)), true); err != nil {
		t.Fatalf("load %s: %v", name, err)
	}
	return s, errs
}

const (
	evV1            = `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"a1","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/ns1/pods/p1","verb":"get","user":{"username":"alice","uid":"1","groups":["dev","system:authenticated"]},"sourceIPs":["10.0.0.1","10.0.0.2"],"userAgent":"kubectl/v1.37.2","objectRef":{"resource":"pods","namespace":"ns1","name":"p1","apiVersion":"v1"},"responseStatus":{"metadata":{},"code":200},"requestReceivedTimestamp":"2026-11-25T10:00:00.000001Z","stageTimestamp":"2026-11-25T10:00:00.250001Z","annotations":{"authorization.k8s.io/decision":"allow","authorization.k8s.io/reason":""}}`
	evV1beta1       = `{"kind":"Event","apiVersion":"audit.k8s.io/v1beta1","metadata":{"creationTimestamp":"2017-09-11T19:55:05Z"},"level":"Metadata","timestamp":"2017-09-11T19:55:05Z","auditID":"b1","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/default/pods","verb":"list","user":{"username":"system:admin","groups":["system:masters"]},"impersonatedUser":{"username":"bob","groups":["system:authenticated"]},"sourceIPs":["::1"],"objectRef":{"resource":"pods","namespace":"default","apiVersion":"v1"},"responseStatus":{"metadata":{},"code":403}}`
	evNoAPIVersion  = `{"level":"Metadata","auditID":"c1","stage":"ResponseStarted","requestURI":"/api/v1/namespaces","verb":"list","user":{},"sourceIPs":["127.0.0.1"],"userAgent":"curl/7.88.1","objectRef":{"resource":"namespaces","apiVersion":"v1"},"responseStatus":{"metadata":{},"status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401},"requestReceivedTimestamp":"2026-11-25T10:00:01Z","stageTimestamp":"2026-11-25T10:00:01.5Z"}`
	evNonResource   = `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"d1","stage":"RequestReceived","requestURI":"/version","verb":"get","user":{"username":"system:anonymous","groups":["system:unauthenticated"]},"sourceIPs":["203.0.113.9"],"userAgent":"nmap","requestReceivedTimestamp":"2026-11-25T09:59:59Z","stageTimestamp":"2026-11-25T09:59:59Z"}`
	evExec          = `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"e1","stage":"ResponseStarted","requestURI":"/api/v1/namespaces/ns1/pods/p1/exec?command=sh","verb":"create","user":{"username":"bob"},"sourceIPs":["10.1.1.1"],"objectRef":{"resource":"pods","namespace":"ns1","name":"p1","apiVersion":"v1","subresource":"exec"},"responseStatus":{"metadata":{},"code":101},"requestReceivedTimestamp":"2026-11-25T10:00:02Z","stageTimestamp":"2026-11-25T10:00:02Z","annotations":{"authorization.k8s.io/decision":"allow"}}`
	evUnknownFields = `{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"f1","stage":"ResponseComplete","verb":"get","@timestamp":"x","kubernetes":{"host":"n1"},"requestReceivedTimestamp":"2026-11-25T10:00:03Z","shipper":[1,2,{"a":null}]}`
	evNoTime        = `{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"g1","stage":"ResponseComplete","verb":"delete","user":{"username":"carol"}}`
	evTruncatedAnn  = `{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"h1","stage":"ResponseComplete","verb":"update","requestReceivedTimestamp":"2026-11-25T10:00:04Z","annotations":{"audit.k8s.io/truncated":"true"}}`
)

func TestDecodeShapes(t *testing.T) {
	type want struct {
		user, verb, resource, subres, ns, name, ip, imp string
		code                                            uint16
		stage                                           Stage
		noTime                                          bool
		latency                                         float32
	}
	cases := []struct {
		name string
		in   string
		want []want
	}{
		{"v1", evV1, []want{{user: "alice", verb: "get", resource: "pods", ns: "ns1", name: "p1", ip: "10.0.0.1", code: 200, stage: StageResponseComplete, latency: 0.25}}},
		{"v1beta1 timestamp only", evV1beta1, []want{{user: "system:admin", imp: "bob", verb: "list", resource: "pods", ns: "default", ip: "::1", code: 403, stage: StageResponseComplete}}},
		{"no apiVersion, empty user, 401", evNoAPIVersion, []want{{verb: "list", resource: "namespaces", ip: "127.0.0.1", code: 401, stage: StageResponseStarted, latency: 0.5}}},
		{"non-resource URL, no responseStatus", evNonResource, []want{{user: "system:anonymous", verb: "get", ip: "203.0.113.9", stage: StageRequestReceived}}},
		{"exec 101 with subresource", evExec, []want{{user: "bob", verb: "create", resource: "pods", subres: "exec", ns: "ns1", name: "p1", ip: "10.1.1.1", code: 101, stage: StageResponseStarted}}},
		{"unknown fields kept", evUnknownFields, []want{{verb: "get", stage: StageResponseComplete}}},
		{"no time at all", evNoTime, []want{{user: "carol", verb: "delete", stage: StageResponseComplete, noTime: true}}},
		{"CRLF line ends", evV1 + "\r\n" + evExec + "\r\n", []want{{user: "alice", verb: "get", resource: "pods", ns: "ns1", name: "p1", ip: "10.0.0.1", code: 200, stage: StageResponseComplete, latency: 0.25}, {user: "bob", verb: "create", resource: "pods", subres: "exec", ns: "ns1", name: "p1", ip: "10.1.1.1", code: 101, stage: StageResponseStarted}}},
		{"EventList one line, items without kind", `{"kind":"EventList","apiVersion":"audit.k8s.io/v1","metadata":{},"items":[` + strings.Replace(evNoAPIVersion, "", "", 1) + `,` + evNonResource + `]}`,
			[]want{{user: "system:anonymous", verb: "get", ip: "203.0.113.9", stage: StageRequestReceived}, {verb: "list", resource: "namespaces", ip: "127.0.0.1", code: 401, stage: StageResponseStarted, latency: 0.5}}},
		{"pretty-printed EventList", prettyList(), []want{{user: "system:anonymous", verb: "get", ip: "203.0.113.9", stage: StageRequestReceived}, {user: "alice", verb: "get", resource: "pods", ns: "ns1", name: "p1", ip: "10.0.0.1", code: 200, stage: StageResponseComplete, latency: 0.25}}},
		{"JSON array of events", "[" + evV1 + ",\n" + evExec + "]\n", []want{{user: "alice", verb: "get", resource: "pods", ns: "ns1", name: "p1", ip: "10.0.0.1", code: 200, stage: StageResponseComplete, latency: 0.25}, {user: "bob", verb: "create", resource: "pods", subres: "exec", ns: "ns1", name: "p1", ip: "10.1.1.1", code: 101, stage: StageResponseStarted}}},
		{"BOM and no final newline", "\xef\xbb\xbf" + evV1, []want{{user: "alice", verb: "get", resource: "pods", ns: "ns1", name: "p1", ip: "10.0.0.1", code: 200, stage: StageResponseComplete, latency: 0.25}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, errs := loadBytes(t, "in.log", []byte(c.in))
			if len(errs) > 0 {
				t.Fatalf("unexpected errors: %v", errs)
			}
			v := s.View()
			if v.Len() != len(c.want) {
				t.Fatalf("got %d events, want %d", v.Len(), len(c.want))
			}
			for i, w := range c.want {
				r := v.At(i)
				got := want{s.Str(r.User), s.Str(r.Verb), s.Str(r.Resource), s.Str(r.Subres), s.Str(r.NS), s.Str(r.Name), s.Str(r.SourceIP), s.Str(r.ImpUser), r.Code, r.Stage, r.Flags&FlagNoTime != 0, r.Latency}
				if got != w {
					t.Errorf("event %d:\n got %+v\nwant %+v", i, got, w)
				}
				raw, err := s.Raw(r, nil)
				if err != nil || !bytes.Contains([]byte(c.in), raw) || raw[0] != '{' || raw[len(raw)-1] != '}' {
					t.Errorf("event %d raw bytes not verbatim: %q (%v)", i, raw, err)
				}
			}
		})
	}
}

func prettyList() string {
	return "{\n  \"kind\": \"EventList\",\n  \"items\": [\n    " + evV1 + ",\n    {\n      \"auditID\": \"d1\",\n      \"stage\": \"RequestReceived\",\n      \"verb\": \"get\",\n      \"user\": {\"username\": \"system:anonymous\"},\n      \"sourceIPs\": [\"203.0.113.9\"],\n      \"requestReceivedTimestamp\": \"2026-11-25T09:59:59Z\"\n    }\n  ]\n}\n"
}

func TestUnknownFieldsAndInvalidUTF8KeptVerbatim(t *testing.T) {
	ev := `{"kind":"Event","auditID":"x","stage":"ResponseComplete","verb":"get","userAgent":"bad` + "\xff\xfe" + `agent","user":{"username":"u\u00e9\n"},"extraField":{"a":[1,2,3]},"requestReceivedTimestamp":"2026-11-25T10:00:00Z"}`
	s, errs := loadBytes(t, "u.log", []byte(ev+"\n"))
	if len(errs) != 0 || s.Len() != 1 {
		t.Fatalf("errs %v len %d", errs, s.Len())
	}
	r := s.View().At(0)
	raw, _ := s.Raw(r, nil)
	if string(raw) != ev {
		t.Fatalf("raw bytes altered:\n%q\n%q", raw, ev)
	}
	if got := s.Str(r.UA); got != "bad\xff\xfeagent" {
		t.Errorf("user agent = %q, want the invalid bytes kept", got)
	}
	if got := s.Str(r.User); got != "ué\n" {
		t.Errorf("user = %q", got)
	}
	if got := Sanitize(s.Str(r.UA)); got != `bad\xff\xfeagent` {
		t.Errorf("sanitized = %q", got)
	}
}

func TestBigEventNoLineLimit(t *testing.T) {
	big := strings.Repeat("x", 5<<20)
	ev := `{"kind":"Event","auditID":"big","stage":"ResponseComplete","verb":"create","requestObject":{"data":{"blob":"` + big + `"}},"requestReceivedTimestamp":"2026-11-25T10:00:00Z"}`
	in := evV1 + "\n" + ev + "\n" + evExec + "\n"
	s, errs := loadBytes(t, "big.log", []byte(in))
	if len(errs) != 0 || s.Len() != 3 {
		t.Fatalf("errs %v len %d", errs, s.Len())
	}
	for i := range 3 {
		r := s.View().At(i)
		if s.Str(r.Verb) == "create" && r.Code == 0 && r.Len != uint32(len(ev)) {
			t.Errorf("big event length %d, want %d", r.Len, len(ev))
		}
	}
}

func TestEmptyAndWhitespaceInputs(t *testing.T) {
	for _, in := range []string{"", "\n\n", "   \r\n\t\n"} {
		s, errs := loadBytes(t, "empty.log", []byte(in))
		if s.Len() != 0 || len(errs) != 0 {
			t.Errorf("%q: len %d errs %v", in, s.Len(), errs)
		}
	}
}

func TestBadInputSkippedGoodKept(t *testing.T) {
	cases := []struct {
		name, bad string
		kind      ErrKind
		msg       string
	}{
		{"binary garbage", "\x00\x01\x02\xff\xfe binary \x00", ErrBinary, "binary"},
		{"kind is a number", `{"kind": 0}`, ErrNotEvent, "kind: expected a string"},
		{"kind is not Event", `{"kind":"Pod","apiVersion":"v1","metadata":{}}`, ErrNotEvent, `kind "Pod"`},
		{"truncated JSON mid-file", evV1[:200], ErrTruncated, "truncated"},
		{"not an object", `42`, ErrNotEvent, "not an object"},
		{"string value", `"hello"`, ErrNotEvent, "not an object (a string)"},
		{"array of numbers", `[1,2]`, ErrNotEvent, "not an object"},
		{"object without audit fields", `{"foo":"bar"}`, ErrNotEvent, "no audit Event fields"},
		{"klog line", `I1125 10:00:00.000000       1 main.go:12] starting`, ErrText, "klog"},
		{"malformed", `{"auditID":"x",,}`, ErrMalformed, "invalid character"},
		{"bad code", `{"auditID":"x","responseStatus":{"code":"200"}}`, ErrNotEvent, "responseStatus.code: expected a number"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := evV1 + "\n" + c.bad + "\n" + evExec + "\n"
			s, errs := loadBytes(t, "bad.log", []byte(in))
			if s.Len() != 2 {
				t.Errorf("kept %d events, want 2", s.Len())
			}
			if len(errs) != 1 {
				t.Fatalf("got %d errors, want 1: %v", len(errs), errs)
			}
			e := errs[0]
			if e.Line != 2 || e.Kind != c.kind || !strings.Contains(e.Error(), c.msg) || !strings.HasPrefix(e.Error(), "bad.log:2: ") {
				t.Errorf("error = %q (kind %v), want line 2 kind %v containing %q", e.Error(), e.Kind, c.kind, c.msg)
			}
			if strings.ContainsAny(e.Error(), "\x00\x1b\n") {
				t.Errorf("error line not sanitised: %q", e.Error())
			}
		})
	}
}

func TestPartialLastLine(t *testing.T) {
	in := evV1 + "\n" + evExec[:50]
	s := NewStore()
	seg := newMemSeg("p.log", []byte(in))
	var errs []*LineError
	l := NewLoader(s, s.AddSegment(seg), seg, LoaderOptions{OnError: func(e *LineError) { errs = append(errs, e) }})
	// Following: the partial line is waited for, not reported.
	if err := l.Load(context.Background(), int64(len(in)), false); err != nil {
		t.Fatal(err)
	}
	if s.Len() != 1 || len(errs) != 0 || l.Pos() != int64(len(evV1)+1) {
		t.Fatalf("follow: len %d errs %v pos %d", s.Len(), errs, l.Pos())
	}
	// At the end of input it is reported once.
	if err := l.Load(context.Background(), int64(len(in)), true); err != nil {
		t.Fatal(err)
	}
	if s.Len() != 1 || len(errs) != 1 || errs[0].Line != 2 || errs[0].Kind != ErrTruncated {
		t.Fatalf("final: len %d errs %v", s.Len(), errs)
	}
}

func TestLineNumbersAcrossChunks(t *testing.T) {
	var b strings.Builder
	for i := range 500 {
		if i%97 == 5 {
			b.WriteString("garbage line\n")
			continue
		}
		b.WriteString(strings.Replace(evV1, `"a1"`, `"id`+strings.Repeat("x", i%7)+string(rune('a'+i%26))+`"`, 1))
		b.WriteString("\n")
	}
	s, errs := loadBytes(t, "n.log", []byte(b.String()))
	var lines []int
	for _, e := range errs {
		lines = append(lines, e.Line)
	}
	want := []int{6, 103, 200, 297, 394, 491}
	if len(lines) != len(want) {
		t.Fatalf("lines %v, want %v", lines, want)
	}
	for i := range want {
		if lines[i] != want[i] {
			t.Fatalf("lines %v, want %v", lines, want)
		}
	}
	if s.Len()+int(s.Duplicates()) != 494 {
		t.Errorf("events %d + dups %d, want 494", s.Len(), s.Duplicates())
	}
}

func TestRealRecordings(t *testing.T) {
	cases := []struct {
		path   string
		events int
		check  func(t *testing.T, s *Store)
	}{
		{"../testdata/kube-apiserver-v1.37/audit.log", 228, func(t *testing.T, s *Store) {
			n401 := 0
			v := s.View()
			for i := range v.Len() {
				if r := v.At(i); r.Code == 401 {
					n401++
					if r.Stage != StageResponseStarted || r.User != 0 || r.Flags&FlagNoUser == 0 {
						t.Errorf("401 event: %+v", r)
					}
				}
			}
			if n401 == 0 {
				t.Error("no 401 found")
			}
		}},
		{"/work/shared/testdata/real/liggitt_audit2rbac_demo-v1beta1.jsonl", 757, nil},
		{"/work/shared/testdata/real/liggitt_audit2rbac_demo-v1relabeled.jsonl", 37, func(t *testing.T, s *Store) {
			for i := range s.Len() {
				if r := s.View().At(i); r.Flags&FlagNoTime != 0 {
					t.Fatalf("relabelled v1 event without time: %+v", r)
				}
			}
		}},
		{"/work/shared/testdata/real/GoogleCloudPlatform_khi_gke-cloudaudit-k8s.jsonl", 3, func(t *testing.T, s *Store) {
			r := s.View().At(0)
			if s.Str(r.Verb) != "create" || s.Str(r.Resource) != "pods" || r.Code != 200 || r.Flags&FlagGKE == 0 || s.Str(r.Cluster) == "" {
				t.Errorf("GKE event: verb %q resource %q code %d cluster %q", s.Str(r.Verb), s.Str(r.Resource), r.Code, s.Str(r.Cluster))
			}
		}},
	}
	for _, c := range cases {
		t.Run(filepath.Base(c.path), func(t *testing.T) {
			b, err := os.ReadFile(c.path)
			if os.IsNotExist(err) {
				t.Skip("real samples not present")
			}
			if err != nil {
				t.Fatal(err)
			}
			s, errs := loadBytes(t, c.path, b)
			if len(errs) != 0 {
				t.Fatalf("errors: %v", errs)
			}
			if s.Len() != c.events {
				t.Fatalf("events %d, want %d", s.Len(), c.events)
			}
			if c.check != nil {
				c.check(t, s)
			}
		})
	}
}

func TestWebhookBatchesEqualLog(t *testing.T) {
	files, _ := filepath.Glob("../testdata/kube-apiserver-v1.37/webhook-batches/*.json")
	if len(files) == 0 {
		t.Fatal("no webhook batches")
	}
	s := NewStore()
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		seg := newMemSeg(f, b)
		l := NewLoader(s, s.AddSegment(seg), seg, LoaderOptions{OnError: func(e *LineError) { t.Error(e) }})
		if err := l.Load(context.Background(), int64(len(b)), true); err != nil {
			t.Fatal(err)
		}
	}
	logBytes, _ := os.ReadFile("../testdata/kube-apiserver-v1.37/audit.log")
	seg := newMemSeg("audit.log", logBytes)
	l := NewLoader(s, s.AddSegment(seg), seg, LoaderOptions{})
	if err := l.Load(context.Background(), int64(len(logBytes)), true); err != nil {
		t.Fatal(err)
	}
	// The log lines carry kind/apiVersion and the batch items do not, so
	// they are different bytes: both are kept, 2 × 228.
	if s.Len() != 456 || s.Duplicates() != 0 {
		t.Fatalf("len %d dups %d", s.Len(), s.Duplicates())
	}
}
