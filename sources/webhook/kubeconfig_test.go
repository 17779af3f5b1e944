package webhook

import (
	"bytes"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

func TestKubeconfig(t *testing.T) {
	_, _, caPEM, err := newCA()
	if err != nil {
		t.Fatal(err)
	}
	out, err := Kubeconfig("https://collector.example:8443/audit/prod", "", caPEM, "tok-123", "/etc/k/client.crt", "/etc/k/client.key")
	if err != nil {
		t.Fatal(err)
	}
	var kc kubeconfig
	if err := yaml.UnmarshalStrict(out, &kc); err != nil {
		t.Fatalf("parse: %v\n%s", err, out)
	}
	if kc.APIVersion != "v1" || kc.Kind != "Config" || len(kc.Clusters) != 1 || len(kc.Users) != 1 || len(kc.Contexts) != 1 {
		t.Fatalf("shape: %+v", kc)
	}
	c, u, x := kc.Clusters[0], kc.Users[0], kc.Contexts[0]
	if c.Cluster.Server != "https://collector.example:8443/audit/prod" || !bytes.Equal(c.Cluster.CertificateAuthorityData, caPEM) || c.Cluster.CertificateAuthority != "" {
		t.Errorf("cluster: %+v", c)
	}
	if u.User.Token != "tok-123" || u.User.ClientCertificate != "/etc/k/client.crt" || u.User.ClientKey != "/etc/k/client.key" {
		t.Errorf("user: %+v", u)
	}
	if x.Context.Cluster != c.Name || x.Context.User != u.Name || kc.CurrentContext != x.Name {
		t.Errorf("context: %+v current %q", x, kc.CurrentContext)
	}
	// The raw YAML uses the kubeconfig field names.
	var generic map[string]any
	if err := yaml.Unmarshal(out, &generic); err != nil {
		t.Fatal(err)
	}
	cl := generic["clusters"].([]any)[0].(map[string]any)["cluster"].(map[string]any)
	if _, ok := cl["certificate-authority-data"].(string); !ok || generic["current-context"] == nil {
		t.Errorf("field names: %s", out)
	}

	// A CA file instead of data; no credentials.
	out, err = Kubeconfig("https://127.0.0.1:8443/audit", "/srv/ca.crt", nil, "", "", "")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), "certificate-authority: /srv/ca.crt") || strings.Contains(string(out), "token") {
		t.Errorf("CA file kubeconfig:\n%s", out)
	}
	// Plain HTTP on loopback without credentials.
	if _, err := Kubeconfig("http://127.0.0.1:18080/audit", "", nil, "", "", ""); err != nil {
		t.Error(err)
	}
	for name, f := range map[string]func() error{
		"token over http":   func() error { _, err := Kubeconfig("http://127.0.0.1:1/audit", "", nil, "t", "", ""); return err },
		"not a URL":         func() error { _, err := Kubeconfig("collector:8443", "", nil, "", "", ""); return err },
		"both CAs":          func() error { _, err := Kubeconfig("https://h:1/", "ca", caPEM, "", "", ""); return err },
		"cert without key":  func() error { _, err := Kubeconfig("https://h:1/", "", nil, "", "c", ""); return err },
		"CA data not a PEM": func() error { _, err := Kubeconfig("https://h:1/", "", []byte("junk"), "", "", ""); return err },
	} {
		if err := f(); err == nil || !strings.HasPrefix(err.Error(), "webhook: kubeconfig: ") {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestClusterDirsSkipsOthers(t *testing.T) {
	h := start(t, Config{Addr: "127.0.0.1:0", Dir: t.TempDir(), SelfSigned: true})
	h.post("/audit/a", eventList(ev("1", "Panic")))
	dirs, err := ClusterDirs(h.dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(dirs) != 1 || dirs[0].Cluster != "a" {
		t.Errorf("ClusterDirs = %v (the tls directory must not be listed)", dirs)
	}
	if _, err := ClusterDirs(h.dir + "/missing"); err == nil || !strings.HasPrefix(err.Error(), "webhook: ") {
		t.Errorf("missing dir: %v", err)
	}
}
