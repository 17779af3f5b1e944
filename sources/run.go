package sources

import (
	"context"
	"errors"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"ktrail/audit"
)

// loadStep is how many bytes one Load call indexes at most, so that
// Progress moves during a long load (each call is parallel inside).
const loadStep = 64 << 20

// headSize is how many leading bytes identify a file's content when
// recognising a copy of a file already read.
const headSize = 4096

// fileSeg is a segment read in place from an input file with pread.
type fileSeg struct {
	f      *os.File
	name   string
	sealed atomic.Pointer[string]
}

// Name returns the input's display name.
func (g *fileSeg) Name() string { return g.name }

// ReadAt reads from the file, or fails once the segment has been sealed
// because the file was truncated: the bytes at its offsets now belong to
// other events, and returning them would show the wrong event.
func (g *fileSeg) ReadAt(p []byte, off int64) (int, error) {
	if why := g.sealed.Load(); why != nil {
		return 0, errors.New(*why)
	}
	return g.f.ReadAt(p, off)
}

// source is one segment being indexed, with the counters Progress sums.
type source struct {
	name string
	seg  audit.Segment
	ld   *audit.Loader

	pos    atomic.Int64 // bytes of the segment indexed
	size   atomic.Int64 // bytes of the segment seen (the largest size observed)
	events atomic.Int64
	zDone  atomic.Int64 // gzip: compressed bytes consumed
	zTotal atomic.Int64 // gzip: compressed size

	mu   sync.Mutex
	head []byte // the first bytes, up to headSize
}

// progress returns the source's share of Progress.Done and Total.
func (src *source) progress() (done, total int64) {
	pos, size := src.pos.Load(), src.size.Load()
	zt := src.zTotal.Load()
	if zt == 0 {
		return pos, size
	}
	if size == 0 {
		return src.zDone.Load(), zt
	}
	return int64(float64(src.zDone.Load()) * float64(pos) / float64(size)), zt
}

// noteHead remembers the segment's first bytes while they are readable.
func (src *source) noteHead() {
	src.mu.Lock()
	defer src.mu.Unlock()
	n := min(src.size.Load(), headSize)
	if int64(len(src.head)) >= n {
		return
	}
	b := make([]byte, n)
	m, _ := src.seg.ReadAt(b, 0)
	src.head = b[:m]
}

// headAndSize returns the remembered first bytes and the size seen.
func (src *source) headAndSize() ([]byte, int64) {
	src.mu.Lock()
	defer src.mu.Unlock()
	return src.head, src.size.Load()
}

// newSource registers seg with the store and returns its source.
func (s *Set) newSource(name string, seg audit.Segment) (*source, error) {
	if len(s.store.Segments()) >= 1<<16-1 {
		return nil, nameErr(name, "too many files or segments in one session (at most 65535)", nil)
	}
	id := s.store.AddSegment(seg)
	src := &source{name: name, seg: seg}
	src.ld = audit.NewLoader(s.store, id, seg, audit.LoaderOptions{
		Cluster: s.clusterOf(name),
		Workers: s.opts.Workers,
		OnError: s.lineError,
		Strict:  s.opts.Strict,
	})
	s.mu.Lock()
	s.srcs = append(s.srcs, src)
	s.mu.Unlock()
	s.addName(name)
	return src, nil
}

// index loads src up to end, in steps of loadStep. final reports an
// incomplete last line instead of waiting for it.
func (s *Set) index(ctx context.Context, src *source, end int64, final bool) error {
	if end > src.size.Load() {
		src.size.Store(end)
	}
	target := src.ld.Pos()
	for {
		target = min(end, target+loadStep)
		last := target >= end
		err := src.ld.Load(ctx, target, final && last)
		src.pos.Store(src.ld.Pos())
		src.events.Store(src.ld.Events())
		if err != nil {
			return err
		}
		if last {
			break
		}
	}
	src.noteHead()
	return nil
}

// group runs goroutines and keeps the first error that matters. A fatal
// error (--strict) cancels the others.
type group struct {
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	mu     sync.Mutex
	err    error
}

// run starts f in a goroutine.
func (g *group) run(f func() error) {
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		g.fail(f())
	}()
}

// fail records err unless it only reports cancellation.
func (g *group) fail(err error) {
	if err == nil || isCanceled(g.ctx, err) {
		return
	}
	g.mu.Lock()
	if g.err == nil || (isFatal(err) && !isFatal(g.err)) {
		g.err = err
	}
	g.mu.Unlock()
	if isFatal(err) {
		g.cancel()
	}
}

// wait waits for every goroutine and returns the recorded error.
func (g *group) wait() error {
	g.wg.Wait()
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.err
}

// Run reads every input. Plain files are indexed one after another, oldest
// first, each in parallel inside the loader; gzip files are decompressed
// concurrently (up to Workers at once); streams are copied and indexed as
// they arrive. Without Follow, Run returns when all input is indexed and
// every stream has ended; with Follow it keeps going until ctx is
// cancelled.
//
// An error that concerns one input (an unreadable file, a stream that
// fails) does not stop the others: Run returns the first such error at the
// end. audit.ErrStrict stops everything at once. Damaged gzip data is not
// an error: it is reported through OnError and OnNotice and the events
// before it are kept. Run returns ctx.Err() if ctx is cancelled before the
// files were read, and nil if it was cancelled while following.
func (s *Set) Run(ctx context.Context) error {
	if !s.started.CompareAndSwap(false, true) {
		return errors.New("sources: Run called twice")
	}
	parent := ctx
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return errors.New("sources: Run called after Close")
	}
	s.cancel = cancel
	s.running.Add(1)
	s.mu.Unlock()
	defer s.running.Done()

	workers := s.opts.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	s.zipSem = make(chan struct{}, workers)
	if s.opts.Follow {
		s.following.Store(true)
		defer s.following.Store(false)
	}
	s.g = &group{ctx: ctx, cancel: cancel}

	var files []*input
	var pending atomic.Int64 // files and gzip not read to the end yet
	for _, in := range s.inputs {
		switch in.kind {
		case kindFile:
			src, err := s.newSource(in.name, &fileSeg{f: in.f, name: in.name})
			if err != nil {
				s.g.fail(err)
				continue
			}
			in.src = src
			src.size.Store(in.fi.Size())
			files = append(files, in)
			pending.Add(1)
		case kindGzip:
			pending.Add(1)
		}
	}
	// Oldest first: rotated files then mostly append at the end of the
	// store's time order instead of inserting before what is there.
	slices.SortStableFunc(files, func(a, b *input) int { return a.fi.ModTime().Compare(b.fi.ModTime()) })
	s.g.run(func() error { return s.runFiles(ctx, files, &pending) })
	for _, in := range s.inputs {
		switch in.kind {
		case kindGzip:
			s.g.run(func() error {
				err := s.runGzip(ctx, in)
				if !isCanceled(ctx, err) {
					pending.Add(-1)
				}
				return err
			})
		case kindStream:
			s.g.run(func() error { return s.runStream(ctx, in) })
		}
	}
	err := s.g.wait()
	if err != nil {
		return err
	}
	if parent.Err() != nil && pending.Load() > 0 {
		return parent.Err()
	}
	return nil
}

// runFiles indexes the plain files in order, then follows them.
func (s *Set) runFiles(ctx context.Context, files []*input, pending *atomic.Int64) error {
	var first error
	for _, in := range files {
		err := s.loadFile(ctx, in)
		if !isCanceled(ctx, err) {
			pending.Add(-1)
		}
		switch {
		case err == nil:
		case isFatal(err), isCanceled(ctx, err):
			return err
		case s.opts.Follow:
			// Perhaps truncated while it was read: following will tell.
			s.notice(in.name, strings.TrimPrefix(loadErr(in.name, err).Error(), "sources: "))
		case first == nil:
			first = loadErr(in.name, err)
		}
	}
	if !s.opts.Follow {
		return first
	}
	return s.follow(ctx, files)
}

// loadFile indexes one plain file to its current end. Without Follow an
// incomplete last line is reported; with Follow it is waited for.
func (s *Set) loadFile(ctx context.Context, in *input) error {
	fi, err := in.f.Stat()
	if err != nil {
		return err
	}
	return s.index(ctx, in.src, fi.Size(), !s.opts.Follow)
}
