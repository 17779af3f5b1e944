package history

import (
	"bytes"
	"context"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"ktrail/audit"
	"ktrail/audit/auditgen"
	"ktrail/sources"
)

func load(t *testing.T, data []byte) *audit.Store {
	t.Helper()
	s := audit.NewStore()
	set, err := sources.Open(s, nil, bytes.NewReader(data), sources.Options{SpoolDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if err := set.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { set.Close() })
	return s
}

func realLog(t *testing.T) *audit.Store {
	b, err := os.ReadFile("../../testdata/kube-apiserver-v1.37/audit.log")
	if err != nil {
		t.Fatal(err)
	}
	return load(t, b)
}

func objectHistory(t *testing.T, s *audit.Store, obj string, redact bool) ([]Change, []Line) {
	t.Helper()
	o, err := ParseObject(obj)
	if err != nil {
		t.Fatal(err)
	}
	v := s.View()
	ids, err := Eval(context.Background(), s, v, o.Filter(), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	ch, err := ObjectHistory(context.Background(), s, v, ids, Options{Redact: redact})
	if err != nil {
		t.Fatal(err)
	}
	return ch, ObjectDoc(o, ch, time.UTC)
}

func TestParseObject(t *testing.T) {
	for in, want := range map[string]Object{
		"pods/shop/web": {"pods", "shop", "web"},
		"nodes/cp-1":    {"nodes", "", "cp-1"},
	} {
		got, err := ParseObject(in)
		if err != nil || got != want || got.String() != in {
			t.Errorf("%s: %+v %v", in, got, err)
		}
	}
	for _, bad := range []string{"pods", "pods//web", "a/b/c/d", ""} {
		if _, err := ParseObject(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if f := (Object{"pods", "", "x"}).Filter(); f != `resource == "pods" && namespace == "" && name == "x"` {
		t.Errorf("filter %s", f)
	}
}

// The flowschema "probes" of the real API server log is created, then its
// status is patched: Dangling True, True again, then False.
func TestObjectHistoryRealStatusChange(t *testing.T) {
	s := realLog(t)
	ch, doc := objectHistory(t, s, "flowschemas/probes", true)
	if len(ch) != 4 {
		t.Fatalf("%d requests, want 4 (create + 3 status patches)", len(ch))
	}
	if ch[0].Verb != "create" || ch[0].Kind != "created" || len(ch[0].Diff) == 0 {
		t.Fatalf("first: %+v", ch[0])
	}
	if ch[1].Sub != "status" || ch[1].User != "system:apiserver" {
		t.Fatalf("second: %+v", ch[1])
	}
	last := strings.Join(ch[3].Diff, "\n")
	if !regexp.MustCompile(`(?m)^-\s+"status": "True",$`).MatchString(last) || !regexp.MustCompile(`(?m)^\+\s+"status": "False",$`).MatchString(last) {
		t.Fatalf("the last diff does not show Dangling True → False:\n%s", last)
	}
	text := PlainText(doc)
	if !strings.Contains(text, "flowschemas/probes · 4 requests") || strings.Contains(text, "managedFields") {
		t.Fatalf("doc:\n%s", text)
	}
}

// The secret db-creds is created with its data in the response, then
// deleted, then read (404). Redacted, the value never shows.
func TestObjectHistoryRealSecretRedacted(t *testing.T) {
	s := realLog(t)
	ch, doc := objectHistory(t, s, "secrets/team-a/db-creds", true)
	kinds := []string{}
	for _, c := range ch {
		kinds = append(kinds, c.Verb+":"+c.Kind)
	}
	if strings.Join(kinds, " ") != "create:created delete:deleted get:failed" {
		t.Fatalf("kinds %v", kinds)
	}
	text := PlainText(doc)
	if strings.Contains(text, "aHVudGVyMg") || !strings.Contains(text, "REDACTED") {
		t.Fatalf("redaction:\n%s", text)
	}
	ch, _ = objectHistory(t, s, "secrets/team-a/db-creds", false)
	if !strings.Contains(strings.Join(ch[0].Diff, "\n"), "aHVudGVyMg") {
		t.Fatal("without redaction the created secret's data is not shown")
	}
}

// In the demo, ci:deployer patches the image of staging/checkout; the
// diffs come from the response bodies.
func TestObjectHistoryDemoImageBumps(t *testing.T) {
	s := load(t, auditgen.Demo())
	ch, _ := objectHistory(t, s, "deployments/staging/checkout", true)
	images := 0
	for _, c := range ch {
		d := strings.Join(c.Diff, "\n")
		if c.User == "system:serviceaccount:ci:deployer" && c.Verb == "patch" && strings.Contains(strings.Join(c.Patch, "\n"), `spec.template.spec.containers[0].image = "registry.example.com/shop/checkout:`) {
			images++
		}
		if strings.Contains(d, "resourceVersion") || strings.Contains(d, "managedFields") {
			t.Fatalf("noise in a diff:\n%s", d)
		}
	}
	if images < 3 {
		t.Fatalf("%d image changes by ci:deployer found", images)
	}
}

func TestMergePatchAndNormalize(t *testing.T) {
	prev := map[string]any{"kind": "X", "metadata": map[string]any{"name": "a", "resourceVersion": "1"}, "spec": map[string]any{"a": 1.0, "b": 2.0}}
	got := mergePatch(clone(prev), map[string]any{"$setElementOrder/x": []any{}, "spec": map[string]any{"a": nil, "c": 3.0}})
	text := pretty(got)
	if strings.Contains(text, `"a": 1`) || !strings.Contains(text, `"c": 3`) || strings.Contains(text, "resourceVersion") || strings.Contains(text, "$set") {
		t.Fatalf("merged:\n%s", text)
	}
	if d := unified("a\nb\n", "a\nc\n", Options{Context: 3, MaxDiff: 400}); strings.Join(d, "|") != "@@ -1,2 +1,2 @@| a|-b|+c" {
		t.Fatalf("diff %q", d)
	}
}

func TestJoinRequestAndUserActivity(t *testing.T) {
	s := load(t, auditgen.Demo())
	v := s.View()
	// The exec into payments: ResponseStarted then ResponseComplete.
	ids, err := Eval(context.Background(), s, v, `resource == "pods" && subresource == "exec" && sourceIP == "203.0.113.45" && namespace == "prod"`, time.Time{})
	if err != nil || len(ids) == 0 {
		t.Fatal(err, len(ids))
	}
	stages, err := RequestIDs(context.Background(), v, ids[0])
	if err != nil {
		t.Fatal(err)
	}
	q, err := JoinRequest(s, v, stages, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(q.Stages) != 3 || q.Stages[0].Stage != "RequestReceived" || q.Stages[1].Stage != "ResponseStarted" || q.Stages[2].Stage != "ResponseComplete" {
		t.Fatalf("stages %+v", q.Stages)
	}
	if q.Latency() < time.Minute {
		t.Fatalf("latency %v (the exec lasted minutes)", q.Latency())
	}
	text := PlainText(RequestDoc(q, time.UTC))
	if !strings.Contains(text, "ResponseStarted") || !strings.Contains(text, "exec") {
		t.Fatalf("doc:\n%s", text)
	}
	uids, _ := Eval(context.Background(), s, v, `user == "bob@example.com"`, time.Time{})
	a := UserActivity(s, v, uids, "bob@example.com")
	sum := 0
	for _, b := range a.Buckets {
		for _, n := range b.Verbs {
			sum += n
		}
	}
	if a.Total != len(uids) || sum != len(uids) || a.Step < time.Minute {
		t.Fatalf("activity total %d sum %d ids %d step %v", a.Total, sum, len(uids), a.Step)
	}
	if doc := PlainText(UserDoc(a, time.UTC)); !strings.Contains(doc, "by verb") {
		t.Fatalf("doc:\n%s", doc)
	}
}
