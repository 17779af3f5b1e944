package auditgen

import (
	"strconv"
	"strings"
)

// appendLabels appends the labels of w's pods.
func appendLabels(dst []byte, w *workload, withHash bool) []byte {
	dst = append(dst, `"labels":{"app.kubernetes.io/name":`...)
	dst = appendStr(dst, w.name)
	dst = append(dst, `,"app.kubernetes.io/part-of":`...)
	dst = appendStr(dst, w.ns)
	if withHash {
		dst = append(dst, `,"pod-template-hash":`...)
		dst = appendStr(dst, w.rsHash)
	}
	return append(dst, '}')
}

// appendContainer appends w's main container; defaults adds the fields
// the API server fills in.
func appendContainer(dst []byte, w *workload, defaults bool, tokenVol string) []byte {
	dst = append(dst, `{"name":`...)
	dst = appendStr(dst, w.name)
	dst = append(dst, `,"image":`...)
	dst = appendStr(dst, w.image)
	dst = append(dst, `,"ports":[{"name":"http","containerPort":`...)
	dst = appendInt(dst, int64(w.port))
	dst = append(dst, `,"protocol":"TCP"}],"env":[`...)
	for i, kv := range w.env {
		if i > 0 {
			dst = append(dst, ',')
		}
		k, v, _ := strings.Cut(kv, "=")
		dst = append(dst, `{"name":`...)
		dst = appendStr(dst, k)
		dst = append(dst, `,"value":`...)
		dst = appendStr(dst, v)
		dst = append(dst, '}')
	}
	dst = append(dst, `,{"name":"DB_PASSWORD","valueFrom":{"secretKeyRef":{"name":`...)
	dst = appendStr(dst, w.secret)
	dst = append(dst, `,"key":"API_KEY"}}}],"resources":{"limits":{"memory":"512Mi"},"requests":{"cpu":"250m","memory":"256Mi"}},"volumeMounts":[{"name":"config","readOnly":true,"mountPath":"/etc/app"}`...)
	if defaults {
		dst = append(dst, `,{"name":`...)
		dst = appendStr(dst, tokenVol)
		dst = append(dst, `,"readOnly":true,"mountPath":"/var/run/secrets/kubernetes.io/serviceaccount"}`...)
	}
	dst = append(dst, `],"livenessProbe":{"httpGet":{"path":"/healthz","port":"http"`...)
	if defaults {
		dst = append(dst, `,"scheme":"HTTP"},"timeoutSeconds":1,"periodSeconds":10,"successThreshold":1,"failureThreshold":3},"readinessProbe":{"httpGet":{"path":"/readyz","port":"http","scheme":"HTTP"},"timeoutSeconds":1,"periodSeconds":5,"successThreshold":1,"failureThreshold":3},"terminationMessagePath":"/dev/termination-log","terminationMessagePolicy":"File","imagePullPolicy":"IfNotPresent"`...)
	} else {
		dst = append(dst, `}},"readinessProbe":{"httpGet":{"path":"/readyz","port":"http"},"periodSeconds":5}`...)
	}
	return append(dst, `,"securityContext":{"runAsNonRoot":true,"readOnlyRootFilesystem":true,"allowPrivilegeEscalation":false,"capabilities":{"drop":["ALL"]}}}`...)
}

// appendPodSpec appends the spec of one of w's pods (defaults: as stored).
func appendPodSpec(dst []byte, w *workload, defaults bool, tokenVol string) []byte {
	dst = append(dst, `"spec":{"volumes":[{"name":"config","configMap":{"name":`...)
	dst = appendStr(dst, w.configMap)
	if defaults {
		dst = append(dst, `,"defaultMode":420}},{"name":`...)
		dst = appendStr(dst, tokenVol)
		dst = append(dst, `,"projected":{"sources":[{"serviceAccountToken":{"expirationSeconds":3607,"path":"token"}},{"configMap":{"name":"kube-root-ca.crt","items":[{"key":"ca.crt","path":"ca.crt"}]}},{"downwardAPI":{"items":[{"path":"namespace","fieldRef":{"apiVersion":"v1","fieldPath":"metadata.namespace"}}]}}],"defaultMode":420}}`...)
	} else {
		dst = append(dst, `}}`...)
	}
	dst = append(dst, `],"containers":[`...)
	dst = appendContainer(dst, w, defaults, tokenVol)
	dst = append(dst, `],"restartPolicy":"Always","terminationGracePeriodSeconds":30`...)
	if defaults {
		dst = append(dst, `,"dnsPolicy":"ClusterFirst","serviceAccountName":`...)
		dst = appendStr(dst, w.sa)
		dst = append(dst, `,"serviceAccount":`...)
		dst = appendStr(dst, w.sa)
		dst = append(dst, `,"securityContext":{"runAsUser":10001,"fsGroup":10001,"seccompProfile":{"type":"RuntimeDefault"}},"schedulerName":"default-scheduler","tolerations":[{"key":"node.kubernetes.io/not-ready","operator":"Exists","effect":"NoExecute","tolerationSeconds":300},{"key":"node.kubernetes.io/unreachable","operator":"Exists","effect":"NoExecute","tolerationSeconds":300}],"priority":0,"enableServiceLinks":true,"preemptionPolicy":"PreemptLowerPriority"}`...)
	} else {
		dst = append(dst, `,"serviceAccountName":`...)
		dst = appendStr(dst, w.sa)
		dst = append(dst, `,"securityContext":{"runAsUser":10001,"fsGroup":10001,"seccompProfile":{"type":"RuntimeDefault"}}}`...)
	}
	return dst
}

// podFieldsV1 is the managed-fields set of a ReplicaSet-created pod.
func podFieldsV1(w *workload, rsUID string) string {
	return `{"f:metadata":{"f:generateName":{},"f:labels":{".":{},"f:app.kubernetes.io/name":{},"f:app.kubernetes.io/part-of":{},"f:pod-template-hash":{}},"f:ownerReferences":{".":{},"k:{\"uid\":\"` + rsUID +
		`\"}":{}}},"f:spec":{"f:containers":{"k:{\"name\":\"` + w.name +
		`\"}":{".":{},"f:env":{".":{},"k:{\"name\":\"APP_NAME\"}":{".":{},"f:name":{},"f:value":{}},"k:{\"name\":\"DB_PASSWORD\"}":{".":{},"f:name":{},"f:valueFrom":{".":{},"f:secretKeyRef":{}}},"k:{\"name\":\"LOG_LEVEL\"}":{".":{},"f:name":{},"f:value":{}}},"f:image":{},"f:imagePullPolicy":{},"f:livenessProbe":{".":{},"f:failureThreshold":{},"f:httpGet":{".":{},"f:path":{},"f:port":{},"f:scheme":{}},"f:periodSeconds":{},"f:successThreshold":{},"f:timeoutSeconds":{}},"f:name":{},"f:ports":{".":{},"k:{\"containerPort\":` +
		strconv.Itoa(w.port) + `,\"protocol\":\"TCP\"}":{".":{},"f:containerPort":{},"f:name":{},"f:protocol":{}}},"f:readinessProbe":{".":{},"f:failureThreshold":{},"f:httpGet":{".":{},"f:path":{},"f:port":{},"f:scheme":{}},"f:periodSeconds":{},"f:successThreshold":{},"f:timeoutSeconds":{}},"f:resources":{".":{},"f:limits":{".":{},"f:memory":{}},"f:requests":{".":{},"f:cpu":{},"f:memory":{}}},"f:securityContext":{".":{},"f:allowPrivilegeEscalation":{},"f:capabilities":{".":{},"f:drop":{}},"f:readOnlyRootFilesystem":{},"f:runAsNonRoot":{}},"f:terminationMessagePath":{},"f:terminationMessagePolicy":{},"f:volumeMounts":{".":{},"k:{\"mountPath\":\"/etc/app\"}":{".":{},"f:mountPath":{},"f:name":{},"f:readOnly":{}}}}},"f:dnsPolicy":{},"f:enableServiceLinks":{},"f:restartPolicy":{},"f:schedulerName":{},"f:securityContext":{".":{},"f:fsGroup":{},"f:runAsUser":{},"f:seccompProfile":{".":{},"f:type":{}}},"f:serviceAccount":{},"f:serviceAccountName":{},"f:terminationGracePeriodSeconds":{},"f:volumes":{".":{},"k:{\"name\":\"config\"}":{".":{},"f:configMap":{".":{},"f:defaultMode":{},"f:name":{}},"f:name":{}}}}}`
}

// podBody appends r.p as created by the ReplicaSet controller: the request
// as sent (resp false) or the stored object returned (resp true).
func podBody(dst []byte, r *request, resp bool) []byte {
	p, w := r.p, r.p.w
	rsName := w.name + "-" + w.rsHash
	dst = append(dst, `{"kind":"Pod","apiVersion":"v1","metadata":{`...)
	if resp {
		dst = append(dst, `"name":`...)
		dst = appendStr(dst, p.name)
		dst = append(dst, ',')
	}
	dst = append(dst, `"generateName":`...)
	dst = appendStr(dst, rsName+"-")
	dst = append(dst, `,"namespace":`...)
	dst = appendStr(dst, w.ns)
	if resp {
		dst = append(dst, `,"uid":`...)
		dst = appendStr(dst, p.uid)
		dst = append(dst, `,"resourceVersion":`...)
		dst = appendStr(dst, strconv.FormatInt(r.rv, 10))
		dst = append(dst, `,"generation":1,"creationTimestamp":`...)
		dst = appendTime(dst, r.recv)
	} else {
		dst = append(dst, `,"creationTimestamp":null`...)
	}
	dst = append(dst, ',')
	dst = appendLabels(dst, w, true)
	dst = append(dst, `,"ownerReferences":[{"apiVersion":"apps/v1","kind":"ReplicaSet","name":`...)
	dst = appendStr(dst, rsName)
	dst = append(dst, `,"uid":`...)
	dst = appendStr(dst, w.rsUID)
	dst = append(dst, `,"controller":true,"blockOwnerDeletion":true}]`...)
	tokenVol := "kube-api-access-" + p.uid[:5]
	if resp {
		dst = append(dst, `,"managedFields":[`...)
		dst = appendManaged(dst, "kube-controller-manager", "Update", "v1", r.recv, "", podFieldsV1(w, w.rsUID))
		dst = append(dst, ']')
	}
	dst = append(dst, `},`...)
	dst = appendPodSpec(dst, w, resp, tokenVol)
	if resp {
		return append(dst, `,"status":{"phase":"Pending","qosClass":"Burstable"}}`...)
	}
	return append(dst, `,"status":{}}`...)
}

// podStatusPatchBody appends the strategic-merge patch a kubelet sends to
// report r.p's status.
func podStatusPatchBody(dst []byte, r *request) []byte {
	p, w := r.p, r.p.w
	rr := newRNG(r.seed ^ 0x90d)
	started := r.recv - int64(rr.intn(86400*3))*1e6
	dst = append(dst, `{"metadata":{"uid":`...)
	dst = appendStr(dst, p.uid)
	dst = append(dst, `},"status":{"$setElementOrder/conditions":[{"type":"PodReadyToStartContainers"},{"type":"Initialized"},{"type":"Ready"},{"type":"ContainersReady"},{"type":"PodScheduled"}],"conditions":[`...)
	ready := "True"
	if rr.chance(0.3) {
		ready = "False"
	}
	for i, c := range []string{"Ready", "ContainersReady"} {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"lastProbeTime":null,"lastTransitionTime":`...)
		dst = appendTime(dst, r.recv-int64(rr.intn(600))*1e6)
		if ready == "False" {
			dst = append(dst, `,"message":"containers with unready status: [`...)
			dst = append(dst, w.name...)
			dst = append(dst, `]","reason":"ContainersNotReady"`...)
		}
		dst = append(dst, `,"status":"`...)
		dst = append(dst, ready...)
		dst = append(dst, `","type":"`...)
		dst = append(dst, c...)
		dst = append(dst, `"}`...)
	}
	dst = append(dst, `],"containerStatuses":[{"allocatedResources":{"cpu":"250m","memory":"256Mi"},"containerID":"containerd://`...)
	cid := keyRNG(p.uid)
	dst = appendHex(dst, &cid, 64)
	dst = append(dst, `","image":`...)
	dst = appendStr(dst, w.image)
	dst = append(dst, `,"imageID":`...)
	img, _, _ := strings.Cut(w.image, ":")
	dst = appendStr(dst, img+"@"+w.digest)
	dst = append(dst, `,"lastState":{},"name":`...)
	dst = appendStr(dst, w.name)
	dst = append(dst, `,"ready":`...)
	dst = strconv.AppendBool(dst, ready == "True")
	dst = append(dst, `,"resources":{"limits":{"memory":"512Mi"},"requests":{"cpu":"250m","memory":"256Mi"}},"restartCount":`...)
	dst = appendInt(dst, int64(rr.intn(3)))
	dst = append(dst, `,"started":true,"state":{"running":{"startedAt":`...)
	dst = appendTime(dst, started)
	dst = append(dst, `}},"user":{"linux":{"gid":10001,"supplementalGroups":[10001],"uid":10001}},"volumeMounts":[{"mountPath":"/etc/app","name":"config","readOnly":true,"recursiveReadOnly":"Disabled"},{"mountPath":"/var/run/secrets/kubernetes.io/serviceaccount","name":"kube-api-access-`...)
	dst = append(dst, p.uid[:5]...)
	dst = append(dst, `","readOnly":true,"recursiveReadOnly":"Disabled"}]}],"hostIP":`...)
	dst = appendStr(dst, p.node.ip)
	dst = append(dst, `,"hostIPs":[{"ip":`...)
	dst = appendStr(dst, p.node.ip)
	dst = append(dst, `}],"phase":"Running","podIP":`...)
	dst = appendStr(dst, p.ip)
	dst = append(dst, `,"podIPs":[{"ip":`...)
	dst = appendStr(dst, p.ip)
	dst = append(dst, `}],"startTime":`...)
	dst = appendTime(dst, started-2e6)
	return append(dst, `}}`...)
}

// nodeImages are container images a node reports in its status.
var nodeImages = []string{
	"registry.k8s.io/etcd", "registry.k8s.io/kube-apiserver", "registry.k8s.io/kube-proxy",
	"registry.k8s.io/coredns/coredns", "registry.k8s.io/pause", "quay.io/cilium/cilium",
	"quay.io/prometheus/node-exporter", "docker.io/grafana/promtail", "registry.k8s.io/ingress-nginx/controller",
	"quay.io/jetstack/cert-manager-controller", "registry.example.com/shop/payments", "registry.example.com/shop/checkout",
	"registry.example.com/shop/frontend", "registry.example.com/shop/orders", "registry.example.com/shop/api-gateway",
	"docker.io/library/redis", "quay.io/argoproj/argocd", "registry.example.com/team-a/web",
}

// nodeStatusPatchBody appends a kubelet's node-status heartbeat patch;
// r.i1 == 1 adds the full image list (what makes these events large).
func nodeStatusPatchBody(dst []byte, r *request) []byte {
	rr := keyRNG(r.ref.name) // a node's images change rarely
	dst = append(dst, `{"status":{"$setElementOrder/conditions":[{"type":"MemoryPressure"},{"type":"DiskPressure"},{"type":"PIDPressure"},{"type":"Ready"}],"conditions":[`...)
	for i, c := range []string{"MemoryPressure", "DiskPressure", "PIDPressure", "Ready"} {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"lastHeartbeatTime":`...)
		dst = appendTime(dst, r.recv)
		dst = append(dst, `,"type":"`...)
		dst = append(dst, c...)
		dst = append(dst, `"}`...)
	}
	dst = append(dst, ']')
	if r.i1 == 1 {
		dst = append(dst, `,"images":[`...)
		n := rr.between(38, 60)
		for i := 0; i < n; i++ {
			if i > 0 {
				dst = append(dst, ',')
			}
			img := pick(&rr, nodeImages)
			dst = append(dst, `{"names":["`...)
			dst = append(dst, img...)
			dst = append(dst, `@sha256:`...)
			dst = appendHex(dst, &rr, 64)
			dst = append(dst, `","`...)
			dst = append(dst, img...)
			dst = append(dst, ":v"...)
			dst = strconv.AppendInt(dst, int64(rr.between(1, 9)), 10)
			dst = append(dst, '.')
			dst = strconv.AppendInt(dst, int64(rr.between(0, 40)), 10)
			dst = append(dst, '.')
			dst = strconv.AppendInt(dst, int64(rr.between(0, 12)), 10)
			dst = append(dst, `"],"sizeBytes":`...)
			dst = appendInt(dst, int64(rr.between(300_000, 250_000_000)))
			dst = append(dst, '}')
		}
		dst = append(dst, ']')
	}
	return append(dst, `}}`...)
}

// workloadStatus appends the status of a Deployment or ReplicaSet.
func workloadStatus(dst []byte, w *workload, ready int, deployment bool) []byte {
	dst = append(dst, `,"status":{"observedGeneration":`...)
	dst = appendInt(dst, int64(w.generation))
	dst = append(dst, `,"replicas":`...)
	dst = appendInt(dst, int64(w.replicas))
	if deployment {
		dst = append(dst, `,"updatedReplicas":`...)
		dst = appendInt(dst, int64(w.replicas))
	}
	dst = append(dst, `,"readyReplicas":`...)
	dst = appendInt(dst, int64(ready))
	dst = append(dst, `,"availableReplicas":`...)
	dst = appendInt(dst, int64(ready))
	if deployment {
		if ready < w.replicas {
			dst = append(dst, `,"unavailableReplicas":`...)
			dst = appendInt(dst, int64(w.replicas-ready))
		}
		dst = append(dst, `,"conditions":[{"type":"Available","status":"True","lastUpdateTime":"2026-11-20T09:12:44Z","lastTransitionTime":"2026-11-20T09:12:44Z","reason":"MinimumReplicasAvailable","message":"Deployment has minimum availability."},{"type":"Progressing","status":"True","lastUpdateTime":"2026-11-24T08:03:51Z","lastTransitionTime":"2026-10-01T11:40:02Z","reason":"NewReplicaSetAvailable","message":"ReplicaSet \"`...)
		dst = append(dst, w.name...)
		dst = append(dst, '-')
		dst = append(dst, w.rsHash...)
		dst = append(dst, `\" has successfully progressed."}]`...)
	} else {
		dst = append(dst, `,"fullyLabeledReplicas":`...)
		dst = appendInt(dst, int64(w.replicas))
	}
	return append(dst, '}')
}

// deploymentBody appends w's Deployment as stored (as in a status update
// or an apply response); r.i1 is the number of ready replicas.
func deploymentBody(dst []byte, r *request) []byte {
	w := r.w
	dst = append(dst, `{"kind":"Deployment","apiVersion":"apps/v1",`...)
	dst = appendMeta(dst, w.name, w.ns, w.depUID, r.rv, createdAt(w.ns+"/deploy/"+w.name))
	dst = append(dst, `,"generation":`...)
	dst = appendInt(dst, int64(w.generation))
	dst = append(dst, `,"labels":{"app.kubernetes.io/name":`...)
	dst = appendStr(dst, w.name)
	dst = append(dst, `},"annotations":{"deployment.kubernetes.io/revision":`...)
	dst = appendStr(dst, strconv.Itoa(w.generation))
	dst = append(dst, `,"meta.helm.sh/release-name":`...)
	dst = appendStr(dst, w.name)
	dst = append(dst, `,"meta.helm.sh/release-namespace":`...)
	dst = appendStr(dst, w.ns)
	dst = append(dst, `},"managedFields":[`...)
	dst = appendManaged(dst, "helm", "Update", "apps/v1", createdAt(w.ns+"/deploy/"+w.name), "",
		`{"f:metadata":{"f:annotations":{".":{},"f:meta.helm.sh/release-name":{},"f:meta.helm.sh/release-namespace":{}},"f:labels":{".":{},"f:app.kubernetes.io/name":{}}},"f:spec":{"f:progressDeadlineSeconds":{},"f:replicas":{},"f:revisionHistoryLimit":{},"f:selector":{},"f:strategy":{"f:rollingUpdate":{".":{},"f:maxSurge":{},"f:maxUnavailable":{}},"f:type":{}},"f:template":{"f:metadata":{"f:labels":{".":{},"f:app.kubernetes.io/name":{},"f:app.kubernetes.io/part-of":{}}},"f:spec":{"f:containers":{},"f:serviceAccountName":{},"f:volumes":{}}}}}`)
	dst = append(dst, ',')
	dst = appendManaged(dst, "kube-controller-manager", "Update", "apps/v1", r.recv, "status",
		`{"f:metadata":{"f:annotations":{"f:deployment.kubernetes.io/revision":{}}},"f:status":{"f:availableReplicas":{},"f:conditions":{".":{},"k:{\"type\":\"Available\"}":{".":{},"f:lastTransitionTime":{},"f:lastUpdateTime":{},"f:message":{},"f:reason":{},"f:status":{},"f:type":{}},"k:{\"type\":\"Progressing\"}":{".":{},"f:lastTransitionTime":{},"f:lastUpdateTime":{},"f:message":{},"f:reason":{},"f:status":{},"f:type":{}}},"f:observedGeneration":{},"f:readyReplicas":{},"f:replicas":{},"f:updatedReplicas":{}}}`)
	dst = append(dst, `]},"spec":{"replicas":`...)
	dst = appendInt(dst, int64(w.replicas))
	dst = append(dst, `,"selector":{"matchLabels":{"app.kubernetes.io/name":`...)
	dst = appendStr(dst, w.name)
	dst = append(dst, `}},"template":{"metadata":{"creationTimestamp":null,`...)
	dst = appendLabels(dst, w, false)
	dst = append(dst, `},`...)
	dst = appendPodSpec(dst, w, false, "")
	dst = append(dst, `},"strategy":{"type":"RollingUpdate","rollingUpdate":{"maxUnavailable":"25%","maxSurge":"25%"}},"revisionHistoryLimit":10,"progressDeadlineSeconds":600}`...)
	dst = workloadStatus(dst, w, r.i1, true)
	return append(dst, '}')
}

// replicaSetBody appends w's current ReplicaSet as its controller updates
// the status; r.i1 is the number of ready replicas.
func replicaSetBody(dst []byte, r *request) []byte {
	w := r.w
	name := w.name + "-" + w.rsHash
	dst = append(dst, `{"kind":"ReplicaSet","apiVersion":"apps/v1",`...)
	dst = appendMeta(dst, name, w.ns, w.rsUID, r.rv, createdAt(w.ns+"/rs/"+name))
	dst = append(dst, `,"generation":1,`...)
	dst = appendLabels(dst, w, true)
	dst = append(dst, `,"annotations":{"deployment.kubernetes.io/desired-replicas":"`...)
	dst = strconv.AppendInt(dst, int64(w.replicas), 10)
	dst = append(dst, `","deployment.kubernetes.io/max-replicas":"`...)
	dst = strconv.AppendInt(dst, int64(w.replicas+1), 10)
	dst = append(dst, `","deployment.kubernetes.io/revision":"`...)
	dst = strconv.AppendInt(dst, int64(w.generation), 10)
	dst = append(dst, `"},"ownerReferences":[{"apiVersion":"apps/v1","kind":"Deployment","name":`...)
	dst = appendStr(dst, w.name)
	dst = append(dst, `,"uid":`...)
	dst = appendStr(dst, w.depUID)
	dst = append(dst, `,"controller":true,"blockOwnerDeletion":true}]},"spec":{"replicas":`...)
	dst = appendInt(dst, int64(w.replicas))
	dst = append(dst, `,"selector":{"matchLabels":{"app.kubernetes.io/name":`...)
	dst = appendStr(dst, w.name)
	dst = append(dst, `,"pod-template-hash":`...)
	dst = appendStr(dst, w.rsHash)
	dst = append(dst, `}},"template":{"metadata":{"creationTimestamp":null,`...)
	dst = appendLabels(dst, w, true)
	dst = append(dst, `},`...)
	dst = appendPodSpec(dst, w, false, "")
	dst = append(dst, `}}`...)
	dst = workloadStatus(dst, w, r.i1, false)
	return append(dst, '}')
}

// endpointSliceBody appends the EndpointSlice of w's Service as the
// EndpointSlice controller updates it.
func endpointSliceBody(dst []byte, r *request) []byte {
	w := r.w
	dst = append(dst, `{"kind":"EndpointSlice","apiVersion":"discovery.k8s.io/v1",`...)
	dst = appendMeta(dst, r.ref.name, w.ns, r.ref.uid, r.rv, createdAt(w.ns+"/eps/"+w.name))
	dst = append(dst, `,"generateName":`...)
	dst = appendStr(dst, w.name+"-")
	dst = append(dst, `,"generation":`...)
	dst = appendInt(dst, int64(w.generation*3+int(r.seed%5)))
	dst = append(dst, `,"labels":{"endpointslice.kubernetes.io/managed-by":"endpointslice-controller.k8s.io","kubernetes.io/service-name":`...)
	dst = appendStr(dst, w.name)
	dst = append(dst, `},"annotations":{"endpoints.kubernetes.io/last-change-trigger-time":`...)
	dst = appendTime(dst, r.recv-2e6)
	dst = append(dst, `},"ownerReferences":[{"apiVersion":"v1","kind":"Service","name":`...)
	dst = appendStr(dst, w.name)
	dst = append(dst, `,"uid":`...)
	dst = appendStr(dst, stableUID(w.ns+"/svc/"+w.name))
	dst = append(dst, `,"controller":true,"blockOwnerDeletion":true}]},"addressType":"IPv4","endpoints":[`...)
	for i, p := range w.pods {
		if i > 0 {
			dst = append(dst, ',')
		}
		ready := i != int(r.seed%7)
		dst = append(dst, `{"addresses":[`...)
		dst = appendStr(dst, p.ip)
		dst = append(dst, `],"conditions":{"ready":`...)
		dst = strconv.AppendBool(dst, ready)
		dst = append(dst, `,"serving":`...)
		dst = strconv.AppendBool(dst, ready)
		dst = append(dst, `,"terminating":false},"targetRef":{"kind":"Pod","namespace":`...)
		dst = appendStr(dst, w.ns)
		dst = append(dst, `,"name":`...)
		dst = appendStr(dst, p.name)
		dst = append(dst, `,"uid":`...)
		dst = appendStr(dst, p.uid)
		dst = append(dst, `},"nodeName":`...)
		dst = appendStr(dst, p.node.name)
		dst = append(dst, `,"zone":"eu-west-1`...)
		dst = append(dst, "abc"[len(p.node.name)%3])
		dst = append(dst, `"}`...)
	}
	dst = append(dst, `],"ports":[{"name":"http","protocol":"TCP","port":`...)
	dst = appendInt(dst, int64(w.port))
	return append(dst, `}]}`...)
}
