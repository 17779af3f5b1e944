package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
	"time"
)

// Mode is the layout of a segment's events, detected from its bytes.
type Mode uint8

// The layouts.
const (
	ModeUnknown Mode = iota
	ModeLines        // one JSON value per line: Events, EventLists or arrays
	ModeMulti        // pretty-printed JSON, values spanning lines
)

// LoaderOptions configure a Loader.
type LoaderOptions struct {
	// Cluster labels every event read (the webhook path /audit/<cluster>).
	Cluster string
	// Workers is the number of parsing goroutines (default GOMAXPROCS).
	Workers int
	// ChunkSize is the unit of parallel work in bytes (default 4 MiB).
	ChunkSize int
	// OnError receives every skipped line, in input order.
	OnError func(*LineError)
	// Strict stops loading at the first skipped line.
	Strict bool
}

// ErrStrict is returned by Load when LoaderOptions.Strict is set and a line
// was skipped.
var ErrStrict = errors.New("audit: stopped at the first bad line (--strict)")

// Loader indexes the events of one segment into a Store. It can be called
// again as the segment grows (a followed file, a spool being written).
type Loader struct {
	store   *Store
	src     Segment
	seg     uint16
	opts    LoaderOptions
	cluster uint32

	mode    Mode
	pos     int64 // next byte to index
	line    int   // line number of the byte at pos
	events  int64
	skipped [numErrKinds]int64
	failed  bool
	// free holds record buffers handed back by the appender.
	free chan []Rec
}

// recBuffer returns an empty record buffer, reused when one is free.
func (l *Loader) recBuffer(capHint int) []Rec {
	select {
	case b := <-l.free:
		return b[:0]
	default:
		return make([]Rec, 0, capHint)
	}
}

// dropBuffers releases the reusable buffers once a load step is over, so
// an idle loader (a followed file) holds no memory.
func (l *Loader) dropBuffers() {
	for {
		select {
		case <-l.free:
		default:
			return
		}
	}
}

// recycle hands a record buffer back for reuse.
func (l *Loader) recycle(b []Rec) {
	if b == nil {
		return
	}
	select {
	case l.free <- b:
	default:
	}
}

// NewLoader returns a loader for segment seg (already added to store)
// whose bytes are read from src.
func NewLoader(store *Store, seg uint16, src Segment, opts LoaderOptions) *Loader {
	if opts.Workers <= 0 {
		opts.Workers = runtime.GOMAXPROCS(0)
	}
	if opts.ChunkSize <= 0 {
		opts.ChunkSize = 4 << 20
	}
	return &Loader{store: store, src: src, seg: seg, opts: opts, line: 1, free: make(chan []Rec, 2*opts.Workers+2),
		cluster: store.in.InternString(opts.Cluster)}
}

// Pos returns the offset up to which the segment has been indexed.
func (l *Loader) Pos() int64 { return l.pos }

// Mode returns the detected layout.
func (l *Loader) Mode() Mode { return l.mode }

// Events returns the number of events read (duplicates included).
func (l *Loader) Events() int64 { return l.events }

// Skipped returns the number of skipped lines by kind.
func (l *Loader) Skipped() [numErrKinds]int64 { return l.skipped }

// SkippedTotal returns the number of skipped lines.
func (l *Loader) SkippedTotal() int64 {
	var n int64
	for _, c := range l.skipped {
		n += c
	}
	return n
}

// Reset starts over at offset 0 (the file was truncated or replaced).
func (l *Loader) Reset() { l.pos, l.line, l.mode = 0, 1, ModeUnknown }

// Load indexes the bytes [Pos(), end). When final is false, an incomplete
// last line or value is left for a later call; when true, it is reported.
func (l *Loader) Load(ctx context.Context, end int64, final bool) error {
	if l.failed {
		return ErrStrict
	}
	if end <= l.pos {
		return nil
	}
	if l.mode == ModeUnknown {
		m, err := l.detect(end, final)
		if err != nil || m == ModeUnknown {
			return err
		}
		l.mode = m
	}
	var err error
	if l.mode == ModeLines {
		err = l.loadLines(ctx, end, final)
	} else {
		err = l.loadMulti(ctx, end, final)
	}
	return err
}

// detect looks at the first value to tell JSON lines from pretty-printed
// JSON. It returns ModeUnknown when more bytes are needed.
func (l *Loader) detect(end int64, final bool) (Mode, error) {
	const peek = 1 << 16
	buf := make([]byte, min(end-l.pos, peek))
	for {
		n, err := l.src.ReadAt(buf, l.pos)
		if err != nil && !errors.Is(err, io.EOF) {
			return 0, fmt.Errorf("audit: %s: %w", l.src.Name(), err)
		}
		b := trimBOM(buf[:n])
		i := skipWS(b, 0)
		if i >= len(b) {
			if int64(n) < end-l.pos && len(buf) < int(end-l.pos) {
				buf = make([]byte, min(int64(len(buf))*4, end-l.pos))
				continue
			}
			if final {
				return ModeLines, nil // whitespace only: nothing to index
			}
			return ModeUnknown, nil
		}
		if b[i] != '{' && b[i] != '[' {
			return ModeLines, nil
		}
		nl := bytes.IndexByte(b[i:], '\n')
		if nl < 0 {
			if int64(n) < end-l.pos {
				buf = make([]byte, min(int64(len(buf))*4, end-l.pos))
				continue
			}
			if final {
				return ModeLines, nil
			}
			return ModeUnknown, nil
		}
		var f Fields
		if err := Extract(b[i:i+nl], &f); err != nil && IsTruncated(err) {
			return ModeMulti, nil
		}
		return ModeLines, nil
	}
}

func trimBOM(b []byte) []byte {
	return bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
}

// chunkResult is what a worker produced for one chunk of lines.
type chunkResult struct {
	recs []Rec
	errs []*LineError // Line holds the line number relative to the chunk
	nl   int          // newlines inside the chunk
	err  error
}

// loadLines indexes JSON lines in parallel chunks.
func (l *Loader) loadLines(ctx context.Context, end int64, final bool) error {
	if !final {
		nl, err := lastNewline(l.src, l.pos, end)
		if err != nil {
			return err
		}
		if nl < 0 {
			return nil
		}
		end = nl + 1
	}
	start := l.pos
	size := end - start
	chunk := int64(l.opts.ChunkSize)
	if per := size / int64(l.opts.Workers*4); per < chunk {
		chunk = max(per, 64<<10)
	}
	nchunks := int((size + chunk - 1) / chunk)
	results := make([]chan chunkResult, nchunks)
	for i := range results {
		results[i] = make(chan chunkResult, 1)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer l.dropBuffers()
	// Tokens bound the number of chunks parsed ahead of the appender.
	tokens := make(chan struct{}, l.opts.Workers*2)
	jobs := make(chan int)
	go func() {
		defer close(jobs)
		for k := range nchunks {
			select {
			case tokens <- struct{}{}:
			case <-ctx.Done():
				return
			}
			select {
			case jobs <- k:
			case <-ctx.Done():
				return
			}
		}
	}()
	for range min(l.opts.Workers, nchunks) {
		go func() {
			w := l.newWorker()
			for k := range jobs {
				a := start + int64(k)*chunk
				b := min(a+chunk, end)
				results[k] <- w.parseChunk(a, b, start, end)
			}
		}()
	}
	// Results are appended in input order, several at a time: fewer,
	// larger merges keep late (earlier-timed) events cheap, while the
	// first chunk is published at once and later ones at least every
	// 100 ms, so events become visible early. Record buffers are reused
	// to avoid faulting in fresh memory for every chunk.
	var pending []Rec
	lastFlush := time.Now()
	flush := func() {
		if len(pending) > 0 {
			l.store.Append(pending)
			pending = pending[:0]
		}
		lastFlush = time.Now()
	}
	for k := range nchunks {
		var res chunkResult
		select {
		case res = <-results[k]:
		case <-ctx.Done():
			return ctx.Err()
		}
		<-tokens
		if res.err != nil {
			flush()
			return res.err
		}
		if err := l.report(res.errs, l.line); err != nil {
			// Strict: keep only the events before the bad line.
			bad := res.errs[0].Offset
			for _, r := range res.recs {
				if r.Off() < bad {
					pending = append(pending, r)
				}
			}
			flush()
			return err
		}
		pending = append(pending, res.recs...)
		l.recycle(res.recs)
		if k == 0 || len(pending) >= 1<<16 || time.Since(lastFlush) > 100*time.Millisecond {
			flush()
		}
		l.events += int64(len(res.recs))
		l.line += res.nl
		l.pos = min(start+int64(k+1)*chunk, end)
	}
	flush()
	l.pos = end
	return nil
}

// report passes skipped lines on, with absolute line numbers.
func (l *Loader) report(errs []*LineError, base int) error {
	for _, e := range errs {
		e.Line += base
		e.Source = l.src.Name()
		l.skipped[e.Kind]++
		if l.opts.OnError != nil {
			l.opts.OnError(e)
		}
		if l.opts.Strict {
			l.failed = true
			return ErrStrict
		}
	}
	return nil
}

// lastNewline returns the offset of the last '\n' in [from, to), or -1.
func lastNewline(r io.ReaderAt, from, to int64) (int64, error) {
	buf := make([]byte, 64<<10)
	for hi := to; hi > from; {
		lo := max(from, hi-int64(len(buf)))
		n, err := r.ReadAt(buf[:hi-lo], lo)
		if err != nil && !errors.Is(err, io.EOF) {
			return -1, err
		}
		if i := bytes.LastIndexByte(buf[:n], '\n'); i >= 0 {
			return lo + int64(i), nil
		}
		hi = lo
	}
	return -1, nil
}

// worker holds per-goroutine parsing state.
type worker struct {
	l   *Loader
	li  *LocalInterner
	buf []byte
	f   Fields
	itf Fields
	// estimate is the expected number of events in the current chunk.
	estimate int
}

func (l *Loader) newWorker() *worker {
	return &worker{l: l, li: l.store.in.NewLocal()}
}

// readRange reads [a, b) into w.buf.
func (w *worker) readRange(a, b int64) ([]byte, error) {
	if int64(cap(w.buf)) < b-a {
		w.buf = make([]byte, b-a)
	}
	buf := w.buf[:b-a]
	n, err := w.l.src.ReadAt(buf, a)
	if n < len(buf) {
		if err == nil || errors.Is(err, io.EOF) {
			err = fmt.Errorf("audit: %s: file shrank while reading (truncated?)", w.l.src.Name())
		}
		return nil, err
	}
	return buf, nil
}

// parseChunk indexes the lines that start in [a, b). The segment's range
// being indexed is [start, end).
func (w *worker) parseChunk(a, b, start, end int64) chunkResult {
	var res chunkResult
	buf, err := w.readRange(a, b)
	if err != nil {
		return chunkResult{err: err}
	}
	w.estimate = len(buf)/700 + 16
	res.nl = bytes.Count(buf, []byte{'\n'})
	i := 0
	rel := 0
	if a > start {
		var prev [1]byte
		if _, err := w.l.src.ReadAt(prev[:], a-1); err != nil {
			return chunkResult{err: err}
		}
		if prev[0] != '\n' {
			nl := bytes.IndexByte(buf, '\n')
			if nl < 0 {
				return res // inside a long line owned by an earlier chunk
			}
			i = nl + 1
			rel = 1
		}
	}
	for i < len(buf) {
		nl := bytes.IndexByte(buf[i:], '\n')
		var line []byte
		if nl >= 0 {
			line = buf[i : i+nl]
		} else {
			// The line runs past this chunk: read on to its end.
			line, err = w.readLongLine(a+int64(i), end)
			if err != nil {
				return chunkResult{err: err}
			}
		}
		w.parseLine(line, a+int64(i), rel, &res)
		if nl < 0 {
			break
		}
		i += nl + 1
		rel++
	}
	return res
}

// readLongLine reads from off to the next newline (or end), in a buffer of
// its own.
func (w *worker) readLongLine(off, end int64) ([]byte, error) {
	size := int64(64 << 10)
	for {
		n := min(size, end-off)
		buf := make([]byte, n)
		m, err := w.l.src.ReadAt(buf, off)
		if int64(m) < n {
			if err == nil || errors.Is(err, io.EOF) {
				err = fmt.Errorf("audit: %s: file shrank while reading (truncated?)", w.l.src.Name())
			}
			return nil, err
		}
		if i := bytes.IndexByte(buf, '\n'); i >= 0 {
			return buf[:i], nil
		}
		if off+n >= end {
			return buf, nil
		}
		size *= 4
	}
}

// parseLine indexes one line found at offset off.
func (w *worker) parseLine(line []byte, off int64, rel int, res *chunkResult) {
	// Trim the line end, whitespace and a byte-order mark.
	lead := 0
	if bytes.HasPrefix(line, []byte("\xef\xbb\xbf")) {
		lead = 3
	}
	lead = skipWS(line, lead)
	tail := len(line)
	for tail > lead && wsTable[line[tail-1]] {
		tail--
	}
	if lead == tail {
		return
	}
	body := line[lead:tail]
	if body[0] != '{' && body[0] != '[' {
		if json.Valid(body) {
			res.errs = append(res.errs, &LineError{Line: rel, Kind: ErrNotEvent, Msg: "JSON value is not an object (" + JSONKind(body[0]) + ")", Offset: off})
			return
		}
		kind := classifyLine(body)
		msg := "skipped " + kind.String()
		if kind == ErrText {
			msg = "skipped non-JSON line (" + describeLine(body) + ")"
		}
		res.errs = append(res.errs, &LineError{Line: rel, Kind: kind, Msg: msg, Offset: off})
		return
	}
	w.parseValue(body, off+int64(lead), rel, res)
}

// parseValue indexes one JSON value (Event, EventList or array) whose
// bytes start at offset off.
func (w *worker) parseValue(body []byte, off int64, rel int, res *chunkResult) {
	f := &w.f
	if err := Extract(body, f); err != nil {
		res.errs = append(res.errs, valueError(err, rel, "", off))
		return
	}
	if !f.IsList {
		w.addEvent(body, off, rel, f, res)
		return
	}
	for k, span := range f.Items {
		item := body[span[0]:span[1]]
		if err := Extract(item, &w.itf); err != nil {
			res.errs = append(res.errs, valueError(err, rel, fmt.Sprintf("item %d: ", k), off))
			continue
		}
		if w.itf.IsList {
			res.errs = append(res.errs, &LineError{Line: rel, Kind: ErrNotEvent, Msg: fmt.Sprintf("item %d: nested list is not an audit event", k), Offset: off})
			continue
		}
		w.addEvent(item, off+int64(span[0]), rel, &w.itf, res)
	}
}

func valueError(err error, rel int, prefix string, off int64) *LineError {
	kind := ErrMalformed
	var ne *NotEventError
	switch {
	case IsTruncated(err):
		kind = ErrTruncated
	case errors.As(err, &ne):
		kind = ErrNotEvent
	}
	return &LineError{Line: rel, Kind: kind, Msg: prefix + err.Error(), Offset: off}
}

func (w *worker) addEvent(b []byte, off int64, rel int, f *Fields, res *chunkResult) {
	if f.GKE {
		if err := normalizeGKE(b, f); err != nil {
			res.errs = append(res.errs, &LineError{Line: rel, Kind: ErrNotEvent, Msg: err.Error(), Offset: off})
			return
		}
	}
	if res.recs == nil {
		res.recs = w.l.recBuffer(w.estimate)
	}
	res.recs = append(res.recs, Rec{})
	r := &res.recs[len(res.recs)-1]
	BuildRec(f, w.li, r)
	r.Loc = MakeLoc(w.l.seg, off)
	r.Len = uint32(len(b))
	r.Cluster = w.l.cluster
	if r.Cluster == 0 && len(f.Cluster) > 0 {
		r.Cluster = w.li.Intern(slotCluster, f.Cluster)
	}
}
