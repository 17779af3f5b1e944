package clienttest

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	auditinternal "k8s.io/apiserver/pkg/apis/audit"

	"ktrail/audit"
	"ktrail/sources"
	"ktrail/sources/webhook"
	"ktrail/themes"
	"ktrail/tui"
)

// The load benchmark: the API server's webhook client (buffered backend,
// throttle off, asynchronous batches as kube-apiserver runs it) is offered
// events at rising rates for a few seconds each, with batches of at most
// 400 (the default) and then 1000 events. The receiver runs in process with
// TLS and a bearer token, as in production; the spool it writes is followed
// by sources (PollInterval 50 ms) into an audit.Store, and the TUI model
// runs in a tea.Program (no input, output discarded, a 160×48 window) over
// that Store, ticking and rendering as in `ktrail --listen`. Everything
// shares the machine's cores, as it does when the TUI is open.
//
// Run it with
//
//	go test -run '^$' -bench RealClientLoad -benchtime 1x -timeout 30m ./sources/webhook/clienttest/
//	KTRAIL_LOAD=1 go test -run TestRealClientLoad -v -timeout 30m ./sources/webhook/clienttest/
//
// KTRAIL_LOAD_SECONDS (default 5) is how long each rate is offered,
// KTRAIL_LOAD_RATES (default 10000,25000,50000,75000,100000) the rates and
// KTRAIL_LOAD_BATCHES (default 400,1000) the batch sizes.
//
// Reported per step:
//   - offered/s: events handed to the client per second (the feeder may fall
//     behind the target when the cores are saturated);
//   - stored/s: events in the Store divided by the time from the first event
//     offered to the moment the Store held them all (the sustained rate);
//   - lag: how long after the last event was offered the Store held them all
//     (small when the pipeline keeps up, growing when events queue in the
//     client's buffer);
//   - p50/p99/max: time from the POST to its 200, measured in the client by
//     wrapping its http.RoundTripper (rest.Config.Wrap on the config loaded from
//     the kubeconfig file, then the same webhook backend code; see
//     newAuditClient), so it includes TLS, HTTP/2 flow control, the server's
//     parsing and the fsync of its group commit;
//   - heap and RSS: the peaks of HeapInuse and VmRSS of the whole process
//     (client, receiver, sources, Store and TUI) sampled every 100 ms;
//   - CPU: user+system CPU seconds of the process per wall second;
//   - frames: how many times the TUI rendered its view during the step;
//   - lost: events offered minus events that reached the Store (must be 0),
//     and events the client itself reported dropped.

func TestRealClientLoad(t *testing.T) {
	if os.Getenv("KTRAIL_LOAD") != "1" {
		t.Skip("set KTRAIL_LOAD=1 to run the webhook load test (about 2 minutes)")
	}
	res := loadRun(t)
	t.Log("\n" + loadTable(res))
}

// BenchmarkRealClientLoad runs the whole schedule once, whatever b.N is
// (use -benchtime 1x), and reports the best sustained rate reached with no
// loss and the p99 at the highest rate whose offered load was kept up with.
func BenchmarkRealClientLoad(b *testing.B) {
	if raceEnabled {
		b.Skip("not meaningful with -race")
	}
	var res []loadResult
	for b.Loop() {
		res = loadRun(b)
	}
	fmt.Print(loadTable(res)) // b.Log would be cut to a few lines
	best := 0.0
	for _, r := range res {
		if r.lost == 0 && r.stored > best {
			best = r.stored
		}
	}
	b.ReportMetric(best, "events/s")
}

type loadResult struct {
	batch, rate    int
	offered        int
	offeredRate    float64
	stored         float64 // sustained: events in the Store / time
	lag            time.Duration
	posts          int
	maxInFlight    int64
	failedPosts    int64
	p50, p99, pmax time.Duration
	heap, rss      int64
	cpu            float64       // cores used by this process
	cpuPerEvent    time.Duration // CPU time of this process per event stored
	others         float64       // cores used by other processes meanwhile
	frames         int64
	lost           int
	clientDropped  int64
	serverEvents   int64
}

// logf logs in a test, and prints in a benchmark (whose log is cut to a
// few lines unless -v).
func logf(tb testing.TB, format string, args ...any) {
	tb.Helper()
	if _, ok := tb.(*testing.B); ok {
		fmt.Printf(format+"\n", args...)
		return
	}
	tb.Logf(format, args...)
}

func envInts(name string, def []int) []int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	var out []int
	for _, f := range strings.Split(v, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err == nil && n > 0 {
			out = append(out, n)
		}
	}
	return out
}

func loadRun(tb testing.TB) []loadResult {
	secs := 5
	if v := envInts("KTRAIL_LOAD_SECONDS", nil); len(v) > 0 {
		secs = v[0]
	}
	rates := envInts("KTRAIL_LOAD_RATES", []int{10_000, 25_000, 50_000, 75_000, 100_000})
	batches := envInts("KTRAIL_LOAD_BATCHES", []int{400, 1000})
	var all []loadResult
	for si, batch := range batches {
		all = append(all, loadSeries(tb, 100+si, batch, rates, time.Duration(secs)*time.Second)...)
		runtime.GC()
	}
	return all
}

// frameCounter counts the TUI's renders.
type frameCounter struct {
	tea.Model
	frames *atomic.Int64
}

func (f frameCounter) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	m, cmd := f.Model.Update(msg)
	return frameCounter{m, f.frames}, cmd
}

func (f frameCounter) View() tea.View {
	f.frames.Add(1)
	return f.Model.View()
}

// latencies collects POST→200 times.
type latencies struct {
	next     http.RoundTripper
	mu       sync.Mutex
	d        []time.Duration
	fail     atomic.Int64
	inflight atomic.Int64
	maxIn    atomic.Int64
	errs     map[string]int // the first kinds of failure (guarded by mu)
}

func (l *latencies) RoundTrip(req *http.Request) (*http.Response, error) {
	t0 := time.Now()
	if n := l.inflight.Add(1); n > l.maxIn.Load() {
		l.maxIn.Store(n) // racy maximum: good enough for a report
	}
	resp, err := l.next.RoundTrip(req)
	l.inflight.Add(-1)
	if err != nil || resp.StatusCode != 200 {
		l.fail.Add(1)
		what := ""
		if err != nil {
			what = err.Error()
		} else {
			what = resp.Status
		}
		l.mu.Lock()
		if l.errs == nil {
			l.errs = map[string]int{}
		}
		if len(l.errs) < 10 {
			l.errs[what]++
		}
		l.mu.Unlock()
		return resp, err
	}
	d := time.Since(t0)
	l.mu.Lock()
	l.d = append(l.d, d)
	l.mu.Unlock()
	return resp, nil
}

func (l *latencies) take() []time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	d := l.d
	l.d = nil
	slices.Sort(d)
	return d
}

func pct(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	return d[min(len(d)-1, int(float64(len(d))*p))]
}

// templates are varied events; the feeder copies one per event and gives
// the copy a fresh auditID and the current time (the buffered backend
// deep-copies what it is given, so the copies are reused).
func loadTemplates() []auditinternal.Event {
	base := time.Now()
	out := make([]auditinternal.Event, 4096)
	for i := range out {
		fillEvent(&out[i], 0, i, base)
	}
	return out
}

// machineBusy returns the CPU seconds all processes of the machine used
// (from /proc/stat, in USER_HZ = 100 ticks per second).
func machineBusy() float64 {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	var busy float64
	for i, v := range f[1:] {
		n, _ := strconv.ParseFloat(v, 64)
		if i == 3 || i == 4 || i >= 8 { // idle, iowait; guest time is already in user
			continue
		}
		busy += n
	}
	return busy / 100
}

func cpuSeconds() float64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

// loadSeries runs one batch size over the rates, with one receiver, one
// followed Store and one TUI.
func loadSeries(tb testing.TB, run, batch int, rates []int, dur time.Duration) []loadResult {
	tb.Helper()
	dir := tb.TempDir()
	token := "load-test-token"
	ts := startServer(tb, webhook.Config{SelfSigned: true, TokenFile: writeTokenFile(tb, dir, token)})
	kc := writeKubeconfig(tb, dir, "https://"+ts.addr+"/audit/test", ts.caPEM, token, "", "")

	store := audit.NewStore()
	set, err := sources.Open(store, []string{ts.dir}, nil, sources.Options{Follow: true, PollInterval: 50 * time.Millisecond,
		OnError: func(e *audit.LineError) { tb.Errorf("sources: %v", e) }})
	if err != nil {
		tb.Fatalf("sources.Open: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	runDone := make(chan error, 1)
	go func() { runDone <- set.Run(ctx) }()
	var frames atomic.Int64
	model := tui.New(tui.Options{
		Store: store, Theme: themes.Default(), UTC: true, Follow: true,
		Status: func() tui.Status {
			p := set.Progress()
			return tui.Status{Names: set.Names(), Done: p.Done, Total: p.Total, Skipped: p.Skipped, Live: p.Live}
		},
	})
	prog := tea.NewProgram(frameCounter{model, &frames}, tea.WithContext(ctx), tea.WithInput(nil),
		tea.WithOutput(io.Discard), tea.WithWindowSize(160, 48))
	progDone := make(chan error, 1)
	go func() {
		_, err := prog.Run()
		progDone <- err
	}()
	defer func() {
		prog.Quit()
		cancel()
		<-progDone
		<-runDone
		set.Close()
	}()

	tmpl := loadTemplates()
	idPrefix := fmt.Sprintf("%08x-5e1d-4c0a-8b7f-", run)
	next := 0 // events offered so far in this series
	var out []loadResult
	for _, rate := range rates {
		lat := &latencies{}
		offered := rate * int(dur/time.Second)
		ac := newAuditClient(tb, clientConfig{
			kubeconfig: kc, maxBatch: batch, maxWait: time.Second,
			// Large enough for every event of the step, so that nothing
			// is dropped for a full buffer even when the pipeline falls
			// behind (kube-apiserver's default is 10,000: at these rates
			// a fraction of a second of slack). A backlog shows as lag.
			buffer:  offered + 1000,
			backoff: time.Second,
			wrapRT: func(rt http.RoundTripper) http.RoundTripper {
				lat.next = rt
				return lat
			},
		})
		base := store.Len()
		drop0 := dropped.Load()
		st0 := ts.srv.Stats()
		srv0 := st0.Events
		frames0 := frames.Load()
		debug.FreeOSMemory() // so that RSS shows this step, not the last one

		// Sample memory while the step runs.
		var heapMax, rssMax atomic.Int64
		stopSample := make(chan struct{})
		sampled := make(chan struct{})
		go func() {
			defer close(sampled)
			tick := time.NewTicker(100 * time.Millisecond)
			defer tick.Stop()
			for {
				if h := int64(heapInuse()); h > heapMax.Load() {
					heapMax.Store(h)
				}
				if r, _ := rssBytes(0); r > rssMax.Load() {
					rssMax.Store(r)
				}
				select {
				case <-stopSample:
					return
				case <-tick.C:
				}
			}
		}()

		cpu0, busy0 := cpuSeconds(), machineBusy()
		start := time.Now()
		evs := make([]auditinternal.Event, 100)
		ptrs := make([]*auditinternal.Event, 100)
		sent := 0
		for sent < offered {
			due := min(offered, int(time.Since(start).Seconds()*float64(rate)))
			now := metav1.NewMicroTime(time.Now())
			for sent < due {
				k := min(100, due-sent)
				for j := range k {
					i := next + sent + j
					evs[j] = tmpl[i%len(tmpl)]
					evs[j].AuditID = types.UID(idPrefix + strconv.FormatInt(int64(i)+1<<40, 16)[1:])
					evs[j].RequestReceivedTimestamp = now
					evs[j].StageTimestamp = now
					ptrs[j] = &evs[j]
				}
				ac.ProcessEvents(ptrs[:k]...)
				sent += k
			}
			time.Sleep(time.Millisecond)
		}
		fedAt := time.Now()
		ac.shutdown()
		ackedAt := time.Now()
		deadline := time.Now().Add(2 * time.Minute)
		for store.Len() < base+offered && time.Now().Before(deadline) {
			time.Sleep(2 * time.Millisecond)
		}
		storedAt := time.Now()
		cpuUsed := cpuSeconds() - cpu0
		cpu := cpuUsed / storedAt.Sub(start).Seconds()
		others := max(0, (machineBusy()-busy0-cpuUsed)/storedAt.Sub(start).Seconds())
		close(stopSample)
		<-sampled
		next += offered

		d := lat.take()
		r := loadResult{
			batch: batch, rate: rate, offered: offered,
			offeredRate:   float64(offered) / fedAt.Sub(start).Seconds(),
			stored:        float64(store.Len()-base) / storedAt.Sub(start).Seconds(),
			lag:           storedAt.Sub(fedAt),
			posts:         len(d),
			maxInFlight:   lat.maxIn.Load(),
			failedPosts:   lat.fail.Load(),
			p50:           pct(d, 0.50),
			p99:           pct(d, 0.99),
			pmax:          pct(d, 1),
			heap:          heapMax.Load(),
			rss:           rssMax.Load(),
			cpu:           cpu,
			cpuPerEvent:   time.Duration(cpuUsed / float64(max(1, store.Len()-base)) * 1e9),
			others:        others,
			frames:        frames.Load() - frames0,
			lost:          offered - (store.Len() - base),
			clientDropped: dropped.Load() - drop0,
			serverEvents:  ts.srv.Stats().Events - srv0,
		}
		out = append(out, r)
		st := ts.srv.Stats()
		logf(tb, "batch %d, %d events/s offered: %d events, stored %.0f/s, lag %v, acked after %v, server: %d batches, fsync %.2fs; p50 %v p99 %v, heap %d MB, RSS %d MB, CPU %.2f (%v/event; others %.2f), %d frames, lost %d (client dropped %d, %d failed POSTs)",
			batch, rate, offered, r.stored, r.lag.Round(time.Millisecond), ackedAt.Sub(start).Round(time.Millisecond),
			st.Batches-st0.Batches, st.FsyncSeconds-st0.FsyncSeconds,
			r.p50.Round(time.Microsecond*100), r.p99.Round(time.Microsecond*100), r.heap>>20, r.rss>>20, r.cpu, r.cpuPerEvent, r.others, r.frames, r.lost, r.clientDropped, lat.fail.Load())
		if r.failedPosts > 0 {
			lat.mu.Lock()
			logf(tb, "failed POSTs (retried by the client): %v; server rejections: %v", lat.errs, st.Rejected)
			lat.mu.Unlock()
		}
		if r.lost != 0 || r.clientDropped != 0 {
			tb.Errorf("batch %d at %d events/s: %d events lost (%d offered, %d written by the server, %d in the Store); %s",
				batch, rate, r.lost, offered, r.serverEvents, store.Len()-base, dropReport(drop0))
		}
	}
	// The spool files hold every event (duplicates allowed: a batch
	// refused after it was read is re-sent; the Store keeps one copy).
	// Stop the receiver first, so that no compression swaps files while
	// they are counted.
	ts.stop(tb)
	if n := spoolCount(tb, filepath.Join(ts.dir, "test")); n < next {
		tb.Errorf("the spool holds %d event lines, want at least %d", n, next)
	}
	return out
}

// spoolCount counts the event lines of a cluster directory.
func spoolCount(tb testing.TB, dir string) int {
	keys, _ := spoolLines(tb, dir)
	return len(keys)
}

func loadTable(res []loadResult) string {
	var b strings.Builder
	fmt.Fprintf(&b, "| batch | target/s | offered/s | stored/s | lag | POSTs (failed) | max in flight | p50 | p99 | max | heap MB | RSS MB | CPU cores | CPU/event | other procs' cores | TUI frames | lost |\n")
	fmt.Fprintf(&b, "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range res {
		fmt.Fprintf(&b, "| %d | %d | %.0f | %.0f | %v | %d (%d) | %d | %v | %v | %v | %d | %d | %.2f | %.1f µs | %.2f | %d | %d |\n",
			r.batch, r.rate, r.offeredRate, r.stored, r.lag.Round(time.Millisecond), r.posts, r.failedPosts, r.maxInFlight,
			r.p50.Round(100*time.Microsecond), r.p99.Round(100*time.Microsecond), r.pmax.Round(time.Millisecond),
			r.heap>>20, r.rss>>20, r.cpu, float64(r.cpuPerEvent)/1e3, r.others, r.frames, r.lost)
	}
	return b.String()
}
