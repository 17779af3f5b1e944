package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"

	"golang.org/x/term"

	"ktrail/audit"
	"ktrail/audit/auditgen"
	"ktrail/sources"
)

// inputFlags are the flags shared by every command that reads events.
type inputFlags struct {
	follow bool
	strict bool
	demo   bool
}

// session is an opened Store with the sources that feed it.
type session struct {
	store   *audit.Store
	set     *sources.Set
	errs    *errorReporter
	lastEnd int64
}

// openInputs resolves the input rules: paths are files or directories, "-"
// is stdin; with no path, stdin is read when it is a pipe or a file (never
// a terminal). demo reads the embedded demo dataset instead.
func openInputs(paths []string, stdin io.Reader, stderr io.Writer, in inputFlags) (*session, error) {
	store := audit.NewStore()
	rep := newErrorReporter(stderr)
	opts := sources.Options{Follow: in.follow, Strict: in.strict, OnError: rep.lineError, OnNotice: rep.notice}
	var src io.Reader
	switch {
	case in.demo:
		if len(paths) > 0 {
			return nil, fmt.Errorf("--demo reads the embedded demo; do not name paths too")
		}
		src = bytes.NewReader(auditgen.Demo())
	case len(paths) == 0:
		if stdin == nil || isTerminal(stdin) {
			return nil, fmt.Errorf("no input: name a file or directory, pipe events into stdin, or try `ktrail demo`")
		}
		src = stdin
	default:
		for _, p := range paths {
			if p == "-" {
				src = stdin
			}
		}
	}
	set, err := sources.Open(store, paths, src, opts)
	if err != nil {
		return nil, err
	}
	return &session{store: store, set: set, errs: rep}, nil
}

// load reads every input; it returns when all is indexed (or ctx ends).
func (s *session) load(ctx context.Context) error { return s.set.Run(ctx) }

func (s *session) close() { s.set.Close() }

// finish prints the skipped-line summary after load and returns how many
// lines were skipped; a --strict stop becomes exit 2, another load error
// is returned as it is.
func (s *session) finish(loadErr error) (int64, error) {
	skipped := s.errs.summary()
	if errors.Is(loadErr, audit.ErrStrict) {
		return skipped, &exitError{exitUsage}
	}
	return skipped, loadErr
}

// isTerminal reports whether r is a terminal.
func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// isTerminalWriter reports whether w is a terminal.
func isTerminalWriter(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// maxPerKind bounds how many skipped lines of one kind are printed per
// source; the rest are counted in the summary.
const maxPerKind = 10

// errorReporter prints skipped lines as FILE:LINE: reason, at most a few
// per kind and source (non-JSON text once), and counts them all.
type errorReporter struct {
	mu      sync.Mutex
	w       io.Writer
	printed map[string]int
	counts  map[audit.ErrKind]int64
	total   int64
}

func newErrorReporter(w io.Writer) *errorReporter {
	return &errorReporter{w: w, printed: map[string]int{}, counts: map[audit.ErrKind]int64{}}
}

func (r *errorReporter) lineError(e *audit.LineError) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.counts[e.Kind]++
	r.total++
	key := e.Source + "\x00" + e.Kind.String()
	limit := maxPerKind
	if e.Kind == audit.ErrText {
		limit = 1
	}
	n := r.printed[key]
	r.printed[key] = n + 1
	switch {
	case n < limit:
		suffix := ""
		if e.Kind == audit.ErrText {
			suffix = " (further such lines are only counted)"
		}
		fmt.Fprintf(r.w, "%s%s\n", e.Error(), suffix)
	case n == limit && e.Kind != audit.ErrText:
		fmt.Fprintf(r.w, "%s: more %s lines skipped; only counting them now\n", audit.Sanitize(e.Source), e.Kind)
	}
}

func (r *errorReporter) notice(n sources.Notice) {
	r.mu.Lock()
	defer r.mu.Unlock()
	fmt.Fprintln(r.w, n.String())
}

// setWriter sends further messages to w.
func (r *errorReporter) setWriter(w io.Writer) {
	r.mu.Lock()
	r.w = w
	r.mu.Unlock()
}

// summary prints the skipped-line counts, if any, and returns the total.
func (r *errorReporter) summary() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.total == 0 {
		return 0
	}
	fmt.Fprintf(r.w, "ktrail: skipped %d input line(s):", r.total)
	for k := audit.ErrText; k <= audit.ErrPartial; k++ {
		if c := r.counts[k]; c > 0 {
			fmt.Fprintf(r.w, " %d %s;", c, k)
		}
	}
	fmt.Fprintln(r.w)
	return r.total
}
