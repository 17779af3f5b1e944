package clienttest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"ktrail/internal/syncbuf"
)

// The ktrail binary, built once per test binary run (into binDir, removed
// by TestMain).
var (
	binMu   sync.Mutex
	binDir  string
	binPath string
	binErr  error
)

func ktrailBinary(t testing.TB) string {
	t.Helper()
	binMu.Lock()
	defer binMu.Unlock()
	if binPath == "" && binErr == nil {
		binErr = func() error {
			root, err := repoRoot()
			if err != nil {
				return err
			}
			d, err := os.MkdirTemp("", "ktrail-clienttest-")
			if err != nil {
				return err
			}
			binDir = d
			p := filepath.Join(d, "ktrail")
			cmd := exec.Command("go", "build", "-o", p, "./cmd/ktrail")
			cmd.Dir = root
			if out, err := cmd.CombinedOutput(); err != nil {
				return fmt.Errorf("go build ./cmd/ktrail: %v\n%s", err, out)
			}
			binPath = p
			return nil
		}()
	}
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// repoRoot is the directory of ktrail's go.mod above the working
// directory.
func repoRoot() (string, error) {
	d, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if b, err := os.ReadFile(filepath.Join(d, "go.mod")); err == nil && bytes.HasPrefix(b, []byte("module ktrail\n")) {
			return d, nil
		}
		up := filepath.Dir(d)
		if up == d {
			return "", errors.New("no go.mod of module ktrail above the working directory")
		}
		d = up
	}
}

// collector is a running `ktrail serve` child process.
type collector struct {
	cmd    *exec.Cmd
	addr   string
	stderr *syncbuf.Buffer
	exited chan struct{}
}

var listeningRE = regexp.MustCompile(`ktrail serve: listening on https?://(\S+), spool`)

// startCollector runs `ktrail serve --dir dir --listen listen
// --tls-self-signed --token-file tokenFile` and waits for its
// "listening on" line.
func startCollector(t testing.TB, bin, dir, listen, tokenFile string) *collector {
	t.Helper()
	cmd := exec.Command(bin, "serve", "--dir", dir, "--listen", listen, "--tls-self-signed", "--token-file", tokenFile)
	pr, pw := io.Pipe()
	c := &collector{cmd: cmd, stderr: &syncbuf.Buffer{}, exited: make(chan struct{})}
	cmd.Stderr = pw
	cmd.Stdout = c.stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting ktrail serve: %v", err)
	}
	addrc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			line := sc.Text()
			c.stderr.Write([]byte(line + "\n"))
			if m := listeningRE.FindStringSubmatch(line); m != nil {
				select {
				case addrc <- m[1]:
				default:
				}
			}
		}
		io.Copy(io.Discard, pr)
	}()
	go func() {
		cmd.Wait()
		pw.Close()
		close(c.exited)
	}()
	t.Cleanup(func() {
		c.cmd.Process.Kill()
		<-c.exited
	})
	select {
	case c.addr = <-addrc:
	case <-c.exited:
		t.Fatalf("ktrail serve exited before listening: %s\n%s", cmd.ProcessState, c.stderr.String())
	case <-time.After(20 * time.Second):
		t.Fatalf("ktrail serve did not say it was listening within 20 s:\n%s", c.stderr.String())
	}
	return c
}

// kill9 sends SIGKILL and waits for the process to be gone.
func (c *collector) kill9(t testing.TB) {
	t.Helper()
	if err := c.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatalf("kill -9: %v", err)
	}
	<-c.exited
}

// terminate sends SIGTERM and waits for a clean exit.
func (c *collector) terminate(t testing.TB) {
	t.Helper()
	c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.exited:
	case <-time.After(30 * time.Second):
		t.Errorf("ktrail serve did not exit 30 s after SIGTERM")
	}
	if !c.cmd.ProcessState.Success() {
		t.Errorf("ktrail serve exited with %s after SIGTERM:\n%s", c.cmd.ProcessState, c.stderr.String())
	}
}

// killLatch records which acknowledgements came before the kill: the
// killer holds mu while it kills, and an acknowledgement taken under mu
// before that is known to have been given by the first process.
type killLatch struct {
	mu     sync.Mutex
	killed bool
}

// TestKill9PlainClient posts EventList batches with a plain HTTPS client
// (8 at a time, each retried every 100 ms until answered 200) to the real
// `ktrail serve` binary, kills it with SIGKILL in the middle and starts it
// again on the same address and directory. Every batch answered 200
// before the kill must be in the spool files as left by the killed
// process; after the restart the retries bring the rest, and the Store
// holds every event once (the files may hold some twice: a batch written
// and fsynced whose 200 was lost with the process).
func TestKill9PlainClient(t *testing.T) {
	bin := ktrailBinary(t)
	dir := t.TempDir()
	spool := filepath.Join(dir, "spool")
	token := "kill-test-token"
	tokens := writeTokenFile(t, dir, token)
	c1 := startCollector(t, bin, spool, "127.0.0.1:0", tokens)
	caPEM, err := os.ReadFile(filepath.Join(spool, "tls", "ca.crt"))
	if err != nil {
		t.Fatal(err)
	}
	const run, perBatch = 4, 250
	nb := 200
	if reduced() {
		nb = 80
	}
	n := nb * perBatch
	base := time.Date(2026, 11, 25, 11, 0, 0, 0, time.UTC)
	bodies := make([][]byte, nb)
	for i := range nb {
		bodies[i] = eventListBody(t, makeEvents(run, i*perBatch, (i+1)*perBatch, base))
	}
	url := "https://" + c1.addr + "/audit/test"
	client := tlsClient(caPEM, nil)

	var latch killLatch
	var acked atomic.Int64
	preKill := make([]bool, nb)
	var failures atomic.Int64
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				deadline := time.Now().Add(30 * time.Second)
				for {
					req, _ := http.NewRequest("POST", url, bytes.NewReader(bodies[i]))
					req.Header.Set("Content-Type", "application/json")
					req.Header.Set("Authorization", "Bearer "+token)
					resp, err := client.Do(req)
					if err == nil {
						io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
						if resp.StatusCode == 200 {
							latch.mu.Lock()
							if !latch.killed {
								preKill[i] = true
							}
							latch.mu.Unlock()
							acked.Add(1)
							break
						}
						err = fmt.Errorf("HTTP %d", resp.StatusCode)
					}
					failures.Add(1)
					if time.Now().After(deadline) {
						t.Errorf("batch %d: still failing after 30 s: %v", i, err)
						break
					}
					time.Sleep(100 * time.Millisecond)
				}
			}
		}()
	}
	go func() {
		for i := range nb {
			jobs <- i
		}
		close(jobs)
	}()

	// Kill once a third of the batches were acknowledged.
	for acked.Load() < int64(nb/3) {
		time.Sleep(200 * time.Microsecond)
	}
	latch.mu.Lock()
	c1.kill9(t)
	latch.killed = true
	latch.mu.Unlock()
	killedAt := time.Now()
	ackedAtKill := acked.Load()
	ackedBefore := 0
	for _, ok := range preKill {
		if ok {
			ackedBefore++
		}
	}

	// The files as the killed process left them.
	lines, partial := spoolLines(t, filepath.Join(spool, "test"))
	onDisk := make(map[eventKey]bool, len(lines))
	for _, k := range lines {
		onDisk[k] = true
	}
	lost := 0
	for i, ok := range preKill {
		if !ok {
			continue
		}
		for j := i * perBatch; j < (i+1)*perBatch; j++ {
			if !onDisk[eventKeyOf(run, j)] {
				lost++
			}
		}
	}
	if lost > 0 {
		t.Errorf("%d events of batches answered 200 before kill -9 are not in the spool", lost)
	}

	time.Sleep(300 * time.Millisecond)
	c2 := startCollector(t, bin, spool, c1.addr, tokens)
	outage := time.Since(killedAt)
	if c2.addr != c1.addr {
		t.Fatalf("restarted on %s, not %s", c2.addr, c1.addr)
	}
	wg.Wait()
	c2.terminate(t)

	final, partial2 := spoolLines(t, filepath.Join(spool, "test"))
	if partial2 != 0 {
		t.Errorf("after the restart, %d incomplete lines are left in the spool (the restart should cut the crash's incomplete line)", partial2)
	}
	ls := loadSpool(t, spool)
	if len(ls.errs) > 0 {
		t.Errorf("%d lines skipped reading the spool, e.g. %s", len(ls.errs), ls.errs[0])
	}
	checkStore(t, ls.store, expectedKeys(run, n))
	if got := count(t, ls.store, `cluster == "test"`); got != n {
		t.Errorf(`cluster == "test": %d events, want %d`, got, n)
	}
	t.Logf("%d batches of %d events; killed after %d batches were acknowledged (%d of them known to be before the kill, %d event lines and %d incomplete line(s) on disk then); back after %v; %d failed tries retried; %d event lines in the end (%d duplicates), %d events in the Store",
		nb, perBatch, ackedAtKill, ackedBefore, len(lines), partial, outage.Round(time.Millisecond), failures.Load(), len(final), len(final)-n, ls.store.Len())
}

// recorder wraps the audit client's transport: it notes the events of
// every POST answered 200 (and whether that came before the kill) and
// counts failed tries.
type recorder struct {
	next     http.RoundTripper
	latch    *killLatch
	mu       sync.Mutex
	preKill  map[eventKey]bool
	acked    atomic.Int64 // events acknowledged
	failures atomic.Int64
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		b, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		body = b
		req.Body = io.NopCloser(bytes.NewReader(b))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
	}
	resp, err := r.next.RoundTrip(req)
	if err != nil || resp.StatusCode != 200 {
		r.failures.Add(1)
		return resp, err
	}
	var list struct {
		Items []struct{ AuditID, Stage string }
	}
	if err := json.Unmarshal(body, &list); err != nil {
		return resp, err
	}
	r.latch.mu.Lock()
	pre := !r.latch.killed
	r.latch.mu.Unlock()
	if pre {
		r.mu.Lock()
		for _, it := range list.Items {
			r.preKill[eventKey(it)] = true
		}
		r.mu.Unlock()
	}
	r.acked.Add(int64(len(list.Items)))
	return resp, nil
}

// TestKill9RealClient streams events at 10,000/s through the API
// server's webhook backend to the real `ktrail serve` binary, kills it
// with SIGKILL after a quarter of them were acknowledged and restarts it
// on the same address about a second later (the client's first retry
// comes after its initial backoff of 1 s; its five tries span about 8 s,
// so the outage is kept well under 3 s). Every event acknowledged before
// the kill is in the files the killed process left; after the client's
// retries the spool holds every event, duplicates allowed in the files but
// not in the Store, and the client reports nothing lost.
func TestKill9RealClient(t *testing.T) {
	bin := ktrailBinary(t)
	dir := t.TempDir()
	spool := filepath.Join(dir, "spool")
	token := "kill-test-token"
	tokens := writeTokenFile(t, dir, token)
	c1 := startCollector(t, bin, spool, "127.0.0.1:0", tokens)
	caPEM, err := os.ReadFile(filepath.Join(spool, "tls", "ca.crt"))
	if err != nil {
		t.Fatal(err)
	}
	kc := writeKubeconfig(t, dir, "https://"+c1.addr+"/audit/test", caPEM, token, "", "")
	const run, rate = 5, 10_000
	n := 30_000
	if reduced() {
		n = 15_000
	}
	var latch killLatch
	rec := &recorder{latch: &latch, preKill: map[eventKey]bool{}}
	before := dropped.Load()
	ac := newAuditClient(t, clientConfig{
		kubeconfig: kc, maxBatch: 400, maxWait: time.Second,
		buffer:  n + 1000, // every event fits: none is dropped for a full buffer
		backoff: time.Second,
		wrapRT: func(rt http.RoundTripper) http.RoundTripper {
			rec.next = rt
			return rec
		},
	})
	base := time.Now().UTC()
	evs := makeEvents(run, 0, n, base)
	fed := make(chan struct{})
	go func() {
		defer close(fed)
		start := time.Now()
		sent := 0
		for sent < n {
			due := min(n, int(time.Since(start).Seconds()*rate)+100)
			if due > sent {
				ac.feed(evs[sent:due])
				sent = due
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()

	for rec.acked.Load() < int64(n/4) {
		time.Sleep(time.Millisecond)
	}
	latch.mu.Lock()
	c1.kill9(t)
	latch.killed = true
	latch.mu.Unlock()
	killedAt := time.Now()
	rec.mu.Lock()
	pre := len(rec.preKill)
	rec.mu.Unlock()

	lines, partial := spoolLines(t, filepath.Join(spool, "test"))
	onDisk := make(map[eventKey]bool, len(lines))
	for _, k := range lines {
		onDisk[k] = true
	}
	lost := 0
	rec.mu.Lock()
	for k := range rec.preKill {
		if !onDisk[k] {
			lost++
		}
	}
	rec.mu.Unlock()
	if lost > 0 {
		t.Errorf("%d events acknowledged before kill -9 are not in the spool", lost)
	}

	time.Sleep(time.Second)
	c2 := startCollector(t, bin, spool, c1.addr, tokens)
	outage := time.Since(killedAt)
	if outage > 3*time.Second {
		t.Logf("warning: the outage lasted %v (restart slow); the client's retries may run out", outage)
	}
	<-fed
	ac.shutdown() // returns when every batch was acknowledged or given up
	if d := dropped.Load() - before; d != 0 {
		t.Errorf("%s", dropReport(before))
	}
	c2.terminate(t)

	final, _ := spoolLines(t, filepath.Join(spool, "test"))
	ls := loadSpool(t, spool)
	if len(ls.errs) > 0 {
		t.Errorf("%d lines skipped reading the spool, e.g. %s", len(ls.errs), ls.errs[0])
	}
	checkStore(t, ls.store, expectedKeys(run, n))
	if got := count(t, ls.store, `cluster == "test"`); got != n {
		t.Errorf(`cluster == "test": %d events, want %d`, got, n)
	}
	t.Logf("%d events at %d/s; killed after %d acknowledged (%d event lines, %d incomplete on disk then); back after %v; %d failed POSTs retried by the client; %d event lines in the end (%d duplicates), %d events in the Store",
		n, rate, pre, len(lines), partial, outage.Round(time.Millisecond), rec.failures.Load(), len(final), len(final)-n, ls.store.Len())
	if !strings.Contains(c2.stderr.String(), "listening on") {
		t.Errorf("restarted collector log: %s", c2.stderr.String())
	}
}
