package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"ktrail/audit"
	"ktrail/detect"
	"ktrail/filters"
	"ktrail/report"
)

// queryFlags are the flags of `ktrail query`.
type queryFlags struct {
	inputFlags
	exprs    []string
	output   string
	since    string
	until    string
	now      string
	limit    int
	count    bool
	requests bool
	groupBy  []string
	sort     string
	noRedact bool
	utc      bool
	local    bool
	columns  []string
	stats    bool
	gaps     bool
	minGap   time.Duration
	detect   bool
}

func newQueryCmd(stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	var q queryFlags
	cmd := &cobra.Command{
		Use:   "query [flags] [PATH…]",
		Short: "Filter audit events and print them, count them or group them",
		Long: `query reads every PATH (a file or a directory of audit logs, rotated and
gzipped ones included; "-" is stdin; with no PATH, stdin when it is a pipe or
a file), keeps the events that match every -e expression, and prints them.

Exit codes: 0 something matched, 1 nothing matched, 2 usage or fatal error,
3 something matched but some input lines were skipped.`,
		Example: `  ktrail query -e 'verb == "delete" && resource == "secrets"' /var/log/kubernetes/
  ktrail query --since 1h -e 'user == "system:serviceaccount:ci:deployer"' audit.log
  ktrail query --group-by sourceIP -e 'code in [401, 403]' audit.log
  zcat audit.log.gz | ktrail query --count -e 'isHuman()'`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runQuery(cmd.Context(), q, args, stdin, stdout, stderr)
		},
	}
	addQueryFlags(cmd, &q)
	cmd.Flags().BoolVar(&q.demo, "demo", false, "read the embedded demo dataset")
	return cmd
}

func newDemoCmd(stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	var t tuiFlags
	cmd := &cobra.Command{
		Use:   "demo [flags]",
		Short: "Open the embedded demo dataset (an incident hidden in normal traffic)",
		Long: `demo opens the embedded demo dataset in the interactive view. With output
options (--count, --group-by, -o, --limit) or when stdout is not a terminal
it prints the matching events like ktrail query.`,
		Example: `  ktrail demo -e 'sourceIP == "203.0.113.45"'
  ktrail demo --group-by user -e 'resource == "secrets" && verb in ["get","list"]'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			t.demo = true
			f := cmd.Flags()
			headless := !isTerminalWriter(stdout)
			for _, n := range []string{"count", "group-by", "output", "limit", "requests", "sort", "stats"} {
				headless = headless || f.Changed(n)
			}
			if headless {
				return runQuery(cmd.Context(), t.queryFlags, nil, stdin, stdout, stderr)
			}
			return runTUI(cmd.Context(), t, nil, stdin, stdout, stderr)
		},
	}
	addTUIFlags(cmd, &t)
	return cmd
}

func addQueryFlags(cmd *cobra.Command, q *queryFlags) {
	f := cmd.Flags()
	f.StringArrayVarP(&q.exprs, "filter", "e", nil, "filter expression (repeatable, AND-ed); see filters/VOCABULARY.md")
	f.StringVarP(&q.output, "output", "o", "table", "output format: table, jsonl, json or csv")
	f.StringVar(&q.since, "since", "", "only events at or after this time: a duration before --now (1h, 30m) or RFC 3339")
	f.StringVar(&q.until, "until", "", "only events before this time: a duration before --now or RFC 3339")
	f.StringVar(&q.now, "now", "", "the time relative times are measured from (RFC 3339; default the wall clock, or the demo's last event)")
	f.IntVar(&q.limit, "limit", 0, "print at most this many events (0 = all)")
	f.BoolVar(&q.count, "count", false, "print only the number of matching events")
	f.BoolVar(&q.requests, "requests", false, "with --count: count distinct requests (auditIDs) instead of events")
	f.StringSliceVar(&q.groupBy, "group-by", nil, "group matching events by FIELD[,FIELD] with count, first and last seen")
	f.StringVar(&q.sort, "sort", "time", "order: time (oldest first) or -time (newest first)")
	f.BoolVar(&q.noRedact, "no-redact", false, "print Secret values and tokens as they are in the log")
	f.BoolVar(&q.utc, "utc", true, "show times in UTC (the default)")
	f.BoolVar(&q.local, "local", false, "show times in the local time zone")
	f.StringSliceVar(&q.columns, "columns", nil, "table/csv columns (default time,user,verb,resource,namespace/name,code,sourceIP)")
	f.BoolVar(&q.strict, "strict", false, "stop at the first input line that cannot be read")
	f.BoolVar(&q.detect, "detect", false, "run the detection rules (built-in and the config file's) over the matching events and print what fired")
	f.BoolVar(&q.gaps, "gaps", false, "list silent periods that are long compared with the usual rate of the matching events (was logging off?)")
	f.DurationVar(&q.minGap, "min-gap", 0, "with --gaps: the shortest silence to report (default 1m, or more when events are sparse)")
	f.BoolVar(&q.stats, "stats", false, "print load time, heap bytes per event and time to the first 1,000 events on stderr")
	_ = f.MarkHidden("stats")
}

// usageErr marks an error as a usage error (exit 2) with a message.
func usageErr(format string, a ...any) error { return fmt.Errorf(format, a...) }

func runQuery(ctx context.Context, q queryFlags, paths []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt)
	defer stop()
	format, err := report.ParseFormat(q.output)
	if err != nil {
		return err
	}
	if q.sort != "time" && q.sort != "-time" {
		return usageErr("--sort must be time or -time, not %q", q.sort)
	}
	if q.requests && !q.count {
		q.count = true
	}
	var now time.Time
	if q.now != "" {
		if now, err = time.Parse(time.RFC3339Nano, q.now); err != nil {
			return usageErr("--now %q: want RFC 3339, e.g. 2026-11-25T10:00:00Z", q.now)
		}
	}
	sess, err := openInputs(paths, stdin, stderr, q.inputFlags)
	if err != nil {
		return err
	}
	defer sess.close()
	var st *loadStats
	if q.stats {
		st = startStats(sess.store)
	}
	loadErr := sess.load(ctx)
	if st != nil {
		st.report(stderr)
	}
	skipped, err := sess.finish(loadErr)
	if err != nil {
		return err
	}
	store := sess.store
	v := store.View()
	if now.IsZero() {
		now = time.Now()
		if q.demo && v.Len() > 0 {
			now = time.Unix(0, v.At(v.Len()-1).Time).UTC()
		}
	}
	from, to, err := timeWindow(v, q.since, q.until, now)
	if err != nil {
		return err
	}
	f, err := filters.Compile(store, q.exprs, filters.Options{Now: now})
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
	if q.sort == "-time" {
		slices.Reverse(ids)
	}
	if q.limit > 0 && len(ids) > q.limit {
		ids = ids[:q.limit]
	}
	opts := report.Options{Redact: !q.noRedact, UTC: !q.local, Columns: q.columns}
	bw := bufio.NewWriterSize(stdout, 1<<16)
	found := len(ids)
	switch {
	case q.detect:
		var rules []detect.Rule
		if rules, err = allRules(); err == nil {
			found, err = writeDetections(bw, format, store, v, ids, rules, opts)
		}
	case q.gaps:
		_, err = writeGaps(bw, store, v, ids, q.minGap, !q.local)
	case len(q.groupBy) > 0:
		err = writeGroups(bw, format, store, v, ids, q.groupBy, opts)
	case q.count:
		n := len(ids)
		if q.requests {
			n = countRequests(v, ids)
		}
		_, err = fmt.Fprintln(bw, n)
	default:
		err = writeEvents(bw, format, store, v, ids, opts)
	}
	if ferr := bw.Flush(); err == nil {
		err = ferr
	}
	if err != nil {
		return err
	}
	switch {
	case found == 0:
		return &exitError{exitNone}
	case skipped > 0:
		return &exitError{exitSkipped}
	}
	return nil
}

// timeWindow turns --since/--until into a range of sorted positions.
func timeWindow(v *audit.View, since, until string, now time.Time) (from, to int, err error) {
	from, to = 0, v.Len()
	if since != "" {
		t, err := parseWhen(since, now)
		if err != nil {
			return 0, 0, usageErr("--since: %v", err)
		}
		from = v.Search(t.UnixNano())
	}
	if until != "" {
		t, err := parseWhen(until, now)
		if err != nil {
			return 0, 0, usageErr("--until: %v", err)
		}
		to = v.Search(t.UnixNano())
	}
	return from, max(from, to), nil
}

// parseWhen reads a duration before now ("1h", "90m", "2d") or an RFC 3339
// time.
func parseWhen(s string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if strings.HasSuffix(s, "d") {
		var days float64
		if _, err := fmt.Sscanf(s, "%gd", &days); err == nil {
			return now.Add(-time.Duration(days * 24 * float64(time.Hour))), nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is neither a duration (1h, 30m, 2d) nor an RFC 3339 time", s)
	}
	return now.Add(-d), nil
}

func countRequests(v *audit.View, ids []uint32) int {
	seen := make(map[uint64]struct{}, len(ids)/2)
	for _, id := range ids {
		seen[v.Rec(id).AuditID] = struct{}{}
	}
	return len(seen)
}

func writeEvents(w io.Writer, format report.Format, store *audit.Store, v *audit.View, ids []uint32, opts report.Options) error {
	out, err := report.NewWriter(w, format, store, opts)
	if err != nil {
		return err
	}
	needRaw := format == report.FormatJSONL || format == report.FormatJSON
	var raw []byte
	for _, id := range ids {
		r := v.Rec(id)
		var b []byte
		if needRaw {
			if raw, err = store.Raw(r, raw[:0]); err != nil {
				return err
			}
			b = raw
		}
		if err := out.Write(r, b); err != nil {
			return err
		}
	}
	return out.Close()
}

func writeGroups(w io.Writer, format report.Format, store *audit.Store, v *audit.View, ids []uint32, keys []string, opts report.Options) error {
	index := map[string]int{}
	var groups []report.Group
	vals := make([]string, len(keys))
	for _, id := range ids {
		r := v.Rec(id)
		for i, k := range keys {
			s, err := filters.Value(store, r, k)
			if err != nil {
				return err
			}
			vals[i] = s
		}
		key := strings.Join(vals, "\x00")
		gi, ok := index[key]
		if !ok {
			gi = len(groups)
			index[key] = gi
			groups = append(groups, report.Group{Values: slices.Clone(vals), First: r.Time})
		}
		g := &groups[gi]
		g.Count++
		if r.Flags&audit.FlagNoTime == 0 {
			if g.First == 0 || r.Time < g.First {
				g.First = r.Time
			}
			g.Last = max(g.Last, r.Time)
		}
	}
	slices.SortStableFunc(groups, func(a, b report.Group) int {
		if a.Count != b.Count {
			return int(b.Count - a.Count)
		}
		return strings.Compare(strings.Join(a.Values, "\x00"), strings.Join(b.Values, "\x00"))
	})
	return report.WriteGroups(w, format, keys, groups, opts)
}
