package history

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"ktrail/audit"
)

// Kind is what a document line is, for styling.
type Kind uint8

// The line kinds.
const (
	Plain Kind = iota
	Title      // a heading
	Head       // the first line of an entry (a change, a bucket, a stage)
	Meta       // secondary text
	Hunk       // a diff's @@ line
	Add        // a diff's + line
	Del        // a diff's - line
	Ctx        // a diff's context line
	Warn       // something to notice (a failure, a deletion)
	Patch      // a line of the patch a request sent
)

// Line is one line of a history document. Its text is safe to print on a
// terminal: every string from an event went through audit.Sanitize.
type Line struct {
	Kind  Kind
	Text  string
	ID    uint32 // the event the line is about, when HasID
	HasID bool
}

// timeLayout picks how times are printed: with the date when the times
// span days.
func timeLayout(first, last int64, loc *time.Location) string {
	y1, m1, d1 := time.Unix(0, first).In(loc).Date()
	y2, m2, d2 := time.Unix(0, last).In(loc).Date()
	if y1 != y2 || m1 != m2 || d1 != d2 {
		return "2006-01-02 15:04:05.000"
	}
	return "15:04:05.000"
}

func fmtTime(ns int64, layout string, loc *time.Location) string {
	if ns == 0 {
		return "(no time)"
	}
	return time.Unix(0, ns).In(loc).Format(layout)
}

// ObjectDoc describes an object's history: one entry per request, with
// the diff of the object's state.
func ObjectDoc(o Object, changes []Change, loc *time.Location) []Line {
	var doc []Line
	add := func(k Kind, s string) { doc = append(doc, Line{Kind: k, Text: s}) }
	nch := 0
	for _, c := range changes {
		if len(c.Diff) > 0 {
			nch++
		}
	}
	add(Title, audit.Sanitize(o.String())+fmt.Sprintf(" · %d requests · %d with a change shown", len(changes), nch))
	if len(changes) == 0 {
		add(Meta, "no events about this object")
		return doc
	}
	layout := timeLayout(changes[0].Time, changes[len(changes)-1].Time, loc)
	for _, c := range changes {
		verb := c.Verb
		if c.Sub != "" {
			verb += " " + c.Sub
		}
		code := "-"
		if c.Code != 0 {
			code = fmt.Sprint(c.Code)
		}
		head := fmt.Sprintf("%s  %s  %s  %s", fmtTime(c.Time, layout, loc), audit.Sanitize(verb), code, c.Kind)
		k := Head
		if c.Kind == "deleted" || c.Kind == "failed" || c.Code >= 400 {
			k = Warn
		}
		doc = append(doc, Line{Kind: k, Text: head, ID: c.IDs[0], HasID: true})
		by := "  by " + audit.Sanitize(orDash(c.User))
		if c.SourceIP != "" {
			by += " from " + audit.Sanitize(c.SourceIP)
		}
		doc = append(doc, Line{Kind: Meta, Text: by, ID: c.IDs[0], HasID: true})
		if len(c.Patch) > 0 {
			doc = append(doc, Line{Kind: Meta, Text: "  patch sent:", ID: c.IDs[0], HasID: true})
			for _, p := range c.Patch {
				doc = append(doc, Line{Kind: Patch, Text: "    " + audit.Sanitize(p), ID: c.IDs[0], HasID: true})
			}
		}
		for _, d := range c.Diff {
			doc = append(doc, Line{Kind: diffKind(d), Text: "  " + audit.Sanitize(d), ID: c.IDs[0], HasID: true})
		}
	}
	return doc
}

func diffKind(l string) Kind {
	switch {
	case strings.HasPrefix(l, "@@"):
		return Hunk
	case strings.HasPrefix(l, "+"):
		return Add
	case strings.HasPrefix(l, "-"):
		return Del
	case strings.HasPrefix(l, "…"):
		return Meta
	}
	return Ctx
}

func orDash(s string) string {
	if s == "" {
		return "(no user)"
	}
	return s
}

// UserDoc describes a user's activity: totals, the top values, and one
// line per time bucket with its counts by verb.
func UserDoc(a Activity, loc *time.Location) []Line {
	var doc []Line
	add := func(k Kind, s string) { doc = append(doc, Line{Kind: k, Text: s}) }
	add(Title, fmt.Sprintf("%s · %d events", audit.Sanitize(orDash(a.User)), a.Total))
	if a.Total == 0 {
		add(Meta, "no events")
		return doc
	}
	layout := timeLayout(a.First, a.Last, loc)
	add(Meta, fmt.Sprintf("from %s to %s · %d denied (401/403) · %d other errors", fmtTime(a.First, layout, loc),
		fmtTime(a.Last, layout, loc), a.Denied, a.Errors))
	for _, t := range []struct {
		name string
		c    []Count
	}{{"verbs", a.Verbs}, {"resources", a.Resources}, {"namespaces", a.Namespaces}, {"source IPs", a.SourceIPs}, {"user agents", a.UserAgents}} {
		add(Plain, fmt.Sprintf("%-11s %s", t.name, topList(t.c, 5)))
	}
	add(Title, fmt.Sprintf("per %s, by verb", stepName(a.Step)))
	blayout := "15:04"
	if layout != "15:04:05.000" {
		blayout = "01-02 15:04"
	}
	for _, b := range a.Buckets {
		k := Head
		extra := ""
		if b.Denied > 0 {
			extra += fmt.Sprintf(" · %d denied", b.Denied)
			k = Warn
		}
		if b.Errors > 0 {
			extra += fmt.Sprintf(" · %d errors", b.Errors)
		}
		add(k, fmt.Sprintf("%s %5d  %s%s", time.Unix(0, b.From).In(loc).Format(blayout), b.Total, verbList(b.Verbs), extra))
	}
	return doc
}

func stepName(d time.Duration) string {
	switch d {
	case time.Hour:
		return "hour"
	case time.Minute:
		return "minute"
	}
	return d.String()
}

// topList prints the first n values with their counts.
func topList(c []Count, n int) string {
	var parts []string
	for i, x := range c {
		if i == n {
			parts = append(parts, fmt.Sprintf("+%d more", len(c)-n))
			break
		}
		v := x.Value
		if v == "" {
			v = `""`
		}
		parts = append(parts, fmt.Sprintf("%s %d", audit.Sanitize(v), x.N))
	}
	return strings.Join(parts, " · ")
}

func verbList(m map[string]int) string {
	c := make([]Count, 0, len(m))
	for k, n := range m {
		c = append(c, Count{k, n})
	}
	sort.Slice(c, func(i, j int) bool {
		if c[i].N != c[j].N {
			return c[i].N > c[j].N
		}
		return c[i].Value < c[j].Value
	})
	return topList(c, 6)
}

// RequestDoc describes one request with its stages and timings.
func RequestDoc(q *Request, loc *time.Location) []Line {
	var doc []Line
	add := func(k Kind, s string) { doc = append(doc, Line{Kind: k, Text: s}) }
	add(Title, "request "+audit.Sanitize(q.AuditID))
	field := func(name, v string) {
		if v != "" {
			add(Plain, fmt.Sprintf("%-10s %s", name, audit.Sanitize(v)))
		}
	}
	field("verb", q.Verb)
	field("uri", q.URI)
	field("object", q.Object)
	field("user", q.User)
	field("groups", strings.Join(q.Groups, ", "))
	field("as user", q.ImpUser)
	field("source", strings.Join(q.SourceIPs, ", "))
	field("agent", q.UserAgent)
	field("level", q.Level)
	if q.Code != 0 {
		field("outcome", strings.TrimSpace(fmt.Sprintf("%d %s", q.Code, q.Reason)))
	}
	field("message", q.Message)
	field("decision", q.Decision)
	field("authz", q.AuthReason)
	if q.ReqBody > 0 || q.RespBody > 0 {
		field("bodies", fmt.Sprintf("request %d B · response %d B", q.ReqBody, q.RespBody))
	}
	layout := "2006-01-02 15:04:05.000000"
	add(Title, fmt.Sprintf("stages · received %s · total %s", fmtTime(q.Received, layout, loc), fmtDur(q.Latency())))
	prev := time.Duration(0)
	for _, s := range q.Stages {
		code := "-"
		if s.Code != 0 {
			code = fmt.Sprint(s.Code)
		}
		step := s.Since - prev
		prev = s.Since
		k := Head
		if s.Stage == "Panic" || s.Code >= 500 {
			k = Warn
		}
		doc = append(doc, Line{Kind: k, ID: s.ID, HasID: true, Text: fmt.Sprintf("%-17s %s  +%-8s (step %s)  %s",
			audit.Sanitize(s.Stage), fmtTime(s.At, layout, loc), fmtDur(s.Since), fmtDur(step), code)})
	}
	missing := []string{}
	have := map[string]bool{}
	for _, s := range q.Stages {
		have[s.Stage] = true
	}
	for _, s := range []string{"RequestReceived", "ResponseComplete"} {
		if !have[s] {
			missing = append(missing, s)
		}
	}
	if len(missing) > 0 && !have["Panic"] {
		add(Meta, "not in the log: "+strings.Join(missing, ", ")+" (omitted by the audit policy, or never reached)")
	}
	if len(q.Annots) > 0 {
		add(Title, "annotations")
		keys := make([]string, 0, len(q.Annots))
		for k := range q.Annots {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			add(Meta, audit.Sanitize(k)+" = "+audit.Sanitize(q.Annots[k]))
		}
	}
	return doc
}

// PlainText prints a document as text lines.
func PlainText(doc []Line) string {
	var b strings.Builder
	for _, l := range doc {
		b.WriteString(l.Text)
		b.WriteByte('\n')
	}
	return b.String()
}
