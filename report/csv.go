package report

import (
	"encoding/csv"
	"errors"
	"io"

	"ktrail/audit"
)

// csvCell makes a value safe for CSV read by people and spreadsheets:
// control characters are escaped as audit.Sanitize does (the output may
// well be a terminal), and a cell that a spreadsheet would run as a
// formula (starting with = + - @ tab or CR) gets a leading apostrophe.
// encoding/csv does the quoting.
func csvCell(s string) string {
	s = audit.Sanitize(s)
	if s != "" {
		switch s[0] {
		case '=', '+', '-', '@', '\t', '\r':
			return "'" + s
		}
	}
	return s
}

// csvWriter writes events as CSV: a header of column names, one row per
// event.
type csvWriter struct {
	cw     *csv.Writer
	cols   []column
	ctx    *cellCtx
	rec    []string
	header bool
	closed bool
}

func newCSVWriter(w io.Writer, cols []column, ctx *cellCtx) *csvWriter {
	return &csvWriter{cw: csv.NewWriter(w), cols: cols, ctx: ctx, rec: make([]string, len(cols))}
}

func (c *csvWriter) writeHeader() error {
	if c.header {
		return nil
	}
	c.header = true
	for i, col := range c.cols {
		c.rec[i] = col.name
	}
	return writeErr(c.cw.Write(c.rec))
}

func (c *csvWriter) Write(r *audit.Rec, _ []byte) error {
	if c.closed {
		return errClosed
	}
	if r == nil {
		return errors.New("report: CSV output needs the event's record")
	}
	if err := c.writeHeader(); err != nil {
		return err
	}
	for i, col := range c.cols {
		c.rec[i] = csvCell(col.value(c.ctx, r))
	}
	return writeErr(c.cw.Write(c.rec))
}

// Close writes the header if no event came, and flushes.
func (c *csvWriter) Close() error {
	if c.closed {
		return nil
	}
	c.closed = true
	if err := c.writeHeader(); err != nil {
		return err
	}
	c.cw.Flush()
	return writeErr(c.cw.Error())
}
