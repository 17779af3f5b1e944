package webhook

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"ktrail/internal/syncbuf"
)

// harness is a running server for one test.
type harness struct {
	t    *testing.T
	s    *Server
	url  string // base URL, no trailing slash
	c    *http.Client
	log  *syncbuf.Buffer
	dir  string
	stop func() error
}

// plainConfig returns a plain-HTTP loopback config with a fresh spool.
func plainConfig(t *testing.T) Config {
	return Config{Addr: "127.0.0.1:0", Dir: t.TempDir(), PlainHTTP: true}
}

// start runs a server for cfg until the test ends (or stop is called).
func start(t *testing.T, cfg Config, prep ...func(*Server)) *harness {
	t.Helper()
	lb := &syncbuf.Buffer{}
	if cfg.Log == nil {
		cfg.Log = lb
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	for _, p := range prep {
		p(s)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, nil) }()
	select {
	case <-s.Ready():
	case err := <-done:
		cancel()
		t.Fatalf("Serve: %v", err)
	case <-time.After(10 * time.Second):
		cancel()
		t.Fatal("server not ready after 10s")
	}
	h := &harness{t: t, s: s, log: lb, dir: s.cfg.Dir}
	scheme := "http"
	tr := &http.Transport{}
	if !cfg.PlainHTTP {
		scheme = "https"
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM(s.CAPEM())
		tr.TLSClientConfig = &tls.Config{RootCAs: pool}
	}
	h.c = &http.Client{Transport: tr, Timeout: 20 * time.Second}
	h.url = scheme + "://" + s.Addr().String()
	var once sync.Once
	var stopErr error
	h.stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case stopErr = <-done:
			case <-time.After(30 * time.Second):
				stopErr = fmt.Errorf("Serve did not return 30s after cancel")
			}
			tr.CloseIdleConnections()
		})
		return stopErr
	}
	t.Cleanup(func() {
		if err := h.stop(); err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return h
}

// post sends body to path with optional header pairs and returns the
// status and response body.
func (h *harness) post(path string, body []byte, hdr ...string) (int, string) {
	h.t.Helper()
	return doPost(h.t, h.c, h.url+path, body, hdr...)
}

func doPost(t *testing.T, c *http.Client, url string, body []byte, hdr ...string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i+1] == "" {
			req.Header.Del(hdr[i])
		} else {
			req.Header.Set(hdr[i], hdr[i+1])
		}
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// get fetches path.
func (h *harness) get(path string, hdr ...string) (int, string) {
	h.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, h.url+path, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := h.c.Do(req)
	if err != nil {
		h.t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// ev returns one event as the API server puts it in an EventList: no kind
// or apiVersion.
func ev(id, stage string) []byte {
	return fmt.Appendf(nil, `{"level":"Metadata","auditID":%q,"stage":%q,"requestURI":"/api/v1/namespaces?limit=500","verb":"list","user":{"username":"admin","groups":["system:masters"]},"sourceIPs":["127.0.0.1"],"responseStatus":{"metadata":{},"code":200},"requestReceivedTimestamp":"2026-11-25T20:26:50.257454Z","stageTimestamp":"2026-11-25T20:26:50.261374Z"}`, id, stage)
}

// eventList wraps items as the webhook backend does.
func eventList(items ...[]byte) []byte {
	b := []byte(`{"kind":"EventList","apiVersion":"audit.k8s.io/v1","metadata":{},"items":[`)
	b = append(b, bytes.Join(items, []byte(","))...)
	return append(b, "]}"...)
}

// batch returns n distinct events with ids prefix-0 … prefix-(n-1).
func batch(prefix string, n int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		out[i] = ev(fmt.Sprintf("%s-%d", prefix, i), "ResponseComplete")
	}
	return out
}

// lines returns the lines of a file (without newlines); the file must end
// with a newline.
func lines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) == 0 {
		return nil
	}
	if b[len(b)-1] != '\n' {
		t.Fatalf("%s does not end with a newline", path)
	}
	return strings.Split(string(b[:len(b)-1]), "\n")
}

func current(dir, cluster string) string {
	return filepath.Join(dir, dirName(cluster), currentName)
}

// fileSize returns the size of path, or -1 when it does not exist.
func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return -1
	}
	return fi.Size()
}

// waitFor polls cond until it holds or the timeout passes.
func waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// testPKI creates a CA and a client certificate signed by it, written to
// files in dir; it returns the CA file and the client tls.Certificate.
func testPKI(t *testing.T, dir, name string) (caFile string, client tls.Certificate) {
	t.Helper()
	ca, caKey, caPEM, err := newCA()
	if err != nil {
		t.Fatal(err)
	}
	caFile = filepath.Join(dir, name+"-ca.crt")
	if err := os.WriteFile(caFile, caPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sn, _ := serial()
	tmpl := &x509.Certificate{
		SerialNumber: sn,
		Subject:      pkix.Name{CommonName: "kube-apiserver-" + name},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalPKCS8PrivateKey(key)
	client, err = tls.X509KeyPair(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}))
	if err != nil {
		t.Fatal(err)
	}
	return caFile, client
}

// tlsClient returns a client that trusts caPEM and presents certs.
func tlsClient(caPEM []byte, certs ...tls.Certificate) *http.Client {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool, Certificates: certs}}}
}
