package e2e

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Environment variables:
//
//	KTRAIL_E2E=1                run the test (it is skipped otherwise)
//	KTRAIL_E2E_KUBE_BIN=DIR     use etcd, kube-apiserver and kubectl from DIR instead of kube/build.sh
//	KTRAIL_E2E_KTRAIL=FILE      use this ktrail binary instead of building ../cmd/ktrail
//	KTRAIL_E2E_RECORD=DIR       copy the API server's audit.log (and the policy) to DIR
//	KTRAIL_E2E_KEEP=1           keep the work directory even when the test passes
//	KTRAIL_E2E_WEBHOOK=builtin  receive the webhook with a minimal receiver in this file
//	                            instead of `ktrail serve` (checks the harness alone)
const runHint = "end-to-end test against a real etcd + kube-apiserver v1.37.2 + kubectl: run it with " +
	"`cd e2e && KTRAIL_E2E=1 go test -v ./...` (the first run builds the three binaries: about 6 min, " +
	"see README.md)"

const (
	cluster     = "e2e"
	adminToken  = "admin-token"
	aliceToken  = "alice-token"
	namespace   = "team-a"
	secretValue = "hunter2"
	rotateSize  = "64KiB" // ktrail serve --max-file-size
)

// policy is the audit policy of the reference setup: no RequestReceived
// stage; secrets, pods and RBAC objects in full; other writes with their
// request; everything else at Metadata; the API server's own reads and the
// health endpoints not at all.
const policy = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived"]
rules:
- level: None
  users: ["system:apiserver"]
  verbs: ["get", "list", "watch"]
- level: None
  nonResourceURLs: ["/healthz*", "/readyz*", "/livez*", "/version", "/openapi*"]
- level: RequestResponse
  resources: [{group: "", resources: ["secrets", "pods"]}, {group: "rbac.authorization.k8s.io"}]
- level: Request
  verbs: ["create", "update", "patch", "delete", "deletecollection"]
- level: Metadata
`

func TestRealKubeAPIServer(t *testing.T) {
	if os.Getenv("KTRAIL_E2E") != "1" {
		t.Skip(runHint)
	}
	builtin := os.Getenv("KTRAIL_E2E_WEBHOOK") == "builtin"
	t0 := time.Now()
	step := func(format string, a ...any) {
		t.Logf("%6.2fs "+format, append([]any{time.Since(t0).Seconds()}, a...)...)
	}

	kube := kubeBinaries(t)
	step("kube binaries: %s", kube)
	w := workDir(t)
	step("work directory: %s", w)
	ktrail := buildKtrail(t, w)
	step("built %s", ktrail)

	ports := freePorts(t, 4)
	etcdClient, etcdPeer, kasPort, hookPort := ports[0], ports[1], ports[2], ports[3]
	h := &harness{t: t, w: w}
	t.Cleanup(h.cleanup)

	// The webhook receiver: ktrail serve with a self-signed certificate and a token.
	spool := filepath.Join(w, "spool")
	hookURL := fmt.Sprintf("https://127.0.0.1:%d/audit/%s", hookPort, cluster)
	var serve *proc
	if builtin {
		hookURL = fmt.Sprintf("http://127.0.0.1:%d/audit/%s", hookPort, cluster)
		stopSink := builtinSink(t, hookPort, spool)
		defer stopSink()
		writeFile(t, filepath.Join(w, "webhook.kubeconfig"), fmt.Sprintf(`apiVersion: v1
kind: Config
clusters: [{name: sink, cluster: {server: %q}}]
contexts: [{name: sink, context: {cluster: sink, user: sink}}]
current-context: sink
users: [{name: sink, user: {}}]
`, hookURL))
		step("builtin webhook receiver on %s (KTRAIL_E2E_WEBHOOK=builtin)", hookURL)
	} else {
		tokenFile := filepath.Join(w, "webhook-token")
		writeFile(t, tokenFile, randomHex(t, 16)+"\n")
		// --max-file-size: rotate (and gzip) several times during the run (the
		// log is about 500 KB), so the comparison also covers rotated files.
		serve = h.start("ktrail", ktrail, "serve", "--dir", spool,
			"--listen", fmt.Sprintf("127.0.0.1:%d", hookPort), "--tls-self-signed", "--token-file", tokenFile,
			"--max-file-size", rotateSize)
		caFile := filepath.Join(spool, "tls", "ca.crt")
		var hookClient *http.Client
		h.waitFor("ktrail serve /healthz", serve, 30*time.Second, func() error {
			if hookClient == nil {
				c, err := clientWithCA(caFile)
				if err != nil {
					return err
				}
				hookClient = c
			}
			return get200(hookClient, fmt.Sprintf("https://127.0.0.1:%d/healthz", hookPort), "")
		})
		step("ktrail serve healthy on 127.0.0.1:%d (CA %s)", hookPort, caFile)
		checkWebhookAuth(t, hookClient, hookURL)
		out := h.run(ktrail, "webhook-config", "--url", hookURL, "--ca", caFile, "--token-file", tokenFile)
		writeFile(t, filepath.Join(w, "webhook.kubeconfig"), out)
		step("ktrail webhook-config wrote webhook.kubeconfig")
	}

	// etcd, then the API server with both audit backends.
	etcd := h.start("etcd", filepath.Join(kube, "etcd"), "--name", "e2e", "--data-dir", filepath.Join(w, "etcd-data"),
		"--listen-client-urls", fmt.Sprintf("http://127.0.0.1:%d", etcdClient),
		"--advertise-client-urls", fmt.Sprintf("http://127.0.0.1:%d", etcdClient),
		"--listen-peer-urls", fmt.Sprintf("http://127.0.0.1:%d", etcdPeer),
		"--initial-advertise-peer-urls", fmt.Sprintf("http://127.0.0.1:%d", etcdPeer),
		"--initial-cluster", fmt.Sprintf("e2e=http://127.0.0.1:%d", etcdPeer),
		"--listen-metrics-urls=", "--log-level=warn")
	h.waitFor("etcd /health", etcd, 30*time.Second, func() error {
		return get200(http.DefaultClient, fmt.Sprintf("http://127.0.0.1:%d/health", etcdClient), "")
	})
	step("etcd healthy on 127.0.0.1:%d", etcdClient)

	writeSAKeys(t, w)
	writeFile(t, filepath.Join(w, "tokens.csv"),
		adminToken+`,admin,1000,"system:masters"`+"\n"+aliceToken+`,alice,1001,"dev-team"`+"\n")
	writeFile(t, filepath.Join(w, "policy.yaml"), policy)
	auditLog := filepath.Join(w, "audit.log")
	kas := h.start("apiserver", filepath.Join(kube, "kube-apiserver"),
		fmt.Sprintf("--etcd-servers=http://127.0.0.1:%d", etcdClient),
		"--bind-address=127.0.0.1", "--advertise-address=127.0.0.1",
		fmt.Sprintf("--secure-port=%d", kasPort), "--cert-dir="+filepath.Join(w, "certs"),
		"--token-auth-file="+filepath.Join(w, "tokens.csv"), "--authorization-mode=RBAC",
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file="+filepath.Join(w, "sa.pub"),
		"--service-account-signing-key-file="+filepath.Join(w, "sa.key"),
		"--service-cluster-ip-range=10.96.0.0/24", "--endpoint-reconciler-type=none",
		"--audit-policy-file="+filepath.Join(w, "policy.yaml"), "--audit-log-path="+auditLog,
		"--audit-webhook-config-file="+filepath.Join(w, "webhook.kubeconfig"),
		"--audit-webhook-batch-max-wait=1s", "--audit-webhook-initial-backoff=1s")
	kasURL := fmt.Sprintf("https://127.0.0.1:%d", kasPort)
	kasCA := filepath.Join(w, "certs", "apiserver.crt")
	var kasClient *http.Client
	h.waitFor("kube-apiserver /readyz", kas, 90*time.Second, func() error {
		if kasClient == nil {
			c, err := clientWithCA(kasCA)
			if err != nil {
				return err
			}
			kasClient = c
		}
		return get200(kasClient, kasURL+"/readyz", adminToken)
	})
	step("kube-apiserver ready on %s", kasURL)

	// The scenario, with the real kubectl.
	writeKubeconfig(t, w, kasURL, kasCA, map[string]string{"admin": adminToken, "alice": aliceToken})
	k := &kubectl{h: h, bin: filepath.Join(kube, "kubectl"), w: w}
	k.ok("create", "namespace", namespace)
	k.ok("-n", namespace, "create", "serviceaccount", "default") // no controller-manager: pods need it
	k.ok("-n", namespace, "create", "secret", "generic", "db-creds", "--from-literal=password="+secretValue)
	k.ok("-n", namespace, "get", "secrets")
	k.ok("-n", namespace, "get", "secret", "db-creds", "-o", "name")
	k.fails("Forbidden", "--context", "alice", "-n", namespace, "get", "secrets")
	if code := rawGet(t, kasClient, kasURL+"/api/v1/namespaces/"+namespace+"/secrets", ""); code != 403 {
		t.Errorf("anonymous GET secrets: HTTP %d, want 403", code)
	}
	if code := rawGet(t, kasClient, kasURL+"/api/v1/namespaces", "not-a-token"); code != 401 {
		t.Errorf("bad token GET namespaces: HTTP %d, want 401", code)
	}
	k.ok("-n", namespace, "create", "role", "pod-reader", "--verb=get,list,watch", "--resource=pods")
	k.ok("-n", namespace, "create", "rolebinding", "alice-pod-reader", "--role=pod-reader", "--user=alice")
	k.ok("create", "clusterrolebinding", "e2e-auditors", "--clusterrole=system:public-info-viewer", "--group=dev-team")
	k.ok("-n", namespace, "run", "web", "--image=nginx:1.27", "--restart=Never")
	k.eventually("--context", "alice", "-n", namespace, "get", "pods") // the RBAC cache may lag the rolebinding
	k.fails("", "-n", namespace, "exec", "web", "--", "true")          // no kubelet: 400, still audited
	k.ok("--as=alice", "--as-group=dev-team", "-n", namespace, "get", "pods")
	k.fails("Forbidden", "--as=alice", "-n", namespace, "get", "secret", "db-creds")
	k.ok("-n", namespace, "delete", "secret", "db-creds")
	step("scenario done")

	// Stop: the API server first (it flushes its last webhook batch), then etcd, then ktrail serve.
	if err := kas.stop(60 * time.Second); err != nil {
		t.Logf("kube-apiserver: %v", err)
	}
	step("kube-apiserver stopped")
	if err := etcd.stop(30 * time.Second); err != nil {
		t.Logf("etcd exit status: %v", err) // etcd exits by the signal itself
	}
	step("etcd stopped")
	if serve != nil {
		if err := serve.stop(30 * time.Second); err != nil {
			t.Errorf("ktrail serve did not exit cleanly on SIGTERM: %v", err)
		}
		step("ktrail serve stopped")
	}

	if dir := os.Getenv("KTRAIL_E2E_RECORD"); dir != "" {
		record(t, dir, w)
	}

	// The spool holds exactly the events of the log.
	logEvents := readLog(t, auditLog)
	spoolEvents, files := readSpool(t, filepath.Join(spool, cluster))
	step("audit.log: %d events; spool: %d events in %s", len(logEvents), len(spoolEvents), strings.Join(files, ", "))
	if !builtin && !slices.ContainsFunc(files, func(f string) bool { return strings.Contains(f, "/audit-") }) {
		t.Errorf("no rotated file in the spool despite --max-file-size %s: the rotated-file path is not exercised", rotateSize)
	}
	compareEvents(t, logEvents, spoolEvents)
	checkScenario(t, logEvents)

	// ktrail query answers the same on the log and on the spool.
	compareQueries(t, h, ktrail, auditLog, spool, logEvents)
	step("checks done")
}

// ---------------------------------------------------------------------------
// Binaries and the work directory.

// kubeBinaries returns the directory with etcd, kube-apiserver and kubectl:
// KTRAIL_E2E_KUBE_BIN, or what kube/build.sh built (or found in its cache).
func kubeBinaries(t *testing.T) string {
	t.Helper()
	if dir := os.Getenv("KTRAIL_E2E_KUBE_BIN"); dir != "" {
		return dir
	}
	cache := os.Getenv("KTRAIL_E2E_KUBE_CACHE") // the same default as kube/build.sh
	if cache == "" {
		if base, err := os.UserCacheDir(); err == nil {
			cache = filepath.Join(base, "ktrail", "k8s-v1.37.2-etcd-v3.7.0")
		}
	}
	if _, err := os.Stat(filepath.Join(cache, "kube-apiserver")); err != nil {
		if dl, ok := t.Deadline(); ok && time.Until(dl) < 20*time.Minute {
			t.Logf("note: no cached kube binaries: kube/build.sh will build them (6-12 min on 2 cores); "+
				"if the -timeout (%v left) is too short, run kube/build.sh first or pass -timeout 30m", time.Until(dl).Round(time.Second))
		}
	}
	cmd := exec.Command("bash", "kube/build.sh")
	cmd.Stderr = os.Stderr // progress, live
	start := time.Now()
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("kube/build.sh: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	dir := lines[len(lines)-1]
	t.Logf("kube/build.sh took %.1fs", time.Since(start).Seconds())
	return dir
}

// workDir is a fresh directory that is kept when the test fails (or with
// KTRAIL_E2E_KEEP=1), so its logs and events can be inspected.
func workDir(t *testing.T) string {
	t.Helper()
	w, err := os.MkdirTemp("", "ktrail-e2e-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() || os.Getenv("KTRAIL_E2E_KEEP") == "1" {
			t.Logf("work directory kept: %s", w)
			return
		}
		os.RemoveAll(w)
	})
	return w
}

// buildKtrail builds ./cmd/ktrail of the repository this module sits in.
func buildKtrail(t *testing.T, w string) string {
	t.Helper()
	if bin := os.Getenv("KTRAIL_E2E_KTRAIL"); bin != "" {
		return bin
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(root, "go.mod")); err != nil || !bytes.HasPrefix(b, []byte("module ktrail\n")) {
		t.Fatalf("%s is not the ktrail repository (go.mod: %v)", root, err)
	}
	bin := filepath.Join(w, "ktrail")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/ktrail")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/ktrail in %s: %v\n%s", root, err, out)
	}
	return bin
}

// freePorts picks n distinct free loopback ports (held open together so
// they differ, then released for the servers to take).
func freePorts(t *testing.T, n int) []int {
	t.Helper()
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func randomHex(t *testing.T, n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// writeSAKeys writes the service-account signing key pair (sa.key, sa.pub).
func writeSAKeys(t *testing.T, w string) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(w, "sa.key"), string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})))
	writeFile(t, filepath.Join(w, "sa.pub"), string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub})))
}

// writeKubeconfig writes the kubeconfig of kubectl: one context per user
// (name → bearer token), admin the default.
func writeKubeconfig(t *testing.T, w, server, ca string, tokens map[string]string) {
	t.Helper()
	names := make([]string, 0, len(tokens))
	for n := range tokens {
		names = append(names, n)
	}
	sort.Strings(names)
	var users, contexts strings.Builder
	for _, n := range names {
		fmt.Fprintf(&users, "- {name: %s, user: {token: %q}}\n", n, tokens[n])
		fmt.Fprintf(&contexts, "- {name: %s, context: {cluster: e2e, user: %s}}\n", n, n)
	}
	writeFile(t, filepath.Join(w, "kubeconfig"), fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: e2e
  cluster: {server: %q, certificate-authority: %q}
users:
%scontexts:
%scurrent-context: admin
`, server, ca, users.String(), contexts.String()))
}

func record(t *testing.T, dir, w string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"audit.log", "policy.yaml"} {
		b, err := os.ReadFile(filepath.Join(w, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("recorded audit.log and policy.yaml in %s (KTRAIL_E2E_RECORD)", dir)
}

// ---------------------------------------------------------------------------
// Processes.

type harness struct {
	t     *testing.T
	w     string
	procs []*proc
}

// proc is a started child process in its own process group.
type proc struct {
	name string
	cmd  *exec.Cmd
	log  string
	done chan struct{}
	err  error // valid once done is closed
}

// start runs bin with its output in W/NAME.log.
func (h *harness) start(name, bin string, args ...string) *proc {
	h.t.Helper()
	logPath := filepath.Join(h.w, name+".log")
	f, err := os.Create(logPath)
	if err != nil {
		h.t.Fatal(err)
	}
	defer f.Close()
	cmd := exec.Command(bin, args...)
	cmd.Dir = h.w
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		h.t.Fatalf("start %s: %v", name, err)
	}
	p := &proc{name: name, cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() { p.err = cmd.Wait(); close(p.done) }()
	h.procs = append(h.procs, p)
	return p
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM and waits up to timeout, then kills the process group.
// It returns the exit error (nil for a clean exit).
func (p *proc) stop(timeout time.Duration) error {
	if p.exited() {
		return fmt.Errorf("had already exited: %v", p.err)
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return p.err
	case <-time.After(timeout):
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
		return fmt.Errorf("no exit %v after SIGTERM: killed", timeout)
	}
}

// cleanup kills what is still running (newest first) and, when the test
// failed, prints the tail of every process log.
func (h *harness) cleanup() {
	for _, p := range slices.Backward(h.procs) {
		if !p.exited() {
			_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
			<-p.done
		}
	}
	if h.t.Failed() {
		for _, p := range h.procs {
			h.t.Logf("---- tail of %s ----\n%s", p.log, tail(p.log, 40))
		}
	}
}

func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// waitFor polls check until it succeeds, the process exits, or timeout.
func (h *harness) waitFor(what string, p *proc, timeout time.Duration, check func() error) {
	h.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := check()
		if err == nil {
			return
		}
		if p.exited() {
			h.t.Fatalf("%s: %s exited: %v (last check: %v)", what, p.name, p.err, err)
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("%s: not ready after %v: %v", what, timeout, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// run runs a short command and returns its stdout; it fails the test on error.
func (h *harness) run(bin string, args ...string) string {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = h.w
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		h.t.Fatalf("%s %s: %v\nstdout: %s\nstderr: %s", filepath.Base(bin), strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String()
}

// kubectl runs the built kubectl with the work directory's kubeconfig.
type kubectl struct {
	h   *harness
	bin string
	w   string
}

func (k *kubectl) exec(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, k.bin, append([]string{"--request-timeout=30s"}, args...)...)
	cmd.Dir = k.w
	cmd.Env = append(os.Environ(), "KUBECONFIG="+filepath.Join(k.w, "kubeconfig"), "HOME="+filepath.Join(k.w, "home"))
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func (k *kubectl) ok(args ...string) {
	k.h.t.Helper()
	out, err := k.exec(args...)
	if err != nil {
		k.h.t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	k.h.t.Logf("kubectl %s\n%s", strings.Join(args, " "), strings.TrimRight(out, "\n"))
}

// eventually retries kubectl for up to 10 s until it succeeds.
func (k *kubectl) eventually(args ...string) {
	k.h.t.Helper()
	for i := 0; ; i++ {
		out, err := k.exec(args...)
		if err == nil {
			k.h.t.Logf("kubectl %s (attempt %d)\n%s", strings.Join(args, " "), i+1, strings.TrimRight(out, "\n"))
			return
		}
		if i == 20 {
			k.h.t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// fails runs kubectl expecting an error whose output contains want.
func (k *kubectl) fails(want string, args ...string) {
	k.h.t.Helper()
	out, err := k.exec(args...)
	if err == nil {
		k.h.t.Fatalf("kubectl %s: succeeded, want an error\n%s", strings.Join(args, " "), out)
	}
	if !strings.Contains(out, want) {
		k.h.t.Fatalf("kubectl %s: %v, output without %q:\n%s", strings.Join(args, " "), err, want, out)
	}
	k.h.t.Logf("kubectl %s (fails as expected)\n%s", strings.Join(args, " "), strings.TrimRight(out, "\n"))
}

// ---------------------------------------------------------------------------
// HTTP.

func clientWithCA(caFile string) (*http.Client, error) {
	pemBytes, err := os.ReadFile(caFile)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pemBytes) {
		return nil, fmt.Errorf("%s: no certificate (yet)", caFile)
	}
	return &http.Client{
		Timeout:   10 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}},
	}, nil
}

func get200(c *http.Client, url, token string) error {
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		return err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode != 200 {
		return fmt.Errorf("GET %s: HTTP %d: %s", url, resp.StatusCode, bytes.TrimSpace(body))
	}
	return nil
}

// rawGet is a curl-like request to the API server (no kubectl): no token
// means anonymous.
func rawGet(t *testing.T, c *http.Client, url, token string) int {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("User-Agent", "ktrail-e2e/raw-http")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	t.Logf("raw GET %s (token %q) -> HTTP %d", url, token, resp.StatusCode)
	return resp.StatusCode
}

// checkWebhookAuth checks that ktrail serve refuses a batch without the
// token or with a wrong one (the batch is empty, so nothing is written even
// if it were accepted).
func checkWebhookAuth(t *testing.T, c *http.Client, url string) {
	t.Helper()
	for _, token := range []string{"", "wrong-token"} {
		req, err := http.NewRequest("POST", url, strings.NewReader(`{"kind":"EventList","apiVersion":"audit.k8s.io/v1","metadata":{},"items":[]}`))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatalf("POST %s: %v", url, err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 401 && resp.StatusCode != 403 {
			t.Errorf("ktrail serve: a batch with token %q got HTTP %d, want 401 or 403", token, resp.StatusCode)
		}
	}
}

// builtinSink is a minimal webhook receiver (plain HTTP, no auth) that
// writes a spool like ktrail serve's: DIR/.ktrail-spool and
// DIR/<cluster>/current.jsonl with one item per line. It exists to check
// the harness without ktrail serve (KTRAIL_E2E_WEBHOOK=builtin).
func builtinSink(t *testing.T, port int, dir string) (stop func()) {
	t.Helper()
	if err := os.MkdirAll(filepath.Join(dir, cluster), 0o700); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, ".ktrail-spool"), "")
	f, err := os.OpenFile(filepath.Join(dir, cluster, "current.jsonl"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	mux := http.NewServeMux()
	mux.HandleFunc("POST /audit/{cluster}", func(rw http.ResponseWriter, r *http.Request) {
		var list struct {
			Items []json.RawMessage `json:"items"`
		}
		if r.PathValue("cluster") != cluster || json.NewDecoder(r.Body).Decode(&list) != nil {
			http.Error(rw, "bad batch", 400)
			return
		}
		mu.Lock()
		defer mu.Unlock()
		for _, it := range list.Items {
			var b bytes.Buffer
			if err := json.Compact(&b, it); err != nil {
				http.Error(rw, err.Error(), 400)
				return
			}
			b.WriteByte('\n')
			if _, err := f.Write(b.Bytes()); err != nil {
				http.Error(rw, err.Error(), 500)
				return
			}
		}
	})
	srv := &http.Server{Addr: fmt.Sprintf("127.0.0.1:%d", port), Handler: mux}
	l, err := net.Listen("tcp", srv.Addr)
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l)
	return func() {
		srv.Close()
		f.Close()
	}
}

// ---------------------------------------------------------------------------
// Events.

// event is one audit event: its decoded JSON (without kind/apiVersion) and
// where it came from.
type event struct {
	m     map[string]any
	where string // file:line
}

func (e event) key() string { return str(e.m, "auditID") + "/" + str(e.m, "stage") }

func decodeLines(t *testing.T, r io.Reader, name string) []event {
	t.Helper()
	var out []event
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal(line, &m); err != nil {
			t.Errorf("%s:%d: not a JSON object: %v", name, n, err)
			continue
		}
		if _, ok := m["auditID"].(string); !ok {
			t.Errorf("%s:%d: no auditID: %.200s", name, n, line)
		}
		delete(m, "kind")
		delete(m, "apiVersion")
		out = append(out, event{m: m, where: fmt.Sprintf("%s:%d", name, n)})
	}
	if err := sc.Err(); err != nil {
		t.Errorf("%s: %v", name, err)
	}
	return out
}

func readLog(t *testing.T, path string) []event {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return decodeLines(t, f, filepath.Base(path))
}

// readSpool reads every *.jsonl and *.jsonl.gz file under dir.
func readSpool(t *testing.T, dir string) ([]event, []string) {
	t.Helper()
	var evs []event
	var names []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		name := filepath.Join(cluster, rel)
		var r io.Reader
		switch {
		case strings.HasSuffix(path, ".jsonl"):
			f, err := os.Open(path)
			if err != nil {
				return err
			}
			defer f.Close()
			r = f
		case strings.HasSuffix(path, ".jsonl.gz"):
			f, err := os.Open(path)
			if err != nil {
				return err
			}
			defer f.Close()
			zr, err := gzip.NewReader(f)
			if err != nil {
				return fmt.Errorf("%s: %v", name, err)
			}
			r = zr
		case strings.HasPrefix(d.Name(), "."): // the spool's own bookkeeping (.current.created)
			return nil
		default:
			t.Logf("spool: %s is neither .jsonl nor .jsonl.gz: not read", name)
			return nil
		}
		names = append(names, name)
		evs = append(evs, decodeLines(t, r, name)...)
		return nil
	})
	if err != nil {
		t.Fatalf("reading the spool %s: %v", dir, err)
	}
	if len(names) == 0 {
		t.Fatalf("no .jsonl or .jsonl.gz file under %s", dir)
	}
	return evs, names
}

// compareEvents checks that the spool holds the same multiset of
// (auditID, stage) as the log, each with the same JSON content.
func compareEvents(t *testing.T, logEvs, spoolEvs []event) {
	t.Helper()
	byKey := func(evs []event) map[string][]event {
		m := map[string][]event{}
		for _, e := range evs {
			m[e.key()] = append(m[e.key()], e)
		}
		return m
	}
	lm, sm := byKey(logEvs), byKey(spoolEvs)
	var missing, extra, dup, differ []string
	for k, les := range lm {
		if len(les) > 1 {
			t.Errorf("audit.log holds %s %d times (%s, %s)", k, len(les), les[0].where, les[1].where)
		}
		ses := sm[k]
		switch {
		case len(ses) == 0:
			missing = append(missing, fmt.Sprintf("%s (%s %s)", k, les[0].where, summary(les[0].m)))
		case len(ses) > len(les):
			dup = append(dup, fmt.Sprintf("%s ×%d (%s, %s)", k, len(ses), ses[0].where, ses[1].where))
		}
		for _, se := range ses {
			if !reflect.DeepEqual(les[0].m, se.m) {
				differ = append(differ, fmt.Sprintf("%s: %s vs %s: %s", k, les[0].where, se.where, diffKeys(les[0].m, se.m)))
			}
		}
	}
	for k, ses := range sm {
		if len(lm[k]) == 0 {
			extra = append(extra, fmt.Sprintf("%s (%s %s)", k, ses[0].where, summary(ses[0].m)))
		}
	}
	report := func(what string, list []string) {
		if len(list) == 0 {
			return
		}
		slices.Sort(list)
		if len(list) > 20 {
			list = append(list[:20], fmt.Sprintf("… %d more", len(list)-20))
		}
		t.Errorf("%s %d:\n  %s", what, len(list), strings.Join(list, "\n  "))
	}
	report("events of audit.log missing from the spool:", missing)
	report("events in the spool that audit.log does not have:", extra)
	report("events duplicated in the spool:", dup)
	report("events whose JSON differs between audit.log and the spool:", differ)
	if len(logEvs) != len(spoolEvs) {
		t.Errorf("audit.log has %d events, the spool %d", len(logEvs), len(spoolEvs))
	}
	if !t.Failed() {
		t.Logf("spool == audit.log: %d events, %d distinct (auditID, stage), same JSON", len(logEvs), len(lm))
	}
}

func summary(m map[string]any) string {
	return fmt.Sprintf("%s %s %s %v", str(m, "user", "username"), str(m, "verb"), str(m, "requestURI"), num(m, "responseStatus", "code"))
}

// diffKeys names the top-level fields that differ.
func diffKeys(a, b map[string]any) string {
	var keys []string
	for k := range a {
		if !reflect.DeepEqual(a[k], b[k]) {
			keys = append(keys, k)
		}
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return "fields " + strings.Join(keys, ", ")
}

// str returns the string at a path of object keys, or "".
func str(m map[string]any, path ...string) string {
	s, _ := at(m, path...).(string)
	return s
}

// num returns the number at a path, or 0.
func num(m map[string]any, path ...string) float64 {
	f, _ := at(m, path...).(float64)
	return f
}

func at(m map[string]any, path ...string) any {
	var v any = m
	for _, p := range path {
		o, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = o[p]
	}
	return v
}

// checkScenario checks that the events the scenario must produce are there.
func checkScenario(t *testing.T, evs []event) {
	t.Helper()
	user := func(e map[string]any) string { return str(e, "user", "username") }
	code := func(e map[string]any) float64 { return num(e, "responseStatus", "code") }
	res := func(e map[string]any) string { return str(e, "objectRef", "resource") }
	checks := []struct {
		what string
		ok   func(e map[string]any) bool
	}{
		{"admin creates the secret, with its requestObject", func(e map[string]any) bool {
			return user(e) == "admin" && str(e, "verb") == "create" && res(e) == "secrets" && code(e) == 201 &&
				str(e, "requestObject", "kind") == "Secret" && str(e, "requestObject", "metadata", "name") == "db-creds"
		}},
		{"admin gets the secret", func(e map[string]any) bool {
			return user(e) == "admin" && str(e, "verb") == "get" && res(e) == "secrets" && code(e) == 200
		}},
		{"alice is forbidden to list secrets (403, decision forbid)", func(e map[string]any) bool {
			return user(e) == "alice" && str(e, "verb") == "list" && res(e) == "secrets" && code(e) == 403 &&
				str(e, "annotations", "authorization.k8s.io/decision") == "forbid"
		}},
		{"anonymous request forbidden (403, system:anonymous)", func(e map[string]any) bool {
			return user(e) == "system:anonymous" && code(e) == 403 && str(e, "userAgent") == "ktrail-e2e/raw-http"
		}},
		{"bad token: 401 with an empty user at ResponseStarted", func(e map[string]any) bool {
			return user(e) == "" && code(e) == 401 && str(e, "stage") == "ResponseStarted"
		}},
		{"role, rolebinding and clusterrolebinding created", nil},
		{"admin creates pod web (201)", func(e map[string]any) bool {
			return user(e) == "admin" && str(e, "verb") == "create" && res(e) == "pods" && str(e, "objectRef", "subresource") == "" &&
				code(e) == 201 && str(e, "requestObject", "kind") == "Pod"
		}},
		{"exec attempt on pod web (pods/exec, 400: no kubelet)", func(e map[string]any) bool {
			return user(e) == "admin" && res(e) == "pods" && str(e, "objectRef", "subresource") == "exec" &&
				str(e, "objectRef", "name") == "web" && code(e) == 400
		}},
		{"admin impersonates alice (--as, --as-group): allowed", func(e map[string]any) bool {
			g, _ := at(e, "impersonatedUser", "groups").([]any)
			return user(e) == "admin" && str(e, "impersonatedUser", "username") == "alice" && slices.Contains(g, any("dev-team")) &&
				res(e) == "pods" && code(e) == 200
		}},
		{"admin impersonates alice: forbidden secret get", func(e map[string]any) bool {
			return user(e) == "admin" && str(e, "impersonatedUser", "username") == "alice" && res(e) == "secrets" && code(e) == 403 &&
				str(e, "annotations", "authorization.k8s.io/decision") == "forbid"
		}},
		{"alice lists pods through the rolebinding (200)", func(e map[string]any) bool {
			return user(e) == "alice" && str(e, "verb") == "list" && res(e) == "pods" && code(e) == 200 && at(e, "impersonatedUser") == nil
		}},
		{"admin deletes the secret", func(e map[string]any) bool {
			return user(e) == "admin" && str(e, "verb") == "delete" && res(e) == "secrets" && code(e) == 200
		}},
	}
	for _, c := range checks {
		found := false
		if c.ok == nil { // the three RBAC objects
			seen := map[string]bool{}
			for _, e := range evs {
				if user(e.m) == "admin" && str(e.m, "verb") == "create" && code(e.m) == 201 && str(e.m, "objectRef", "apiGroup") == "rbac.authorization.k8s.io" {
					seen[res(e.m)] = true
				}
			}
			found = seen["roles"] && seen["rolebindings"] && seen["clusterrolebindings"]
		} else {
			for _, e := range evs {
				if c.ok(e.m) {
					found = true
					break
				}
			}
		}
		if !found {
			t.Errorf("scenario: no event for %q in audit.log", c.what)
		}
	}
}

// ---------------------------------------------------------------------------
// ktrail query.

// queryCase is an expression for `ktrail query --count -e`, with the same
// predicate in Go (nil when there is none to compare with).
type queryCase struct {
	expr   string
	oracle func(e map[string]any) bool
}

func compareQueries(t *testing.T, h *harness, ktrail, auditLog, spool string, logEvs []event) {
	t.Helper()
	res := func(e map[string]any) string { return str(e, "objectRef", "resource") }
	code := func(e map[string]any) float64 { return num(e, "responseStatus", "code") }
	cases := []queryCase{
		{`true`, func(e map[string]any) bool { return true }},
		{`verb == "create" && resource == "secrets"`, func(e map[string]any) bool { return str(e, "verb") == "create" && res(e) == "secrets" }},
		{`code == 403`, func(e map[string]any) bool { return code(e) == 403 }},
		{`code == 401`, func(e map[string]any) bool { return code(e) == 401 }},
		{`user == "system:anonymous"`, func(e map[string]any) bool { return str(e, "user", "username") == "system:anonymous" }},
		{`user == ""`, func(e map[string]any) bool { return str(e, "user", "username") == "" }},
		{`impersonatedUser == "alice"`, func(e map[string]any) bool { return str(e, "impersonatedUser", "username") == "alice" }},
		{`effectiveUser == "alice"`, func(e map[string]any) bool {
			u := str(e, "impersonatedUser", "username")
			if u == "" {
				u = str(e, "user", "username")
			}
			return u == "alice"
		}},
		{`subresource == "exec"`, func(e map[string]any) bool { return str(e, "objectRef", "subresource") == "exec" }},
		{`resource in ["roles","rolebindings","clusterrolebindings"]`, func(e map[string]any) bool {
			return slices.Contains([]string{"roles", "rolebindings", "clusterrolebindings"}, res(e))
		}},
		{`decision == "forbid"`, func(e map[string]any) bool {
			return str(e, "annotations", "authorization.k8s.io/decision") == "forbid"
		}},
		{`requestObject.kind == "Secret"`, func(e map[string]any) bool { return str(e, "requestObject", "kind") == "Secret" }},
		{`namespace == "team-a" && verb == "delete"`, func(e map[string]any) bool {
			return str(e, "objectRef", "namespace") == namespace && str(e, "verb") == "delete"
		}},
		{`stage == "ResponseStarted"`, func(e map[string]any) bool { return str(e, "stage") == "ResponseStarted" }},
		{`level == "RequestResponse"`, func(e map[string]any) bool { return str(e, "level") == "RequestResponse" }},
		{`user == "system:apiserver"`, func(e map[string]any) bool { return str(e, "user", "username") == "system:apiserver" }},
	}
	count := func(expr, path string) (int, error) {
		var stdout, stderr bytes.Buffer
		cmd := exec.Command(ktrail, "query", "--count", "-e", expr, path)
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		var ee *exec.ExitError
		if err != nil && !(errors.As(err, &ee) && ee.ExitCode() == 1) { // 1: nothing matched
			return 0, fmt.Errorf("%v\nstdout: %s\nstderr: %s", err, stdout.String(), stderr.String())
		}
		n, perr := strconv.Atoi(strings.TrimSpace(stdout.String()))
		if perr != nil {
			return 0, fmt.Errorf("output %q is not a count (stderr: %s)", stdout.String(), stderr.String())
		}
		if (n == 0) != (err != nil) {
			return n, fmt.Errorf("count %d with exit status %v (want 1 exactly when nothing matched)", n, err)
		}
		return n, nil
	}
	var lines []string
	for _, c := range cases {
		onLog, err := count(c.expr, auditLog)
		if err != nil {
			t.Errorf("ktrail query --count -e %q audit.log: %v", c.expr, err)
			continue
		}
		onSpool, err := count(c.expr, spool)
		if err != nil {
			t.Errorf("ktrail query --count -e %q spool/: %v", c.expr, err)
			continue
		}
		want := 0
		for _, e := range logEvs {
			if c.oracle(e.m) {
				want++
			}
		}
		lines = append(lines, fmt.Sprintf("%-60s log %4d  spool %4d  go %4d", c.expr, onLog, onSpool, want))
		if onLog != onSpool {
			t.Errorf("ktrail query --count -e %q: %d on audit.log, %d on the spool", c.expr, onLog, onSpool)
		}
		if onLog != want {
			t.Errorf("ktrail query --count -e %q: %d on audit.log, but %d events of audit.log match in Go", c.expr, onLog, want)
		}
		if want == 0 {
			t.Errorf("%q matches nothing: the scenario should produce such events", c.expr)
		}
	}
	// The spool labels its events with the cluster of the webhook path; the log has none.
	clusterExpr := fmt.Sprintf("cluster == %q", cluster)
	onSpool, err := count(clusterExpr, spool)
	if err != nil || onSpool != len(logEvs) {
		t.Errorf("ktrail query --count -e %q spool/: %d (%v), want every event (%d)", clusterExpr, onSpool, err, len(logEvs))
	}
	onLog, err := count(clusterExpr, auditLog)
	if err != nil || onLog != 0 {
		t.Errorf("ktrail query --count -e %q audit.log: %d (%v), want 0", clusterExpr, onLog, err)
	}
	lines = append(lines, fmt.Sprintf("%-60s log %4d  spool %4d  (want 0 and %d)", clusterExpr, onLog, onSpool, len(logEvs)))
	t.Logf("ktrail query --count on audit.log and on the spool (and the same predicate in Go):\n%s", strings.Join(lines, "\n"))
}
