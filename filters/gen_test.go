package filters

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"ktrail/audit"
)

// This file generates synthetic audit data for benchmarks: index records
// built directly with the interner (no raw bytes), and a spool of JSON
// lines with request and response bodies for body predicates.

// synthPools are the value pools of the synthetic cluster.
type synthPools struct {
	users, verbs, resources, namespaces, uas, ips []string
	codes                                         []uint16
}

func newPools(r *rand.Rand) synthPools {
	var p synthPools
	for i := range 20 {
		p.users = append(p.users, fmt.Sprintf("user%02d@example.com", i))
	}
	for i := range 150 {
		p.users = append(p.users, fmt.Sprintf("system:serviceaccount:ns-%02d:sa-%d", i%30, i))
	}
	for i := range 50 {
		p.users = append(p.users, fmt.Sprintf("system:node:node-%02d", i))
	}
	p.users = append(p.users, "system:kube-controller-manager", "system:kube-scheduler", "system:apiserver", "system:kube-proxy", "system:anonymous", "")
	p.verbs = []string{"get", "get", "get", "list", "list", "watch", "watch", "update", "patch", "create", "delete", "deletecollection"}
	p.resources = []string{"pods", "pods", "pods", "configmaps", "secrets", "leases", "leases", "leases", "events", "nodes", "services", "endpointslices",
		"deployments", "replicasets", "serviceaccounts", "namespaces", "roles", "rolebindings", "clusterroles", "jobs", "cronjobs", "ingresses"}
	p.namespaces = []string{"", "kube-system", "kube-public", "default"}
	for i := range 30 {
		p.namespaces = append(p.namespaces, fmt.Sprintf("ns-%02d", i))
	}
	for i := range 60 {
		p.uas = append(p.uas, fmt.Sprintf("kube-controller-manager/v1.37.%d (linux/amd64) kubernetes/abc%03d/controller-%d", i%3, i, i))
	}
	p.uas = append(p.uas, "kubectl/v1.37.2 (linux/amd64) kubernetes/8f94681", "curl/7.88.1", "python-requests/2.31.0", "Go-http-client/2.0")
	for i := range 200 {
		p.ips = append(p.ips, fmt.Sprintf("10.%d.%d.%d", i%4, i/4%250, 1+i%250))
	}
	p.ips = append(p.ips, "192.168.1.10", "203.0.113.7", "2001:db8::1")
	p.codes = []uint16{200, 200, 200, 200, 200, 200, 200, 200, 201, 201, 404, 403, 409, 500, 101, 401, 422, 429}
	_ = r
	return p
}

// synthStart is the time of the first synthetic event.
var synthStart = time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)

// synthStore returns a Store of n index records with realistic value
// distributions and about 100k distinct object names. The records have
// no raw bytes behind them.
func synthStore(tb testing.TB, n int) *audit.Store {
	tb.Helper()
	r := rand.New(rand.NewPCG(1, 2))
	p := newPools(r)
	s := audit.NewStore()
	in := s.Interner()
	ids := func(vals []string) []uint32 {
		out := make([]uint32, len(vals))
		for i, v := range vals {
			out[i] = in.InternString(v)
		}
		return out
	}
	users, verbs, res, nss := ids(p.users), ids(p.verbs), ids(p.resources), ids(p.namespaces)
	uas, ips := ids(p.uas), ids(p.ips)
	groupsSA := in.InternString(`["system:serviceaccounts","system:authenticated"]`)
	groupsHuman := in.InternString(`["developers","system:authenticated"]`)
	groupsAdmin := in.InternString(`["system:masters","system:authenticated"]`)
	names := make([]uint32, 100_000)
	for i := range names {
		names[i] = in.InternString("obj-" + strconv.Itoa(i))
	}
	batch := make([]audit.Rec, 0, 1<<16)
	t := synthStart.UnixNano()
	for i := range n {
		t += int64(r.IntN(170_000_000)) + 1
		u := r.IntN(len(users))
		rec := audit.Rec{
			Time:     t,
			Loc:      audit.MakeLoc(0, int64(i)*1000),
			AuditID:  r.Uint64(),
			Len:      1000,
			Latency:  float32(r.ExpFloat64() * 0.02),
			User:     users[u],
			Verb:     verbs[r.IntN(len(verbs))],
			Resource: res[r.IntN(len(res))],
			NS:       nss[r.IntN(len(nss))],
			Name:     names[r.IntN(len(names))],
			SourceIP: ips[r.IntN(len(ips))],
			UA:       uas[r.IntN(len(uas))],
			Code:     p.codes[r.IntN(len(p.codes))],
			Stage:    audit.StageResponseComplete,
			Level:    audit.Level(1 + r.IntN(3)),
			Decision: audit.DecisionAllow,
		}
		switch {
		case u < 20 && u%5 == 0:
			rec.Groups = groupsAdmin
		case u < 20:
			rec.Groups = groupsHuman
		default:
			rec.Groups = groupsSA
		}
		if rec.Code == 403 {
			rec.Decision = audit.DecisionForbid
		}
		if r.IntN(200) == 0 {
			rec.ImpUser = users[r.IntN(20)]
		}
		batch = append(batch, rec)
		if len(batch) == cap(batch) {
			s.Append(batch)
			batch = batch[:0]
		}
	}
	s.Append(batch)
	return s
}

// writeSpool writes n generated audit events as JSON lines to a file in
// dir and returns its path and size. About a third carry request bodies,
// pod creations carry both bodies, and one pod in 200 asks for
// hostNetwork.
func writeSpool(tb testing.TB, dir string, n int) (string, int64) {
	tb.Helper()
	path := filepath.Join(dir, "spool.jsonl")
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	r := rand.New(rand.NewPCG(3, 4))
	p := newPools(r)
	bw := bufio.NewWriterSize(f, 1<<20)
	t := synthStart
	var line []byte
	for i := range n {
		t = t.Add(time.Duration(r.IntN(170_000_000)))
		line = appendEvent(line[:0], r, &p, i, t)
		bw.Write(line)
	}
	if err := bw.Flush(); err != nil {
		tb.Fatal(err)
	}
	st, _ := f.Stat()
	f.Close()
	return path, st.Size()
}

// appendEvent appends one generated event line.
func appendEvent(b []byte, r *rand.Rand, p *synthPools, i int, t time.Time) []byte {
	user := p.users[r.IntN(len(p.users)-1)]
	ns := p.namespaces[1+r.IntN(len(p.namespaces)-1)]
	name := "obj-" + strconv.Itoa(r.IntN(100_000))
	kind := r.IntN(10)
	verb, res, level := p.verbs[r.IntN(7)], p.resources[3+r.IntN(len(p.resources)-3)], "Metadata"
	switch {
	case kind < 3:
		verb, res, level = "update", "leases", "Request"
	case kind == 3:
		verb, res, level = "create", "pods", "RequestResponse"
	}
	ts := t.Format("2006-01-02T15:04:05.000000Z")
	end := t.Add(time.Duration(r.IntN(40_000_000))).Format("2006-01-02T15:04:05.000000Z")
	b = fmt.Appendf(b, `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":%q,"auditID":"%08x-%04x-4000-8000-%012x","stage":"ResponseComplete",`,
		level, r.Uint32(), i&0xffff, r.Uint64()&0xffffffffffff)
	b = fmt.Appendf(b, `"requestURI":"/api/v1/namespaces/%s/%s/%s","verb":%q,"user":{"username":%q,"uid":"u-%d","groups":["system:authenticated"]},`,
		ns, res, name, verb, user, r.IntN(1000))
	b = fmt.Appendf(b, `"sourceIPs":[%q],"userAgent":%q,"objectRef":{"resource":%q,"namespace":%q,"name":%q,"apiVersion":"v1"},`,
		p.ips[r.IntN(len(p.ips))], p.uas[r.IntN(len(p.uas))], res, ns, name)
	b = fmt.Appendf(b, `"responseStatus":{"metadata":{},"code":%d},`, p.codes[r.IntN(len(p.codes))])
	switch {
	case kind < 3:
		b = fmt.Appendf(b, `"requestObject":{"kind":"Lease","apiVersion":"coordination.k8s.io/v1","metadata":{"name":%q,"namespace":%q,"uid":"%016x","resourceVersion":"%d","creationTimestamp":%q,"managedFields":[{"manager":"kubelet","operation":"Update","apiVersion":"coordination.k8s.io/v1","time":%q,"fieldsType":"FieldsV1","fieldsV1":{"f:spec":{"f:holderIdentity":{},"f:leaseDurationSeconds":{},"f:renewTime":{}}}}]},"spec":{"holderIdentity":%q,"leaseDurationSeconds":40,"renewTime":%q}},`,
			name, ns, r.Uint64(), r.IntN(1e7), ts, ts, name, ts)
	case kind == 3:
		pod := appendPod(nil, r, name, ns, ts)
		b = append(b, `"requestObject":`...)
		b = append(b, pod...)
		b = append(b, `,"responseObject":`...)
		b = append(b, pod...)
		b = append(b, ',')
	}
	return fmt.Appendf(b, `"requestReceivedTimestamp":%q,"stageTimestamp":%q,"annotations":{"authorization.k8s.io/decision":"allow","authorization.k8s.io/reason":"RBAC: allowed by ClusterRoleBinding \"system:basic-user\""}}`+"\n", ts, end)
}

// appendPod appends a pod manifest of a few kilobytes.
func appendPod(b []byte, r *rand.Rand, name, ns, ts string) []byte {
	b = fmt.Appendf(b, `{"kind":"Pod","apiVersion":"v1","metadata":{"name":%q,"namespace":%q,"labels":{"app":"web","pod-template-hash":"%x"},"annotations":{"kubectl.kubernetes.io/restartedAt":%q},"ownerReferences":[{"apiVersion":"apps/v1","kind":"ReplicaSet","name":"web-%x","uid":"%016x","controller":true,"blockOwnerDeletion":true}]},"spec":{"containers":[`,
		name, ns, r.Uint32(), ts, r.Uint32(), r.Uint64())
	for c := range 1 + r.IntN(3) {
		if c > 0 {
			b = append(b, ',')
		}
		b = fmt.Appendf(b, `{"name":"c%d","image":"registry.example.com/team/app:v%d.%d","ports":[{"containerPort":%d,"protocol":"TCP"}],"env":[{"name":"LOG_LEVEL","value":"info"},{"name":"POD_NAME","valueFrom":{"fieldRef":{"apiVersion":"v1","fieldPath":"metadata.name"}}}],"resources":{"limits":{"cpu":"500m","memory":"256Mi"},"requests":{"cpu":"100m","memory":"128Mi"}},"volumeMounts":[{"name":"kube-api-access","readOnly":true,"mountPath":"/var/run/secrets/kubernetes.io/serviceaccount"}],"terminationMessagePath":"/dev/termination-log","imagePullPolicy":"IfNotPresent","securityContext":{"privileged":%t,"runAsNonRoot":true}}`,
			c, r.IntN(9), r.IntN(20), 8000+c, r.IntN(100) == 0)
	}
	b = fmt.Appendf(b, `],"restartPolicy":"Always","terminationGracePeriodSeconds":30,"dnsPolicy":"ClusterFirst","serviceAccountName":"default","nodeName":"node-%02d",`, r.IntN(50))
	if r.IntN(20) == 0 {
		b = append(b, `"hostNetwork":true,`...)
	}
	return append(b, `"volumes":[{"name":"kube-api-access","projected":{"sources":[{"serviceAccountToken":{"expirationSeconds":3607,"path":"token"}},{"configMap":{"name":"kube-root-ca.crt","items":[{"key":"ca.crt","path":"ca.crt"}]}}],"defaultMode":420}}],"schedulerName":"default-scheduler","priority":0,"enableServiceLinks":true,"preemptionPolicy":"PreemptLowerPriority"}}`...)
}
