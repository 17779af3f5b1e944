package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"sigs.k8s.io/yaml"

	"ktrail/audit"
	"ktrail/detect"
	"ktrail/filters"
	"ktrail/report"
)

// writeDetections runs rules (detect.Builtins() and the user's, see
// loadUserRules and detect.Merge) over the events ids of v (nil: all) and
// prints what fired, most severe rule first: for -o table a header line
// per rule (severity, name, id, counts, reference) followed by its hits
// as a table, or one line per alert for a threshold rule; for -o jsonl
// one JSON object per hit or alert, with the rule's id and severity; -o
// json the same objects in an array; -o csv one row per hit or alert. It
// returns the number of hits and alerts printed.
func writeDetections(w io.Writer, format report.Format, store *audit.Store, v *audit.View, ids []uint32, rules []detect.Rule, opts report.Options) (hits int, err error) {
	e, err := detect.Compile(store, rules, filters.Options{})
	if err != nil {
		return 0, err
	}
	res := e.Run(context.Background(), v, ids)
	if res.Err != nil {
		return 0, res.Err
	}
	fired := res.Fired()
	slices.SortStableFunc(fired, func(a, b detect.RuleResult) int {
		return detect.SeverityRank(b.Rule.Severity) - detect.SeverityRank(a.Rule.Severity)
	})
	for _, rr := range fired {
		if rr.Rule.Alerting() {
			hits += len(rr.Alerts)
		} else {
			hits += len(rr.Hits)
		}
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	switch format {
	case report.FormatTable:
		err = detTable(bw, store, v, fired, opts)
	case report.FormatJSONL, report.FormatJSON:
		err = detJSON(bw, store, v, fired, opts, format == report.FormatJSON)
	case report.FormatCSV:
		err = detCSV(bw, store, v, fired, opts)
	default:
		err = fmt.Errorf("detect: unknown output format %v", format)
	}
	if ferr := bw.Flush(); err == nil && ferr != nil {
		err = fmt.Errorf("detect: writing output: %w", ferr)
	}
	for _, rr := range res.Rules {
		if rr.Errors > 0 {
			fmt.Fprintf(os.Stderr, "ktrail: rule %s: %d event(s) could not be evaluated and were treated as not matching\n", rr.Rule.ID, rr.Errors)
		}
	}
	return hits, err
}

// detTable writes the table form.
func detTable(w *bufio.Writer, store *audit.Store, v *audit.View, fired []detect.RuleResult, opts report.Options) error {
	if len(fired) == 0 {
		_, err := fmt.Fprintln(w, "No detection fired.")
		return err
	}
	loc := detLocation(opts)
	for k, rr := range fired {
		if k > 0 {
			w.WriteByte('\n')
		}
		r := rr.Rule
		counts := fmt.Sprintf("%d hit%s", len(rr.Hits), detPlural(len(rr.Hits)))
		if r.Alerting() {
			counts = fmt.Sprintf("%d alert%s (%d matching event%s)", len(rr.Alerts), detPlural(len(rr.Alerts)), len(rr.Hits), detPlural(len(rr.Hits)))
		}
		fmt.Fprintf(w, "[%s] %s (%s): %s", strings.ToUpper(r.Severity), audit.Sanitize(r.Name), r.ID, counts)
		if r.Reference != "" {
			fmt.Fprintf(w, " — %s", audit.Sanitize(r.Reference))
		}
		w.WriteByte('\n')
		if r.Alerting() {
			for _, a := range rr.Alerts {
				fmt.Fprintf(w, "  %s  %s → %s  %d events in %s", detGroup(r, a), a.First.In(loc).Format("2006-01-02T15:04:05.000Z07:00"),
					a.Last.In(loc).Format("15:04:05.000"), a.Count, detDuration(r.Window))
				if r.Distinct != "" {
					fmt.Fprintf(w, ", %d distinct %s: %s", a.Distinct, r.Distinct, detValues(a))
				}
				w.WriteByte('\n')
			}
			continue
		}
		out, err := report.NewWriter(w, report.FormatTable, store, opts)
		if err != nil {
			return err
		}
		for _, id := range rr.Hits {
			if err := out.Write(v.Rec(id), nil); err != nil {
				return err
			}
		}
		if err := out.Close(); err != nil {
			return err
		}
	}
	return nil
}

// detRecord is one line of -o jsonl.
type detRecord struct {
	Rule     string            `json:"rule"`
	Severity string            `json:"severity"`
	Name     string            `json:"name"`
	Kind     string            `json:"kind"` // hit or alert
	Event    json.RawMessage   `json:"event,omitempty"`
	Group    map[string]string `json:"group,omitempty"`
	First    string            `json:"first,omitempty"`
	Last     string            `json:"last,omitempty"`
	Window   string            `json:"window,omitempty"`
	Count    int               `json:"count,omitempty"`
	Distinct *int              `json:"distinct,omitempty"`
	Values   []string          `json:"values,omitempty"`
	AuditIDs []string          `json:"auditIDs,omitempty"`
}

// detJSON writes JSON lines, or a JSON array.
func detJSON(w *bufio.Writer, store *audit.Store, v *audit.View, fired []detect.RuleResult, opts report.Options, array bool) error {
	n := 0
	emit := func(rec detRecord) error {
		b, err := json.Marshal(rec)
		if err != nil {
			return fmt.Errorf("detect: %w", err)
		}
		switch {
		case !array:
		case n == 0:
			w.WriteString("[\n")
		default:
			w.WriteString(",\n")
		}
		n++
		w.Write(b)
		if !array {
			w.WriteByte('\n')
		}
		return nil
	}
	var raw []byte
	for _, rr := range fired {
		r := rr.Rule
		base := detRecord{Rule: r.ID, Severity: r.Severity, Name: r.Name}
		if r.Alerting() {
			for _, a := range rr.Alerts {
				rec := base
				rec.Kind, rec.Count, rec.Values = "alert", a.Count, a.Values
				rec.First, rec.Last = a.First.Format(time.RFC3339Nano), a.Last.Format(time.RFC3339Nano)
				rec.Window = detDuration(r.Window)
				if len(r.GroupBy) > 0 {
					rec.Group = map[string]string{}
					for i, g := range r.GroupBy {
						rec.Group[g] = a.Group[i]
					}
				}
				if r.Distinct != "" {
					d := a.Distinct
					rec.Distinct = &d
				}
				for _, id := range a.IDs {
					s, _ := filters.Value(store, v.Rec(id), "auditID")
					if len(rec.AuditIDs) == 0 || rec.AuditIDs[len(rec.AuditIDs)-1] != s {
						rec.AuditIDs = append(rec.AuditIDs, s)
					}
				}
				if err := emit(rec); err != nil {
					return err
				}
			}
			continue
		}
		for _, id := range rr.Hits {
			rv := v.Rec(id)
			var err error
			if raw, err = store.Raw(rv, raw[:0]); err != nil {
				return err
			}
			ev := raw
			if opts.Redact {
				if ev, _, err = report.Redact(raw, store.Str(rv.Resource), store.Str(rv.Subres)); err != nil {
					return fmt.Errorf("detect: rule %s: %w (--no-redact shows the event as it is)", r.ID, err)
				}
			}
			rec := base
			rec.Kind, rec.Event = "hit", json.RawMessage(ev)
			if !json.Valid(rec.Event) {
				return errors.New("detect: an event is not valid JSON")
			}
			if err := emit(rec); err != nil {
				return err
			}
		}
	}
	if array {
		if n == 0 {
			w.WriteString("[]\n")
		} else {
			w.WriteString("\n]\n")
		}
	}
	return nil
}

// detCSV writes one row per hit or alert.
func detCSV(w *bufio.Writer, store *audit.Store, v *audit.View, fired []detect.RuleResult, opts report.Options) error {
	cw := csv.NewWriter(w)
	cols := []string{"time", "user", "verb", "resource", "namespace", "name", "code", "sourceIP"}
	header := append([]string{"rule", "severity", "kind"}, cols...)
	header = append(header, "last", "group", "count", "distinct", "values")
	if err := cw.Write(header); err != nil {
		return err
	}
	loc := detLocation(opts)
	for _, rr := range fired {
		r := rr.Rule
		if r.Alerting() {
			for _, a := range rr.Alerts {
				row := []string{r.ID, r.Severity, "alert", a.First.In(loc).Format(time.RFC3339Nano)}
				row = append(row, make([]string, len(cols)-1)...)
				row = append(row, a.Last.In(loc).Format(time.RFC3339Nano), detGroup(r, a), strconv.Itoa(a.Count),
					strconv.Itoa(a.Distinct), strings.Join(a.Values, ","))
				cw.Write(detCells(row))
			}
			continue
		}
		for _, id := range rr.Hits {
			row := []string{r.ID, r.Severity, "hit"}
			for _, c := range cols {
				s, _ := filters.Value(store, v.Rec(id), c)
				if c == "time" && s != "" {
					if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
						s = t.In(loc).Format(time.RFC3339Nano)
					}
				}
				row = append(row, s)
			}
			row = append(row, "", "", "", "", "")
			cw.Write(detCells(row))
		}
	}
	cw.Flush()
	return cw.Error()
}

// detCells makes cells safe for spreadsheets: no control characters, and
// no leading character that starts a formula.
func detCells(row []string) []string {
	for i, s := range row {
		s = audit.Sanitize(s)
		if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
			s = "'" + s
		}
		row[i] = s
	}
	return row
}

// detGroup renders an alert's group as field=value pairs.
func detGroup(r *detect.Rule, a detect.Alert) string {
	if len(r.GroupBy) == 0 {
		return "(all events)"
	}
	parts := make([]string, len(r.GroupBy))
	for i, g := range r.GroupBy {
		val := a.Group[i]
		if val == "" {
			val = `""`
		}
		parts[i] = g + "=" + audit.Sanitize(val)
	}
	return strings.Join(parts, " ")
}

// detValues lists an alert's distinct values, with "…" when there are
// more than it keeps.
func detValues(a detect.Alert) string {
	vals := make([]string, len(a.Values))
	for i, s := range a.Values {
		vals[i] = audit.Sanitize(s)
	}
	s := strings.Join(vals, ", ")
	if a.Distinct > len(a.Values) {
		s += ", …"
	}
	return s
}

// detDuration writes a window as the rules do: 10m, 1m30s.
func detDuration(d time.Duration) string {
	s := d.String()
	s = strings.TrimSuffix(s, "0s")
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	if s == "" {
		return "0s"
	}
	return s
}

// detLocation is the time zone of the output: UTC unless --local.
func detLocation(opts report.Options) *time.Location {
	if opts.UTC {
		return time.UTC
	}
	return time.Local
}

// detPlural is the plural ending for n things.
func detPlural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// loadUserRules reads the detections: list of the config file (cfgPath,
// or $XDG_CONFIG_HOME/ktrail/config.yaml when it is ""); see
// detect/README.md for the keys. A missing file or key means no user
// rules; a rule that does not parse is an error naming the rule, the key
// and the file.
func loadUserRules(cfgPath string) ([]detect.Rule, error) {
	if cfgPath == "" {
		if cfgPath = configPath(os.Getenv); cfgPath == "" {
			return nil, nil
		}
	}
	b, err := os.ReadFile(cfgPath)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("detect: config %s: %v", cfgPath, err)
	}
	var top map[string]json.RawMessage
	if err := yaml.UnmarshalStrict(b, &top); err != nil {
		return nil, fmt.Errorf("detect: config %s: %s", cfgPath, strings.Join(strings.Fields(err.Error()), " "))
	}
	list, ok := top["detections"]
	if !ok || string(list) == "null" {
		return nil, nil
	}
	rules, err := detect.ParseRules(list)
	if err != nil {
		return nil, fmt.Errorf("%v (in %s, detections:)", err, cfgPath)
	}
	return rules, nil
}
