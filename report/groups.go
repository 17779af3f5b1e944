package report

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"

	"ktrail/audit"
)

// Group is one row of a --group-by result: the values of the grouping
// fields, how many events have them, and the times of the first and last
// of those events (Unix ns; 0 when unknown).
type Group struct {
	Values      []string
	Count       int64
	First, Last int64
}

// WriteGroups writes grouped counts in format f. keys name the grouping
// fields, in the order of each Group's Values. Tables and CSV have a
// column per key then count, first and last; JSON and JSON lines have an
// object per group with a member per key then count, first and last
// (null when unknown). Values are escaped for the format as events are.
func WriteGroups(w io.Writer, f Format, keys []string, groups []Group, opts Options) error {
	if w == nil {
		return fmt.Errorf("report: WriteGroups: nil io.Writer")
	}
	if len(keys) == 0 {
		return fmt.Errorf("report: group-by needs at least one field")
	}
	seen := map[string]bool{"count": true, "first": true, "last": true}
	for _, k := range keys {
		if seen[strings.ToLower(k)] {
			return fmt.Errorf("report: group-by field %q is repeated or clashes with count, first or last", audit.Sanitize(k))
		}
		seen[strings.ToLower(k)] = true
	}
	for i, g := range groups {
		if len(g.Values) != len(keys) {
			return fmt.Errorf("report: group %d has %d values for %d group-by fields", i, len(g.Values), len(keys))
		}
	}
	ctx := &cellCtx{loc: opts.location(), csv: f != FormatTable}
	switch f {
	case FormatTable:
		return groupTable(w, keys, groups, ctx)
	case FormatCSV:
		return groupCSV(w, keys, groups, ctx)
	case FormatJSON, FormatJSONL:
		return groupJSON(w, keys, groups, ctx, f == FormatJSON)
	}
	return fmt.Errorf("report: unknown output format %v", f)
}

func groupTable(w io.Writer, keys []string, groups []Group, ctx *cellCtx) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	n := len(keys)
	header := make([]string, n+3)
	right := make([]bool, n+3)
	maxes := make([]int, n)
	for i, k := range keys {
		header[i] = strings.ToUpper(tableCell(k, maxCell))
		if c, ok := findColumn(k); ok {
			maxes[i] = c.max
		}
	}
	copy(header[n:], []string{"COUNT", "FIRST", "LAST"})
	right[n] = true
	out := newTableOut(bw, header, right)
	rows := make([][]string, 0, min(len(groups), batchRows))
	for gi, g := range groups {
		row := make([]string, n+3)
		for i, v := range g.Values {
			row[i] = tableCell(v, maxes[i])
		}
		row[n] = strconv.FormatInt(g.Count, 10)
		row[n+1] = ctx.time(g.First, false)
		row[n+2] = ctx.time(g.Last, false)
		rows = append(rows, row)
		if len(rows) == batchRows || gi == len(groups)-1 {
			if err := out.flush(rows); err != nil {
				return err
			}
			rows = rows[:0]
		}
	}
	return writeErr(bw.Flush())
}

func groupCSV(w io.Writer, keys []string, groups []Group, ctx *cellCtx) error {
	cw := csv.NewWriter(w)
	rec := make([]string, len(keys)+3)
	for i, k := range keys {
		rec[i] = csvCell(k)
	}
	copy(rec[len(keys):], []string{"count", "first", "last"})
	if err := cw.Write(rec); err != nil {
		return writeErr(err)
	}
	for _, g := range groups {
		for i, v := range g.Values {
			rec[i] = csvCell(v)
		}
		rec[len(keys)] = strconv.FormatInt(g.Count, 10)
		rec[len(keys)+1] = ctx.time(g.First, false)
		rec[len(keys)+2] = ctx.time(g.Last, false)
		if err := cw.Write(rec); err != nil {
			return writeErr(err)
		}
	}
	cw.Flush()
	return writeErr(cw.Error())
}

func groupJSON(w io.Writer, keys []string, groups []Group, ctx *cellCtx, array bool) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	var b []byte
	if array && len(groups) == 0 {
		b = append(b, "[]\n"...)
	}
	for gi, g := range groups {
		switch {
		case !array:
		case gi == 0:
			b = append(b, "[\n"...)
		default:
			b = append(b, ",\n"...)
		}
		b = append(b, '{')
		for i, k := range keys {
			b = appendJSONString(b, k)
			b = append(b, ':')
			b = appendJSONString(b, g.Values[i])
			b = append(b, ',')
		}
		b = append(b, `"count":`...)
		b = strconv.AppendInt(b, g.Count, 10)
		b = append(b, `,"first":`...)
		b = appendJSONTime(b, ctx, g.First)
		b = append(b, `,"last":`...)
		b = appendJSONTime(b, ctx, g.Last)
		b = append(b, '}')
		if !array {
			b = append(b, '\n')
		} else if gi == len(groups)-1 {
			b = append(b, "\n]\n"...)
		}
		if _, err := bw.Write(b); err != nil {
			return writeErr(err)
		}
		b = b[:0]
	}
	if len(b) > 0 {
		if _, err := bw.Write(b); err != nil {
			return writeErr(err)
		}
	}
	return writeErr(bw.Flush())
}

func appendJSONTime(b []byte, ctx *cellCtx, ns int64) []byte {
	if ns == 0 {
		return append(b, "null"...)
	}
	return appendJSONString(b, ctx.time(ns, false))
}
