// Package webhook receives the batches that a kube-apiserver's audit
// webhook backend posts (--audit-webhook-config-file) and keeps them in a
// spool directory that the rest of ktrail reads like any rotated log.
//
// # Requests
//
// The API server sends POST <url>?timeout=30s with an audit.k8s.io/v1
// EventList whose items carry no kind or apiVersion. It retries any
// failure, 4xx included, and counts 200–206 as success. The server accepts
// POST /, POST /audit and POST /audit/<cluster>; the cluster label
// ([A-Za-z0-9._-], 1–63 bytes) may also come from a request header
// (Config.ClusterHeader). A body is an EventList (or a bare JSON array of
// events) or a single Event; it may be gzip-encoded. Every event must be a
// JSON object with a non-empty string auditID and stage, or the whole batch
// is refused with 400 and nothing is written, so a batch is stored
// entirely or not at all. GET /healthz answers "ok" without a token; GET
// /metrics serves Prometheus metrics (ktrail_webhook_*).
//
// Resources are bounded: MaxConns connections, MaxBody bytes per decoded
// body (413 beyond), request bodies held in memory at once to about eight
// times MaxBody (a request waits up to 10s for room, then gets 503), and
// 1024 cluster labels.
//
// Transport security is TLS (minimum 1.2) with a given certificate or one
// generated once and kept in Dir/tls; plain HTTP is allowed only on a
// loopback IP address, where the API server would not send credentials
// anyway. Client certificates (mTLS) and bearer tokens can be required,
// separately or together.
//
// # Spool layout
//
//	Dir/
//	  tls/                      self-signed CA and serving certificate (SelfSigned)
//	  _/                        events without a cluster label
//	    current.jsonl           the file being written
//	    .current.created        when current.jsonl was started (for MaxFileAge)
//	    audit-20261126T031500.123Z.jsonl.gz   closed files, oldest first by name
//	  prod-eu/                  events posted to /audit/prod-eu
//	    ...
//
// Each event is one line holding its bytes exactly as received (an item
// spread over several lines is compacted with json.Compact). Files and
// directories are created with modes 0600 and 0700. The cluster names "_"
// and "tls", and names starting with a dot, are reserved.
//
// # Durability
//
// One goroutine per cluster writes its batches with group commit: it
// takes every batch waiting, writes each with one write call, fsyncs once
// and only then lets the handlers answer 200. A batch answered 200 is
// therefore on disk. A failed write or fsync is answered 503 with
// Retry-After: 1, and the file is truncated back to where the failed
// batches began, so no partial line stays. The API server re-sends
// refused batches, so an event may occasionally arrive twice (a 200 lost
// on the way back); ktrail's Store drops exact duplicates.
//
// On start, a current.jsonl left by an earlier run is appended to, after
// any incomplete last line (a write cut short by a crash, never
// acknowledged) is cut off. Readers tolerate an incomplete last line in any
// case: they see the file being written.
//
// # Rotation and retention
//
// When current.jsonl reaches Config.MaxFileSize bytes or is
// Config.MaxFileAge old, it is closed and renamed to
// audit-<UTC time>.jsonl, and a new current.jsonl is started. A background
// goroutine then compresses the closed file: it writes
// .audit-<time>.jsonl.gz.tmp (hidden, so readers pass it over), fsyncs it,
// renames it to audit-<time>.jsonl.gz and only then removes the plain
// file. At every instant each event is therefore in exactly one readable
// file in its final form, or — during the swap — in both the plain file
// and its .gz copy (ktrail's directory reader recognises the copy and
// skips it). A plain audit-*.jsonl left by an interrupted run is
// compressed at the next start.
//
// Retention runs at start, after each rotation and compression, and every
// minute: closed files older than Config.MaxAge (by the time in their
// name) are removed, then the oldest closed files while the spool
// (every cluster, current files included) is larger than
// Config.MaxTotalSize. A current.jsonl is never removed.
package webhook
