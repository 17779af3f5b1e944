package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"ktrail/audit"
	"ktrail/report"
)

var updateReportGolden = flag.Bool("update-report", false, "rewrite the report golden files in report/testdata/golden")

// goldenDir holds the golden reports.
const goldenDir = "../../report/testdata/golden"

const (
	goldenNow  = "2026-11-26T09:30:00Z"
	secretB64  = "aHVudGVyMg==" // the Secret value in the recording
	evilNote1  = "exfil? <script>alert(1)</script> | piped"
	evilNote2  = "=cmd|' /C calc'!A0\nsecond line with ``` and `code`"
	evilTitle  = `Incident 42: <b>secrets</b> & "team-a"`
	createTime = "2026-11-25T20:54:58.775792Z"
	aliceTime  = "2026-11-25T20:54:58.889222Z"
)

// runReportCmd runs ktrail with the report command added to the root
// (until root.go adds it itself) and returns stdout, stderr and the exit
// code.
func runReportCmd(t *testing.T, stdin string, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	root := newRootCmd(strings.NewReader(stdin), &out, &errb)
	if c, _, err := root.Find([]string{"report"}); err != nil || c == root {
		root.AddCommand(newReportCmd(strings.NewReader(stdin), &out, &errb))
	}
	root.SetArgs(args)
	err := root.Execute()
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

// writeSession writes a session file with the golden filter, window and
// two marks with hostile notes, plus one mark of no event.
func writeSession(t *testing.T, dir string) string {
	t.Helper()
	at := func(s string) time.Time {
		tm, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	s := &report.Session{
		Filter: `namespace == "team-a"`,
		From:   "2026-11-25T20:54:58Z",
		Marks: []report.SessionMark{
			{AuditID: "acd231dd-6b3c-4e6a-9270-f615ad88b2fe", Stage: "ResponseComplete", Time: at(createTime), Note: evilNote1},
			{AuditID: "02d9744a-dcdd-4ce4-975d-f5224b175876", Stage: "ResponseComplete", Time: at(aliceTime), Note: evilNote2},
			{AuditID: "gone", Stage: "ResponseComplete", Time: at(aliceTime), Note: "not in this log"},
		},
	}
	p := filepath.Join(dir, "incident.ktrail.json")
	if err := s.Save(p); err != nil {
		t.Fatal(err)
	}
	return p
}

// fakeDetections stands in for the detection rules.
func fakeDetections(t *testing.T) {
	prev := reportDetections
	reportDetections = func(store *audit.Store, v *audit.View, ids []uint32) ([]report.Finding, error) {
		return []report.Finding{{
			RuleID: "KT-001", Name: "Secrets listed by <img src=x onerror=alert(1)>", Severity: "high",
			Reference: "https://example.com/rules/KT-001", Hits: 1,
			Alerts: []string{`alice listed secrets in team-a | =HYPERLINK("http://evil")`},
		}}, nil
	}
	t.Cleanup(func() { reportDetections = prev })
}

// checkDigest checks PATH.sha256 as sha256sum -c would.
func checkDigest(t *testing.T, path string) {
	t.Helper()
	line, err := os.ReadFile(path + ".sha256")
	if err != nil {
		t.Fatal(err)
	}
	body, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(body)
	if want := hex.EncodeToString(sum[:]) + "  " + filepath.Base(path) + "\n"; string(line) != want {
		t.Errorf("%s.sha256 = %q, want %q", path, line, want)
	}
}

func TestReportGolden(t *testing.T) {
	fakeDetections(t)
	dir := t.TempDir()
	sess := writeSession(t, dir)
	for _, f := range []string{"md", "html", "csv", "jsonl"} {
		out := filepath.Join(dir, "report."+f)
		_, stderr, code := runReportCmd(t, "", "report", "--format", f, "--out", out, "--now", goldenNow,
			"--title", evilTitle, "--session", sess, "-e", `verb != "watch"`, realLog)
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", f, code, stderr)
		}
		if !strings.Contains(stderr, "marked event not found in the input, left out: auditID gone") {
			t.Errorf("no warning for the missing mark: %s", stderr)
		}
		for _, p := range []string{out, out + ".sha256"} {
			if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != 0o600 {
				t.Errorf("%s: mode %v %v", p, fi.Mode(), err)
			}
		}
		checkDigest(t, out)
		got, _ := os.ReadFile(out)
		golden := filepath.Join(goldenDir, "report."+f)
		if *updateReportGolden {
			if err := os.MkdirAll(goldenDir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(golden, got, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatalf("%v (run go test ./cmd/ktrail -run TestReportGolden -update-report)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from %s (run with -update-report after checking the change)", out, golden)
		}
		checkEscaping(t, f, string(got))
		if strings.Contains(string(got), secretB64) {
			t.Errorf("%s: the Secret's value is not redacted", f)
		}
	}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".ktrail-") || strings.HasSuffix(e.Name(), ".tmp") {
			t.Errorf("temporary file left: %s", e.Name())
		}
	}
}

// checkEscaping checks, format by format, that the hostile notes, title
// and detection strings came out escaped.
func checkEscaping(t *testing.T, format, out string) {
	t.Helper()
	switch format {
	case "md":
		for _, want := range []string{
			`\<script\>alert(1)\</script\> \| piped`,
			"=cmd\\|' /C calc'\\!A0<br>second line with \\`\\`\\` and \\`code\\`",
			`# Incident 42: \<b\>secrets\</b\> \& "team-a"`,
			`\<img src=x onerror=alert(1)\>`,
		} {
			if !strings.Contains(out, want) {
				t.Errorf("md lacks %q", want)
			}
		}
		if strings.Contains(out, "<script>") || strings.Contains(out, " <b>") {
			t.Error("md has raw HTML from the data")
		}
	case "html":
		if strings.Contains(out, "<script") || strings.Contains(out, "<img") || strings.Contains(out, "<b>") {
			t.Error("html has raw markup from the data")
		}
		if !strings.Contains(out, `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">`) {
			t.Error("html lacks the CSP meta tag")
		}
		doc, err := html.Parse(strings.NewReader(out))
		if err != nil {
			t.Fatal(err)
		}
		var text strings.Builder
		var walk func(n *html.Node)
		walk = func(n *html.Node) {
			if n.Type == html.TextNode {
				text.WriteString(n.Data)
			}
			if n.Type == html.ElementNode {
				if n.Data == "script" || n.Data == "img" || n.Data == "link" || n.Data == "iframe" {
					t.Errorf("html has a <%s> element", n.Data)
				}
				for _, a := range n.Attr {
					if (a.Key == "href" || a.Key == "src") && !strings.HasPrefix(a.Val, "#") || strings.HasPrefix(a.Key, "on") {
						t.Errorf("html attribute %s=%q", a.Key, a.Val)
					}
				}
			}
			for c := n.FirstChild; c != nil; c = c.NextSibling {
				walk(c)
			}
		}
		walk(doc)
		for _, want := range []string{evilNote1, evilTitle, "=cmd|' /C calc'!A0"} {
			if !strings.Contains(text.String(), want) {
				t.Errorf("html text lacks %q", want)
			}
		}
	case "csv":
		recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		notes := map[string]bool{}
		for _, rec := range recs[1:] {
			notes[rec[1]] = true
			for _, c := range rec {
				if c != "" && strings.ContainsRune("=+-@\t\r", rune(c[0])) {
					t.Errorf("csv cell %q would run as a formula", c)
				}
			}
		}
		if !notes[`'=cmd|' /C calc'!A0\nsecond line with `+"``` and `code`"] || !notes[evilNote1] {
			t.Errorf("csv notes %v", notes)
		}
	case "jsonl":
		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		var h struct {
			Title      string           `json:"title"`
			Filter     string           `json:"filter"`
			Detections []report.Finding `json:"detections"`
		}
		if err := json.Unmarshal([]byte(lines[0]), &h); err != nil || h.Title != evilTitle || len(h.Detections) != 1 {
			t.Errorf("jsonl header %+v %v", h, err)
		}
		if h.Filter != `(namespace == "team-a") && (verb != "watch")` {
			t.Errorf("filter %q", h.Filter)
		}
		notes := map[string]bool{}
		for _, l := range lines[1:] {
			var ev struct {
				Marked bool   `json:"marked"`
				Note   string `json:"note"`
			}
			if err := json.Unmarshal([]byte(l), &ev); err != nil {
				t.Fatal(err)
			}
			if ev.Marked {
				notes[ev.Note] = true
			}
		}
		if !notes[evilNote1] || !notes[evilNote2] || len(notes) != 2 {
			t.Errorf("jsonl notes %v", notes)
		}
	}
}

func TestReportNoRedact(t *testing.T) {
	dir := t.TempDir()
	sess := writeSession(t, dir)
	for _, f := range []string{"md", "html", "jsonl"} {
		out := filepath.Join(dir, "r."+f)
		if _, stderr, code := runReportCmd(t, "", "report", "--no-redact", "--out", out, "--session", sess, realLog); code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		if b, _ := os.ReadFile(out); !bytes.Contains(b, []byte(secretB64)) {
			t.Errorf("%s: --no-redact hid the Secret's value", f)
		}
	}
}

func TestReportOverwrite(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "r.md")
	if _, stderr, code := runReportCmd(t, "", "report", "--out", out, "--title", "first", realLog); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	before, _ := os.ReadFile(out)
	_, stderr, code := runReportCmd(t, "", "report", "--out", out, "--title", "second", realLog)
	if code != exitUsage || !strings.Contains(stderr, "already exists") || !strings.Contains(stderr, "--overwrite") {
		t.Fatalf("second write: exit %d: %s", code, stderr)
	}
	if after, _ := os.ReadFile(out); !bytes.Equal(before, after) {
		t.Error("the refused write changed the report")
	}
	if _, stderr, code := runReportCmd(t, "", "report", "--out", out, "--title", "third", "--overwrite", realLog); code != 0 {
		t.Fatalf("--overwrite: exit %d: %s", code, stderr)
	}
	if after, _ := os.ReadFile(out); !bytes.Contains(after, []byte("# third")) {
		t.Error("--overwrite did not replace the report")
	}
	checkDigest(t, out)
}

func TestReportExitCodesAndErrors(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "none.csv")
	_, stderr, code := runReportCmd(t, "", "report", "--out", out, "-e", `user == "nobody"`, realLog)
	if code != exitNone {
		t.Fatalf("nothing matched: exit %d: %s", code, stderr)
	}
	if b, _ := os.ReadFile(out); string(b) != "marked,note,time,user,verb,resource,namespace/name,code,sourceIP\n" {
		t.Errorf("empty report %q", b)
	}
	for _, args := range [][]string{
		{"report", realLog},
		{"report", "--out", filepath.Join(dir, "x.pdf"), realLog},
		{"report", "--format", "pdf", "--out", filepath.Join(dir, "x.md"), realLog},
		{"report", "--out", filepath.Join(dir, "x.md"), "--group-by", "usr", realLog},
		{"report", "--out", filepath.Join(dir, "x.md"), "--session", filepath.Join(dir, "none.json"), realLog},
		{"report", "--out", filepath.Join(dir, "x.md"), "--since", "yesterday", realLog},
		{"report", "--out", filepath.Join(dir, "x.md"), "-e", "usr == 1", realLog},
		{"report", "--out", filepath.Join(dir, "x.md"), "--now", "today", realLog},
		{"report", "--out", filepath.Join(dir, "x.md"), "/no/such/file"},
	} {
		_, stderr, code := runReportCmd(t, "", args...)
		if code != exitUsage || stderr == "" || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
			t.Errorf("%v: exit %d stderr %q", args[1:], code, stderr)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "x.md")); err == nil {
		t.Error("a report was written despite an error")
	}
}

func TestReportStdinSkippedAndStdout(t *testing.T) {
	data, err := os.ReadFile(realLog)
	if err != nil {
		t.Fatal(err)
	}
	in := string(data) + "not json\n"
	out, stderr, code := runReportCmd(t, in, "report", "--format", "jsonl", "--out", "-", "--group-by", "user,verb", "--top", "2", "--limit", "3")
	if code != exitSkipped {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	var h struct {
		Sources []report.Source `json:"sources"`
		Matched int             `json:"matched"`
		Skipped int             `json:"skipped"`
		Pivots  []struct {
			Keys   []string          `json:"keys"`
			Groups []json.RawMessage `json:"groups"`
		} `json:"pivots"`
	}
	if err := json.Unmarshal([]byte(lines[0]), &h); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(in))
	if len(h.Sources) != 1 || h.Sources[0].Path != "stdin" || h.Sources[0].Size != int64(len(in)) || h.Sources[0].SHA256 != hex.EncodeToString(sum[:]) {
		t.Errorf("sources %+v", h.Sources)
	}
	if h.Matched != 228 || h.Skipped != 1 || len(lines) != 1+3 {
		t.Errorf("matched %d skipped %d lines %d", h.Matched, h.Skipped, len(lines))
	}
	if len(h.Pivots) != 1 || strings.Join(h.Pivots[0].Keys, ",") != "user,verb" || len(h.Pivots[0].Groups) != 2 {
		t.Errorf("pivots %+v", h.Pivots)
	}
}

func TestReportSessionInputAndFormatFromExtension(t *testing.T) {
	dir := t.TempDir()
	abs, _ := filepath.Abs(realLog)
	s := &report.Session{Input: abs, Filter: `code == 401`}
	sp := filepath.Join(dir, "s.json")
	if err := s.Save(sp); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "r.html")
	if _, stderr, code := runReportCmd(t, "", "report", "--out", out, "--session", sp); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	b, _ := os.ReadFile(out)
	if !bytes.HasPrefix(b, []byte("<!DOCTYPE html>")) || !bytes.Contains(b, []byte("code == 401")) || bytes.Contains(b, []byte("Detection rules were not run")) {
		t.Errorf("report %.300s", b)
	}
}
