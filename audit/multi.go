package audit

import (
	"bytes"
	"context"
	"errors"
	"io"
)

// loadMulti indexes pretty-printed JSON: objects that span lines, possibly
// inside a top-level array. It runs sequentially; such files are small.
func (l *Loader) loadMulti(ctx context.Context, end int64, final bool) error {
	w := l.newWorker()
	win := window{src: l.src, end: end}
	for l.pos < end {
		if err := ctx.Err(); err != nil {
			return err
		}
		b, err := win.at(l.pos, 1<<20)
		if err != nil {
			return err
		}
		// Skip whitespace and the framing of a top-level array.
		i := 0
		for i < len(b) && (wsTable[b[i]] || b[i] == ',' || b[i] == '[' || b[i] == ']') {
			i++
		}
		l.advance(b[:i])
		if i == len(b) {
			if win.complete(l.pos) {
				return nil
			}
			continue
		}
		b = b[i:]
		if bytes.HasPrefix(b, []byte("\xef\xbb\xbf")) {
			l.advance(b[:3])
			continue
		}
		var res chunkResult
		if b[0] != '{' {
			// Garbage between values: report it and resync at the next
			// line that starts an object.
			stop := bytes.Index(b, []byte("\n{"))
			if stop < 0 && !win.complete(l.pos+int64(len(b))) {
				if _, err := win.at(l.pos, len(b)*2); err != nil {
					return err
				}
				continue
			}
			if stop < 0 {
				stop = len(b)
			} else {
				stop++
			}
			line := b[:stop]
			if nl := bytes.IndexByte(line, '\n'); nl >= 0 {
				line = line[:nl]
			}
			w.parseLine(line, l.pos, 0, &res)
			if err := l.report(res.errs, l.line); err != nil {
				return err
			}
			l.advance(b[:stop])
			continue
		}
		n, err := skipNested(b, 0)
		if err != nil && IsTruncated(err) && !win.complete(l.pos+int64(len(b))) {
			if _, err := win.at(l.pos, len(b)*2); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			if IsTruncated(err) && !final {
				return nil // wait for the rest of the object
			}
			res.errs = append(res.errs, valueError(err, 0, "", l.pos))
			if err := l.report(res.errs, l.line); err != nil {
				return err
			}
			// Resync at the next line that starts an object.
			stop := bytes.Index(b[1:], []byte("\n{"))
			if stop < 0 {
				l.advance(b)
				l.pos = end
				return nil
			}
			l.advance(b[:stop+2])
			continue
		}
		w.parseValue(b[:n], l.pos, 0, &res)
		if err := l.report(res.errs, l.line); err != nil {
			l.store.Append(res.recs)
			return err
		}
		l.store.Append(res.recs)
		l.events += int64(len(res.recs))
		l.advance(b[:n])
	}
	return nil
}

// advance moves past b, counting its lines.
func (l *Loader) advance(b []byte) {
	l.pos += int64(len(b))
	l.line += bytes.Count(b, []byte{'\n'})
}

// window buffers a segment for sequential scanning.
type window struct {
	src  io.ReaderAt
	end  int64
	off  int64
	buf  []byte
	want int
}

// at returns at least min(n, end-off) bytes starting at off, or more when
// a previous call asked for more.
func (w *window) at(off int64, n int) ([]byte, error) {
	n = max(n, 1<<16)
	if off >= w.off && off+int64(n) <= w.off+int64(len(w.buf)) {
		return w.buf[off-w.off:], nil
	}
	if off >= w.off && w.off+int64(len(w.buf)) == w.end && off <= w.end {
		return w.buf[off-w.off:], nil
	}
	size := min(int64(n), w.end-off)
	if size <= 0 {
		return nil, nil
	}
	buf := make([]byte, size)
	m, err := w.src.ReadAt(buf, off)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	w.off, w.buf = off, buf[:m]
	if int64(m) < size {
		w.end = off + int64(m)
	}
	return w.buf, nil
}

// complete reports whether the window reaches the end of the range.
func (w *window) complete(upto int64) bool { return upto >= w.end }
