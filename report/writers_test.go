package report

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"ktrail/audit"
)

// memSeg is a Segment over bytes in memory.
type memSeg struct {
	*bytes.Reader
	name string
}

func (m memSeg) Name() string { return m.name }

// loadStore indexes b into a new store.
func loadStore(t testing.TB, b []byte) *audit.Store {
	t.Helper()
	s := audit.NewStore()
	seg := memSeg{bytes.NewReader(b), "test.log"}
	id := s.AddSegment(seg)
	var errs []string
	l := audit.NewLoader(s, id, seg, audit.LoaderOptions{OnError: func(e *audit.LineError) { errs = append(errs, e.Error()) }})
	if err := l.Load(context.Background(), int64(len(b)), true); err != nil {
		t.Fatal(err)
	}
	if len(errs) > 0 {
		t.Fatalf("load: %v", errs)
	}
	return s
}

// render writes every event of s, in time order, through a new writer.
func render(t testing.TB, s *audit.Store, f Format, opts Options) string {
	t.Helper()
	var buf bytes.Buffer
	w, err := NewWriter(&buf, f, s, opts)
	if err != nil {
		t.Fatal(err)
	}
	v := s.View()
	var raw []byte
	for pos := range v.Len() {
		r := v.At(pos)
		if raw, err = s.Raw(r, raw[:0]); err != nil {
			t.Fatal(err)
		}
		if err := w.Write(r, raw); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

const (
	evGet    = `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"a1","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/ns1/pods/p1","verb":"get","user":{"username":"alice","groups":["dev","system:authenticated"]},"sourceIPs":["10.0.0.1"],"userAgent":"kubectl/v1.37.2","objectRef":{"resource":"pods","namespace":"ns1","name":"p1","apiVersion":"v1"},"responseStatus":{"metadata":{},"code":200},"requestReceivedTimestamp":"2026-11-25T10:00:00.123456Z","stageTimestamp":"2026-11-25T10:00:00.373456Z"}`
	evExec   = `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"e1","stage":"ResponseStarted","requestURI":"/api/v1/namespaces/ns1/pods/p1/exec?command=sh","verb":"create","user":{"username":"bob"},"impersonatedUser":{"username":"carol"},"sourceIPs":["10.1.1.1"],"objectRef":{"resource":"pods","namespace":"ns1","name":"p1","apiVersion":"v1","subresource":"exec"},"responseStatus":{"metadata":{},"code":101},"requestReceivedTimestamp":"2026-11-25T10:00:02Z","stageTimestamp":"2026-11-25T10:00:02Z"}`
	ev401    = `{"level":"Metadata","auditID":"c1","stage":"ResponseStarted","requestURI":"/api/v1/namespaces","verb":"list","user":{},"sourceIPs":["127.0.0.1"],"userAgent":"curl/7.88.1","objectRef":{"resource":"namespaces","apiVersion":"v1"},"responseStatus":{"metadata":{},"code":401},"requestReceivedTimestamp":"2026-11-25T10:00:03Z","stageTimestamp":"2026-11-25T10:00:03.5Z"}`
	evNonRes = `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"d1","stage":"RequestReceived","requestURI":"/version","verb":"get","user":{"username":"system:serviceaccount:very-long-namespace-name:a-service-account-with-a-long-name"},"sourceIPs":["203.0.113.9"],"userAgent":"nmap","requestReceivedTimestamp":"2026-11-25T10:00:04Z","stageTimestamp":"2026-11-25T10:00:04Z"}`
	evSecret = `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"RequestResponse","auditID":"s1","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/team-a/secrets","verb":"create","user":{"username":"admin"},"sourceIPs":["127.0.0.1"],"objectRef":{"resource":"secrets","namespace":"team-a","name":"db-creds","apiVersion":"v1"},"responseStatus":{"metadata":{},"code":201},"requestObject":{"kind":"Secret","data":{"password":"aHVudGVyMg=="}},"responseObject":{"kind":"Secret","data":{"password":"aHVudGVyMg=="}},"requestReceivedTimestamp":"2026-11-25T10:00:05Z","stageTimestamp":"2026-11-25T10:00:05.001Z"}`
)

var smallLog = strings.Join([]string{evGet, evExec, ev401, evNonRes, evSecret}, "\n") + "\n"

func TestParseFormat(t *testing.T) {
	for in, want := range map[string]Format{"table": FormatTable, "": FormatTable, "JSONL": FormatJSONL, "ndjson": FormatJSONL, "json": FormatJSON, " csv ": FormatCSV} {
		if got, err := ParseFormat(in); err != nil || got != want {
			t.Errorf("ParseFormat(%q) = %v, %v", in, got, err)
		}
		if want.String() == "" {
			t.Errorf("%d has no name", want)
		}
	}
	if _, err := ParseFormat("yaml\x1b[31m"); err == nil || !strings.HasPrefix(err.Error(), "report: ") || strings.Contains(err.Error(), "\x1b") {
		t.Errorf("bad format error: %v", err)
	}
}

func TestTable(t *testing.T) {
	s := loadStore(t, []byte(smallLog))
	got := render(t, s, FormatTable, Options{UTC: true})
	want := `TIME                      USER                                      VERB    RESOURCE    NAMESPACE/NAME   CODE  SOURCEIP
2026-11-25T10:00:00.123Z  alice                                     get     pods        ns1/p1           200   10.0.0.1
2026-11-25T10:00:02.000Z  bob                                       create  pods/exec   ns1/p1           101   10.1.1.1
2026-11-25T10:00:03.000Z                                            list    namespaces                   401   127.0.0.1
2026-11-25T10:00:04.000Z  system:serviceaccount:very-long-namespa…  get                                        203.0.113.9
2026-11-25T10:00:05.000Z  admin                                     create  secrets     team-a/db-creds  201   127.0.0.1
`
	if got != want {
		t.Errorf("table:\n%s\nwant:\n%s", got, want)
	}
	// No events: nothing at all; the caller says that nothing matched.
	if got := render(t, audit.NewStore(), FormatTable, Options{}); got != "" {
		t.Errorf("empty table: %q", got)
	}
}

func TestTableColumnsAndLocalTime(t *testing.T) {
	old := time.Local
	time.Local = time.FixedZone("X", 2*3600)
	defer func() { time.Local = old }()
	s := loadStore(t, []byte(evGet+"\n"+evExec+"\n"))
	got := render(t, s, FormatTable, Options{Columns: []string{"Time", "ns", "name", "effectiveUser", "groups", "latency", "stage", "subresource", "ua"}})
	want := `TIME                           NAMESPACE  NAME  EFFECTIVEUSER  GROUPS                    LATENCY  STAGE             SUBRESOURCE  USERAGENT
2026-11-25T12:00:00.123+02:00  ns1        p1    alice          dev,system:authenticated  0.250s   ResponseComplete               kubectl/v1.37.2
2026-11-25T12:00:02.000+02:00  ns1        p1    carol                                             ResponseStarted   exec
`
	if got != want {
		t.Errorf("table:\n%s\nwant:\n%s", got, want)
	}
	_, err := NewWriter(&bytes.Buffer{}, FormatTable, s, Options{Columns: []string{"user", "bogus"}})
	if err == nil || !strings.Contains(err.Error(), `unknown column "bogus"`) {
		t.Errorf("unknown column: %v", err)
	}
	if _, err := NewWriter(&bytes.Buffer{}, FormatCSV, nil, Options{}); err == nil {
		t.Error("CSV without a store")
	}
}

// hostile holds terminal control sequences of every kind.
const hostile = "a\x1b[31mRED\x1b]52;c;ZXZpbA==\x07b\x07c\u009b2J\u202eevil\x7f\n"

func hostileStore(t *testing.T) *audit.Store {
	q, _ := json.Marshal(hostile)
	h := string(q)
	ev := `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"x1","stage":"ResponseComplete","requestURI":"/x","verb":` + h +
		`,"user":{"username":` + h + `,"groups":[` + h + `]},"impersonatedUser":{"username":` + h + `},"sourceIPs":[` + h + `],"userAgent":` + h +
		`,"objectRef":{"resource":` + h + `,"subresource":` + h + `,"namespace":` + h + `,"name":` + h + `,"apiGroup":` + h + `},"responseStatus":{"code":200},"requestReceivedTimestamp":"2026-11-25T10:00:00Z"}`
	return loadStore(t, []byte(ev+"\n"))
}

// terminalSafe reports the first byte or rune of s that a terminal would
// act on.
func terminalSafe(s string) error {
	for i, r := range s {
		switch {
		case r == '\n':
		case r < 0x20, r == 0x7f, r >= 0x80 && r < 0xa0, isBidi(r):
			return fmt.Errorf("control %U at byte %d", r, i)
		case r == utf8.RuneError:
			return fmt.Errorf("invalid UTF-8 at byte %d", i)
		}
	}
	return nil
}

func TestTableSanitises(t *testing.T) {
	s := hostileStore(t)
	got := render(t, s, FormatTable, Options{UTC: true, Columns: ColumnNames()})
	if err := terminalSafe(got); err != nil {
		t.Fatalf("%v in\n%q", err, got)
	}
	if !strings.Contains(got, `a\x1b[31mRED\x1b]52;c;`) || strings.Count(got, "\n") != 2 {
		t.Errorf("control characters not shown escaped:\n%s", got)
	}
}

func TestCSV(t *testing.T) {
	s := loadStore(t, []byte(smallLog))
	got := render(t, s, FormatCSV, Options{UTC: true})
	want := `time,user,verb,resource,namespace/name,code,sourceIP
2026-11-25T10:00:00.123456Z,alice,get,pods,ns1/p1,200,10.0.0.1
2026-11-25T10:00:02Z,bob,create,pods/exec,ns1/p1,101,10.1.1.1
2026-11-25T10:00:03Z,,list,namespaces,,401,127.0.0.1
2026-11-25T10:00:04Z,system:serviceaccount:very-long-namespace-name:a-service-account-with-a-long-name,get,,,,203.0.113.9
2026-11-25T10:00:05Z,admin,create,secrets,team-a/db-creds,201,127.0.0.1
`
	if got != want {
		t.Errorf("csv:\n%s\nwant:\n%s", got, want)
	}
	if got := render(t, audit.NewStore(), FormatCSV, Options{Columns: []string{"user", "ip"}}); got != "user,sourceIP\n" {
		t.Errorf("empty CSV: %q", got)
	}
}

func TestCSVInjectionAndControls(t *testing.T) {
	cells := map[string]string{
		`=HYPERLINK("http://x","y")`: `'=HYPERLINK("http://x","y")`,
		"+1+1":                       "'+1+1",
		"-2+3":                       "'-2+3",
		"@SUM(A1)":                   "'@SUM(A1)",
		"\t=1":                       `\t=1`, // escaped first: no longer a tab
		"a,b\"c":                     "a,b\"c",
		"plain":                      "plain",
	}
	for in, want := range cells {
		if got := csvCell(in); got != want {
			t.Errorf("csvCell(%q) = %q, want %q", in, got, want)
		}
	}
	s := hostileStore(t)
	got := render(t, s, FormatCSV, Options{Columns: ColumnNames()})
	if err := terminalSafe(got); err != nil {
		t.Fatalf("%v in\n%q", err, got)
	}
	recs, err := csv.NewReader(strings.NewReader(got)).ReadAll()
	if err != nil || len(recs) != 2 || len(recs[1]) != len(columns) {
		t.Fatalf("CSV does not parse back: %v %q", err, recs)
	}
	// A user that is a formula, through the whole writer.
	ev := strings.Replace(evGet, `"alice"`, `"=cmd|' /C calc'!A0"`, 1)
	got = render(t, loadStore(t, []byte(ev+"\n")), FormatCSV, Options{Columns: []string{"user"}})
	if got != "user\n'=cmd|' /C calc'!A0\n" {
		t.Errorf("formula user: %q", got)
	}
}

func TestJSONLRealLog(t *testing.T) {
	b, err := os.ReadFile(realLog)
	if err != nil {
		t.Fatal(err)
	}
	in := readLines(t, realLog)
	s := loadStore(t, b)
	if s.Len() != len(in) {
		t.Fatalf("store has %d events, the file %d", s.Len(), len(in))
	}
	sorted := func(out string) []string {
		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		slices.Sort(lines)
		return lines
	}
	var verbatim, masked []string
	for _, ev := range in {
		verbatim = append(verbatim, string(ev))
		masked = append(masked, strings.ReplaceAll(string(ev), `"aHVudGVyMg=="`, M))
	}
	slices.Sort(verbatim)
	slices.Sort(masked)

	plain := render(t, s, FormatJSONL, Options{})
	if !slices.Equal(sorted(plain), verbatim) {
		t.Error("jsonl without redaction is not the events byte for byte")
	}
	red := render(t, s, FormatJSONL, Options{Redact: true})
	if strings.Contains(red, "aHVudGVyMg") {
		t.Error("jsonl: the secret is in the output")
	}
	if !slices.Equal(sorted(red), masked) {
		t.Error("jsonl with redaction changed more than the secret values")
	}
	arr := render(t, s, FormatJSON, Options{Redact: true})
	var evs []json.RawMessage
	if err := json.Unmarshal([]byte(arr), &evs); err != nil || len(evs) != len(in) {
		t.Fatalf("json: %d events, %v", len(evs), err)
	}
	if strings.Contains(arr, "aHVudGVyMg") {
		t.Error("json: the secret is in the output")
	}
	if got := strings.Count(arr, "\n"); got != len(in)+2 {
		t.Errorf("json: %d lines, want one per event plus the brackets", got)
	}
}

func TestJSONFormats(t *testing.T) {
	s := loadStore(t, []byte(evGet+"\n"+evSecret+"\n"))
	maskedSecret := strings.ReplaceAll(evSecret, `"aHVudGVyMg=="`, M)
	cases := []struct {
		f    Format
		opts Options
		want string
	}{
		{FormatJSONL, Options{Redact: true}, evGet + "\n" + maskedSecret + "\n"},
		{FormatJSONL, Options{}, evGet + "\n" + evSecret + "\n"},
		{FormatJSON, Options{Redact: true}, "[\n" + evGet + ",\n" + maskedSecret + "\n]\n"},
		{FormatJSON, Options{}, "[\n" + evGet + ",\n" + evSecret + "\n]\n"},
	}
	for _, c := range cases {
		if got := render(t, s, c.f, c.opts); got != c.want {
			t.Errorf("%v %+v:\n got %s\nwant %s", c.f, c.opts, got, c.want)
		}
	}
	if got := render(t, audit.NewStore(), FormatJSON, Options{}); got != "[]\n" {
		t.Errorf("empty json: %q", got)
	}
	if got := render(t, audit.NewStore(), FormatJSONL, Options{}); got != "" {
		t.Errorf("empty jsonl: %q", got)
	}
}

func TestJSONLCompactsPrettyInput(t *testing.T) {
	var pretty bytes.Buffer
	json.Indent(&pretty, []byte(evSecret), "", "  ")
	s := loadStore(t, pretty.Bytes())
	got := render(t, s, FormatJSONL, Options{Redact: true})
	want := strings.ReplaceAll(evSecret, `"aHVudGVyMg=="`, M) + "\n"
	if got != want {
		t.Errorf("pretty input:\n got %s\nwant %s", got, want)
	}
}

func TestJSONWriterDetails(t *testing.T) {
	s := loadStore(t, []byte(evSecret+"\n"))
	r := s.View().At(0)
	var buf bytes.Buffer
	// No store: the writer finds the resource in the bytes.
	w, _ := NewWriter(&buf, FormatJSONL, nil, Options{Redact: true})
	if err := w.Write(nil, []byte(evSecret)); err != nil {
		t.Fatal(err)
	}
	// No bytes: the writer reads them from the store.
	w2, _ := NewWriter(&buf, FormatJSONL, s, Options{Redact: true})
	if err := w2.Write(r, nil); err != nil {
		t.Fatal(err)
	}
	w.Close()
	w2.Close()
	if strings.Contains(buf.String(), "aHVudGVyMg") || strings.Count(buf.String(), Marker) != 4 {
		t.Errorf("output: %s", buf.String())
	}
	if err := w.Write(nil, []byte(evSecret)); !errors.Is(err, errClosed) {
		t.Errorf("write after close: %v", err)
	}
	// A secret event that cannot be followed is not written at all.
	buf.Reset()
	w3, _ := NewWriter(&buf, FormatJSONL, s, Options{Redact: true})
	err := w3.Write(r, []byte(`{"requestObject":{"data":{"password":"aHVudGVyMg==`))
	if err == nil || !strings.Contains(err.Error(), "--no-redact") || !strings.Contains(err.Error(), "test.log") {
		t.Errorf("malformed secret: %v", err)
	}
	w3.Close()
	if buf.Len() != 0 {
		t.Errorf("malformed secret written: %q", buf.String())
	}
}

// failWriter fails every write.
type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestWriteErrors(t *testing.T) {
	s := loadStore(t, []byte(smallLog))
	for _, f := range []Format{FormatTable, FormatJSONL, FormatJSON, FormatCSV} {
		w, err := NewWriter(failWriter{}, f, s, Options{})
		if err != nil {
			t.Fatal(err)
		}
		v := s.View()
		for pos := range v.Len() {
			err = errors.Join(err, w.Write(v.At(pos), nil))
		}
		err = errors.Join(err, w.Close())
		if err == nil || !strings.Contains(err.Error(), "report: writing output: disk full") {
			t.Errorf("%v: %v", f, err)
		}
	}
}

func TestTableBatches(t *testing.T) {
	s := audit.NewStore()
	in := s.Interner()
	var buf bytes.Buffer
	w, err := NewWriter(&buf, FormatTable, s, Options{UTC: true, Columns: []string{"user", "code"}})
	if err != nil {
		t.Fatal(err)
	}
	n := batchRows*2 + 5
	for i := range n {
		user := "u"
		if i == batchRows+1 {
			user = strings.Repeat("w", 45) // wider, in the second batch
		}
		r := audit.Rec{User: in.InternString(user), Code: 200}
		if err := w.Write(&r, nil); err != nil {
			t.Fatal(err)
		}
		if held := len(w.(*tableWriter).rows); held >= batchRows {
			t.Fatalf("%d rows held", held)
		}
	}
	w.Close()
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != n+1 || strings.Count(buf.String(), "USER") != 1 {
		t.Fatalf("%d lines, want %d and one header", len(lines), n+1)
	}
	if lines[1] != "u     200" || lines[len(lines)-1] != "u                                         200" {
		t.Errorf("widths: %q / %q", lines[1], lines[len(lines)-1])
	}
	if !strings.Contains(buf.String(), strings.Repeat("w", 39)+"…  200") {
		t.Error("long user not cut to 40 cells")
	}
}

func TestTruncateWidth(t *testing.T) {
	cases := []struct {
		in   string
		max  int
		want string
	}{
		{"abcdef", 4, "abc…"},
		{"abcd", 4, "abcd"},
		{"日本語テキスト", 7, "日本語…"},
		{"e\u0301e\u0301e\u0301", 3, "e\u0301e\u0301e\u0301"},
		{"anything", 0, "anything"},
	}
	for _, c := range cases {
		if got := truncate(c.in, c.max); got != c.want || width(got) > max(c.max, width(c.in)) {
			t.Errorf("truncate(%q, %d) = %q, want %q", c.in, c.max, got, c.want)
		}
	}
}

func TestAppendJSONString(t *testing.T) {
	in := "q\"b\\s\n\t\x00\x1b\x7f\u0085\u2028\u202e<&>é\xff日"
	got := string(appendJSONString(nil, in))
	want := `"q\"b\\s\n\t\u0000\u001b\u007f\u0085\u2028\u202e<&>é\ufffd日"`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	var back string
	if err := json.Unmarshal([]byte(got), &back); err != nil || back != strings.Replace(in, "\xff", "\ufffd", 1) {
		t.Errorf("does not decode back: %q %v", back, err)
	}
}
