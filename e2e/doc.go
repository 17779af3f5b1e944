// Package e2e holds ktrail's end-to-end test against a real etcd,
// kube-apiserver and kubectl (built from the Go module proxy by
// kube/build.sh): the API server sends its audit events both to a log file
// and, through its webhook backend, to `ktrail serve`; the test checks that
// the spool holds exactly the events of the log and that `ktrail query`
// answers the same on both. See README.md.
//
// It is a separate module so that the main module needs none of this.
package e2e
