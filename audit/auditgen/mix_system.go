package auditgen

import (
	"strconv"
	"strings"
)

// mixEntry is one kind of traffic and its share of the arrivals.
type mixEntry struct {
	weight int
	fn     spawnFunc
}

// Weights of the long-running watches, which warmUp also needs.
const (
	wKubeletWatch  = 18
	wInformerWatch = 30
)

// mixTable returns the traffic mix. Weights are relative shares of request
// arrivals; larger requests are rarer, as in a real cluster.
func mixTable() []mixEntry {
	return []mixEntry{
		// Kubelets.
		{150, (*Generator).kubeletLease},
		{80, (*Generator).kubeletGetNode},
		{40, (*Generator).kubeletNodeStatus},
		{40, (*Generator).kubeletPodStatus},
		{14, (*Generator).kubeletToken},
		{20, (*Generator).kubeletEvent},
		{wKubeletWatch, (*Generator).kubeletWatch},
		// Control plane.
		{110, (*Generator).leaderElection},
		{12, (*Generator).apiserverLease},
		{4, (*Generator).replicaSetCreatesPod},
		{2, (*Generator).replicaSetDeletesPod},
		{5, (*Generator).deploymentStatus},
		{5, (*Generator).replicaSetStatus},
		{14, (*Generator).endpointSliceUpdate},
		{14, (*Generator).informerList},
		{wInformerWatch, (*Generator).informerWatch},
		{30, (*Generator).garbageCollector},
		{30, (*Generator).delegatedAuth},
		// Add-ons.
		{25, (*Generator).metricsServer},
		{14, (*Generator).ingressController},
		{14, (*Generator).certManager},
		{10, (*Generator).prometheusScrape},
		// People and automation.
		{34, (*Generator).humanCommand},
		{2, (*Generator).ciDeploy},
		{18, (*Generator).argoCD},
		// Failures and noise.
		{3, (*Generator).unauthenticated},
		{3, (*Generator).anonymousProbe},
		{3, (*Generator).throttled},
		{2, (*Generator).serverError},
	}
}

// kubeletLease renews a node's heartbeat Lease in kube-node-lease. The
// simulated policy logs node heartbeats at Metadata level.
func (g *Generator) kubeletLease(t int64) {
	n := g.randomNode()
	r := g.newReq(t, n.kubelet, "update")
	r.res(resLeases, "kube-node-lease", n.name, "").query("timeout=10s")
	r.level = levelMetadata
	r.ref.uid = stableUID("lease/" + n.name)
	r.ref.rv = strconv.FormatInt(g.nextRV()-int64(g.rng.intn(3000)), 10)
	r.reason = ""
	g.submit(r, g.rng.latency(2500, 0.6))
}

// kubeletGetNode reads the kubelet's own Node object.
func (g *Generator) kubeletGetNode(t int64) {
	n := g.randomNode()
	r := g.newReq(t, n.kubelet, "get")
	r.res(resNodes, "", n.name, "").query("resourceVersion=0&timeout=10s")
	r.reason = ""
	g.submit(r, g.rng.latency(700, 0.5))
}

// kubeletNodeStatus patches node status; a few carry the full image list.
func (g *Generator) kubeletNodeStatus(t int64) {
	n := g.randomNode()
	r := g.newReq(t, n.kubelet, "patch")
	r.res(resNodes, "", n.name, "status").query("timeout=10s")
	r.reason = ""
	if g.rng.chance(0.06) {
		r.i1 = 1
	}
	r.reqBody = nodeStatusPatchBody
	g.submit(r, g.writeLatency())
}

// kubeletPodStatus patches the status of a pod on the node.
func (g *Generator) kubeletPodStatus(t int64) {
	p := g.randomPod()
	r := g.newReq(t, p.node.kubelet, "patch")
	r.res(resPods, p.w.ns, p.name, "status")
	r.level = levelRequest
	r.p, r.reason = p, ""
	r.reqBody = podStatusPatchBody
	if g.rng.chance(0.01) {
		r.notFound()
	}
	g.submit(r, g.writeLatency())
}

// kubeletToken requests a bound service-account token for a pod.
func (g *Generator) kubeletToken(t int64) {
	p := g.randomPod()
	r := g.newReq(t, p.node.kubelet, "create")
	r.res(resServiceAccts, p.w.ns, p.w.sa, "token")
	r.p, r.reason, r.i1 = p, "", 3607
	r.s2 = newUUID(&g.rng)
	r.issued = "JTI=" + r.s2
	r.code = 201
	r.reqBody, r.respBody = tokenRequestBody, tokenResponseBody
	g.submit(r, g.rng.latency(3000, 0.5))
}

// kubeletEvent records a core/v1 Event about a pod.
func (g *Generator) kubeletEvent(t int64) {
	p := g.randomPod()
	r := g.newReq(t, p.node.kubelet, "create")
	r.p, r.reason, r.s1 = p, "", "kubelet"
	r.s2 = pick(&g.rng, eventReasons[:6])
	r.res(resEvents, p.w.ns, p.name+"."+randHex(&g.rng, 16), "")
	r.rv = g.rv
	r.code = 201
	r.reqBody = coreEventBody
	g.submit(r, g.writeLatency())
}

// kubeletWatch ends one of the kubelet's long-running watches.
func (g *Generator) kubeletWatch(t int64) {
	n := g.randomNode()
	r := g.newReq(t, n.kubelet, "watch")
	r.reason = ""
	secs := g.rng.between(300, 600)
	switch g.rng.intn(5) {
	case 0:
		r.res(resPods, "", "", "").watchQuery(g, "fieldSelector=spec.nodeName%3D"+n.name, secs)
	case 1:
		p := g.podOn(n)
		r.res(resConfigMaps, p.w.ns, "", "").watchQuery(g, "fieldSelector=metadata.name%3D"+p.w.configMap, secs)
	case 2:
		p := g.podOn(n)
		r.res(resSecrets, p.w.ns, "", "").watchQuery(g, "fieldSelector=metadata.name%3D"+p.w.secret, secs)
	case 3:
		r.res(resNodes, "", "", "").watchQuery(g, "fieldSelector=metadata.name%3D"+n.name, secs)
	default:
		r.res(pick(&g.rng, []resource{resServices, resRuntimeClasses, resCSIDrivers}), "", "", "").watchQuery(g, "", secs)
	}
	r.longRunning()
	g.submit(r, g.watchLatency(secs))
}

// leaderElection renews (or reads) a leader-election Lease.
func (g *Generator) leaderElection(t int64) {
	type holder struct {
		a       *actor
		ns, ln  string
		manager string
		dur     int
	}
	c := g.c
	holders := [...]holder{
		{c.kcm, "kube-system", "kube-controller-manager", "kube-controller-manager", 15},
		{c.schedLE, "kube-system", "kube-scheduler", "kube-scheduler", 15},
		{c.addons["cert-manager"], "kube-system", "cert-manager-controller", "cert-manager-controller", 60},
		{c.addons["cainjector"], "kube-system", "cert-manager-cainjector-leader-election", "cert-manager-cainjector", 60},
		{c.addons["ingress-nginx"], "ingress-nginx", "ingress-nginx-leader", "nginx-ingress-controller", 30},
	}
	h := holders[g.rng.intn(len(holders))]
	a := h.a
	verb := "update"
	if g.rng.chance(0.45) {
		verb = "get"
	}
	r := g.newReq(t, a, verb)
	r.res(resLeases, h.ns, h.ln, "").query("timeout=5s")
	if verb == "update" {
		r.ref.uid = stableUID("lease/" + h.ns + "/" + h.ln)
		r.rv = g.nextRV() - int64(g.rng.intn(5000))
		r.ref.rv = strconv.FormatInt(r.rv, 10)
		r.s1 = g.c.nodes[0].name + "_" + stableUID("holder/"+h.ln)
		r.s2, r.i1, r.now = h.manager, h.dur, t
		r.reqBody = leaseBody
		if g.rng.chance(0.02) {
			r.conflict()
		}
	}
	g.submit(r, g.rng.latency(2200, 0.7))
}

// apiserverLease renews the API server's identity Lease.
func (g *Generator) apiserverLease(t int64) {
	r := g.newReq(t, g.c.apiserver, "update")
	r.res(resLeases, "kube-system", g.c.apiserverID, "")
	r.ref.uid = stableUID("lease/" + g.c.apiserverID)
	r.rv = g.nextRV()
	r.ref.rv = strconv.FormatInt(r.rv-2, 10)
	r.reason = ""
	r.s1, r.s2, r.i1, r.now = g.c.apiserverID+"_"+stableUID("apiserver-holder"), "kube-apiserver", 3600, t
	r.reqBody = leaseBody
	g.submit(r, g.rng.latency(3000, 0.6))
}

// replicaSetCreatesPod creates a pod (large bodies), then the scheduler
// binds it and records an event.
func (g *Generator) replicaSetCreatesPod(t int64) {
	p := g.randomPod()
	r := g.newReq(t, g.c.controllers["replicaset-controller"], "create")
	r.res(resPods, p.w.ns, "", "")
	r.p, r.rv, r.code = p, g.nextRV(), 201
	r.podSec = "restricted:latest"
	r.reqBody = func(dst []byte, r *request) []byte { return podBody(dst, r, false) }
	r.respBody = func(dst []byte, r *request) []byte { return podBody(dst, r, true) }
	lat := g.rng.latency(9000, 0.6)
	if g.rng.chance(0.02) {
		r.ref.name = p.name
		r.alreadyExists()
	}
	g.submit(r, lat)

	t2 := t + lat + int64(g.rng.between(2000, 40_000))
	b := g.newReq(t2, g.c.sched, "create")
	b.res(resPods, p.w.ns, p.name, "binding")
	b.p, b.code = p, 201
	b.reqBody = bindingBody
	g.submit(b, g.writeLatency())

	e := g.newReq(t2+int64(g.rng.between(500, 3000)), g.c.sched, "create")
	e.res(resEventsV1, p.w.ns, p.name+"."+randHex(&g.rng, 16), "")
	e.p, e.rv, e.code = p, g.rv, 201
	e.reqBody = eventsV1Body
	g.submit(e, g.writeLatency())
}

// replicaSetDeletesPod deletes a pod when a ReplicaSet scales down.
func (g *Generator) replicaSetDeletesPod(t int64) {
	p := g.randomPod()
	r := g.newReq(t, g.c.controllers["replicaset-controller"], "delete")
	r.res(resPods, p.w.ns, p.name, "")
	r.level = levelRequest
	r.s1 = "Background"
	r.reqBody = deleteOptionsBody
	if g.rng.chance(0.1) {
		r.notFound()
	}
	g.submit(r, g.writeLatency())
}

// deploymentStatus updates a Deployment's status.
func (g *Generator) deploymentStatus(t int64) {
	w := pick(&g.rng, g.c.workloads)
	r := g.newReq(t, g.c.controllers["deployment-controller"], "update")
	r.res(resDeployments, w.ns, w.name, "status")
	r.w, r.rv = w, g.nextRV()-int64(g.rng.intn(2000))
	r.ref.uid, r.ref.rv = w.depUID, strconv.FormatInt(r.rv, 10)
	r.i1 = w.replicas - g.rng.intn(2)
	r.reqBody = deploymentBody
	if g.rng.chance(0.03) {
		r.conflict()
	}
	g.submit(r, g.writeLatency())
}

// replicaSetStatus updates a ReplicaSet's status.
func (g *Generator) replicaSetStatus(t int64) {
	w := pick(&g.rng, g.c.workloads)
	r := g.newReq(t, g.c.controllers["replicaset-controller"], "update")
	r.res(resReplicaSets, w.ns, w.name+"-"+w.rsHash, "status")
	r.w, r.rv = w, g.nextRV()-int64(g.rng.intn(2000))
	r.ref.uid, r.ref.rv = w.rsUID, strconv.FormatInt(r.rv, 10)
	r.i1 = w.replicas - g.rng.intn(2)
	r.reqBody = replicaSetBody
	g.submit(r, g.writeLatency())
}

// endpointSliceUpdate updates the EndpointSlice of a Service.
func (g *Generator) endpointSliceUpdate(t int64) {
	w := pick(&g.rng, g.c.workloads)
	r := g.newReq(t, g.c.controllers["endpointslice-controller"], "update")
	name := w.name + "-" + stableUID(w.ns + "/eps/" + w.name)[:5]
	r.res(resEndpointSlices, w.ns, name, "")
	r.w, r.rv = w, g.nextRV()-int64(g.rng.intn(2000))
	r.ref.uid, r.ref.rv = stableUID(w.ns+"/eps/"+name), strconv.FormatInt(r.rv, 10)
	r.reqBody = endpointSliceBody
	if g.rng.chance(0.03) {
		r.conflict()
	}
	g.submit(r, g.writeLatency())
}

// informerList is an informer's initial (or re-)list.
func (g *Generator) informerList(t int64) {
	a := g.systemClient()
	r := g.newReq(t, a, "list")
	res := pick(&g.rng, []resource{resPods, resNodes, resServices, resEndpointSlices, resDeployments,
		resReplicaSets, resConfigMaps, resNamespaces, resJobs, resCronJobs, resIngresses, resPVCs, resHPAs, resNetPols})
	r.res(res, "", "", "").query("limit=500&resourceVersion=0")
	lat := g.rng.latency(9000, 1.0)
	if g.rng.chance(0.04) {
		lat = int64(g.rng.between(500_001, 3_000_000)) // a large relist
	}
	g.submit(r, lat)
}

// informerWatch ends one of the many long-running informer watches.
func (g *Generator) informerWatch(t int64) {
	a := g.systemClient()
	r := g.newReq(t, a, "watch")
	res := pick(&g.rng, []resource{resPods, resNodes, resServices, resEndpointSlices, resDeployments,
		resReplicaSets, resConfigMaps, resSecrets, resNamespaces, resLeases, resStatefulSets, resDaemonSets,
		resIngresses, resServiceAccts, resClusterRoles, resFlowSchemas})
	secs := g.rng.between(300, 600)
	sel := ""
	if strings.HasPrefix(a.ua, "kube-proxy") && res == resEndpointSlices {
		sel = "labelSelector=%21service.kubernetes.io%2Fheadless%2C%21service.kubernetes.io%2Fservice-proxy-name"
	}
	r.res(res, "", "", "").watchQuery(g, sel, secs)
	r.longRunning()
	g.submit(r, g.watchLatency(secs))
}

// systemClient returns a random in-cluster client that runs informers.
func (g *Generator) systemClient() *actor {
	c := g.c
	switch g.rng.intn(6) {
	case 0:
		return c.sched
	case 1:
		return pick(&g.rng, c.nodes).proxy
	case 2:
		return pick(&g.rng, []*actor{c.addons["coredns"], c.addons["kube-state-metrics"], c.addons["prometheus"],
			c.addons["ingress-nginx"], c.addons["cert-manager"], c.argocd})
	}
	return c.controllers[pick(&g.rng, c.ctrlNames)]
}

// garbageCollector checks owners and deletes orphans.
func (g *Generator) garbageCollector(t int64) {
	w := pick(&g.rng, g.c.workloads)
	a := g.c.controllers["generic-garbage-collector"]
	if g.rng.chance(0.8) {
		r := g.newReq(t, a, "get")
		r.res(resReplicaSets, w.ns, w.name+"-"+randHashLike(&g.rng), "")
		if g.rng.chance(0.3) {
			r.notFound()
		}
		g.submit(r, g.fastLatency())
		return
	}
	r := g.newReq(t, a, "delete")
	r.res(resReplicaSets, w.ns, w.name+"-"+randHashLike(&g.rng), "")
	r.s1 = "Background"
	r.reqBody = deleteOptionsBody
	g.submit(r, g.writeLatency())
}

// delegatedAuth is an aggregated or add-on server checking a token or an
// access via TokenReview / SubjectAccessReview.
func (g *Generator) delegatedAuth(t int64) {
	a := pick(&g.rng, []*actor{g.c.addons["metrics-server"], g.c.addons["kube-state-metrics"], g.c.addons["prometheus"]})
	r := g.newReq(t, a, "create")
	if g.rng.chance(0.5) {
		r.res(resTokenReviews, "", "", "")
	} else {
		r.res(resSARs, "", "", "")
	}
	r.code = 201
	g.submit(r, g.rng.latency(1800, 0.6))
}

// metricsServer lists nodes and pods for resource metrics.
func (g *Generator) metricsServer(t int64) {
	a := g.c.addons["metrics-server"]
	r := g.newReq(t, a, "get")
	n := g.randomNode()
	r.res(resNodes, "", n.name, "")
	if g.rng.chance(0.5) {
		r.verb = "list"
		r.res(resPods, "", "", "").query("limit=500&resourceVersion=0")
	}
	g.submit(r, g.rng.latency(2500, 0.8))
}

// ingressController reads configuration and updates Ingress status.
func (g *Generator) ingressController(t int64) {
	a := g.c.addons["ingress-nginx"]
	w := pick(&g.rng, g.c.workloads[:12])
	switch x := g.rng.intn(30); {
	case x < 15:
		r := g.newReq(t, a, "get")
		r.res(resConfigMaps, "ingress-nginx", "ingress-nginx-controller", "")
		g.submit(r, g.fastLatency())
	case x < 29:
		r := g.newReq(t, a, "list")
		r.res(resIngresses, "", "", "").query("limit=500&resourceVersion=0")
		g.submit(r, g.fastLatency())
	default:
		r := g.newReq(t, a, "get")
		r.res(resSecrets, w.ns, w.ns+"-tls", "")
		r.s1, r.rv = "tls", g.rv
		r.respBody = func(dst []byte, r *request) []byte { return secretBody(dst, r, true) }
		g.submit(r, g.fastLatency())
	}
}

// certManager checks Certificates and their secrets.
func (g *Generator) certManager(t int64) {
	a := g.c.addons["cert-manager"]
	ns := pick(&g.rng, []string{"prod", "staging", "monitoring", "argocd"})
	switch x := g.rng.intn(30); {
	case x < 15:
		r := g.newReq(t, a, "get")
		r.res(resCertificates, ns, ns+"-tls", "")
		g.submit(r, g.fastLatency())
	case x < 29:
		r := g.newReq(t, a, "list")
		r.res(resCertRequests, ns, "", "").query("labelSelector=cert-manager.io%2Fcertificate-name%3D" + ns + "-tls")
		g.submit(r, g.fastLatency())
	default:
		r := g.newReq(t, a, "get")
		r.res(resSecrets, ns, ns+"-tls", "")
		r.s1, r.rv = "tls", g.rv
		r.respBody = func(dst []byte, r *request) []byte { return secretBody(dst, r, true) }
		if g.rng.chance(0.05) {
			r.notFound()
		}
		g.submit(r, g.fastLatency())
	}
}

// prometheusScrape is Prometheus scraping the API server's metrics.
func (g *Generator) prometheusScrape(t int64) {
	r := g.newReq(t, g.c.addons["prometheus"], "get")
	r.path(pick(&g.rng, []string{"/metrics", "/metrics", "/metrics/slis", "/livez", "/readyz"}))
	g.submit(r, g.rng.latency(30_000, 0.7))
}
