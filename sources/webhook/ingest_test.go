package webhook

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestEventListAndSingleEventBytesKept(t *testing.T) {
	h := start(t, plainConfig(t))
	items := [][]byte{
		ev("id-1", "RequestReceived"),
		// Odd but valid spacing and escapes must be kept byte for byte.
		[]byte(`{ "auditID" : "id-2","stage":"ResponseComplete", "requestURI":"/api?a=1\u0026b=2", "x": [1, 2.50e3, true, null] }`),
		[]byte(`{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"id-3","stage":"Panic","annotations":{"k":"é\u2028"}}`),
	}
	if code, body := h.post("/audit", eventList(items...)); code != 200 || !strings.Contains(body, `"events":3`) {
		t.Fatalf("EventList: %d %s", code, body)
	}
	single := []byte(`{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"id-4","stage":"ResponseStarted"}`)
	if code, body := h.post("/", append(append([]byte(" \n"), single...), "\n"...)); code != 200 {
		t.Fatalf("single Event: %d %s", code, body)
	}
	noKind := ev("id-5", "ResponseComplete")
	if code, body := h.post("/audit", noKind); code != 200 {
		t.Fatalf("Event without kind: %d %s", code, body)
	}
	arr := []byte("[" + string(ev("id-6", "ResponseComplete")) + "]")
	if code, body := h.post("/audit", arr); code != 200 {
		t.Fatalf("array: %d %s", code, body)
	}
	want := []string{string(items[0]), string(items[1]), string(items[2]), string(single), string(noKind), string(ev("id-6", "ResponseComplete"))}
	got := lines(t, current(h.dir, ""))
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("lines differ from the items:\n got %q\nwant %q", got, want)
	}
	fi, err := os.Stat(current(h.dir, ""))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("current.jsonl mode: %v %v", fi.Mode(), err)
	}
	if fi, _ := os.Stat(filepath.Join(h.dir, "_")); fi.Mode().Perm() != 0o700 {
		t.Errorf("cluster dir mode %v", fi.Mode().Perm())
	}
	st := h.s.Stats()
	if st.Batches != 4 || st.Events != 6 || st.Bytes != fi.Size() {
		t.Errorf("stats %+v, file size %d", st, fi.Size())
	}
}

func TestPrettyPrintedItemIsCompacted(t *testing.T) {
	h := start(t, plainConfig(t))
	body := []byte("{\n  \"kind\": \"EventList\",\n  \"items\": [\n    {\n      \"auditID\": \"p-1\",\n      \"stage\": \"ResponseComplete\",\n      \"msg\": \"a b\"\n    },\n" +
		"    " + string(ev("p-2", "ResponseComplete")) + "\n  ]\n}\n")
	if code, b := h.post("/audit", body); code != 200 {
		t.Fatalf("%d %s", code, b)
	}
	got := lines(t, current(h.dir, ""))
	want := []string{`{"auditID":"p-1","stage":"ResponseComplete","msg":"a b"}`, string(ev("p-2", "ResponseComplete"))}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got %q, want %q", got, want)
	}
}

func gz(t testing.TB, b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

func TestGzipBody(t *testing.T) {
	h := start(t, plainConfig(t))
	items := batch("gz", 50)
	if code, body := h.post("/audit", gz(t, eventList(items...)), "Content-Encoding", "gzip"); code != 200 {
		t.Fatalf("%d %s", code, body)
	}
	got := lines(t, current(h.dir, ""))
	if len(got) != 50 || got[49] != string(items[49]) {
		t.Fatalf("got %d lines", len(got))
	}
	// Damaged gzip and unknown encodings are refused.
	if code, _ := h.post("/audit", []byte("\x1f\x8b garbage"), "Content-Encoding", "gzip"); code != 400 {
		t.Errorf("damaged gzip: %d", code)
	}
	if code, _ := h.post("/audit", eventList(ev("z", "Panic")), "Content-Encoding", "br"); code != 415 {
		t.Errorf("brotli: %d", code)
	}
	if len(lines(t, current(h.dir, ""))) != 50 {
		t.Error("refused bodies were written")
	}
}

func TestMaxBody(t *testing.T) {
	cfg := plainConfig(t)
	cfg.MaxBody = 64 << 10
	h := start(t, cfg)
	big := eventList(batch("big", 200)...) // about 90 KB
	if len(big) <= int(cfg.MaxBody) {
		t.Fatalf("test body too small: %d", len(big))
	}
	if code, body := h.post("/audit", big); code != 413 {
		t.Errorf("Content-Length over the limit: %d %s", code, body)
	}
	// Without Content-Length (chunked): cut while reading.
	req, _ := http.NewRequest(http.MethodPost, h.url+"/audit", struct{ *bytes.Reader }{bytes.NewReader(big)})
	req.ContentLength = -1
	resp, err := h.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 413 {
		t.Errorf("chunked over the limit: %d", resp.StatusCode)
	}
	// A gzip bomb: 4 MiB of blanks inside an event, compressed to ~4 KB.
	bomb := append([]byte(`{"auditID":"bomb","stage":"Panic","pad":"`), bytes.Repeat([]byte(" "), 4<<20)...)
	bomb = append(bomb, `"}`...)
	zb := gz(t, bomb)
	if len(zb) > int(cfg.MaxBody) {
		t.Fatalf("bomb compresses to %d", len(zb))
	}
	if code, body := h.post("/audit", zb, "Content-Encoding", "gzip"); code != 413 || !strings.Contains(body, "decoded") {
		t.Errorf("gzip bomb: %d %s", code, body)
	}
	if n := fileSize(current(h.dir, "")); n > 0 {
		t.Errorf("%d bytes written for refused bodies", n)
	}
	if got := h.s.Stats().Rejected[ReasonTooLarge]; got != 3 {
		t.Errorf("too_large = %d, want 3", got)
	}
	// Just under the limit is fine.
	ok := eventList(batch("ok", 100)...)
	if code, body := h.post("/audit", ok); code != 200 {
		t.Errorf("under the limit (%d bytes): %d %s", len(ok), code, body)
	}
}

func TestBadBodies(t *testing.T) {
	h := start(t, plainConfig(t))
	good := ev("good", "ResponseComplete")
	cases := []struct {
		name   string
		body   string
		code   int
		reason string
		msg    string
	}{
		{"garbage", "hello, world", 400, ReasonBadJSON, "not valid JSON"},
		{"binary", "\x00\x01\x02\x1b[31m", 400, ReasonBadJSON, "not valid JSON"},
		{"truncated", string(eventList(good))[:120], 400, ReasonBadJSON, "truncated JSON"},
		{"empty", "", 400, ReasonBadJSON, "empty body"},
		{"trailing data", string(good) + " {}", 400, ReasonBadJSON, "not valid JSON"},
		{"wrong kind Pod", `{"kind":"Pod","apiVersion":"v1","metadata":{"name":"x"}}`, 400, ReasonWrongKind, `kind "Pod"`},
		{"wrong kind Status", `{"kind":"Status","status":"Failure","code":500}`, 400, ReasonWrongKind, `kind "Status"`},
		{"wrong list kind", `{"kind":"PodList","items":[` + string(good) + `]}`, 400, ReasonWrongKind, `kind "PodList"`},
		{"number", "42", 400, ReasonWrongKind, "a number"},
		{"kind not a string", `{"kind":7}`, 400, ReasonWrongKind, "not a string"},
		{"item without auditID", string(eventList(good, []byte(`{"stage":"ResponseComplete","verb":"get"}`))), 400, ReasonBadEvent, "items[1]: auditID is missing"},
		{"item with empty stage", string(eventList([]byte(`{"auditID":"a","stage":""}`))), 400, ReasonBadEvent, "items[0]: stage is missing"},
		{"item auditID number", string(eventList([]byte(`{"auditID":5,"stage":"Panic"}`))), 400, ReasonBadEvent, "items[0]: auditID"},
		{"item not an object", string(eventList(good, []byte(`"text"`))), 400, ReasonBadEvent, "items[1] is a string"},
		{"item of another kind", string(eventList([]byte(`{"kind":"Pod","auditID":"a","stage":"Panic"}`))), 400, ReasonBadEvent, "items[0]"},
		{"nested list", string(eventList([]byte(`{"auditID":"a","stage":"Panic","items":[]}`))), 400, ReasonBadEvent, "items[0]"},
		{"items not an array", `{"kind":"EventList","items":{"auditID":"a"}}`, 400, ReasonBadEvent, "items is an object"},
		{"single without stage", `{"auditID":"a","verb":"get"}`, 400, ReasonBadEvent, "stage is missing"},
		{"object of nothing", `{}`, 400, ReasonBadEvent, "event:"},
	}
	for _, c := range cases {
		code, body := h.post("/audit", []byte(c.body))
		if code != c.code || !strings.Contains(body, c.msg) || !strings.HasPrefix(body, "webhook: ") {
			t.Errorf("%s: %d %q, want %d containing %q", c.name, code, body, c.code, c.msg)
		}
		if strings.Count(body, "\n") != 1 || strings.ContainsAny(strings.TrimSuffix(body, "\n"), "\x00\x1b\r\n") {
			t.Errorf("%s: message not one clean line: %q", c.name, body)
		}
	}
	if n := fileSize(current(h.dir, "")); n > 0 {
		t.Errorf("%d bytes written for refused batches", n)
	}
	st := h.s.Stats()
	for _, r := range []string{ReasonBadJSON, ReasonWrongKind, ReasonBadEvent} {
		if st.Rejected[r] == 0 {
			t.Errorf("no %s counted: %v", r, st.Rejected)
		}
	}
	logged := h.log.String()
	if strings.Count(logged, "REJECTED") != len(cases) || strings.Contains(logged, "\x1b") {
		t.Errorf("log has %d REJECTED lines for %d cases (or raw escapes):\n%s", strings.Count(logged, "REJECTED"), len(cases), logged)
	}
	// Empty batches are fine and write nothing.
	for _, b := range []string{`{"kind":"EventList","apiVersion":"audit.k8s.io/v1","metadata":{},"items":[]}`, `{"kind":"EventList","items":null}`, `{"kind":"EventList"}`, `[]`} {
		if code, body := h.post("/audit", []byte(b)); code != 200 || !strings.Contains(body, `"events":0`) {
			t.Errorf("empty %s: %d %s", b, code, body)
		}
	}
	if n := fileSize(current(h.dir, "")); n > 0 {
		t.Errorf("%d bytes written for empty batches", n)
	}
}

func TestClusters(t *testing.T) {
	cfg := plainConfig(t)
	cfg.ClusterHeader = "X-Ktrail-Cluster"
	h := start(t, cfg)
	post := func(path string, id string, hdr ...string) int {
		code, _ := h.post(path, eventList(ev(id, "ResponseComplete")), hdr...)
		return code
	}
	if c := post("/audit/prod-eu.1_a", "p1"); c != 200 {
		t.Fatalf("cluster path: %d", c)
	}
	if c := post("/audit", "h1", "X-Ktrail-Cluster", "staging"); c != 200 {
		t.Fatalf("cluster header: %d", c)
	}
	if c := post("/audit/prod-eu.1_a", "h2", "X-Ktrail-Cluster", "staging"); c != 200 {
		t.Fatalf("header over path: %d", c)
	}
	if c := post("/", "d1"); c != 200 {
		t.Fatalf("default: %d", c)
	}
	for _, bad := range []string{"/audit/", "/audit/a/b", "/audit/..", "/audit/.hidden", "/audit/_", "/audit/tls",
		"/audit/" + strings.Repeat("x", 64), "/audit/sp%20ace", "/audit/%2e%2e"} {
		if c := post(bad, "bad"); c != 400 {
			t.Errorf("%s: %d, want 400", bad, c)
		}
	}
	if c := post("/audit", "bad", "X-Ktrail-Cluster", "../etc"); c != 400 {
		t.Errorf("bad header: %d", c)
	}
	check := func(cluster string, ids ...string) {
		t.Helper()
		got := lines(t, current(h.dir, cluster))
		if len(got) != len(ids) {
			t.Fatalf("cluster %q: %d lines, want %d", cluster, len(got), len(ids))
		}
		for i, id := range ids {
			if got[i] != string(ev(id, "ResponseComplete")) {
				t.Errorf("cluster %q line %d = %s", cluster, i, got[i])
			}
		}
	}
	check("prod-eu.1_a", "p1")
	check("staging", "h1", "h2")
	check("", "d1")
	if n := h.s.Stats().Rejected[ReasonBadCluster]; n != 10 {
		t.Errorf("bad_cluster = %d, want 10", n)
	}
	dirs, err := ClusterDirs(h.dir)
	if err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprint(dirs)
	want := fmt.Sprint([]ClusterDir{{"", filepath.Join(h.dir, "_")}, {"prod-eu.1_a", filepath.Join(h.dir, "prod-eu.1_a")}, {"staging", filepath.Join(h.dir, "staging")}})
	if got != want {
		t.Errorf("ClusterDirs = %s, want %s", got, want)
	}
}

func TestRoutes(t *testing.T) {
	h := start(t, plainConfig(t))
	if code, body := h.get("/healthz"); code != 200 || body != "ok" {
		t.Errorf("/healthz = %d %q", code, body)
	}
	if code, _ := h.get("/audit"); code != 405 {
		t.Errorf("GET /audit = %d", code)
	}
	if code, _ := h.post("/healthz", nil); code != 405 {
		t.Errorf("POST /healthz = %d", code)
	}
	if code, _ := h.get("/nope"); code != 404 {
		t.Errorf("GET /nope = %d", code)
	}
	if code, _ := h.post("/audits", eventList(ev("a", "Panic"))); code != 404 {
		t.Errorf("POST /audits = %d", code)
	}
	if code, _ := h.post("/audit", eventList(ev("a", "Panic")), "Content-Type", "text/plain"); code != 415 {
		t.Errorf("text/plain: %d", code)
	}
	if code, _ := h.post("/audit", eventList(ev("a", "Panic")), "Content-Type", ""); code != 200 {
		t.Errorf("no Content-Type: %d", code)
	}
	if code, _ := h.post("/audit?timeout=30s", eventList(ev("b", "Panic")), "Content-Type", "application/json; charset=utf-8"); code != 200 {
		t.Errorf("with query and charset: %d", code)
	}
	st := h.s.Stats()
	if st.Rejected[ReasonMethod] != 2 || st.Rejected[ReasonNotFound] != 2 || st.Rejected[ReasonContentType] != 1 {
		t.Errorf("rejected = %v", st.Rejected)
	}
}

func TestHandlerPanicRecovered(t *testing.T) {
	h := start(t, plainConfig(t), func(s *Server) {
		s.hooks.ingest = func(r *http.Request) {
			if r.Header.Get("X-Boom") != "" {
				panic("boom")
			}
		}
	})
	if code, _ := h.post("/audit", eventList(ev("p", "Panic")), "X-Boom", "1"); code != 500 {
		t.Errorf("panicking handler: %d, want 500", code)
	}
	if code, _ := h.post("/audit", eventList(ev("p", "Panic"))); code != 200 {
		t.Errorf("after a panic: %d", code)
	}
	if !strings.Contains(h.log.String(), "boom (at ktrail/sources/webhook.TestHandlerPanicRecovered") || h.s.Stats().Rejected[ReasonPanic] != 1 {
		t.Errorf("panic not logged or counted: %s", h.log.String())
	}
}
