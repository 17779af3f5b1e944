package auditgen

import (
	"encoding/base64"
	"strconv"
)

// jwtHeader is the base64url JOSE header of the simulated signing key.
const jwtHeader = "eyJhbGciOiJSUzI1NiIsImtpZCI6IkR2NXBGRmdJbkR0X2ZHUlVCbVRxWjlXLU1fWlJ0c3lYbUhsbG1JUjRnOUEifQ"

// tokenRequestBody appends the TokenRequest a kubelet sends for r.p's
// service account. r.i1 is the expiration in seconds.
func tokenRequestBody(dst []byte, r *request) []byte {
	dst = append(dst, `{"kind":"TokenRequest","apiVersion":"authentication.k8s.io/v1","metadata":{"creationTimestamp":null},"spec":{"audiences":["`+apiAudience+`"],"expirationSeconds":`...)
	dst = appendInt(dst, int64(r.i1))
	if r.p != nil {
		dst = append(dst, `,"boundObjectRef":{"kind":"Pod","apiVersion":"v1","name":`...)
		dst = appendStr(dst, r.p.name)
		dst = append(dst, `,"uid":`...)
		dst = appendStr(dst, r.p.uid)
		dst = append(dst, '}')
	} else {
		dst = append(dst, `,"boundObjectRef":null`...)
	}
	return append(dst, `},"status":{"token":"","expirationTimestamp":null}}`...)
}

// tokenResponseBody appends the TokenRequest returned with a signed token.
func tokenResponseBody(dst []byte, r *request) []byte {
	exp := r.recv + int64(r.i1)*1e6
	dst = append(dst, `{"kind":"TokenRequest","apiVersion":"authentication.k8s.io/v1",`...)
	dst = appendMeta(dst, r.ref.name, r.ref.namespace, "", 0, r.recv)
	dst = append(dst, `},"spec":{"audiences":["`+apiAudience+`"],"expirationSeconds":`...)
	dst = appendInt(dst, int64(r.i1))
	if r.p != nil {
		dst = append(dst, `,"boundObjectRef":{"kind":"Pod","apiVersion":"v1","name":`...)
		dst = appendStr(dst, r.p.name)
		dst = append(dst, `,"uid":`...)
		dst = appendStr(dst, r.p.uid)
		dst = append(dst, '}')
	} else {
		dst = append(dst, `,"boundObjectRef":null`...)
	}
	dst = append(dst, `},"status":{"token":"`...)
	dst = appendJWT(dst, r, exp)
	dst = append(dst, `","expirationTimestamp":`...)
	dst = appendTime(dst, exp)
	return append(dst, `}}`...)
}

// appendJWT appends a service-account token whose claims match r.
func appendJWT(dst []byte, r *request, exp int64) []byte {
	ns, sa := r.ref.namespace, r.ref.name
	claims := []byte(`{"aud":["` + apiAudience + `"],"exp":`)
	claims = strconv.AppendInt(claims, exp/1e6, 10)
	claims = append(claims, `,"iat":`...)
	claims = strconv.AppendInt(claims, r.recv/1e6, 10)
	claims = append(claims, `,"iss":"`+apiAudience+`","jti":`...)
	claims = appendStr(claims, r.s2)
	claims = append(claims, `,"kubernetes.io":{"namespace":`...)
	claims = appendStr(claims, ns)
	if r.p != nil {
		claims = append(claims, `,"node":{"name":`...)
		claims = appendStr(claims, r.p.node.name)
		claims = append(claims, `,"uid":`...)
		claims = appendStr(claims, r.p.node.uid)
		claims = append(claims, `},"pod":{"name":`...)
		claims = appendStr(claims, r.p.name)
		claims = append(claims, `,"uid":`...)
		claims = appendStr(claims, r.p.uid)
		claims = append(claims, '}')
	}
	claims = append(claims, `,"serviceaccount":{"name":`...)
	claims = appendStr(claims, sa)
	claims = append(claims, `,"uid":`...)
	claims = appendStr(claims, stableUID(ns+"/sa/"+sa))
	claims = append(claims, `}},"nbf":`...)
	claims = strconv.AppendInt(claims, r.recv/1e6, 10)
	claims = append(claims, `,"sub":`...)
	claims = appendStr(claims, "system:serviceaccount:"+ns+":"+sa)
	claims = append(claims, '}')
	dst = append(dst, jwtHeader...)
	dst = append(dst, '.')
	dst = base64.RawURLEncoding.AppendEncode(dst, claims)
	dst = append(dst, '.')
	rr := newRNG(r.seed ^ 0x7a7)
	sig := make([]byte, 256)
	for i := range sig {
		sig[i] = byte(rr.u64())
	}
	return base64.RawURLEncoding.AppendEncode(dst, sig)
}

// deleteOptionsBody appends the DeleteOptions of a delete request, in the
// internal version the API server logs.
func deleteOptionsBody(dst []byte, r *request) []byte {
	dst = append(dst, `{"kind":"DeleteOptions","apiVersion":"meta.k8s.io/__internal"`...)
	if r.s1 != "" {
		dst = append(dst, `,"propagationPolicy":`...)
		dst = appendStr(dst, r.s1)
	}
	return append(dst, '}')
}

// bindingBody appends the Binding of r.p to its node, sent by the scheduler.
func bindingBody(dst []byte, r *request) []byte {
	dst = append(dst, `{"kind":"Binding","apiVersion":"v1",`...)
	dst = appendMeta(dst, r.p.name, r.p.w.ns, r.p.uid, 0, -1)
	dst = append(dst, `},"target":{"kind":"Node","name":`...)
	dst = appendStr(dst, r.p.node.name)
	return append(dst, `}}`...)
}

// rawBody returns a body function that appends the fixed JSON in r.s1.
func rawBody(dst []byte, r *request) []byte { return append(dst, r.s1...) }

// ssarBody appends a SelfSubjectAccessReview asking whether the user may
// r.s1 pods in namespace r.s2; the response (resp) carries the answer,
// allowed when r.i1 is 1.
func ssarBody(dst []byte, r *request, resp bool) []byte {
	dst = append(dst, `{"kind":"SelfSubjectAccessReview","apiVersion":"authorization.k8s.io/v1",`...)
	dst = appendMeta(dst, "", "", "", 0, -1)
	dst = append(dst, `},"spec":{"resourceAttributes":{"namespace":`...)
	dst = appendStr(dst, r.s2)
	dst = append(dst, `,"verb":`...)
	dst = appendStr(dst, r.s1)
	dst = append(dst, `,"resource":"pods"}},"status":{"allowed":`...)
	if resp && r.i1 == 1 {
		dst = append(dst, `true`...)
	} else {
		dst = append(dst, `false`...)
	}
	return append(dst, `}}`...)
}

// crbBody appends a ClusterRoleBinding named r.ref.name binding ClusterRole
// r.s1 to the service account r.s2 ("ns/name"); with server fields when
// resp is true.
func crbBody(dst []byte, r *request, resp bool) []byte {
	ns, sa := splitNS(r.s2)
	dst = append(dst, `{"kind":"ClusterRoleBinding","apiVersion":"rbac.authorization.k8s.io/v1",`...)
	if resp {
		dst = appendMeta(dst, r.ref.name, "", stableUID("crb/"+r.ref.name), r.rv, r.recv)
		dst = append(dst, `,"managedFields":[`...)
		dst = appendManaged(dst, "python-requests", "Update", "rbac.authorization.k8s.io/v1", r.recv, "", `{"f:roleRef":{},"f:subjects":{}}`)
		dst = append(dst, ']')
	} else {
		dst = appendMeta(dst, r.ref.name, "", "", 0, 0)
	}
	dst = append(dst, `},"subjects":[{"kind":"ServiceAccount","name":`...)
	dst = appendStr(dst, sa)
	dst = append(dst, `,"namespace":`...)
	dst = appendStr(dst, ns)
	dst = append(dst, `}],"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":`...)
	dst = appendStr(dst, r.s1)
	return append(dst, `}}`...)
}

// splitNS splits "ns/name".
func splitNS(s string) (ns, name string) {
	for i := 0; i < len(s); i++ {
		if s[i] == '/' {
			return s[:i], s[i+1:]
		}
	}
	return "", s
}

// secretColumns is the column definition kubectl's table view of secrets receives.
const secretColumns = `"columnDefinitions":[{"name":"Name","type":"string","format":"name","description":"Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names","priority":0},{"name":"Type","type":"string","format":"","description":"Used to facilitate programmatic handling of secret data. More info: https://kubernetes.io/docs/concepts/configuration/secret/#secret-types","priority":0},{"name":"Data","type":"string","format":"","description":"Data contains the secret data. Each key must consist of alphanumeric characters, '-', '_' or '.'. The serialized form of the secret data is a base64 encoded string, representing the arbitrary (possibly non-string) data value here. Described in https://tools.ietf.org/html/rfc4648#section-4","priority":0},{"name":"Age","type":"string","format":"","description":"CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata","priority":0}]`

// secretNames returns the secrets of namespace ns.
func (c *cluster) secretNames(ns string) []string {
	var out []string
	for _, w := range c.workloads {
		if w.ns == ns {
			out = append(out, w.secret)
		}
	}
	switch ns {
	case "prod":
		out = append(out, "db-credentials", "payments-tls", "sh.helm.release.v1.payments.v41")
	case "staging":
		out = append(out, "sh.helm.release.v1.payments.v57", "staging-tls")
	case "kube-system":
		out = append(out, "bootstrap-token-k8s1ab", "etcd-backup-credentials")
	case "ci":
		out = append(out, "deployer-token", "registry-credentials")
	}
	return out
}

// secretKind returns the kind of data the named secret holds.
func secretKind(name string) string {
	switch {
	case len(name) > 4 && name[len(name)-4:] == "-tls":
		return "tls"
	case len(name) > 16 && name[:16] == "sh.helm.release.":
		return "helm"
	}
	return "opaque"
}

// secretTableBody appends the Table kubectl receives for "get secrets" in
// r.ref.namespace.
func secretTableBody(dst []byte, r *request) []byte {
	ns := r.ref.namespace
	dst = append(dst, `{"kind":"Table","apiVersion":"meta.k8s.io/v1","metadata":{"resourceVersion":"`...)
	dst = strconv.AppendInt(dst, r.rv, 10)
	dst = append(dst, `"},`...)
	dst = append(dst, secretColumns...)
	dst = append(dst, `,"rows":[`...)
	for i, name := range r.c.secretNames(ns) {
		if i > 0 {
			dst = append(dst, ',')
		}
		created := createdAt(ns + "/" + name)
		dst = append(dst, `{"cells":[`...)
		dst = appendStr(dst, name)
		dst = append(dst, ',')
		dst = appendStr(dst, secretType(name))
		dst = append(dst, `,`...)
		dst = appendInt(dst, int64(len(secretKeys(name))))
		dst = append(dst, `,`...)
		dst = appendStr(dst, strconv.FormatInt((r.recv-created)/86400e6, 10)+"d")
		dst = append(dst, `],"object":{"kind":"PartialObjectMetadata","apiVersion":"meta.k8s.io/v1",`...)
		dst = appendMeta(dst, name, ns, stableUID(ns+"/"+name), r.rv-int64(i*977), created)
		dst = append(dst, `,"managedFields":[`...)
		dst = appendManaged(dst, "kubectl-create", "Update", "v1", created, "", `{"f:data":{".":{}},"f:type":{}}`)
		dst = append(dst, `]}}}`...)
	}
	return append(dst, `]}`...)
}

// secretType returns the Secret type of the named secret.
func secretType(name string) string {
	switch secretKind(name) {
	case "tls":
		return "kubernetes.io/tls"
	case "helm":
		return "helm.sh/release.v1"
	}
	return "Opaque"
}

// secretListBody appends the SecretList of r.ref.namespace (all
// namespaces when empty), data included, capped at r.i1 items.
func secretListBody(dst []byte, r *request) []byte {
	c := r.c
	dst = append(dst, `{"kind":"SecretList","apiVersion":"v1","metadata":{"resourceVersion":"`...)
	dst = strconv.AppendInt(dst, r.rv, 10)
	dst = append(dst, `"},"items":[`...)
	nss := []string{r.ref.namespace}
	if r.ref.namespace == "" {
		nss = c.namespaces
	}
	n := 0
	for _, ns := range nss {
		for _, name := range c.secretNames(ns) {
			if n >= r.i1 {
				break
			}
			if n > 0 {
				dst = append(dst, ',')
			}
			n++
			dst = append(dst, '{')
			dst = appendSecretRest(dst, name, ns, secretKind(name), true, r.rv-int64(n*1311), r.recv)
		}
	}
	return append(dst, `]}`...)
}
