package tui

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"charm.land/lipgloss/v2"

	"ktrail/audit"
	"ktrail/filters"
)

// column is one column of the event list: how wide, how to print a cell,
// and which filter clause + / - make of a cell.
type column struct {
	name, title string
	min, flex   int  // minimum width; share of the spare width (0 = fixed)
	prio        int  // lower is dropped last when the screen is narrow
	right       bool // right-aligned
	cell        func(c *programContext, r *audit.Rec, b []byte) []byte
	style       func(c *programContext, r *audit.Rec) lipgloss.Style
	clause      func(c *programContext, r *audit.Rec, keep bool) string
}

// idClause builds "field == value" for an interned field.
func idClause(field string, get func(*audit.Rec) uint32) func(*programContext, *audit.Rec, bool) string {
	return func(c *programContext, r *audit.Rec, keep bool) string {
		op := "=="
		if !keep {
			op = "!="
		}
		return field + " " + op + " " + strconv.Quote(c.store.Str(get(r)))
	}
}

func idCell(get func(*audit.Rec) uint32) func(*programContext, *audit.Rec, []byte) []byte {
	return func(c *programContext, r *audit.Rec, b []byte) []byte {
		return append(b, c.store.Str(get(r))...)
	}
}

func rowStyle(c *programContext, _ *audit.Rec) lipgloss.Style   { return c.styles.Row }
func mutedStyle(c *programContext, _ *audit.Rec) lipgloss.Style { return c.styles.Muted }

// verbClass returns 0 read, 1 write, 2 delete.
func verbClass(verb string) int {
	switch verb {
	case "get", "list", "watch":
		return 0
	case "delete", "deletecollection":
		return 2
	}
	return 1
}

func verbStyle(c *programContext, r *audit.Rec) lipgloss.Style {
	switch verbClass(c.store.Str(r.Verb)) {
	case 0:
		return c.styles.VerbRead
	case 2:
		return c.styles.VerbDelete
	}
	return c.styles.VerbWrite
}

func codeStyle(c *programContext, r *audit.Rec) lipgloss.Style {
	st := c.styles
	switch {
	case r.Code == 0:
		return st.CodeNone
	case r.Code >= 500:
		return st.Code5xx
	case r.Code >= 400:
		return st.Code4xx
	case r.Code >= 300:
		return st.Code3xx
	}
	return st.Code2xx
}

// allColumns lists every column, defaults first.
func allColumns() []*column {
	return []*column{
		{name: "time", title: "TIME", min: 12, prio: 0, cell: timeCell, style: mutedStyle, clause: timeClause},
		{name: "user", title: "USER", min: 10, flex: 3, prio: 0, cell: idCell(func(r *audit.Rec) uint32 { return r.User }), style: rowStyle,
			clause: idClause("user", func(r *audit.Rec) uint32 { return r.User })},
		{name: "verb", title: "VERB", min: 7, prio: 0, style: verbStyle, cell: idCell(func(r *audit.Rec) uint32 { return r.Verb }),
			clause: idClause("verb", func(r *audit.Rec) uint32 { return r.Verb })},
		{name: "resource", title: "RESOURCE", min: 8, flex: 2, prio: 0, cell: resourceCell, style: rowStyle, clause: resourceClause},
		{name: "namespace/name", title: "NAMESPACE/NAME", min: 10, flex: 3, prio: 1, cell: nsNameCell, style: rowStyle, clause: nsNameClause},
		{name: "code", title: "CODE", min: 4, prio: 0, right: true, cell: codeCell, style: codeStyle, clause: codeClause},
		{name: "latency", title: "LATENCY", min: 7, prio: 2, right: true, cell: latencyCell, style: mutedStyle, clause: latencyClause},
		{name: "sourceIP", title: "SOURCE IP", min: 15, prio: 2, cell: idCell(func(r *audit.Rec) uint32 { return r.SourceIP }), style: mutedStyle,
			clause: idClause("sourceIP", func(r *audit.Rec) uint32 { return r.SourceIP })},
		{name: "userAgent", title: "USER AGENT", min: 12, flex: 2, prio: 3, cell: idCell(func(r *audit.Rec) uint32 { return r.UA }), style: mutedStyle,
			clause: idClause("userAgent", func(r *audit.Rec) uint32 { return r.UA })},
		{name: "stage", title: "STAGE", min: 8, prio: 3, cell: func(_ *programContext, r *audit.Rec, b []byte) []byte { return append(b, r.Stage.String()...) }, style: mutedStyle,
			clause: func(_ *programContext, r *audit.Rec, keep bool) string {
				return enumClause("stage", r.Stage.String(), keep)
			}},
		{name: "level", title: "LEVEL", min: 8, prio: 3, cell: func(_ *programContext, r *audit.Rec, b []byte) []byte { return append(b, r.Level.String()...) }, style: mutedStyle,
			clause: func(_ *programContext, r *audit.Rec, keep bool) string {
				return enumClause("level", r.Level.String(), keep)
			}},
		{name: "apiGroup", title: "API GROUP", min: 8, flex: 1, prio: 3, cell: idCell(func(r *audit.Rec) uint32 { return r.APIGroup }), style: mutedStyle,
			clause: idClause("apiGroup", func(r *audit.Rec) uint32 { return r.APIGroup })},
		{name: "impersonatedUser", title: "AS USER", min: 8, flex: 1, prio: 3, cell: idCell(func(r *audit.Rec) uint32 { return r.ImpUser }), style: rowStyle,
			clause: idClause("impersonatedUser", func(r *audit.Rec) uint32 { return r.ImpUser })},
		{name: "decision", title: "DECISION", min: 8, prio: 3, cell: func(_ *programContext, r *audit.Rec, b []byte) []byte { return append(b, r.Decision.String()...) }, style: mutedStyle,
			clause: func(_ *programContext, r *audit.Rec, keep bool) string {
				return enumClause("decision", r.Decision.String(), keep)
			}},
		{name: "cluster", title: "CLUSTER", min: 8, flex: 1, prio: 3, cell: idCell(func(r *audit.Rec) uint32 { return r.Cluster }), style: mutedStyle,
			clause: idClause("cluster", func(r *audit.Rec) uint32 { return r.Cluster })},
	}
}

// DefaultColumns are the list's columns unless --columns says otherwise.
var defaultColumns = []string{"time", "user", "verb", "resource", "namespace/name", "code", "latency", "sourceIP"}

// ColumnNames returns the names a user may choose from.
func ColumnNames() []string {
	var names []string
	for _, c := range allColumns() {
		names = append(names, c.name)
	}
	return names
}

// pickColumns returns the named columns (unknown names are ignored; cmd
// validates them first) or the defaults.
func pickColumns(names []string) []*column {
	if len(names) == 0 {
		names = defaultColumns
	}
	all := allColumns()
	var out []*column
	for _, n := range names {
		for _, c := range all {
			if strings.EqualFold(c.name, n) {
				out = append(out, c)
			}
		}
	}
	if len(out) == 0 {
		return pickColumns(defaultColumns)
	}
	return out
}

func enumClause(field, v string, keep bool) string {
	op := "=="
	if !keep {
		op = "!="
	}
	return field + " " + op + " " + strconv.Quote(v)
}

func timeCell(c *programContext, r *audit.Rec, b []byte) []byte {
	if r.Flags&audit.FlagNoTime != 0 {
		return append(b, "(no time)"...)
	}
	layout := "15:04:05.000"
	if c.multiDay {
		layout = "01-02 15:04:05"
	}
	return time.Unix(0, r.Time).In(c.loc()).AppendFormat(b, layout)
}

// timeClause keeps or drops the cursor event's second.
func timeClause(c *programContext, r *audit.Rec, keep bool) string {
	if r.Flags&audit.FlagNoTime != 0 {
		return ""
	}
	t := time.Unix(0, r.Time).UTC().Truncate(time.Second)
	a, z := strconv.Quote(t.Format(time.RFC3339)), strconv.Quote(t.Add(time.Second).Format(time.RFC3339))
	if keep {
		return "since(" + a + ") && before(" + z + ")"
	}
	return "!(since(" + a + ") && before(" + z + "))"
}

func resourceCell(c *programContext, r *audit.Rec, b []byte) []byte {
	if r.Resource == 0 || c.store.Str(r.Resource) == "" {
		// A non-resource request (/version, /healthz, /api): its URI says
		// what it was. Only visible rows get here, and they are cached.
		if uri, err := filters.Value(c.store, r, "uri"); err == nil {
			return append(b, uri...)
		}
	}
	b = append(b, c.store.Str(r.Resource)...)
	if r.Subres != 0 {
		if s := c.store.Str(r.Subres); s != "" {
			b = append(b, '/')
			b = append(b, s...)
		}
	}
	return b
}

func resourceClause(c *programContext, r *audit.Rec, keep bool) string {
	if c.store.Str(r.Resource) == "" {
		if uri, err := filters.Value(c.store, r, "uri"); err == nil && uri != "" {
			if keep {
				return "uri == " + strconv.Quote(uri)
			}
			return "uri != " + strconv.Quote(uri)
		}
	}
	res := "resource == " + strconv.Quote(c.store.Str(r.Resource))
	if sub := c.store.Str(r.Subres); sub != "" {
		res += " && subresource == " + strconv.Quote(sub)
	}
	if keep {
		return res
	}
	return "!(" + res + ")"
}

func nsNameCell(c *programContext, r *audit.Rec, b []byte) []byte {
	ns, name := c.store.Str(r.NS), c.store.Str(r.Name)
	if ns != "" {
		b = append(b, ns...)
		if name != "" {
			b = append(b, '/')
		}
	}
	return append(b, name...)
}

func nsNameClause(c *programContext, r *audit.Rec, keep bool) string {
	res := "namespace == " + strconv.Quote(c.store.Str(r.NS)) + " && name == " + strconv.Quote(c.store.Str(r.Name))
	if keep {
		return res
	}
	return "!(" + res + ")"
}

func codeCell(_ *programContext, r *audit.Rec, b []byte) []byte {
	if r.Code == 0 {
		return append(b, '-')
	}
	return strconv.AppendUint(b, uint64(r.Code), 10)
}

func codeClause(_ *programContext, r *audit.Rec, keep bool) string {
	op := "=="
	if !keep {
		op = "!="
	}
	return fmt.Sprintf("code %s %d", op, r.Code)
}

func latencyCell(_ *programContext, r *audit.Rec, b []byte) []byte {
	return appendLatency(b, float64(r.Latency))
}

// appendLatency prints seconds compactly: 850µs, 12ms, 1.25s, 2m05s.
func appendLatency(b []byte, s float64) []byte {
	switch {
	case s <= 0:
		return append(b, '-')
	case s < 0.001:
		return append(strconv.AppendInt(b, int64(s*1e6), 10), "µs"...)
	case s < 1:
		return append(strconv.AppendInt(b, int64(s*1e3), 10), "ms"...)
	case s < 60:
		return append(strconv.AppendFloat(b, s, 'f', 2, 64), 's')
	}
	d := time.Duration(s * float64(time.Second)).Round(time.Second)
	return fmt.Appendf(b, "%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
}

// latencyClause keeps events at least as slow as the cursor's, or drops
// them.
func latencyClause(_ *programContext, r *audit.Rec, keep bool) string {
	d := time.Duration(float64(r.Latency) * float64(time.Second)).Round(time.Millisecond)
	if d <= 0 {
		return ""
	}
	op := ">="
	if !keep {
		op = "<"
	}
	return fmt.Sprintf("latency %s duration(%q)", op, d.String())
}
