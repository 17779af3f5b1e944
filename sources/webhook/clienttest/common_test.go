package clienttest

import (
	"bufio"
	"bytes"
	"compress/gzip"
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
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-logr/logr"
	authnv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	k8sruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	auditinternal "k8s.io/apiserver/pkg/apis/audit"
	auditv1 "k8s.io/apiserver/pkg/apis/audit/v1"
	k8saudit "k8s.io/apiserver/pkg/audit"
	webhookutil "k8s.io/apiserver/pkg/util/webhook"
	"k8s.io/apiserver/plugin/pkg/audit/buffered"
	auditwebhook "k8s.io/apiserver/plugin/pkg/audit/webhook"
	"k8s.io/klog/v2"

	"ktrail/audit"
	"ktrail/filters"
	"ktrail/internal/syncbuf"
	"ktrail/sources"
	"ktrail/sources/webhook"
)

func TestMain(m *testing.M) {
	// Every event the API server's audit backends give up on goes through
	// audit.HandlePluginError, which logs "Error in audit plugin '<name>'
	// affecting N audit events" with klog (and bumps a metric). That is
	// true of the buffered backend's "audit buffer queue blocked" (a full
	// buffer: its ProcessEvents still returns true) and of the webhook
	// backend giving up after its retries. A klog sink counts them, so
	// that a test can tell "lost by the client" from "lost by ktrail".
	klog.SetLogger(logr.New(&dropSink{}))
	code := m.Run()
	binMu.Lock()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	binMu.Unlock()
	os.Exit(code)
}

var (
	dropped     atomic.Int64 // events the client reported lost
	dropMu      sync.Mutex
	dropSamples []string
	affectingRE = regexp.MustCompile(`Error in audit plugin '([^']*)' affecting (\d+) audit events: ([^\n]*)`)
)

// dropSink is a logr sink for klog that counts the events the audit
// backends report lost and keeps the first few messages.
type dropSink struct{}

func (*dropSink) Init(logr.RuntimeInfo) {}
func (*dropSink) Enabled(int) bool      { return true }
func (s *dropSink) Info(_ int, msg string, kv ...any) {
	s.note(msg)
}
func (s *dropSink) Error(_ error, msg string, kv ...any) {
	s.note(msg)
}
func (s *dropSink) WithValues(...any) logr.LogSink { return s }
func (s *dropSink) WithName(string) logr.LogSink   { return s }

func (*dropSink) note(msg string) {
	m := affectingRE.FindStringSubmatch(msg)
	if m == nil {
		return
	}
	n, _ := strconv.Atoi(m[2])
	dropped.Add(int64(n))
	dropMu.Lock()
	if len(dropSamples) < 5 {
		dropSamples = append(dropSamples, m[0])
	}
	dropMu.Unlock()
}

// dropReport describes the losses the client reported since before.
func dropReport(before int64) string {
	dropMu.Lock()
	defer dropMu.Unlock()
	return fmt.Sprintf("%d events reported lost by the audit client (first messages: %q)", dropped.Load()-before, dropSamples)
}

// raceEnabled is set by race_test.go in -race builds.
var raceEnabled bool

// bigN is the event count of the real-client tests: 100,000, or 10,000
// with -short or -race (the race detector makes the client's encoding and
// the server's parsing 5–10× slower).
func bigN() int {
	if reduced() {
		return 10_000
	}
	return 100_000
}

// reduced is true with -short or -race: the tests then send fewer events.
func reduced() bool { return testing.Short() || raceEnabled }

// ---- events ----

var (
	verbs = []string{"get", "list", "watch", "create", "update", "patch", "delete"}
	users = []authnv1.UserInfo{
		{Username: "alice", UID: "1001", Groups: []string{"dev-team", "system:authenticated"}},
		{Username: "bob", UID: "1002", Groups: []string{"ops", "system:authenticated"}},
		{Username: "admin", UID: "1000", Groups: []string{"system:masters", "system:authenticated"}},
		{Username: "system:serviceaccount:kube-system:replicaset-controller", UID: "5c2f",
			Groups: []string{"system:serviceaccounts", "system:serviceaccounts:kube-system", "system:authenticated"}},
		{Username: "system:node:worker-1", Groups: []string{"system:nodes", "system:authenticated"}},
		{Username: "system:kube-scheduler", Groups: []string{"system:authenticated"}},
	}
	resources = []auditinternal.ObjectReference{
		{Resource: "pods", APIVersion: "v1"},
		{Resource: "secrets", APIVersion: "v1"},
		{Resource: "configmaps", APIVersion: "v1"},
		{Resource: "deployments", APIGroup: "apps", APIVersion: "v1"},
		{Resource: "rolebindings", APIGroup: "rbac.authorization.k8s.io", APIVersion: "v1"},
		{Resource: "leases", APIGroup: "coordination.k8s.io", APIVersion: "v1"},
		{Resource: "pods", Subresource: "log", APIVersion: "v1"},
	}
	namespaces = []string{"default", "kube-system", "team-a", "team-b", "monitoring"}
	agents     = []string{"kubectl/v1.37.2 (linux/amd64) kubernetes/0c2ab7e", "kube-controller-manager/v1.37.2 (linux/amd64) kubernetes/0c2ab7e/system:serviceaccount:kube-system:replicaset-controller", "kubelet/v1.37.2 (linux/amd64) kubernetes/0c2ab7e", "python-requests/2.31.0"}
)

type runtimeUnknown = k8sruntime.Unknown

// eventKey is what the Store deduplicates on besides the bytes.
type eventKey struct{ AuditID, Stage string }

// auditID is the auditID of request number req of run run: a UUID-shaped
// string, distinct per (run, req).
func auditID(run, req int) string {
	return fmt.Sprintf("%08x-7c1e-4d2a-9f3b-%012x", run, req)
}

// eventKeyOf returns the auditID and stage of event i of a run. Most
// requests have one ResponseComplete event; every 8th pair of events is a
// watch-like request with both ResponseStarted and ResponseComplete under
// one auditID, so that the (auditID, stage) pairs are not just auditIDs.
func eventKeyOf(run, i int) eventKey {
	switch i % 8 {
	case 6:
		return eventKey{auditID(run, i), "ResponseStarted"}
	case 7:
		return eventKey{auditID(run, i-1), "ResponseComplete"}
	}
	return eventKey{auditID(run, i), "ResponseComplete"}
}

// fillEvent overwrites e with event i of a run: varied verbs, users,
// resources, namespaces, codes and levels, and a small request body on
// every 10th event (a ConfigMap). Times start at base, 20 µs apart.
func fillEvent(e *auditinternal.Event, run, i int, base time.Time) {
	k := eventKeyOf(run, i)
	req := i
	if i%8 == 7 {
		req = i - 1
	}
	verb := verbs[req%len(verbs)]
	user := users[(req/7)%len(users)]
	ref := resources[(req/3)%len(resources)]
	ref.Namespace = namespaces[(req/11)%len(namespaces)]
	if verb != "list" && verb != "create" {
		ref.Name = fmt.Sprintf("obj-%d", req%997)
	}
	code := int32(200)
	decision := "allow"
	switch {
	case user.Username == "alice" && ref.Resource == "secrets":
		code, decision = 403, "forbid"
	case verb == "create":
		code = 201
	case verb == "get" && req%13 == 0:
		code = 404
	}
	recv := base.Add(time.Duration(req) * 20 * time.Microsecond)
	stageTime := recv.Add(time.Duration(300+req%5000) * time.Microsecond)
	if k.Stage == "ResponseStarted" {
		stageTime = recv.Add(100 * time.Microsecond)
	}
	uri := "/api/v1/namespaces/" + ref.Namespace + "/" + ref.Resource
	if ref.APIGroup != "" {
		uri = "/apis/" + ref.APIGroup + "/" + ref.APIVersion + "/namespaces/" + ref.Namespace + "/" + ref.Resource
	}
	if ref.Name != "" {
		uri += "/" + ref.Name
	}
	if ref.Subresource != "" {
		uri += "/" + ref.Subresource
	}
	*e = auditinternal.Event{
		Level:                    auditinternal.LevelMetadata,
		AuditID:                  types.UID(k.AuditID),
		Stage:                    auditinternal.Stage(k.Stage),
		RequestURI:               uri,
		Verb:                     verb,
		User:                     user,
		SourceIPs:                []string{fmt.Sprintf("10.0.%d.%d", req%7, req%251)},
		UserAgent:                agents[req%len(agents)],
		ObjectRef:                &ref,
		ResponseStatus:           &metav1.Status{Code: code},
		RequestReceivedTimestamp: metav1.NewMicroTime(recv),
		StageTimestamp:           metav1.NewMicroTime(stageTime),
		Annotations:              map[string]string{"authorization.k8s.io/decision": decision, "authorization.k8s.io/reason": ""},
	}
	if code == 403 {
		e.ResponseStatus.Status = metav1.StatusFailure
		e.ResponseStatus.Reason = metav1.StatusReasonForbidden
		e.ResponseStatus.Message = fmt.Sprintf("%s is forbidden: User %q cannot %s resource %q", ref.Resource, user.Username, verb, ref.Resource)
	}
	if req%10 == 0 && k.Stage == "ResponseComplete" {
		e.Level = auditinternal.LevelRequest
		e.RequestObject = &runtimeUnknown{Raw: []byte(fmt.Sprintf(`{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"cm-%d","namespace":%q},"data":{"key":"value-%d"}}`, req, ref.Namespace, req)), ContentType: "application/json"}
	}
}

// makeEvents builds events [from, to) of a run.
func makeEvents(run, from, to int, base time.Time) []*auditinternal.Event {
	out := make([]*auditinternal.Event, 0, to-from)
	for i := from; i < to; i++ {
		e := new(auditinternal.Event)
		fillEvent(e, run, i, base)
		out = append(out, e)
	}
	return out
}

// expectedKeys is the set of (auditID, stage) of events [0, n) of a run.
func expectedKeys(run, n int) map[eventKey]bool {
	m := make(map[eventKey]bool, n)
	for i := range n {
		m[eventKeyOf(run, i)] = true
	}
	return m
}

// ---- the audit client ----

// clientConfig configures the API server's buffered webhook backend.
type clientConfig struct {
	kubeconfig string
	// batch mode settings (--audit-webhook-batch-*)
	maxBatch int
	maxWait  time.Duration
	buffer   int
	backoff  time.Duration // --audit-webhook-initial-backoff
	wrapRT   func(http.RoundTripper) http.RoundTripper
}

// auditClient is the API server's audit webhook backend as kube-apiserver
// builds it in batch mode: the webhook backend behind the buffered one,
// asynchronous delegate (one goroutine per batch), throttling off.
type auditClient struct {
	k8saudit.Backend
	stop chan struct{}
	once sync.Once
}

// newAuditClient starts the backend. With wrapRT nil it is built exactly as
// kube-apiserver does (auditwebhook.NewBackend from the kubeconfig file).
// With wrapRT the same webhook backend code is built from a REST client
// whose transport is wrapped (to time or record each POST): the kubeconfig
// is loaded with the same function (webhookutil.LoadKubeconfig: 30 s
// timeout, no client-side rate limit), the REST client made by the same
// NewGenericWebhook, and auditwebhook.NewDynamicBackend sets the same
// retry-on-any-error rule; only the plugin's name in its error messages
// differs ("dynamic_webhook").
func newAuditClient(t testing.TB, c clientConfig) *auditClient {
	t.Helper()
	backoff := webhookutil.DefaultRetryBackoffWithInitialDelay(c.backoff)
	var delegate k8saudit.Backend
	if c.wrapRT == nil {
		b, err := auditwebhook.NewBackend(c.kubeconfig, auditv1.SchemeGroupVersion, backoff, nil)
		if err != nil {
			t.Fatalf("audit webhook backend: %v", err)
		}
		delegate = b
	} else {
		cfg, err := webhookutil.LoadKubeconfig(c.kubeconfig, nil)
		if err != nil {
			t.Fatalf("loading the webhook kubeconfig: %v", err)
		}
		cfg.Wrap(c.wrapRT)
		gw, err := webhookutil.NewGenericWebhook(k8saudit.Scheme, k8saudit.Codecs, cfg,
			[]schema.GroupVersion{auditv1.SchemeGroupVersion}, backoff)
		if err != nil {
			t.Fatalf("audit webhook client: %v", err)
		}
		delegate = auditwebhook.NewDynamicBackend(gw.RestClient, backoff)
	}
	b := buffered.NewBackend(delegate, buffered.BatchConfig{
		BufferSize:     c.buffer,
		MaxBatchSize:   c.maxBatch,
		MaxBatchWait:   c.maxWait,
		ThrottleEnable: false, // the default is 10 batches/s, burst 15: far below these rates
		AsyncDelegate:  true,  // as kube-apiserver sets it for the webhook
	})
	ac := &auditClient{Backend: b, stop: make(chan struct{})}
	if err := b.Run(ac.stop); err != nil {
		t.Fatalf("audit backend Run: %v", err)
	}
	t.Cleanup(ac.shutdown)
	return ac
}

// shutdown stops the backend and waits until every batch was sent (or
// given up on after its retries), like kube-apiserver on SIGTERM.
func (ac *auditClient) shutdown() {
	ac.once.Do(func() {
		close(ac.stop)
		ac.Backend.Shutdown()
	})
}

// feed hands events to the backend in slices of 100, as the API server's
// request handlers do one at a time.
func (ac *auditClient) feed(evs []*auditinternal.Event) {
	for len(evs) > 0 {
		n := min(100, len(evs))
		ac.ProcessEvents(evs[:n]...)
		evs = evs[n:]
	}
}

// writeKubeconfig writes the webhook kubeconfig with webhook.Kubeconfig.
func writeKubeconfig(t testing.TB, dir, url string, caPEM []byte, token, cert, key string) string {
	t.Helper()
	b, err := webhook.Kubeconfig(url, "", caPEM, token, cert, key)
	if err != nil {
		t.Fatalf("webhook.Kubeconfig: %v", err)
	}
	p := filepath.Join(dir, "audit-webhook.kubeconfig")
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// ---- the receiver in process ----

type testServer struct {
	srv      *webhook.Server
	dir      string
	addr     string
	caPEM    []byte
	cancel   context.CancelFunc
	done     chan error
	log      *syncbuf.Buffer
	stopOnce sync.Once
}

// startServer runs a webhook.Server on 127.0.0.1 with a fresh spool
// (marked as such, as ktrail serve does) unless cfg.Dir is set.
func startServer(t testing.TB, cfg webhook.Config) *testServer {
	t.Helper()
	if cfg.Dir == "" {
		cfg.Dir = filepath.Join(t.TempDir(), "spool")
	}
	logb := &syncbuf.Buffer{}
	cfg.Log = logb
	srv, err := webhook.New(cfg)
	if err != nil {
		t.Fatalf("webhook.New: %v", err)
	}
	if err := os.WriteFile(filepath.Join(cfg.Dir, sources.SpoolMarker), []byte("test spool\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ts := &testServer{srv: srv, dir: cfg.Dir, addr: ln.Addr().String(), cancel: cancel, done: make(chan error, 1), log: logb}
	go func() { ts.done <- srv.Serve(ctx, ln) }()
	select {
	case <-srv.Ready():
	case err := <-ts.done:
		t.Fatalf("Serve: %v", err)
	}
	ts.caPEM = srv.CAPEM()
	t.Cleanup(func() {
		ts.stop(t)
		if t.Failed() {
			t.Logf("server log:\n%s", clipLog(logb.String()))
		}
	})
	return ts
}

// stop shuts the server down and waits for Serve to return (once).
func (ts *testServer) stop(t testing.TB) {
	ts.stopOnce.Do(func() {
		ts.cancel()
		select {
		case err := <-ts.done:
			if err != nil {
				t.Errorf("Serve returned %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Errorf("Serve did not return 30 s after its context was cancelled")
		}
	})
}

func clipLog(s string) string {
	if len(s) > 8000 {
		return s[:4000] + "\n…\n" + s[len(s)-4000:]
	}
	return s
}

// writeTokenFile writes a token file with a comment and two tokens.
func writeTokenFile(t testing.TB, dir, token string) string {
	t.Helper()
	p := filepath.Join(dir, "tokens")
	if err := os.WriteFile(p, []byte("# audit webhook tokens\nold-token-not-used\n"+token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// ---- client PKI for mTLS ----

// clientPKI writes a client CA and a client certificate and key it signed
// (as the API server's --audit-webhook-config-file user would reference).
func clientPKI(t testing.TB, dir string) (caFile, certFile, keyFile string) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "test audit client CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "kube-apiserver-audit", Organization: []string{"system:masters"}},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	caFile = filepath.Join(dir, "client-ca.crt")
	certFile = filepath.Join(dir, "client.crt")
	keyFile = filepath.Join(dir, "client.key")
	for p, blk := range map[string]*pem.Block{
		caFile:   {Type: "CERTIFICATE", Bytes: caDER},
		certFile: {Type: "CERTIFICATE", Bytes: der},
		keyFile:  {Type: "EC PRIVATE KEY", Bytes: keyDER},
	} {
		if err := os.WriteFile(p, pem.EncodeToMemory(blk), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return caFile, certFile, keyFile
}

// ---- reading the spool back ----

// loadedSpool is a spool directory read into a Store, the way ktrail DIR
// does.
type loadedSpool struct {
	store *audit.Store
	set   *sources.Set
	errs  []string
}

// loadSpool reads a spool directory (not following it) into a new Store.
func loadSpool(t testing.TB, dir string) *loadedSpool {
	t.Helper()
	ls := &loadedSpool{store: audit.NewStore()}
	var mu sync.Mutex
	set, err := sources.Open(ls.store, []string{dir}, nil, sources.Options{
		OnError: func(e *audit.LineError) {
			mu.Lock()
			ls.errs = append(ls.errs, e.Error())
			mu.Unlock()
		},
	})
	if err != nil {
		t.Fatalf("sources.Open(%s): %v", dir, err)
	}
	ls.set = set
	t.Cleanup(func() { set.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := set.Run(ctx); err != nil {
		t.Fatalf("sources Run: %v", err)
	}
	return ls
}

// keys returns how many events of the Store have each (auditID, stage).
func storeKeys(t testing.TB, s *audit.Store) map[eventKey]int {
	t.Helper()
	v := s.View()
	m := make(map[eventKey]int, v.Len())
	for pos := range v.Len() {
		r := v.At(pos)
		id, err := filters.Value(s, r, "auditID")
		if err != nil {
			t.Fatalf("auditID of event %d: %v", pos, err)
		}
		m[eventKey{id, r.Stage.String()}]++
	}
	return m
}

// count evaluates a filter over the whole Store.
func count(t testing.TB, s *audit.Store, expr string) int {
	t.Helper()
	f, err := filters.Compile(s, []string{expr}, filters.Options{})
	if err != nil {
		t.Fatalf("filter %q: %v", expr, err)
	}
	ids, err := f.Eval(context.Background(), s.View())
	if err != nil {
		t.Fatalf("filter %q: %v", expr, err)
	}
	return len(ids)
}

// checkStore checks that the Store holds exactly the events in want, each
// once.
func checkStore(t testing.TB, s *audit.Store, want map[eventKey]bool) {
	t.Helper()
	got := storeKeys(t, s)
	if s.Len() != len(want) {
		t.Errorf("Store.Len = %d, want %d (%d exact duplicates dropped)", s.Len(), len(want), s.Duplicates())
	}
	var missing, extra, twice []eventKey
	for k := range want {
		if got[k] == 0 {
			missing = append(missing, k)
		}
	}
	for k, n := range got {
		switch {
		case !want[k]:
			extra = append(extra, k)
		case n > 1:
			twice = append(twice, k)
		}
	}
	report := func(what string, ks []eventKey) {
		if len(ks) > 0 {
			slices.SortFunc(ks, func(a, b eventKey) int { return strings.Compare(a.AuditID+a.Stage, b.AuditID+b.Stage) })
			t.Errorf("%d events %s, e.g. %v", len(ks), what, ks[:min(5, len(ks))])
		}
	}
	report("missing from the Store", missing)
	report("in the Store but never sent", extra)
	report("in the Store more than once", twice)
}

// spoolLines reads every event line of a cluster directory (plain and
// gzipped files, hidden ones skipped; a plain file whose .gz copy exists
// is counted once) and returns the (auditID, stage) of each. An
// incomplete last line (a write cut by a crash) is ignored and counted.
func spoolLines(t testing.TB, clusterDir string) (keys []eventKey, partial int) {
	t.Helper()
	ents, err := os.ReadDir(clusterDir)
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, e := range ents {
		names[e.Name()] = true
	}
	for _, e := range ents {
		n := e.Name()
		if e.IsDir() || strings.HasPrefix(n, ".") || !strings.Contains(n, ".jsonl") || names[n+".gz"] {
			continue
		}
		f, err := os.Open(filepath.Join(clusterDir, n))
		if err != nil {
			t.Fatal(err)
		}
		var r io.Reader = f
		if strings.HasSuffix(n, ".gz") {
			zr, err := gzip.NewReader(f)
			if err != nil {
				t.Fatalf("%s: %v", n, err)
			}
			r = zr
		}
		br := bufio.NewReaderSize(r, 1<<20)
		for {
			line, err := br.ReadBytes('\n')
			if len(line) > 0 && line[len(line)-1] == '\n' {
				var f audit.Fields
				if err := audit.Extract(line, &f); err != nil || f.Known == 0 {
					t.Errorf("%s: a line that is not an audit event (%v): %.80q", n, err, line)
				}
				keys = append(keys, eventKey{string(f.AuditID), string(f.Stage)})
			} else if len(line) > 0 {
				partial++
			}
			if err != nil {
				if err != io.EOF {
					t.Fatalf("%s: %v", n, err)
				}
				break
			}
		}
		f.Close()
	}
	return keys, partial
}

// ---- measurements ----

// rssBytes returns the resident set size (VmRSS) and its peak (VmHWM) of
// process pid (0: this one).
func rssBytes(pid int) (rss, hwm int64) {
	p := "/proc/self/status"
	if pid > 0 {
		p = fmt.Sprintf("/proc/%d/status", pid)
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return -1, -1
	}
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) < 2 {
			continue
		}
		v, _ := strconv.ParseInt(f[1], 10, 64)
		switch f[0] {
		case "VmRSS:":
			rss = v << 10
		case "VmHWM:":
			hwm = v << 10
		}
	}
	return rss, hwm
}

func heapInuse() uint64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse
}

// tlsClient is an HTTPS client that trusts caPEM.
func tlsClient(caPEM []byte, cert *tls.Certificate) *http.Client {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	cfg := &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	if cert != nil {
		cfg.Certificates = []tls.Certificate{*cert}
	}
	return &http.Client{
		Timeout:   30 * time.Second,
		Transport: &http.Transport{TLSClientConfig: cfg, ForceAttemptHTTP2: true, MaxIdleConnsPerHost: 16},
	}
}

// eventListBody encodes events as the API server does: an audit.k8s.io/v1
// EventList (with the same codec as the webhook backend).
func eventListBody(t testing.TB, evs []*auditinternal.Event) []byte {
	t.Helper()
	var list auditinternal.EventList
	for _, e := range evs {
		list.Items = append(list.Items, *e)
	}
	codec := k8saudit.Codecs.LegacyCodec(auditv1.SchemeGroupVersion)
	var buf bytes.Buffer
	if err := codec.Encode(&list, &buf); err != nil {
		t.Fatalf("encoding an EventList: %v", err)
	}
	return buf.Bytes()
}
