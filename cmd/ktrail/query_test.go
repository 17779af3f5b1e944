package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const realLog = "../../testdata/kube-apiserver-v1.37/audit.log"

// run executes ktrail in-process and returns stdout, stderr and the exit code.
func run(t *testing.T, stdin string, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	cmd := newRootCmd(strings.NewReader(stdin), &out, &errb)
	cmd.SetArgs(args)
	err := cmd.Execute()
	code := 0
	var ee *exitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		code = ee.code
	default:
		errb.WriteString(err.Error())
		code = exitUsage
	}
	return out.String(), errb.String(), code
}

func TestQueryCountsAndExitCodes(t *testing.T) {
	cases := []struct {
		args []string
		out  string
		code int
	}{
		{[]string{"query", "--count", realLog}, "228\n", 0},
		{[]string{"query", "--count", "-e", `verb == "create"`, "-e", `resource == "secrets"`, realLog}, "1\n", 0},
		{[]string{"query", "--count", "-e", `code == 401`, realLog}, "1\n", 0},
		{[]string{"query", "--count", "-e", `user == "nobody"`, realLog}, "0\n", 1},
		{[]string{"query", "--count", "--requests", "-e", `resource == "secrets"`, realLog}, "", 0},
	}
	for _, c := range cases {
		out, stderr, code := run(t, "", c.args...)
		if code != c.code || (c.out != "" && out != c.out) {
			t.Errorf("%v: out %q code %d (stderr %q), want %q code %d", c.args, out, code, stderr, c.out, c.code)
		}
	}
}

func TestQueryStdinAndSkippedLines(t *testing.T) {
	data, err := os.ReadFile(realLog)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(data), "\n")
	in := lines[0] + "I1125 10:00:00.000000 1 main.go:1] klog noise\n" + "I1125 more noise\n" + lines[1] + "{\"kind\": 0}\n" + lines[2]
	out, stderr, code := run(t, in, "query", "--count")
	if out != "3\n" || code != exitSkipped {
		t.Fatalf("out %q code %d stderr %q", out, code, stderr)
	}
	for _, want := range []string{"stdin:2: skipped non-JSON line (a klog line)", "stdin:5: kind: expected a string", "skipped 3 input line(s)"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if strings.Count(stderr, "klog") != 1 {
		t.Errorf("klog lines reported more than once:\n%s", stderr)
	}
}

func TestQueryStrictStops(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "a.log")
	data, _ := os.ReadFile(realLog)
	os.WriteFile(p, append([]byte("garbage\n"), data...), 0o600)
	_, _, code := run(t, "", "query", "--strict", "--count", p)
	if code != exitUsage {
		t.Fatalf("strict: code %d, want 2", code)
	}
}

func TestQueryErrorsAreOneLine(t *testing.T) {
	for _, args := range [][]string{
		{"query", "/no/such/file"},
		{"query", "-e", "usr == 1", realLog},
		{"query", "--since", "yesterday", realLog},
		{"query", "-o", "xml", realLog},
		{"query", t.TempDir()},
	} {
		_, stderr, code := run(t, "", args...)
		if code != exitUsage || strings.Count(strings.TrimSpace(stderr), "\n") != 0 || stderr == "" {
			t.Errorf("%v: code %d stderr %q", args, code, stderr)
		}
	}
}

func TestQueryRedactsByDefault(t *testing.T) {
	out, _, _ := run(t, "", "query", "-o", "jsonl", "-e", `resource == "secrets"`, realLog)
	if strings.Contains(out, "aHVudGVyMg==") || !strings.Contains(out, "REDACTED") {
		t.Fatalf("secret value not masked:\n%s", out)
	}
	out, _, _ = run(t, "", "query", "--no-redact", "-o", "jsonl", "-e", `resource == "secrets"`, realLog)
	if !strings.Contains(out, "aHVudGVyMg==") {
		t.Fatal("--no-redact masked the value")
	}
	// Events with nothing to mask are byte for byte.
	out, _, _ = run(t, "", "query", "-o", "jsonl", "-e", `resource != "secrets"`, realLog)
	data, _ := os.ReadFile(realLog)
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if !bytes.Contains(data, []byte(line+"\n")) {
			t.Fatalf("event altered: %.200s", line)
		}
	}
}

func TestQueryGroupBySinceAndSort(t *testing.T) {
	out, _, code := run(t, "", "query", "--group-by", "user", "-o", "csv", "-e", `code >= 400`, realLog)
	if code != 0 || !strings.HasPrefix(out, "user,count,first,last\n") || !strings.Contains(out, "alice,1,") {
		t.Fatalf("group-by csv: %q", out)
	}
	out, _, _ = run(t, "", "query", "--count", "--now", "2026-11-25T20:54:59.1Z", "--since", "1s", realLog)
	if out == "228\n" || out == "0\n" {
		t.Errorf("--since 1s counted %q", out)
	}
	a, _, _ := run(t, "", "query", "-o", "jsonl", "--limit", "1", "--sort", "-time", realLog)
	b, _, _ := run(t, "", "query", "-o", "jsonl", "--sort", "time", realLog)
	lines := strings.Split(strings.TrimSpace(b), "\n")
	if strings.TrimSpace(a) != lines[len(lines)-1] {
		t.Error("--sort -time --limit 1 is not the newest event")
	}
}

func TestDemoAndGen(t *testing.T) {
	out, _, code := run(t, "", "demo", "--count", "-e", `sourceIP == "203.0.113.45"`)
	if code != 0 || out == "0\n" {
		t.Fatalf("demo: %q %d", out, code)
	}
	// Relative times on the demo are measured from its last event.
	out, _, _ = run(t, "", "demo", "--count", "--since", "4h")
	all, _, _ := run(t, "", "demo", "--count")
	if out != all {
		t.Errorf("--since 4h on the demo = %q, all = %q", out, all)
	}
	p := filepath.Join(t.TempDir(), "g.log")
	if _, stderr, code := run(t, "", "gen", "--events", "500", "--out", p); code != 0 {
		t.Fatal(stderr)
	}
	out, _, _ = run(t, "", "query", "--count", p)
	if out != "500\n" {
		t.Errorf("generated 500 events, counted %q", out)
	}
	if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o600 {
		t.Errorf("gen output mode %v", fi.Mode())
	}
}
