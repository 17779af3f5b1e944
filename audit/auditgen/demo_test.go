package auditgen

import (
	"bytes"
	"compress/gzip"
	"io"
	"strings"
	"testing"
	"time"

	auditv1 "k8s.io/apiserver/pkg/apis/audit/v1"
)

// demoEvents decompresses the embedded demo and checks it is what
// WriteDemo writes now.
func demoEvents(t *testing.T) []auditv1.Event {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(Demo()))
	if err != nil {
		t.Fatalf("Demo() is not gzip: %v", err)
	}
	if !zr.ModTime.IsZero() || zr.Name != "" {
		t.Errorf("gzip header carries mtime %v / name %q; want neither", zr.ModTime, zr.Name)
	}
	embedded, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	var fresh bytes.Buffer
	if err := WriteDemo(&fresh); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(embedded, fresh.Bytes()) {
		t.Fatal("demo.jsonl.gz is stale: run go generate ./audit/auditgen")
	}
	if len(Demo()) > 1_500_000 {
		t.Errorf("demo.jsonl.gz is %d bytes, want at most 1.5 MB", len(Demo()))
	}
	return decodeLines(t, embedded)
}

func TestDemo(t *testing.T) {
	events := demoEvents(t)
	if n := len(events); n < 6000 || n > 10_000 {
		t.Errorf("demo has %d events, want 6,000–10,000", n)
	}
	start, end, gapFrom, gapTo := demoWindow()
	first, last := events[0].StageTimestamp.Time, events[len(events)-1].StageTimestamp.Time
	if first.UnixMicro() < start || last.UnixMicro() >= end || last.UnixMicro() < end-60e6 {
		t.Errorf("demo spans %v to %v", first, last)
	}
	var beforeGap, afterGap time.Time
	for _, e := range events {
		at := e.StageTimestamp.UnixMicro()
		if at >= gapFrom && at < gapTo {
			t.Fatalf("event inside the audit gap at %v", e.StageTimestamp)
		}
		if at < gapFrom {
			beforeGap = e.StageTimestamp.Time
		} else if afterGap.IsZero() {
			afterGap = e.StageTimestamp.Time
		}
	}
	if gap := afterGap.Sub(beforeGap); gap < 10*time.Minute || gap > 11*time.Minute {
		t.Errorf("audit gap is %v (%v to %v), want about 10 minutes", gap, beforeGap, afterGap)
	}
}

func TestDemoStory(t *testing.T) {
	events := demoEvents(t)
	fromAttacker := func(e *auditv1.Event) bool { return len(e.SourceIPs) == 1 && e.SourceIPs[0] == attackerIP }
	steps := []struct {
		name string
		want int
		ok   func(e *auditv1.Event) bool
	}{
		{"anonymous probes denied", 6, func(e *auditv1.Event) bool {
			return fromAttacker(e) && e.User.Username == "system:anonymous" && e.Annotations["authorization.k8s.io/decision"] == "forbid"
		}},
		{"guessed tokens rejected", 3, func(e *auditv1.Event) bool {
			return fromAttacker(e) && e.ResponseStatus != nil && e.ResponseStatus.Code == 401 && e.User.Username == ""
		}},
		{"leaked token used with python-requests", 6, func(e *auditv1.Event) bool {
			return fromAttacker(e) && e.User.Username == "system:serviceaccount:ci:deployer" && e.UserAgent == attackerUA &&
				e.Stage == auditv1.StageResponseComplete && e.Annotations["authentication.k8s.io/legacy-token"] != ""
		}},
		{"secrets listed in all namespaces", 1, func(e *auditv1.Event) bool {
			return fromAttacker(e) && e.Verb == "list" && e.ObjectRef != nil && e.ObjectRef.Resource == "secrets" &&
				e.ObjectRef.Namespace == "" && strings.Contains(string(rawOf(e.ResponseObject)), `"name":"db-credentials"`)
		}},
		{"prod/db-credentials read", 1, func(e *auditv1.Event) bool {
			return fromAttacker(e) && e.Verb == "get" && e.ObjectRef != nil && e.ObjectRef.Namespace == "prod" &&
				e.ObjectRef.Name == leakedSecret && strings.Contains(string(rawOf(e.ResponseObject)), `"DB_PASSWORD":"`)
		}},
		{"backdoor binding created", 1, func(e *auditv1.Event) bool {
			return e.Verb == "create" && e.ObjectRef != nil && e.ObjectRef.Resource == "clusterrolebindings" &&
				e.ObjectRef.Name == backdoorCRB && e.ResponseStatus != nil && e.ResponseStatus.Code == 201 &&
				strings.Contains(string(rawOf(e.RequestObject)), `"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"cluster-admin"}`)
		}},
		{"exec into payments, both stages", 2, func(e *auditv1.Event) bool {
			return fromAttacker(e) && e.ObjectRef != nil && e.ObjectRef.Subresource == "exec" &&
				strings.HasPrefix(e.ObjectRef.Name, "payments-7d9f8c6b5d-") && e.ResponseStatus != nil && e.ResponseStatus.Code == 101 &&
				strings.Contains(e.Annotations["authorization.k8s.io/reason"], backdoorCRB)
		}},
		{"privileged pod with the host's root", 1, func(e *auditv1.Event) bool {
			body := string(rawOf(e.RequestObject))
			return e.Verb == "create" && e.ObjectRef != nil && e.ObjectRef.Namespace == "kube-system" && e.ObjectRef.Name == helperPod &&
				strings.Contains(body, `"privileged":true`) && strings.Contains(body, `"hostPath":{"path":"/"`)
		}},
		{"exec into the privileged pod, never completed", 1, func(e *auditv1.Event) bool {
			return e.ObjectRef != nil && e.ObjectRef.Name == helperPod && e.ObjectRef.Subresource == "exec" &&
				e.Stage == auditv1.StageResponseStarted
		}},
		{"events in prod deleted", 3, func(e *auditv1.Event) bool {
			return fromAttacker(e) && (e.Verb == "deletecollection" || e.Verb == "delete") && e.ObjectRef != nil &&
				e.ObjectRef.Resource == "events" && e.ObjectRef.Namespace == "prod" && e.Stage == auditv1.StageResponseComplete
		}},
		{"year-long token after the gap", 1, func(e *auditv1.Event) bool {
			return fromAttacker(e) && e.ObjectRef != nil && e.ObjectRef.Subresource == "token" &&
				strings.Contains(string(rawOf(e.ResponseObject)), `"token":"eyJ`)
		}},
	}
	counts := make([]int, len(steps))
	for i := range events {
		for j, s := range steps {
			if s.ok(&events[i]) {
				counts[j]++
			}
		}
		e := &events[i]
		if e.ObjectRef != nil && e.ObjectRef.Name == helperPod && e.ObjectRef.Subresource == "exec" && e.Stage == auditv1.StageResponseComplete {
			t.Error("the exec into the privileged pod completed; its end should fall in the audit gap")
		}
	}
	for j, s := range steps {
		if counts[j] != s.want {
			t.Errorf("%s: %d events, want %d", s.name, counts[j], s.want)
		}
	}
}
