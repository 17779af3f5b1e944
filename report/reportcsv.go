package report

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"io"
	"strconv"
	"time"
)

// writeReportCSV writes one row per listed or marked event: whether it
// is marked, its note, then the event columns. Every cell goes through
// csvCell, so a value that a spreadsheet would run as a formula gets a
// leading apostrophe.
func writeReportCSV(w io.Writer, rc *reportCtx) error {
	cw := csv.NewWriter(w)
	ctx := &cellCtx{s: rc.s, loc: rc.cell.loc, csv: true}
	header := append([]string{"marked", "note"}, rc.colNames()...)
	if err := cw.Write(header); err != nil {
		return writeErr(err)
	}
	rec := make([]string, len(header))
	for _, id := range rc.marks.rows(rc.v, rc.r.Events) {
		n, note := rc.marks.note(id)
		rec[0] = strconv.FormatBool(n > 0)
		rec[1] = csvCell(note)
		r := rc.v.Rec(id)
		for i, c := range rc.cols {
			rec[2+i] = csvCell(c.value(ctx, r))
		}
		if err := cw.Write(rec); err != nil {
			return writeErr(err)
		}
	}
	cw.Flush()
	return writeErr(cw.Error())
}

// jsonlHeader is the first line of a JSON lines report.
type jsonlHeader struct {
	Report      string         `json:"report"`
	Title       string         `json:"title"`
	Generated   string         `json:"generated"`
	Sources     []Source       `json:"sources"`
	Filter      string         `json:"filter"`
	From        *string        `json:"from"`
	To          *string        `json:"to"`
	Total       int            `json:"total"`
	Matched     int            `json:"matched"`
	Listed      int            `json:"listed"`
	Skipped     int64          `json:"skipped"`
	Marks       int            `json:"marks"`
	Redacted    bool           `json:"redacted"`
	Pivots      []jsonlPivot   `json:"pivots"`
	Timeline    *jsonlTimeline `json:"timeline,omitempty"`
	DetectionsR bool           `json:"detectionsRun"`
	Detections  []Finding      `json:"detections"`
}

type jsonlPivot struct {
	Keys     []string     `json:"keys"`
	Distinct int          `json:"distinct"`
	Others   int64        `json:"others"`
	Groups   []jsonlGroup `json:"groups"`
}

type jsonlGroup struct {
	Values []string `json:"values"`
	Count  int64    `json:"count"`
	First  *string  `json:"first"`
	Last   *string  `json:"last"`
}

type jsonlTimeline struct {
	Step    string        `json:"step"`
	Buckets []jsonlBucket `json:"buckets"`
}

type jsonlBucket struct {
	Start     string `json:"start"`
	OK        int    `json:"ok"`
	ClientErr int    `json:"4xx"`
	ServerErr int    `json:"5xx"`
}

// writeReportJSONL writes a header object, then one line per listed or
// marked event: {"marked":…,"note":…,"event":{…}} with the event's bytes
// as read (secret values masked unless the options say otherwise).
func writeReportJSONL(w io.Writer, rc *reportCtx) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	rows := rc.marks.rows(rc.v, rc.r.Events)
	h := rc.jsonlHeader(len(rows))
	hb, err := json.Marshal(h)
	if err != nil {
		return writeErr(err)
	}
	bw.Write(hb)
	bw.WriteByte('\n')
	var line []byte
	for _, id := range rows {
		n, note := rc.marks.note(id)
		ev, err := rc.event(id)
		if err != nil {
			return err
		}
		line = append(line[:0], `{"marked":`...)
		line = strconv.AppendBool(line, n > 0)
		line = append(line, `,"note":`...)
		line = appendJSONString(line, note)
		line = append(line, `,"event":`...)
		line = append(line, ev...)
		line = append(line, "}\n"...)
		if _, err := bw.Write(line); err != nil {
			return writeErr(err)
		}
	}
	return writeErr(bw.Flush())
}

func (rc *reportCtx) jsonlHeader(rows int) *jsonlHeader {
	r := rc.r
	opt := func(t time.Time) *string {
		if t.IsZero() {
			return nil
		}
		s := rc.timeText(t)
		return &s
	}
	optNS := func(ns int64) *string {
		if ns == 0 {
			return nil
		}
		s := time.Unix(0, ns).In(rc.cell.loc).Format(time.RFC3339Nano)
		return &s
	}
	h := &jsonlHeader{
		Report: "ktrail", Title: r.title(), Generated: rc.timeText(r.Generated),
		Sources: r.Sources, Filter: r.Filter, From: opt(r.From), To: opt(r.To),
		Total: r.Total, Matched: r.Matched, Listed: rows, Skipped: r.Skipped,
		Marks: len(rc.marks.marks), Redacted: rc.opts.Redact,
		Pivots: []jsonlPivot{}, DetectionsR: r.DetectionsRun, Detections: r.Detections,
	}
	if h.Sources == nil {
		h.Sources = []Source{}
	}
	if h.Detections == nil {
		h.Detections = []Finding{}
	}
	for _, p := range r.Pivots {
		jp := jsonlPivot{Keys: p.Keys, Distinct: p.Distinct, Others: p.Others, Groups: []jsonlGroup{}}
		for _, g := range p.Groups {
			jp.Groups = append(jp.Groups, jsonlGroup{Values: g.Values, Count: g.Count, First: optNS(g.First), Last: optNS(g.Last)})
		}
		h.Pivots = append(h.Pivots, jp)
	}
	if t := r.Timeline; t != nil {
		jt := &jsonlTimeline{Step: t.Step.String(), Buckets: []jsonlBucket{}}
		for _, b := range t.Buckets {
			jt.Buckets = append(jt.Buckets, jsonlBucket{Start: rc.timeText(b.Start), OK: b.OK, ClientErr: b.ClientErr, ServerErr: b.ServerErr})
		}
		h.Timeline = jt
	}
	return h
}
