package e2e

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestRecordDetections records the fixture of ktrail's detection rules
// (package ktrail/detect): it starts a real etcd and kube-apiserver with
// the log backend only, drives them with kubectl and raw HTTP so that every
// built-in rule has events to fire on, and copies audit.log and
// policy.yaml to $KTRAIL_E2E_RECORD_DETECTIONS. See
// ../testdata/kube-apiserver-v1.37/detections/README.md for the scenario
// step by step and the rule each step triggers.
//
//	cd e2e && KTRAIL_E2E=1 KTRAIL_E2E_RECORD_DETECTIONS=../testdata/kube-apiserver-v1.37/detections \
//	    go test -run TestRecordDetections -v ./...
func TestRecordDetections(t *testing.T) {
	dir := os.Getenv("KTRAIL_E2E_RECORD_DETECTIONS")
	if os.Getenv("KTRAIL_E2E") != "1" || dir == "" {
		t.Skip("records the detections fixture: set KTRAIL_E2E=1 and KTRAIL_E2E_RECORD_DETECTIONS=DIR (see the doc comment)")
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	step := func(format string, a ...any) {
		t.Logf("%6.2fs "+format, append([]any{time.Since(t0).Seconds()}, a...)...)
	}
	kube := kubeBinaries(t)
	w := workDir(t)
	step("kube binaries %s, work directory %s", kube, w)

	ports := freePorts(t, 3)
	etcdClient, etcdPeer, kasPort := ports[0], ports[1], ports[2]
	h := &harness{t: t, w: w}
	t.Cleanup(h.cleanup)
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
	step("etcd healthy")

	writeSAKeys(t, w)
	writeFile(t, filepath.Join(w, "tokens.csv"), adminToken+`,admin,1000,"system:masters"`+"\n"+
		aliceToken+`,alice,1001,"dev-team"`+"\n"+malloryToken+`,mallory,1002,"contractors"`+"\n")
	writeFile(t, filepath.Join(w, "policy.yaml"), detectPolicy)
	kas := h.start("apiserver", filepath.Join(kube, "kube-apiserver"),
		fmt.Sprintf("--etcd-servers=http://127.0.0.1:%d", etcdClient),
		"--bind-address=127.0.0.1", "--advertise-address=127.0.0.1",
		fmt.Sprintf("--secure-port=%d", kasPort), "--cert-dir="+filepath.Join(w, "certs"),
		"--token-auth-file="+filepath.Join(w, "tokens.csv"), "--authorization-mode=RBAC",
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file="+filepath.Join(w, "sa.pub"),
		"--service-account-signing-key-file="+filepath.Join(w, "sa.key"),
		"--service-cluster-ip-range=10.96.0.0/24", "--endpoint-reconciler-type=none",
		"--allow-privileged=true", // privileged containers are refused otherwise
		"--audit-policy-file="+filepath.Join(w, "policy.yaml"), "--audit-log-path="+filepath.Join(w, "audit.log"))
	kasURL := fmt.Sprintf("https://127.0.0.1:%d", kasPort)
	var c *http.Client
	h.waitFor("kube-apiserver /readyz", kas, 90*time.Second, func() error {
		if c == nil {
			cl, err := clientWithCA(filepath.Join(w, "certs", "apiserver.crt"))
			if err != nil {
				return err
			}
			c = cl
		}
		return get200(c, kasURL+"/readyz", adminToken)
	})
	step("kube-apiserver ready on %s", kasURL)

	writeKubeconfig(t, w, kasURL, filepath.Join(w, "certs", "apiserver.crt"),
		map[string]string{"admin": adminToken, "alice": aliceToken, "mallory": malloryToken})
	k := &kubectl{h: h, bin: filepath.Join(kube, "kubectl"), w: w}
	r := &rawClient{t: t, c: c, base: kasURL}
	runDetectionScenario(t, w, k, r)
	step("scenario done")

	if err := kas.stop(60 * time.Second); err != nil {
		t.Logf("kube-apiserver: %v", err)
	}
	if err := etcd.stop(30 * time.Second); err != nil {
		t.Logf("etcd exit status: %v", err)
	}
	step("stopped")
	recordDetections(t, w, dir)
}

const malloryToken = "mallory-token"

// Addresses the raw requests claim with X-Forwarded-For, which the API
// server puts first in sourceIPs: the "attacker" and the "scanner" are
// then told apart from the kubectl traffic (127.0.0.1) as they would be
// behind a load balancer. Both are documentation ranges (RFC 5737).
const (
	attackerIP = "203.0.113.45"
	scannerIP  = "198.51.100.7"
)

// detectPolicy logs bodies (RequestResponse) for the resources the rules
// read bodies of, other writes with their request, the rest at Metadata.
// The API server's own reads and the readiness probes of this harness are
// not logged, to keep the fixture small; /healthz and /version are.
const detectPolicy = `apiVersion: audit.k8s.io/v1
kind: Policy
rules:
- level: None
  users: ["system:apiserver"]
  verbs: ["get", "list", "watch"]
- level: None
  nonResourceURLs: ["/readyz*", "/livez*", "/openapi*"]
- level: RequestResponse
  resources:
  - group: ""
    resources: ["secrets", "pods", "pods/*", "serviceaccounts/token", "nodes/proxy"]
  - group: "rbac.authorization.k8s.io"
  - group: "certificates.k8s.io"
  - group: "admissionregistration.k8s.io"
  - group: "authorization.k8s.io"
- level: Request
  verbs: ["create", "update", "patch", "delete", "deletecollection"]
- level: Metadata
`

// rawClient sends requests to the API server without kubectl, with a
// chosen User-Agent and X-Forwarded-For.
type rawClient struct {
	t    *testing.T
	c    *http.Client
	base string
}

// do sends one request and returns the HTTP status; token "" is anonymous.
func (r *rawClient) do(method, path, token, ua, xff, body string) int {
	r.t.Helper()
	req, err := http.NewRequest(method, r.base+path, strings.NewReader(body))
	if err != nil {
		r.t.Fatal(err)
	}
	req.Header.Set("User-Agent", ua)
	if xff != "" {
		req.Header.Set("X-Forwarded-For", xff)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := r.c.Do(req)
	if err != nil {
		r.t.Fatalf("%s %s: %v", method, path, err)
	}
	resp.Body.Close()
	r.t.Logf("raw %s %s (ua %q, xff %q) -> HTTP %d", method, path, ua, xff, resp.StatusCode)
	return resp.StatusCode
}

// want sends a request and fails the test unless the status is code.
func (r *rawClient) want(code int, method, path, token, ua, xff string) {
	r.t.Helper()
	if got := r.do(method, path, token, ua, xff, ""); got != code {
		r.t.Errorf("%s %s: HTTP %d, want %d", method, path, got, code)
	}
}

// apply writes a manifest to W/NAME.yaml and applies it as admin.
func apply(t *testing.T, k *kubectl, w, name, manifest string) {
	t.Helper()
	path := filepath.Join(w, name+".yaml")
	writeFile(t, path, manifest)
	k.ok("apply", "-f", path)
}

const (
	uaCurl   = "curl/8.5.0"
	uaPython = "python-requests/2.31.0"
	uaNmap   = "Mozilla/5.0 (compatible; Nmap Scripting Engine; https://nmap.org/book/nse.html)"
	uaHunter = "kube-hunter/0.6.8"
)

// runDetectionScenario is the scenario; each step names the rules it is for.
func runDetectionScenario(t *testing.T, w string, k *kubectl, r *rawClient) {
	// Setup as admin (a human user in system:masters).
	k.ok("create", "namespace", namespace)
	k.ok("-n", namespace, "create", "serviceaccount", "default")
	k.ok("-n", "kube-system", "create", "serviceaccount", "default")
	for i := 1; i <= 6; i++ {
		k.ok("-n", namespace, "create", "secret", "generic", fmt.Sprintf("app-secret-%d", i), "--from-literal=password=not-a-real-password-"+fmt.Sprint(i))
	}
	k.ok("-n", namespace, "run", "web", "--image=nginx:1.27", "--restart=Never")

	// auth-401-burst, raw-http-client: 25 guessed tokens from one address.
	for i := range 25 {
		r.want(401, "GET", "/api/v1/namespaces/kube-system/secrets", fmt.Sprintf("guessed-token-%02d", i), uaPython, attackerIP)
	}
	// anonymous-allowed: /version and /healthz need no credentials.
	r.want(200, "GET", "/version", "", uaCurl, attackerIP)
	r.want(200, "GET", "/healthz", "", uaCurl, attackerIP)
	// scanner-user-agent: an Nmap and a kube-hunter probe (403 as anonymous, 200 for /version).
	r.want(200, "GET", "/version", "", uaNmap, scannerIP)
	r.want(403, "GET", "/.env", "", uaNmap, scannerIP)
	r.want(403, "GET", "/api/v1/pods", "", uaHunter, scannerIP)
	r.want(403, "GET", "/api/v1/namespaces/kube-system/secrets", "", uaHunter, scannerIP)

	// authz-403-burst, rules-review-recon: mallory (no RBAC) looks around.
	k.ok("--context", "mallory", "auth", "can-i", "--list")
	for _, what := range []string{"secrets", "pods", "nodes", "namespaces", "deployments", "configmaps",
		"serviceaccounts", "roles", "clusterroles", "clusterrolebindings"} {
		k.fails("Forbidden", "--context", "mallory", "get", what, "-A")
	}

	// secret-read-by-human, secret-read-many-distinct: alice reads six secrets.
	apply(t, k, w, "alice-secrets", `apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: secret-reader, namespace: team-a}
rules:
- {apiGroups: [""], resources: ["secrets"], verbs: ["get"]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: alice-secret-reader, namespace: team-a}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: secret-reader}
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: User, name: alice}
`)
	k.eventually("--context", "alice", "-n", namespace, "get", "secret", "app-secret-1", "-o", "name")
	for i := 2; i <= 6; i++ {
		k.ok("--context", "alice", "-n", namespace, "get", "secret", fmt.Sprintf("app-secret-%d", i), "-o", "name")
	}

	// pod-exec, pod-attach, pod-portforward: no kubelet, so 400, but audited.
	k.fails("", "-n", namespace, "exec", "web", "--", "id")
	r.do("POST", "/api/v1/namespaces/team-a/pods/web/attach?stdout=true&stderr=true", adminToken, uaCurl, "", "")
	r.do("POST", "/api/v1/namespaces/team-a/pods/web/portforward?ports=8080", adminToken, uaCurl, "", "")
	// ephemeral-container: kubectl debug adds one (PATCH pods/ephemeralcontainers).
	k.ok("-n", namespace, "debug", "web", "--image=busybox:1.36", "--target=web", "--container=debugger")

	// rbac-role-write, rbac-binding-write, rbac-wildcard-rule, cluster-admin-binding.
	apply(t, k, w, "rbac", `apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: wildcard-role, namespace: team-a}
rules:
- {apiGroups: ["*"], resources: ["*"], verbs: ["*"]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: pod-lister}
rules:
- {apiGroups: [""], resources: ["pods"], verbs: ["get", "list"]}
`)
	k.ok("create", "clusterrolebinding", "backdoor-admin", "--clusterrole=cluster-admin", "--user=mallory")
	k.ok("-n", namespace, "create", "rolebinding", "ns-admin", "--clusterrole=cluster-admin", "--group=contractors")
	k.ok("label", "clusterrole", "pod-lister", "team=a")
	k.ok("-n", namespace, "delete", "role", "wildcard-role")

	// anonymous-resource-access: a binding lets system:anonymous list configmaps.
	apply(t, k, w, "anon", `apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: configmap-reader, namespace: team-a}
rules:
- {apiGroups: [""], resources: ["configmaps"], verbs: ["list"]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: anonymous-configmaps, namespace: team-a}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: configmap-reader}
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: User, name: system:anonymous}
`)
	for i := 0; ; i++ { // the RBAC cache may lag the binding
		if r.do("GET", "/api/v1/namespaces/team-a/configmaps", "", uaCurl, attackerIP, "") == 200 {
			break
		}
		if i == 20 {
			t.Fatal("anonymous configmap list never allowed")
		}
		time.Sleep(500 * time.Millisecond)
	}

	// impersonation, impersonation-privileged.
	k.ok("--as=alice", "--as-group=dev-team", "-n", namespace, "get", "secret", "app-secret-1", "-o", "name")
	k.ok("--as=system:admin", "--as-group=system:masters", "get", "nodes")

	// privileged-container, hostpath-volume, host-namespaces: pods that stay Pending.
	apply(t, k, w, "pods", `apiVersion: v1
kind: Pod
metadata: {name: priv-pod, namespace: team-a}
spec:
  containers:
  - {name: c, image: busybox:1.36, command: ["sleep", "3600"], securityContext: {privileged: true}}
---
apiVersion: v1
kind: Pod
metadata: {name: hostpath-pod, namespace: team-a}
spec:
  containers:
  - name: c
    image: busybox:1.36
    command: ["sleep", "3600"]
    volumeMounts: [{name: root, mountPath: /host}]
  volumes:
  - {name: root, hostPath: {path: /}}
---
apiVersion: v1
kind: Pod
metadata: {name: hostpid-pod, namespace: team-a}
spec:
  hostPID: true
  containers:
  - {name: c, image: busybox:1.36, command: ["sleep", "3600"]}
---
apiVersion: v1
kind: Pod
metadata: {name: hostnet-pod, namespace: team-a}
spec:
  hostNetwork: true
  containers:
  - {name: c, image: busybox:1.36, command: ["sleep", "3600"]}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: node-agent, namespace: team-a}
spec:
  selector: {matchLabels: {app: node-agent}}
  template:
    metadata: {labels: {app: node-agent}}
    spec:
      hostPID: true
      containers:
      - name: agent
        image: busybox:1.36
        command: ["sleep", "3600"]
        securityContext: {privileged: true}
        volumeMounts: [{name: root, mountPath: /host}]
      volumes:
      - {name: root, hostPath: {path: /}}
`)

	// kube-system-workload: a deployment and a pod in kube-system.
	k.ok("-n", "kube-system", "create", "deployment", "kube-dns-helper", "--image=busybox:1.36")
	k.ok("-n", "kube-system", "run", "kube-proxy-helper", "--image=busybox:1.36", "--restart=Never")

	// sa-token-request, sa-token-long-lived.
	k.ok("-n", namespace, "create", "token", "default")
	k.ok("-n", namespace, "create", "token", "default", "--duration=8760h")

	// csr-created, csr-approved.
	apply(t, k, w, "csr", fmt.Sprintf(`apiVersion: certificates.k8s.io/v1
kind: CertificateSigningRequest
metadata: {name: e2e-mallory}
spec:
  request: %s
  signerName: kubernetes.io/kube-apiserver-client
  expirationSeconds: 86400
  usages: ["client auth"]
`, csrPEM(t, "mallory")))
	k.ok("certificate", "approve", "e2e-mallory")

	// admission-webhook-change: create and delete both kinds of configuration.
	apply(t, k, w, "webhooks", webhookManifest("ValidatingWebhookConfiguration", "e2e-validator")+"---\n"+
		webhookManifest("MutatingWebhookConfiguration", "e2e-mutator"))
	k.ok("delete", "validatingwebhookconfiguration", "e2e-validator")
	k.ok("delete", "mutatingwebhookconfiguration", "e2e-mutator")

	// events-deleted: one event deleted by name, then the whole collection.
	apply(t, k, w, "events", `apiVersion: v1
kind: Event
metadata: {name: web.e2e-1, namespace: team-a}
involvedObject: {kind: Pod, name: web, namespace: team-a}
reason: Started
message: started container web
type: Normal
---
apiVersion: v1
kind: Event
metadata: {name: web.e2e-2, namespace: team-a}
involvedObject: {kind: Pod, name: web, namespace: team-a}
reason: Killing
message: stopping container web
type: Normal
`)
	k.ok("-n", namespace, "delete", "event", "web.e2e-1")
	r.do("DELETE", "/api/v1/namespaces/team-a/events", adminToken, uaCurl, "", "")

	// node-proxy: a Node object without a kubelet; the proxy request fails but is audited.
	apply(t, k, w, "node", `apiVersion: v1
kind: Node
metadata: {name: e2e-node-1, labels: {kubernetes.io/hostname: e2e-node-1}}
`)
	k.fails("", "get", "--raw", "/api/v1/nodes/e2e-node-1/proxy/pods")
	r.do("GET", "/api/v1/nodes/e2e-node-1/proxy/configz", adminToken, uaPython, attackerIP, "")
}

// csrPEM returns a base64 PEM certificate request for CN=cn.
func csrPEM(t *testing.T, cn string) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{
		Subject: pkix.Name{CommonName: cn, Organization: []string{"contractors"}},
	}, key)
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}))
}

// webhookManifest is a webhook configuration whose rule matches a
// resource nothing creates, so that the API server never calls it.
func webhookManifest(kind, name string) string {
	return fmt.Sprintf(`apiVersion: admissionregistration.k8s.io/v1
kind: %s
metadata: {name: %s}
webhooks:
- name: %s.e2e.example.com
  clientConfig: {service: {name: none, namespace: team-a, path: /hook}}
  rules:
  - {apiGroups: ["e2e.example.com"], apiVersions: ["v1"], operations: ["CREATE"], resources: ["widgets"]}
  failurePolicy: Ignore
  sideEffects: None
  admissionReviewVersions: ["v1"]
`, kind, name, name)
}

// recordDetections copies audit.log and policy.yaml to dir.
func recordDetections(t *testing.T, w, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"audit.log", "policy.yaml"} {
		b, err := os.ReadFile(filepath.Join(w, name))
		if err != nil {
			t.Fatal(err)
		}
		if name == "audit.log" && len(b) > 2<<20 {
			t.Errorf("audit.log is %d bytes: keep the fixture under 2 MB", len(b))
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("recorded audit.log and policy.yaml in %s", dir)
}
