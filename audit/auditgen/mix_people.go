package auditgen

import "strconv"

// basicUserReason allows self-reviews for every authenticated user.
const basicUserReason = `RBAC: allowed by ClusterRoleBinding "system:basic-user" of ClusterRole "system:basic-user" to Group "system:authenticated"`

// humanCommands are the kubectl commands people run, by weight.
var humanCommands = []struct {
	weight int
	name   string
}{
	{20, "get-pods"}, {8, "get-pod"}, {6, "describe"}, {8, "logs"}, {4, "exec"}, {2, "port-forward"},
	{5, "apply"}, {2, "scale"}, {2, "restart"}, {3, "delete-pod"}, {3, "edit-configmap"}, {1, "create-configmap"},
	{3, "get-secrets"}, {2, "get-secret"}, {3, "top"}, {2, "can-i"}, {3, "get-nodes"}, {2, "not-found"},
	{4, "forbidden"}, {3, "impersonate"},
}

// access returns the RBAC reason for h in namespace ns and whether the
// request is allowed. The cluster-wide read-only role of non-admins does
// not cover secrets, like the built-in "view" role.
func (h *human) access(ns string, write, secrets bool) (string, bool) {
	if h.admin {
		return h.fallback, true
	}
	if b, ok := h.bindings[ns]; ok {
		return b, true
	}
	if !write && !secrets && h.fallback != "" {
		return h.fallback, true
	}
	return "", false
}

// kubectl starts a request by h and applies RBAC for namespace ns.
func (g *Generator) kubectl(t int64, h *human, verb string, res resource, ns, name, sub string) *request {
	r := g.newReq(t, h.actor, verb)
	r.res(res, ns, name, sub)
	write := verb != "get" && verb != "list" && verb != "watch"
	reason, ok := h.access(ns, write, res == resSecrets)
	if !ok {
		r.forbidden(h.username)
	} else {
		r.reason = reason
	}
	return r
}

// discovery logs the discovery requests kubectl makes on a cold cache.
func (g *Generator) discovery(t int64, a *actor) int64 {
	for _, p := range []string{"/api?timeout=32s", "/apis?timeout=32s"} {
		r := g.newReq(t, a, "get")
		r.path(p)
		r.reason = discoveryReason
		lat := g.rng.latency(900, 0.4)
		g.submit(r, lat)
		t += lat + int64(g.rng.between(300, 2000))
	}
	return t
}

// humanCommand is one kubectl command by a person.
func (g *Generator) humanCommand(t int64) {
	h := g.c.humans[g.rng.intn(len(g.c.humans))]
	if g.rng.chance(0.2) {
		t = g.discovery(t, h.actor)
	}
	ns := pick(&g.rng, h.namespaces)
	w := g.workloadIn(ns)
	p := w.pods[g.rng.intn(len(w.pods))]
	cmd := humanCommands[g.cmdMix.choose(&g.rng)].name
	if cmd == "impersonate" && !h.admin {
		cmd = "get-pods"
	}
	switch cmd {
	case "get-pods":
		r := g.kubectl(t, h, "list", resPods, ns, "", "").query("limit=500")
		g.submit(r, g.rng.latency(4000, 0.7))
	case "get-pod":
		r := g.kubectl(t, h, "get", resPods, ns, p.name, "")
		g.submit(r, g.fastLatency())
	case "describe":
		r := g.kubectl(t, h, "get", resPods, ns, p.name, "")
		lat := g.fastLatency()
		g.submit(r, lat)
		e := g.kubectl(t+lat+800, h, "list", resEvents, ns, "", "")
		e.query("fieldSelector=involvedObject.name%3D" + p.name + "%2CinvolvedObject.namespace%3D" + ns + "%2CinvolvedObject.uid%3D" + p.uid + "&limit=500")
		g.submit(e, g.fastLatency())
	case "logs":
		r := g.kubectl(t, h, "get", resPods, ns, p.name, "log")
		follow := g.rng.chance(0.4)
		q := "container=" + w.name + "&tailLines=200"
		if follow {
			q = "container=" + w.name + "&follow=true&tailLines=50"
		}
		r.query(q).longRunning()
		lat := g.rng.latency(400_000, 0.8)
		if follow {
			lat = int64(g.rng.between(20, 900)) * 1e6
		}
		g.submit(r, lat)
	case "exec":
		g.exec(t, h, p)
	case "port-forward":
		r := g.kubectl(t, h, "create", resPods, ns, p.name, "portforward").longRunning()
		r.level = levelMetadata
		if !r.failed {
			r.code = 101
		}
		g.submit(r, int64(g.rng.between(30, 3600))*1e6)
	case "apply":
		g.apply(t, h, w)
	case "scale":
		r := g.kubectl(t, h, "patch", resDeployments, ns, w.name, "scale")
		r.s1 = `{"spec":{"replicas":` + strconv.Itoa(w.replicas+1) + `}}`
		r.reqBody = rawBody
		r.respBody = scaleBody
		r.w = w
		g.submit(r, g.writeLatency())
	case "restart":
		r := g.kubectl(t, h, "patch", resDeployments, ns, w.name, "").query("fieldManager=kubectl-rollout")
		r.s1 = string(appendTime([]byte(`{"spec":{"template":{"metadata":{"annotations":{"kubectl.kubernetes.io/restartedAt":`), t)) + `}}}}}`
		r.w, r.rv, r.i1 = w, g.nextRV(), w.replicas
		r.reqBody, r.respBody = rawBody, deploymentBody
		g.submit(r, g.writeLatency())
	case "delete-pod":
		r := g.kubectl(t, h, "delete", resPods, ns, p.name, "")
		r.p, r.rv, r.s1 = p, g.nextRV(), "Background"
		r.reqBody = deleteOptionsBody
		r.respBody = func(dst []byte, r *request) []byte { return podBody(dst, r, true) }
		g.submit(r, g.writeLatency())
	case "edit-configmap":
		r := g.kubectl(t, h, "get", resConfigMaps, ns, w.configMap, "")
		lat := g.fastLatency()
		g.submit(r, lat)
		u := g.kubectl(t+lat+int64(g.rng.between(5, 120))*1e6, h, "update", resConfigMaps, ns, w.configMap, "")
		u.query("fieldManager=kubectl-edit&fieldValidation=Strict")
		u.rv, u.i1 = g.nextRV(), g.rng.between(300, 3000)
		u.ref.uid, u.ref.rv = stableUID(ns+"/"+w.configMap), strconv.FormatInt(u.rv-5, 10)
		u.reqBody, u.respBody = storedConfigMapBody, storedConfigMapBody
		if g.rng.chance(0.1) && !u.failed {
			u.conflict()
		}
		g.submit(u, g.writeLatency())
	case "create-configmap":
		r := g.kubectl(t, h, "create", resConfigMaps, ns, w.name+"-overrides", "").query("fieldManager=kubectl-create&fieldValidation=Strict")
		r.i1, r.code, r.rv = g.rng.between(200, 1200), 201, g.nextRV()
		r.reqBody, r.respBody = newConfigMapBody, storedConfigMapBody
		if g.rng.chance(0.3) && !r.failed {
			r.alreadyExists()
		}
		g.submit(r, g.writeLatency())
	case "get-secrets":
		r := g.kubectl(t, h, "list", resSecrets, ns, "", "").query("limit=500")
		r.rv = g.rv
		r.respBody = secretTableBody
		g.submit(r, g.rng.latency(3000, 0.6))
	case "get-secret":
		r := g.kubectl(t, h, "get", resSecrets, ns, w.secret, "")
		r.rv, r.s1 = g.rv, "opaque"
		r.respBody = func(dst []byte, r *request) []byte { return secretBody(dst, r, true) }
		g.submit(r, g.fastLatency())
	case "top":
		r := g.kubectl(t, h, "list", resPodMetrics, ns, "", "")
		if g.rng.chance(0.2) && !r.failed {
			r.setFailure(503, "", "", nil)
		}
		g.submit(r, g.rng.latency(60_000, 0.8))
	case "can-i":
		r := g.newReq(t, h.actor, "create")
		r.res(resSSARs, "", "", "")
		r.level, r.reason, r.code = levelRequestResponse, basicUserReason, 201
		r.s1, r.s2 = pick(&g.rng, []string{"get", "create", "delete"}), ns
		if _, ok := h.access(ns, r.s1 != "get", false); ok {
			r.i1 = 1
		}
		r.reqBody = func(dst []byte, r *request) []byte { return ssarBody(dst, r, false) }
		r.respBody = func(dst []byte, r *request) []byte { return ssarBody(dst, r, true) }
		g.submit(r, g.fastLatency())
	case "get-nodes":
		r := g.kubectl(t, h, "list", resNodes, "", "", "").query("limit=500")
		g.submit(r, g.rng.latency(3000, 0.6))
	case "not-found":
		r := g.kubectl(t, h, "get", resPods, ns, w.name+"-"+randHashLike(&g.rng)+"-"+randSuffix(&g.rng, 5), "")
		if !r.failed {
			r.notFound()
		}
		g.submit(r, g.fastLatency())
	case "forbidden":
		g.forbiddenAttempt(t, h)
	case "impersonate":
		g.impersonate(t, h)
	}
}

// workloadIn returns a workload in ns (any workload if ns has none).
func (g *Generator) workloadIn(ns string) *workload {
	for i := 0; i < 8; i++ {
		w := pick(&g.rng, g.c.workloads)
		if w.ns == ns {
			return w
		}
	}
	for _, w := range g.c.workloads {
		if w.ns == ns {
			return w
		}
	}
	return g.c.workloads[0]
}

// exec runs a command in p, or opens an interactive shell: the API server
// logs ResponseStarted with 101 Switching Protocols when the stream opens
// and ResponseComplete when it closes.
func (g *Generator) exec(t int64, h *human, p *pod) {
	r := g.kubectl(t, h, "create", resPods, p.w.ns, p.name, "exec")
	var dur int64
	if g.rng.chance(0.5) {
		cmd := pick(&g.rng, []string{"env", "cat&command=%2Fetc%2Fapp%2Fapplication.yaml", "ps&command=aux", "date"})
		r.query("command=" + cmd + "&container=" + p.w.name + "&stderr=true&stdout=true")
		dur = g.rng.latency(1_500_000, 0.6)
	} else {
		r.query("command=%2Fbin%2Fsh&container=" + p.w.name + "&stdin=true&stdout=true&tty=true")
		dur = int64(g.rng.between(30, 900)) * 1e6
	}
	r.level = levelMetadata
	if !r.failed {
		r.code = 101
		r.longRunning()
	} else {
		dur = g.fastLatency()
	}
	g.submit(r, dur)
}

// apply is "kubectl apply" of a Deployment: a read, then a patch.
func (g *Generator) apply(t int64, h *human, w *workload) {
	r := g.kubectl(t, h, "get", resDeployments, w.ns, w.name, "")
	lat := g.fastLatency()
	g.submit(r, lat)
	if r.failed {
		return
	}
	p := g.kubectl(t+lat+int64(g.rng.between(2000, 20_000)), h, "patch", resDeployments, w.ns, w.name, "")
	p.query("fieldManager=kubectl-client-side-apply&fieldValidation=Strict")
	p.w, p.rv, p.i1 = w, g.nextRV(), w.replicas
	p.reqBody, p.respBody = applyPatchBody, deploymentBody
	if g.rng.chance(0.05) && !p.failed {
		p.conflict()
	}
	g.submit(p, g.writeLatency())
}

// forbiddenAttempt is a person trying something their role does not allow.
func (g *Generator) forbiddenAttempt(t int64, h *human) {
	var r *request
	switch g.rng.intn(4) {
	case 0:
		r = g.newReq(t, h.actor, "list")
		r.res(resSecrets, "kube-system", "", "").query("limit=500")
	case 1:
		p := g.workloadIn("kube-system").pods[0]
		r = g.newReq(t, h.actor, "create")
		r.res(resPods, "kube-system", p.name, "exec").query("command=%2Fbin%2Fsh&container=" + p.w.name + "&stdin=true&stdout=true&tty=true")
		r.level = levelMetadata
	case 2:
		r = g.newReq(t, h.actor, "delete")
		r.res(resNamespaces, "", "staging", "")
	default:
		r = g.newReq(t, h.actor, "get")
		r.res(resCRBs, "", "cluster-admin", "")
	}
	if h.admin {
		r.reason = h.fallback
		if r.verb == "delete" {
			r.verb = "get"
			r.res(resNamespaces, "", "staging", "")
		}
		if r.ref.sub == "exec" {
			r.code = 101
			r.longRunning()
			g.submit(r, int64(g.rng.between(5, 300))*1e6)
			return
		}
	} else {
		r.forbidden(h.username)
	}
	g.submit(r, g.fastLatency())
}

// impersonate is an admin acting as another user with --as.
func (g *Generator) impersonate(t int64, h *human) {
	target := g.c.humans[0]
	r := g.newReq(t, h.actor, "list")
	if g.rng.chance(0.6) {
		r.res(resPods, "team-a", "", "").query("limit=500")
		r.reason = target.bindings["team-a"]
	} else {
		r.res(resSecrets, "prod", "", "").query("limit=500")
		r.forbidden(target.username)
	}
	r.imp = renderUser(target.username, "", target.groups, nil)
	g.submit(r, g.rng.latency(3000, 0.6))
}

// scaleBody appends the Scale returned for a scale patch.
func scaleBody(dst []byte, r *request) []byte {
	w := r.w
	dst = append(dst, `{"kind":"Scale","apiVersion":"autoscaling/v1",`...)
	dst = appendMeta(dst, w.name, w.ns, w.depUID, r.recv%1e9, createdAt(w.ns+"/deploy/"+w.name))
	dst = append(dst, `},"spec":{"replicas":`...)
	dst = appendInt(dst, int64(w.replicas+1))
	dst = append(dst, `},"status":{"replicas":`...)
	dst = appendInt(dst, int64(w.replicas))
	dst = append(dst, `,"selector":"app.kubernetes.io/name=`...)
	dst = append(dst, w.name...)
	return append(dst, `"}}`...)
}

// applyPatchBody appends kubectl's client-side apply patch: the new
// last-applied configuration and the changed image.
func applyPatchBody(dst []byte, r *request) []byte {
	w := r.w
	manifest := []byte(`{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"annotations":{},"name":`)
	manifest = appendStr(manifest, w.name)
	manifest = append(manifest, `,"namespace":`...)
	manifest = appendStr(manifest, w.ns)
	manifest = append(manifest, `},"spec":{"replicas":`...)
	manifest = appendInt(manifest, int64(w.replicas))
	manifest = append(manifest, `,"selector":{"matchLabels":{"app.kubernetes.io/name":`...)
	manifest = appendStr(manifest, w.name)
	manifest = append(manifest, `}},"template":{"metadata":{`...)
	manifest = appendLabels(manifest, w, false)
	manifest = append(manifest, `},`...)
	manifest = appendPodSpec(manifest, w, false, "")
	manifest = append(manifest, "}}}\n"...)
	dst = append(dst, `{"metadata":{"annotations":{"kubectl.kubernetes.io/last-applied-configuration":`...)
	dst = appendStr(dst, string(manifest))
	dst = append(dst, `}},"spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":`...)
	dst = appendStr(dst, w.name)
	dst = append(dst, `}],"containers":[{"image":`...)
	dst = appendStr(dst, w.image)
	dst = append(dst, `,"name":`...)
	dst = appendStr(dst, w.name)
	return append(dst, `}]}}}}`...)
}
