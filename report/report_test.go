package report

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ktrail/audit"
)

const realLogPath = "../testdata/kube-apiserver-v1.37/audit.log"

// Notes and strings that every format must escape.
const (
	nastyNote1 = "exfil? <script>alert(1)</script> | piped"
	nastyNote2 = "=cmd|' /C calc'!A0\nsecond line with ``` and `code`"
	secretB64  = "aHVudGVyMg==" // the Secret value in the recording
	createID   = "acd231dd-6b3c-4e6a-9270-f615ad88b2fe"
	aliceID    = "02d9744a-dcdd-4ce4-975d-f5224b175876"
)

// findAuditID returns the id of the event with auditID in v.
func findAuditID(t testing.TB, s *audit.Store, v *audit.View, auditID string) uint32 {
	t.Helper()
	for pos := range v.Len() {
		id := v.ID(pos)
		m, err := MarkFor(s, v.Rec(id), "")
		if err != nil {
			t.Fatal(err)
		}
		if m.AuditID == auditID {
			return id
		}
	}
	t.Fatalf("no event with auditID %s", auditID)
	return 0
}

// realReport builds a report with every section from the real recording:
// the team-a events, two marks with hostile notes, pivots, a timeline of
// every event and a detection with hostile strings.
func realReport(t testing.TB) (*Report, *audit.Store, *audit.View) {
	t.Helper()
	data, err := os.ReadFile(realLogPath)
	if err != nil {
		t.Fatal(err)
	}
	s := loadStore(t, data)
	v := s.View()
	var ids []uint32
	for pos := range v.Len() {
		if s.Str(v.At(pos).NS) == "team-a" {
			ids = append(ids, v.ID(pos))
		}
	}
	value := func(r *audit.Rec, k string) (string, error) {
		switch k {
		case "user":
			return s.Str(r.User), nil
		case "verb":
			return s.Str(r.Verb), nil
		}
		return s.Str(r.Resource), nil
	}
	p1, err := BuildPivot(v, ids, []string{"user"}, 10, value)
	if err != nil {
		t.Fatal(err)
	}
	p2, err := BuildPivot(v, ids, []string{"verb", "resource"}, 3, value)
	if err != nil {
		t.Fatal(err)
	}
	// One-second buckets over every event, split by outcome.
	step := int64(time.Second)
	first := v.At(0).Time / step * step
	counts := make([][3]uint32, (v.At(v.Len()-1).Time-first)/step+1)
	for pos := range v.Len() {
		r := v.At(pos)
		k := 0
		if r.Code >= 500 {
			k = 2
		} else if r.Code >= 400 {
			k = 1
		}
		counts[(r.Time-first)/step][k]++
	}
	rep := &Report{
		Title:     `Incident 42: <b>secrets</b> & "team-a" | ` + "`x`",
		Generated: time.Date(2026, 11, 26, 9, 30, 0, 0, time.UTC),
		Sources:   []Source{{Path: "audit.log", Size: int64(len(data)), SHA256: hex.EncodeToString(sha256Sum(data))}},
		Filter:    `namespace == "team-a"`,
		From:      time.Date(2026, 11, 25, 20, 0, 0, 0, time.UTC),
		Total:     v.Len(), Matched: len(ids), Events: ids,
		Pivots:        []Pivot{p1, p2},
		DetectionsRun: true,
		Detections: []Finding{{
			RuleID: "KT-001", Name: "Secret listed by <img src=x onerror=alert(1)>", Severity: "high",
			Reference: "https://example.com/rules/KT-001?a=1&b=<2>", Hits: 1,
			Alerts: []string{`alice listed secrets in team-a | =HYPERLINK("http://evil")`},
		}},
		Marks: []Mark{
			{ID: findAuditID(t, s, v, aliceID), Note: nastyNote2},
			{ID: findAuditID(t, s, v, createID), Note: nastyNote1},
		},
		Timeline: NewTimeline(first, step, counts),
	}
	return rep, s, v
}

func sha256Sum(b []byte) []byte {
	h := sha256.Sum256(b)
	return h[:]
}

func renderReport(t testing.TB, f ReportFormat, rep *Report, s *audit.Store, v *audit.View, opts Options) string {
	t.Helper()
	var b bytes.Buffer
	if err := WriteReport(&b, f, rep, s, v, opts); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestParseReportFormat(t *testing.T) {
	for in, want := range map[string]ReportFormat{"md": ReportMarkdown, "Markdown": ReportMarkdown, "html": ReportHTML, "csv": ReportCSV, "jsonl": ReportJSONL, "ndjson": ReportJSONL} {
		got, err := ParseReportFormat(in)
		if err != nil || got != want {
			t.Errorf("%q: %v %v", in, got, err)
		}
	}
	if _, err := ParseReportFormat("pdf"); err == nil || !strings.HasPrefix(err.Error(), "report: ") {
		t.Errorf("pdf: %v", err)
	}
}

func TestMdEscape(t *testing.T) {
	cases := map[string]string{
		"plain text 127.0.0.1":       "plain text 127.0.0.1",
		"a|b":                        `a\|b`,
		"<script>alert(1)</script>":  `\<script\>alert(1)\</script\>`,
		"x`y`":                       "x\\`y\\`",
		"*b* _i_ [l](u) ~s~ #h &lt;": `\*b\* \_i\_ \[l\](u) \~s\~ \#h \&lt;`,
		"one\ntwo\r\nthree":          "one<br>two<br>three",
		"esc\x1b[31m":                `esc\\x1b\[31m`,
		"bidi\u202eevil":             `bidi\\u202eevil`,
		`back\slash`:                 `back\\slash`,
	}
	for in, want := range cases {
		if got := MdEscape(in); got != want {
			t.Errorf("MdEscape(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMdFence(t *testing.T) {
	for in, want := range map[string]string{"{}": "```", "a ``` b": "````", "`````": "``````"} {
		if got := mdFence(in); got != want {
			t.Errorf("mdFence(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDigestLine(t *testing.T) {
	if got := DigestLine("ab", "r.md"); got != "ab  r.md\n" {
		t.Errorf("%q", got)
	}
	if got := DigestLine("ab", "a\\b\nc"); got != `\ab  a\\b\nc`+"\n" {
		t.Errorf("%q", got)
	}
}

func TestBuildPivot(t *testing.T) {
	s := loadStore(t, []byte(smallLog))
	v := s.View()
	ids := make([]uint32, v.Len())
	for i := range ids {
		ids[i] = v.ID(i)
	}
	p, err := BuildPivot(v, ids, []string{"ip"}, 2, func(r *audit.Rec, _ string) (string, error) { return s.Str(r.SourceIP), nil })
	if err != nil {
		t.Fatal(err)
	}
	if p.Distinct != 4 || len(p.Groups) != 2 || p.Others != 2 || p.Groups[0].Values[0] != "127.0.0.1" || p.Groups[0].Count != 2 {
		t.Fatalf("pivot %+v", p)
	}
	if _, err := BuildPivot(v, ids, nil, 0, nil); err == nil {
		t.Error("a pivot without fields was accepted")
	}
	_, err = BuildPivot(v, ids, []string{"x"}, 0, func(*audit.Rec, string) (string, error) { return "", errors.New("boom") })
	if err == nil || !strings.HasPrefix(err.Error(), "report: ") {
		t.Errorf("value error: %v", err)
	}
}

// nextByte returns the index of the next c in s after i, or -1.
func nextByte(s string, c byte, i int) int {
	j := strings.IndexByte(s[i+1:], c)
	if j < 0 {
		return -1
	}
	return i + 1 + j
}

// mdCells splits a Markdown table row at its unescaped pipes.
func mdCells(row string) []string {
	var cells []string
	var cur strings.Builder
	for i := 0; i < len(row); i++ {
		switch {
		case row[i] == '\\' && i+1 < len(row):
			cur.WriteByte(row[i])
			cur.WriteByte(row[i+1])
			i++
		case row[i] == '|':
			cells = append(cells, strings.TrimSpace(cur.String()))
			cur.Reset()
		default:
			cur.WriteByte(row[i])
		}
	}
	return append(cells, strings.TrimSpace(cur.String()))
}

func TestMarkdownReportEscapes(t *testing.T) {
	rep, s, v := realReport(t)
	md := renderReport(t, ReportMarkdown, rep, s, v, Options{Redact: true, UTC: true})
	// Outside fenced blocks, every < is escaped or starts a <br>.
	for i := strings.IndexByte(md, '<'); i >= 0; i = nextByte(md, '<', i) {
		if !(i > 0 && md[i-1] == '\\') && !strings.HasPrefix(md[i:], "<br>") {
			t.Errorf("raw HTML in the Markdown report: %.40q", md[i:])
		}
	}
	if !strings.Contains(md, `\<script\>alert(1)\</script\> \| piped`) {
		t.Error("note 1 not escaped as expected")
	}
	if !strings.Contains(md, "=cmd\\|' /C calc'\\!A0<br>second line with \\`\\`\\` and \\`code\\`") {
		t.Error("note 2 not escaped as expected")
	}
	// Every row of every table has as many cells as its header.
	lines := strings.Split(md, "\n")
	fence := ""
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		if fence != "" {
			if l == fence {
				fence = ""
			}
			continue
		}
		if strings.HasPrefix(l, "```") {
			fence = strings.TrimSuffix(l, "json")
			continue
		}
		if !strings.HasPrefix(l, "| ") || i+1 >= len(lines) || !strings.HasPrefix(lines[i+1], "| ---") {
			continue
		}
		n := len(mdCells(l))
		for i++; i < len(lines) && strings.HasPrefix(lines[i], "|"); i++ {
			if got := len(mdCells(lines[i])); got != n {
				t.Errorf("row with %d cells under a header of %d: %s", got, n, lines[i])
			}
		}
	}
	if fence != "" {
		t.Error("a fenced block is not closed")
	}
	if strings.Contains(md, secretB64) || !strings.Contains(md, Marker) {
		t.Error("the marked Secret's value is not redacted in the Markdown report")
	}
	if !strings.Contains(md, "| ★ M2 |") || !strings.Contains(md, "| ★ M1 |") {
		t.Error("marked events are not flagged in the events table")
	}
}

func TestCSVReportNeutralisesFormulas(t *testing.T) {
	rep, s, v := realReport(t)
	out := renderReport(t, ReportCSV, rep, s, v, Options{Redact: true, UTC: true})
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(recs[0], ",") != "marked,note,time,user,verb,resource,namespace/name,code,sourceIP" {
		t.Fatalf("header %q", recs[0])
	}
	if len(recs) != 1+len(rep.Events) {
		t.Fatalf("%d rows for %d events", len(recs)-1, len(rep.Events))
	}
	marked := 0
	for _, rec := range recs[1:] {
		for _, c := range rec {
			if c != "" && strings.ContainsRune("=+-@\t\r", rune(c[0])) {
				t.Errorf("cell %q would run as a formula", c)
			}
		}
		if rec[0] == "true" {
			marked++
			if rec[1] != "'"+strings.ReplaceAll(nastyNote2, "\n", `\n`) && rec[1] != nastyNote1 {
				t.Errorf("note cell %q", rec[1])
			}
		}
	}
	if marked != 2 {
		t.Errorf("%d marked rows", marked)
	}
}

func TestJSONLReport(t *testing.T) {
	rep, s, v := realReport(t)
	for _, redact := range []bool{true, false} {
		out := renderReport(t, ReportJSONL, rep, s, v, Options{Redact: redact, UTC: true})
		sc := bufio.NewScanner(strings.NewReader(out))
		sc.Buffer(nil, 1<<20)
		if !sc.Scan() {
			t.Fatal("empty")
		}
		var h map[string]any
		if err := json.Unmarshal(sc.Bytes(), &h); err != nil {
			t.Fatalf("header: %v", err)
		}
		for _, k := range []string{"title", "generated", "sources", "filter", "from", "to", "total", "matched", "pivots", "detections", "timeline"} {
			if _, ok := h[k]; !ok {
				t.Errorf("header lacks %q", k)
			}
		}
		if h["title"] != rep.Title || h["generated"] != "2026-11-26T09:30:00Z" || h["to"] != nil {
			t.Errorf("header %v", h)
		}
		n, notes := 0, map[string]bool{}
		for sc.Scan() {
			var ev struct {
				Marked bool            `json:"marked"`
				Note   string          `json:"note"`
				Event  json.RawMessage `json:"event"`
			}
			if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
				t.Fatalf("line %d: %v", n+2, err)
			}
			if ev.Marked {
				notes[ev.Note] = true
			}
			n++
		}
		if n != len(rep.Events) || !notes[nastyNote1] || !notes[nastyNote2] {
			t.Errorf("%d events, notes %v", n, notes)
		}
		if strings.Contains(out, secretB64) == redact {
			t.Errorf("redact %v: secret value present = %v", redact, !redact)
		}
	}
}

func TestMarkedEventsOutsideTheListAreIncluded(t *testing.T) {
	rep, s, v := realReport(t)
	outside := v.ID(0) // an API server bootstrap event, not in team-a
	rep.Marks = append(rep.Marks, Mark{ID: outside, Note: "first"}, Mark{ID: outside, Note: "again"})
	rep.Events = rep.Events[:2]
	extra := 0
	for _, id := range []uint32{outside, rep.Marks[0].ID, rep.Marks[1].ID} {
		if id != rep.Events[0] && id != rep.Events[1] {
			extra++
		}
	}
	out := renderReport(t, ReportCSV, rep, s, v, Options{UTC: true})
	recs, _ := csv.NewReader(strings.NewReader(out)).ReadAll()
	// The marked bootstrap event comes first: it is the oldest.
	if len(recs) != 1+2+extra || recs[1][0] != "true" || recs[1][1] != "first\\nagain" {
		t.Fatalf("rows %q", recs)
	}
	md := renderReport(t, ReportMarkdown, rep, s, v, Options{UTC: true})
	if !strings.Contains(md, "the first 2 of") || !strings.Contains(md, fmt.Sprintf("%d marked event(s) outside them", extra)) {
		t.Error("the Markdown report does not say what is listed")
	}
}

func TestWriteReportRejects(t *testing.T) {
	rep, s, v := realReport(t)
	var b bytes.Buffer
	if err := WriteReport(&b, ReportFormat(9), rep, s, v, Options{}); err == nil {
		t.Error("unknown format accepted")
	}
	bad := *rep
	bad.Marks = []Mark{{ID: 1 << 30}}
	if err := WriteReport(&b, ReportMarkdown, &bad, s, v, Options{}); err == nil || !strings.HasPrefix(err.Error(), "report: ") {
		t.Errorf("mark of no event: %v", err)
	}
	if err := WriteReport(nil, ReportMarkdown, rep, s, v, Options{}); err == nil {
		t.Error("nil writer accepted")
	}
}

// checkDigestFile checks a sha256sum-style file as sha256sum -c does.
func checkDigestFile(t *testing.T, sumPath string) {
	t.Helper()
	data, err := os.ReadFile(sumPath)
	if err != nil {
		t.Fatal(err)
	}
	line := string(data)
	if !strings.HasSuffix(line, "\n") || strings.Count(line, "\n") != 1 {
		t.Fatalf("digest file %q is not one line", line)
	}
	sum, name, ok := strings.Cut(strings.TrimSuffix(line, "\n"), "  ")
	if !ok || len(sum) != 64 {
		t.Fatalf("digest line %q", line)
	}
	body, err := os.ReadFile(filepath.Join(filepath.Dir(sumPath), name))
	if err != nil {
		t.Fatal(err)
	}
	if hex.EncodeToString(sha256Sum(body)) != sum {
		t.Fatalf("%s: digest does not match", name)
	}
}

// checkNoTemp fails when a temporary file was left in dir.
func checkNoTemp(t *testing.T, dir string) {
	t.Helper()
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".tmp") || strings.HasPrefix(e.Name(), ".ktrail-") {
			t.Errorf("temporary file left: %s", e.Name())
		}
	}
}

func TestSaveReport(t *testing.T) {
	rep, s, v := realReport(t)
	dir := t.TempDir()
	for _, f := range []ReportFormat{ReportMarkdown, ReportHTML, ReportCSV, ReportJSONL} {
		p := filepath.Join(dir, "r."+f.String())
		if err := SaveReport(p, f, rep, s, v, Options{Redact: true, UTC: true}, false); err != nil {
			t.Fatal(err)
		}
		for _, q := range []string{p, p + DigestSuffix} {
			fi, err := os.Stat(q)
			if err != nil || fi.Mode().Perm() != 0o600 {
				t.Errorf("%s: %v mode %v", q, err, fi.Mode())
			}
		}
		checkDigestFile(t, p+DigestSuffix)
		want := renderReport(t, f, rep, s, v, Options{Redact: true, UTC: true})
		if got, _ := os.ReadFile(p); string(got) != want {
			t.Errorf("%v: saved report differs from WriteReport's", f)
		}
		// No overwrite: refused, nothing changed.
		before, _ := os.ReadFile(p + DigestSuffix)
		rep2 := *rep
		rep2.Title = "changed"
		err := SaveReport(p, f, &rep2, s, v, Options{}, false)
		if !errors.Is(err, fs.ErrExist) || !strings.HasPrefix(err.Error(), "report: ") {
			t.Errorf("existing report: %v", err)
		}
		if after, _ := os.ReadFile(p + DigestSuffix); !bytes.Equal(before, after) {
			t.Error("the refused save changed the digest")
		}
		checkDigestFile(t, p+DigestSuffix)
		// Overwrite: replaced, digest still right.
		if err := SaveReport(p, f, &rep2, s, v, Options{Redact: true}, true); err != nil {
			t.Fatal(err)
		}
		checkDigestFile(t, p+DigestSuffix)
	}
	// A digest file alone also blocks a new report.
	p := filepath.Join(dir, "only-sum.md")
	os.WriteFile(p+DigestSuffix, []byte("x"), 0o600)
	if err := SaveReport(p, ReportMarkdown, rep, s, v, Options{}, false); !errors.Is(err, fs.ErrExist) {
		t.Errorf("digest file present: %v", err)
	}
	if _, err := os.Stat(p); err == nil {
		t.Error("report written although its digest file existed")
	}
	checkNoTemp(t, dir)
}

func TestFileAndSegmentSHA256(t *testing.T) {
	data, _ := os.ReadFile(realLogPath)
	sum, size, err := FileSHA256(realLogPath)
	if err != nil || size != int64(len(data)) || sum != hex.EncodeToString(sha256Sum(data)) {
		t.Fatalf("%s %d %v", sum, size, err)
	}
	ssum, ssize, err := SegmentSHA256(memSeg{bytes.NewReader(data), "stdin"})
	if err != nil || ssum != sum || ssize != size {
		t.Fatalf("segment: %s %d %v", ssum, ssize, err)
	}
	if _, _, err := FileSHA256(filepath.Join(t.TempDir(), "none")); err == nil || !strings.HasPrefix(err.Error(), "report: ") {
		t.Errorf("missing file: %v", err)
	}
}
