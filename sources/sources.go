// Package sources turns the inputs a user names — files, directories of
// rotated logs, gzip files and standard input — into segments of an
// audit.Store and indexes them; with Options.Follow it keeps indexing what
// is appended, like tail -F.
//
// Raw event bytes stay on disk. A plain file is its own segment, read in
// place with pread on a descriptor held open until Close (never mmap: a
// file truncated under a mapping faults). Gzip data and streams (stdin, a
// named pipe) are copied into an append-only spool file (mode 0600, in a
// private directory that Close removes) which is indexed while it grows.
//
// Files are recognised by content, never by name: gzip by its magic bytes,
// audit logs by their first non-blank byte ('{' or '[') and, when the
// first line is complete, by its being an audit Event, EventList or GKE
// LogEntry. A file named as an argument is always read; in a directory
// (read one level deep, not recursively) hidden files, subdirectories,
// special files and files that are not audit logs are passed over, and
// Open fails if none is left. A named pipe given as an argument, such as
// <(kubectl logs -f ...), is read like stdin.
//
// Following works like tail -F. A file named as an argument is watched by
// path: when the path names a different file (rotation by rename), the
// old file is read to its end, its incomplete last line reported, and the
// new one read from its start as a new segment. A followed directory
// watches its files by identity (device and inode), so a renamed file is
// read on through its descriptor and never twice; new files are judged by
// content once they have some. A file that shrinks was truncated: its old
// segment is sealed (its events stay listed, reading their bytes fails
// with a clear error rather than showing other bytes now at those
// offsets) and it is read again from offset 0 as a new segment. Like
// tail, a truncation is missed if the file grew past its old size between
// two polls.
//
// Rotated copies are not read twice where that can be known cheaply. A
// gzip file found in a directory is skipped (with a notice) when its first
// 4 KiB of output and its length (the gzip trailer) equal those of a file
// already read — rotation then compression, as the API server's log
// backend (lumberjack) and logrotate do. A new plain file in a followed
// directory is skipped when it starts like a file already read and is not
// longer than what was read of it (logrotate copytruncate). Anything else
// is read; the Store drops exact duplicates (auditID, stage and bytes)
// when both copies are still readable.
//
// Descriptors of every file read stay open until Close, because the
// Store reads events through them; a session that follows many rotations
// holds one descriptor per rotated file.
package sources

import (
	"context"
	"errors"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"ktrail/audit"
)

// Options configure a Set.
type Options struct {
	// Follow keeps reading files as they grow, are rotated or truncated,
	// and picks up new files in directories, like tail -F.
	Follow bool
	// Strict stops everything at the first skipped line.
	Strict bool
	// OnError receives every skipped line, and damaged compressed data.
	// Calls are serialised; they come from loading goroutines.
	OnError func(*audit.LineError)
	// OnNotice receives notices about inputs (rotation, truncation, a
	// damaged gzip stream, a file skipped as a copy of one already read).
	// Calls are serialised with OnError.
	OnNotice func(Notice)
	// SpoolDir is the parent directory of the private spool directory
	// ("" means os.TempDir()).
	SpoolDir string
	// Workers is the number of parsing goroutines per loader and the
	// number of gzip files decompressed at once (default GOMAXPROCS).
	Workers int
	// PollInterval is how often followed files and directories are
	// checked (default 250ms).
	PollInterval time.Duration
}

// Progress is a snapshot of how far reading has got, for a progress bar.
type Progress struct {
	// Done and Total are bytes of input. For gzip they are compressed
	// bytes (consumed, scaled by how much of the output is indexed, versus
	// the file's size); for a stream Total is what has arrived so far; a
	// followed file's Total is its current size.
	Done, Total int64
	// Events counts events read, duplicates included (Store.Len is the
	// number kept).
	Events int64
	// Skipped counts skipped lines and damaged compressed data.
	Skipped int64
	// Files counts the distinct files and streams read so far.
	Files int
	// Live is true while files are followed or a stream is still open.
	Live bool
}

// Notice is a one-line message about an input: it was rotated or
// truncated while followed, its compressed data ends early, or it was
// skipped as a copy of a file already read.
type Notice struct {
	Time   time.Time
	Source string // display name of the input
	Msg    string
}

// String formats the notice as "sources: NAME: message", with control
// characters escaped so that it is safe to print on a terminal.
func (n Notice) String() string {
	return "sources: " + audit.Sanitize(n.Source) + ": " + audit.Sanitize(n.Msg)
}

// maxNotices bounds the notices kept for Notices.
const maxNotices = 256

// Set is the inputs of one ktrail session. Open resolves them; Run reads
// them into the Store; Close releases their descriptors and spool files.
// Progress, Skipped, Names and Notices are safe from any goroutine.
type Set struct {
	store  *audit.Store
	opts   Options
	inputs []*input
	dirs   []*dirWatch  // followed directories (Follow only)
	paths  []*pathWatch // followed files named as arguments (built by Run)
	spools []*spoolRoot // followed webhook spool directories (Follow only)

	mu       sync.Mutex // guards the fields below
	srcs     []*source
	names    []string
	nameSet  map[string]bool
	files    []*os.File
	notices  []Notice
	spoolDir string
	clusters map[string]string // directory → cluster label of the events in it
	closed   bool
	cancel   context.CancelFunc

	emu       sync.Mutex // serialises OnError and OnNotice
	skipped   [16]atomic.Int64
	live      atomic.Int32 // open streams
	following atomic.Bool
	started   atomic.Bool
	running   sync.WaitGroup // Run, for Close to wait on
	g         *group         // Run's goroutines
	zipSem    chan struct{}  // bounds concurrent gzip decompression
}

// Names returns the display names of the inputs read so far, each once, in
// the order they were found.
func (s *Set) Names() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.names...)
}

// Progress returns how far reading has got. It is cheap.
func (s *Set) Progress() Progress {
	s.mu.Lock()
	srcs, files := s.srcs, len(s.names)
	s.mu.Unlock()
	p := Progress{Files: files}
	for _, src := range srcs {
		done, total := src.progress()
		p.Done += done
		p.Total += total
		p.Events += src.events.Load()
	}
	for i := range s.skipped {
		p.Skipped += s.skipped[i].Load()
	}
	p.Live = s.following.Load() || s.live.Load() > 0
	return p
}

// Skipped returns the number of skipped lines by kind, summed over all
// inputs. Kinds with no skipped lines are absent.
func (s *Set) Skipped() map[audit.ErrKind]int64 {
	m := make(map[audit.ErrKind]int64)
	for i := range s.skipped {
		if n := s.skipped[i].Load(); n > 0 {
			m[audit.ErrKind(i)] = n
		}
	}
	return m
}

// Notices returns the most recent notices (at most 256), oldest first.
func (s *Set) Notices() []Notice {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Notice(nil), s.notices...)
}

// Close stops Run if it is still going (and waits for it), closes every
// descriptor and removes the spool directory. The Store's events from
// this Set can no longer be read afterwards.
func (s *Set) Close() error {
	s.mu.Lock()
	s.closed = true
	cancel := s.cancel
	s.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	s.running.Wait()
	s.mu.Lock()
	defer s.mu.Unlock()
	var errs []error
	for _, f := range s.files {
		if err := f.Close(); err != nil && !errors.Is(err, os.ErrClosed) {
			errs = append(errs, wrapErr(err))
		}
	}
	s.files = nil
	if s.spoolDir != "" {
		if err := os.RemoveAll(s.spoolDir); err != nil {
			errs = append(errs, wrapErr(err))
		}
		s.spoolDir = ""
	}
	return errors.Join(errs...)
}

// keepFile registers f to be closed by Close.
func (s *Set) keepFile(f *os.File) {
	s.mu.Lock()
	s.files = append(s.files, f)
	s.mu.Unlock()
}

// addName records a display name for Names.
func (s *Set) addName(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.nameSet == nil {
		s.nameSet = make(map[string]bool)
	}
	if !s.nameSet[name] {
		s.nameSet[name] = true
		s.names = append(s.names, name)
	}
}

// lineError counts a skipped line and passes it on. Loaders call it.
func (s *Set) lineError(e *audit.LineError) {
	if int(e.Kind) < len(s.skipped) {
		s.skipped[e.Kind].Add(1)
	}
	if s.opts.OnError == nil {
		return
	}
	s.emu.Lock()
	defer s.emu.Unlock()
	s.opts.OnError(e)
}

// notice records a notice about the input called name and passes it on.
func (s *Set) notice(name, msg string) {
	n := Notice{Time: time.Now(), Source: name, Msg: msg}
	s.mu.Lock()
	if len(s.notices) == maxNotices {
		s.notices = append(s.notices[:0], s.notices[1:]...)
	}
	s.notices = append(s.notices, n)
	s.mu.Unlock()
	if s.opts.OnNotice == nil {
		return
	}
	s.emu.Lock()
	defer s.emu.Unlock()
	s.opts.OnNotice(n)
}

// inputError is an error about one input. It prints as one line,
// "sources: ...", with control characters in names escaped.
type inputError struct {
	msg string
	err error
}

func (e *inputError) Error() string { return "sources: " + e.msg }
func (e *inputError) Unwrap() error { return e.err }

// wrapErr prefixes err (typically an *fs.PathError naming the file).
func wrapErr(err error) error {
	var ie *inputError
	if err == nil || errors.As(err, &ie) {
		return err
	}
	return &inputError{msg: audit.Sanitize(err.Error()), err: err}
}

// nameErr returns an error about the input called name.
func nameErr(name, msg string, err error) error {
	return &inputError{msg: audit.Sanitize(name) + ": " + msg, err: err}
}

// isFatal reports whether err must stop Run as a whole.
func isFatal(err error) bool { return errors.Is(err, audit.ErrStrict) }

// isCanceled reports whether err only says that ctx was cancelled.
func isCanceled(ctx context.Context, err error) bool {
	return ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded))
}

var (
	_ audit.Segment = (*fileSeg)(nil)
	_ audit.Segment = (*spool)(nil)
)
