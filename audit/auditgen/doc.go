// Package auditgen generates realistic Kubernetes API-server audit logs
// (audit.k8s.io/v1 events, one JSON object per line) deterministically, and
// carries a small demo dataset with an incident hidden in it.
//
// A Generator simulates a 15-node cluster running a shop's workloads:
// kubelets renewing leases and patching node and pod status, controllers
// and the scheduler, add-ons (CoreDNS, metrics-server, ingress-nginx,
// cert-manager, Prometheus), people using kubectl (alice, bob and carol,
// including exec, logs, apply and impersonation), CI automation (a Helm
// deployer and Argo CD), internet scanners, and the usual failures (401,
// 403, 404, 409, 429, 5xx). Events follow the shape the API server writes:
// the same auditID across RequestReceived, ResponseStarted and
// ResponseComplete, request and response bodies at the levels a typical
// policy sets, RBAC decision and reason annotations, microsecond
// timestamps, and lines in the order requests complete, so that
// requestReceivedTimestamp is slightly out of order. The mean event is
// about 1.5 KB, as in real logs.
//
// The output depends only on the Config: the same seed, start and rate
// give byte-identical output on every platform and Go release, because
// the package uses its own random number generator and JSON writer.
//
//	g := auditgen.New(auditgen.Config{Seed: 1})
//	events, err := g.WriteBytes(f, 1<<30) // about 700,000 events
//
// Demo returns the embedded demo (gzip-compressed JSON lines) and
// WriteDemo regenerates it; DEMO.md tells its story. After changing the
// generator, run "go generate ./audit/auditgen" to refresh demo.jsonl.gz.
package auditgen
