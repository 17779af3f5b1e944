package sources

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"ktrail/audit"
)

// writePieces writes b to w in pieces of n bytes, cutting lines.
func writePieces(t *testing.T, w io.Writer, b []byte, n int) {
	t.Helper()
	for len(b) > 0 {
		k := min(n, len(b))
		if _, err := w.Write(b[:k]); err != nil {
			t.Error(err)
			return
		}
		b = b[k:]
	}
}

// runner is a Run going on in a goroutine.
type runner struct {
	cancel context.CancelFunc
	done   chan struct{}
	err    error
}

// wait waits for Run to return and returns its result.
func (r *runner) wait() error { <-r.done; return r.err }

// returned reports whether Run has returned.
func (r *runner) returned() bool {
	select {
	case <-r.done:
		return true
	default:
		return false
	}
}

// startRun runs s in a goroutine, stopped and closed when the test ends.
func startRun(t *testing.T, s *Set) *runner {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &runner{cancel: cancel, done: make(chan struct{})}
	go func() { r.err = s.Run(ctx); close(r.done) }()
	t.Cleanup(func() {
		cancel()
		r.wait()
		s.Close()
	})
	return r
}

func TestStdinPipeEventsVisibleBeforeEOF(t *testing.T) {
	data := join(realLines(t))
	cut := bytes.Index(data, []byte(`"auditID":"`)) // inside the first line
	first100 := 0
	for range 100 {
		first100 += bytes.IndexByte(data[first100:], '\n') + 1
	}
	pr, pw := io.Pipe()
	st := audit.NewStore()
	c := &collector{}
	s, err := Open(st, nil, pr, c.options(Options{}))
	if err != nil {
		t.Fatal(err)
	}
	run := startRun(t, s)

	writePieces(t, pw, data[:cut], 1000)
	writePieces(t, pw, data[cut:first100+50], 1000) // 100 lines and a bit
	waitFor(t, "100 events while the pipe is open", func() bool { return st.Len() == 100 })
	if p := s.Progress(); !p.Live || p.Files != 1 {
		t.Fatalf("progress while open: %+v", p)
	}
	if run.returned() {
		t.Fatalf("Run returned while stdin is open: %v", run.err)
	}
	writePieces(t, pw, data[first100+50:], 777)
	pw.Close()
	if err := run.wait(); err != nil {
		t.Fatal(err)
	}
	if st.Len() != 228 || len(c.lineErrors()) != 0 {
		t.Fatalf("len %d\n%v", st.Len(), c)
	}
	if p := s.Progress(); p.Live || p.Done != p.Total || p.Total != int64(len(data)) || p.Events != 228 {
		t.Fatalf("progress at the end: %+v", p)
	}
	if names := s.Names(); len(names) != 1 || names[0] != "stdin" {
		t.Fatalf("names %q", names)
	}
}

func TestStdinGzipAndDash(t *testing.T) {
	lines := realLines(t)
	file := filepath.Join(t.TempDir(), "a.log")
	writeFile(t, file, join(lines[:28]))
	st := audit.NewStore()
	s, err := Open(st, []string{file, "-"}, bytes.NewReader(gz(t, join(lines[28:]))), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Run(context.Background()); err != nil || st.Len() != 228 {
		t.Fatalf("err %v len %d", err, st.Len())
	}
}

func TestStdinBigLineInPieces(t *testing.T) {
	line := bigEvent(5 << 20)
	pr, pw := io.Pipe()
	st := audit.NewStore()
	s, err := Open(st, []string{"-"}, pr, Options{})
	if err != nil {
		t.Fatal(err)
	}
	run := startRun(t, s)
	writePieces(t, pw, line, 64<<10)
	writePieces(t, pw, events("after", 1, t0), 10)
	pw.Close()
	if err := run.wait(); err != nil || st.Len() != 2 {
		t.Fatalf("err %v len %d", err, st.Len())
	}
}

func TestNamedPipeIsAStream(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "events.fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skip("no named pipes here:", err)
	}
	data := events("f", 50, t0)
	go func() {
		f, err := os.OpenFile(fifo, os.O_WRONLY, 0)
		if err != nil {
			t.Error(err)
			return
		}
		writePieces(t, f, data, 333)
		f.Close()
	}()
	st, _, c, err := load(t, []string{fifo}, Options{})
	if err != nil || st.Len() != 50 || len(c.lineErrors()) != 0 {
		t.Fatalf("err %v len %d\n%v", err, st.Len(), c)
	}
}

func TestGzipEndsEarly(t *testing.T) {
	lines := realLines(t)
	full := gz(t, join(lines))
	path := filepath.Join(t.TempDir(), "audit.log.gz")
	writeFile(t, path, full[:len(full)*6/10])

	st, s, c, err := load(t, []string{path}, Options{})
	if err != nil {
		t.Fatalf("a gzip file that ends early is not fatal: %v", err)
	}
	if st.Len() == 0 || st.Len() >= 228 {
		t.Fatalf("kept %d events, want some but not all", st.Len())
	}
	var found *audit.LineError
	for _, e := range c.lineErrors() {
		if strings.Contains(e.Msg, "gzip data ends early") {
			found = e
		}
	}
	if found == nil || found.Source != path || found.Kind != audit.ErrTruncated ||
		!strings.Contains(found.Error(), path+":") || !c.hasNotice("sources: "+path+": gzip data ends early") {
		t.Fatalf("no clear error about the cut gzip data:\n%v", c)
	}
	// The events kept are readable and are the first ones of the file.
	for pos := range st.Len() {
		raw, err := st.Raw(st.View().At(pos), nil)
		if err != nil || !bytes.Contains(join(lines), raw) {
			t.Fatalf("event %d: %v", pos, err)
		}
	}
	if p := s.Progress(); p.Skipped < 1 {
		t.Fatalf("progress %+v", p)
	}

	// With --strict it stops the run.
	_, _, _, err = load(t, []string{path}, Options{Strict: true})
	if !errors.Is(err, audit.ErrStrict) {
		t.Fatalf("strict: %v", err)
	}
}

func TestGzipDamagedInTheMiddle(t *testing.T) {
	full := gz(t, join(realLines(t)))
	bad := bytes.Clone(full)
	for i := len(bad) / 2; i < len(bad)/2+64; i++ {
		bad[i] ^= 0x5a
	}
	path := filepath.Join(t.TempDir(), "audit.log.gz")
	writeFile(t, path, bad)
	st, _, c, err := load(t, []string{path}, Options{})
	if err != nil || !c.hasNotice("gzip data") || st.Len() >= 228 {
		t.Fatalf("err %v len %d\n%v", err, st.Len(), c)
	}
	// Trailing garbage after a good member is reported too; all events kept.
	path2 := filepath.Join(t.TempDir(), "padded.gz")
	writeFile(t, path2, append(bytes.Clone(full), "garbage"...))
	st, _, c, err = load(t, []string{path2}, Options{})
	if err != nil || st.Len() != 228 || len(c.lineErrors()) != 0 || !c.hasNotice("ignored data after the end of the gzip data") {
		t.Fatalf("err %v len %d\n%v", err, st.Len(), c)
	}
}

func TestSpoolModeAndRemovedOnClose(t *testing.T) {
	spoolParent := t.TempDir()
	path := filepath.Join(t.TempDir(), "audit.log.gz")
	writeFile(t, path, gz(t, join(realLines(t))))
	st := audit.NewStore()
	s, err := Open(st, []string{path}, nil, Options{SpoolDir: spoolParent})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Run(context.Background()); err != nil || st.Len() != 228 {
		t.Fatalf("err %v len %d", err, st.Len())
	}
	var files []string
	err = filepath.WalkDir(spoolParent, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case p == spoolParent:
		case d.IsDir() && fi.Mode().Perm() != 0o700:
			t.Errorf("spool directory %s has mode %v", p, fi.Mode().Perm())
		case !d.IsDir():
			files = append(files, p)
			if fi.Mode().Perm() != 0o600 {
				t.Errorf("spool file %s has mode %v", p, fi.Mode().Perm())
			}
		}
		return nil
	})
	if err != nil || len(files) != 1 {
		t.Fatalf("spool files %q, %v", files, err)
	}
	if _, err := st.Raw(st.View().At(0), nil); err != nil {
		t.Fatalf("Raw before Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if ents, err := os.ReadDir(spoolParent); err != nil || len(ents) != 0 {
		t.Fatalf("spool left behind: %v %v", ents, err)
	}
}

func TestCloseStopsARunWaitingOnStdin(t *testing.T) {
	pr, pw := io.Pipe()
	defer pw.Close()
	st := audit.NewStore()
	s, err := Open(st, nil, pr, Options{SpoolDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Run(context.Background()) }()
	writePieces(t, pw, events("x", 3, t0), 100)
	waitFor(t, "3 events", func() bool { return st.Len() == 3 })
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after Close")
	}
}
