package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// runHistoryCmd runs `ktrail history` in-process (newHistoryCmd directly,
// until root.go adds it) and returns stdout, stderr and the exit code.
func runHistoryCmd(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	cmd := newHistoryCmd(strings.NewReader(""), &out, &errb)
	cmd.SetArgs(args)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	err := cmd.Execute()
	var ee *exitError
	switch {
	case err == nil:
		return out.String(), errb.String(), 0
	case errors.As(err, &ee):
		return out.String(), errb.String(), ee.code
	}
	return out.String(), errb.String() + err.Error(), exitUsage
}

func TestHistoryObjectWithDiff(t *testing.T) {
	out, stderr, code := runHistoryCmd(t, "--object", "flowschemas/probes", "--diff", realLog)
	if code != 0 {
		t.Fatalf("code %d: %s", code, stderr)
	}
	for _, want := range []string{"flowschemas/probes · 4 requests", "create  201  created", "patch status  200  patch (merged)",
		`-        "status": "True",`, `+        "status": "False",`, "by system:apiserver from 127.0.0.1"} {
		if !strings.Contains(out, want) {
			t.Fatalf("lacks %q:\n%s", want, out)
		}
	}
	plain, _, _ := runHistoryCmd(t, "--object", "flowschemas/probes", realLog)
	if strings.Contains(plain, `"status": "False"`) || !strings.Contains(plain, "created") {
		t.Fatalf("without --diff:\n%s", plain)
	}
}

func TestHistoryObjectRedactsAndJSONL(t *testing.T) {
	out, _, code := runHistoryCmd(t, "--object", "secrets/team-a/db-creds", "--diff", "-o", "jsonl", realLog)
	if code != 0 || strings.Contains(out, "aHVudGVyMg") || !strings.Contains(out, "REDACTED") {
		t.Fatalf("code %d:\n%s", code, out)
	}
	var kinds []string
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var rec struct {
			Kind, Verb, User string
		}
		if err := json.Unmarshal([]byte(l), &rec); err != nil {
			t.Fatal(err)
		}
		kinds = append(kinds, rec.Verb+":"+rec.Kind+":"+rec.User)
	}
	if strings.Join(kinds, " ") != "create:created:admin delete:deleted:admin get:failed:admin" {
		t.Fatalf("changes %v", kinds)
	}
	out, _, _ = runHistoryCmd(t, "--object", "secrets/team-a/db-creds", "--diff", "--no-redact", realLog)
	if !strings.Contains(out, "aHVudGVyMg") {
		t.Fatal("--no-redact hides the value")
	}
}

func TestHistoryUserAndRequest(t *testing.T) {
	out, _, code := runHistoryCmd(t, "--user", "alice", realLog)
	if code != 0 || !strings.Contains(out, "alice · ") || !strings.Contains(out, "1 denied") {
		t.Fatalf("user: code %d\n%s", code, out)
	}
	out, _, code = runHistoryCmd(t, "--demo", "--user", "bob@example.com", "-o", "jsonl")
	if code != 0 || !strings.Contains(out, `"user":"bob@example.com"`) {
		t.Fatalf("user jsonl: code %d\n%.300s", code, out)
	}
	id := firstAuditID(t, "exec")
	out, _, code = runHistoryCmd(t, "--demo", "--request", id)
	if code != 0 || !strings.Contains(out, "ResponseStarted") || !strings.Contains(out, "ResponseComplete") || !strings.Contains(out, "request "+id) {
		t.Fatalf("request: code %d\n%s", code, out)
	}
	if _, _, code := runHistoryCmd(t, "--demo", "--request", "no-such-id"); code != exitNone {
		t.Fatalf("unknown request: code %d", code)
	}
	if _, _, code := runHistoryCmd(t, "--demo", "--user", "x", "--object", "pods/a/b"); code != exitUsage {
		t.Fatalf("two targets: code %d", code)
	}
	if _, _, code := runHistoryCmd(t, "--demo", "--object", "pods"); code != exitUsage {
		t.Fatalf("bad object: code %d", code)
	}
}

// firstAuditID is the auditID of the attacker's first exec in the demo.
func firstAuditID(t *testing.T, sub string) string {
	t.Helper()
	out, _, _ := run(t, "", "query", "--demo", "-o", "jsonl", "--limit", "1", "-e", `subresource == "`+sub+`" && sourceIP == "203.0.113.45"`)
	var e struct{ AuditID string }
	if err := json.Unmarshal([]byte(out), &e); err != nil || e.AuditID == "" {
		t.Fatalf("%v %q", err, out)
	}
	return e.AuditID
}
