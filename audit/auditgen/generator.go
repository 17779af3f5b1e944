package auditgen

import (
	"io"
	"time"
)

// DefaultRate is the mean number of events per second of simulated time
// when Config.Rate is zero.
const DefaultRate = 200

// Config configures a Generator. The zero value is usable.
type Config struct {
	// Seed selects the simulated cluster and the traffic. The same Config
	// always produces byte-identical output.
	Seed int64
	// Start is when the log begins: no event has an earlier
	// stageTimestamp. Watches already open at Start were received before
	// it, as in any real log. Zero means 2026-11-24T12:00:00Z (never the
	// wall clock, to stay deterministic).
	Start time.Time
	// Rate is the mean number of events per second of simulated time;
	// zero or negative means DefaultRate.
	Rate float64
}

// Generator produces a stream of realistic audit.k8s.io/v1 events, in the
// order a kube-apiserver's log backend writes them: by the time each
// request stage completes. A Generator is not safe for concurrent use.
type Generator struct {
	rng      rng
	c        *cluster
	mix      weighted
	cmdMix   weighted // kubectl commands
	spawners []spawnFunc
	usPerEv  float64 // mean simulated µs between events
	next     int64   // µs since the epoch of the next arrival
	heap     []pending
	seq      uint64
	pushed   int
	free     []*request
	tc       timeCache
	rv       int64
	buf      []byte

	// floor is the simulated start: stages before it are not logged.
	floor int64

	// gapFrom and gapTo, when set, delimit a span of simulated time in
	// which nothing is logged (used by the demo's audit gap).
	gapFrom, gapTo int64
}

// spawnFunc schedules one or more related requests arriving at t.
type spawnFunc func(g *Generator, t int64)

// pending is a stage of a request waiting to be logged.
type pending struct {
	at   int64
	seq  uint64
	r    *request
	st   stage
	last bool
}

// New returns a Generator for cfg.
func New(cfg Config) *Generator {
	if cfg.Rate <= 0 {
		cfg.Rate = DefaultRate
	}
	if cfg.Start.IsZero() {
		cfg.Start = time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	}
	crng := newRNG(uint64(cfg.Seed)*0x2545f4914f6cdd1d + 1)
	g := &Generator{
		rng:     newRNG(uint64(cfg.Seed)),
		c:       newCluster(&crng),
		usPerEv: 1e6 / cfg.Rate,
		next:    micros(cfg.Start),
		rv:      48_213_377 + int64(crng.intn(9_000_000)),
	}
	table := mixTable()
	weights := make([]int, len(table))
	for i, m := range table {
		weights[i] = m.weight
		g.spawners = append(g.spawners, m.fn)
	}
	g.mix = newWeighted(weights)
	weights = weights[:0]
	for _, c := range humanCommands {
		weights = append(weights, c.weight)
	}
	g.cmdMix = newWeighted(weights)
	g.warmUp(cfg.Rate, table)
	return g
}

// warmUp schedules the watches that were already open when the log
// starts, so that from the first minute on watches end at the steady
// rate, as in a log that begins in the middle of a running cluster.
func (g *Generator) warmUp(rate float64, table []mixEntry) {
	const window = 600 // seconds: the longest watch
	g.floor = g.next
	total := 0
	for _, m := range table {
		total += m.weight
	}
	const eventsPerArrival = 1.15
	watches := wKubeletWatch + wInformerWatch
	n := int(rate / eventsPerArrival * float64(watches) / float64(total) * window)
	n = min(n, 200_000) // bound memory at absurd rates
	for i := 0; i < n; i++ {
		t := g.floor - 1 - int64(g.rng.float()*window*1e6)
		if g.rng.intn(watches) < wKubeletWatch {
			g.kubeletWatch(t)
		} else {
			g.informerWatch(t)
		}
	}
}

// Next appends one event, as a single line of compact JSON without a
// trailing newline, to dst and returns the extended slice.
func (g *Generator) Next(dst []byte) []byte {
	for {
		g.fill()
		e := g.pop()
		if g.inGap(e.at) {
			if e.last {
				g.release(e.r)
			}
			continue
		}
		dst = appendEvent(dst, e.r, e.st, &g.tc)
		if e.last {
			g.release(e.r)
		}
		return dst
	}
}

// WriteN writes n events to w, each followed by a newline, and returns the
// number of bytes written.
func (g *Generator) WriteN(w io.Writer, n int) (int64, error) {
	var total int64
	for i := 0; i < n; i++ {
		g.buf = g.Next(g.buf)
		g.buf = append(g.buf, '\n')
		if len(g.buf) >= 64<<10 || i == n-1 {
			k, err := w.Write(g.buf)
			total += int64(k)
			g.buf = g.buf[:0]
			if err != nil {
				return total, err
			}
		}
	}
	return total, nil
}

// WriteBytes writes whole events, each followed by a newline, until at
// least size bytes have been written, and returns the number of events.
func (g *Generator) WriteBytes(w io.Writer, size int64) (events int, err error) {
	var total int64
	for total < size {
		g.buf = g.Next(g.buf)
		g.buf = append(g.buf, '\n')
		events++
		if len(g.buf) >= 64<<10 || total+int64(len(g.buf)) >= size {
			k, err := w.Write(g.buf)
			total += int64(k)
			g.buf = g.buf[:0]
			if err != nil {
				return events, err
			}
		}
	}
	return events, nil
}

// fill spawns requests until the earliest pending stage precedes the next
// arrival, so that it is certainly the next event to log.
func (g *Generator) fill() {
	for len(g.heap) == 0 || g.heap[0].at > g.next {
		before := g.pushed
		g.spawners[g.mix.choose(&g.rng)](g, g.next)
		n := g.pushed - before
		if n == 0 {
			n = 1
		}
		g.next += int64(float64(n)*g.usPerEv*g.rng.exp()) + 1
		if g.gapTo != 0 && g.next >= g.gapFrom && g.next < g.gapTo {
			g.next = g.gapTo
		}
	}
}

// peek returns the time of the next event that Next will return.
func (g *Generator) peek() int64 {
	for {
		g.fill()
		if !g.inGap(g.heap[0].at) {
			return g.heap[0].at
		}
		if e := g.pop(); e.last {
			g.release(e.r)
		}
	}
}

// inGap reports whether t falls in the configured audit gap.
func (g *Generator) inGap(t int64) bool { return g.gapTo != 0 && t >= g.gapFrom && t < g.gapTo }

// alloc returns a cleared request, reusing released ones.
func (g *Generator) alloc() *request {
	n := len(g.free)
	if n == 0 {
		return &request{}
	}
	r := g.free[n-1]
	g.free = g.free[:n-1]
	uri := r.uri[:0]
	*r = request{uri: uri}
	return r
}

// release returns r for reuse once its last stage is logged.
func (g *Generator) release(r *request) { g.free = append(g.free, r) }

// submit schedules the logged stages of r, which completes lat µs after it
// was received.
func (g *Generator) submit(r *request, lat int64) {
	if lat < 1 {
		lat = 1
	}
	r.done = r.recv + lat
	if r.stages&stageResponseStarted != 0 && r.started == 0 {
		r.started = r.recv + min(lat, int64(g.rng.between(300, 4000)))
	}
	if r.stages&stageResponseStarted == 0 && lat > 500_000 && !r.failed && r.decision == "allow" {
		r.slow = true
	}
	var last stage
	for s := stageResponseComplete; s != 0; s >>= 1 {
		if r.stages&s != 0 {
			last = s
			break
		}
	}
	pushed := false
	for s := stageRequestReceived; s <= stageResponseComplete; s <<= 1 {
		if r.stages&s == 0 {
			continue
		}
		at := r.done
		switch s {
		case stageRequestReceived:
			at = r.recv
		case stageResponseStarted:
			at = r.started
		}
		if at < g.floor {
			continue // before the log starts
		}
		g.push(pending{at: at, r: r, st: s, last: s == last})
		pushed = true
	}
	if !pushed {
		g.release(r)
	}
}

// push adds e to the min-heap ordered by (at, seq).
func (g *Generator) push(e pending) {
	g.seq++
	g.pushed++
	e.seq = g.seq
	h := append(g.heap, e)
	i := len(h) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !less(&h[i], &h[p]) {
			break
		}
		h[i], h[p] = h[p], h[i]
		i = p
	}
	g.heap = h
}

// pop removes and returns the earliest pending stage.
func (g *Generator) pop() pending {
	h := g.heap
	top := h[0]
	n := len(h) - 1
	h[0] = h[n]
	h[n] = pending{}
	h = h[:n]
	i := 0
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		m := l
		if r := l + 1; r < n && less(&h[r], &h[l]) {
			m = r
		}
		if !less(&h[m], &h[i]) {
			break
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
	g.heap = h
	return top
}

func less(a, b *pending) bool { return a.at < b.at || a.at == b.at && a.seq < b.seq }

// nextRV returns a fresh resourceVersion.
func (g *Generator) nextRV() int64 {
	g.rv += int64(1 + g.rng.intn(7))
	return g.rv
}

// timeCache formats timestamps, reusing the date and time of day of the
// previous call when the second is the same.
type timeCache struct {
	sec    int64
	prefix []byte
}

// appendMicro appends us as a quoted MicroTime.
func (c *timeCache) appendMicro(dst []byte, us int64) []byte {
	sec, frac := us/1e6, us%1e6
	if frac < 0 {
		frac += 1e6
		sec--
	}
	if c.prefix == nil || sec != c.sec {
		c.sec = sec
		c.prefix = appendDateTime(c.prefix[:0], sec)
	}
	dst = append(dst, '"')
	dst = append(dst, c.prefix...)
	dst = append(dst, '.')
	dst = appendDigits(dst, frac, 6)
	return append(dst, 'Z', '"')
}
