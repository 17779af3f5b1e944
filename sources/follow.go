package sources

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"ktrail/audit"
)

// rescanEvery makes a followed directory be listed at least every this
// many polls even when its modification time has not changed.
const rescanEvery = 8

// tail follows one plain file through its descriptor, so that it is read
// to its end even after it was renamed or deleted.
type tail struct {
	path   string      // where the file was found (it may have been renamed since)
	f      *os.File    // also the segment's descriptor
	fi     os.FileInfo // the file's identity
	src    *source
	loaded int64 // the size indexed by the last successful load
}

// pathWatch follows a file named as an argument, like tail -F: when the
// path names a different file (rotation by rename), the old file is read to
// its end and the new one from its start, as a new segment.
type pathWatch struct {
	path    string
	fi      os.FileInfo // identity of the file the path named last
	cur     *tail       // nil when that file is not tailed (gzip)
	missing bool
	lastErr string
}

// fileState is where a file in a followed directory stands.
type fileState uint8

const (
	statePending fileState = iota // empty, or gzip still growing: look again
	stateIgnored                  // not an audit log, or a copy of one read
	stateTailing                  // a plain audit log being followed
	stateDone                     // a gzip file, read (or skipped) once
)

// dirFile is one file seen in a followed directory, known by identity
// (device and inode), so that a renamed file is not read again.
type dirFile struct {
	path   string
	fi     os.FileInfo
	state  fileState
	t      *tail
	gzSize int64 // gzip: size at the last look, to wait until it is complete
}

// dirWatch follows a directory: its audit logs as they grow, and new ones
// as they appear.
type dirWatch struct {
	path    string
	modTime time.Time
	files   []*dirFile
	polls   int
	lastErr string
}

// find returns the known file with the identity of fi, or nil.
func (d *dirWatch) find(fi os.FileInfo) *dirFile {
	for _, e := range d.files {
		if os.SameFile(e.fi, fi) {
			return e
		}
	}
	return nil
}

// follow polls the followed files and directories until ctx is done. The
// plain files named in files have been indexed up to where they were.
func (s *Set) follow(ctx context.Context, files []*input) error {
	for _, in := range files {
		t := &tail{path: in.path, f: in.f, fi: in.fi, src: in.src, loaded: in.src.pos.Load()}
		if in.dir != nil {
			in.dir.files = append(in.dir.files, &dirFile{path: in.path, fi: in.fi, state: stateTailing, t: t})
		} else {
			s.paths = append(s.paths, &pathWatch{path: in.path, fi: in.fi, cur: t})
		}
	}
	for _, in := range s.inputs {
		if in.kind != kindGzip {
			continue
		}
		if in.dir != nil {
			in.dir.files = append(in.dir.files, &dirFile{path: in.path, fi: in.fi, state: stateDone})
		} else {
			s.paths = append(s.paths, &pathWatch{path: in.path, fi: in.fi})
		}
	}
	tick := time.NewTicker(s.opts.PollInterval)
	defer tick.Stop()
	for {
		for _, w := range s.paths {
			if err := s.settle(ctx, w.path, &w.lastErr, s.pollPath(ctx, w)); err != nil {
				return err
			}
		}
		for _, r := range s.spools {
			if err := s.pollSpool(r); err != nil {
				s.notice(r.path, "cannot list the spool directory: "+err.Error())
			}
		}
		for _, d := range s.dirs {
			if err := s.settle(ctx, d.path, &d.lastErr, s.pollDir(ctx, d)); err != nil {
				return err
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// settle returns err if it must stop following, and otherwise turns it
// into a notice, once for as long as the same error repeats.
func (s *Set) settle(ctx context.Context, name string, last *string, err error) error {
	if err == nil {
		*last = ""
		return nil
	}
	if isCanceled(ctx, err) {
		return nil
	}
	if isFatal(err) {
		return err
	}
	msg := strings.TrimPrefix(err.Error(), "sources: ")
	if msg != *last {
		*last = msg
		s.notice(name, msg)
	}
	return nil
}

// pollPath checks a followed path for rotation and its file for growth.
func (s *Set) pollPath(ctx context.Context, w *pathWatch) error {
	fi, err := os.Stat(w.path)
	switch {
	case err == nil && !os.SameFile(fi, w.fi):
		w.missing = false
		if err := s.replaced(ctx, w); err != nil {
			return err
		}
	case err == nil:
		w.missing = false
	case errors.Is(err, fs.ErrNotExist):
		if !w.missing {
			w.missing = true
			s.notice(w.path, "is gone; reading what is written to it still, and waiting for a new file")
		}
		err = nil
	}
	if w.cur != nil {
		return s.growTail(ctx, w.cur)
	}
	return err
}

// replaced handles a followed path that now names a different file: the
// old file is read to its end (an incomplete last line is reported) and
// stays open for its events; the new one starts as a new segment.
func (s *Set) replaced(ctx context.Context, w *pathWatch) error {
	f, err := os.Open(w.path)
	if err != nil {
		return wrapErr(err) // tried again at the next poll
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return wrapErr(err)
	}
	if old := w.cur; old != nil {
		if err := s.growTail(ctx, old); err != nil && (isFatal(err) || isCanceled(ctx, err)) {
			f.Close()
			return err
		}
		if err := s.index(ctx, old.src, old.loaded, true); err != nil && (isFatal(err) || isCanceled(ctx, err)) {
			f.Close()
			return err
		}
	}
	s.notice(w.path, "was replaced by a new file (rotated): the old one was read to its end; reading the new one from the start")
	s.keepFile(f)
	w.fi, w.cur = fi, nil
	var magic [2]byte
	n, _ := f.ReadAt(magic[:], 0)
	if isGzip(magic[:n]) {
		s.startGzip(ctx, &input{name: w.path, path: w.path, kind: kindGzip, f: f, fi: fi})
		return nil
	}
	src, err := s.newSource(w.path, &fileSeg{f: f, name: w.path})
	if err != nil {
		return err
	}
	w.cur = &tail{path: w.path, f: f, fi: fi, src: src}
	return nil
}

// startGzip reads a gzip file found while following, in the background.
func (s *Set) startGzip(ctx context.Context, in *input) {
	s.g.run(func() error { return s.runGzip(ctx, in) })
}

// growTail indexes what was appended to a tailed file, waiting for an
// incomplete last line, and starts over when the file was truncated.
func (s *Set) growTail(ctx context.Context, t *tail) error {
	fi, err := t.f.Stat()
	if err != nil {
		return nameErr(t.src.name, err.Error(), err)
	}
	size := fi.Size()
	if size < t.src.size.Load() {
		return s.truncated(ctx, t, size)
	}
	if size <= t.loaded {
		return nil
	}
	err = s.index(ctx, t.src, size, false)
	switch {
	case err == nil:
		t.loaded = size
		return nil
	case isFatal(err) || isCanceled(ctx, err):
		return err
	}
	// The file may have shrunk while it was read.
	if fi, serr := t.f.Stat(); serr == nil && fi.Size() < size {
		return s.truncated(ctx, t, fi.Size())
	}
	return loadErr(t.src.name, err)
}

// truncated handles a tailed file that became shorter than what was seen
// of it. Its events stay in the store, but the old segment is sealed: its
// bytes are gone or now belong to other events, so reading them fails
// with a clear error instead of showing the wrong event. The file is read
// again from offset 0 as a new segment, on a new descriptor when the path
// still names it.
func (s *Set) truncated(ctx context.Context, t *tail, size int64) error {
	old := t.src
	if g, ok := old.seg.(*fileSeg); ok {
		why := fmt.Sprintf("sources: %s: the file was truncated at %s; the bytes of the events read before are gone",
			audit.Sanitize(old.name), time.Now().Format(time.TimeOnly))
		g.sealed.Store(&why)
	}
	s.notice(old.name, fmt.Sprintf("was truncated from %d to %d bytes: the %d events read before stay listed (their bytes are gone); reading it again from the start",
		old.size.Load(), size, old.events.Load()))
	f := t.f
	if nf, err := os.Open(t.path); err == nil {
		if nfi, err := nf.Stat(); err == nil && os.SameFile(nfi, t.fi) {
			s.keepFile(nf)
			f = nf
		} else {
			nf.Close()
		}
	}
	src, err := s.newSource(old.name, &fileSeg{f: f, name: old.name})
	if err != nil {
		return err
	}
	t.f, t.src, t.loaded = f, src, 0
	return s.growTail(ctx, t)
}

// loadErr turns a loader error into one line naming the file.
func loadErr(name string, err error) error {
	msg := strings.TrimPrefix(err.Error(), "audit: ")
	if !strings.Contains(msg, name) {
		return nameErr(name, msg, err)
	}
	return &inputError{msg: audit.Sanitize(msg), err: err}
}

// pollDir grows the tailed files of a followed directory, looks again at
// pending ones, and lists the directory for new files when it changed.
func (s *Set) pollDir(ctx context.Context, d *dirWatch) error {
	var errs []error
	for _, e := range d.files {
		if e.state != stateTailing {
			continue
		}
		if err := s.growTail(ctx, e.t); err != nil {
			if isFatal(err) || isCanceled(ctx, err) {
				return err
			}
			errs = append(errs, err)
		}
	}
	for _, e := range d.files {
		if e.state != statePending {
			continue
		}
		if st, err := os.Stat(e.path); err == nil && os.SameFile(st, e.fi) {
			if err := s.examine(ctx, e, st); err != nil {
				errs = append(errs, err)
			}
		}
	}
	fi, err := os.Stat(d.path)
	if err != nil {
		return wrapErr(err)
	}
	d.polls++
	if fi.ModTime().Equal(d.modTime) && d.polls%rescanEvery != 0 {
		return errors.Join(errs...)
	}
	d.modTime = fi.ModTime()
	ents, err := os.ReadDir(d.path)
	if err != nil {
		return wrapErr(err)
	}
	for _, ent := range ents {
		if strings.HasPrefix(ent.Name(), ".") {
			continue
		}
		full := filepath.Join(d.path, ent.Name())
		st, err := os.Stat(full)
		if err != nil || !st.Mode().IsRegular() {
			continue
		}
		e := d.find(st)
		switch {
		case e == nil:
			e = &dirFile{path: full, fi: st}
			d.files = append(d.files, e)
		case e.state == stateIgnored && (st.Size() != e.fi.Size() || !st.ModTime().Equal(e.fi.ModTime())):
			// Changed since it was judged (or a new file got its inode).
			e.path = full
		default:
			e.path = full // perhaps renamed
			continue
		}
		if err := s.examine(ctx, e, st); err != nil {
			if isFatal(err) || isCanceled(ctx, err) {
				return err
			}
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// examine judges a new or changed file in a followed directory by its
// content. A plain audit log is tailed from its start, unless it is a
// copy of a file already read (copytruncate rotation); a gzip file is read
// once its size has stopped changing between two polls, unless it is the
// compressed copy of a file already read (rotation then compression).
func (s *Set) examine(ctx context.Context, e *dirFile, st os.FileInfo) error {
	e.fi = st
	if st.Size() == 0 {
		e.state = statePending
		return nil
	}
	f, err := os.Open(e.path)
	if err != nil {
		e.state = stateIgnored
		return wrapErr(err)
	}
	fi, err := f.Stat()
	if err != nil || !os.SameFile(fi, st) {
		f.Close()
		e.state = statePending
		return wrapErr(err)
	}
	e.fi = fi
	v, err := sniff(f, fi.Size())
	switch {
	case err != nil:
		f.Close()
		e.state = stateIgnored
		return wrapErr(&os.PathError{Op: "read", Path: e.path, Err: unwrapPath(err)})
	case v == blank:
		f.Close()
		e.state = statePending
		return nil
	case v == notAudit:
		f.Close()
		e.state = stateIgnored
		return nil
	case v == gzipLog:
		if e.gzSize != fi.Size() {
			e.gzSize = fi.Size() // perhaps still being written: look again
			f.Close()
			e.state = statePending
			return nil
		}
		e.state = stateDone
		s.keepFile(f)
		s.startGzip(ctx, &input{name: e.path, path: e.path, kind: kindGzip, f: f, fi: fi, inDir: true})
		return nil
	}
	head := make([]byte, min(fi.Size(), headSize))
	n, _ := io.ReadFull(io.NewSectionReader(f, 0, int64(len(head))), head)
	if n < headSize && !bytes.Contains(head[:n], []byte{'\n'}) {
		// Every event starts alike: wait for a whole first line before
		// deciding whether this is a copy.
		f.Close()
		e.state = statePending
		return nil
	}
	if orig := s.copyOf(head[:n], func(seen int64) bool { return fi.Size() <= seen }); orig != "" {
		f.Close()
		e.state = stateIgnored
		s.notice(e.path, "skipped: a copy of "+orig+", already read")
		return nil
	}
	s.keepFile(f)
	src, err := s.newSource(e.path, &fileSeg{f: f, name: e.path})
	if err != nil {
		e.state = stateIgnored
		return err
	}
	e.t = &tail{path: e.path, f: f, fi: fi, src: src}
	e.state = stateTailing
	return s.growTail(ctx, e.t)
}
