package report

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode/utf8"

	"ktrail/audit"
)

// DigestSuffix is appended to a report's path to name the file holding
// its SHA-256 digest.
const DigestSuffix = ".sha256"

// WriteReport writes r in format f to w. The events r names are read from
// s through v; opts.Redact masks secret values in the event bodies that
// the report shows (Markdown, HTML and JSON lines show the bodies of
// marked events, JSON lines all of them), opts.UTC picks the time zone,
// and opts.Columns the event columns (DefaultColumns when empty).
func WriteReport(w io.Writer, f ReportFormat, r *Report, s *audit.Store, v *audit.View, opts Options) error {
	if w == nil || r == nil || s == nil || v == nil {
		return errors.New("report: WriteReport needs a writer, a report, a store and a view")
	}
	for _, m := range r.Marks {
		if int(m.ID) >= v.NumRecs() {
			return fmt.Errorf("report: mark of event %d: no such event", m.ID)
		}
	}
	for _, p := range r.Pivots {
		for i, g := range p.Groups {
			if len(g.Values) != len(p.Keys) {
				return fmt.Errorf("report: pivot %s: group %d has %d values for %d fields", audit.Sanitize(strings.Join(p.Keys, ",")), i, len(g.Values), len(p.Keys))
			}
		}
	}
	cols, err := lookupColumns(opts.Columns)
	if err != nil {
		return err
	}
	rc := &reportCtx{
		r: r, s: s, v: v, opts: opts, cols: cols,
		cell:  &cellCtx{s: s, loc: opts.location()},
		marks: newMarkList(v, r.Marks),
	}
	switch f {
	case ReportMarkdown:
		return writeMarkdown(w, rc)
	case ReportHTML:
		return writeHTML(w, rc)
	case ReportCSV:
		return writeReportCSV(w, rc)
	case ReportJSONL:
		return writeReportJSONL(w, rc)
	}
	return fmt.Errorf("report: unknown report format %v", f)
}

// SaveReport writes r to path in format f, atomically and with mode 0600,
// then writes its digest beside it, in PATH.sha256 ("<hex>  <name>\n", as
// sha256sum prints it; also 0600), so that a reader can check the report
// was not altered (sha256sum -c PATH.sha256). Without overwrite it
// refuses, before writing anything, when either file exists (the error
// wraps fs.ErrExist).
func SaveReport(path string, f ReportFormat, r *Report, s *audit.Store, v *audit.View, opts Options, overwrite bool) error {
	sumPath := path + DigestSuffix
	if !overwrite {
		for _, p := range []string{path, sumPath} {
			if _, err := os.Lstat(p); err == nil {
				return fmt.Errorf("report: %s: %w", audit.Sanitize(p), fs.ErrExist)
			}
		}
	}
	h := sha256.New()
	err := WriteFileAtomic(path, overwrite, func(w io.Writer) error {
		return WriteReport(io.MultiWriter(w, h), f, r, s, v, opts)
	})
	if err != nil {
		return err
	}
	line := DigestLine(hex.EncodeToString(h.Sum(nil)), filepath.Base(path))
	err = WriteFileAtomic(sumPath, overwrite, func(w io.Writer) error {
		_, err := io.WriteString(w, line)
		return writeErr(err)
	})
	if err != nil {
		return fmt.Errorf("report: %s was written but its digest was not: %w", audit.Sanitize(path), err)
	}
	return nil
}

// DigestLine formats one line of sha256sum output for a file name. As
// sha256sum does, a name holding a backslash or a line break has them
// escaped and the line starts with a backslash.
func DigestLine(hexSum, name string) string {
	if !strings.ContainsAny(name, "\\\n\r") {
		return hexSum + "  " + name + "\n"
	}
	name = strings.NewReplacer(`\`, `\\`, "\n", `\n`, "\r", `\r`).Replace(name)
	return `\` + hexSum + "  " + name + "\n"
}

// reportCtx is what the format writers share.
type reportCtx struct {
	r     *Report
	s     *audit.Store
	v     *audit.View
	opts  Options
	cols  []column
	cell  *cellCtx
	marks *markList
	raw   []byte
}

// cells returns the column values of one event, unescaped.
func (rc *reportCtx) cells(rec *audit.Rec) []string {
	out := make([]string, len(rc.cols))
	for i, c := range rc.cols {
		out[i] = c.value(rc.cell, rec)
	}
	return out
}

// colNames returns the names of the event columns.
func (rc *reportCtx) colNames() []string {
	out := make([]string, len(rc.cols))
	for i, c := range rc.cols {
		out[i] = c.name
	}
	return out
}

// event returns the bytes of event id, redacted unless the options say
// otherwise, on one line. The result is valid until the next call.
func (rc *reportCtx) event(id uint32) ([]byte, error) {
	rec := rc.v.Rec(id)
	var err error
	if rc.raw, err = rc.s.Raw(rec, rc.raw[:0]); err != nil {
		return nil, fmt.Errorf("report: reading event: %w", err)
	}
	ev := rc.raw
	if rc.opts.Redact {
		if ev, _, err = Redact(ev, rc.s.Str(rec.Resource), rc.s.Str(rec.Subres)); err != nil {
			return nil, fmt.Errorf("%w: its secret values cannot be found, so the report is not written; --no-redact shows it as it is", err)
		}
	}
	if bytes.ContainsAny(ev, "\r\n") {
		var c bytes.Buffer
		if err := json.Compact(&c, ev); err == nil {
			ev = c.Bytes()
		}
	}
	return ev, nil
}

// prettyEvent returns the event's JSON indented for people, with the
// characters that could hide or reorder text (DEL, C1 controls, line and
// paragraph separators, bidirectional formatting) written as \u escapes,
// which is still the same JSON since such characters can only be in
// strings.
func (rc *reportCtx) prettyEvent(id uint32) (string, error) {
	ev, err := rc.event(id)
	if err != nil {
		return "", err
	}
	var b bytes.Buffer
	if err := json.Indent(&b, ev, "", "  "); err != nil {
		return "", fmt.Errorf("report: event %d is not valid JSON: %w", id, err)
	}
	return escapeHidden(b.String()), nil
}

// escapeHidden writes DEL, the C1 controls, U+2028, U+2029 and the
// bidirectional-formatting characters of JSON text as \u escapes, and
// invalid UTF-8 as \ufffd.
func escapeHidden(s string) string {
	clean := true
	for _, r := range s {
		if hidden(r) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b []byte
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if hidden(r) {
			if r == utf8.RuneError {
				r = 0xfffd
			}
			b = appendU4(b, r)
		} else {
			b = append(b, s[i:i+n]...)
		}
		i += n
	}
	return string(b)
}

func hidden(r rune) bool {
	return r == 0x7f || (r >= 0x80 && r < 0xa0) || r == 0x2028 || r == 0x2029 || isBidi(r) || r == utf8.RuneError
}

// timeText formats a report time (generated, window bounds, buckets) in
// the options' zone, to the second unless it has a fraction.
func (rc *reportCtx) timeText(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(rc.cell.loc).Format(time.RFC3339Nano)
}

// nsText formats a Unix ns time as the event tables do; "" for 0.
func (rc *reportCtx) nsText(ns int64) string { return rc.cell.time(ns, false) }

// windowText describes the time window of the report.
func (rc *reportCtx) windowText() string {
	from, to := "start of input", "end of input"
	if !rc.r.From.IsZero() {
		from = rc.timeText(rc.r.From)
	}
	if !rc.r.To.IsZero() {
		to = rc.timeText(rc.r.To)
	}
	return from + " to " + to
}

// spanText describes the times of the first and last listed events.
func (rc *reportCtx) spanText(rows []uint32) string {
	first, last, ok := eventSpan(rc.v, rows)
	if !ok {
		return "none"
	}
	return rc.nsText(first) + " to " + rc.nsText(last)
}

// listedText says how many events are listed.
func (rc *reportCtx) listedText(rows []uint32) string {
	s := fmt.Sprintf("%d", len(rc.r.Events))
	if len(rc.r.Events) < rc.r.Matched {
		s += fmt.Sprintf(" (the first %d of %d matching)", len(rc.r.Events), rc.r.Matched)
	}
	if extra := len(rows) - len(rc.r.Events); extra > 0 {
		s += fmt.Sprintf(", and %d marked event(s) outside them", extra)
	}
	return s
}

// filterText shows the filter, or says there was none.
func (rc *reportCtx) filterText() string {
	if strings.TrimSpace(rc.r.Filter) == "" {
		return "(none: every event)"
	}
	return rc.r.Filter
}

// groupValue shows one value of a group; an empty value shows as
// "(none)".
func groupValue(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}
