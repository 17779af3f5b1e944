package auditgen

import "strconv"

// The API resources the simulation touches (read-only).
var (
	resNodes          = resource{"nodes", "", "v1", "Node", false}
	resNamespaces     = resource{"namespaces", "", "v1", "Namespace", false}
	resPods           = resource{"pods", "", "v1", "Pod", true}
	resEvents         = resource{"events", "", "v1", "Event", true}
	resConfigMaps     = resource{"configmaps", "", "v1", "ConfigMap", true}
	resSecrets        = resource{"secrets", "", "v1", "Secret", true}
	resServices       = resource{"services", "", "v1", "Service", true}
	resServiceAccts   = resource{"serviceaccounts", "", "v1", "ServiceAccount", true}
	resPVCs           = resource{"persistentvolumeclaims", "", "v1", "PersistentVolumeClaim", true}
	resLeases         = resource{"leases", "coordination.k8s.io", "v1", "Lease", true}
	resEventsV1       = resource{"events", "events.k8s.io", "v1", "Event", true}
	resEndpointSlices = resource{"endpointslices", "discovery.k8s.io", "v1", "EndpointSlice", true}
	resDeployments    = resource{"deployments", "apps", "v1", "Deployment", true}
	resReplicaSets    = resource{"replicasets", "apps", "v1", "ReplicaSet", true}
	resStatefulSets   = resource{"statefulsets", "apps", "v1", "StatefulSet", true}
	resDaemonSets     = resource{"daemonsets", "apps", "v1", "DaemonSet", true}
	resJobs           = resource{"jobs", "batch", "v1", "Job", true}
	resCronJobs       = resource{"cronjobs", "batch", "v1", "CronJob", true}
	resIngresses      = resource{"ingresses", "networking.k8s.io", "v1", "Ingress", true}
	resNetPols        = resource{"networkpolicies", "networking.k8s.io", "v1", "NetworkPolicy", true}
	resHPAs           = resource{"horizontalpodautoscalers", "autoscaling", "v2", "HorizontalPodAutoscaler", true}
	resCRBs           = resource{"clusterrolebindings", "rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", false}
	resClusterRoles   = resource{"clusterroles", "rbac.authorization.k8s.io", "v1", "ClusterRole", false}
	resSSARs          = resource{"selfsubjectaccessreviews", "authorization.k8s.io", "v1", "SelfSubjectAccessReview", false}
	resSSRRs          = resource{"selfsubjectrulesreviews", "authorization.k8s.io", "v1", "SelfSubjectRulesReview", false}
	resSARs           = resource{"subjectaccessreviews", "authorization.k8s.io", "v1", "SubjectAccessReview", false}
	resTokenReviews   = resource{"tokenreviews", "authentication.k8s.io", "v1", "TokenReview", false}
	resCertificates   = resource{"certificates", "cert-manager.io", "v1", "Certificate", true}
	resCertRequests   = resource{"certificaterequests", "cert-manager.io", "v1", "CertificateRequest", true}
	resApplications   = resource{"applications", "argoproj.io", "v1alpha1", "Application", true}
	resPodMetrics     = resource{"pods", "metrics.k8s.io", "v1beta1", "PodMetrics", true}
	resCSIDrivers     = resource{"csidrivers", "storage.k8s.io", "v1", "CSIDriver", false}
	resRuntimeClasses = resource{"runtimeclasses", "node.k8s.io", "v1", "RuntimeClass", false}
	resFlowSchemas    = resource{"flowschemas", "flowcontrol.apiserver.k8s.io", "v1", "FlowSchema", false}
)

// newReq starts a request by a received at t. The decision defaults to
// allow with a's RBAC reason, the level to Metadata and the code to 200.
func (g *Generator) newReq(t int64, a *actor, verb string) *request {
	r := g.alloc()
	appendUUID(r.id[:0], &g.rng)
	r.seed = g.rng.u64()
	r.recv = t
	r.verb = verb
	r.a = a
	r.c = g.c
	r.user = a.user
	r.ip = a.ip
	r.ua = a.ua
	r.code = 200
	r.decision, r.reason = "allow", a.reason
	if a.legacy {
		r.legacy = a.username
	}
	r.stages = stageResponseComplete
	if a.human {
		r.stages |= stageRequestReceived
	}
	return r
}

// target sets the object of r and its URI path. The name is part of the
// path except for collection verbs and plain creates.
func (r *request) target(res resource, ns, name, sub string) *request {
	r.hasRef = true
	r.ref = objRef{res: res, namespace: ns, name: name, sub: sub}
	if res.group == "" {
		r.uri = append(r.uri[:0], "/api/"...)
	} else {
		r.uri = append(r.uri[:0], "/apis/"...)
		r.uri = append(r.uri, res.group...)
		r.uri = append(r.uri, '/')
	}
	r.uri = append(r.uri, res.version...)
	if ns != "" && res.namespaced {
		r.uri = append(r.uri, "/namespaces/"...)
		r.uri = append(r.uri, ns...)
	}
	r.uri = append(r.uri, '/')
	r.uri = append(r.uri, res.name...)
	collection := r.verb == "list" || r.verb == "watch" || r.verb == "deletecollection" || (r.verb == "create" && sub == "")
	if name != "" && !collection {
		r.uri = append(r.uri, '/')
		r.uri = append(r.uri, name...)
		if sub != "" {
			r.uri = append(r.uri, '/')
			r.uri = append(r.uri, sub...)
		}
	}
	if r.verb == "list" || r.verb == "watch" || r.verb == "deletecollection" {
		r.ref.name = ""
	}
	return r
}

// query appends a query string (without the leading '?') to the URI.
func (r *request) query(q string) *request {
	r.uri = append(r.uri, '?')
	r.uri = append(r.uri, q...)
	return r
}

// path sets a non-resource URI: the event has no objectRef.
func (r *request) path(p string) *request {
	r.hasRef = false
	r.uri = append(r.uri[:0], p...)
	return r
}

// watchQuery appends the query of an informer watch lasting secs seconds.
func (r *request) watchQuery(g *Generator, selector string, secs int) *request {
	r.uri = append(r.uri, "?allowWatchBookmarks=true"...)
	if selector != "" {
		r.uri = append(r.uri, '&')
		r.uri = append(r.uri, selector...)
	}
	r.uri = append(r.uri, "&resourceVersion="...)
	r.uri = strconv.AppendInt(r.uri, g.rv-int64(g.rng.intn(50_000)), 10)
	r.uri = append(r.uri, "&timeout="...)
	r.uri = append(r.uri, strconv.Itoa(secs/60)+"m"+strconv.Itoa(secs%60)+"s"...)
	r.uri = append(r.uri, "&timeoutSeconds="...)
	r.uri = strconv.AppendInt(r.uri, int64(secs), 10)
	r.uri = append(r.uri, "&watch=true"...)
	return r
}

// longRunning marks r as a watch, exec, log or port-forward: the API
// server logs ResponseStarted when the response begins.
func (r *request) longRunning() *request {
	r.stages |= stageResponseStarted
	return r
}

// withLevel sets the audit level.
func (r *request) withLevel(l level) *request {
	r.level = l
	return r
}

// policyLevel returns the audit level the simulated policy assigns: full
// bodies for secrets, tokens, RBAC and pods; request bodies for other
// writes; metadata for reads.
func policyLevel(a *actor, verb string, res resource, sub string) level {
	switch {
	case res.name == "secrets" && res.group == "", res.group == "rbac.authorization.k8s.io",
		res.name == "serviceaccounts" && sub == "token":
		return levelRequestResponse
	case res.name == "tokenreviews", res.name == "subjectaccessreviews":
		return levelMetadata
	case verb == "get" || verb == "list" || verb == "watch":
		return levelMetadata
	case res.name == "pods" && res.group == "" && sub == "":
		return levelRequestResponse
	case a.human && sub != "exec" && sub != "portforward" && sub != "attach":
		return levelRequestResponse
	}
	return levelRequest
}

// res sets the target and the policy level in one step.
func (r *request) res(res resource, ns, name, sub string) *request {
	r.target(res, ns, name, sub)
	r.level = policyLevel(r.a, r.verb, res, sub)
	return r
}

// randomPod returns a random pod of the cluster.
func (g *Generator) randomPod() *pod {
	w := pick(&g.rng, g.c.workloads)
	return w.pods[g.rng.intn(len(w.pods))]
}

// randomNode returns a random node, mostly a worker.
func (g *Generator) randomNode() *node {
	if g.rng.chance(0.15) {
		return g.c.nodes[g.rng.intn(3)]
	}
	return pick(&g.rng, g.c.workers)
}

// podOn returns a random pod scheduled on n, or any pod.
func (g *Generator) podOn(n *node) *pod {
	for i := 0; i < 6; i++ {
		p := g.randomPod()
		if p.node == n {
			return p
		}
	}
	return g.randomPod()
}

// fastLatency is the latency of a cheap request (median ~1.5 ms).
func (g *Generator) fastLatency() int64 { return g.rng.latency(1500, 0.8) }

// writeLatency is the latency of a write (median ~6 ms, long tail).
func (g *Generator) writeLatency() int64 { return g.rng.latency(6000, 0.9) }

// watchLatency is the duration of an informer watch of secs seconds.
func (g *Generator) watchLatency(secs int) int64 {
	return int64(secs)*1e6 + int64(g.rng.intn(40_000))
}
