package clienttest

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"ktrail/sources/webhook"
)

// rawResult is what a hand-written request got back.
type rawResult struct {
	status  int    // 0: no response
	body    string // the start of the response body
	err     error  // why there was no response (EOF, reset, timeout)
	written int64  // body bytes the client managed to write
	elapsed time.Duration
}

func (r rawResult) String() string {
	if r.status == 0 {
		return fmt.Sprintf("no response (%v) after %v, %d body bytes written", r.err, r.elapsed.Round(time.Millisecond), r.written)
	}
	return fmt.Sprintf("HTTP %d %q after %v, %d body bytes written", r.status, strings.TrimSpace(r.body), r.elapsed.Round(time.Millisecond), r.written)
}

// rawTLS opens a TLS connection to addr trusting caPEM (no ALPN: HTTP/1.1).
func rawTLS(t testing.TB, addr string, caPEM []byte) *tls.Conn {
	t.Helper()
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	c, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"})
	if err != nil {
		t.Fatalf("TLS dial: %v", err)
	}
	return c
}

// rawRequest writes head on conn and then the body with write, while a
// reader waits for the response. write should return when stop is closed
// (the response has arrived). It gives up waiting after wait.
func rawRequest(conn net.Conn, head string, write func(w io.Writer, stop <-chan struct{}) (int64, error), wait time.Duration) rawResult {
	defer conn.Close()
	start := time.Now()
	type resp struct {
		status int
		body   string
		err    error
	}
	stop := make(chan struct{})
	respc := make(chan resp, 1)
	conn.SetReadDeadline(start.Add(wait))
	go func() {
		r, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			respc <- resp{err: err}
			close(stop)
			return
		}
		b, _ := io.ReadAll(io.LimitReader(r.Body, 4096))
		r.Body.Close()
		respc <- resp{status: r.StatusCode, body: string(b)}
		close(stop)
	}()
	var written int64
	if _, err := io.WriteString(conn, head); err == nil && write != nil {
		written, _ = write(conn, stop)
	}
	r := <-respc
	return rawResult{status: r.status, body: r.body, err: r.err, written: written, elapsed: time.Since(start)}
}

// filler writes n bytes of event-looking JSON in 64 KiB writes, chunked
// when asked, until done or stopped.
func filler(n int64, chunked bool) func(io.Writer, <-chan struct{}) (int64, error) {
	return func(w io.Writer, stop <-chan struct{}) (int64, error) {
		unit := []byte(`{"auditID":"0b4f9c2e-7c1e-4d2a-9f3b-000000000000","stage":"ResponseComplete","verb":"get"},`)
		var buf []byte
		for len(buf) < 64<<10-len(unit) {
			buf = append(buf, unit...)
		}
		var done int64
		for done < n {
			select {
			case <-stop:
				return done, nil
			default:
			}
			b := buf[:min(int64(len(buf)), n-done)]
			var err error
			if chunked {
				_, err = fmt.Fprintf(w, "%x\r\n%s\r\n", len(b), b)
			} else {
				_, err = w.Write(b)
			}
			if err != nil {
				return done, err
			}
			done += int64(len(b))
		}
		if chunked {
			io.WriteString(w, "0\r\n\r\n")
		}
		return done, nil
	}
}

// slowly writes body one byte a second until done or stopped.
func slowly(body string) func(io.Writer, <-chan struct{}) (int64, error) {
	return func(w io.Writer, stop <-chan struct{}) (int64, error) {
		var n int64
		for i := range len(body) {
			if _, err := io.WriteString(w, body[i:i+1]); err != nil {
				return n, err
			}
			n++
			select {
			case <-stop:
				return n, nil
			case <-time.After(time.Second):
			}
		}
		return n, nil
	}
}

func bytesOf(b []byte) func(io.Writer, <-chan struct{}) (int64, error) {
	return func(w io.Writer, _ <-chan struct{}) (int64, error) {
		n, err := w.Write(b)
		return int64(n), err
	}
}

// goodClient posts a 400-event batch every 50 ms and checks each is
// answered 200 within 3 s.
type goodClient struct {
	t       *testing.T
	url     string
	token   string
	client  *http.Client
	run     int
	next    int // next event index
	paused  sync.Mutex
	stop    chan struct{}
	done    chan struct{}
	ok      atomic.Int64
	maxLat  atomic.Int64
	bad     atomic.Int64
	lastErr atomic.Value
}

func (g *goodClient) start() {
	g.stop, g.done = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(g.done)
		base := time.Now().UTC()
		for {
			select {
			case <-g.stop:
				return
			case <-time.After(50 * time.Millisecond):
			}
			g.paused.Lock()
			body := eventListBody(g.t, makeEvents(g.run, g.next, g.next+400, base))
			g.next += 400
			req, _ := http.NewRequest("POST", g.url, bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+g.token)
			t0 := time.Now()
			resp, err := g.client.Do(req)
			lat := time.Since(t0)
			if err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					err = fmt.Errorf("HTTP %d", resp.StatusCode)
				}
			}
			g.paused.Unlock()
			if err != nil || lat > 3*time.Second {
				g.bad.Add(1)
				g.lastErr.Store(fmt.Sprintf("%v after %v", err, lat))
				continue
			}
			g.ok.Add(1)
			if int64(lat) > g.maxLat.Load() {
				g.maxLat.Store(int64(lat))
			}
		}
	}()
}

// TestBadBodies sends hostile and broken requests to a running receiver
// (ReadHeaderTimeout 1 s, ReadTimeout 2 s for the test; MaxBody the
// default 16 MiB) while a good client posts a batch every 50 ms: each
// must get the right answer (400, 401, 413, or the connection cut by a
// timeout), nothing of them may be written, and every good batch must be
// answered 200 within 3 s.
func TestBadBodies(t *testing.T) {
	dir := t.TempDir()
	token := "bad-bodies-token"
	ts := startServer(t, webhook.Config{SelfSigned: true, TokenFile: writeTokenFile(t, dir, token),
		ReadHeaderTimeout: time.Second, ReadTimeout: 2 * time.Second})
	g := &goodClient{t: t, url: "https://" + ts.addr + "/audit/test", token: token, client: tlsClient(ts.caPEM, nil), run: 6}
	g.start()

	post := func(extra string, length int64, chunked bool) string {
		h := "POST /audit/test HTTP/1.1\r\nHost: " + ts.addr + "\r\nAuthorization: Bearer " + token + "\r\n" + extra
		if !strings.Contains(extra, "Content-Type:") {
			h += "Content-Type: application/json\r\n"
		}
		if chunked {
			h += "Transfer-Encoding: chunked\r\n"
		} else {
			h += fmt.Sprintf("Content-Length: %d\r\n", length)
		}
		return h + "\r\n"
	}
	small := func(body []byte, extra string) rawResult {
		return rawRequest(rawTLS(t, ts.addr, ts.caPEM), post(extra, int64(len(body)), false), bytesOf(body), 10*time.Second)
	}
	goodBatch := eventListBody(t, makeEvents(7, 0, 50, time.Now()))
	half := goodBatch[:len(goodBatch)/2]
	missingID := bytes.Replace(goodBatch, []byte(`"auditID":"`), []byte(`"auditId":"`), 1) // one item without auditID

	type check func(r rawResult) bool
	status := func(code int) check { return func(r rawResult) bool { return r.status == code } }
	cases := []struct {
		name   string
		do     func() rawResult
		want   check
		wantIs string
	}{
		{"garbage", func() rawResult { return small([]byte("\x00\xffthis is not JSON at all\x1b[2J"), "") }, status(400), "400"},
		{"truncated JSON", func() rawResult { return small(half, "") }, status(400), "400"},
		{"wrong kind", func() rawResult {
			return small([]byte(`{"kind":"Pod","apiVersion":"v1","metadata":{"name":"web-0","namespace":"default"},"spec":{}}`), "")
		}, status(400), "400"},
		{"an item without auditID", func() rawResult { return small(missingID, "") }, status(400), "400"},
		{"a bare JSON string", func() rawResult { return small([]byte(`"EventList"`), "") }, status(400), "400"},
		{"wrong token", func() rawResult {
			h := "POST /audit/test HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nAuthorization: Bearer nope\r\n" +
				fmt.Sprintf("Content-Length: %d\r\n\r\n", len(goodBatch))
			return rawRequest(rawTLS(t, ts.addr, ts.caPEM), h, bytesOf(goodBatch), 10*time.Second)
		}, status(401), "401"},
		{"not JSON content type", func() rawResult { return small(goodBatch, "Content-Type: text/plain\r\n") }, status(415), "415"},
		{"100 MB body with Content-Length", func() rawResult {
			return rawRequest(rawTLS(t, ts.addr, ts.caPEM), post("", 100<<20, false), filler(100<<20, false), 30*time.Second)
		}, func(r rawResult) bool { return r.status == 413 && r.written < 32<<20 && r.elapsed < 5*time.Second }, "413, promptly, most of the body not sent"},
		{"100 MB chunked body", func() rawResult {
			return rawRequest(rawTLS(t, ts.addr, ts.caPEM), post("", 0, true), filler(100<<20, true), 30*time.Second)
		}, func(r rawResult) bool { return r.status == 413 && r.written < 48<<20 && r.elapsed < 10*time.Second }, "413 after about MaxBody, most of the body not sent"},
		{"gzip bomb (100 MB of zeros in 100 KB)", func() rawResult {
			var zb bytes.Buffer
			zw, _ := gzip.NewWriterLevel(&zb, gzip.BestCompression)
			zw.Write([]byte(`{"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":[`))
			zero := make([]byte, 1<<20)
			for range 100 {
				zw.Write(zero)
			}
			zw.Close()
			return small(zb.Bytes(), "Content-Encoding: gzip\r\n")
		}, status(413), "413"},
		{"a body one byte a second", func() rawResult {
			return rawRequest(rawTLS(t, ts.addr, ts.caPEM), post("", int64(len(goodBatch)), false), slowly(string(goodBatch)), 15*time.Second)
		}, func(r rawResult) bool {
			return (r.status == 400 || r.status == 408 || r.status == 0) && r.elapsed > 1500*time.Millisecond && r.elapsed < 6*time.Second
		}, "cut by the 2 s read timeout (400, 408 or closed)"},
		{"headers one byte a second", func() rawResult {
			h := post("", int64(len(goodBatch)), false)
			return rawRequest(rawTLS(t, ts.addr, ts.caPEM), "", slowly(h), 15*time.Second)
		}, func(r rawResult) bool {
			return (r.status == 400 || r.status == 408 || r.status == 0) && r.elapsed > 500*time.Millisecond && r.elapsed < 5*time.Second
		}, "cut by the 1 s header timeout (net/http answers 400 to a request cut in its headers)"},
		{"TLS handshake, then silence", func() rawResult {
			return rawRequest(rawTLS(t, ts.addr, ts.caPEM), "", nil, 15*time.Second)
		}, func(r rawResult) bool { return r.status == 0 && r.elapsed < 5*time.Second }, "closed by the header timeout"},
		{"TCP connection, no TLS handshake", func() rawResult {
			c, err := net.Dial("tcp", ts.addr)
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			c.SetReadDeadline(start.Add(15 * time.Second))
			_, err = c.Read(make([]byte, 1))
			c.Close()
			return rawResult{err: err, elapsed: time.Since(start)}
		}, func(r rawResult) bool { return r.status == 0 && r.elapsed < 5*time.Second && !isTimeout(r.err) }, "closed by the handshake timeout"},
	}
	for _, c := range cases {
		big := strings.Contains(c.name, "100 MB")
		if big {
			// Measure what the server allocates: pause the good client.
			g.paused.Lock()
			runtime.GC()
		}
		var ms0, ms1 runtime.MemStats
		runtime.ReadMemStats(&ms0)
		okBefore := g.ok.Load()
		r := c.do()
		runtime.ReadMemStats(&ms1)
		alloc := ms1.TotalAlloc - ms0.TotalAlloc
		if big {
			g.paused.Unlock()
		}
		if !c.want(r) {
			t.Errorf("%s: %s; want %s", c.name, r, c.wantIs)
		} else {
			t.Logf("%s: %s (%.1f MB allocated meanwhile, %d good batches answered meanwhile)", c.name, r, float64(alloc)/1e6, g.ok.Load()-okBefore)
		}
		// Refusing costs up to MaxBody (16 MiB) in a doubling buffer, about
		// 70 MB of allocation; reading the whole 100 MB would take more
		// than 100 MB.
		// (Not under -race, where sync.Pool drops buffers at random and
		// allocations double.)
		if big && !raceEnabled && alloc > 96<<20 {
			t.Errorf("%s: the process allocated %.0f MB while refusing it: the body was read into memory", c.name, float64(alloc)/1e6)
		}
	}
	// An empty list and an oversized-but-legal batch are fine.
	if r := small([]byte(`{"kind":"EventList","apiVersion":"audit.k8s.io/v1","metadata":{},"items":[]}`), ""); r.status != 200 {
		t.Errorf("empty EventList: %s; want 200", r)
	}
	bigOK := eventListBody(t, makeEvents(8, 0, 14_000, time.Now()))
	if r := small(bigOK, ""); r.status != 200 {
		t.Errorf("a %.1f MB batch (under MaxBody): %s; want 200", float64(len(bigOK))/1e6, r)
	} else {
		t.Logf("a %.1f MB batch of 14,000 events: %s", float64(len(bigOK))/1e6, r)
	}

	close(g.stop)
	<-g.done
	if g.bad.Load() > 0 {
		t.Errorf("%d good batches were not answered 200 within 3 s (last: %v)", g.bad.Load(), g.lastErr.Load())
	}
	if g.ok.Load() < 20 {
		t.Errorf("only %d good batches were answered", g.ok.Load())
	}
	t.Logf("good client: %d batches answered 200, slowest in %v; rejected: %v", g.ok.Load(), time.Duration(g.maxLat.Load()).Round(time.Millisecond), ts.srv.Stats().Rejected)

	ls := loadSpool(t, ts.dir)
	want := expectedKeys(6, g.next-400*int(g.bad.Load()))
	for k := range expectedKeys(8, 14_000) {
		want[k] = true
	}
	if g.bad.Load() == 0 {
		checkStore(t, ls.store, want)
	}
	if len(ls.errs) > 0 {
		t.Errorf("%d lines skipped reading the spool (something of a bad request was written?), e.g. %s", len(ls.errs), ls.errs[0])
	}
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}
