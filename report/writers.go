// Package report writes what ktrail found: the query output formats
// (table, JSON lines, JSON, CSV), grouped counts, and the masking of
// secret values that every output applies by default.
package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"ktrail/audit"
)

// Format is an output format of `ktrail query -o`.
type Format int

// The output formats.
const (
	FormatTable Format = iota // aligned columns for a terminal
	FormatJSONL               // one event per line, verbatim
	FormatJSON                // a JSON array of the events
	FormatCSV                 // a header and one row per event
)

var formatNames = [...]string{"table", "jsonl", "json", "csv"}

// String returns the format's name as ParseFormat accepts it.
func (f Format) String() string {
	if f < 0 || int(f) >= len(formatNames) {
		return fmt.Sprintf("Format(%d)", int(f))
	}
	return formatNames[f]
}

// ParseFormat maps a name (table, jsonl, json or csv; ndjson is taken as
// jsonl) to its Format.
func ParseFormat(s string) (Format, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "table", "":
		return FormatTable, nil
	case "jsonl", "ndjson":
		return FormatJSONL, nil
	case "json":
		return FormatJSON, nil
	case "csv":
		return FormatCSV, nil
	}
	return 0, fmt.Errorf("report: unknown output format %q (use table, jsonl, json or csv)", audit.Sanitize(s))
}

// Options configure a Writer.
type Options struct {
	// Redact masks secret values (see Redact) in the formats that show
	// event bodies (jsonl, json). Callers turn it on unless the user asked
	// for --no-redact.
	Redact bool
	// UTC shows times in UTC; otherwise in the local time zone.
	UTC bool
	// Columns are the table and CSV columns (see ColumnNames);
	// DefaultColumns() when empty.
	Columns []string
}

// Writer writes events in one format. Close must be called once all
// events are written: it flushes buffered output (a table is written in
// batches, so that column widths fit the rows).
type Writer interface {
	// Write adds one event. raw is the event's verbatim bytes (Store.Raw);
	// when raw is nil the writer reads them from the store if it needs
	// them. Formats that show only index fields ignore raw.
	Write(r *audit.Rec, raw []byte) error
	// Close flushes what is buffered. It does not close the io.Writer.
	Close() error
}

// errClosed is returned by Write after Close.
var errClosed = errors.New("report: write after Close")

// NewWriter returns a Writer of format f to w. The store supplies the
// strings of the index records and, when Write is given no raw bytes, the
// events' bytes; it may be nil for jsonl and json when every Write
// carries raw bytes (redaction then reads the resource from them).
func NewWriter(w io.Writer, f Format, s *audit.Store, opts Options) (Writer, error) {
	if w == nil {
		return nil, errors.New("report: NewWriter: nil io.Writer")
	}
	switch f {
	case FormatJSONL, FormatJSON:
		return &jsonWriter{w: bufio.NewWriterSize(w, 64<<10), s: s, opts: opts, array: f == FormatJSON}, nil
	case FormatTable, FormatCSV:
		if s == nil {
			return nil, fmt.Errorf("report: %v output needs the store", f)
		}
		cols, err := lookupColumns(opts.Columns)
		if err != nil {
			return nil, err
		}
		ctx := &cellCtx{s: s, loc: opts.location(), csv: f == FormatCSV}
		if f == FormatCSV {
			return newCSVWriter(w, cols, ctx), nil // csv.Writer buffers itself
		}
		return newTableWriter(bufio.NewWriterSize(w, 64<<10), cols, ctx), nil
	}
	return nil, fmt.Errorf("report: unknown output format %v", f)
}

// writeErr wraps an error of the underlying io.Writer.
func writeErr(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("report: writing output: %w", err)
}

// jsonWriter writes events as JSON lines or as a JSON array, verbatim
// apart from masked secret values. Pretty-printed input is compacted so
// that each event stays on one line.
type jsonWriter struct {
	w      *bufio.Writer
	s      *audit.Store
	opts   Options
	array  bool
	n      int
	buf    []byte
	closed bool
}

func (j *jsonWriter) Write(r *audit.Rec, raw []byte) error {
	if j.closed {
		return errClosed
	}
	if raw == nil {
		if r == nil || j.s == nil {
			return errors.New("report: Write needs the event's bytes or its record and a store")
		}
		var err error
		if j.buf, err = j.s.Raw(r, j.buf[:0]); err != nil {
			return fmt.Errorf("report: %w", err)
		}
		raw = j.buf
	}
	ev, err := j.redact(r, raw)
	if err != nil {
		return err
	}
	if bytes.ContainsAny(ev, "\r\n") {
		var c bytes.Buffer
		if err := json.Compact(&c, ev); err == nil {
			ev = c.Bytes()
		}
	}
	switch {
	case !j.array:
	case j.n == 0:
		j.w.WriteString("[\n")
	default:
		j.w.WriteString(",\n")
	}
	j.n++
	// bufio.Writer keeps its first error and returns it from every later
	// call, so checking the last call is enough.
	_, err = j.w.Write(ev)
	if !j.array {
		err = j.w.WriteByte('\n')
	}
	return writeErr(err)
}

// redact applies Options.Redact to one event.
func (j *jsonWriter) redact(r *audit.Rec, raw []byte) ([]byte, error) {
	if !j.opts.Redact {
		return raw, nil
	}
	var (
		out []byte
		err error
	)
	if r != nil && j.s != nil {
		out, _, err = Redact(raw, j.s.Str(r.Resource), j.s.Str(r.Subres))
	} else {
		out, _, err = RedactAuto(raw)
	}
	if err != nil {
		where := ""
		if r != nil && j.s != nil {
			if segs := j.s.Segments(); int(r.Seg()) < len(segs) {
				where = fmt.Sprintf(" (event at byte %d of %s)", r.Off(), audit.Sanitize(segs[r.Seg()].Name()))
			}
		}
		return nil, fmt.Errorf("%w%s: its secret values cannot be found, so it is not shown; --no-redact shows it as it is", err, where)
	}
	return out, nil
}

func (j *jsonWriter) Close() error {
	if j.closed {
		return nil
	}
	j.closed = true
	if j.array {
		if j.n == 0 {
			j.w.WriteString("[]\n")
		} else {
			j.w.WriteString("\n]\n")
		}
	}
	return writeErr(j.w.Flush())
}
