// Package clienttest tests the audit webhook receiver (ktrail/sources/webhook)
// with the Kubernetes API server's own webhook client: the audit backend of
// k8s.io/apiserver (plugin/pkg/audit/webhook behind plugin/pkg/audit/buffered)
// runs in the test process and posts real audit.k8s.io/v1 EventLists over TLS.
//
// It holds only tests, kept in their own package so that the receiver does not
// depend on k8s.io/client-go and its dependencies:
//
//   - 100,000 events over TLS with a bearer token, and over mTLS, all found once
//     in the spool, in an audit.Store and by a filter (10,000 with -short or
//     -race);
//   - kill -9 of the ktrail serve binary in the middle of a stream, with a plain
//     HTTP client and with the real client, and restart on the same address;
//   - hostile requests (garbage, truncated JSON, a wrong kind, 100 MB bodies, a
//     gzip bomb, one byte a second) while a good client keeps being served;
//   - the load benchmark BenchmarkRealClientLoad (see BENCHMARKS.md).
package clienttest
