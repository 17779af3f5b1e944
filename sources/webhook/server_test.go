package webhook

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/semaphore"

	"ktrail/internal/syncbuf"
)

func TestMetrics(t *testing.T) {
	h := start(t, plainConfig(t))
	h.post("/audit", eventList(batch("m", 3)...))
	h.post("/audit/x", eventList(batch("n", 2)...))
	h.post("/audit", []byte("{nope"))
	h.post("/audit/bad cluster", eventList(batch("n", 2)...))
	code, body := h.get("/metrics")
	if code != 200 {
		t.Fatalf("/metrics: %d", code)
	}
	size := fileSize(current(h.dir, "")) + fileSize(current(h.dir, "x"))
	for _, want := range []string{
		"ktrail_webhook_batches_total 2\n",
		"ktrail_webhook_events_total 5\n",
		fmt.Sprintf("ktrail_webhook_bytes_total %d\n", size),
		`ktrail_webhook_rejected_total{reason="bad_json"} 1` + "\n",
		`ktrail_webhook_rejected_total{reason="bad_cluster"} 1` + "\n",
		`ktrail_webhook_rejected_total{reason="too_large"} 0` + "\n",
		"ktrail_webhook_fsync_seconds_count 2\n",
		fmt.Sprintf("ktrail_webhook_spool_bytes %d\n", size),
		"ktrail_webhook_in_flight 1\n", // this scrape
		"go_goroutines ",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	h.post("/audit", eventList(batch("o", 1)...))
	_, body = h.get("/metrics")
	if !strings.Contains(body, "ktrail_webhook_batches_total 3\n") {
		t.Error("batches_total did not move")
	}
}

func TestMetricsCustomRegistry(t *testing.T) {
	reg := prometheus.NewRegistry()
	cfg := plainConfig(t)
	cfg.Registry = reg
	h := start(t, cfg)
	h.post("/audit", eventList(batch("r", 2)...))
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, mf := range mfs {
		if mf.GetName() == "ktrail_webhook_events_total" {
			found = mf.GetMetric()[0].GetCounter().GetValue() == 2
		}
	}
	if !found {
		t.Error("events_total not 2 in the given registry")
	}
	if code, _ := h.get("/metrics"); code != 200 {
		t.Errorf("/metrics with a Registry that gathers: %d", code)
	}
	cfg.Dir = t.TempDir()
	if _, err := New(cfg); err == nil || !strings.Contains(err.Error(), "already holds") {
		t.Errorf("second server on the same registry: %v", err)
	}
}

func TestSlowClientIsCut(t *testing.T) {
	cfg := plainConfig(t)
	cfg.ReadTimeout = time.Second
	cfg.ReadHeaderTimeout = time.Second
	h := start(t, cfg)
	conn, err := net.Dial("tcp", h.s.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	body := eventList(ev("slow", "Panic"))
	fmt.Fprintf(conn, "POST /audit HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", len(body))
	began := time.Now()
	stopTrickle := make(chan struct{})
	go func() { // one byte a second
		for i := 0; i < len(body); i++ {
			if _, err := conn.Write(body[i : i+1]); err != nil {
				return
			}
			select {
			case <-stopTrickle:
				return
			case <-time.After(time.Second):
			}
		}
	}()
	defer close(stopTrickle)
	// Another client is served meanwhile.
	t0 := time.Now()
	if code, _ := h.post("/audit", eventList(ev("fast", "Panic"))); code != 200 {
		t.Errorf("other client: %d", code)
	}
	if d := time.Since(t0); d > 900*time.Millisecond {
		t.Errorf("other client waited %v", d)
	}
	// The slow one is cut at the read timeout.
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	took := time.Since(began)
	if err == nil {
		resp.Body.Close()
		if resp.StatusCode == 200 {
			t.Fatalf("slow client got 200")
		}
	} else if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatalf("slow client not cut within 5s")
	}
	if took < 900*time.Millisecond || took > 3*time.Second {
		t.Errorf("slow client cut after %v, want about 1s", took)
	}
	got := lines(t, current(h.dir, ""))
	if len(got) != 1 || !strings.Contains(got[0], "fast") {
		t.Errorf("lines %q", got)
	}
}

func TestGracefulShutdownFinishesBatches(t *testing.T) {
	cfg := plainConfig(t)
	cfg.Log = &syncbuf.Buffer{}
	release := make(chan struct{})
	var syncing atomic.Bool
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s.hooks.sync = func(f *os.File) error {
		syncing.Store(true)
		<-release
		return f.Sync()
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, nil) }()
	<-s.Ready()
	url := "http://" + s.Addr().String()
	codes := make(chan int, 1)
	go func() {
		code, _ := doPost(t, http.DefaultClient, url+"/audit", eventList(ev("inflight", "Panic")))
		codes <- code
	}()
	waitFor(t, "the batch to reach fsync", 5*time.Second, syncing.Load)
	cancel()
	select {
	case err := <-done:
		t.Fatalf("Serve returned (%v) with a batch in flight", err)
	case <-time.After(200 * time.Millisecond):
	}
	close(release)
	if code := <-codes; code != 200 {
		t.Errorf("in-flight batch: %d", code)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return")
	}
	if got := lines(t, current(cfg.Dir, "")); len(got) != 1 {
		t.Errorf("lines after shutdown: %q", got)
	}
	if err := s.Serve(context.Background(), nil); err == nil {
		t.Error("second Serve accepted")
	}
}

func TestServeWithListener(t *testing.T) {
	cfg := plainConfig(t)
	cfg.Addr = ""
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	<-s.Ready()
	if s.Addr().String() != ln.Addr().String() {
		t.Errorf("Addr %v, listener %v", s.Addr(), ln.Addr())
	}
	resp, err := http.Get("http://" + s.Addr().String() + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("healthz: %v %v", resp, err)
	}
	resp.Body.Close()
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// Plain HTTP on a non-loopback listener is refused.
	s2, _ := New(Config{Dir: t.TempDir(), PlainHTTP: true, Log: &syncbuf.Buffer{}})
	ln2, err := net.Listen("tcp", "0.0.0.0:0")
	if err != nil {
		t.Skip(err)
	}
	if err := s2.Serve(context.Background(), ln2); err == nil || !strings.Contains(err.Error(), "loopback") {
		t.Errorf("plain HTTP on 0.0.0.0 listener: %v", err)
	}
}

func TestMemoryBudget(t *testing.T) {
	h := start(t, plainConfig(t), func(s *Server) {
		s.mem = semaphore.NewWeighted(4096)
		s.busyWait = 100 * time.Millisecond
	})
	if code, _ := h.post("/audit", eventList(ev("small", "Panic"))); code != 200 {
		t.Fatalf("small batch: %d", code)
	}
	// Hold the whole budget, as concurrent large bodies would.
	if err := h.s.mem.Acquire(context.Background(), 4096); err != nil {
		t.Fatal(err)
	}
	resp, body := postResp(t, h, "/audit", eventList(ev("waits", "Panic")))
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" || h.s.Stats().Rejected[ReasonBusy] != 1 {
		t.Errorf("budget full: %d %s", resp.StatusCode, body)
	}
	h.s.mem.Release(4096)
	if code, _ := h.post("/audit", eventList(ev("later", "Panic"))); code != 200 {
		t.Errorf("after release: %d", code)
	}
}
