package sources

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"

	"ktrail/audit"
)

const realLog = "../testdata/kube-apiserver-v1.37/audit.log"

// realLines returns the lines of the real recording, each with its "\n".
func realLines(t *testing.T) [][]byte {
	t.Helper()
	b, err := os.ReadFile(realLog)
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.SplitAfter(b, []byte("\n"))
	if len(lines[len(lines)-1]) == 0 {
		lines = lines[:len(lines)-1]
	}
	if len(lines) != 228 {
		t.Fatalf("recording has %d lines, want 228", len(lines))
	}
	return lines
}

func join(lines [][]byte) []byte { return bytes.Join(lines, nil) }

func gz(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	if _, err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func writeFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func appendFile(t *testing.T, path string, b []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(b); err != nil {
		t.Fatal(err)
	}
}

// event returns one small audit event line with a unique id.
func event(id string, at time.Time, extra string) string {
	ts := at.UTC().Format(time.RFC3339Nano)
	return fmt.Sprintf(`{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"%s","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/ns/pods","verb":"list","user":{"username":"alice"},"sourceIPs":["10.0.0.1"],"requestReceivedTimestamp":"%s","stageTimestamp":"%s"%s}`+"\n", id, ts, ts, extra)
}

// events returns n event lines with ids prefix-0… one second apart.
func events(prefix string, n int, start time.Time) []byte {
	var b strings.Builder
	for i := range n {
		b.WriteString(event(fmt.Sprintf("%s-%d", prefix, i), start.Add(time.Duration(i)*time.Second), ""))
	}
	return []byte(b.String())
}

var t0 = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)

// collector records what a Set reports.
type collector struct {
	mu      sync.Mutex
	errs    []*audit.LineError
	notices []Notice
}

func (c *collector) options(o Options) Options {
	o.OnError = func(e *audit.LineError) { c.mu.Lock(); c.errs = append(c.errs, e); c.mu.Unlock() }
	o.OnNotice = func(n Notice) { c.mu.Lock(); c.notices = append(c.notices, n); c.mu.Unlock() }
	return o
}

func (c *collector) lineErrors() []*audit.LineError {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.errs)
}

// hasNotice reports whether a notice containing sub was received.
func (c *collector) hasNotice(sub string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, n := range c.notices {
		if strings.Contains(n.String(), sub) {
			return true
		}
	}
	return false
}

func (c *collector) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var b strings.Builder
	for _, e := range c.errs {
		fmt.Fprintf(&b, "error %v (kind %v)\n", e, e.Kind)
	}
	for _, n := range c.notices {
		fmt.Fprintf(&b, "notice %v\n", n)
	}
	return b.String()
}

// load opens paths, runs to the end and returns the store and the set
// (closed when the test ends).
func load(t *testing.T, paths []string, opts Options) (*audit.Store, *Set, *collector, error) {
	t.Helper()
	st := audit.NewStore()
	c := &collector{}
	s, err := Open(st, paths, nil, c.options(opts))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return st, s, c, s.Run(ctx)
}

// waitFor polls cond until it holds or a deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// checkSorted asserts that the store's order is by time and returns the
// times in order.
func checkSorted(t *testing.T, st *audit.Store) []int64 {
	t.Helper()
	v := st.View()
	times := make([]int64, 0, v.Len())
	for pos := range v.Len() {
		times = append(times, v.At(pos).Time)
	}
	if !slices.IsSorted(times) {
		t.Fatal("events are not in time order")
	}
	return times
}

// auditIDs returns the sorted "auditID/stage" keys of the store's events,
// read back through Store.Raw.
func auditIDs(t *testing.T, st *audit.Store) []string {
	t.Helper()
	v := st.View()
	var ids []string
	var f audit.Fields
	for pos := range v.Len() {
		raw, err := st.Raw(v.At(pos), nil)
		if err != nil {
			t.Fatalf("Raw: %v", err)
		}
		if err := audit.Extract(raw, &f); err != nil {
			t.Fatalf("Extract %q: %v", raw, err)
		}
		ids = append(ids, string(f.AuditID)+"/"+string(f.Stage))
	}
	slices.Sort(ids)
	return ids
}

func TestFilesAndRotatedDirMergedByTime(t *testing.T) {
	lines := realLines(t)
	root := t.TempDir()
	dir := filepath.Join(root, "logs")
	extra := filepath.Join(root, "extra", "kube.jsonl")
	// The newest events are in the gzip file and the oldest in the extra
	// file, so that file order is not time order.
	writeFile(t, extra, join(lines[:57]))
	writeFile(t, filepath.Join(dir, "audit.log.1"), join(lines[57:114]))
	writeFile(t, filepath.Join(dir, "audit.log"), join(lines[114:171]))
	writeFile(t, filepath.Join(dir, "audit-2026-11-25T10-00-00.000.log.gz"), gz(t, join(lines[171:])))
	// Not audit logs, hidden, or below: all passed over.
	policy, err := os.ReadFile("../testdata/kube-apiserver-v1.37/policy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "policy.yaml"), policy)
	writeFile(t, filepath.Join(dir, "notes.txt"), []byte("rotated nightly\n"))
	writeFile(t, filepath.Join(dir, "status.json"), []byte(`{"kind":"Status","apiVersion":"v1","status":"Success"}`+"\n"))
	writeFile(t, filepath.Join(dir, ".hidden.log"), events("hidden", 3, t0))
	writeFile(t, filepath.Join(dir, "old", "audit.log"), events("old", 3, t0))

	st, s, c, err := load(t, []string{dir, extra}, Options{})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if st.Len() != 228 || st.Duplicates() != 0 {
		t.Fatalf("len %d dups %d, want 228 and 0\n%v", st.Len(), st.Duplicates(), c)
	}
	if errs := c.lineErrors(); len(errs) != 0 {
		t.Fatalf("unexpected errors:\n%v", c)
	}
	times := checkSorted(t, st)
	var want []int64
	var f audit.Fields
	for _, l := range lines {
		if err := audit.Extract(bytes.TrimSpace(l), &f); err != nil {
			t.Fatal(err)
		}
		var r audit.Rec
		audit.BuildRec(&f, audit.NewInterner().NewLocal(), &r)
		want = append(want, r.Time)
	}
	slices.Sort(want)
	if !slices.Equal(times, want) {
		t.Fatal("the merged times differ from the recording's")
	}
	names := s.Names()
	slices.Sort(names)
	wantNames := []string{
		filepath.Join(dir, "audit-2026-11-25T10-00-00.000.log.gz"),
		filepath.Join(dir, "audit.log"),
		filepath.Join(dir, "audit.log.1"),
		extra,
	}
	slices.Sort(wantNames)
	if !slices.Equal(names, wantNames) {
		t.Fatalf("names %q, want %q", names, wantNames)
	}
	p := s.Progress()
	if p.Done != p.Total || p.Total == 0 || p.Events != 228 || p.Files != 4 || p.Skipped != 0 || p.Live {
		t.Fatalf("progress %+v", p)
	}
}

func TestGzipDetectedByContentNotName(t *testing.T) {
	lines := realLines(t)
	dir := t.TempDir()
	isGz := filepath.Join(dir, "looks-plain.log")
	isPlain := filepath.Join(dir, "looks-zipped.gz")
	writeFile(t, isGz, gz(t, join(lines[:100])))
	writeFile(t, isPlain, join(lines[100:]))
	for _, paths := range [][]string{{isGz, isPlain}, {dir}} {
		st, _, c, err := load(t, paths, Options{})
		if err != nil || st.Len() != 228 || len(c.lineErrors()) != 0 {
			t.Fatalf("%v: err %v len %d\n%v", paths, err, st.Len(), c)
		}
	}
}

func TestMultiMemberGzip(t *testing.T) {
	lines := realLines(t)
	path := filepath.Join(t.TempDir(), "audit.log.gz")
	writeFile(t, path, append(gz(t, join(lines[:10])), gz(t, join(lines[10:]))...))
	st, s, c, err := load(t, []string{path}, Options{})
	if err != nil || st.Len() != 228 || len(c.lineErrors()) != 0 {
		t.Fatalf("err %v len %d\n%v", err, st.Len(), c)
	}
	if p := s.Progress(); p.Done != p.Total || p.Total != int64(len(mustRead(t, path))) {
		t.Fatalf("progress %+v", p)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	st := audit.NewStore()

	missing := filepath.Join(dir, "x.log")
	_, err := Open(st, []string{missing}, nil, Options{})
	if err == nil || err.Error() != "sources: open "+missing+": no such file or directory" {
		t.Fatalf("missing file: %v", err)
	}
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file error does not wrap ErrNotExist: %v", err)
	}

	empty := filepath.Join(dir, "noaudit")
	writeFile(t, filepath.Join(empty, "policy.yaml"), []byte("apiVersion: audit.k8s.io/v1\nkind: Policy\n"))
	writeFile(t, filepath.Join(empty, "list.json"), []byte(`["a","b"]`+"\n"))
	writeFile(t, filepath.Join(empty, ".audit.log"), events("h", 1, t0))
	_, err = Open(st, []string{empty}, nil, Options{})
	if err == nil || err.Error() != "sources: "+empty+"/: no audit logs found (looked at 2 files)" {
		t.Fatalf("dir without audit logs: %v", err)
	}

	// Every bad path is named, one line each; control characters escaped.
	evil := filepath.Join(dir, "a\x1b[31mb.log")
	_, err = Open(st, []string{missing, evil, "-"}, nil, Options{})
	msg := err.Error()
	if strings.Count(msg, "\n") != 2 || !strings.Contains(msg, `a\x1b[31mb.log`) || strings.Contains(msg, "\x1b") ||
		!strings.Contains(msg, "sources: -: ") {
		t.Fatalf("several errors: %q", msg)
	}

	if _, err := Open(st, nil, nil, Options{}); err == nil || !strings.HasPrefix(err.Error(), "sources: no input") {
		t.Fatalf("no input: %v", err)
	}

	if os.Geteuid() != 0 {
		locked := filepath.Join(dir, "locked.log")
		writeFile(t, locked, events("l", 1, t0))
		if err := os.Chmod(locked, 0); err != nil {
			t.Fatal(err)
		}
		_, err := Open(st, []string{locked}, nil, Options{})
		if err == nil || err.Error() != "sources: open "+locked+": permission denied" {
			t.Fatalf("unreadable file: %v", err)
		}
	}
}

func TestCRLF(t *testing.T) {
	crlf := bytes.ReplaceAll(events("c", 20, t0), []byte("\n"), []byte("\r\n"))
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "win.log"), crlf)
	st, _, c, err := load(t, []string{dir}, Options{})
	if err != nil || st.Len() != 20 || len(c.lineErrors()) != 0 {
		t.Fatalf("err %v len %d\n%v", err, st.Len(), c)
	}
	raw, err := st.Raw(st.View().At(0), nil)
	if err != nil || !bytes.HasSuffix(raw, []byte("}")) {
		t.Fatalf("raw %q %v", raw, err)
	}
}

func TestEmptyAndBlankFiles(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.log")
	blank := filepath.Join(dir, "blank.log")
	writeFile(t, empty, nil)
	writeFile(t, blank, []byte("\n  \r\n\n"))
	writeFile(t, filepath.Join(dir, "empty.gz"), gz(t, nil))
	st, s, c, err := load(t, []string{empty, blank, filepath.Join(dir, "empty.gz")}, Options{})
	if err != nil || st.Len() != 0 || len(c.lineErrors()) != 0 {
		t.Fatalf("err %v len %d\n%v", err, st.Len(), c)
	}
	if p := s.Progress(); p.Done != p.Total {
		t.Fatalf("progress %+v", p)
	}
}

// bigEvent returns one event line of about n bytes.
func bigEvent(n int) []byte {
	return []byte(event("big", t0, `,"requestObject":{"data":"`+strings.Repeat("x", n)+`"}`))
}

func TestFiveMegabyteLine(t *testing.T) {
	line := bigEvent(5 << 20)
	path := filepath.Join(t.TempDir(), "big.log")
	writeFile(t, path, append(append(events("a", 2, t0), line...), events("b", 2, t0.Add(time.Hour))...))
	st, _, c, err := load(t, []string{path}, Options{})
	if err != nil || st.Len() != 5 || len(c.lineErrors()) != 0 {
		t.Fatalf("err %v len %d\n%v", err, st.Len(), c)
	}
	found := false
	v := st.View()
	for pos := range v.Len() {
		if r := v.At(pos); int(r.Len) == len(line)-1 {
			raw, err := st.Raw(r, nil)
			found = err == nil && bytes.Equal(raw, line[:len(line)-1])
		}
	}
	if !found {
		t.Fatal("the 5 MB event was not read back intact")
	}
}

func TestPartialLastLineReportedOnce(t *testing.T) {
	ev := event("p", t0, "")
	path := filepath.Join(t.TempDir(), "cut.log")
	writeFile(t, path, append(events("a", 3, t0), ev[:len(ev)/2]...))
	st, _, c, err := load(t, []string{path}, Options{})
	errs := c.lineErrors()
	if err != nil || st.Len() != 3 || len(errs) != 1 || errs[0].Line != 4 || errs[0].Source != path {
		t.Fatalf("err %v len %d\n%v", err, st.Len(), c)
	}
}

func TestStrictStopsAtFirstBadLine(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.log")
	writeFile(t, bad, append(append(events("a", 3, t0), "I1125 10:00:00 klog line\n"...), events("b", 3, t0)...))
	st, _, c, err := load(t, []string{bad}, Options{Strict: true})
	// The events before the bad line are kept. (The loader also keeps the
	// rest of the chunk the bad line is in, so Len may be more than 3.)
	if !errors.Is(err, audit.ErrStrict) || len(c.lineErrors()) != 1 || st.Len() < 3 {
		t.Fatalf("err %v len %d\n%v", err, st.Len(), c)
	}
	// Without Strict the line is skipped, counted by kind, and the rest read.
	st, s, _, err := load(t, []string{bad}, Options{})
	if err != nil || st.Len() != 6 || s.Skipped()[audit.ErrText] != 1 || s.Progress().Skipped != 1 {
		t.Fatalf("err %v len %d skipped %v", err, st.Len(), s.Skipped())
	}
}

func TestDirGzipCopyOfPlainFileReadOnce(t *testing.T) {
	lines := realLines(t)
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "audit.log"), join(lines[100:]))
	writeFile(t, filepath.Join(dir, "audit.log.1"), join(lines[:100]))
	writeFile(t, filepath.Join(dir, "audit.log.1.gz"), gz(t, join(lines[:100])))
	st, s, c, err := load(t, []string{dir}, Options{})
	if err != nil || st.Len() != 228 || st.Duplicates() != 0 || !c.hasNotice("audit.log.1.gz: skipped: same content as") {
		t.Fatalf("err %v len %d dups %d\n%v", err, st.Len(), st.Duplicates(), c)
	}
	if p := s.Progress(); p.Files != 2 || p.Done != p.Total {
		t.Fatalf("progress %+v", p)
	}
	// Named explicitly, the gzip file is read anyway; the store drops the
	// exact duplicates.
	st, _, _, err = load(t, []string{filepath.Join(dir, "audit.log.1"), filepath.Join(dir, "audit.log.1.gz")}, Options{})
	if err != nil || st.Len() != 100 || st.Duplicates() != 100 {
		t.Fatalf("explicit: err %v len %d dups %d", err, st.Len(), st.Duplicates())
	}
}

func TestRunCancelledBeforeDone(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log.gz")
	writeFile(t, path, gz(t, join(realLines(t))))
	st := audit.NewStore()
	s, err := Open(st, []string{path}, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Run(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Run with a cancelled context: %v", err)
	}
	if err := s.Run(context.Background()); err == nil {
		t.Fatal("a second Run was accepted")
	}
}
