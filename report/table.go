package report

import (
	"bufio"
	"errors"
	"strings"

	"ktrail/audit"
)

// batchRows is how many rows a table holds to size its columns before it
// writes them; a long result is written in batches, never held whole.
const batchRows = 1000

// tableOut renders rows as aligned columns separated by two spaces. Column
// widths only grow from one batch to the next, so later batches stay
// aligned with earlier ones unless a wider value arrives.
type tableOut struct {
	w           *bufio.Writer
	header      []string
	right       []bool // right-aligned columns (counts)
	widths      []int
	wroteHeader bool
	line        []byte
}

func newTableOut(w *bufio.Writer, header []string, right []bool) *tableOut {
	t := &tableOut{w: w, header: header, right: right, widths: make([]int, len(header))}
	for i, h := range header {
		t.widths[i] = width(h)
	}
	return t
}

// flush writes rows, preceded by the header the first time. Cells must
// already be sanitised and cut to size.
func (t *tableOut) flush(rows [][]string) error {
	if len(rows) == 0 {
		return nil
	}
	for _, row := range rows {
		for i, c := range row {
			t.widths[i] = max(t.widths[i], width(c))
		}
	}
	var err error
	if !t.wroteHeader {
		t.wroteHeader = true
		err = t.row(t.header)
	}
	for _, row := range rows {
		if err != nil {
			break
		}
		err = t.row(row)
	}
	return writeErr(err)
}

func (t *tableOut) row(cells []string) error {
	b := t.line[:0]
	last := len(cells) - 1
	for last > 0 && cells[last] == "" && !t.right[last] {
		last-- // no trailing blanks
	}
	for i, c := range cells[:last+1] {
		if i > 0 {
			b = append(b, "  "...)
		}
		pad := t.widths[i] - width(c)
		if t.right[i] {
			b = appendSpaces(b, pad)
			b = append(b, c...)
			continue
		}
		b = append(b, c...)
		if i < last {
			b = appendSpaces(b, pad)
		}
	}
	b = append(b, '\n')
	t.line = b
	_, err := t.w.Write(b)
	return err
}

func appendSpaces(b []byte, n int) []byte {
	for ; n > 0; n-- {
		b = append(b, ' ')
	}
	return b
}

// tableCell makes an event string fit for a terminal table: control
// sequences escaped, long values cut.
func tableCell(s string, max int) string {
	if max == 0 {
		max = maxCell
	}
	return truncate(audit.Sanitize(s), max)
}

// tableWriter writes events as an aligned table.
type tableWriter struct {
	out    *tableOut
	cols   []column
	ctx    *cellCtx
	rows   [][]string
	closed bool
}

func newTableWriter(w *bufio.Writer, cols []column, ctx *cellCtx) *tableWriter {
	header := make([]string, len(cols))
	for i, c := range cols {
		header[i] = strings.ToUpper(c.name)
	}
	return &tableWriter{out: newTableOut(w, header, make([]bool, len(cols))), cols: cols, ctx: ctx}
}

func (t *tableWriter) Write(r *audit.Rec, _ []byte) error {
	if t.closed {
		return errClosed
	}
	if r == nil {
		return errors.New("report: table output needs the event's record")
	}
	row := make([]string, len(t.cols))
	for i, c := range t.cols {
		row[i] = tableCell(c.value(t.ctx, r), c.max)
	}
	t.rows = append(t.rows, row)
	if len(t.rows) < batchRows {
		return nil
	}
	err := t.out.flush(t.rows)
	clear(t.rows)
	t.rows = t.rows[:0]
	return err
}

// Close writes the buffered rows. A table of no events is empty, header
// included: the caller says that nothing matched.
func (t *tableWriter) Close() error {
	if t.closed {
		return nil
	}
	t.closed = true
	if err := t.out.flush(t.rows); err != nil {
		return err
	}
	t.rows = nil
	return writeErr(t.out.w.Flush())
}
