package webhook

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/klauspost/compress/gzip"
)

// ClusterDir is one cluster's subdirectory of a spool directory.
type ClusterDir struct {
	// Cluster is the label ("" for events posted without one).
	Cluster string
	// Path is the subdirectory.
	Path string
}

// ClusterDirs returns the per-cluster subdirectories of a spool directory,
// sorted by cluster (the unlabelled one, "_", first as Cluster ""). Other
// entries (the tls directory, files, names that are not valid labels) are
// passed over.
func ClusterDirs(dir string) ([]ClusterDir, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("webhook: reading the spool directory: %w", err)
	}
	var out []ClusterDir
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		name := e.Name()
		switch {
		case name == "_":
			out = append(out, ClusterDir{Cluster: "", Path: filepath.Join(dir, name)})
		case checkCluster(name) == nil:
			out = append(out, ClusterDir{Cluster: name, Path: filepath.Join(dir, name)})
		}
	}
	slices.SortFunc(out, func(a, b ClusterDir) int { return cmp.Compare(a.Cluster, b.Cluster) })
	return out, nil
}

// background queues the compression of closed files and retention runs
// for the one goroutine that does them.
type background struct {
	mu    sync.Mutex
	queue []string
	wake  chan struct{}
}

// compress queues a closed plain file for compression (and a retention
// run after it).
func (b *background) compress(path string) {
	b.mu.Lock()
	b.queue = append(b.queue, path)
	b.mu.Unlock()
	b.poke()
}

// poke asks for a retention run.
func (b *background) poke() {
	select {
	case b.wake <- struct{}{}:
	default:
	}
}

func (b *background) next() (string, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.queue) == 0 {
		return "", false
	}
	p := b.queue[0]
	b.queue = b.queue[1:]
	return p, true
}

// runBackground compresses queued files and applies retention, when
// poked and every minute, until ctx is done. A compression cut short is
// redone at the next start.
func (s *Server) runBackground(ctx context.Context) {
	tick := time.NewTicker(time.Minute)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.bg.wake:
		case <-tick.C:
		}
		for {
			p, ok := s.bg.next()
			if !ok {
				break
			}
			s.compressFile(ctx, p)
			if ctx.Err() != nil {
				return
			}
		}
		s.retention()
	}
}

// compressFile writes plain's .gz next to it: to a hidden temporary name,
// fsync'ed, renamed into place, and only then is plain removed.
func (s *Server) compressFile(ctx context.Context, plain string) {
	dir := filepath.Dir(plain)
	gz := plain + ".gz"
	tmp := filepath.Join(dir, "."+filepath.Base(gz)+".tmp")
	if err := gzipFile(ctx, plain, tmp); err != nil {
		os.Remove(tmp)
		if !errors.Is(err, fs.ErrNotExist) && ctx.Err() == nil {
			s.log.printf("webhook: COMPRESSION FAILED, %s stays uncompressed: %s", plain, sanitize(err.Error()))
		}
		return
	}
	s.retMu.Lock()
	defer s.retMu.Unlock()
	pfi, err := os.Stat(plain)
	if err != nil { // removed by retention meanwhile
		os.Remove(tmp)
		return
	}
	gfi, err := os.Stat(tmp)
	if err == nil {
		err = os.Rename(tmp, gz)
	}
	if err == nil {
		err = syncDir(dir)
	}
	if err != nil {
		os.Remove(tmp)
		s.log.printf("webhook: COMPRESSION FAILED, %s stays uncompressed: %s", plain, sanitize(err.Error()))
		return
	}
	if err := os.Remove(plain); err != nil {
		s.log.printf("webhook: cannot remove %s after compressing it: %s", plain, sanitize(err.Error()))
		return
	}
	if err := syncDir(dir); err != nil {
		s.log.printf("webhook: fsync %s: %s", dir, sanitize(err.Error()))
	}
	s.closedBytes.Add(gfi.Size() - pfi.Size())
}

// gzipFile compresses src into dst (mode 0600) and fsyncs it.
func gzipFile(ctx context.Context, src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	defer out.Close()
	zw, err := gzip.NewWriterLevel(out, gzip.DefaultCompression)
	if err != nil {
		return err
	}
	zw.Name = filepath.Base(src)
	if t, ok := rotatedTime(zw.Name); ok {
		zw.ModTime = t
	}
	buf := make([]byte, 1<<20)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		n, rerr := in.Read(buf)
		if n > 0 {
			if _, err := zw.Write(buf[:n]); err != nil {
				return err
			}
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return rerr
		}
	}
	if err := zw.Close(); err != nil {
		return err
	}
	if err := out.Sync(); err != nil {
		return err
	}
	return out.Close()
}

// closedFile is a rotated file found by retention.
type closedFile struct {
	path string
	size int64
	t    time.Time
}

// retention removes closed files older than MaxAge, then the oldest while
// the spool is larger than MaxTotalSize, and records the size of the
// closed files. Current files are counted but never removed.
func (s *Server) retention() {
	s.retMu.Lock()
	defer s.retMu.Unlock()
	dirs, err := ClusterDirs(s.cfg.Dir)
	if err != nil {
		s.log.printf("webhook: retention: %s", sanitize(err.Error()))
		return
	}
	var closed []closedFile
	var total, closedTotal int64
	for _, d := range dirs {
		ents, err := os.ReadDir(d.Path)
		if err != nil {
			s.log.printf("webhook: retention: %s", sanitize(err.Error()))
			continue
		}
		for _, e := range ents {
			fi, err := e.Info()
			if err != nil || !fi.Mode().IsRegular() {
				continue
			}
			name := e.Name()
			if t, ok := rotatedTime(name); ok {
				closed = append(closed, closedFile{filepath.Join(d.Path, name), fi.Size(), t})
				closedTotal += fi.Size()
			} else if name == currentName || isTemp(name) {
				total += fi.Size()
			}
		}
	}
	total += closedTotal
	slices.SortFunc(closed, func(a, b closedFile) int {
		return cmp.Or(a.t.Compare(b.t), cmp.Compare(a.path, b.path))
	})
	now := s.now()
	remove := func(c closedFile, why string) {
		if err := os.Remove(c.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			s.log.printf("webhook: retention: %s", sanitize(err.Error()))
			return
		}
		total -= c.size
		closedTotal -= c.size
		s.log.printf("webhook: retention: removed %s (%d bytes, %s)", c.path, c.size, why)
	}
	keep := closed[:0]
	for _, c := range closed {
		if s.cfg.MaxAge > 0 && now.Sub(c.t) > s.cfg.MaxAge {
			remove(c, "older than "+s.cfg.MaxAge.String())
			continue
		}
		keep = append(keep, c)
	}
	for _, c := range keep {
		if s.cfg.MaxTotalSize <= 0 || total <= s.cfg.MaxTotalSize {
			break
		}
		remove(c, fmt.Sprintf("the spool is over %d bytes", s.cfg.MaxTotalSize))
	}
	s.closedBytes.Store(closedTotal)
}

// isTemp reports a compression in progress (.audit-*.jsonl.gz.tmp).
func isTemp(name string) bool {
	return strings.HasPrefix(name, ".audit-") && strings.HasSuffix(name, ".gz.tmp")
}

// recoverSpool prepares existing cluster directories at start: it removes
// compressions cut short, queues plain closed files for compression, opens
// each current.jsonl (cutting off an incomplete last line) and starts its
// writer so that an idle file still rotates by age, then asks for a
// retention run.
func (s *Server) recoverSpool() error {
	dirs, err := ClusterDirs(s.cfg.Dir)
	if err != nil {
		return err
	}
	now := s.now()
	for _, d := range dirs {
		ents, err := os.ReadDir(d.Path)
		if err != nil {
			s.log.printf("webhook: SPOOL ERROR: %s", sanitize(err.Error()))
		}
		for _, e := range ents {
			name := e.Name()
			p := filepath.Join(d.Path, name)
			if isTemp(name) {
				os.Remove(p)
			} else if _, ok := rotatedTime(name); ok && strings.HasSuffix(name, ".jsonl") {
				s.bg.compress(p)
			}
		}
		w := s.newWriter(d.Cluster)
		if exists(filepath.Join(d.Path, currentName)) {
			if err := w.open(now); err != nil {
				s.log.printf("webhook: SPOOL ERROR for cluster %s (batches for it will be refused until fixed): %s", displayName(d.Cluster), sanitize(err.Error()))
			}
		}
		s.mu.Lock()
		s.writers[d.Cluster] = w
		s.mu.Unlock()
		go w.run()
	}
	s.bg.poke()
	return nil
}

// stopWriters stops every writer after its queued batches and closes the
// files.
func (s *Server) stopWriters() {
	s.mu.Lock()
	ws := make([]*writer, 0, len(s.writers))
	for _, w := range s.writers {
		ws = append(ws, w)
	}
	s.mu.Unlock()
	for _, w := range ws {
		close(w.stop)
	}
	for _, w := range ws {
		<-w.done
	}
}
