package report

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"

	"ktrail/audit"
)

// mdSpecial are the characters that MdEscape backslash-escapes: those
// that start emphasis, code, links, raw HTML, entities, strikethrough,
// headings' closing sequences and table cells in CommonMark and GFM.
const mdSpecial = "\\`*_[]<>|~&#!"

// MdEscape makes s literal text inside a Markdown table cell, heading or
// paragraph: control characters and characters that could reorder text
// are shown as escapes (audit.Sanitize), Markdown's special characters are
// backslash-escaped, and line breaks become <br>.
func MdEscape(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	lines := strings.Split(s, "\n")
	var b strings.Builder
	for i, line := range lines {
		if i > 0 {
			b.WriteString("<br>")
		}
		for _, r := range audit.Sanitize(line) {
			if r < 0x80 && strings.ContainsRune(mdSpecial, r) {
				b.WriteByte('\\')
			}
			b.WriteRune(r)
		}
	}
	return b.String()
}

// mdFence returns a backtick fence longer than any run of backticks in s
// (at least three), so that s cannot close the fenced block.
func mdFence(s string) string {
	longest, run := 0, 0
	for i := 0; i < len(s); i++ {
		if s[i] == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	return strings.Repeat("`", max(3, longest+1))
}

// mdOut writes Markdown; the first write error sticks in the
// bufio.Writer and is returned by flush.
type mdOut struct{ w *bufio.Writer }

func (m mdOut) line(parts ...string) {
	for _, p := range parts {
		m.w.WriteString(p)
	}
	m.w.WriteByte('\n')
}

// table writes a header row, the delimiter row and the rows; cells are
// escaped here. right marks right-aligned columns.
func (m mdOut) table(header []string, right []bool, rows [][]string) {
	m.row(header)
	m.w.WriteByte('|')
	for i := range header {
		if i < len(right) && right[i] {
			m.w.WriteString(" ---: |")
		} else {
			m.w.WriteString(" --- |")
		}
	}
	m.w.WriteByte('\n')
	for _, r := range rows {
		m.row(r)
	}
	m.w.WriteByte('\n')
}

func (m mdOut) row(cells []string) {
	m.w.WriteByte('|')
	for _, c := range cells {
		m.w.WriteByte(' ')
		m.w.WriteString(MdEscape(c))
		m.w.WriteString(" |")
	}
	m.w.WriteByte('\n')
}

func writeMarkdown(w io.Writer, rc *reportCtx) error {
	m := mdOut{bufio.NewWriterSize(w, 64<<10)}
	r := rc.r
	rows := rc.marks.rows(rc.v, r.Events)
	m.line("# ", MdEscape(r.title()))
	m.line()
	m.line("Generated ", MdEscape(rc.timeText(r.Generated)), " by ktrail. Event bodies are ", redactWord(rc.opts.Redact), ".")
	m.line()
	m.line("## Summary")
	m.line()
	m.table([]string{"Item", "Value"}, nil, rc.summary(rows))
	m.line("## Sources")
	m.line()
	if len(r.Sources) == 0 {
		m.line("No source files.")
		m.line()
	} else {
		var src [][]string
		for _, s := range r.Sources {
			src = append(src, []string{s.Path, strconv.FormatInt(s.Size, 10), s.SHA256})
		}
		m.table([]string{"Path", "Size (bytes)", "SHA-256"}, []bool{false, true}, src)
	}
	if t := r.Timeline; t != nil {
		m.line("## Timeline")
		m.line()
		m.line("Matching events per ", MdEscape(t.Step.String()), ", buckets with events only.")
		m.line()
		var tl [][]string
		for _, b := range t.Buckets {
			if b.Total() == 0 {
				continue
			}
			tl = append(tl, []string{rc.timeText(b.Start), strconv.Itoa(b.Total()), strconv.Itoa(b.OK), strconv.Itoa(b.ClientErr), strconv.Itoa(b.ServerErr)})
		}
		m.table([]string{"From", "Events", "Below 400", "4xx", "5xx"}, []bool{false, true, true, true, true}, tl)
	}
	if len(r.Pivots) > 0 {
		m.line("## Top values")
		m.line()
		for _, p := range r.Pivots {
			m.line("### ", MdEscape(strings.Join(p.Keys, ", ")))
			m.line()
			m.line(MdEscape(pivotCaption(p)))
			m.line()
			header := append(append([]string(nil), p.Keys...), "Count", "First", "Last")
			right := make([]bool, len(header))
			right[len(p.Keys)] = true
			var pr [][]string
			for _, g := range p.Groups {
				row := make([]string, 0, len(header))
				for _, v := range g.Values {
					row = append(row, groupValue(v))
				}
				row = append(row, strconv.FormatInt(g.Count, 10), rc.nsText(g.First), rc.nsText(g.Last))
				pr = append(pr, row)
			}
			m.table(header, right, pr)
		}
	}
	m.line("## Detections")
	m.line()
	switch {
	case !r.DetectionsRun:
		m.line("Detection rules were not run for this report.")
		m.line()
	case len(r.Detections) == 0:
		m.line("No detection rule fired.")
		m.line()
	}
	for _, d := range r.Detections {
		m.line("### ", MdEscape(findingTitle(d)))
		m.line()
		if d.Reference != "" {
			m.line("Reference: ", MdEscape(d.Reference))
			m.line()
		}
		for _, a := range d.Alerts {
			m.line("- ", MdEscape(a))
		}
		if len(d.Alerts) > 0 {
			m.line()
		}
	}
	m.line("## Marked events")
	m.line()
	if len(rc.marks.marks) == 0 {
		m.line("No event was marked.")
		m.line()
	} else {
		header := append([]string{"Mark"}, rc.colNames()...)
		header = append(header, "Note")
		var mr [][]string
		for i, mk := range rc.marks.marks {
			row := append([]string{markLabel(i + 1)}, rc.cells(rc.v.Rec(mk.ID))...)
			mr = append(mr, append(row, mk.Note))
		}
		m.table(header, nil, mr)
		for i, mk := range rc.marks.marks {
			js, err := rc.prettyEvent(mk.ID)
			if err != nil {
				return err
			}
			fence := mdFence(js)
			m.line("### ", markLabel(i+1), ": ", MdEscape(eventLine(rc, mk.ID)))
			m.line()
			if mk.Note != "" {
				m.line("Note: ", MdEscape(mk.Note))
				m.line()
			}
			m.line(fence, "json")
			m.line(js)
			m.line(fence)
			m.line()
		}
	}
	m.line("## Events")
	m.line()
	m.line(MdEscape("Listed: " + rc.listedText(rows) + "."))
	m.line()
	m.row(append([]string{"Mark"}, rc.colNames()...))
	m.w.WriteString("| --- |")
	for range rc.cols {
		m.w.WriteString(" --- |")
	}
	m.w.WriteByte('\n')
	for _, id := range rows {
		n, _ := rc.marks.note(id)
		label := ""
		if n > 0 {
			label = "★ " + markLabel(n)
		}
		m.row(append([]string{label}, rc.cells(rc.v.Rec(id))...))
	}
	m.line()
	m.line("---")
	m.line()
	m.line("The SHA-256 digest of this file is in the file of the same name with ", MdEscape(DigestSuffix), " added (check it with sha256sum -c).")
	return writeErr(m.w.Flush())
}

// summary returns the rows of the summary table, unescaped.
func (rc *reportCtx) summary(rows []uint32) [][]string {
	r := rc.r
	out := [][]string{
		{"Title", r.title()},
		{"Generated", rc.timeText(r.Generated)},
		{"Filter", rc.filterText()},
		{"Time window", rc.windowText()},
		{"Events read", strconv.Itoa(r.Total)},
		{"Events matching", strconv.Itoa(r.Matched)},
		{"Events listed", rc.listedText(rows)},
		{"First and last listed", rc.spanText(rows)},
		{"Marked events", strconv.Itoa(len(rc.marks.marks))},
		{"Detections", detectionsText(r)},
	}
	if r.Skipped > 0 {
		out = append(out, []string{"Input lines skipped", strconv.FormatInt(r.Skipped, 10)})
	}
	return out
}

func detectionsText(r *Report) string {
	if !r.DetectionsRun {
		return "not run"
	}
	return fmt.Sprintf("%d rule(s) fired", len(r.Detections))
}

func redactWord(redact bool) string {
	if redact {
		return "redacted (Secret values and tokens masked)"
	}
	return "NOT redacted (--no-redact)"
}

// markLabel names mark n.
func markLabel(n int) string { return "M" + strconv.Itoa(n) }

// findingTitle heads one detection.
func findingTitle(d Finding) string {
	s := "[" + d.Severity + "] " + d.Name
	if d.RuleID != "" {
		s += " (" + d.RuleID + ")"
	}
	return s + fmt.Sprintf(": %d hit(s)", d.Hits)
}

// pivotCaption says how much of a pivot is shown.
func pivotCaption(p Pivot) string {
	s := fmt.Sprintf("%d distinct value(s)", p.Distinct)
	if len(p.Groups) < p.Distinct {
		s += fmt.Sprintf(", the top %d shown; %d event(s) have other values", len(p.Groups), p.Others)
	}
	return s + "."
}

// eventLine sums up one event: time, user, verb, resource and name.
func eventLine(rc *reportCtx, id uint32) string {
	rec := rc.v.Rec(id)
	res := rc.s.Str(rec.Resource)
	if rec.Subres != 0 {
		res += "/" + rc.s.Str(rec.Subres)
	}
	name := rc.s.Str(rec.Name)
	if rec.NS != 0 {
		name = rc.s.Str(rec.NS) + "/" + name
	}
	parts := []string{rc.nsText(rec.Time), rc.s.Str(rec.User), rc.s.Str(rec.Verb), res, name}
	if rec.Code != 0 {
		parts = append(parts, strconv.Itoa(int(rec.Code)))
	}
	var kept []string
	for _, p := range parts {
		if p != "" {
			kept = append(kept, p)
		}
	}
	return strings.Join(kept, " ")
}
