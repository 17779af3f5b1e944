package clienttest

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	auditinternal "k8s.io/apiserver/pkg/apis/audit"

	"ktrail/sources/webhook"
)

// TestRealClientTLSToken sends 100,000 events (10,000 with -short or
// -race) with the API server's webhook backend over TLS with a bearer
// token; every event must be in the spool once, in the Store once, and
// found by filters.
func TestRealClientTLSToken(t *testing.T) {
	dir := t.TempDir()
	token := "k7-audit-token-0b4f9c"
	ts := startServer(t, webhook.Config{SelfSigned: true, TokenFile: writeTokenFile(t, dir, token)})
	kc := writeKubeconfig(t, dir, "https://"+ts.addr+"/audit/test", ts.caPEM, token, "", "")
	realClientRun(t, ts, kc, 1)
}

// TestRealClientMTLS is the same over mutual TLS: the server requires a
// client certificate signed by a CA made here, and the client presents
// one (client-certificate/client-key in its kubeconfig), no token.
func TestRealClientMTLS(t *testing.T) {
	dir := t.TempDir()
	ca, cert, key := clientPKI(t, dir)
	ts := startServer(t, webhook.Config{SelfSigned: true, ClientCA: ca})
	kc := writeKubeconfig(t, dir, "https://"+ts.addr+"/audit/test", ts.caPEM, "", cert, key)
	realClientRun(t, ts, kc, 2)
}

func realClientRun(t *testing.T, ts *testServer, kubeconfig string, run int) {
	n := bigN()
	base := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	evs := makeEvents(run, 0, n, base)
	want := expectedKeys(run, n)
	if len(want) != n {
		t.Fatalf("test bug: %d distinct keys for %d events", len(want), n)
	}
	before := dropped.Load()

	start := time.Now()
	ac := newAuditClient(t, clientConfig{
		kubeconfig: kubeconfig,
		maxBatch:   400, // --audit-webhook-batch-max-size default
		maxWait:    time.Second,
		// Large enough for every event of the test: the events are handed
		// over much faster than any API server produces them, and a full
		// buffer drops events ("audit buffer queue blocked"), which the
		// test would count as lost.
		buffer:  n + 1000,
		backoff: time.Second,
	})
	ac.feed(evs)
	ac.shutdown() // flushes: returns when every batch was answered (or given up)
	sent := time.Since(start)
	if d := dropped.Load() - before; d != 0 {
		t.Errorf("%s", dropReport(before))
	}
	st := ts.srv.Stats()
	if st.Events != int64(n) {
		t.Errorf("server Stats.Events = %d, want %d (batches %d, rejected %v)", st.Events, n, st.Batches, st.Rejected)
	}

	// The spool files: one line per event, each sent once.
	t0 := time.Now()
	lines, partial := spoolLines(t, filepath.Join(ts.dir, "test"))
	if partial != 0 {
		t.Errorf("%d incomplete lines in the spool", partial)
	}
	if len(lines) != n {
		t.Errorf("%d event lines in the spool, want %d", len(lines), n)
	}
	seen := make(map[eventKey]bool, len(lines))
	for _, k := range lines {
		if !want[k] {
			t.Errorf("spool line %v was never sent", k)
			break
		}
		if seen[k] {
			t.Errorf("spool line %v is there twice", k)
			break
		}
		seen[k] = true
	}

	// The spool read back as ktrail DIR reads it.
	ls := loadSpool(t, ts.dir)
	loaded := time.Since(t0)
	if len(ls.errs) > 0 {
		t.Errorf("%d lines skipped reading the spool, e.g. %s", len(ls.errs), ls.errs[0])
	}
	checkStore(t, ls.store, want)
	queries := map[string]func(*auditinternal.Event) bool{
		`cluster == "test"`:                   func(*auditinternal.Event) bool { return true },
		`verb == "delete" && user == "alice"`: func(e *auditinternal.Event) bool { return e.Verb == "delete" && e.User.Username == "alice" },
		`code == 403 && decision == "forbid"`: func(e *auditinternal.Event) bool { return e.ResponseStatus.Code == 403 },
		`resource == "deployments" && apiGroup == "apps" && ns == "team-a"`: func(e *auditinternal.Event) bool {
			return e.ObjectRef.Resource == "deployments" && e.ObjectRef.Namespace == "team-a"
		},
		`level == "Request" && requestObject.kind == "ConfigMap"`: func(e *auditinternal.Event) bool { return e.RequestObject != nil },
		`stage == "ResponseStarted"`:                              func(e *auditinternal.Event) bool { return e.Stage == auditinternal.StageResponseStarted },
	}
	for q, match := range queries {
		want := 0
		for _, e := range evs {
			if match(e) {
				want++
			}
		}
		if want == 0 {
			t.Errorf("test bug: no event for %s", q)
		}
		if got := count(t, ls.store, q); got != want {
			t.Errorf("query %s: %d events, want %d", q, got, want)
		}
	}
	t.Logf("%d events: sent and acknowledged in %v (%.0f events/s, %d batches), spool read back and checked in %v",
		n, sent.Round(time.Millisecond), float64(n)/sent.Seconds(), st.Batches, loaded.Round(time.Millisecond))
}

// TestRealClientWrongToken checks the loss accounting itself: a client
// with a wrong token is refused (401) on every try, gives up after its
// retries and reports each event lost, and nothing is written.
func TestRealClientWrongToken(t *testing.T) {
	dir := t.TempDir()
	ts := startServer(t, webhook.Config{SelfSigned: true, TokenFile: writeTokenFile(t, dir, "the-right-token")})
	kc := writeKubeconfig(t, dir, "https://"+ts.addr+"/audit/test", ts.caPEM, "a-wrong-token", "", "")
	before := dropped.Load()
	ac := newAuditClient(t, clientConfig{kubeconfig: kc, maxBatch: 400, maxWait: 100 * time.Millisecond,
		buffer: 2000, backoff: 10 * time.Millisecond})
	const n = 1000
	ac.feed(makeEvents(3, 0, n, time.Now()))
	ac.shutdown()
	if d := dropped.Load() - before; d != n {
		t.Errorf("the client reported %d events lost, want %d: %s", d, n, dropReport(before))
	}
	st := ts.srv.Stats()
	if st.Events != 0 || st.Rejected[webhook.ReasonUnauthorized] == 0 {
		t.Errorf("stats: %d events written, rejected %v; want none written and 401s", st.Events, st.Rejected)
	}
	t.Log(fmt.Sprintf("%d requests refused with 401", st.Rejected[webhook.ReasonUnauthorized]))
}
