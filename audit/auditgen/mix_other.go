package auditgen

import "strconv"

// helmReleases are the releases the CI deployer upgrades, and their
// current revision.
var helmReleases = []struct {
	ns, name string
	rev      int
}{{"staging", "payments", 57}, {"staging", "checkout", 33}, {"staging", "frontend", 81}, {"prod", "payments", 41}, {"prod", "frontend", 64}}

// ciDeploy is "helm upgrade" run by the CI deployer: read the release
// history, patch the Deployment, store the new release.
func (g *Generator) ciDeploy(t int64) {
	rel := pick(&g.rng, helmReleases)
	w := g.c.byName[rel.ns+"/"+rel.name]
	a := g.c.deployer
	r := g.newReq(t, a, "list")
	r.res(resSecrets, rel.ns, "", "").query("labelSelector=name%3D" + rel.name + "%2Cowner%3Dhelm")
	r.rv, r.i1 = g.rv, 1+g.rng.intn(2)
	r.respBody = helmHistoryBody
	r.s1 = rel.name
	lat := g.rng.latency(6000, 0.5)
	g.submit(r, lat)
	t += lat + int64(g.rng.between(20_000, 400_000))

	d := g.newReq(t, a, "patch")
	d.res(resDeployments, rel.ns, rel.name, "").query("fieldManager=helm")
	d.w, d.rv, d.i1 = w, g.nextRV(), w.replicas
	d.s1 = `{"spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"` + w.name + `"}],"containers":[{"image":"` + w.image + `","name":"` + w.name + `"}]}}}}`
	d.reqBody, d.respBody = rawBody, deploymentBody
	if g.rng.chance(0.05) {
		d.conflict()
	}
	lat = g.writeLatency()
	g.submit(d, lat)
	if d.failed {
		return
	}
	t += lat + int64(g.rng.between(5000, 90_000))
	s := g.newReq(t, a, "create")
	name := "sh.helm.release.v1." + rel.name + ".v" + strconv.Itoa(rel.rev+1+int(t/3_600_000_000)%50)
	s.res(resSecrets, rel.ns, name, "").query("fieldManager=helm")
	s.s1, s.rv, s.code = "helm", g.nextRV(), 201
	s.reqBody = func(dst []byte, r *request) []byte { return secretBody(dst, r, false) }
	s.respBody = func(dst []byte, r *request) []byte { return secretBody(dst, r, true) }
	g.submit(s, g.writeLatency())
}

// helmHistoryBody appends the SecretList of a release's history.
func helmHistoryBody(dst []byte, r *request) []byte {
	dst = append(dst, `{"kind":"SecretList","apiVersion":"v1","metadata":{"resourceVersion":"`...)
	dst = strconv.AppendInt(dst, r.rv, 10)
	dst = append(dst, `"},"items":[`...)
	for i := 0; i < r.i1; i++ {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, '{')
		name := "sh.helm.release.v1." + r.s1 + ".v" + strconv.Itoa(40+i)
		dst = appendSecretRest(dst, name, r.ref.namespace, "helm", true, r.rv-int64(i*7919), r.recv)
	}
	return append(dst, `]}`...)
}

// argoCD is Argo CD's application controller comparing and syncing.
func (g *Generator) argoCD(t int64) {
	a := g.c.argocd
	w := pick(&g.rng, g.c.workloads[:12])
	switch g.rng.intn(4) {
	case 0:
		r := g.newReq(t, a, "patch")
		r.res(resApplications, "argocd", w.ns+"-"+w.name, "")
		r.level = levelRequest
		rr := newRNG(r.seed)
		r.s1 = string(appendTime([]byte(`{"status":{"reconciledAt":`), t)) +
			`,"sync":{"comparedTo":{"destination":{"namespace":"` + w.ns + `","server":"https://kubernetes.default.svc"},"source":{"path":"apps/` + w.name +
			`","repoURL":"https://git.example.com/platform/deploy.git","targetRevision":"main"}},"revision":"` + randHex(&rr, 40) +
			`","status":"Synced"},"health":{"status":"Healthy","lastTransitionTime":"2026-11-24T08:04:13Z"}}}`
		r.reqBody = rawBody
		g.submit(r, g.writeLatency())
	case 1:
		r := g.newReq(t, a, "list")
		r.res(pick(&g.rng, []resource{resDeployments, resServices, resConfigMaps, resIngresses}), w.ns, "", "").query("limit=500")
		g.submit(r, g.rng.latency(5000, 0.7))
	default:
		r := g.newReq(t, a, "get")
		r.res(pick(&g.rng, []resource{resDeployments, resServices, resConfigMaps}), w.ns, w.name, "")
		g.submit(r, g.fastLatency())
	}
}

// scannerAgents are user agents of internet scanners and scripts.
var scannerAgents = []string{
	"curl/8.5.0", "Mozilla/5.0 zgrab/0.x", "python-requests/2.32.3", "Go-http-client/1.1",
	"Mozilla/5.0 (compatible; Nmap Scripting Engine; https://nmap.org/book/nse.html)",
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.0.0 Safari/537.36",
}

// externalIP returns a random address outside the organisation.
func (g *Generator) externalIP() string {
	nets := []string{"198.51.100.", "203.0.113.", "185.220.101.", "45.155.205."}
	// 203.0.113.45 is reserved for the demo's attacker.
	return pick(&g.rng, nets) + strconv.Itoa(g.rng.between(46, 254))
}

// unauthenticated is a request whose credentials were rejected: an expired
// kubeconfig token or a scanner guessing. The API server logs a single
// ResponseStarted event with an empty user.
func (g *Generator) unauthenticated(t int64) {
	var a *actor
	if g.rng.chance(0.6) {
		a = g.c.humans[g.rng.intn(len(g.c.humans))].actor
	} else {
		a = &actor{ip: g.externalIP(), ua: pick(&g.rng, scannerAgents)}
	}
	r := g.newReq(t, a, "list")
	if g.rng.chance(0.5) {
		r.res(resPods, pick(&g.rng, g.c.namespaces), "", "").query("limit=500")
	} else {
		r.verb = "get"
		r.path(pick(&g.rng, []string{"/api?timeout=32s", "/apis?timeout=32s", "/version"}))
	}
	r.unauthorized()
	g.submit(r, g.rng.latency(400, 0.5))
}

// anonymousProbe is an unauthenticated client exploring the API.
func (g *Generator) anonymousProbe(t int64) {
	a := &actor{user: g.c.anonUser, username: "system:anonymous", ip: g.externalIP(), ua: pick(&g.rng, scannerAgents), human: true}
	verb := "get"
	var r *request
	switch g.rng.intn(6) {
	case 0:
		r = g.newReq(t, a, verb)
		r.path("/version")
		r.reason = publicInfoReason
	case 1:
		r = g.newReq(t, a, verb)
		r.path("/healthz")
		r.reason = publicInfoReason
	case 2:
		r = g.newReq(t, a, "list")
		r.res(resSecrets, "kube-system", "", "")
		r.forbidden(a.username)
	case 3:
		r = g.newReq(t, a, "list")
		r.res(resPods, "", "", "")
		r.forbidden(a.username)
	default:
		r = g.newReq(t, a, verb)
		r.path(pick(&g.rng, []string{"/api", "/apis", "/.env", "/metrics", "/api/v1/namespaces/default/pods", "/"}))
		r.forbidden(a.username)
	}
	g.submit(r, g.rng.latency(500, 0.5))
}

// throttled is a request rejected by API Priority and Fairness with 429;
// the response carries no Status object.
func (g *Generator) throttled(t int64) {
	a := g.systemClient()
	if g.rng.chance(0.4) {
		a = g.c.argocd
	}
	r := g.newReq(t, a, "list")
	r.res(pick(&g.rng, []resource{resPods, resConfigMaps, resEvents, resSecrets}), "", "", "").query("limit=500")
	r.level = levelMetadata
	r.setFailure(429, "", "", nil)
	g.submit(r, g.rng.latency(60_000, 0.6))
}

// serverError is a 500, 503 or 504 answer.
func (g *Generator) serverError(t int64) {
	switch g.rng.intn(3) {
	case 0:
		w := pick(&g.rng, g.c.workloads)
		r := g.newReq(t, g.c.controllers["endpointslice-controller"], "update")
		r.res(resEndpointSlices, w.ns, w.name+"-"+stableUID(w.ns + "/eps/" + w.name)[:5], "")
		r.w, r.rv = w, g.nextRV()
		r.reqBody = endpointSliceBody
		r.setFailure(500, "InternalError", "Internal error occurred: etcdserver: leader changed",
			[]byte(`{"causes":[{"message":"etcdserver: leader changed"}]}`))
		g.submit(r, g.rng.latency(900_000, 0.5))
	case 1:
		r := g.newReq(t, g.c.controllers["horizontal-pod-autoscaler"], "list")
		ns := pick(&g.rng, []string{"prod", "staging"})
		r.res(resPodMetrics, ns, "", "").query("labelSelector=app.kubernetes.io%2Fname%3D" + g.workloadIn(ns).name)
		r.setFailure(503, "", "", nil)
		g.submit(r, g.rng.latency(30_000, 0.5))
	default:
		a := g.systemClient()
		r := g.newReq(t, a, "list")
		r.res(resEvents, "", "", "").query("limit=500&resourceVersion=0")
		r.setFailure(504, "Timeout", "Timeout: request did not complete within requested timeout - context deadline exceeded", []byte("{}"))
		g.submit(r, 60_000_000+int64(g.rng.intn(5000)))
	}
}
