package webhook

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

func TestFsyncBeforeOK(t *testing.T) {
	release := make(chan struct{})
	var syncing atomic.Bool
	h := start(t, plainConfig(t), func(s *Server) {
		s.hooks.sync = func(f *os.File) error {
			syncing.Store(true)
			<-release
			return f.Sync()
		}
	})
	type result struct {
		code int
		at   time.Time
	}
	res := make(chan result, 1)
	go func() {
		code, _ := h.post("/audit", eventList(ev("durable", "ResponseComplete")))
		res <- result{code, time.Now()}
	}()
	waitFor(t, "the fsync to start", 5*time.Second, syncing.Load)
	select {
	case r := <-res:
		t.Fatalf("answered %d before the fsync finished", r.code)
	case <-time.After(200 * time.Millisecond):
	}
	released := time.Now()
	close(release)
	r := <-res
	if r.code != 200 || r.at.Before(released) {
		t.Fatalf("status %d at %v (released %v)", r.code, r.at, released)
	}
}

func TestWriteFailureIs503AndCutBack(t *testing.T) {
	var failWrite, failSync atomic.Bool
	h := start(t, plainConfig(t), func(s *Server) {
		s.hooks.write = func(f *os.File, b []byte) (int, error) {
			if failWrite.Load() {
				n, _ := f.Write(b[:len(b)/2]) // half a batch reaches the file
				return n, syscall.ENOSPC
			}
			return f.Write(b)
		}
		s.hooks.sync = func(f *os.File) error {
			if failSync.Load() {
				return syscall.EIO
			}
			return f.Sync()
		}
	})
	path := current(h.dir, "")
	if code, _ := h.post("/audit", eventList(batch("ok1", 3)...)); code != 200 {
		t.Fatal(code)
	}
	size := fileSize(path)
	failWrite.Store(true)
	resp, body := postResp(t, h, "/audit", eventList(batch("full", 5)...))
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") != "1" || !strings.Contains(body, "no space") {
		t.Errorf("disk full: %d Retry-After=%q %s", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	if got := fileSize(path); got != size {
		t.Errorf("after a failed write the file is %d bytes, want %d (cut back)", got, size)
	}
	failWrite.Store(false)
	failSync.Store(true)
	if code, _ := h.post("/audit", eventList(batch("eio", 2)...)); code != 503 {
		t.Errorf("fsync failure: %d", code)
	}
	if got := fileSize(path); got != size {
		t.Errorf("after a failed fsync the file is %d bytes, want %d", got, size)
	}
	failSync.Store(false)
	if code, _ := h.post("/audit", eventList(batch("ok2", 2)...)); code != 200 {
		t.Fatalf("a good batch after failures: %d", code)
	}
	got := lines(t, path)
	if len(got) != 5 || !strings.Contains(got[3], `"ok2-0"`) {
		t.Errorf("lines after recovery: %q", got)
	}
	if n := h.s.Stats().Rejected[ReasonSpoolError]; n != 2 {
		t.Errorf("spool_error = %d", n)
	}
	if !strings.Contains(h.log.String(), "SPOOL ERROR") {
		t.Error("spool errors not logged")
	}
}

func postResp(t *testing.T, h *harness, path string, body []byte) (*http.Response, string) {
	t.Helper()
	resp, err := h.c.Post(h.url+path, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestUnwritableClusterDir(t *testing.T) {
	h := start(t, plainConfig(t))
	// A file where the cluster's directory should be: mkdir fails, even as
	// root.
	blocker := filepath.Join(h.dir, "blocked")
	if err := os.WriteFile(blocker, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if code, body := h.post("/audit/blocked", eventList(ev("b1", "Panic"))); code != 503 {
		t.Errorf("blocked cluster dir: %d %s", code, body)
	}
	if code, _ := h.post("/audit/other", eventList(ev("o1", "Panic"))); code != 200 {
		t.Errorf("another cluster meanwhile: %d", code)
	}
	os.Remove(blocker)
	if code, _ := h.post("/audit/blocked", eventList(ev("b2", "Panic"))); code != 200 {
		t.Errorf("after fixing: %d", code)
	}
	if got := lines(t, current(h.dir, "blocked")); len(got) != 1 || !strings.Contains(got[0], "b2") {
		t.Errorf("lines %q", got)
	}
	if os.Geteuid() != 0 {
		// A read-only spool directory (not effective for root).
		os.Chmod(h.dir, 0o500)
		code, _ := h.post("/audit/ro", eventList(ev("r1", "Panic")))
		os.Chmod(h.dir, 0o700)
		if code != 503 {
			t.Errorf("read-only spool: %d", code)
		}
		if code, _ := h.post("/audit/ro", eventList(ev("r2", "Panic"))); code != 200 {
			t.Errorf("after making it writable: %d", code)
		}
	}
}

// closedFiles lists the rotated files of a cluster directory.
func closedFiles(t *testing.T, dir string) (plain, gzipped []string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		switch n := e.Name(); {
		case strings.HasSuffix(n, ".jsonl.gz") && strings.HasPrefix(n, "audit-"):
			gzipped = append(gzipped, n)
		case strings.HasSuffix(n, ".jsonl") && strings.HasPrefix(n, "audit-"):
			plain = append(plain, n)
		}
	}
	return plain, gzipped
}

// readAllEvents returns every line of the cluster directory's files,
// closed (gunzipped) then current.
func readAllEvents(t *testing.T, dir string) []string {
	t.Helper()
	plain, gzs := closedFiles(t, dir)
	names := append(plain, gzs...)
	slices.Sort(names)
	var out []string
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(n, ".gz") {
			zr, err := gzip.NewReader(bytes.NewReader(b))
			if err != nil {
				t.Fatal(err)
			}
			if b, err = io.ReadAll(zr); err != nil {
				t.Fatal(err)
			}
		}
		out = append(out, strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")...)
	}
	if !exists(filepath.Join(dir, currentName)) {
		return out
	}
	return append(out, lines(t, filepath.Join(dir, currentName))...)
}

func TestRotationBySize(t *testing.T) {
	cfg := plainConfig(t)
	batchBytes := 0
	for _, it := range batch("s0", 5) {
		batchBytes += len(it) + 1
	}
	cfg.MaxFileSize = int64(2*batchBytes - 1) // rotate after every second batch
	h := start(t, cfg)
	var want []string
	for i := range 10 {
		items := batch(fmt.Sprintf("s%d", i), 5)
		if code, _ := h.post("/audit/c1", eventList(items...)); code != 200 {
			t.Fatal(code)
		}
		for _, it := range items {
			want = append(want, string(it))
		}
	}
	dir := filepath.Join(h.dir, "c1")
	waitFor(t, "compression", 10*time.Second, func() bool {
		plain, gzs := closedFiles(t, dir)
		return len(plain) == 0 && len(gzs) == 5
	})
	_, gzs := closedFiles(t, dir)
	for _, n := range gzs {
		if _, ok := rotatedTime(n); !ok {
			t.Errorf("bad rotated name %s", n)
		}
		if fi, _ := os.Stat(filepath.Join(dir, n)); fi.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %v", n, fi.Mode().Perm())
		}
	}
	if got := readAllEvents(t, dir); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("events across rotated files differ: %d lines, want %d", len(got), len(want))
	}
	if fileSize(filepath.Join(dir, currentName)) != 0 {
		t.Error("current.jsonl should be empty after the last rotation")
	}
	if !strings.Contains(h.log.String(), "rotated ") {
		t.Error("rotation not logged")
	}
}

// clock is an adjustable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestRotationByAge(t *testing.T) {
	clk := &clock{t: time.Date(2026, 11, 26, 3, 15, 0, 123e6, time.UTC)}
	cfg := plainConfig(t)
	cfg.Now = clk.Now
	cfg.MaxFileAge = time.Hour
	h := start(t, cfg, func(s *Server) { s.tick = 10 * time.Millisecond })
	if code, _ := h.post("/audit", eventList(ev("age1", "Panic"))); code != 200 {
		t.Fatal(code)
	}
	clk.Add(30 * time.Minute)
	if code, _ := h.post("/audit", eventList(ev("age2", "Panic"))); code != 200 {
		t.Fatal(code)
	}
	dir := filepath.Join(h.dir, "_")
	if p, g := closedFiles(t, dir); len(p)+len(g) != 0 {
		t.Fatalf("rotated too early: %v %v", p, g)
	}
	// Idle: the writer's timer rotates it once it is an hour old.
	clk.Add(31 * time.Minute)
	waitFor(t, "rotation by age", 5*time.Second, func() bool {
		_, g := closedFiles(t, dir)
		return len(g) == 1
	})
	_, g := closedFiles(t, dir)
	if g[0] != "audit-20261126T041600.123Z.jsonl.gz" {
		t.Errorf("rotated name %s", g[0])
	}
	if got := readAllEvents(t, dir); len(got) != 2 {
		t.Errorf("events %q", got)
	}
}

func TestRetention(t *testing.T) {
	clk := &clock{t: time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)}
	cfg := plainConfig(t)
	cfg.Now = clk.Now
	cfg.MaxAge = 24 * time.Hour
	cfg.MaxTotalSize = 10 << 10
	dir := filepath.Join(cfg.Dir, "prod")
	os.MkdirAll(dir, 0o700)
	write := func(name string, size int) {
		if err := os.WriteFile(filepath.Join(dir, name), bytes.Repeat([]byte("x"), size), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("audit-20261124T120000.000Z.jsonl.gz", 100)  // two days old: too old
	write("audit-20261125T110000.000Z.jsonl.gz", 100)  // 25h: too old
	write("audit-20261125T130000.000Z.jsonl.gz", 4000) // oldest kept by age, removed for size
	write("audit-20261126T090000.000Z.jsonl.gz", 4000)
	write("audit-20261126T100000.000Z.jsonl.gz", 4000)
	write("notes.txt", 50000) // not ours: neither counted nor removed
	write(currentName, 999)   // counted, never removed
	f, _ := os.OpenFile(filepath.Join(dir, currentName), os.O_WRONLY|os.O_APPEND, 0)
	f.WriteString("\n")
	f.Close()
	h := start(t, cfg)
	waitFor(t, "retention", 5*time.Second, func() bool {
		_, g := closedFiles(t, dir)
		return len(g) == 2
	})
	_, g := closedFiles(t, dir)
	if strings.Join(g, " ") != "audit-20261126T090000.000Z.jsonl.gz audit-20261126T100000.000Z.jsonl.gz" {
		t.Errorf("kept %v", g)
	}
	if fileSize(filepath.Join(dir, "notes.txt")) != 50000 || fileSize(filepath.Join(dir, currentName)) < 0 {
		t.Error("retention touched files that are not closed audit files")
	}
	waitFor(t, "spool size", 5*time.Second, func() bool { return h.s.Stats().SpoolBytes == 9000 })
	// The current file alone over the limit is kept.
	cfg2 := cfg
	cfg2.MaxTotalSize = 10
	cfg2.Dir = t.TempDir()
	os.MkdirAll(filepath.Join(cfg2.Dir, "_"), 0o700)
	os.WriteFile(filepath.Join(cfg2.Dir, "_", currentName), []byte(string(ev("k", "Panic"))+"\n"), 0o600)
	h2 := start(t, cfg2)
	if code, _ := h2.post("/audit", eventList(ev("k2", "Panic"))); code != 200 {
		t.Fatal(code)
	}
	if got := lines(t, current(cfg2.Dir, "")); len(got) != 2 {
		t.Errorf("current file lines %d", len(got))
	}
}

func TestLeftoversCompressedAtStart(t *testing.T) {
	cfg := plainConfig(t)
	dir := filepath.Join(cfg.Dir, "_")
	os.MkdirAll(dir, 0o700)
	plain := "audit-20261126T010000.000Z.jsonl"
	content := string(ev("left", "Panic")) + "\n"
	os.WriteFile(filepath.Join(dir, plain), []byte(content), 0o600)
	os.WriteFile(filepath.Join(dir, "."+plain+".gz.tmp"), []byte("half"), 0o600)
	start(t, cfg)
	waitFor(t, "leftover compression", 5*time.Second, func() bool {
		p, g := closedFiles(t, dir)
		return len(p) == 0 && len(g) == 1
	})
	if exists(filepath.Join(dir, "."+plain+".gz.tmp")) {
		t.Error("temporary file left")
	}
	if got := readAllEvents(t, dir); len(got) != 1 || got[0]+"\n" != content {
		t.Errorf("events %q", got)
	}
}

func TestRestartAppendsAndCutsPartialLine(t *testing.T) {
	cfg := plainConfig(t)
	h := start(t, cfg)
	if code, _ := h.post("/audit", eventList(batch("before", 2)...)); code != 200 {
		t.Fatal(code)
	}
	if err := h.stop(); err != nil {
		t.Fatal(err)
	}
	// A crash in the middle of a write leaves half a line.
	path := current(cfg.Dir, "")
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"auditID":"half","sta`)
	f.Close()
	h2 := start(t, cfg)
	if code, _ := h2.post("/audit", eventList(batch("after", 2)...)); code != 200 {
		t.Fatal(code)
	}
	got := lines(t, path)
	want := []string{string(ev("before-0", "ResponseComplete")), string(ev("before-1", "ResponseComplete")),
		string(ev("after-0", "ResponseComplete")), string(ev("after-1", "ResponseComplete"))}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("after restart:\n%s", strings.Join(got, "\n"))
	}
	if !strings.Contains(h2.log.String(), "incomplete line of 22 bytes") {
		t.Errorf("repair not logged: %s", h2.log.String())
	}
}

func TestRepairTail(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"", ""}, {"a\n", "a\n"}, {"a\nb", "a\n"}, {"partial", ""},
		{"a\n" + strings.Repeat("x", 200<<10), "a\n"},
	} {
		p := filepath.Join(t.TempDir(), "f")
		os.WriteFile(p, []byte(c.in), 0o600)
		f, _ := os.OpenFile(p, os.O_RDWR, 0)
		n, cut, err := repairTail(f, int64(len(c.in)))
		f.Close()
		b, _ := os.ReadFile(p)
		if err != nil || string(b) != c.want || n != int64(len(c.want)) || cut != int64(len(c.in)-len(c.want)) {
			t.Errorf("repairTail(%.10q) = %d %d %v, file %.10q", c.in, n, cut, err, b)
		}
	}
}

func TestConcurrentBatchesLandOnce(t *testing.T) {
	h := start(t, plainConfig(t))
	const workers, perWorker, size = 8, 25, 20
	var wg sync.WaitGroup
	errs := make(chan error, workers*perWorker)
	for w := range workers {
		wg.Go(func() {
			for b := range perWorker {
				code, body := h.post("/audit", eventList(batch(fmt.Sprintf("w%d-b%d", w, b), size)...))
				if code != 200 {
					errs <- fmt.Errorf("worker %d batch %d: %d %s", w, b, code, body)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	got := lines(t, current(h.dir, ""))
	if len(got) != workers*perWorker*size {
		t.Fatalf("%d lines, want %d", len(got), workers*perWorker*size)
	}
	seen := map[string]bool{}
	for _, l := range got {
		if seen[l] {
			t.Fatalf("duplicate line %s", l)
		}
		seen[l] = true
	}
	for w := range workers {
		for b := range perWorker {
			for i := range size {
				if !seen[string(ev(fmt.Sprintf("w%d-b%d-%d", w, b, i), "ResponseComplete"))] {
					t.Fatalf("missing event w%d-b%d-%d", w, b, i)
				}
			}
		}
	}
	// Batches stay contiguous: each batch's events are adjacent and in order.
	for i := 0; i < len(got); i += size {
		id := auditIDOf(got[i])
		prefix := id[:strings.LastIndex(id, "-")]
		for j := range size {
			if !strings.Contains(got[i+j], fmt.Sprintf(`"auditID":"%s-%d"`, prefix, j)) {
				t.Fatalf("batch %s interleaved at line %d", prefix, i+j)
			}
		}
	}
	if st := h.s.Stats(); st.Batches != workers*perWorker || st.FsyncSeconds <= 0 {
		t.Errorf("stats %+v", st)
	}
}

// auditIDOf returns the auditID in a line made by ev.
func auditIDOf(line string) string {
	_, rest, _ := strings.Cut(line, `"auditID":"`)
	id, _, _ := strings.Cut(rest, `"`)
	return id
}
