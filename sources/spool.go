package sources

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"sync/atomic"
	"time"

	"github.com/klauspost/compress/flate"
	"github.com/klauspost/compress/gzip"

	"ktrail/audit"
)

const (
	// spoolBlock is the size of the spool writer's buffer.
	spoolBlock = 1 << 20
	// spoolBatch is how much new spooled data makes the indexer load at
	// once instead of waiting for the next tick.
	spoolBatch = 4 << 20
	// spoolLatency is the longest an arrived event waits to be indexed.
	spoolLatency = 100 * time.Millisecond
)

// spool is an append-only file that holds decompressed or streamed input.
// One goroutine writes; the loader reads what has been written.
type spool struct {
	f       *os.File
	name    string
	written atomic.Int64
	lines   atomic.Int64 // newlines written
	notify  chan struct{}
}

// Name returns the display name of the input the spool holds.
func (sp *spool) Name() string { return sp.name }

// ReadAt reads spooled bytes with pread.
func (sp *spool) ReadAt(p []byte, off int64) (int, error) { return sp.f.ReadAt(p, off) }

// write appends b and wakes the indexer.
func (sp *spool) write(b []byte) error {
	n, err := sp.f.Write(b)
	sp.lines.Add(int64(bytes.Count(b[:n], []byte{'\n'})))
	sp.written.Add(int64(n))
	select {
	case sp.notify <- struct{}{}:
	default:
	}
	return err
}

// newSpool creates a spool file, mode 0600, in the Set's private spool
// directory (created on first use, mode 0700).
func (s *Set) newSpool(name string) (*spool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, context.Canceled
	}
	if s.spoolDir == "" {
		dir, err := os.MkdirTemp(s.opts.SpoolDir, "ktrail-spool-")
		if err != nil {
			return nil, wrapErr(fmt.Errorf("cannot create a spool directory: %w", err))
		}
		s.spoolDir = dir
	}
	f, err := os.CreateTemp(s.spoolDir, "segment-")
	if err != nil {
		return nil, wrapErr(fmt.Errorf("cannot create a spool file: %w", err))
	}
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return nil, wrapErr(err)
	}
	s.files = append(s.files, f)
	return &spool{f: f, name: name, notify: make(chan struct{}, 1)}, nil
}

// countReader counts the bytes read through it.
type countReader struct {
	r io.Reader
	n *atomic.Int64
}

func (c countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// runGzip decompresses a gzip file into a spool while indexing it. A file
// found in a directory is skipped when it is the compressed copy of a file
// already read (see copyOf).
func (s *Set) runGzip(ctx context.Context, in *input) error {
	select {
	case s.zipSem <- struct{}{}:
		defer func() { <-s.zipSem }()
	case <-ctx.Done():
		return ctx.Err()
	}
	fi, err := in.f.Stat()
	if err != nil {
		return wrapErr(err)
	}
	size := fi.Size()
	if in.inDir {
		if orig := s.gzipCopyOf(in.f, size); orig != "" {
			s.notice(in.name, "skipped: same content as "+orig+", already read")
			return nil
		}
	}
	sp, err := s.newSpool(in.name)
	if err != nil {
		return err
	}
	src, err := s.newSource(in.name, sp)
	if err != nil {
		return err
	}
	src.zTotal.Store(max(size, 1))
	open := func() (io.Reader, error) {
		br := bufio.NewReaderSize(countReader{io.NewSectionReader(in.f, 0, size), &src.zDone}, 256<<10)
		return newGzipReader(br)
	}
	err = s.pump(ctx, src, sp, open, true)
	if err == nil {
		src.zDone.Store(size)
	}
	return err
}

// runStream copies a stream (stdin, a pipe) into a spool while indexing it,
// decompressing it first when it starts with the gzip magic bytes. The
// goroutine that reads the stream cannot be interrupted: when ctx is
// cancelled it is left behind, and ends at the stream's next read.
func (s *Set) runStream(ctx context.Context, in *input) error {
	s.live.Add(1)
	defer s.live.Add(-1)
	sp, err := s.newSpool(in.name)
	if err != nil {
		return err
	}
	src, err := s.newSource(in.name, sp)
	if err != nil {
		return err
	}
	open := func() (io.Reader, error) {
		br := bufio.NewReaderSize(in.r, 64<<10)
		if magic, _ := br.Peek(2); isGzip(magic) {
			return newGzipReader(br)
		}
		return br, nil
	}
	return s.pump(ctx, src, sp, open, false)
}

// spoolWriteError is a failure to write the spool (a full disk): fatal for
// the input, unlike damaged input data.
type spoolWriteError struct{ err error }

func (e *spoolWriteError) Error() string { return "cannot write the spool file: " + e.err.Error() }
func (e *spoolWriteError) Unwrap() error { return e.err }

// pump copies what open returns into sp in a goroutine of its own and
// indexes the spool as it grows: after spoolBatch new bytes, or
// spoolLatency after the last load, whichever comes first; then to the
// end once the copy has finished. fill makes the copier write whole
// blocks (for files, whose reads never wait); streams are written as they
// arrive.
func (s *Set) pump(ctx context.Context, src *source, sp *spool, open func() (io.Reader, error), fill bool) error {
	done := make(chan error, 1)
	go func() { done <- copyInto(ctx, sp, open, fill) }()
	tick := time.NewTicker(spoolLatency)
	defer tick.Stop()
	var lastEnd int64
	var copyErr error
	for eof := false; !eof; {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case copyErr = <-done:
			eof = true
		case <-sp.notify:
			if sp.written.Load()-lastEnd < spoolBatch {
				continue
			}
		case <-tick.C:
		}
		end := sp.written.Load()
		if end == lastEnd && !eof {
			continue
		}
		if err := s.index(ctx, src, end, eof); err != nil {
			return err
		}
		lastEnd = end
	}
	var we *spoolWriteError
	var te *trailingError
	switch {
	case copyErr == nil:
		return nil
	case errors.As(copyErr, &te):
		s.notice(src.name, te.Error())
		return nil
	case errors.As(copyErr, &we):
		return nameErr(src.name, we.Error(), we)
	case isDamage(copyErr):
		return s.damaged(src, sp, copyErr)
	}
	return nameErr(src.name, "read: "+copyErr.Error(), copyErr)
}

// copyInto copies the reader that open returns into sp until it ends or
// ctx is done (checked between reads: a read that waits is not cut short).
func copyInto(ctx context.Context, sp *spool, open func() (io.Reader, error), fill bool) error {
	r, err := open()
	if err != nil {
		return err
	}
	buf := make([]byte, spoolBlock)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		n, err := r.Read(buf)
		for fill && err == nil && n < len(buf) {
			var m int
			m, err = r.Read(buf[n:])
			n += m
		}
		if n > 0 {
			if werr := sp.write(buf[:n]); werr != nil {
				return &spoolWriteError{werr}
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// isDamage reports whether err means damaged or cut-short compressed data
// (rather than a failure to read).
func isDamage(err error) bool {
	var ce flate.CorruptInputError
	return errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, gzip.ErrChecksum) ||
		errors.Is(err, gzip.ErrHeader) || errors.As(err, &ce)
}

// damaged reports compressed data that ends early or is corrupt, after the
// events before it were indexed. It is a skipped "line" (kind
// ErrTruncated, at the line where the data stops) and a notice; with
// --strict it stops everything.
func (s *Set) damaged(src *source, sp *spool, cause error) error {
	what := "gzip data ends early"
	if !errors.Is(cause, io.ErrUnexpectedEOF) {
		what = "gzip data is damaged"
	}
	msg := fmt.Sprintf("%s (%v) after %d bytes of output; the %d events before it are kept",
		what, cause, sp.written.Load(), src.events.Load())
	s.lineError(&audit.LineError{Source: src.name, Line: int(sp.lines.Load()) + 1, Kind: audit.ErrTruncated, Msg: msg})
	s.notice(src.name, msg)
	if s.opts.Strict {
		return audit.ErrStrict
	}
	return nil
}

// gzipReader reads every member of a gzip stream (files made with cat
// a.gz b.gz, or by pigz), and tells damaged data inside a member from
// bytes after the last complete member, which lose nothing.
type gzipReader struct {
	br *bufio.Reader
	zr *gzip.Reader
}

// trailingError reports bytes after the last complete gzip member.
type trailingError struct{ err error }

func (e *trailingError) Error() string {
	return "ignored data after the end of the gzip data (" + e.err.Error() + "); every event before it was read"
}

func newGzipReader(br *bufio.Reader) (io.Reader, error) {
	zr, err := gzip.NewReader(br)
	if err != nil {
		return nil, err
	}
	zr.Multistream(false)
	return &gzipReader{br: br, zr: zr}, nil
}

// Read reads decompressed bytes, going on to the next member at the end of
// one.
func (g *gzipReader) Read(p []byte) (int, error) {
	for {
		n, err := g.zr.Read(p)
		if err != io.EOF {
			return n, err
		}
		// The member ended and its checksum matched: is there another?
		if _, err := g.br.Peek(1); err != nil {
			if err == io.EOF {
				return n, io.EOF
			}
			return n, err
		}
		if err := g.zr.Reset(g.br); err != nil {
			return n, &trailingError{err}
		}
		g.zr.Multistream(false)
		if n > 0 {
			return n, nil
		}
	}
}

// gzipCopyOf returns the name of a file already read (or being read) whose
// content the gzip file f holds exactly: the same first headSize bytes and
// the same length (the gzip trailer's ISIZE, the length modulo 2^32). It
// returns "" when there is none or f cannot be read.
func (s *Set) gzipCopyOf(f io.ReaderAt, size int64) string {
	if size < 18 {
		return ""
	}
	var trailer [4]byte
	if _, err := f.ReadAt(trailer[:], size-4); err != nil {
		return ""
	}
	isize := binary.LittleEndian.Uint32(trailer[:])
	zr, err := gzip.NewReader(io.NewSectionReader(f, 0, size))
	if err != nil {
		return ""
	}
	head := make([]byte, headSize)
	n, _ := io.ReadFull(zr, head)
	return s.copyOf(head[:n], func(seen int64) bool { return uint32(seen) == isize })
}

// copyOf returns the name of a source whose first bytes start with head
// (head being all of a file's first headSize bytes, or all of it) and
// whose size seen satisfies sizeOK, or "".
func (s *Set) copyOf(head []byte, sizeOK func(seen int64) bool) string {
	if len(head) == 0 {
		return ""
	}
	s.mu.Lock()
	srcs := s.srcs
	s.mu.Unlock()
	for _, src := range srcs {
		h, seen := src.headAndSize()
		if len(h) == 0 && seen > 0 {
			src.noteHead()
			h, seen = src.headAndSize()
		}
		if len(h) >= len(head) && bytes.Equal(h[:len(head)], head) && sizeOK(seen) {
			return src.name
		}
	}
	return ""
}
