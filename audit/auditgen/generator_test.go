package auditgen

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"

	auditv1 "k8s.io/apiserver/pkg/apis/audit/v1"
)

// sample generates n events with seed and returns them as JSON lines.
func sample(t testing.TB, seed int64, n int) []byte {
	t.Helper()
	var buf bytes.Buffer
	if _, err := New(Config{Seed: seed}).WriteN(&buf, n); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// decodeLines decodes every line strictly into the API server's own Event
// type and checks the invariants every event must hold.
func decodeLines(t *testing.T, data []byte) []auditv1.Event {
	t.Helper()
	var events []auditv1.Event
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var prevStage time.Time
	for line := 1; sc.Scan(); line++ {
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		dec.DisallowUnknownFields()
		var e auditv1.Event
		if err := dec.Decode(&e); err != nil {
			t.Fatalf("line %d: %v\n%s", line, err, sc.Bytes())
		}
		if dec.More() {
			t.Fatalf("line %d: more than one value", line)
		}
		if e.Kind != "Event" || e.APIVersion != "audit.k8s.io/v1" {
			t.Fatalf("line %d: kind/apiVersion %q %q", line, e.Kind, e.APIVersion)
		}
		if e.AuditID == "" || e.Verb == "" || e.RequestURI == "" || len(e.SourceIPs) == 0 {
			t.Fatalf("line %d: missing required field\n%s", line, sc.Bytes())
		}
		recv, stage := e.RequestReceivedTimestamp.Time, e.StageTimestamp.Time
		if recv.Year() != 2026 || stage.Before(recv) {
			t.Fatalf("line %d: bad times received %v stage %v", line, recv, stage)
		}
		if stage.Before(prevStage) {
			t.Fatalf("line %d: not in completion order: %v after %v", line, stage, prevStage)
		}
		prevStage = stage
		if (e.Stage == auditv1.StageRequestReceived) != (e.ResponseStatus == nil) {
			t.Fatalf("line %d: stage %s with responseStatus %v", line, e.Stage, e.ResponseStatus)
		}
		for _, obj := range [...][]byte{rawOf(e.RequestObject), rawOf(e.ResponseObject)} {
			if obj != nil && !json.Valid(obj) {
				t.Fatalf("line %d: invalid body", line)
			}
		}
		events = append(events, e)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return events
}

func TestEventsDecodeStrictly(t *testing.T) {
	data := sample(t, 1, 20_000)
	events := decodeLines(t, data)
	if len(events) != 20_000 {
		t.Fatalf("got %d events, want 20000", len(events))
	}
	avg := len(data) / len(events)
	if avg < 1200 || avg > 1800 {
		t.Errorf("average event size %d B, want about 1.3–1.7 KB", avg)
	}
}

func TestDeterministic(t *testing.T) {
	a, b := sample(t, 42, 5000), sample(t, 42, 5000)
	if !bytes.Equal(a, b) {
		t.Fatal("same seed produced different output")
	}
	if c := sample(t, 43, 5000); bytes.Equal(a, c) {
		t.Fatal("different seeds produced the same output")
	}
	var x, y []byte
	g1, g2 := New(Config{Seed: 7}), New(Config{Seed: 7})
	for i := 0; i < 1000; i++ {
		x = g1.Next(x[:0])
		y = g2.Next(y[:0])
		if !bytes.Equal(x, y) {
			t.Fatalf("event %d differs", i)
		}
		if bytes.IndexByte(x, '\n') >= 0 {
			t.Fatalf("event %d contains a newline", i)
		}
	}
}

func TestStartAndRate(t *testing.T) {
	start := time.Date(2027, 3, 1, 8, 0, 0, 0, time.UTC)
	for _, rate := range []float64{20, 200, 2000} {
		g := New(Config{Seed: 3, Start: start, Rate: rate})
		var buf []byte
		var first, last auditv1.Event
		const n = 20_000
		for i := 0; i < n; i++ {
			buf = g.Next(buf[:0])
			e := &last
			if i == 0 {
				e = &first
			}
			if err := json.Unmarshal(buf, e); err != nil {
				t.Fatal(err)
			}
		}
		if first.StageTimestamp.Time.Before(start) {
			t.Errorf("rate %v: first event at %v, before start %v", rate, first.StageTimestamp, start)
		}
		secs := last.StageTimestamp.Sub(first.StageTimestamp.Time).Seconds()
		got := n / secs
		if got < rate*0.8 || got > rate*1.25 {
			t.Errorf("rate %v: got %.1f events per simulated second", rate, got)
		}
	}
}

func TestMixHasEveryCategory(t *testing.T) {
	events := decodeLines(t, sample(t, 1, 20_000))
	has := map[string]int{}
	stages := map[string]map[auditv1.Stage]bool{}
	for _, e := range events {
		code := 0
		if e.ResponseStatus != nil {
			code = int(e.ResponseStatus.Code)
		}
		res, sub := "", ""
		if e.ObjectRef != nil {
			res, sub = e.ObjectRef.Resource, e.ObjectRef.Subresource
		}
		resp := string(rawOf(e.ResponseObject))
		switch {
		case code == 401:
			if e.User.Username == "" && e.Stage == auditv1.StageResponseStarted && e.Annotations == nil {
				has["401"]++
			}
		case code == 403:
			if e.Annotations["authorization.k8s.io/decision"] == "forbid" && e.ResponseStatus.Reason == "Forbidden" {
				has["403"]++
			}
		case code == 404, code == 409, code == 429:
			has[codeName(code)]++
		case code >= 500:
			has["5xx"]++
		}
		if res == "secrets" && e.Level == auditv1.LevelRequestResponse && strings.Contains(resp, `"data":{`) {
			has["secret-data"]++
		}
		if res == "pods" && sub == "exec" && code == 101 {
			has["exec-"+string(e.Stage)]++
		}
		if res == "serviceaccounts" && sub == "token" && strings.Contains(resp, `"token":"eyJ`) {
			has["token"]++
		}
		if e.User.Username == "system:anonymous" && e.ObjectRef == nil && len(e.User.Groups) == 1 && e.User.Groups[0] == "system:unauthenticated" {
			has["anonymous"]++
		}
		if e.ImpersonatedUser != nil {
			has["impersonation"]++
		}
		if e.Verb == "watch" && e.StageTimestamp.Sub(e.RequestReceivedTimestamp.Time) > 4*time.Minute {
			has["long-watch"]++
		}
		if len(rawOf(e.RequestObject)) >= 10<<10 || len(rawOf(e.ResponseObject)) >= 10<<10 {
			has["body>=10KB"]++
		}
		if strings.HasPrefix(e.Annotations["authorization.k8s.io/reason"], "RBAC: allowed by ") {
			has["rbac-reason"]++
		}
		if e.Annotations["apiserver.latency.k8s.io/total"] != "" {
			has["latency-annotations"]++
		}
		has[string(e.Stage)]++
		has["level-"+string(e.Level)]++
		if stages[string(e.AuditID)] == nil {
			stages[string(e.AuditID)] = map[auditv1.Stage]bool{}
		}
		stages[string(e.AuditID)][e.Stage] = true
	}
	for _, s := range stages {
		if len(s) >= 2 {
			has["shared-auditID"]++
		}
		if len(s) == 3 {
			has["three-stages"]++
		}
	}
	for _, want := range []string{"401", "403", "404", "409", "429", "5xx", "secret-data", "exec-ResponseStarted",
		"exec-ResponseComplete", "token", "anonymous", "impersonation", "long-watch", "body>=10KB", "rbac-reason",
		"latency-annotations", "RequestReceived", "ResponseStarted", "ResponseComplete", "level-Metadata",
		"level-Request", "level-RequestResponse", "shared-auditID", "three-stages"} {
		if has[want] == 0 {
			t.Errorf("no %s events in 20,000", want)
		}
	}
	t.Logf("categories: %v", has)
}

func TestWriteBytes(t *testing.T) {
	const size = 3 << 20
	var buf bytes.Buffer
	n, err := New(Config{Seed: 9}).WriteBytes(&buf, size)
	if err != nil {
		t.Fatal(err)
	}
	if buf.Len() < size || buf.Len() > size+64<<10 {
		t.Fatalf("wrote %d bytes, want at least %d and little more", buf.Len(), size)
	}
	if lines := bytes.Count(buf.Bytes(), []byte{'\n'}); lines != n {
		t.Fatalf("WriteBytes reported %d events, wrote %d lines", n, lines)
	}
	if !bytes.HasPrefix(buf.Bytes(), sample(t, 9, 100)) {
		t.Fatal("WriteBytes and WriteN disagree")
	}
}

func TestWriteErrors(t *testing.T) {
	g := New(Config{Seed: 1})
	if _, err := g.WriteN(failingWriter{}, 10); err != io.ErrShortWrite {
		t.Fatalf("WriteN error = %v", err)
	}
	if _, err := g.WriteBytes(failingWriter{}, 1<<20); err != io.ErrShortWrite {
		t.Fatalf("WriteBytes error = %v", err)
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, io.ErrShortWrite }

// BenchmarkGenerate measures generation throughput; each operation writes
// 1 MiB of events.
func BenchmarkGenerate(b *testing.B) {
	g := New(Config{Seed: 1})
	b.SetBytes(1 << 20)
	b.ReportAllocs()
	events := 0
	for b.Loop() {
		n, err := g.WriteBytes(io.Discard, 1<<20)
		if err != nil {
			b.Fatal(err)
		}
		events += n
	}
	b.ReportMetric(float64(b.N)*(1<<20)/float64(events), "B/event")
}
