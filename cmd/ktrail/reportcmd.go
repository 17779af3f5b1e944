package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"ktrail/audit"
	"ktrail/filters"
	"ktrail/report"
	"ktrail/tui/timeline"
)

// reportDetections, when set, runs the detection rules over the matching
// events ids of v for `ktrail report`; the findings go into the report.
// When it is nil the report says that detections were not run.
var reportDetections func(store *audit.Store, v *audit.View, ids []uint32) ([]report.Finding, error)

// defaultPivots are the fields whose top values a report shows when no
// --group-by is given.
var defaultPivots = []string{"user", "sourceIP", "resource"}

// reportBuckets is the most buckets the report's timeline has.
const reportBuckets = 60

// reportFlags are the flags of `ktrail report`.
type reportFlags struct {
	strict    bool
	format    string
	out       string
	exprs     []string
	since     string
	until     string
	now       string
	title     string
	session   string
	noRedact  bool
	utc       bool
	local     bool
	overwrite bool
	groupBy   []string
	top       int
	limit     int
	columns   []string
}

func newReportCmd(stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	var q reportFlags
	cmd := &cobra.Command{
		Use:   "report --out PATH [flags] [PATH…]",
		Short: "Write an investigation report (Markdown, HTML, CSV or JSON lines)",
		Long: `report reads the inputs as query does (files, directories, "-" for stdin; with
no PATH, the --session file's input, else stdin when it is a pipe or a file),
keeps the events that match every -e expression and the time window, and
writes a report to --out: the title, when it was generated, the sources with
their size and SHA-256, the filter and window, counts, the top values of the
--group-by fields, a timeline, the detections that fired, the marked events
with their notes (from --session), and the events. Event bodies are redacted
unless --no-redact.

The report is written atomically with mode 0600, and its SHA-256 digest goes
beside it in PATH.sha256 (check it with sha256sum -c PATH.sha256). An existing
report is not replaced without --overwrite. --out - writes to stdout, with no
digest file.

Exit codes: 0 something matched, 1 nothing matched (the report is still
written), 2 usage or fatal error, 3 something matched but some input lines
were skipped.`,
		Example: `  ktrail report --format html --out incident.html -e 'resource == "secrets"' audit.log
  ktrail report --format md --out notes.md --session incident.ktrail.json
  ktrail report --out events.csv --since 2h --group-by user,verb /var/log/kubernetes/`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runReport(cmd.Context(), q, args, stdin, stdout, stderr)
		},
	}
	f := cmd.Flags()
	f.StringVar(&q.format, "format", "", "report format: md, html, csv or jsonl (default: from the --out extension)")
	f.StringVar(&q.out, "out", "", "the report file to write (- for stdout); required")
	f.StringArrayVarP(&q.exprs, "filter", "e", nil, "filter expression (repeatable, AND-ed with each other and the session's filter)")
	f.StringVar(&q.since, "since", "", "only events at or after this time: a duration before --now (1h, 30m) or RFC 3339")
	f.StringVar(&q.until, "until", "", "only events before this time: a duration before --now or RFC 3339")
	f.StringVar(&q.now, "now", "", "the time relative times are measured from and the report's generation time (RFC 3339; default the wall clock)")
	f.StringVar(&q.title, "title", "", `the report's title (default "ktrail report")`)
	f.StringVar(&q.session, "session", "", "a session file: its marks and notes, filter and time window")
	f.BoolVar(&q.noRedact, "no-redact", false, "show Secret values and tokens as they are in the log")
	f.BoolVar(&q.utc, "utc", true, "show times in UTC (the default)")
	f.BoolVar(&q.local, "local", false, "show times in the local time zone")
	f.BoolVar(&q.overwrite, "overwrite", false, "replace an existing report")
	f.StringArrayVar(&q.groupBy, "group-by", nil, "show the top values of FIELD[,FIELD] (repeatable, one table each; default user, sourceIP and resource)")
	f.IntVar(&q.top, "top", 10, "how many values each --group-by table shows (0 = all)")
	f.IntVar(&q.limit, "limit", 0, "list at most this many matching events (0 = all); counts and tables still cover all")
	f.StringSliceVar(&q.columns, "columns", nil, "event columns (default time,user,verb,resource,namespace/name,code,sourceIP)")
	f.BoolVar(&q.strict, "strict", false, "stop at the first input line that cannot be read")
	return cmd
}

// reportFormatFor picks the report format from --format or the file name.
func reportFormatFor(format, out string) (report.ReportFormat, error) {
	if format != "" {
		return report.ParseReportFormat(format)
	}
	switch strings.ToLower(filepath.Ext(out)) {
	case ".md", ".markdown":
		return report.ReportMarkdown, nil
	case ".html", ".htm":
		return report.ReportHTML, nil
	case ".csv":
		return report.ReportCSV, nil
	case ".jsonl", ".ndjson":
		return report.ReportJSONL, nil
	}
	return 0, usageErr("--format is needed (md, html, csv or jsonl): %q does not end in .md, .html, .csv or .jsonl", audit.Sanitize(out))
}

func runReport(ctx context.Context, q reportFlags, paths []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt)
	defer stop()
	if q.out == "" {
		return usageErr("--out PATH is required (- for stdout)")
	}
	format, err := reportFormatFor(q.format, q.out)
	if err != nil {
		return err
	}
	if q.top < 0 || q.limit < 0 {
		return usageErr("--top and --limit must not be negative")
	}
	pivots, err := pivotKeys(q.groupBy)
	if err != nil {
		return err
	}
	now := time.Now()
	if q.now != "" {
		if now, err = time.Parse(time.RFC3339Nano, q.now); err != nil {
			return usageErr("--now %q: want RFC 3339, e.g. 2026-11-25T10:00:00Z", q.now)
		}
	}
	var sessFile *report.Session
	if q.session != "" {
		if sessFile, err = report.LoadSession(q.session); err != nil {
			return err
		}
	}
	if q.out != "-" && !q.overwrite {
		// Refuse before reading the inputs, which may take a while.
		for _, p := range []string{q.out, q.out + report.DigestSuffix} {
			if _, err := os.Lstat(p); err == nil {
				return usageErr("%s already exists (use --overwrite to replace it)", audit.Sanitize(p))
			}
		}
	}
	exprs, since, until := q.exprs, q.since, q.until
	if sessFile != nil {
		if strings.TrimSpace(sessFile.Filter) != "" {
			exprs = append([]string{sessFile.Filter}, exprs...)
		}
		if since == "" {
			since = sessFile.From
		}
		if until == "" {
			until = sessFile.To
		}
		if len(paths) == 0 && sessFile.Input != "" {
			paths = []string{sessFile.Input}
		}
	}
	in, err := openInputs(paths, stdin, stderr, inputFlags{strict: q.strict})
	if err != nil {
		return err
	}
	defer in.close()
	skipped, err := in.finish(in.load(ctx))
	if err != nil {
		return err
	}
	store := in.store
	v := store.View()
	from, to, err := timeWindow(v, since, until, now)
	if err != nil {
		return err
	}
	f, err := filters.Compile(store, exprs, filters.Options{Now: now})
	if err != nil {
		return err
	}
	ids, err := f.EvalRange(ctx, v, from, to)
	if err != nil {
		return err
	}
	if n := f.Errors(); n > 0 {
		fmt.Fprintf(stderr, "ktrail: %d event(s) could not be evaluated (bodies that do not decode) and were treated as not matching\n", n)
	}
	rep := &report.Report{
		Title: q.title, Generated: now, Filter: f.String(),
		Total: v.Len(), Matched: len(ids), Skipped: skipped, Events: ids,
	}
	if q.limit > 0 && len(ids) > q.limit {
		rep.Events = ids[:q.limit]
	}
	if rep.From, rep.To, err = windowTimes(since, until, now); err != nil {
		return err
	}
	if rep.Sources, err = reportSources(store, in.set.Names(), paths); err != nil {
		return err
	}
	if sessFile != nil {
		marks, missing := sessFile.ResolveMarks(store, v)
		rep.Marks = marks
		for _, m := range missing {
			fmt.Fprintf(stderr, "ktrail: marked event not found in the input, left out: %s\n", m)
		}
	}
	if err := fillReport(ctx, rep, store, v, ids, pivots, q.top); err != nil {
		return err
	}
	opts := report.Options{Redact: !q.noRedact, UTC: !q.local, Columns: q.columns}
	if q.out == "-" {
		if err := report.WriteReport(stdout, format, rep, store, v, opts); err != nil {
			return err
		}
	} else {
		if err := report.SaveReport(q.out, format, rep, store, v, opts, q.overwrite); err != nil {
			if errors.Is(err, fs.ErrExist) {
				return usageErr("%v (use --overwrite to replace it)", err)
			}
			return err
		}
		fmt.Fprintf(stderr, "ktrail: wrote %s (%d of %d events matched, %d marked) and %s\n",
			audit.Sanitize(q.out), len(ids), v.Len(), len(rep.Marks), audit.Sanitize(q.out+report.DigestSuffix))
	}
	switch {
	case len(ids) == 0:
		return &exitError{exitNone}
	case skipped > 0:
		return &exitError{exitSkipped}
	}
	return nil
}

// pivotKeys turns the --group-by values into the field lists of the
// pivots, checking the names.
func pivotKeys(groupBy []string) ([][]string, error) {
	if len(groupBy) == 0 {
		groupBy = defaultPivots
	}
	known := filters.FieldNames()
	var out [][]string
	for _, g := range groupBy {
		var keys []string
		for _, k := range strings.Split(g, ",") {
			k = strings.TrimSpace(k)
			if k == "" {
				continue
			}
			if !slices.Contains(known, k) {
				// Value gives the did-you-mean message for unknown names
				// without reading the record.
				if _, err := filters.Value(nil, &audit.Rec{}, k); err != nil {
					return nil, usageErr("--group-by: %v", err)
				}
				return nil, usageErr("--group-by: unknown field %q", audit.Sanitize(k))
			}
			if slices.Contains(keys, k) {
				return nil, usageErr("--group-by %q names %s twice", audit.Sanitize(g), audit.Sanitize(k))
			}
			keys = append(keys, k)
		}
		if len(keys) == 0 {
			return nil, usageErr("--group-by needs a field name")
		}
		out = append(out, keys)
	}
	return out, nil
}

// windowTimes returns the instants --since and --until name (zero when
// not given), for the report's header.
func windowTimes(since, until string, now time.Time) (from, to time.Time, err error) {
	if since != "" {
		if from, err = parseWhen(since, now); err != nil {
			return from, to, usageErr("--since: %v", err)
		}
	}
	if until != "" {
		if to, err = parseWhen(until, now); err != nil {
			return from, to, usageErr("--until: %v", err)
		}
	}
	return from, to, nil
}

// reportSources describes each input read: its path, size and SHA-256.
// Regular files are hashed as they are on disk now; stdin and pipes, which
// cannot be read again, from the bytes the store kept of them.
func reportSources(store *audit.Store, names, paths []string) ([]report.Source, error) {
	stdinRead := len(paths) == 0 || slices.Contains(paths, "-")
	var out []report.Source
	for _, name := range names {
		fi, err := os.Stat(name)
		isStdin := name == "stdin" && stdinRead
		if err == nil && fi.Mode().IsRegular() && !isStdin {
			sum, size, err := report.FileSHA256(name)
			if err != nil {
				return nil, err
			}
			out = append(out, report.Source{Path: name, Size: size, SHA256: sum})
			continue
		}
		src := report.Source{Path: name}
		for _, seg := range store.Segments() {
			if seg.Name() == name {
				if src.SHA256, src.Size, err = report.SegmentSHA256(seg); err != nil {
					return nil, err
				}
				break
			}
		}
		out = append(out, src)
	}
	return out, nil
}

// reportTimeline counts the matching events per time bucket by outcome.
func reportTimeline(ctx context.Context, store *audit.Store, v *audit.View, ids []uint32) (*report.Timeline, error) {
	var first, last int64
	found := false
	for _, id := range ids {
		r := v.Rec(id)
		if r.Flags&audit.FlagNoTime != 0 {
			continue
		}
		if !found {
			first, found = r.Time, true
		}
		last = max(last, r.Time)
	}
	if !found {
		return nil, nil
	}
	h, err := timeline.Build(ctx, store, v, timeline.IDs(ids), first, last+1, reportBuckets, timeline.ByOutcome)
	if err != nil {
		return nil, err
	}
	return report.NewTimeline(h.From, h.Step, h.Counts), nil
}

// fillReport adds the parts of a report computed from the matching
// events: the top values of each pivot, the timeline and, when the
// detections are wired in, the rules that fired.
func fillReport(ctx context.Context, rep *report.Report, store *audit.Store, v *audit.View, ids []uint32, pivots [][]string, top int) error {
	value := func(r *audit.Rec, key string) (string, error) { return filters.Value(store, r, key) }
	for _, keys := range pivots {
		p, err := report.BuildPivot(v, ids, keys, top, value)
		if err != nil {
			return err
		}
		rep.Pivots = append(rep.Pivots, p)
	}
	var err error
	if rep.Timeline, err = reportTimeline(ctx, store, v, ids); err != nil {
		return err
	}
	if reportDetections != nil {
		rep.DetectionsRun = true
		if rep.Detections, err = reportDetections(store, v, ids); err != nil {
			return err
		}
	}
	return nil
}
