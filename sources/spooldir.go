package sources

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// SpoolMarker is the file that marks a directory as a webhook spool: one
// subdirectory per cluster label ("_" for events without one), each
// holding audit logs. ktrail serve writes it.
const SpoolMarker = ".ktrail-spool"

// DefaultClusterDir is the subdirectory of events that came without a
// cluster label.
const DefaultClusterDir = "_"

// spoolRoot is a followed spool directory: new cluster subdirectories are
// picked up as they appear.
type spoolRoot struct {
	path  string
	known map[string]bool
}

func isSpool(dir string) bool {
	_, err := os.Lstat(filepath.Join(dir, SpoolMarker))
	return err == nil
}

// clusterDirs lists the cluster subdirectories of a spool: every
// directory except hidden ones and tls/.
func clusterDirs(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range ents {
		n := e.Name()
		if !e.IsDir() || strings.HasPrefix(n, ".") || n == "tls" {
			continue
		}
		out = append(out, n)
	}
	return out, nil
}

// resolveSpool adds the logs of every cluster subdirectory; the events of
// each are labelled with its name.
func (s *Set) resolveSpool(dir string) error {
	subs, err := clusterDirs(dir)
	if err != nil {
		return wrapErr(err)
	}
	before := len(s.inputs)
	root := &spoolRoot{path: dir, known: map[string]bool{}}
	for _, n := range subs {
		if err := s.addCluster(filepath.Join(dir, n), n); err != nil {
			return err
		}
		root.known[n] = true
	}
	if s.opts.Follow {
		s.spools = append(s.spools, root)
		return nil
	}
	if len(s.inputs) == before {
		return nameErr(dir+string(filepath.Separator), fmt.Sprintf("no audit logs in this spool (%d cluster directories)", len(subs)), nil)
	}
	return nil
}

// addCluster registers the label of a cluster directory and adds its logs.
func (s *Set) addCluster(sub, name string) error {
	s.registerCluster(sub, name)
	return s.listDir(sub, false)
}

// registerCluster records the cluster label of the events in directory
// sub, named name ("_" is no label).
func (s *Set) registerCluster(sub, name string) {
	cluster := name
	if name == DefaultClusterDir {
		cluster = ""
	}
	s.mu.Lock()
	if s.clusters == nil {
		s.clusters = map[string]string{}
	}
	s.clusters[filepath.Clean(sub)] = cluster
	s.mu.Unlock()
}

// clusterOf returns the cluster label of the events of a file.
func (s *Set) clusterOf(path string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.clusters[filepath.Clean(filepath.Dir(path))]
}

// pollSpool starts following cluster directories that appeared since the
// last look.
func (s *Set) pollSpool(root *spoolRoot) error {
	subs, err := clusterDirs(root.path)
	if err != nil {
		return err
	}
	for _, n := range subs {
		if root.known[n] {
			continue
		}
		root.known[n] = true
		sub := filepath.Join(root.path, n)
		s.registerCluster(sub, n)
		w := &dirWatch{path: sub}
		s.dirs = append(s.dirs, w)
	}
	return nil
}
