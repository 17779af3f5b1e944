package webhook

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

const (
	currentName = "current.jsonl"
	createdName = ".current.created"
	// rotatedLayout is the UTC time in the names of closed files.
	rotatedLayout = "20060102T150405.000Z"
	// maxGroup bounds one group commit.
	maxGroupBatches = 256
	maxGroupBytes   = 64 << 20
	// rotateRetry is how long a failed rotation waits before the next try.
	rotateRetry = time.Minute
)

// commit is one batch waiting for its writer.
type commit struct {
	data   []byte
	events int
	err    error
	done   chan struct{}
}

var commitPool = sync.Pool{New: func() any { return &commit{done: make(chan struct{}, 1)} }}

// writer owns one cluster's current.jsonl. Its goroutine does all file
// work; handlers hand it batches and wait.
type writer struct {
	s       *Server
	cluster string
	dir     string
	reqs    chan *commit
	stop    chan struct{}
	done    chan struct{}
	size    atomic.Int64 // of current.jsonl, also read by spoolBytes

	// Owned by the goroutine.
	f       *os.File
	created time.Time // when the first event of current.jsonl was written
	retryAt time.Time // no rotation before this, after a failure
}

// dirName is the subdirectory of a cluster label.
func dirName(cluster string) string {
	if cluster == "" {
		return "_"
	}
	return cluster
}

// displayName names a cluster in log lines.
func displayName(cluster string) string {
	if cluster == "" {
		return "(default)"
	}
	return cluster
}

// writerFor returns the cluster's writer, starting it on first use.
func (s *Server) writerFor(cluster string) (*writer, *rejection) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if w := s.writers[cluster]; w != nil {
		return w, nil
	}
	if len(s.writers) >= maxClusters {
		return nil, badRequest(ReasonTooManyCluster, "too many clusters (the limit is %d)", maxClusters)
	}
	w := s.newWriter(cluster)
	s.writers[cluster] = w
	go w.run()
	return w, nil
}

func (s *Server) newWriter(cluster string) *writer {
	return &writer{
		s: s, cluster: cluster, dir: filepath.Join(s.cfg.Dir, dirName(cluster)),
		reqs: make(chan *commit, 64), stop: make(chan struct{}), done: make(chan struct{}),
	}
}

// submit queues a batch and waits until it is on disk or failed. data
// must stay untouched until submit returns.
func (w *writer) submit(data []byte, events int) error {
	c := commitPool.Get().(*commit)
	c.data, c.events, c.err = data, events, nil
	w.reqs <- c
	<-c.done
	err := c.err
	c.data = nil
	commitPool.Put(c)
	return err
}

// run commits batches as they come, and rotates an idle file when it gets
// too old.
func (w *writer) run() {
	defer close(w.done)
	tick := time.NewTicker(w.s.tick)
	defer tick.Stop()
	group := make([]*commit, 0, maxGroupBatches)
	for {
		select {
		case c := <-w.reqs:
			group = w.gather(append(group[:0], c))
			w.commitGroup(group)
			clear(group)
		case <-tick.C:
			w.rotateIfDue(w.s.now())
		case <-w.stop:
			for {
				select {
				case c := <-w.reqs:
					w.commitGroup([]*commit{c})
				default:
					w.closeFile()
					return
				}
			}
		}
	}
}

// gather adds the batches already waiting, within the group limits.
func (w *writer) gather(group []*commit) []*commit {
	n := len(group[0].data)
	for len(group) < maxGroupBatches && n < maxGroupBytes {
		select {
		case c := <-w.reqs:
			group = append(group, c)
			n += len(c.data)
		default:
			return group
		}
	}
	return group
}

// commitGroup writes the batches, fsyncs once, answers them all, then
// rotates the file if it became too large or old. A panic fails the
// group instead of killing the process.
func (w *writer) commitGroup(group []*commit) {
	answered := false
	defer func() {
		if v := recover(); v != nil {
			w.s.log.printf("webhook: PANIC in the spool writer of cluster %s: %s", displayName(w.cluster), sanitize(fmt.Sprint(v)))
			w.closeFile()
			if !answered {
				for _, c := range group {
					c.err = fmt.Errorf("internal error: %v", v)
					c.done <- struct{}{}
				}
			}
		}
	}()
	now := w.s.now()
	w.rotateIfDue(now)
	if err := w.open(now); err != nil {
		w.s.log.printf("webhook: SPOOL ERROR for cluster %s: %s", displayName(w.cluster), sanitize(err.Error()))
		for _, c := range group {
			c.err = err
		}
	} else {
		w.writeGroup(group, now)
	}
	answered = true
	for _, c := range group {
		c.done <- struct{}{}
	}
	w.rotateIfDue(w.s.now())
}

// writeGroup appends each batch with one write call and fsyncs once. A
// batch whose write fails is cut off again; a failed fsync fails every
// batch of the group and cuts the file back to where the group began.
func (w *writer) writeGroup(group []*commit, now time.Time) {
	path := filepath.Join(w.dir, currentName)
	start := w.size.Load()
	var written int
	for i, c := range group {
		off := w.size.Load()
		n, err := w.write(c.data)
		if err == nil && n < len(c.data) {
			err = io.ErrShortWrite
		}
		if err == nil {
			w.size.Add(int64(n))
			group[written], group[i] = group[i], group[written]
			written++
			continue
		}
		c.err = fmt.Errorf("write %s: %w", path, err)
		w.s.log.printf("webhook: SPOOL ERROR: %s", sanitize(c.err.Error()))
		if terr := w.truncate(off); terr != nil {
			w.abandon(group, path, terr)
			return
		}
	}
	if written == 0 {
		return
	}
	if start == 0 {
		w.setCreated(now)
	}
	t0 := time.Now()
	err := w.sync()
	w.s.m.fsynced(time.Since(t0))
	if err == nil {
		return
	}
	err = fmt.Errorf("fsync %s: %w", path, err)
	w.s.log.printf("webhook: SPOOL ERROR: %s; %d batches refused", sanitize(err.Error()), written)
	for _, c := range group[:written] {
		c.err = err
	}
	if terr := w.truncate(start); terr != nil {
		w.abandon(group, path, terr)
	}
}

// abandon fails every batch of the group not failed yet and closes a file
// that could not be cut back; the next batch reopens it, cutting off any
// incomplete last line. Complete lines of refused batches may stay, and
// arrive again when the API server retries.
func (w *writer) abandon(group []*commit, path string, err error) {
	err = fmt.Errorf("cannot cut %s back after a failed write: %w", path, err)
	w.s.log.printf("webhook: SPOOL ERROR: %s", sanitize(err.Error()))
	for _, c := range group {
		if c.err == nil {
			c.err = err
		}
	}
	w.closeFile()
}

func (w *writer) write(b []byte) (int, error) {
	if h := w.s.hooks.write; h != nil {
		return h(w.f, b)
	}
	return w.f.Write(b)
}

func (w *writer) sync() error {
	if h := w.s.hooks.sync; h != nil {
		return h(w.f)
	}
	return w.f.Sync()
}

func (w *writer) truncate(size int64) error {
	if err := w.f.Truncate(size); err != nil {
		return err
	}
	w.size.Store(size)
	return nil
}

func (w *writer) closeFile() {
	if w.f != nil {
		w.f.Close()
		w.f = nil
	}
}

// open opens (or creates) current.jsonl for appending, after cutting off
// an incomplete last line left by an interrupted write.
func (w *writer) open(now time.Time) error {
	if w.f != nil {
		return nil
	}
	if err := os.Mkdir(w.dir, 0o700); err == nil {
		if err := syncDir(w.s.cfg.Dir); err != nil {
			return fmt.Errorf("fsync %s: %w", w.s.cfg.Dir, err)
		}
	} else if !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("cannot create %s: %w", w.dir, err)
	}
	path := filepath.Join(w.dir, currentName)
	_, statErr := os.Lstat(path)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("cannot open %s: %w", path, err)
	}
	fi, err := f.Stat()
	if err == nil && !fi.Mode().IsRegular() {
		err = errors.New("not a regular file")
	}
	if err == nil {
		err = f.Chmod(0o600)
	}
	var size, cut int64
	if err == nil {
		size, cut, err = repairTail(f, fi.Size())
	}
	if err == nil && errors.Is(statErr, fs.ErrNotExist) {
		err = syncDir(w.dir)
	}
	if err != nil {
		f.Close()
		return fmt.Errorf("cannot open %s: %w", path, err)
	}
	if cut > 0 {
		w.s.log.printf("webhook: %s ended with an incomplete line of %d bytes (an interrupted write, never acknowledged); cut it off", path, cut)
	}
	w.f = f
	w.size.Store(size)
	w.created = now
	if size > 0 {
		if b, err := os.ReadFile(filepath.Join(w.dir, createdName)); err == nil {
			if t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(string(b))); err == nil && !t.After(now) {
				w.created = t
			}
		}
	}
	return nil
}

// setCreated records when the first event of current.jsonl was written,
// so that its age survives a restart.
func (w *writer) setCreated(now time.Time) {
	w.created = now
	p := filepath.Join(w.dir, createdName)
	if err := os.WriteFile(p, []byte(now.UTC().Format(time.RFC3339Nano)+"\n"), 0o600); err != nil {
		w.s.log.printf("webhook: cannot record the start time of %s (its age restarts with the server): %s", w.dir, sanitize(err.Error()))
	}
}

// repairTail cuts f back to just after its last newline and returns the
// new size and how much was cut.
func repairTail(f *os.File, size int64) (newSize, cut int64, err error) {
	buf := make([]byte, 64<<10)
	for pos := size; pos > 0; {
		n := int64(len(buf))
		if n > pos {
			n = pos
		}
		pos -= n
		if _, err := f.ReadAt(buf[:n], pos); err != nil {
			return 0, 0, err
		}
		if i := bytes.LastIndexByte(buf[:n], '\n'); i >= 0 {
			end := pos + int64(i) + 1
			if end == size {
				return size, 0, nil
			}
			return end, size - end, truncSync(f, end)
		}
	}
	if size == 0 {
		return 0, 0, nil
	}
	return 0, size, truncSync(f, 0)
}

func truncSync(f *os.File, size int64) error {
	if err := f.Truncate(size); err != nil {
		return err
	}
	return f.Sync()
}

// rotateIfDue rotates a non-empty current.jsonl that reached MaxFileSize
// or MaxFileAge.
func (w *writer) rotateIfDue(now time.Time) {
	size := w.size.Load()
	if w.f == nil || size == 0 || now.Before(w.retryAt) {
		return
	}
	if size < w.s.cfg.MaxFileSize && now.Sub(w.created) < w.s.cfg.MaxFileAge {
		return
	}
	if err := w.rotate(now); err != nil {
		w.retryAt = now.Add(rotateRetry)
		w.s.log.printf("webhook: ROTATION FAILED for cluster %s (writing on; next try in %v): %s", displayName(w.cluster), rotateRetry, sanitize(err.Error()))
	}
}

// rotate closes current.jsonl, renames it to audit-<time>.jsonl, starts a
// new current.jsonl and queues the closed file for compression.
func (w *writer) rotate(now time.Time) error {
	name, err := rotatedName(w.dir, now)
	if err != nil {
		return err
	}
	size := w.size.Load()
	w.closeFile() // its data is already fsync'ed
	cur, dst := filepath.Join(w.dir, currentName), filepath.Join(w.dir, name)
	if err := os.Rename(cur, dst); err != nil {
		return err // the next batch reopens current.jsonl
	}
	w.size.Store(0)
	w.s.closedBytes.Add(size)
	if err := syncDir(w.dir); err != nil {
		w.s.log.printf("webhook: fsync %s: %s", w.dir, sanitize(err.Error()))
	}
	w.s.log.printf("webhook: rotated %s (%d bytes)", dst, size)
	w.s.bg.compress(dst)
	if err := w.open(now); err != nil {
		w.s.log.printf("webhook: SPOOL ERROR for cluster %s after rotation: %s", displayName(w.cluster), sanitize(err.Error()))
	}
	return nil
}

// rotatedName returns audit-<now, UTC, ms>.jsonl, moved on by a
// millisecond at a time while that name (or its .gz) is taken.
func rotatedName(dir string, now time.Time) (string, error) {
	t := now.UTC().Truncate(time.Millisecond)
	for range 1000 {
		base := "audit-" + t.Format(rotatedLayout) + ".jsonl"
		if !exists(filepath.Join(dir, base)) && !exists(filepath.Join(dir, base+".gz")) {
			return base, nil
		}
		t = t.Add(time.Millisecond)
	}
	return "", fmt.Errorf("no free name for a rotated file in %s", dir)
}

// rotatedTime parses the time in the name of a closed file
// (audit-<time>.jsonl or .jsonl.gz).
func rotatedTime(name string) (time.Time, bool) {
	rest, ok := strings.CutPrefix(name, "audit-")
	if !ok {
		return time.Time{}, false
	}
	stem, ok := strings.CutSuffix(rest, ".jsonl")
	if !ok {
		if stem, ok = strings.CutSuffix(rest, ".jsonl.gz"); !ok {
			return time.Time{}, false
		}
	}
	t, err := time.Parse(rotatedLayout, stem)
	return t, err == nil
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil || !errors.Is(err, fs.ErrNotExist)
}

// syncDir fsyncs a directory so that renames and new entries in it are
// durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
