package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"
)

func TestServeRefusesUnsafeSetups(t *testing.T) {
	dir := t.TempDir()
	tok := filepath.Join(dir, "token")
	os.WriteFile(tok, []byte("s3cret\n"), 0o600)
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"serve", "--dir", dir, "--listen", "127.0.0.1:0"}, "--tls-self-signed"},
		{[]string{"serve", "--dir", dir, "--listen", "0.0.0.0:0", "--plain-http"}, "loopback"},
		{[]string{"serve", "--dir", dir, "--listen", "localhost:0", "--plain-http"}, "loopback"},
		{[]string{"serve", "--dir", dir, "--listen", "127.0.0.1:0", "--plain-http", "--token-file", tok}, "token"},
		{[]string{"serve", "--dir", dir, "--listen", "127.0.0.1:0", "--plain-http", "--max-body", "lots"}, "--max-body"},
	}
	for _, c := range cases {
		_, stderr, code := run(t, "", c.args...)
		if code != exitUsage || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: code %d stderr %q, want %q", c.args, code, stderr, c.want)
		}
	}
}

func TestWebhookConfigPrintsAKubeconfig(t *testing.T) {
	dir := t.TempDir()
	tok := filepath.Join(dir, "token")
	os.WriteFile(tok, []byte("# a comment\n\ns3cret\nother\n"), 0o600)
	ca := filepath.Join(dir, "ca.crt")
	os.WriteFile(ca, testCA(t), 0o600)
	out, stderr, code := run(t, "", "webhook-config", "--url", "https://audit.example.com:8443/audit/prod", "--ca", ca, "--token-file", tok)
	if code != 0 {
		t.Fatalf("code %d: %s", code, stderr)
	}
	var kc struct {
		Clusters []struct {
			Cluster map[string]any `json:"cluster"`
		} `json:"clusters"`
		Users []struct {
			User map[string]any `json:"user"`
		} `json:"users"`
		CurrentContext string `json:"current-context"`
	}
	if err := yaml.Unmarshal([]byte(out), &kc); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if len(kc.Clusters) != 1 || kc.Clusters[0].Cluster["server"] != "https://audit.example.com:8443/audit/prod" ||
		kc.Clusters[0].Cluster["certificate-authority-data"] == nil || len(kc.Users) != 1 ||
		kc.Users[0].User["token"] != "s3cret" || kc.CurrentContext == "" {
		t.Fatalf("kubeconfig:\n%s", out)
	}
	for _, bad := range [][]string{
		{"webhook-config"},
		{"webhook-config", "--url", "http://127.0.0.1:8080/audit", "--token", "x"},
		{"webhook-config", "--url", "https://x/audit", "--client-cert", "c"},
		{"webhook-config", "--url", "https://x/audit", "--token", "x", "--token-file", tok},
	} {
		if _, _, code := run(t, "", bad...); code != exitUsage {
			t.Errorf("%v: code %d", bad, code)
		}
	}
}

// testCA returns a self-signed CA certificate in PEM.
func testCA(t *testing.T) []byte {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}
