package webhook

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"ktrail/audit/auditgen"
)

// benchBatches returns n EventList bodies of size realistic events each,
// with the items stripped of kind and apiVersion as the API server sends
// them.
func benchBatches(n, size int) [][]byte {
	g := auditgen.New(auditgen.Config{Seed: 7})
	prefix := []byte(`{"kind":"Event","apiVersion":"audit.k8s.io/v1",`)
	out := make([][]byte, n)
	var buf []byte
	for i := range out {
		items := make([][]byte, size)
		for j := range items {
			buf = g.Next(buf[:0])
			item := append([]byte("{"), bytes.TrimPrefix(buf, prefix)...)
			if !bytes.HasPrefix(buf, prefix) {
				item = bytes.Clone(buf)
			}
			items[j] = item
		}
		out[i] = eventList(items...)
	}
	return out
}

// BenchmarkIngest posts EventList batches of 400 generated events over
// loopback HTTP and TLS, 8 clients at once, each batch fsync'ed before
// its 200 (group commit).
func BenchmarkIngest(b *testing.B) {
	const perBatch = 400
	batches := benchBatches(16, perBatch)
	total := 0
	for _, bt := range batches {
		total += len(bt)
	}
	for _, mode := range []string{"plain", "tls"} {
		b.Run(mode, func(b *testing.B) {
			cfg := Config{Addr: "127.0.0.1:0", Dir: b.TempDir(), Log: io.Discard}
			if mode == "plain" {
				cfg.PlainHTTP = true
			} else {
				cfg.SelfSigned = true
			}
			s, err := New(cfg)
			if err != nil {
				b.Fatal(err)
			}
			var fsyncs atomic.Int64
			s.hooks.sync = func(f *os.File) error {
				fsyncs.Add(1)
				return f.Sync()
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- s.Serve(ctx, nil) }()
			<-s.Ready()
			tr := &http.Transport{MaxIdleConnsPerHost: 16}
			url := "http://" + s.Addr().String() + "/audit"
			if mode == "tls" {
				pool := x509.NewCertPool()
				pool.AppendCertsFromPEM(s.CAPEM())
				tr.TLSClientConfig = &tls.Config{RootCAs: pool}
				url = "https://" + s.Addr().String() + "/audit"
			}
			client := &http.Client{Transport: tr, Timeout: time.Minute}
			var next atomic.Int64
			b.SetBytes(int64(total / len(batches)))
			b.SetParallelism(4)
			b.ResetTimer()
			t0 := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					body := batches[next.Add(1)%int64(len(batches))]
					resp, err := client.Post(url, "application/json", bytes.NewReader(body))
					if err != nil {
						b.Error(err)
						return
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != 200 {
						b.Errorf("status %d", resp.StatusCode)
						return
					}
				}
			})
			elapsed := time.Since(t0)
			b.StopTimer()
			b.ReportMetric(float64(b.N*perBatch)/elapsed.Seconds(), "events/s")
			if n := fsyncs.Load(); n > 0 {
				b.ReportMetric(float64(s.Stats().Batches)/float64(n), "batches/fsync")
				b.ReportMetric(s.Stats().FsyncSeconds/float64(n)*1e3, "ms/fsync")
			}
			cancel()
			if err := <-done; err != nil {
				b.Fatal(err)
			}
			tr.CloseIdleConnections()
		})
	}
}
