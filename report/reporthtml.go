package report

import (
	"bufio"
	"fmt"
	"html/template"
	"io"
	"strconv"
	"strings"
	"time"
)

// htmlTemplates is the parsed HTML report.
var htmlTemplates = template.Must(template.New("report").Parse(reportHTML))

// htmlPage is what the "head" template shows.
type htmlPage struct {
	Title, Generated, Redaction string
	Summary                     [][]string
	Sources                     []Source
	Chart                       *svgChart
	Pivots                      []htmlPivot
	DetectionsNote              string
	Detections                  []htmlFinding
	Cols                        []string
	Marks                       []htmlMark
	Listed                      string
}

type htmlPivot struct {
	Title, Caption string
	Keys           []string
	Rows           []htmlGroup
}

type htmlGroup struct {
	Values      []string
	Count       int64
	First, Last string
}

type htmlFinding struct {
	Class, Severity, Name, RuleID, Reference string
	Hits                                     int
	Alerts                                   []string
}

type htmlMark struct {
	Label, Anchor, RowHref, Note, Line, JSON string
	Cells                                    []string
}

// htmlRow is one row of the events table.
type htmlRow struct {
	Label, Anchor, Href string
	Cells               []string
}

func writeHTML(w io.Writer, rc *reportCtx) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	r := rc.r
	rows := rc.marks.rows(rc.v, r.Events)
	page := &htmlPage{
		Title:     r.title(),
		Generated: rc.timeText(r.Generated),
		Redaction: redactWord(rc.opts.Redact),
		Summary:   rc.summary(rows),
		Sources:   r.Sources,
		Chart:     rc.chart(),
		Cols:      rc.colNames(),
		Listed:    rc.listedText(rows),
	}
	for _, p := range r.Pivots {
		hp := htmlPivot{Title: strings.Join(p.Keys, ", "), Caption: pivotCaption(p), Keys: p.Keys}
		for _, g := range p.Groups {
			vals := make([]string, len(g.Values))
			for i, v := range g.Values {
				vals[i] = groupValue(v)
			}
			hp.Rows = append(hp.Rows, htmlGroup{Values: vals, Count: g.Count, First: rc.nsText(g.First), Last: rc.nsText(g.Last)})
		}
		page.Pivots = append(page.Pivots, hp)
	}
	switch {
	case !r.DetectionsRun:
		page.DetectionsNote = "Detection rules were not run for this report."
	case len(r.Detections) == 0:
		page.DetectionsNote = "No detection rule fired."
	}
	for _, d := range r.Detections {
		page.Detections = append(page.Detections, htmlFinding{
			Class: severityClass(d.Severity), Severity: d.Severity, Name: d.Name, RuleID: d.RuleID,
			Reference: d.Reference, Hits: d.Hits, Alerts: d.Alerts,
		})
	}
	for i, mk := range rc.marks.marks {
		js, err := rc.prettyEvent(mk.ID)
		if err != nil {
			return err
		}
		n := strconv.Itoa(i + 1)
		page.Marks = append(page.Marks, htmlMark{
			Label: markLabel(i + 1), Anchor: "mark-" + n, RowHref: "#event-m" + n,
			Note: mk.Note, Line: eventLine(rc, mk.ID), JSON: js, Cells: rc.cells(rc.v.Rec(mk.ID)),
		})
	}
	if err := htmlTemplates.ExecuteTemplate(bw, "head", page); err != nil {
		return fmt.Errorf("report: HTML: %w", err)
	}
	for _, id := range rows {
		row := htmlRow{Cells: rc.cells(rc.v.Rec(id))}
		if n, _ := rc.marks.note(id); n > 0 {
			ns := strconv.Itoa(n)
			row.Label, row.Anchor, row.Href = markLabel(n), "event-m"+ns, "#mark-"+ns
		}
		if err := htmlTemplates.ExecuteTemplate(bw, "row", &row); err != nil {
			return fmt.Errorf("report: HTML: %w", err)
		}
	}
	if err := htmlTemplates.ExecuteTemplate(bw, "tail", DigestSuffix); err != nil {
		return fmt.Errorf("report: HTML: %w", err)
	}
	return writeErr(bw.Flush())
}

// severityClass maps a severity to one of a fixed set of CSS classes.
func severityClass(s string) string {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "critical":
		return "sev-critical"
	case "high":
		return "sev-high"
	case "medium", "moderate":
		return "sev-medium"
	case "low", "info", "informational":
		return "sev-low"
	}
	return "sev-other"
}

// svgChart is the geometry of the timeline chart, in SVG user units.
type svgChart struct {
	W, H           int
	X0, X1, Y0     string // the x axis
	Step, Span     string
	Max            int
	Bars           []svgBar
	XTicks         []svgXTick
	YTicks         []svgYTick
	plotW, plotH   float64
	left, top, yMx float64
}

type svgBar struct {
	Title string
	Segs  []svgSeg
}

type svgSeg struct{ Class, X, Y, W, H string }

type svgXTick struct{ X, Y1, Y2, TY, Label string }

type svgYTick struct{ X1, X2, Y, TX, TY, Label string }

// Chart layout, in SVG units.
const (
	chartW      = 1000
	chartH      = 260
	chartLeft   = 52
	chartRight  = 14
	chartTop    = 12
	chartBottom = 36
	chartXTicks = 8
	chartMaxBar = 48.0
)

func num(f float64) string { return strconv.FormatFloat(f, 'f', 1, 64) }

// chart lays out the report's timeline; nil when there is none.
func (rc *reportCtx) chart() *svgChart {
	t := rc.r.Timeline
	if t == nil || len(t.Buckets) == 0 {
		return nil
	}
	c := &svgChart{W: chartW, H: chartH, left: chartLeft, top: chartTop,
		plotW: chartW - chartLeft - chartRight, plotH: chartH - chartTop - chartBottom}
	for _, b := range t.Buckets {
		c.Max = max(c.Max, b.Total())
	}
	c.yMx = float64(niceCeil(c.Max))
	base := c.top + c.plotH
	c.X0, c.X1, c.Y0 = num(c.left), num(c.left+c.plotW), num(base)
	c.Step = t.Step.String()
	last := t.Buckets[len(t.Buckets)-1].Start.Add(t.Step)
	c.Span = rc.timeText(t.Buckets[0].Start) + " to " + rc.timeText(last)
	n := len(t.Buckets)
	slot := c.plotW / float64(n)
	gap := 0.0
	switch {
	case slot > chartMaxBar/0.85:
		gap = slot - chartMaxBar // few buckets: bars of a set width
	case slot >= 4:
		gap = slot * 0.15
	}
	for i, b := range t.Buckets {
		if b.Total() == 0 {
			continue
		}
		x := c.left + float64(i)*slot + gap/2
		bar := svgBar{Title: fmt.Sprintf("%s: %d event(s), %d below 400, %d 4xx, %d 5xx",
			rc.timeText(b.Start), b.Total(), b.OK, b.ClientErr, b.ServerErr)}
		y := base
		for k, v := range [3]int{b.OK, b.ClientErr, b.ServerErr} {
			if v == 0 {
				continue
			}
			h := float64(v) / c.yMx * c.plotH
			y -= h
			bar.Segs = append(bar.Segs, svgSeg{Class: [3]string{"b-ok", "b-4xx", "b-5xx"}[k],
				X: num(x), Y: num(y), W: num(slot - gap), H: num(h)})
		}
		c.Bars = append(c.Bars, bar)
	}
	for k := 0; k <= 4; k++ {
		v := c.yMx * float64(k) / 4
		if v != float64(int(v)) && k != 4 {
			continue
		}
		y := base - v/c.yMx*c.plotH
		c.YTicks = append(c.YTicks, svgYTick{X1: num(c.left), X2: num(c.left + c.plotW), Y: num(y),
			TX: num(c.left - 6), TY: num(y + 4), Label: strconv.Itoa(int(v))})
	}
	every := max(1, (n+chartXTicks-1)/chartXTicks)
	layout := tickLayout(t)
	for i := 0; i < n; i += every {
		x := c.left + float64(i)*slot
		c.XTicks = append(c.XTicks, svgXTick{X: num(x), Y1: num(base), Y2: num(base + 5), TY: num(base + 18),
			Label: t.Buckets[i].Start.In(rc.cell.loc).Format(layout)})
	}
	return c
}

// tickLayout picks the time layout of the x axis labels.
func tickLayout(t *Timeline) string {
	first, last := t.Buckets[0].Start, t.Buckets[len(t.Buckets)-1].Start
	switch {
	case last.Sub(first) >= 24*time.Hour || t.Step >= 24*time.Hour:
		return "01-02 15:04"
	case t.Step < time.Minute:
		return "15:04:05"
	}
	return "15:04"
}

// niceCeil rounds n up to 1, 2 or 5 times a power of ten (at least 1),
// so that the axis has round labels.
func niceCeil(n int) int {
	if n <= 1 {
		return 1
	}
	p := 1
	for p*10 < n {
		p *= 10
	}
	for _, m := range []int{1, 2, 4, 5, 10} {
		if m*p >= n {
			return m * p
		}
	}
	return 10 * p
}
