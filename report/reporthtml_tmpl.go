package report

// ReportCSP is the Content-Security-Policy of HTML reports: nothing may
// be loaded or run, only the report's own inline styles apply.
const ReportCSP = "default-src 'none'; style-src 'unsafe-inline'"

// reportCSS is the inline style sheet of HTML reports, for screens and
// for print.
const reportCSS = `
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 1400px; padding: 16px 24px 40px; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: #1d232b; background: #fff; }
h1 { font-size: 24px; margin: 8px 0 4px; overflow-wrap: anywhere; }
h2 { font-size: 19px; margin: 28px 0 8px; padding-bottom: 4px; border-bottom: 2px solid #d4dae1; }
h3 { font-size: 15px; margin: 18px 0 6px; overflow-wrap: anywhere; }
p.meta { color: #4d5866; margin: 0 0 8px; }
table { border-collapse: collapse; margin: 6px 0 12px; font-size: 13px; }
th, td { border: 1px solid #d4dae1; padding: 3px 7px; text-align: left; vertical-align: top; overflow-wrap: anywhere; }
th { background: #eef1f5; font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
table.kv th { width: 14em; }
table.events { width: 100%; }
table.events td { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 12px; }
tr.marked td { background: #fff6d6; }
td.flag { white-space: nowrap; font-weight: 600; color: #8a5a00; }
a { color: #1f5fbf; }
.hash { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 12px; }
pre { background: #f5f7fa; border: 1px solid #d4dae1; padding: 8px 10px; font-size: 12px; line-height: 1.35; white-space: pre-wrap; overflow-wrap: anywhere; }
.note { white-space: pre-wrap; overflow-wrap: anywhere; }
blockquote.note { margin: 6px 0; padding: 6px 10px; border-left: 4px solid #e0b400; background: #fffbea; }
.finding { border: 1px solid #d4dae1; border-left-width: 6px; padding: 4px 12px; margin: 10px 0; }
.sev { display: inline-block; padding: 0 6px; border-radius: 3px; font-size: 12px; font-weight: 700; text-transform: uppercase; color: #fff; background: #6b7785; }
.sev-critical { background: #7a0019; } .finding.sev-critical { border-left-color: #7a0019; background: #fff; color: inherit; }
.sev-high { background: #c62828; } .finding.sev-high { border-left-color: #c62828; background: #fff; color: inherit; }
.sev-medium { background: #d9822b; } .finding.sev-medium { border-left-color: #d9822b; background: #fff; color: inherit; }
.sev-low { background: #2f7ebc; } .finding.sev-low { border-left-color: #2f7ebc; background: #fff; color: inherit; }
.chart svg { display: block; width: 100%; max-width: 1000px; height: auto; }
.chart .axis { stroke: #6b7785; stroke-width: 1; }
.chart .grid { stroke: #e3e7ec; stroke-width: 1; }
.chart text { font-size: 11px; fill: #4d5866; }
.b-ok { fill: #3a8f4b; } .b-4xx { fill: #e0a000; } .b-5xx { fill: #c62828; }
.legend span.sw { display: inline-block; width: 12px; height: 12px; margin: 0 4px -2px 12px; border-radius: 2px; }
.legend .sw.b-ok { background: #3a8f4b; } .legend .sw.b-4xx { background: #e0a000; } .legend .sw.b-5xx { background: #c62828; }
footer { margin-top: 32px; color: #4d5866; font-size: 12px; }
@page { margin: 12mm; }
@media print {
  body { max-width: none; padding: 0; font-size: 10pt; color: #000; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  a { color: inherit; text-decoration: none; }
  h2, h3 { break-after: avoid; page-break-after: avoid; }
  thead { display: table-header-group; }
  tr, .finding, blockquote.note, .chart { break-inside: avoid; page-break-inside: avoid; }
  table, pre { font-size: 8pt; }
  table.events td { font-size: 7.5pt; }
  pre { border-color: #999; }
}
`

// reportHTML is the HTML report, in three templates so that the event
// rows can be streamed: "head" up to the events table's body, "row" for
// each event, "tail" for the rest. html/template escapes every value for
// its context. There are no scripts, no external resources and no links
// other than to fragments of the page itself.
const reportHTML = `{{define "head"}}<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="` + ReportCSP + `">
<meta name="referrer" content="no-referrer">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="ktrail">
<title>{{.Title}}</title>
<style>` + reportCSS + `</style>
</head>
<body>
<header>
<h1>{{.Title}}</h1>
<p class="meta">Generated {{.Generated}} by ktrail. Event bodies are {{.Redaction}}.</p>
</header>
<section id="summary">
<h2>Summary</h2>
<table class="kv"><tbody>
{{range .Summary}}<tr><th scope="row">{{index . 0}}</th><td>{{index . 1}}</td></tr>
{{end}}</tbody></table>
</section>
<section id="sources">
<h2>Sources</h2>
{{if .Sources}}<table><thead><tr><th>Path</th><th class="num">Size (bytes)</th><th>SHA-256</th></tr></thead><tbody>
{{range .Sources}}<tr><td>{{.Path}}</td><td class="num">{{.Size}}</td><td class="hash">{{.SHA256}}</td></tr>
{{end}}</tbody></table>{{else}}<p>No source files.</p>{{end}}
</section>
{{with .Chart}}<section id="timeline" class="chart">
<h2>Timeline</h2>
<p class="meta">Matching events per {{.Step}}, {{.Span}}; the largest bucket holds {{.Max}}.
<span class="legend"><span class="sw b-ok"></span>below 400<span class="sw b-4xx"></span>4xx<span class="sw b-5xx"></span>5xx</span></p>
<svg viewBox="0 0 {{.W}} {{.H}}" width="{{.W}}" height="{{.H}}" role="img" aria-label="Matching events over time">
{{range .YTicks}}<line class="grid" x1="{{.X1}}" x2="{{.X2}}" y1="{{.Y}}" y2="{{.Y}}"></line><text x="{{.TX}}" y="{{.TY}}" text-anchor="end">{{.Label}}</text>
{{end}}{{range .Bars}}<g><title>{{.Title}}</title>{{range .Segs}}<rect class="{{.Class}}" x="{{.X}}" y="{{.Y}}" width="{{.W}}" height="{{.H}}"></rect>{{end}}</g>
{{end}}<line class="axis" x1="{{.X0}}" x2="{{.X1}}" y1="{{.Y0}}" y2="{{.Y0}}"></line>
{{range .XTicks}}<line class="axis" x1="{{.X}}" x2="{{.X}}" y1="{{.Y1}}" y2="{{.Y2}}"></line><text x="{{.X}}" y="{{.TY}}" text-anchor="middle">{{.Label}}</text>
{{end}}</svg>
</section>
{{end}}{{if .Pivots}}<section id="pivots">
<h2>Top values</h2>
{{range .Pivots}}<h3>{{.Title}}</h3>
<p class="meta">{{.Caption}}</p>
<table><thead><tr>{{range .Keys}}<th>{{.}}</th>{{end}}<th class="num">Count</th><th>First</th><th>Last</th></tr></thead><tbody>
{{range .Rows}}<tr>{{range .Values}}<td>{{.}}</td>{{end}}<td class="num">{{.Count}}</td><td>{{.First}}</td><td>{{.Last}}</td></tr>
{{end}}</tbody></table>
{{end}}</section>
{{end}}<section id="detections">
<h2>Detections</h2>
{{if .DetectionsNote}}<p>{{.DetectionsNote}}</p>
{{end}}{{range .Detections}}<div class="finding {{.Class}}">
<h3><span class="sev {{.Class}}">{{.Severity}}</span> {{.Name}}{{if .RuleID}} <span class="meta">({{.RuleID}})</span>{{end}}: {{.Hits}} hit(s)</h3>
{{if .Reference}}<p>Reference: <span class="hash">{{.Reference}}</span></p>
{{end}}{{if .Alerts}}<ul>
{{range .Alerts}}<li>{{.}}</li>
{{end}}</ul>
{{end}}</div>
{{end}}</section>
<section id="marks">
<h2>Marked events</h2>
{{if .Marks}}<table><thead><tr><th>Mark</th>{{range .Cols}}<th>{{.}}</th>{{end}}<th>Note</th></tr></thead><tbody>
{{range .Marks}}<tr id="{{.Anchor}}"><td class="flag"><a href="{{.RowHref}}">{{.Label}}</a></td>{{range .Cells}}<td>{{.}}</td>{{end}}<td class="note">{{.Note}}</td></tr>
{{end}}</tbody></table>
{{range .Marks}}<h3>{{.Label}}: {{.Line}}</h3>
{{if .Note}}<blockquote class="note">{{.Note}}</blockquote>
{{end}}<pre>{{.JSON}}</pre>
{{end}}{{else}}<p>No event was marked.</p>
{{end}}</section>
<section id="events">
<h2>Events</h2>
<p class="meta">Listed: {{.Listed}}.</p>
<table class="events"><thead><tr><th>Mark</th>{{range .Cols}}<th>{{.}}</th>{{end}}</tr></thead>
<tbody>
{{end}}{{define "row"}}<tr{{if .Label}} class="marked" id="{{.Anchor}}"{{end}}><td class="flag">{{if .Label}}<a href="{{.Href}}">★ {{.Label}}</a>{{end}}</td>{{range .Cells}}<td>{{.}}</td>{{end}}</tr>
{{end}}{{define "tail"}}</tbody></table>
</section>
<footer>
<p>The SHA-256 digest of this file is in the file of the same name with {{.}} added; check it with sha256sum -c.</p>
</footer>
</body>
</html>
{{end}}`
