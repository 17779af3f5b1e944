package webhook

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestSelfSignedTLS(t *testing.T) {
	dir := t.TempDir()
	cfg := Config{Addr: "127.0.0.1:0", Dir: dir, SelfSigned: true, Log: io.Discard}
	h := start(t, cfg)
	if !bytes.Contains(h.s.CAPEM(), []byte("BEGIN CERTIFICATE")) {
		t.Fatalf("CAPEM = %q", h.s.CAPEM())
	}
	if code, body := h.post("/audit", eventList(ev("a", "ResponseComplete"))); code != 200 {
		t.Fatalf("POST over TLS = %d %s", code, body)
	}
	// Files: all 0600 in a 0700 directory.
	for _, n := range []string{"ca.crt", "ca.key", "tls.crt", "tls.key"} {
		fi, err := os.Stat(filepath.Join(dir, "tls", n))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %v, want 0600", n, fi.Mode().Perm())
		}
	}
	if fi, _ := os.Stat(filepath.Join(dir, "tls")); fi.Mode().Perm() != 0o700 {
		t.Errorf("tls dir mode %v", fi.Mode().Perm())
	}
	// A client that does not trust the CA fails.
	plain := &http.Client{Timeout: 5 * time.Second}
	if _, err := plain.Post(h.url+"/audit", "application/json", bytes.NewReader(eventList())); err == nil {
		t.Error("a client without the CA connected")
	}
	// TLS 1.1 is refused.
	old := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{
		InsecureSkipVerify: true, MaxVersion: tls.VersionTLS11}}}
	if _, err := old.Get(h.url + "/healthz"); err == nil {
		t.Error("TLS 1.1 accepted")
	}
	if err := h.stop(); err != nil {
		t.Fatal(err)
	}
	caBefore := h.s.CAPEM()
	leafBefore, _ := os.ReadFile(filepath.Join(dir, "tls", "tls.crt"))

	// Restart: the same CA and leaf are reused.
	s2, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	leafAfter, _ := os.ReadFile(filepath.Join(dir, "tls", "tls.crt"))
	if !bytes.Equal(s2.CAPEM(), caBefore) || !bytes.Equal(leafAfter, leafBefore) {
		t.Error("restart did not reuse the CA and serving certificate")
	}

	// Other SANs: same CA, new leaf with the new names.
	cfg.SANs = []string{"collector.example", "10.0.0.7"}
	s3, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(s3.CAPEM(), caBefore) {
		t.Error("the CA changed when only the SANs did")
	}
	leafNew, _ := os.ReadFile(filepath.Join(dir, "tls", "tls.crt"))
	blk, _ := pem.Decode(leafNew)
	cert, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(certSANs(cert), ","); got != "10.0.0.7,collector.example" {
		t.Errorf("new leaf SANs = %s", got)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caBefore)
	if _, err := cert.Verify(x509.VerifyOptions{Roots: pool, DNSName: "collector.example"}); err != nil {
		t.Errorf("new leaf does not verify against the CA: %v", err)
	}
}

func TestDefaultSANs(t *testing.T) {
	s := &Server{cfg: Config{Addr: "10.1.2.3:8443"}}
	got := strings.Join(s.sans(), ",")
	for _, want := range []string{"localhost", "127.0.0.1", "::1", "10.1.2.3"} {
		if !strings.Contains(","+got+",", ","+want+",") {
			t.Errorf("default SANs %s lack %s", got, want)
		}
	}
	s.cfg.Addr = "0.0.0.0:8443"
	if strings.Contains(strings.Join(s.sans(), ","), "0.0.0.0") {
		t.Error("the unspecified address became a SAN")
	}
}

func TestGivenCertificate(t *testing.T) {
	dir := t.TempDir()
	// Make a serving pair with the package's own CA helpers.
	ca, caKey, caPEM, err := newCA()
	if err != nil {
		t.Fatal(err)
	}
	_, leafKey, leafPEM, err := newLeaf(ca, caKey, []string{"127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile := filepath.Join(dir, "c.crt"), filepath.Join(dir, "c.key")
	if err := writePair(certFile, keyFile, leafPEM, leafKey); err != nil {
		t.Fatal(err)
	}
	s := start(t, Config{Addr: "127.0.0.1:0", Dir: filepath.Join(dir, "spool"), TLSCert: certFile, TLSKey: keyFile})
	if s.s.CAPEM() != nil {
		t.Error("CAPEM set without SelfSigned")
	}
	c := tlsClient(caPEM)
	if code, _ := doPost(t, c, s.url+"/audit", eventList(ev("x", "ResponseComplete"))); code != 200 {
		t.Fatalf("status %d", code)
	}
}

func writeTokens(t *testing.T, content string) string {
	p := filepath.Join(t.TempDir(), "tokens")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestTokenAuth(t *testing.T) {
	tokens := writeTokens(t, "# collector tokens\n\n  s3cret-one  \nanother-token\n")
	h := start(t, Config{Addr: "127.0.0.1:0", Dir: t.TempDir(), SelfSigned: true, TokenFile: tokens})
	body := eventList(ev("tok", "ResponseComplete"))
	cases := []struct {
		name, auth string
		want       int
	}{
		{"first token", "Bearer s3cret-one", 200},
		{"second token, lower-case scheme", "bearer another-token", 200},
		{"missing", "", 401},
		{"wrong", "Bearer s3cret-two", 401},
		{"prefix of a token", "Bearer s3cret", 401},
		{"comment is not a token", "Bearer # collector tokens", 401},
		{"basic scheme", "Basic czNjcmV0LW9uZQ==", 401},
	}
	for _, c := range cases {
		req, _ := http.NewRequest(http.MethodPost, h.url+"/audit", bytes.NewReader(body))
		if c.auth != "" {
			req.Header.Set("Authorization", c.auth)
		}
		resp, err := h.c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.want {
			t.Errorf("%s: status %d, want %d", c.name, resp.StatusCode, c.want)
		}
		if c.want == 401 && !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
			t.Errorf("%s: WWW-Authenticate = %q", c.name, resp.Header.Get("WWW-Authenticate"))
		}
	}
	if got := len(lines(t, current(h.dir, ""))); got != 2 {
		t.Errorf("%d lines written, want 2 (the authorised posts)", got)
	}
	if code, body := h.get("/healthz"); code != 200 || body != "ok" {
		t.Errorf("/healthz without a token = %d %q", code, body)
	}
	if code, _ := h.get("/metrics"); code != 401 {
		t.Errorf("/metrics without a token = %d, want 401", code)
	}
	if code, _ := h.get("/metrics", "Authorization", "Bearer another-token"); code != 200 {
		t.Errorf("/metrics with a token = %d", code)
	}
	if n := h.s.Stats().Rejected[ReasonUnauthorized]; n != 6 {
		t.Errorf("unauthorized count = %d, want 6", n)
	}
	if !strings.Contains(h.log.String(), "REJECTED POST") {
		t.Errorf("rejections not logged: %s", h.log.String())
	}
}

func TestTokenFileReload(t *testing.T) {
	tokens := writeTokens(t, "old-token\n")
	h := start(t, Config{Addr: "127.0.0.1:0", Dir: t.TempDir(), SelfSigned: true, TokenFile: tokens},
		func(s *Server) { s.tokens.w.every, s.tokens.w.next = 10*time.Millisecond, time.Time{} })
	body := eventList(ev("r", "ResponseComplete"))
	if code, _ := h.post("/audit", body, "Authorization", "Bearer old-token"); code != 200 {
		t.Fatalf("old token refused: %d", code)
	}
	if err := os.WriteFile(tokens, []byte("new-token-longer\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	time.Sleep(30 * time.Millisecond)
	if code, _ := h.post("/audit", body, "Authorization", "Bearer old-token"); code != 401 {
		t.Errorf("old token after reload: %d, want 401", code)
	}
	if code, _ := h.post("/audit", body, "Authorization", "Bearer new-token-longer"); code != 200 {
		t.Errorf("new token after reload: %d, want 200", code)
	}
	// An emptied file refuses everything (fail closed).
	if err := os.WriteFile(tokens, []byte("# none\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	time.Sleep(30 * time.Millisecond)
	if code, _ := h.post("/audit", body, "Authorization", "Bearer new-token-longer"); code != 401 {
		t.Errorf("token after the file was emptied: %d, want 401", code)
	}
}

func TestMTLS(t *testing.T) {
	tmp := t.TempDir()
	caFile, good := testPKI(t, tmp, "good")
	_, other := testPKI(t, tmp, "other")
	h := start(t, Config{Addr: "127.0.0.1:0", Dir: t.TempDir(), SelfSigned: true, ClientCA: caFile})
	body := eventList(ev("m", "ResponseComplete"))

	if code, _ := doPost(t, tlsClient(h.s.CAPEM(), good), h.url+"/audit", body); code != 200 {
		t.Errorf("client cert from the CA: %d", code)
	}
	for name, c := range map[string]*http.Client{
		"no client cert":       tlsClient(h.s.CAPEM()),
		"cert from another CA": tlsClient(h.s.CAPEM(), other),
	} {
		resp, err := c.Post(h.url+"/audit", "application/json", bytes.NewReader(body))
		if err == nil {
			resp.Body.Close()
			t.Errorf("%s: got status %d, want a failed handshake", name, resp.StatusCode)
		}
	}
	if got := len(lines(t, current(h.dir, ""))); got != 1 {
		t.Errorf("%d lines, want 1", got)
	}
}

func TestMTLSAndTokenBothRequired(t *testing.T) {
	tmp := t.TempDir()
	caFile, good := testPKI(t, tmp, "good")
	tokens := writeTokens(t, "tok-both\n")
	h := start(t, Config{Addr: "127.0.0.1:0", Dir: t.TempDir(), SelfSigned: true, ClientCA: caFile, TokenFile: tokens})
	body := eventList(ev("b", "ResponseComplete"))
	withCert := tlsClient(h.s.CAPEM(), good)
	if code, _ := doPost(t, withCert, h.url+"/audit", body, "Authorization", "Bearer tok-both"); code != 200 {
		t.Errorf("cert and token: %d", code)
	}
	if code, _ := doPost(t, withCert, h.url+"/audit", body); code != 401 {
		t.Errorf("cert without token: %d, want 401", code)
	}
	req, _ := http.NewRequest(http.MethodPost, h.url+"/audit", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer tok-both")
	if resp, err := tlsClient(h.s.CAPEM()).Do(req); err == nil {
		resp.Body.Close()
		t.Errorf("token without cert: status %d, want a failed handshake", resp.StatusCode)
	}
}

func TestConfigErrors(t *testing.T) {
	dir := t.TempDir()
	tokens := writeTokens(t, "x\n")
	empty := writeTokens(t, "# nothing\n\n")
	cases := []struct {
		name string
		cfg  Config
		want string
	}{
		{"no certificate", Config{Addr: "127.0.0.1:0", Dir: dir},
			"webhook: no TLS certificate: give --tls-cert/--tls-key, --tls-self-signed, or --plain-http on a loopback address"},
		{"plain on all interfaces", Config{Addr: "0.0.0.0:8080", Dir: dir, PlainHTTP: true}, "only on a loopback IP"},
		{"plain on localhost name", Config{Addr: "localhost:8080", Dir: dir, PlainHTTP: true}, "only on a loopback IP"},
		{"plain on empty host", Config{Addr: ":8080", Dir: dir, PlainHTTP: true}, "only on a loopback IP"},
		{"plain with token", Config{Addr: "127.0.0.1:8080", Dir: dir, PlainHTTP: true, TokenFile: tokens}, "cannot be used with a client CA or a token file"},
		{"plain with client CA", Config{Addr: "127.0.0.1:8080", Dir: dir, PlainHTTP: true, ClientCA: tokens}, "cannot be used with a client CA or a token file"},
		{"plain with self-signed", Config{Addr: "127.0.0.1:8080", Dir: dir, PlainHTTP: true, SelfSigned: true}, "cannot be combined"},
		{"cert without key", Config{Addr: "127.0.0.1:8080", Dir: dir, TLSCert: "c.crt"}, "give both --tls-cert and --tls-key"},
		{"cert and self-signed", Config{Addr: "127.0.0.1:8080", Dir: dir, TLSCert: "c", TLSKey: "k", SelfSigned: true}, "not both"},
		{"missing cert files", Config{Addr: "127.0.0.1:8080", Dir: dir, TLSCert: "/nonexistent/c", TLSKey: "/nonexistent/k"}, "webhook: TLS certificate"},
		{"no dir", Config{Addr: "127.0.0.1:8080", PlainHTTP: true}, "no spool directory"},
		{"bad addr", Config{Addr: "8080", Dir: dir, PlainHTTP: true}, "want host:port"},
		{"empty token file", Config{Addr: "127.0.0.1:0", Dir: dir, SelfSigned: true, TokenFile: empty}, "holds no token"},
		{"missing token file", Config{Addr: "127.0.0.1:0", Dir: dir, SelfSigned: true, TokenFile: "/nonexistent"}, "webhook: token file"},
		{"client CA not PEM", Config{Addr: "127.0.0.1:0", Dir: dir, SelfSigned: true, ClientCA: tokens}, "holds no PEM certificate"},
		{"bad header", Config{Addr: "127.0.0.1:0", Dir: dir, PlainHTTP: true, ClusterHeader: "X Cluster"}, "not a valid HTTP header name"},
		{"negative", Config{Addr: "127.0.0.1:0", Dir: dir, PlainHTTP: true, MaxBody: -1}, "MaxBody must not be negative"},
		{"dir is a file", Config{Addr: "127.0.0.1:0", Dir: tokens, PlainHTTP: true}, "webhook: "},
	}
	for _, c := range cases {
		c.cfg.Log = io.Discard
		_, err := New(c.cfg)
		if err == nil {
			t.Errorf("%s: no error", c.name)
			continue
		}
		if !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "webhook: ") || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: error %q, want one line containing %q", c.name, err, c.want)
		}
	}
	// Plain HTTP is fine on loopback IPs, v4 and v6.
	for _, addr := range []string{"127.0.0.1:0", "127.8.9.10:0", "[::1]:0"} {
		if _, err := New(Config{Addr: addr, Dir: t.TempDir(), PlainHTTP: true, Log: io.Discard}); err != nil {
			t.Errorf("plain on %s: %v", addr, err)
		}
	}
}

// TestHTTP1Only checks that a client asking for HTTP/2 gets HTTP/1.1: the
// server serves one request per connection (see Server.Serve).
func TestHTTP1Only(t *testing.T) {
	h := start(t, Config{Addr: "127.0.0.1:0", Dir: t.TempDir(), SelfSigned: true})
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(h.s.CAPEM())
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		ForceAttemptHTTP2: true, TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := c.Post(h.url+"/audit/h2", "application/json", bytes.NewReader(eventList(batch("h2", 3)...)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.ProtoMajor != 1 {
		t.Errorf("status %d over %s", resp.StatusCode, resp.Proto)
	}
	if got := lines(t, current(h.dir, "h2")); len(got) != 3 {
		t.Errorf("%d lines", len(got))
	}
	c.CloseIdleConnections()
}
