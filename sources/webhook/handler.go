package webhook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"

	"github.com/klauspost/compress/gzip"
)

// Pools of request and output buffers; buffers that grew beyond
// maxPooled are left to the garbage collector.
var (
	bodyPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}
	outPool  = sync.Pool{New: func() any { return new([]byte) }}
)

const maxPooled = 8 << 20

// ServeHTTP routes a request: the ingest paths, /healthz and /metrics. A
// panic is answered 500 and logged; the server goes on.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.m.inFlight.Inc()
	defer s.m.inFlight.Dec()
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.refuse(w, r, reject(http.StatusInternalServerError, ReasonPanic, "internal error: %s (at %s)", sanitize(fmt.Sprint(v)), panicSite()), -1, true)
		}
	}()
	path := r.URL.Path
	switch {
	case path == "/healthz":
		if !s.allowGet(w, r) {
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "ok")
	case path == "/metrics":
		if !s.allowGet(w, r) {
			return
		}
		if s.tokens != nil && !s.tokens.check(r.Header.Get("Authorization")) {
			s.refuse(w, r, reject(http.StatusUnauthorized, ReasonUnauthorized, "/metrics needs a bearer token"), -1, true)
			return
		}
		if s.gatherer == nil {
			s.refuse(w, r, reject(http.StatusNotFound, ReasonNotFound, "metrics are served by the application, not here"), -1, false)
			return
		}
		s.m.handler.ServeHTTP(w, r)
	case path == "/" || path == "/audit":
		s.ingest(w, r, "", false)
	case strings.HasPrefix(path, "/audit/"):
		s.ingest(w, r, path[len("/audit/"):], true)
	default:
		// A POST elsewhere is likely a webhook kubeconfig with a wrong
		// path: worth a loud line. Other probes are only counted.
		s.refuse(w, r, reject(http.StatusNotFound, ReasonNotFound, "no such path: the audit webhook posts to /, /audit or /audit/<cluster>"), -1, r.Method == http.MethodPost)
	}
}

// panicSite names, in one line, the innermost frames (outside the
// runtime) of the panic being recovered.
func panicSite() string {
	pcs := make([]uintptr, 32)
	frames := runtime.CallersFrames(pcs[:runtime.Callers(3, pcs)])
	var out []string
	panicking := false
	for len(out) < 3 {
		f, more := frames.Next()
		switch {
		case f.Function == "runtime.gopanic":
			panicking = true
		case panicking && !strings.HasPrefix(f.Function, "runtime."):
			out = append(out, fmt.Sprintf("%s %s:%d", f.Function, filepath.Base(f.File), f.Line))
		}
		if !more {
			break
		}
	}
	if len(out) == 0 {
		return "unknown"
	}
	return strings.Join(out, " < ")
}

// allowGet answers 405 to anything but GET and HEAD.
func (s *Server) allowGet(w http.ResponseWriter, r *http.Request) bool {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return true
	}
	w.Header().Set("Allow", "GET, HEAD")
	s.refuse(w, r, reject(http.StatusMethodNotAllowed, ReasonMethod, "method %s is not allowed here", clipQ(r.Method)), -1, false)
	return false
}

// refuse counts and answers a rejection; loud ones are logged with the
// remote address, the reason and the size (-1: not read).
func (s *Server) refuse(w http.ResponseWriter, r *http.Request, rej *rejection, size int64, loud bool) {
	s.m.reject(rej.reason)
	if loud {
		sz := "body not read"
		if size >= 0 {
			sz = strconv.FormatInt(size, 10) + " bytes"
		}
		s.log.printf("webhook: REJECTED %s %s from %s (%s): %d %s: %s",
			sanitize(clip([]byte(r.Method))), sanitize(clip([]byte(r.URL.Path))), sanitize(r.RemoteAddr), sz, rej.code, rej.reason, rej.msg)
	}
	h := w.Header()
	switch rej.code {
	case http.StatusUnauthorized:
		h.Set("WWW-Authenticate", `Bearer realm="ktrail-webhook"`)
	case http.StatusServiceUnavailable:
		h.Set("Retry-After", "1")
	}
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(rej.code)
	io.WriteString(w, "webhook: "+rej.msg+"\n")
}

// ingest receives one batch: authentication, cluster label, body, parse,
// then a group commit; it answers 200 only once the events are on disk.
func (s *Server) ingest(w http.ResponseWriter, r *http.Request, pathCluster string, fromPath bool) {
	if s.hooks.ingest != nil {
		s.hooks.ingest(r)
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		s.refuse(w, r, reject(http.StatusMethodNotAllowed, ReasonMethod, "method %s is not allowed: the audit webhook posts batches with POST", clipQ(r.Method)), -1, true)
		return
	}
	if s.tokens != nil && !s.tokens.check(r.Header.Get("Authorization")) {
		msg := "wrong bearer token"
		if r.Header.Get("Authorization") == "" {
			msg = "no bearer token: send Authorization: Bearer <token> (token: in the webhook kubeconfig, https only)"
		}
		s.refuse(w, r, reject(http.StatusUnauthorized, ReasonUnauthorized, "%s", msg), -1, true)
		return
	}
	cluster, rej := s.cluster(r, pathCluster, fromPath)
	if rej == nil {
		rej = checkContentType(r.Header.Get("Content-Type"))
	}
	if rej == nil && r.ContentLength > s.cfg.MaxBody {
		rej = reject(http.StatusRequestEntityTooLarge, ReasonTooLarge, "body of %d bytes is larger than the limit of %d bytes", r.ContentLength, s.cfg.MaxBody)
	}
	if rej != nil {
		s.refuse(w, r, rej, -1, true)
		return
	}
	release, rej := s.reserve(r)
	if rej != nil {
		s.refuse(w, r, rej, -1, true)
		return
	}
	defer release()
	body := bodyPool.Get().(*bytes.Buffer)
	defer putBody(body)
	size, rej := s.readBody(w, r, body)
	if rej != nil {
		s.refuse(w, r, rej, size, true)
		return
	}
	outp := outPool.Get().(*[]byte)
	defer putOut(outp)
	data, events, rej := parseBatch(body.Bytes(), (*outp)[:0])
	*outp = data
	if rej != nil {
		s.refuse(w, r, rej, size, true)
		return
	}
	if events > 0 {
		if rej := s.store(cluster, data, events); rej != nil {
			s.refuse(w, r, rej, size, true)
			return
		}
	}
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, "{\"events\":%d}\n", events)
}

// reserve takes the request's share of the memory budget for bodies:
// its Content-Length when it is sent uncompressed, else MaxBody. It waits
// up to s.busyWait for room, then refuses with 503.
func (s *Server) reserve(r *http.Request) (release func(), rej *rejection) {
	need := s.cfg.MaxBody
	if r.ContentLength >= 0 && r.Header.Get("Content-Encoding") == "" {
		need = max(r.ContentLength, 1)
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.busyWait)
	defer cancel()
	if err := s.mem.Acquire(ctx, need); err != nil {
		return nil, reject(http.StatusServiceUnavailable, ReasonBusy, "too many large batches at once; retry")
	}
	return func() { s.mem.Release(need) }, nil
}

func putBody(b *bytes.Buffer) {
	if b.Cap() <= maxPooled {
		b.Reset()
		bodyPool.Put(b)
	}
}

func putOut(p *[]byte) {
	if cap(*p) <= maxPooled {
		*p = (*p)[:0]
		outPool.Put(p)
	}
}

// store hands a batch to its cluster's writer and waits until it is on
// disk (or failed).
func (s *Server) store(cluster string, data []byte, events int) *rejection {
	s.gate.RLock()
	defer s.gate.RUnlock()
	if s.closed {
		return reject(http.StatusServiceUnavailable, ReasonShuttingDown, "the server is shutting down; retry")
	}
	wr, rej := s.writerFor(cluster)
	if rej != nil {
		return rej
	}
	if err := wr.submit(data, events); err != nil {
		return reject(http.StatusServiceUnavailable, ReasonSpoolError, "cannot store the batch (%s); nothing of it was kept, retry", sanitize(err.Error()))
	}
	s.m.accept(events, len(data))
	return nil
}

// cluster returns the cluster label of a request: from the header named
// by ClusterHeader when present, else from the path.
func (s *Server) cluster(r *http.Request, fromPathLabel string, fromPath bool) (string, *rejection) {
	label := ""
	if fromPath {
		if err := checkCluster(fromPathLabel); err != nil {
			return "", badRequest(ReasonBadCluster, "cluster in the path: %v", err)
		}
		label = fromPathLabel
	}
	if s.header != "" {
		if v := r.Header.Get(s.header); v != "" {
			if err := checkCluster(v); err != nil {
				return "", badRequest(ReasonBadCluster, "cluster in header %s: %v", s.header, err)
			}
			label = v
		}
	}
	return label, nil
}

// checkCluster validates a cluster label: 1–63 of [A-Za-z0-9._-], not
// starting with a dot, and not one of the reserved names "_" (the
// directory of unlabelled events) and "tls" (the certificates).
func checkCluster(c string) error {
	if len(c) == 0 || len(c) > 63 {
		return fmt.Errorf("label %s must be 1 to 63 characters long", clipQ(c))
	}
	for i := 0; i < len(c); i++ {
		b := c[i]
		if !(b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == '.' || b == '_' || b == '-') {
			return fmt.Errorf("label %s may hold only letters, digits, '.', '_' and '-'", clipQ(c))
		}
	}
	switch {
	case c[0] == '.':
		return fmt.Errorf("label %s must not start with a dot", clipQ(c))
	case c == "_" || c == "tls":
		return fmt.Errorf("label %s is reserved", clipQ(c))
	}
	return nil
}

// clipQ quotes untrusted text, shortened, with control characters escaped.
func clipQ(s string) string { return strconv.Quote(clip([]byte(s))) }

// checkContentType accepts a JSON media type or none.
func checkContentType(ct string) *rejection {
	if ct == "" {
		return nil
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err == nil && (mt == "application/json" || mt == "text/json" || strings.HasSuffix(mt, "+json")) {
		return nil
	}
	return reject(http.StatusUnsupportedMediaType, ReasonContentType, "Content-Type %s is not JSON: send application/json", clipQ(ct))
}

// errRecorder remembers the first error of the transport, to tell a
// broken connection or an oversized body from damaged gzip data.
type errRecorder struct {
	r   io.Reader
	n   int64
	err error
}

func (e *errRecorder) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	e.n += int64(n)
	if err != nil && err != io.EOF && e.err == nil {
		e.err = err
	}
	return n, err
}

// readBody reads the body into buf, decoding gzip, with MaxBody applied to
// both the bytes received and the decoded bytes. It returns the number of
// bytes received.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request, buf *bytes.Buffer) (int64, *rejection) {
	limit := s.cfg.MaxBody
	rec := &errRecorder{r: http.MaxBytesReader(w, r.Body, limit)}
	tooLarge := func(what string) *rejection {
		return reject(http.StatusRequestEntityTooLarge, ReasonTooLarge, "%s is larger than the limit of %d bytes", what, limit)
	}
	transport := func(err error) *rejection {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return tooLarge("body")
		}
		return badRequest(ReasonReadError, "reading the body: %s", sanitize(err.Error()))
	}
	switch enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
		if r.ContentLength > 0 {
			buf.Grow(int(r.ContentLength))
		}
		if _, err := buf.ReadFrom(rec); err != nil {
			return rec.n, transport(err)
		}
	case "gzip", "x-gzip":
		zr, err := gzip.NewReader(rec)
		if err == nil {
			_, err = buf.ReadFrom(io.LimitReader(zr, limit+1))
		}
		switch {
		case rec.err != nil:
			return rec.n, transport(rec.err)
		case err != nil:
			return rec.n, reject(http.StatusBadRequest, ReasonEncoding, "gzip body: %s", sanitize(err.Error()))
		case int64(buf.Len()) > limit:
			return rec.n, tooLarge("decoded (gunzipped) body")
		}
	default:
		return -1, reject(http.StatusUnsupportedMediaType, ReasonEncoding, "Content-Encoding %s is not supported: send gzip or none", clipQ(enc))
	}
	return rec.n, nil
}
