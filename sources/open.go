package sources

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/klauspost/compress/gzip"

	"ktrail/audit"
)

// inputKind says how an input is read.
type inputKind uint8

const (
	kindFile   inputKind = iota // a plain file, read in place
	kindGzip                    // a gzip file, decompressed into a spool
	kindStream                  // stdin or a pipe, copied into a spool
)

// input is one file or stream that Open resolved.
type input struct {
	name  string // display name
	path  string // "" for stdin
	kind  inputKind
	f     *os.File  // nil for stdin
	r     io.Reader // what to read, for kindStream
	fi    os.FileInfo
	inDir bool      // found by listing a directory
	dir   *dirWatch // the followed directory it belongs to
	src   *source   // kindFile: created by Run
}

// sniffSize is how many leading bytes decide what a file holds.
const sniffSize = 64 << 10

// Open resolves paths into inputs without reading events: files,
// directories (every audit log in them, not recursively) and "-" for
// stdin. With no paths, stdin is read when it is given (the caller decides
// whether stdin is a pipe worth reading). Every path is checked; the
// errors, one line each and naming the path, are joined.
func Open(store *audit.Store, paths []string, stdin io.Reader, opts Options) (*Set, error) {
	if store == nil {
		return nil, errors.New("sources: no store")
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = 250 * time.Millisecond
	}
	s := &Set{store: store, opts: opts}
	if len(paths) == 0 {
		if stdin == nil {
			return nil, errors.New("sources: no input: name a file or a directory, or pipe events into stdin")
		}
		paths = []string{"-"}
	}
	var errs []error
	usedStdin := false
	for _, p := range paths {
		if p != "-" {
			if err := s.resolve(p); err != nil {
				errs = append(errs, err)
			}
			continue
		}
		switch {
		case stdin == nil:
			errs = append(errs, errors.New("sources: -: there is no standard input to read"))
		case usedStdin:
			errs = append(errs, errors.New("sources: -: stdin is named more than once"))
		default:
			usedStdin = true
			s.inputs = append(s.inputs, &input{name: "stdin", kind: kindStream, r: stdin})
		}
	}
	if len(errs) > 0 {
		s.Close()
		return nil, errors.Join(errs...)
	}
	return s, nil
}

// resolve adds the inputs named by path p.
func (s *Set) resolve(p string) error {
	f, err := os.Open(p)
	if err != nil {
		return wrapErr(err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return wrapErr(err)
	}
	switch {
	case fi.IsDir():
		f.Close()
		return s.resolveDir(p)
	case !fi.Mode().IsRegular():
		// A named pipe or a device, such as <(kubectl logs ...): a stream.
		s.keepFile(f)
		s.inputs = append(s.inputs, &input{name: p, path: p, kind: kindStream, f: f, r: f, fi: fi})
		return nil
	}
	var magic [2]byte
	n, err := f.ReadAt(magic[:], 0)
	if err != nil && !errors.Is(err, io.EOF) {
		f.Close()
		return wrapErr(&os.PathError{Op: "read", Path: p, Err: unwrapPath(err)})
	}
	in := &input{name: p, path: p, kind: kindFile, f: f, fi: fi}
	if isGzip(magic[:n]) {
		in.kind = kindGzip
	}
	s.keepFile(f)
	s.inputs = append(s.inputs, in)
	return nil
}

// unwrapPath strips a *PathError so that it can be re-labelled.
func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// resolveDir adds every audit log directly inside dir. Hidden files,
// subdirectories and anything but regular files are passed over; regular
// files are judged by content and the ones that are not audit logs
// skipped. With Follow, dir is also watched for new files.
func (s *Set) resolveDir(dir string) error {
	if isSpool(dir) {
		return s.resolveSpool(dir)
	}
	return s.listDir(dir, true)
}

// listDir adds the audit logs in dir; with mustFind, finding none is an
// error.
func (s *Set) listDir(dir string, mustFind bool) error {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return wrapErr(err)
	}
	var w *dirWatch
	if s.opts.Follow {
		w = &dirWatch{path: dir}
		if fi, err := os.Stat(dir); err == nil {
			w.modTime = fi.ModTime()
		}
	}
	looked, found := 0, 0
	for _, e := range ents {
		name := e.Name()
		if strings.HasPrefix(name, ".") {
			continue
		}
		full := filepath.Join(dir, name)
		fi, err := os.Stat(full) // follows symbolic links
		if err != nil || !fi.Mode().IsRegular() {
			continue
		}
		looked++
		f, err := os.Open(full)
		if err != nil {
			return wrapErr(err)
		}
		v, err := sniff(f, fi.Size())
		if err != nil {
			f.Close()
			return wrapErr(&os.PathError{Op: "read", Path: full, Err: unwrapPath(err)})
		}
		if v == blank && s.opts.Follow {
			// An empty file (a freshly rotated audit.log): decided when
			// something is written to it.
			w.files = append(w.files, &dirFile{path: full, fi: fi, state: statePending})
			found++
		}
		if v == notAudit || v == blank {
			f.Close()
			if w != nil && v == notAudit {
				w.files = append(w.files, &dirFile{path: full, fi: fi, state: stateIgnored})
			}
			continue
		}
		found++
		in := &input{name: full, path: full, kind: kindFile, f: f, fi: fi, inDir: true, dir: w}
		if v == gzipLog {
			in.kind = kindGzip
		}
		s.keepFile(f)
		s.inputs = append(s.inputs, in)
	}
	if found == 0 && mustFind {
		shown := dir
		if !strings.HasSuffix(shown, string(filepath.Separator)) {
			shown += string(filepath.Separator)
		}
		return nameErr(shown, fmt.Sprintf("no audit logs found (looked at %d files)", looked), nil)
	}
	if w != nil {
		s.dirs = append(s.dirs, w)
	}
	return nil
}

// verdict is what sniff found in a file.
type verdict uint8

const (
	notAudit verdict = iota // something else
	blank                   // empty or only whitespace so far
	plainLog                // an audit log
	gzipLog                 // a gzip file holding an audit log
)

// isGzip reports whether b starts with the gzip magic bytes.
func isGzip(b []byte) bool { return len(b) >= 2 && b[0] == 0x1f && b[1] == 0x8b }

// sniff decides from the first bytes of a file of the given size what it
// holds, decompressing gzip first.
func sniff(f io.ReaderAt, size int64) (verdict, error) {
	head := make([]byte, min(size, sniffSize))
	n, err := f.ReadAt(head, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return notAudit, err
	}
	head = head[:n]
	if !isGzip(head) {
		return classify(head, int64(n) >= size), nil
	}
	zr, err := gzip.NewReader(io.NewSectionReader(f, 0, size))
	if err != nil {
		return notAudit, nil // damaged beyond its header: not for us
	}
	buf := make([]byte, sniffSize)
	m, err := io.ReadFull(zr, buf)
	switch classify(buf[:m], err != nil) {
	case plainLog:
		return gzipLog, nil
	case blank:
		return blank, nil
	}
	return notAudit, nil
}

// classify judges the first bytes of a file's content; complete says that
// they are all of it.
func classify(b []byte, complete bool) verdict {
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	b = bytes.TrimLeft(b, " \t\r\n")
	if len(b) == 0 {
		return blank
	}
	if b[0] != '{' && b[0] != '[' {
		return notAudit
	}
	line := b
	if nl := bytes.IndexByte(b, '\n'); nl >= 0 {
		line = b[:nl]
	} else if !complete {
		return plainLog // a first line longer than we looked at
	}
	var f audit.Fields
	var ne *audit.NotEventError
	if err := audit.Extract(line, &f); errors.As(err, &ne) {
		return notAudit // valid JSON, but not an Event, EventList or LogEntry
	}
	return plainLog
}
