package webhook

import (
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Stats is a snapshot of the server's counters.
type Stats struct {
	Batches int64 // batches accepted (answered 200 with events)
	Events  int64 // events written
	Bytes   int64 // bytes written to the spool (event lines)
	// Rejected counts refused requests by reason (see the Reason constants).
	Rejected map[string]int64
	// FsyncSeconds is the total time spent in fsync.
	FsyncSeconds float64
	// SpoolBytes is the size of the spool: closed files and current files.
	SpoolBytes int64
}

// metrics holds the Prometheus collectors and plain counters for Stats.
type metrics struct {
	batches, events, bytes prometheus.Counter
	rejected               *prometheus.CounterVec
	fsync                  prometheus.Histogram
	inFlight               prometheus.Gauge
	handler                http.Handler

	nBatches, nEvents, nBytes, fsyncNanos atomic.Int64
	rejMu                                 sync.Mutex
	rej                                   map[string]int64
}

// setupMetrics creates the collectors and registers them.
func (s *Server) setupMetrics() error {
	const ns, sub = "ktrail", "webhook"
	m := &metrics{
		batches: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "batches_total", Help: "Batches accepted and written to the spool."}),
		events: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "events_total", Help: "Audit events written to the spool."}),
		bytes: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "bytes_total", Help: "Bytes of event lines written to the spool."}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "rejected_total", Help: "Requests refused, by reason."}, []string{"reason"}),
		fsync: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: ns, Subsystem: sub,
			Name: "fsync_seconds", Help: "Time spent in each fsync of a spool file (one per group commit).",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2.5, 12)}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub,
			Name: "in_flight", Help: "Requests being served."}),
		rej: map[string]int64{},
	}
	spool := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub,
		Name: "spool_bytes", Help: "Size of the spool directory's event files, current and closed."},
		func() float64 { return float64(s.spoolBytes()) })
	for _, r := range allReasons {
		m.rejected.WithLabelValues(r)
	}
	reg := s.cfg.Registry
	if reg == nil {
		private := prometheus.NewRegistry()
		private.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
		reg = private
	}
	for _, c := range []prometheus.Collector{m.batches, m.events, m.bytes, m.rejected, m.fsync, m.inFlight, spool} {
		if err := reg.Register(c); err != nil {
			if _, dup := errors.AsType[prometheus.AlreadyRegisteredError](err); dup {
				return errors.New("webhook: the metrics registry already holds ktrail_webhook metrics (one Server per registry)")
			}
			return fmt.Errorf("webhook: registering metrics: %w", err)
		}
	}
	if g, ok := reg.(prometheus.Gatherer); ok {
		s.gatherer = g
		m.handler = promhttp.HandlerFor(g, promhttp.HandlerOpts{ErrorLog: s.log, MaxRequestsInFlight: 4})
	}
	s.m = m
	return nil
}

func (m *metrics) reject(reason string) {
	m.rejected.WithLabelValues(reason).Inc()
	m.rejMu.Lock()
	m.rej[reason]++
	m.rejMu.Unlock()
}

func (m *metrics) accept(events, bytes int) {
	m.batches.Inc()
	m.events.Add(float64(events))
	m.bytes.Add(float64(bytes))
	m.nBatches.Add(1)
	m.nEvents.Add(int64(events))
	m.nBytes.Add(int64(bytes))
}

func (m *metrics) fsynced(d time.Duration) {
	m.fsync.Observe(d.Seconds())
	m.fsyncNanos.Add(int64(d))
}

// Println lets the logger receive promhttp's errors.
func (l *logger) Println(v ...any) {
	l.printf("webhook: metrics: %s", sanitize(fmt.Sprint(v...)))
}

// Stats returns a snapshot of the counters.
func (s *Server) Stats() Stats {
	m := s.m
	st := Stats{
		Batches:      m.nBatches.Load(),
		Events:       m.nEvents.Load(),
		Bytes:        m.nBytes.Load(),
		FsyncSeconds: time.Duration(m.fsyncNanos.Load()).Seconds(),
		SpoolBytes:   s.spoolBytes(),
		Rejected:     map[string]int64{},
	}
	m.rejMu.Lock()
	for k, v := range m.rej {
		st.Rejected[k] = v
	}
	m.rejMu.Unlock()
	return st
}

// spoolBytes is the size of the closed files (as of the last scan, plus
// what rotations and compressions changed since) and of current files.
func (s *Server) spoolBytes() int64 {
	n := s.closedBytes.Load()
	s.mu.Lock()
	for _, w := range s.writers {
		n += w.size.Load()
	}
	s.mu.Unlock()
	return n
}
