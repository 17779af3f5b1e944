package report

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"ktrail/audit"
)

// ReportFormat is a format of `ktrail report --format`.
type ReportFormat int

// The report formats.
const (
	ReportMarkdown ReportFormat = iota // Markdown, for tickets and wikis
	ReportHTML                         // one self-contained HTML page
	ReportCSV                          // one row per event, marks and notes first
	ReportJSONL                        // a header line, then one line per event
)

var reportFormatNames = [...]string{"md", "html", "csv", "jsonl"}

// String returns the format's name as ParseReportFormat accepts it.
func (f ReportFormat) String() string {
	if f < 0 || int(f) >= len(reportFormatNames) {
		return fmt.Sprintf("ReportFormat(%d)", int(f))
	}
	return reportFormatNames[f]
}

// ParseReportFormat maps a name (md or markdown, html, csv, jsonl or
// ndjson) to its ReportFormat.
func ParseReportFormat(s string) (ReportFormat, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "md", "markdown":
		return ReportMarkdown, nil
	case "html", "htm":
		return ReportHTML, nil
	case "csv":
		return ReportCSV, nil
	case "jsonl", "ndjson":
		return ReportJSONL, nil
	}
	return 0, fmt.Errorf("report: unknown report format %q (use md, html, csv or jsonl)", audit.Sanitize(s))
}

// Report is what an investigation report holds. The writers (WriteReport)
// render it with the events it names, read from a store and view.
type Report struct {
	// Title heads the report; "ktrail report" when empty.
	Title string
	// Generated is when the report was made.
	Generated time.Time
	// Sources are the inputs the events were read from.
	Sources []Source
	// Filter is the filter expression; empty when every event matched.
	Filter string
	// From and To bound the time window the events were taken from
	// (--since, --until); a zero time is an open end.
	From, To time.Time
	// Total is the number of events read, Matched how many of them
	// matched the filter and time window, and Skipped the number of input
	// lines that could not be read.
	Total, Matched int
	Skipped        int64
	// Pivots are the top values of some fields among the matching events.
	Pivots []Pivot
	// DetectionsRun tells whether detection rules were run at all, so
	// that "none fired" and "not run" read differently.
	DetectionsRun bool
	// Detections are the rules that fired.
	Detections []Finding
	// Marks are the events an investigator marked, with their notes.
	Marks []Mark
	// Events are the ids (in the view) of the events listed, in the
	// view's order; they may be fewer than Matched when the caller
	// limited them. Marked events not among them are listed too.
	Events []uint32
	// Timeline is the event rate over time; nil leaves it out.
	Timeline *Timeline
}

// Source is one input file of a report.
type Source struct {
	Path   string `json:"path"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// Pivot is the top values of one or more fields (Keys) among the
// matching events, most frequent first.
type Pivot struct {
	Keys   []string
	Groups []Group
	// Distinct is how many different values there were in all; Others
	// counts the events whose values are not among Groups.
	Distinct int
	Others   int64
}

// Finding is one detection rule that fired.
type Finding struct {
	RuleID    string   `json:"ruleID"`
	Name      string   `json:"name"`
	Severity  string   `json:"severity"`
	Reference string   `json:"reference,omitempty"`
	Hits      int      `json:"hits"`
	Alerts    []string `json:"alerts,omitempty"` // one-line summaries
}

// Mark is a marked event (its id in the view) and the investigator's note.
type Mark struct {
	ID   uint32
	Note string
}

// Timeline is the number of matching events per time bucket, split by
// outcome.
type Timeline struct {
	Step    time.Duration
	Buckets []Bucket
}

// Bucket is one time bucket of a Timeline: events with a status below 400
// (or none yet), 4xx and 5xx.
type Bucket struct {
	Start                    time.Time
	OK, ClientErr, ServerErr int
}

// Total returns the number of events in the bucket.
func (b Bucket) Total() int { return b.OK + b.ClientErr + b.ServerErr }

// NewTimeline makes a Timeline from buckets of step ns starting at from
// (Unix ns), each with its counts of events below 400, 4xx and 5xx — the
// shape of a tui/timeline Histogram in ByOutcome mode.
func NewTimeline(from, step int64, counts [][3]uint32) *Timeline {
	t := &Timeline{Step: time.Duration(step), Buckets: make([]Bucket, len(counts))}
	for i, c := range counts {
		t.Buckets[i] = Bucket{
			Start: time.Unix(0, from+int64(i)*step).UTC(),
			OK:    int(c[0]), ClientErr: int(c[1]), ServerErr: int(c[2]),
		}
	}
	return t
}

// BuildPivot counts the events ids of v by the values of keys (value
// reads one field of one event, e.g. filters.Value) and keeps the top
// groups, most frequent first (ties by value); top <= 0 keeps all.
func BuildPivot(v *audit.View, ids []uint32, keys []string, top int, value func(r *audit.Rec, key string) (string, error)) (Pivot, error) {
	if len(keys) == 0 {
		return Pivot{}, errors.New("report: a pivot needs at least one field")
	}
	index := map[string]int{}
	var groups []Group
	vals := make([]string, len(keys))
	for _, id := range ids {
		r := v.Rec(id)
		for i, k := range keys {
			s, err := value(r, k)
			if err != nil {
				return Pivot{}, fmt.Errorf("report: pivot by %s: %w", audit.Sanitize(k), err)
			}
			vals[i] = s
		}
		key := strings.Join(vals, "\x00")
		gi, ok := index[key]
		if !ok {
			gi = len(groups)
			index[key] = gi
			groups = append(groups, Group{Values: slices.Clone(vals)})
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
	slices.SortStableFunc(groups, func(a, b Group) int {
		if a.Count != b.Count {
			if a.Count > b.Count {
				return -1
			}
			return 1
		}
		return slices.Compare(a.Values, b.Values)
	})
	p := Pivot{Keys: slices.Clone(keys), Distinct: len(groups)}
	if top > 0 && len(groups) > top {
		for _, g := range groups[top:] {
			p.Others += g.Count
		}
		groups = groups[:top]
	}
	p.Groups = groups
	return p, nil
}

// FileSHA256 returns the hex SHA-256 digest and the size of a file.
func FileSHA256(path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, fmt.Errorf("report: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, fmt.Errorf("report: reading %s: %w", audit.Sanitize(path), err)
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// SegmentSHA256 returns the hex SHA-256 digest and the size of the bytes
// of a segment, for inputs that cannot be read again from a path (stdin,
// a pipe): the store keeps them in a spool.
func SegmentSHA256(seg audit.Segment) (string, int64, error) {
	h := sha256.New()
	n, err := io.Copy(h, io.NewSectionReader(seg, 0, 1<<62))
	if err != nil {
		return "", 0, fmt.Errorf("report: reading %s: %w", audit.Sanitize(seg.Name()), err)
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// ordered returns ids in the view's order (a copy, sorted, when they are
// not already).
func ordered(v *audit.View, ids []uint32) []uint32 {
	if slices.IsSortedFunc(ids, v.Compare) {
		return ids
	}
	ids = slices.Clone(ids)
	slices.SortFunc(ids, v.Compare)
	return ids
}

// markList is the marks of a report in the view's order, numbered from 1.
type markList struct {
	marks []Mark
	num   map[uint32]int // id → mark number
}

func newMarkList(v *audit.View, marks []Mark) *markList {
	ml := &markList{num: make(map[uint32]int, len(marks))}
	for _, m := range marks {
		if i, ok := ml.num[m.ID]; ok {
			// The same event marked twice: one mark, both notes.
			if m.Note != "" {
				prev := &ml.marks[i-1]
				prev.Note = strings.TrimSpace(prev.Note + "\n" + m.Note)
			}
			continue
		}
		ml.marks = append(ml.marks, m)
		ml.num[m.ID] = len(ml.marks)
	}
	slices.SortStableFunc(ml.marks, func(a, b Mark) int { return v.Compare(a.ID, b.ID) })
	for i, m := range ml.marks {
		ml.num[m.ID] = i + 1
	}
	return ml
}

// note returns the mark number of id (0 when unmarked) and its note.
func (ml *markList) note(id uint32) (int, string) {
	n := ml.num[id]
	if n == 0 {
		return 0, ""
	}
	return n, ml.marks[n-1].Note
}

// rows merges the listed events and the marked ones, in the view's order,
// each once.
func (ml *markList) rows(v *audit.View, events []uint32) []uint32 {
	events = ordered(v, events)
	if len(ml.marks) == 0 {
		return events
	}
	out := make([]uint32, 0, len(events)+len(ml.marks))
	i, j := 0, 0
	for i < len(events) || j < len(ml.marks) {
		switch {
		case j == len(ml.marks):
			out = append(out, events[i])
			i++
		case i == len(events):
			out = append(out, ml.marks[j].ID)
			j++
		default:
			c := v.Compare(events[i], ml.marks[j].ID)
			switch {
			case events[i] == ml.marks[j].ID:
				c = 0
			case c == 0:
				c = -1 // distinct events that sort alike
			}
			switch {
			case c < 0:
				out = append(out, events[i])
				i++
			case c > 0:
				out = append(out, ml.marks[j].ID)
				j++
			default:
				out = append(out, events[i])
				i++
				j++
			}
		}
	}
	return out
}

// title returns the report's title or the default.
func (r *Report) title() string {
	if t := strings.TrimSpace(r.Title); t != "" {
		return t
	}
	return "ktrail report"
}

// eventSpan returns the times of the first and last listed events that
// have a time (ok false when none has).
func eventSpan(v *audit.View, ids []uint32) (first, last int64, ok bool) {
	for _, id := range ids {
		r := v.Rec(id)
		if r.Flags&audit.FlagNoTime != 0 {
			continue
		}
		if !ok || r.Time < first {
			first = r.Time
		}
		if !ok || r.Time > last {
			last = r.Time
		}
		ok = true
	}
	return first, last, ok
}
