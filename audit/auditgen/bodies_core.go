package auditgen

import (
	"encoding/base64"
	"hash/fnv"
	"strconv"
)

// clusterBirth is when the simulated cluster's long-lived objects were
// created (µs since the epoch): 2026-09-14T07:12:09Z.
const clusterBirth = 1_789_369_929_000_000

// stableUID returns a UUID that depends only on key, so that repeated
// requests for one object carry the same uid.
func stableUID(key string) string {
	r := keyRNG(key)
	return newUUID(&r)
}

// keyRNG returns a generator seeded by key, for content that must be the
// same every time the object named key appears.
func keyRNG(key string) rng {
	h := fnv.New64a()
	h.Write([]byte(key))
	return newRNG(h.Sum64())
}

// createdAt returns a stable creation time for the object named key.
func createdAt(key string) int64 {
	h := fnv.New64a()
	h.Write([]byte(key))
	return clusterBirth + int64(h.Sum64()%(60*86400))*1e6
}

// appendField appends `"name":` preceded by a comma.
func appendField(dst []byte, name string) []byte {
	dst = append(dst, ',', '"')
	dst = append(dst, name...)
	return append(dst, '"', ':')
}

// appendMeta appends an ObjectMeta's leading fields (without the closing
// brace): name, namespace, uid, resourceVersion and creationTimestamp when
// set (created < 0 means null, 0 means absent).
func appendMeta(dst []byte, name, ns, uid string, rv int64, created int64) []byte {
	dst = append(dst, `"metadata":{`...)
	first := true
	if name != "" {
		dst = appendKV(dst, first, "name", name)
		first = false
	}
	if ns != "" {
		dst = appendKV(dst, first, "namespace", ns)
		first = false
	}
	if uid != "" {
		dst = appendKV(dst, first, "uid", uid)
		first = false
	}
	if rv > 0 {
		dst = appendKV(dst, first, "resourceVersion", strconv.FormatInt(rv, 10))
		first = false
	}
	if created < 0 {
		if !first {
			dst = append(dst, ',')
		}
		dst = append(dst, `"creationTimestamp":null`...)
	} else if created > 0 {
		if !first {
			dst = append(dst, ',')
		}
		dst = append(dst, `"creationTimestamp":`...)
		dst = appendTime(dst, created)
	}
	return dst
}

// appendManaged appends one managedFields entry; fields is the FieldsV1 JSON.
func appendManaged(dst []byte, manager, op, apiVersion string, at int64, sub, fields string) []byte {
	dst = append(dst, `{"manager":`...)
	dst = appendStr(dst, manager)
	dst = append(dst, `,"operation":`...)
	dst = appendStr(dst, op)
	dst = append(dst, `,"apiVersion":`...)
	dst = appendStr(dst, apiVersion)
	dst = append(dst, `,"time":`...)
	dst = appendTime(dst, at)
	dst = append(dst, `,"fieldsType":"FieldsV1","fieldsV1":`...)
	dst = append(dst, fields...)
	if sub != "" {
		dst = append(dst, `,"subresource":`...)
		dst = appendStr(dst, sub)
	}
	return append(dst, '}')
}

// leaseBody appends a leader-election Lease as its holder renews it. r.s1
// is the holder identity, r.s2 the field manager and r.i1 the duration.
func leaseBody(dst []byte, r *request) []byte {
	name, ns := r.ref.name, r.ref.namespace
	dst = append(dst, `{"kind":"Lease","apiVersion":"coordination.k8s.io/v1",`...)
	dst = appendMeta(dst, name, ns, r.ref.uid, r.rv, createdAt(ns+"/"+name))
	dst = append(dst, `,"managedFields":[`...)
	dst = appendManaged(dst, r.s2, "Update", "coordination.k8s.io/v1", r.now-r.now%1e6, "",
		`{"f:spec":{"f:acquireTime":{},"f:holderIdentity":{},"f:leaseDurationSeconds":{},"f:leaseTransitions":{},"f:renewTime":{}}}`)
	dst = append(dst, `]},"spec":{"holderIdentity":`...)
	dst = appendStr(dst, r.s1)
	dst = append(dst, `,"leaseDurationSeconds":`...)
	dst = appendInt(dst, int64(r.i1))
	dst = append(dst, `,"acquireTime":`...)
	dst = appendMicroTime(dst, createdAt(r.s1)+int64(r.seed%86400)*1e6)
	dst = append(dst, `,"renewTime":`...)
	dst = appendMicroTime(dst, r.recv-int64(r.seed%900))
	dst = append(dst, `,"leaseTransitions":`...)
	dst = appendInt(dst, int64(r.seed%17))
	return append(dst, `}}`...)
}

// coreEventBody appends a core/v1 Event about r.p from r.s1 ("kubelet" or
// a controller). r.s2 is the reason.
func coreEventBody(dst []byte, r *request) []byte {
	p := r.p
	rr := newRNG(r.seed)
	dst = append(dst, `{"kind":"Event","apiVersion":"v1",`...)
	dst = appendMeta(dst, r.ref.name, p.w.ns, "", 0, -1)
	dst = append(dst, `},"involvedObject":{"kind":"Pod","namespace":`...)
	dst = appendStr(dst, p.w.ns)
	dst = append(dst, `,"name":`...)
	dst = appendStr(dst, p.name)
	dst = append(dst, `,"uid":`...)
	dst = appendStr(dst, p.uid)
	dst = append(dst, `,"apiVersion":"v1","resourceVersion":`...)
	dst = appendStr(dst, strconv.FormatInt(r.rv-int64(rr.intn(9000)), 10))
	if r.s1 == "kubelet" {
		dst = append(dst, `,"fieldPath":`...)
		dst = appendStr(dst, "spec.containers{"+p.w.name+"}")
	}
	dst = append(dst, `},"reason":`...)
	dst = appendStr(dst, r.s2)
	dst = append(dst, `,"message":`...)
	dst = appendStr(dst, eventMessage(r.s2, p))
	dst = append(dst, `,"source":{"component":`...)
	dst = appendStr(dst, r.s1)
	if r.s1 == "kubelet" {
		dst = append(dst, `,"host":`...)
		dst = appendStr(dst, p.node.name)
	}
	dst = append(dst, `},"firstTimestamp":`...)
	dst = appendTime(dst, r.recv-int64(rr.intn(3600))*1e6)
	dst = append(dst, `,"lastTimestamp":`...)
	dst = appendTime(dst, r.recv)
	dst = append(dst, `,"count":`...)
	dst = appendInt(dst, int64(1+rr.intn(40)))
	typ := "Normal"
	if r.s2 == "BackOff" || r.s2 == "Unhealthy" || r.s2 == "FailedMount" {
		typ = "Warning"
	}
	dst = append(dst, `,"type":`...)
	dst = appendStr(dst, typ)
	dst = append(dst, `,"eventTime":null,"reportingComponent":`...)
	dst = appendStr(dst, r.s1)
	dst = append(dst, `,"reportingInstance":`...)
	if r.s1 == "kubelet" {
		dst = appendStr(dst, p.node.name)
	} else {
		dst = appendStr(dst, "")
	}
	return append(dst, '}')
}

// eventsV1Body appends an events.k8s.io/v1 Event from the scheduler.
func eventsV1Body(dst []byte, r *request) []byte {
	p := r.p
	dst = append(dst, `{"kind":"Event","apiVersion":"events.k8s.io/v1",`...)
	dst = appendMeta(dst, r.ref.name, p.w.ns, "", 0, -1)
	dst = append(dst, `},"eventTime":`...)
	dst = appendMicroTime(dst, r.recv-150)
	dst = append(dst, `,"reportingController":"default-scheduler","reportingInstance":"default-scheduler-k8s-cp-01","action":"Binding","reason":"Scheduled","regarding":{"kind":"Pod","namespace":`...)
	dst = appendStr(dst, p.w.ns)
	dst = append(dst, `,"name":`...)
	dst = appendStr(dst, p.name)
	dst = append(dst, `,"uid":`...)
	dst = appendStr(dst, p.uid)
	dst = append(dst, `,"apiVersion":"v1","resourceVersion":`...)
	dst = appendStr(dst, strconv.FormatInt(r.rv-3, 10))
	dst = append(dst, `},"note":`...)
	dst = appendStr(dst, "Successfully assigned "+p.w.ns+"/"+p.name+" to "+p.node.name)
	return append(dst, `,"type":"Normal","deprecatedSource":{},"deprecatedFirstTimestamp":null,"deprecatedLastTimestamp":null}`...)
}

// eventReasons are the reasons of simulated events.
var eventReasons = []string{"Pulled", "Created", "Started", "Killing", "Unhealthy", "BackOff", "SuccessfulCreate", "ScalingReplicaSet", "FailedMount"}

// eventMessage returns the message of an event with the given reason.
func eventMessage(reason string, p *pod) string {
	switch reason {
	case "Pulled":
		return "Container image \"" + p.w.image + "\" already present on machine"
	case "Created":
		return "Created container: " + p.w.name
	case "Started":
		return "Started container " + p.w.name
	case "Killing":
		return "Stopping container " + p.w.name
	case "Unhealthy":
		return "Readiness probe failed: Get \"http://" + p.ip + ":" + strconv.Itoa(p.w.port) + "/healthz\": context deadline exceeded (Client.Timeout exceeded while awaiting headers)"
	case "BackOff":
		return "Back-off restarting failed container " + p.w.name + " in pod " + p.name + "_" + p.w.ns + "(" + p.uid + ")"
	case "SuccessfulCreate":
		return "Created pod: " + p.name
	case "ScalingReplicaSet":
		return "Scaled up replica set " + p.w.name + "-" + p.w.rsHash + " from 2 to 3"
	}
	return "MountVolume.SetUp failed for volume \"" + p.w.secret + "\" : secret \"" + p.w.secret + "\" not found"
}

// secretBody appends a Secret. r.s1 selects its kind: "opaque" (app
// credentials), "tls", "helm" (a Helm release) or "token".
func secretBody(dst []byte, r *request, withMeta bool) []byte {
	name, ns := r.ref.name, r.ref.namespace
	dst = append(dst, `{"kind":"Secret","apiVersion":"v1",`...)
	return appendSecretRest(dst, name, ns, r.s1, withMeta, r.rv, r.recv)
}

// appendSecretRest appends a Secret's metadata, data and type. The data
// depends only on the secret's namespace and name.
func appendSecretRest(dst []byte, name, ns, kind string, withMeta bool, rv, now int64) []byte {
	rng := keyRNG(ns + "/" + name)
	rr := &rng
	if withMeta {
		created := createdAt(ns + "/" + name)
		if created > now {
			created = now
		}
		dst = appendMeta(dst, name, ns, stableUID(ns+"/"+name), rv, created)
	} else {
		dst = appendMeta(dst, name, ns, "", 0, 0)
	}
	typ := "Opaque"
	switch kind {
	case "tls":
		typ = "kubernetes.io/tls"
		if withMeta {
			dst = append(dst, `,"annotations":{"cert-manager.io/alt-names":"`...)
			dst = append(dst, name...)
			dst = append(dst, `.example.com","cert-manager.io/certificate-name":`...)
			dst = appendStr(dst, name)
			dst = append(dst, `,"cert-manager.io/issuer-kind":"ClusterIssuer","cert-manager.io/issuer-name":"letsencrypt-prod"}`...)
		}
		dst = append(dst, `},"data":{"ca.crt":"","tls.crt":"LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSU`...)
		dst = appendRandB64(dst, rr, rr.between(1100, 1500))
		dst = append(dst, `","tls.key":"LS0tLS1CRUdJTiBSU0EgUFJJVkFURSBLRVktLS0tLQpNSUlF`...)
		dst = appendRandB64(dst, rr, rr.between(1150, 1300))
		dst = append(dst, '"')
	case "helm":
		typ = "helm.sh/release.v1"
		if withMeta {
			dst = append(dst, `,"labels":{"modifiedAt":"`...)
			dst = strconv.AppendInt(dst, now/1e6, 10)
			dst = append(dst, `","name":`...)
			dst = appendStr(dst, helmRelease(name))
			dst = append(dst, `,"owner":"helm","status":"deployed","version":"`...)
			dst = append(dst, helmVersion(name)...)
			dst = append(dst, `"}`...)
		}
		dst = append(dst, `},"data":{"release":"SDRzSUFBQUFBQUFDLyt5OWE1UGJ`...)
		dst = appendRandB64(dst, rr, rr.between(1800, 4500))
		dst = append(dst, '"')
	default:
		dst = append(dst, `},"data":{`...)
		keys := secretKeys(name)
		for i, k := range keys {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendStr(dst, k)
			dst = append(dst, ':', '"')
			dst = appendB64(dst, secretValue(rr, name, ns, k))
			dst = append(dst, '"')
		}
	}
	dst = append(dst, `},"type":`...)
	dst = appendStr(dst, typ)
	return append(dst, '}')
}

// secretKeys returns the keys of an opaque secret.
func secretKeys(name string) []string {
	switch {
	case name == "db-credentials":
		return []string{"DB_HOST", "DB_NAME", "DB_PASSWORD", "DB_PORT", "DB_USER"}
	case len(name) > 8 && name[len(name)-8:] == "-secrets":
		return []string{"API_KEY", "JWT_SIGNING_KEY", "STRIPE_SECRET_KEY"}
	}
	return []string{"password", "username"}
}

// secretValue returns a plausible plain value for a secret key.
func secretValue(rr *rng, name, ns, key string) []byte {
	switch key {
	case "DB_HOST":
		return []byte("payments-db.prod.svc.cluster.local")
	case "DB_NAME":
		return []byte("payments")
	case "DB_PORT":
		return []byte("5432")
	case "DB_USER", "username":
		return []byte(ns + "_app")
	case "STRIPE_SECRET_KEY":
		return append([]byte("sk_live_"), randSuffix(rr, 32)...)
	}
	b := make([]byte, 0, 64)
	b = base64.RawURLEncoding.AppendEncode(b, []byte(randSuffix(rr, rr.between(18, 40))))
	return b
}

// helmRelease returns the release name of a Helm secret "sh.helm.release.v1.NAME.vN".
func helmRelease(secret string) string {
	const p = "sh.helm.release.v1."
	s := secret
	if len(s) > len(p) {
		s = s[len(p):]
	}
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == '.' {
			return s[:i]
		}
	}
	return s
}

// helmVersion returns N of a Helm secret name.
func helmVersion(secret string) string {
	for i := len(secret) - 1; i >= 0; i-- {
		if secret[i] == 'v' && i > 0 && secret[i-1] == '.' {
			return secret[i+1:]
		}
	}
	return "1"
}

// newConfigMapBody appends a ConfigMap as a client creates it.
func newConfigMapBody(dst []byte, r *request) []byte { return configMapBody(dst, r, false) }

// storedConfigMapBody appends a ConfigMap with its server-set fields.
func storedConfigMapBody(dst []byte, r *request) []byte { return configMapBody(dst, r, true) }

// configMapBody appends a ConfigMap; r.i1 is the approximate size of its
// data in bytes.
func configMapBody(dst []byte, r *request, stored bool) []byte {
	rr := newRNG(r.seed ^ 0xc0f)
	name, ns := r.ref.name, r.ref.namespace
	dst = append(dst, `{"kind":"ConfigMap","apiVersion":"v1",`...)
	if stored {
		dst = appendMeta(dst, name, ns, stableUID(ns+"/"+name), r.rv, createdAt(ns+"/"+name))
		dst = append(dst, `,"managedFields":[`...)
		dst = appendManaged(dst, "kubectl-client-side-apply", "Update", "v1", createdAt(ns+"/"+name), "", `{"f:data":{".":{},"f:application.yaml":{}}}`)
		dst = append(dst, ']')
	} else {
		dst = appendMeta(dst, name, ns, "", 0, 0)
	}
	dst = append(dst, `},"data":{"application.yaml":`...)
	dst = appendStr(dst, string(configText(&rr, r.i1)))
	return append(dst, `}}`...)
}

// configWords are the vocabulary of generated configuration files.
var configWords = []string{"server", "port", "timeout", "retries", "cache", "enabled", "endpoint", "pool",
	"size", "level", "region", "queue", "topic", "batch", "interval", "threshold", "limit", "buffer", "tracing", "metrics"}

// configText returns YAML-like configuration of about n bytes.
func configText(rr *rng, n int) []byte {
	b := make([]byte, 0, n+64)
	for len(b) < n {
		b = append(b, pick(rr, configWords)...)
		b = append(b, ":\n"...)
		for i := rr.between(2, 6); i > 0; i-- {
			b = append(b, "  "...)
			b = append(b, pick(rr, configWords)...)
			b = append(b, '_')
			b = append(b, pick(rr, configWords)...)
			b = append(b, ": "...)
			switch rr.intn(3) {
			case 0:
				b = strconv.AppendInt(b, int64(rr.intn(5000)), 10)
			case 1:
				b = append(b, pick(rr, []string{"true", "false", "\"eu-west-1\"", "30s", "\"info\""})...)
			default:
				b = append(b, "\"http://"...)
				b = append(b, pick(rr, configWords)...)
				b = append(b, ".svc.cluster.local:8080\""...)
			}
			b = append(b, '\n')
		}
	}
	return b
}
