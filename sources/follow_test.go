package sources

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ktrail/audit"
)

const poll = 5 * time.Millisecond

// follow opens paths with Follow and a short poll interval and runs it in
// the background until the test ends.
func follow(t *testing.T, paths ...string) (*audit.Store, *Set, *collector, *runner) {
	t.Helper()
	st := audit.NewStore()
	c := &collector{}
	s, err := Open(st, paths, nil, c.options(Options{Follow: true, PollInterval: poll, SpoolDir: t.TempDir()}))
	if err != nil {
		t.Fatal(err)
	}
	return st, s, c, startRun(t, s)
}

// lenIs returns a condition: the store holds n events.
func lenIs(st *audit.Store, n int) func() bool { return func() bool { return st.Len() == n } }

func TestFollowAppendAndPartialLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	writeFile(t, path, events("a", 5, t0))
	st, s, c, run := follow(t, path)
	waitFor(t, "the first 5 events", lenIs(st, 5))
	if !s.Progress().Live {
		t.Fatal("not live while following")
	}

	ev := event("c", t0.Add(time.Minute), "")
	appendFile(t, path, events("b", 2, t0.Add(time.Hour)))
	appendFile(t, path, []byte(ev[:40]))
	waitFor(t, "2 appended events", lenIs(st, 7))
	// The incomplete line is waited for, not reported: poll a few more
	// times to give a wrong implementation the chance to report it.
	waitFor(t, "the partial line to be seen", func() bool { return s.Progress().Total == int64(len(mustRead(t, path))) })
	for range 3 {
		time.Sleep(2 * poll)
	}
	if len(c.lineErrors()) != 0 || st.Len() != 7 {
		t.Fatalf("partial line reported while following:\n%v", c)
	}
	appendFile(t, path, []byte(ev[40:]))
	waitFor(t, "the completed line", lenIs(st, 8))
	if len(c.lineErrors()) != 0 {
		t.Fatalf("unexpected errors:\n%v", c)
	}
	waitFor(t, "progress to catch up", func() bool { p := s.Progress(); return p.Done == p.Total })
	run.cancel()
	if err := run.wait(); err != nil {
		t.Fatalf("Run returned %v after cancel while following", err)
	}
	if s.Progress().Live {
		t.Fatal("still live after Run returned")
	}
}

func TestFollowRotationByRename(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "audit.log")
	writeFile(t, path, events("a", 10, t0))
	st, _, c, _ := follow(t, path)
	waitFor(t, "the first 10 events", lenIs(st, 10))

	// The writer adds to the old file, ending in an incomplete line, and
	// rotates it: the rest of the old file must still be read.
	appendFile(t, path, events("b", 3, t0.Add(time.Hour)))
	appendFile(t, path, []byte(`{"kind":"Event","auditID":"cut`))
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	writeFile(t, path, events("c", 4, t0.Add(2*time.Hour)))
	waitFor(t, "old and new events", lenIs(st, 17))
	waitFor(t, "the rotation notice", func() bool { return c.hasNotice("rotated") })
	waitFor(t, "the old file's incomplete line to be reported", func() bool { return len(c.lineErrors()) == 1 })
	if e := c.lineErrors()[0]; e.Source != path || e.Line != 14 {
		t.Fatalf("error %v", e)
	}
	if n := len(st.Segments()); n != 2 {
		t.Fatalf("%d segments, want 2", n)
	}
	// More events in the new file are followed too.
	appendFile(t, path, events("d", 2, t0.Add(3*time.Hour)))
	waitFor(t, "events appended to the new file", lenIs(st, 19))
	// Every event is readable, the old file's through the descriptor kept.
	if ids := auditIDs(t, st); len(ids) != 19 || st.Duplicates() != 0 {
		t.Fatalf("ids %v", ids)
	}
}

func TestFollowTruncation(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	writeFile(t, path, events("a", 10, t0))
	st, _, c, _ := follow(t, path)
	waitFor(t, "the first 10 events", lenIs(st, 10))
	oldRec := *st.View().At(0)

	// Truncated in place (same inode) and rewritten with fewer bytes.
	writeFile(t, path, events("b", 3, t0.Add(time.Hour)))
	waitFor(t, "the events written after the truncation", lenIs(st, 13))
	waitFor(t, "the truncation notice", func() bool { return c.hasNotice("truncated") })
	if n := len(st.Segments()); n != 2 {
		t.Fatalf("%d segments, want 2", n)
	}
	// The old events stay listed, but their bytes are gone: reading one
	// fails clearly rather than returning a new event's bytes.
	if _, err := st.Raw(&oldRec, nil); err == nil || !strings.Contains(err.Error(), "truncated") {
		t.Fatalf("Raw of an event from before the truncation: %v", err)
	}
	v := st.View()
	newRec := v.At(v.Len() - 1)
	if raw, err := st.Raw(newRec, nil); err != nil || !strings.Contains(string(raw), `"b-2"`) {
		t.Fatalf("Raw of a new event: %q %v", raw, err)
	}
	if len(c.lineErrors()) != 0 {
		t.Fatalf("unexpected errors:\n%v", c)
	}
}

func TestFollowDirNewFilesAndCompressedRotation(t *testing.T) {
	dir := t.TempDir()
	live := filepath.Join(dir, "audit.log")
	rotated := filepath.Join(dir, "audit-2026-11-25T10-00-00.000.log")
	first := events("a", 10, t0)
	writeFile(t, live, first)
	st, s, c, _ := follow(t, dir)
	waitFor(t, "the first 10 events", lenIs(st, 10))

	// Rotation as lumberjack (the API server's log backend) does it:
	// rename, new file, later compress the old one and delete it.
	if err := os.Rename(live, rotated); err != nil {
		t.Fatal(err)
	}
	writeFile(t, live, events("b", 5, t0.Add(time.Hour)))
	waitFor(t, "the new file's events", lenIs(st, 15))
	writeFile(t, rotated+".gz", gz(t, first))
	if err := os.Remove(rotated); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the compressed copy to be recognised", func() bool { return c.hasNotice("skipped: same content as") })

	// New files: an audit log, something else, and an empty file that
	// gets events later.
	writeFile(t, filepath.Join(dir, "other.jsonl"), events("c", 3, t0.Add(2*time.Hour)))
	writeFile(t, filepath.Join(dir, "README.txt"), []byte("these are audit logs\n"))
	late := filepath.Join(dir, "late.log")
	writeFile(t, late, nil)
	waitFor(t, "the new audit log", lenIs(st, 18))
	// Its first line arrives in two writes: a prefix that every event
	// shares must not make it look like a copy of a file already read.
	d := events("d", 2, t0.Add(3*time.Hour))
	appendFile(t, late, d[:60])
	for range 4 {
		time.Sleep(poll) // room for polls to see the partial line
	}
	appendFile(t, late, d[60:])
	waitFor(t, "events in the file that was empty", lenIs(st, 20))
	if c.hasNotice("a copy of") {
		t.Fatalf("a new file was taken for a copy:\n%v", c)
	}
	// A gzip file with new content is read.
	writeFile(t, filepath.Join(dir, "extra.log.gz"), gz(t, events("e", 4, t0.Add(4*time.Hour))))
	waitFor(t, "the new gzip file", lenIs(st, 24))

	if st.Duplicates() != 0 || len(c.lineErrors()) != 0 {
		t.Fatalf("dups %d\n%v", st.Duplicates(), c)
	}
	if ids := auditIDs(t, st); len(ids) != 24 {
		t.Fatalf("ids %v", ids)
	}
	for _, n := range s.Names() {
		if strings.HasSuffix(n, "README.txt") || strings.HasSuffix(n, ".000.log.gz") {
			t.Fatalf("names %q", s.Names())
		}
	}
}

func TestFollowDirCopytruncate(t *testing.T) {
	dir := t.TempDir()
	live := filepath.Join(dir, "audit.log")
	first := events("a", 10, t0)
	writeFile(t, live, first)
	st, _, c, _ := follow(t, dir)
	waitFor(t, "the first 10 events", lenIs(st, 10))

	// logrotate copytruncate: copy, then truncate in place.
	writeFile(t, live+".1", first)
	writeFile(t, live, events("b", 2, t0.Add(time.Hour)))
	waitFor(t, "the events after the truncation", lenIs(st, 12))
	waitFor(t, "the copy to be recognised", func() bool { return c.hasNotice("skipped: a copy of") })
	if st.Len() != 12 {
		t.Fatalf("len %d\n%v", st.Len(), c)
	}
}

func TestCloseWhileFollowing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	writeFile(t, path, events("a", 3, t0))
	st := audit.NewStore()
	spool := t.TempDir()
	s, err := Open(st, []string{path, "-"}, strings.NewReader(string(events("s", 2, t0))),
		Options{Follow: true, PollInterval: poll, SpoolDir: spool})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Run(t.Context()) }()
	waitFor(t, "all events", lenIs(st, 5))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run after Close: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after Close")
	}
	if ents, _ := os.ReadDir(spool); len(ents) != 0 {
		t.Fatalf("spool left behind: %v", ents)
	}
}
