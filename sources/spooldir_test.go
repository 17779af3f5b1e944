package sources

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"ktrail/audit"
)

// clusterCounts counts the store's events per cluster label.
func clusterCounts(st *audit.Store) map[string]int {
	v := st.View()
	out := map[string]int{}
	v.EachID(0, v.Len(), func(_ int, id uint32) bool {
		out[st.Str(v.Rec(id).Cluster)]++
		return true
	})
	return out
}

func makeSpool(t *testing.T) string {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, SpoolMarker), nil)
	for _, sub := range []string{"prod", DefaultClusterDir, "tls"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	writeFile(t, filepath.Join(dir, "prod", "current.jsonl"), events("p", 3, t0))
	writeFile(t, filepath.Join(dir, DefaultClusterDir, "current.jsonl"), events("d", 2, t0))
	writeFile(t, filepath.Join(dir, "tls", "ca.crt"), []byte("-----BEGIN CERTIFICATE-----\n"))
	return dir
}

func TestSpoolDirectoryLabelsClusters(t *testing.T) {
	dir := makeSpool(t)
	st := audit.NewStore()
	s, err := Open(st, []string{dir}, nil, Options{SpoolDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := clusterCounts(st)
	if got["prod"] != 3 || got[""] != 2 || len(got) != 2 {
		t.Fatalf("clusters %v", got)
	}
	empty := t.TempDir()
	writeFile(t, filepath.Join(empty, SpoolMarker), nil)
	if _, err := Open(audit.NewStore(), []string{empty}, nil, Options{}); err == nil {
		t.Fatal("an empty spool is not an error without --follow")
	}
}

func TestFollowSpoolPicksUpNewClusters(t *testing.T) {
	dir := makeSpool(t)
	st, _, _, run := follow(t, dir)
	waitFor(t, "the first 5 events", lenIs(st, 5))
	if err := os.MkdirAll(filepath.Join(dir, "staging"), 0o700); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "staging", "current.jsonl"), events("s", 4, t0.Add(time.Minute)))
	waitFor(t, "the new cluster's events", lenIs(st, 9))
	appendFile(t, filepath.Join(dir, "prod", "current.jsonl"), events("q", 1, t0.Add(time.Hour)))
	waitFor(t, "an appended event", lenIs(st, 10))
	if got := clusterCounts(st); got["staging"] != 4 || got["prod"] != 4 || got[""] != 2 {
		t.Fatalf("clusters %v", got)
	}
	run.cancel()
	run.wait()
}
