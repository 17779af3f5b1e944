package main

import (
	"fmt"
	"io"
	"runtime"
	"sync/atomic"
	"time"

	"ktrail/audit"
)

// loadStats measures a load for bench/compare.sh: wall time, the time
// until the first 1,000 events were queryable, and heap bytes per event.
type loadStats struct {
	store   *audit.Store
	start   time.Time
	first1k atomic.Int64
	done    chan struct{}
}

func startStats(s *audit.Store) *loadStats {
	st := &loadStats{store: s, start: time.Now(), done: make(chan struct{})}
	go func() {
		t := time.NewTicker(200 * time.Microsecond)
		defer t.Stop()
		for {
			select {
			case <-st.done:
				return
			case <-t.C:
				if s.Len() >= 1000 {
					st.first1k.Store(int64(time.Since(st.start)))
					return
				}
			}
		}
	}()
	return st
}

func (st *loadStats) report(w io.Writer) {
	elapsed := time.Since(st.start)
	close(st.done)
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	n := st.store.Len()
	per := 0.0
	if n > 0 {
		per = float64(m.HeapAlloc) / float64(n)
	}
	fmt.Fprintf(w, "stats: events=%d bytes=%d load_s=%.3f first1000_ms=%.1f heap_bytes=%d heap_per_event=%.1f interned=%d\n",
		n, st.store.Bytes(), elapsed.Seconds(), float64(st.first1k.Load())/1e6, m.HeapAlloc, per, st.store.Interner().Len())
}
