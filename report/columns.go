package report

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"ktrail/audit"
)

// DefaultColumns returns the table and CSV columns used when
// Options.Columns is empty.
func DefaultColumns() []string {
	return []string{"time", "user", "verb", "resource", "namespace/name", "code", "sourceIP"}
}

// column is one table or CSV column.
type column struct {
	name  string // canonical name, as in the filter vocabulary
	max   int    // table: widest value in cells, longer ones are cut
	value func(c *cellCtx, r *audit.Rec) string
}

// cellCtx is what a column needs to render a value.
type cellCtx struct {
	s   *audit.Store
	loc *time.Location
	csv bool // full-precision times and plain numbers
}

func (c *cellCtx) str(id uint32) string { return c.s.Str(id) }

// columns lists every column a table or CSV can show.
var columns = []column{
	{"time", 0, func(c *cellCtx, r *audit.Rec) string { return c.time(r.Time, r.Flags&audit.FlagNoTime != 0) }},
	{"user", 40, func(c *cellCtx, r *audit.Rec) string { return c.str(r.User) }},
	{"impersonatedUser", 40, func(c *cellCtx, r *audit.Rec) string { return c.str(r.ImpUser) }},
	{"effectiveUser", 40, func(c *cellCtx, r *audit.Rec) string {
		if r.ImpUser != 0 {
			return c.str(r.ImpUser)
		}
		return c.str(r.User)
	}},
	{"groups", 50, func(c *cellCtx, r *audit.Rec) string { return groupList(c.str(r.Groups)) }},
	{"verb", 20, func(c *cellCtx, r *audit.Rec) string { return c.str(r.Verb) }},
	{"resource", 30, func(c *cellCtx, r *audit.Rec) string {
		if r.Subres != 0 {
			return c.str(r.Resource) + "/" + c.str(r.Subres)
		}
		return c.str(r.Resource)
	}},
	{"subresource", 20, func(c *cellCtx, r *audit.Rec) string { return c.str(r.Subres) }},
	{"apiGroup", 30, func(c *cellCtx, r *audit.Rec) string { return c.str(r.APIGroup) }},
	{"namespace", 30, func(c *cellCtx, r *audit.Rec) string { return c.str(r.NS) }},
	{"name", 40, func(c *cellCtx, r *audit.Rec) string { return c.str(r.Name) }},
	{"namespace/name", 50, func(c *cellCtx, r *audit.Rec) string {
		if r.NS == 0 {
			return c.str(r.Name)
		}
		return c.str(r.NS) + "/" + c.str(r.Name)
	}},
	{"code", 0, func(c *cellCtx, r *audit.Rec) string {
		if r.Code == 0 {
			return ""
		}
		return strconv.Itoa(int(r.Code))
	}},
	{"sourceIP", 40, func(c *cellCtx, r *audit.Rec) string { return c.str(r.SourceIP) }},
	{"userAgent", 40, func(c *cellCtx, r *audit.Rec) string { return c.str(r.UA) }},
	{"stage", 0, func(c *cellCtx, r *audit.Rec) string { return r.Stage.String() }},
	{"level", 0, func(c *cellCtx, r *audit.Rec) string { return r.Level.String() }},
	{"decision", 0, func(c *cellCtx, r *audit.Rec) string { return r.Decision.String() }},
	{"latency", 0, func(c *cellCtx, r *audit.Rec) string { return c.latency(r.Latency) }},
	{"cluster", 30, func(c *cellCtx, r *audit.Rec) string { return c.str(r.Cluster) }},
}

// columnAliases are short names accepted for columns.
var columnAliases = map[string]string{
	"ns": "namespace", "ns/name": "namespace/name", "ip": "sourceIP", "ua": "userAgent",
	"subres": "subresource", "impuser": "impersonatedUser", "group": "apiGroup",
}

// maxCell caps table cells of columns that have no cap of their own and
// of group keys that are not columns.
const maxCell = 60

// lookupColumns resolves column names, case-insensitively.
func lookupColumns(names []string) ([]column, error) {
	if len(names) == 0 {
		names = DefaultColumns()
	}
	out := make([]column, 0, len(names))
	for _, n := range names {
		c, ok := findColumn(n)
		if !ok {
			return nil, fmt.Errorf("report: unknown column %q (known: %s)", audit.Sanitize(n), strings.Join(ColumnNames(), ", "))
		}
		out = append(out, c)
	}
	return out, nil
}

func findColumn(name string) (column, bool) {
	name = strings.TrimSpace(name)
	if a, ok := columnAliases[strings.ToLower(name)]; ok {
		name = a
	}
	i := slices.IndexFunc(columns, func(c column) bool { return strings.EqualFold(c.name, name) })
	if i < 0 {
		return column{}, false
	}
	return columns[i], true
}

// ColumnNames returns the names of every column a table or CSV can show.
func ColumnNames() []string {
	names := make([]string, len(columns))
	for i, c := range columns {
		names[i] = c.name
	}
	return names
}

// time formats an event time: RFC 3339 with milliseconds for tables, with
// full precision for CSV; blank when the event has none.
func (c *cellCtx) time(ns int64, none bool) string {
	if none || ns == 0 {
		return ""
	}
	t := time.Unix(0, ns).In(c.loc)
	if c.csv {
		return t.Format(time.RFC3339Nano)
	}
	return t.Format("2006-01-02T15:04:05.000Z07:00")
}

func (c *cellCtx) latency(l float32) string {
	if l == 0 {
		return ""
	}
	if c.csv {
		return strconv.FormatFloat(float64(l), 'f', -1, 32)
	}
	return strconv.FormatFloat(float64(l), 'f', 3, 32) + "s"
}

// groupList shows the interned JSON array of a user's groups as a comma
// separated list.
func groupList(raw string) string {
	if raw == "" {
		return ""
	}
	var g []string
	if json.Unmarshal([]byte(raw), &g) != nil {
		return raw
	}
	return strings.Join(g, ",")
}

// location returns the time zone the options ask for.
func (o Options) location() *time.Location {
	if o.UTC {
		return time.UTC
	}
	return time.Local
}
