package auditgen

import (
	"strconv"
	"strings"
)

// Version strings that appear in user agents and bodies.
const (
	kubeVersion = "v1.37.2"
	kubeCommit  = "8f94681"
	kubeUA      = "/" + kubeVersion + " (linux/amd64) kubernetes/" + kubeCommit
	kubectlUA   = "kubectl" + kubeUA
	apiAudience = "https://kubernetes.default.svc.cluster.local"
)

// node is one machine of the simulated cluster.
type node struct {
	name, ip, uid string
	podNet        string // first three octets of the node's pod CIDR, e.g. "10.244.3."
	controlPlane  bool
	kubelet       *actor
	proxy         *actor
}

// pod is one running pod of a workload.
type pod struct {
	name, uid, ip string
	node          *node
	w             *workload
}

// workload is a Deployment with its current ReplicaSet and pods.
type workload struct {
	ns, name, sa  string
	image, digest string
	rsHash        string
	depUID, rsUID string
	saUID         string
	port          int
	env           []string // NAME=value pairs
	configMap     string
	secret        string
	replicas      int
	pods          []*pod
	generation    int
}

// actor is an authenticated (or anonymous) client of the API server.
type actor struct {
	username string
	user     []byte // the rendered "user" object
	ip, ua   string
	reason   string // RBAC reason for allowed requests
	legacy   bool   // authenticates with a legacy secret-based token
	human    bool   // not a system component: all stages are logged
	groups   []string
}

// human is a person using kubectl.
type human struct {
	*actor
	namespaces []string // namespaces the person usually works in
	admin      bool     // may do anything (cluster-admin)
	bindings   map[string]string
	fallback   string // reason for cluster-wide reads, "" if none
}

// cluster is the simulated cluster: its nodes, workloads and clients.
type cluster struct {
	nodes       []*node
	workers     []*node
	workloads   []*workload
	byName      map[string]*workload // "ns/name"
	namespaces  []string
	controllers map[string]*actor
	ctrlNames   []string
	kcm, sched  *actor
	apiserver   *actor
	addons      map[string]*actor
	humans      []*human
	deployer    *actor
	argocd      *actor
	schedLE     *actor // the scheduler's leader-election client
	anonUser    []byte
	apiserverID string
}

// workloadSpecs lists the simulated Deployments: namespace, name, image,
// replicas and container port.
var workloadSpecs = []struct {
	ns, name, image string
	replicas, port  int
}{
	{"prod", "payments", "registry.example.com/shop/payments:v2.14.3", 3, 8080},
	{"prod", "checkout", "registry.example.com/shop/checkout:v1.9.0", 3, 8080},
	{"prod", "api-gateway", "registry.example.com/shop/api-gateway:v3.2.1", 2, 8443},
	{"prod", "frontend", "registry.example.com/shop/frontend:v5.0.7", 3, 3000},
	{"prod", "orders", "registry.example.com/shop/orders:v1.22.4", 2, 8080},
	{"prod", "redis", "docker.io/library/redis:7.4.2", 1, 6379},
	{"staging", "payments", "registry.example.com/shop/payments:v2.15.0-rc.2", 1, 8080},
	{"staging", "checkout", "registry.example.com/shop/checkout:v1.10.0-rc.1", 1, 8080},
	{"staging", "frontend", "registry.example.com/shop/frontend:v5.1.0-rc.3", 1, 3000},
	{"team-a", "web", "registry.example.com/team-a/web:2026.11.3", 2, 8080},
	{"team-a", "worker", "registry.example.com/team-a/worker:2026.11.3", 1, 9090},
	{"team-b", "reports", "registry.example.com/team-b/reports:0.18.2", 1, 8000},
	{"monitoring", "prometheus", "quay.io/prometheus/prometheus:v3.5.0", 1, 9090},
	{"monitoring", "grafana", "docker.io/grafana/grafana:12.1.1", 1, 3000},
	{"monitoring", "kube-state-metrics", "registry.k8s.io/kube-state-metrics/kube-state-metrics:v2.16.0", 1, 8080},
	{"kube-system", "coredns", "registry.k8s.io/coredns/coredns:v1.12.4", 2, 53},
	{"kube-system", "metrics-server", "registry.k8s.io/metrics-server/metrics-server:v0.8.0", 1, 10250},
	{"ingress-nginx", "ingress-nginx-controller", "registry.k8s.io/ingress-nginx/controller:v1.13.1", 2, 443},
	{"cert-manager", "cert-manager", "quay.io/jetstack/cert-manager-controller:v1.18.2", 1, 9402},
	{"cert-manager", "cert-manager-cainjector", "quay.io/jetstack/cert-manager-cainjector:v1.18.2", 1, 9402},
	{"argocd", "argocd-repo-server", "quay.io/argoproj/argocd:v3.1.5", 1, 8081},
	{"argocd", "argocd-application-controller", "quay.io/argoproj/argocd:v3.1.5", 1, 8082},
	{"ci", "gitlab-runner", "registry.gitlab.com/gitlab-org/gitlab-runner:v18.3.0", 1, 9252},
}

// controllerNames are kube-controller-manager's per-controller service accounts.
var controllerNames = []string{
	"replicaset-controller", "deployment-controller", "endpointslice-controller",
	"endpointslicemirroring-controller", "generic-garbage-collector", "node-controller",
	"namespace-controller", "job-controller", "cronjob-controller", "horizontal-pod-autoscaler",
	"resourcequota-controller", "pvc-protection-controller", "daemon-set-controller",
	"statefulset-controller", "ttl-after-finished-controller", "service-account-controller",
}

// newCluster builds the simulated cluster from r.
func newCluster(r *rng) *cluster {
	c := &cluster{
		byName:      map[string]*workload{},
		controllers: map[string]*actor{},
		addons:      map[string]*actor{},
		apiserverID: "apiserver-" + randSuffix(r, 26),
	}
	for i := 1; i <= 3; i++ {
		c.addNode(r, "k8s-cp-0"+strconv.Itoa(i), "10.0.0."+strconv.Itoa(10+i), i, true)
	}
	for i := 1; i <= 12; i++ {
		name := "k8s-worker-" + twoDigits(i)
		c.addNode(r, name, "10.0.1."+strconv.Itoa(20+i), 3+i, false)
	}
	seenNS := map[string]bool{}
	for _, s := range workloadSpecs {
		w := &workload{
			ns: s.ns, name: s.name, image: s.image, replicas: s.replicas, port: s.port,
			depUID: newUUID(r), rsUID: newUUID(r), saUID: newUUID(r),
			digest: "sha256:" + randHex(r, 64), generation: r.between(3, 40),
		}
		w.sa = s.name
		w.rsHash = randHashLike(r)
		if s.ns == "prod" && s.name == "payments" {
			w.rsHash = "7d9f8c6b5d" // the demo's story refers to this pod
		}
		w.configMap = s.name + "-config"
		w.secret = s.name + "-secrets"
		w.env = workloadEnv(r, w)
		for j := 0; j < s.replicas; j++ {
			n := c.workers[r.intn(len(c.workers))]
			p := &pod{
				name: s.name + "-" + w.rsHash + "-" + randSuffix(r, 5),
				uid:  newUUID(r), node: n, w: w,
				ip: n.podNet + strconv.Itoa(r.between(2, 250)),
			}
			w.pods = append(w.pods, p)
		}
		c.workloads = append(c.workloads, w)
		c.byName[s.ns+"/"+s.name] = w
		if !seenNS[s.ns] {
			seenNS[s.ns] = true
			c.namespaces = append(c.namespaces, s.ns)
		}
	}
	c.namespaces = append(c.namespaces, "default", "kube-node-lease", "kube-public")
	c.addSystemActors(r)
	c.addClients(r)
	return c
}

// addNode adds a node and its kubelet and kube-proxy identities.
func (c *cluster) addNode(r *rng, name, ip string, idx int, cp bool) {
	n := &node{name: name, ip: ip, uid: newUUID(r), podNet: "10.244." + strconv.Itoa(idx) + ".", controlPlane: cp}
	n.kubelet = &actor{
		username: "system:node:" + name,
		groups:   []string{"system:nodes", "system:authenticated"},
		ip:       ip, ua: "kubelet" + kubeUA,
	}
	n.kubelet.user = renderUser(n.kubelet.username, "", n.kubelet.groups,
		[]string{"authentication.kubernetes.io/credential-id", "X509SHA256=" + randHex(r, 64)})
	n.proxy = saActor(r, "kube-system", "kube-proxy", ip, "kube-proxy"+kubeUA,
		crbReason("system:node-proxier", "system:node-proxier", "ServiceAccount", "kube-proxy/kube-system"),
		&pod{name: "kube-proxy-" + randSuffix(r, 5), uid: newUUID(r), node: n})
	c.nodes = append(c.nodes, n)
	if !cp {
		c.workers = append(c.workers, n)
	}
}

// addSystemActors adds the control plane's identities and the add-ons'.
func (c *cluster) addSystemActors(r *rng) {
	cp := c.nodes[0]
	c.kcm = &actor{username: "system:kube-controller-manager", groups: []string{"system:authenticated"},
		ip: cp.ip, ua: "kube-controller-manager" + kubeUA + "/leader-election",
		reason: crbReason("system:kube-controller-manager", "system:kube-controller-manager", "User", "system:kube-controller-manager")}
	c.kcm.user = renderUser(c.kcm.username, "", c.kcm.groups,
		[]string{"authentication.kubernetes.io/credential-id", "X509SHA256=" + randHex(r, 64)})
	c.sched = &actor{username: "system:kube-scheduler", groups: []string{"system:authenticated"},
		ip: cp.ip, ua: "kube-scheduler" + kubeUA + "/scheduler",
		reason: crbReason("system:kube-scheduler", "system:kube-scheduler", "User", "system:kube-scheduler")}
	c.sched.user = renderUser(c.sched.username, "", c.sched.groups,
		[]string{"authentication.kubernetes.io/credential-id", "X509SHA256=" + randHex(r, 64)})
	c.schedLE = &actor{}
	*c.schedLE = *c.sched
	c.schedLE.ua = "kube-scheduler" + kubeUA + "/leader-election"
	c.anonUser = renderUser("system:anonymous", "", []string{"system:unauthenticated"}, nil)
	c.apiserver = &actor{username: "system:apiserver", groups: []string{"system:authenticated", "system:masters"},
		ip: "::1", ua: "kube-apiserver" + kubeUA}
	c.apiserver.user = renderUser(c.apiserver.username, newUUID(r), c.apiserver.groups, nil)
	for _, name := range controllerNames {
		a := saActor(r, "kube-system", name, cp.ip,
			"kube-controller-manager"+kubeUA+"/system:serviceaccount:kube-system:"+name,
			crbReason("system:controller:"+name, "system:controller:"+name, "ServiceAccount", name+"/kube-system"), nil)
		c.controllers[name] = a
		c.ctrlNames = append(c.ctrlNames, name)
	}
	addon := func(key, ns, sa, wl, ua, binding string) {
		w := c.byName[ns+"/"+wl]
		p := w.pods[r.intn(len(w.pods))]
		c.addons[key] = saActor(r, ns, sa, p.ip, ua,
			crbReason(binding, binding, "ServiceAccount", sa+"/"+ns), p)
	}
	addon("coredns", "kube-system", "coredns", "coredns", "coredns/v1.12.4 (linux/amd64) kubernetes/$Format", "system:coredns")
	addon("metrics-server", "kube-system", "metrics-server", "metrics-server", "metrics-server/v0.8.0 (linux/amd64) kubernetes/$Format", "system:metrics-server")
	addon("ingress-nginx", "ingress-nginx", "ingress-nginx", "ingress-nginx-controller", "nginx-ingress-controller/v1.13.1 (linux/amd64) ingress-nginx/4b0d32fd5", "ingress-nginx")
	addon("cert-manager", "cert-manager", "cert-manager", "cert-manager", "cert-manager-controller/v1.18.2 (linux/amd64) cert-manager/4b3e5de3a4ef4ab5e8d8b42b5d7d1ed5aa0ea92e", "cert-manager-controller-certificates")
	addon("cainjector", "cert-manager", "cert-manager-cainjector", "cert-manager-cainjector", "cert-manager-cainjector/v1.18.2 (linux/amd64) cert-manager/4b3e5de3a4ef4ab5e8d8b42b5d7d1ed5aa0ea92e", "cert-manager-cainjector")
	addon("kube-state-metrics", "monitoring", "kube-state-metrics", "kube-state-metrics", "kube-state-metrics/v2.16.0 (linux/amd64) kubernetes/$Format", "kube-state-metrics")
	addon("prometheus", "monitoring", "prometheus", "prometheus", "Prometheus/3.5.0", "prometheus")
}

// addClients adds the people and the automation outside kube-system.
func (c *cluster) addClients(r *rng) {
	mk := func(user, ip, ua string, groups []string) *actor {
		a := &actor{username: user, groups: groups, ip: ip, ua: ua, human: true}
		a.user = renderUser(user, "", groups, nil)
		return a
	}
	alice := &human{actor: mk("alice@example.com", "192.168.10.23", kubectlUA, []string{"dev-team", "system:authenticated"}),
		namespaces: []string{"team-a", "team-a", "staging"},
		bindings: map[string]string{
			"team-a":  rbReason("dev-team-edit", "team-a", "ClusterRole", "edit", "Group", "dev-team"),
			"staging": rbReason("dev-team-edit", "staging", "ClusterRole", "edit", "Group", "dev-team"),
		}}
	bob := &human{actor: mk("bob@example.com", "192.168.10.41", "kubectl/v1.36.3 (darwin/arm64) kubernetes/1bd3a8e", []string{"sre", "system:authenticated"}),
		namespaces: []string{"prod", "prod", "monitoring", "staging", "ingress-nginx"},
		bindings: map[string]string{
			"prod":    rbReason("sre-edit", "prod", "ClusterRole", "edit", "Group", "sre"),
			"staging": rbReason("sre-edit", "staging", "ClusterRole", "edit", "Group", "sre"),
		},
		fallback: crbReason("sre-readonly", "sre-readonly", "Group", "sre")}
	carol := &human{actor: mk("carol@example.com", "192.168.10.7", kubectlUA, []string{"platform-admins", "system:authenticated"}),
		namespaces: []string{"kube-system", "cert-manager", "argocd", "prod", "monitoring"}, admin: true,
		fallback: crbReason("platform-admins", "cluster-admin", "Group", "platform-admins")}
	c.humans = []*human{alice, bob, carol}

	runner := c.byName["ci/gitlab-runner"].pods[0]
	c.deployer = &actor{username: "system:serviceaccount:ci:deployer",
		groups: []string{"system:serviceaccounts", "system:serviceaccounts:ci", "system:authenticated"},
		ip:     runner.ip, ua: "Helm/3.18.4", legacy: true, human: true,
		reason: crbReason("ci-deployer", "ci-deployer", "ServiceAccount", "deployer/ci")}
	c.deployer.user = renderUser(c.deployer.username, newUUID(r), c.deployer.groups, nil)
	w := c.byName["argocd/argocd-application-controller"]
	c.argocd = saActor(r, "argocd", "argocd-application-controller", w.pods[0].ip,
		"argocd-application-controller/v3.1.5+3f27a4e (linux/amd64) kubernetes/$Format",
		crbReason("argocd-application-controller", "argocd-application-controller", "ServiceAccount", "argocd-application-controller/argocd"),
		w.pods[0])
}

// saActor returns a service-account identity; p, when set, is the pod its
// bound token belongs to.
func saActor(r *rng, ns, name, ip, ua, reason string, p *pod) *actor {
	a := &actor{
		username: "system:serviceaccount:" + ns + ":" + name,
		groups:   []string{"system:serviceaccounts", "system:serviceaccounts:" + ns, "system:authenticated"},
		ip:       ip, ua: ua, reason: reason,
	}
	extra := []string{"authentication.kubernetes.io/credential-id", "JTI=" + newUUID(r)}
	if p != nil {
		extra = append(extra,
			"authentication.kubernetes.io/node-name", p.node.name,
			"authentication.kubernetes.io/node-uid", p.node.uid,
			"authentication.kubernetes.io/pod-name", p.name,
			"authentication.kubernetes.io/pod-uid", p.uid)
	}
	a.user = renderUser(a.username, newUUID(r), a.groups, extra)
	return a
}

// renderUser renders an authentication/v1 UserInfo object. extra holds
// key, value pairs with keys in sorted order, one value each.
func renderUser(name, uid string, groups, extra []string) []byte {
	b := []byte(`{"username":`)
	b = appendStr(b, name)
	if uid != "" {
		b = append(b, `,"uid":`...)
		b = appendStr(b, uid)
	}
	if len(groups) > 0 {
		b = append(b, `,"groups":[`...)
		for i, g := range groups {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendStr(b, g)
		}
		b = append(b, ']')
	}
	if len(extra) > 0 {
		b = append(b, `,"extra":{`...)
		for i := 0; i+1 < len(extra); i += 2 {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendStr(b, extra[i])
			b = append(b, ":["...)
			b = appendStr(b, extra[i+1])
			b = append(b, ']')
		}
		b = append(b, '}')
	}
	return append(b, '}')
}

// crbReason is RBAC's reason for a request allowed by a ClusterRoleBinding.
func crbReason(binding, role, kind, subject string) string {
	return "RBAC: allowed by ClusterRoleBinding " + strconv.Quote(binding) + " of ClusterRole " +
		strconv.Quote(role) + " to " + kind + " " + strconv.Quote(subject)
}

// rbReason is RBAC's reason for a request allowed by a RoleBinding.
func rbReason(binding, ns, roleKind, role, kind, subject string) string {
	return "RBAC: allowed by RoleBinding " + strconv.Quote(binding+"/"+ns) + " of " + roleKind + " " +
		strconv.Quote(role) + " to " + kind + " " + strconv.Quote(subject)
}

// discoveryReason is the reason for discovery requests of any authenticated user.
const discoveryReason = `RBAC: allowed by ClusterRoleBinding "system:discovery" of ClusterRole "system:discovery" to Group "system:authenticated"`

// publicInfoReason is the reason for /version and health checks.
const publicInfoReason = `RBAC: allowed by ClusterRoleBinding "system:public-info-viewer" of ClusterRole "system:public-info-viewer" to Group "system:unauthenticated"`

// twoDigits formats 1..99 with a leading zero.
func twoDigits(i int) string {
	if i < 10 {
		return "0" + strconv.Itoa(i)
	}
	return strconv.Itoa(i)
}

// randHashLike returns a pod-template-hash such as "7d9f8c6b5d".
func randHashLike(r *rng) string {
	const alphabet = "bcdf5678949"
	var sb strings.Builder
	n := r.between(9, 10)
	for i := 0; i < n; i++ {
		sb.WriteByte(alphabet[r.intn(len(alphabet))])
	}
	return sb.String()
}

// workloadEnv returns the environment of a workload's main container.
func workloadEnv(r *rng, w *workload) []string {
	up := strings.ToUpper(strings.ReplaceAll(w.name, "-", "_"))
	env := []string{
		"LOG_LEVEL=info",
		"APP_NAME=" + w.name,
		"OTEL_EXPORTER_OTLP_ENDPOINT=http://otel-collector.monitoring.svc:4317",
		"OTEL_SERVICE_NAME=" + w.name,
		up + "_PORT=" + strconv.Itoa(w.port),
	}
	n := r.between(2, 8)
	for i := 0; i < n; i++ {
		env = append(env, pick(r, envNames)+"="+pick(r, envValues))
	}
	return env
}

var envNames = []string{"FEATURE_FLAGS", "CACHE_TTL", "DB_POOL_SIZE", "HTTP_TIMEOUT", "REGION",
	"KAFKA_BROKERS", "REDIS_URL", "MAX_CONNS", "RETRY_BACKOFF", "TZ", "GOMAXPROCS", "JAVA_OPTS"}

var envValues = []string{"eu-west-1", "30s", "20", "true", "redis://redis.prod.svc:6379/0",
	"kafka-0.kafka.data.svc:9092,kafka-1.kafka.data.svc:9092", "UTC", "2", "-Xms512m -Xmx1g", "250ms"}
