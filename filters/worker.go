package filters

import (
	"bytes"

	"github.com/expr-lang/expr/vm"

	"ktrail/audit"
)

// The states of a per-value cache entry.
const (
	cacheUnknown uint8 = iota
	cacheFalse
	cacheTrue
	cacheErr
)

// vmLeaf is a subtree that runs in the expr VM.
type vmLeaf struct {
	prog   *vm.Program
	fields []fieldID // the fields it reads, filled before each run
	slots  []int     // the body slots it reads
	top    bool      // the whole expression: a nil result means false
}

// cacheSpec is a subtree over one indexed field, cached per key.
type cacheSpec struct {
	f    fieldID
	leaf *vmLeaf
}

// bodySlot is one body path a filter reads.
type bodySlot struct {
	root   fieldID
	path   []pathElem
	needle []byte // `"key"` of the last member name: absent means no value
}

// maxWindows is the number of read-ahead windows a worker keeps, one per
// segment being read.
const maxWindows = 4

// readAhead is the size of a read-ahead window.
const readAhead = 256 << 10

// window holds a range of a segment's bytes.
type window struct {
	seg int
	off int64
	buf []byte
}

// worker is the per-goroutine evaluation state: a VM, environments, the
// raw bytes of the current event, per-value caches and read windows.
type worker struct {
	f    *Filter
	s    *audit.Store
	vm   vm.VM
	env  env // the current event, for VM leaves
	cenv env // one key, for cached subtrees

	cur      *audit.Rec
	filled   uint64 // env fields filled for cur
	gen      uint64 // event counter, for slotGen
	slotGen  []uint64
	failed   bool
	rawState uint8 // 0 unread, 1 read, 2 scanned, 3 unreadable
	raw      []byte
	ev       rawEvent
	errs     int64

	tabs     [][]uint8
	tuples   []tupleCache
	groups   map[uint32][]string
	windowed bool
	wins     [maxWindows]window
	nextWin  int
	buf      []byte
}

// newWorker returns a worker for f.
func (f *Filter) newWorker() *worker {
	w := &worker{f: f, s: f.s, groups: map[uint32][]string{}}
	w.env.Body = make([]any, len(f.slots))
	w.slotGen = make([]uint64, len(f.slots))
	w.tabs = make([][]uint8, len(f.caches))
	for k, c := range f.caches {
		switch fieldTable[c.f].kind {
		case kCode:
			w.tabs[k] = make([]uint8, 1<<16)
		case kEnum:
			w.tabs[k] = make([]uint8, 8)
		default:
			w.tabs[k] = make([]uint8, f.s.Interner().Len())
		}
	}
	w.tuples = make([]tupleCache, len(f.tuples))
	for i := range w.wins {
		w.wins[i].seg = -1
	}
	return w
}

// getWorker takes a worker from the pool. Read windows are for scans in
// file order; single events read exactly their bytes.
func (f *Filter) getWorker(windowed bool) *worker {
	f.mu.Lock()
	var w *worker
	if n := len(f.free); n > 0 {
		w = f.free[n-1]
		f.free = f.free[:n-1]
	}
	f.mu.Unlock()
	if w == nil {
		w = f.newWorker()
	}
	w.windowed = windowed
	for i := range w.wins {
		w.wins[i].seg = -1 // the segment may have changed since
	}
	return w
}

// putWorker returns w to the pool and publishes its error count.
func (f *Filter) putWorker(w *worker) {
	if w.errs > 0 {
		f.errs.Add(w.errs)
		w.errs = 0
	}
	w.cur = nil
	f.mu.Lock()
	f.free = append(f.free, w)
	f.mu.Unlock()
}

// eval evaluates the filter for one event.
func (w *worker) eval(r *audit.Rec) bool {
	w.cur, w.filled, w.rawState, w.failed = r, 0, 0, false
	w.gen++
	ok := w.f.root(w, r)
	if w.failed {
		w.errs++
		return false
	}
	return ok
}

// read returns the bytes of event r.
func (w *worker) read(r *audit.Rec) ([]byte, error) {
	if !w.windowed {
		b, err := w.s.Raw(r, w.buf[:0])
		w.buf = b
		return b, err
	}
	seg, off, n := int(r.Seg()), r.Off(), int64(r.Len)
	var x *window
	for i := range w.wins {
		y := &w.wins[i]
		if y.seg == seg {
			if off >= y.off && off+n <= y.off+int64(len(y.buf)) {
				return y.buf[off-y.off : off-y.off+n], nil
			}
			x = y
		}
	}
	segs := w.s.Segments()
	if seg >= len(segs) {
		return w.s.Raw(r, w.buf[:0])
	}
	if x == nil {
		x = &w.wins[w.nextWin]
		w.nextWin = (w.nextWin + 1) % maxWindows
	}
	size := max(n, readAhead)
	if int64(cap(x.buf)) < size {
		x.buf = make([]byte, size)
	}
	m, _ := segs[seg].ReadAt(x.buf[:size], off)
	if int64(m) < n {
		x.seg = -1
		b, err := w.s.Raw(r, w.buf[:0]) // reports why the bytes are missing
		w.buf = b
		return b, err
	}
	x.seg, x.off, x.buf = seg, off, x.buf[:m]
	return x.buf[:n], nil
}

// rawBytes returns the current event's bytes, reading them once.
func (w *worker) rawBytes() ([]byte, bool) {
	switch w.rawState {
	case 1, 2:
		return w.raw, true
	case 3:
		w.failed = true
		return nil, false
	}
	b, err := w.read(w.cur)
	if err != nil {
		w.rawState, w.failed = 3, true
		return nil, false
	}
	w.raw, w.rawState = b, 1
	return b, true
}

// scanned returns the current event's top-level members.
func (w *worker) scanned() (*rawEvent, bool) {
	if w.rawState == 2 {
		return &w.ev, true
	}
	b, ok := w.rawBytes()
	if !ok {
		return nil, false
	}
	if err := w.ev.scan(b); err != nil {
		w.rawState, w.failed = 3, true
		return nil, false
	}
	w.rawState = 2
	return &w.ev, true
}

// slotRaw returns the raw JSON value of body slot k for the current
// event, nil when absent. ok is false when the event cannot be read.
func (w *worker) slotRaw(k int, r *audit.Rec) ([]byte, bool) {
	b, ok := w.rawBytes()
	if !ok {
		return nil, false
	}
	s := &w.f.slots[k]
	if s.needle != nil && !bytes.Contains(b, s.needle) {
		return nil, true // the path's last key is not in the event
	}
	ev, ok := w.scanned()
	if !ok {
		return nil, false
	}
	root := ev.requestObject
	if s.root == fResponseObject {
		root = ev.responseObject
	}
	v, err := lookup(root, s.path)
	if err != nil {
		w.failed = true
		return nil, false
	}
	return v, true
}

// rawEnum returns the raw value of an enum field outside its known names.
func (w *worker) rawEnum(f fieldID, r *audit.Rec) string {
	if w.filled&(1<<f) == 0 {
		w.filled |= 1 << f
		if !w.fill(&w.env, f, r) {
			return ""
		}
	}
	return rawString(f, &w.env)
}

// groupsOf decodes an interned groups array once per worker.
func (w *worker) groupsOf(id uint32) ([]string, bool) {
	if g, ok := w.groups[id]; ok {
		return g, true
	}
	g, err := decodeGroups(w.s.Str(id))
	if err != nil {
		return nil, false
	}
	if len(w.groups) > 1<<14 {
		clear(w.groups)
	}
	w.groups[id] = g
	return g, true
}

// fill sets field f of e from event r; false (with w.failed set) when
// the event's bytes cannot be read or decoded.
func (w *worker) fill(e *env, f fieldID, r *audit.Rec) bool {
	switch fieldTable[f].kind {
	case kID:
		setStr(e, f, w.s.Str(recID(f, r)))
	case kGroups:
		g, ok := w.groupsOf(r.Groups)
		if !ok {
			w.failed = true
			return false
		}
		e.Groups = g
	case kCode:
		e.Code = int(r.Code)
	case kTime:
		e.Time = eventTime(r)
	case kLatency:
		e.Latency = latencyOf(r)
	case kEnum:
		if v, other := enumOf(f, r); v != other {
			setStr(e, f, enumNames(f)[v])
			return true
		}
		fallthrough
	default:
		ev, ok := w.scanned()
		if !ok {
			return false
		}
		if err := ev.fill(f, e); err != nil {
			w.failed = true
			return false
		}
	}
	return true
}

// setStr sets a string field of e.
func setStr(e *env, f fieldID, s string) {
	switch f {
	case fUser:
		e.User = s
	case fImpUser:
		e.ImpUser = s
	case fEffUser:
		e.EffUser = s
	case fVerb:
		e.Verb = s
	case fResource:
		e.Resource = s
	case fSubres:
		e.Subres = s
	case fNamespace:
		e.Namespace = s
	case fNS:
		e.NS = s
	case fName:
		e.Name = s
	case fAPIGroup:
		e.APIGroup = s
	case fSourceIP:
		e.SourceIP = s
	case fUA:
		e.UA = s
	case fCluster:
		e.Cluster = s
	case fLevel:
		e.Level = s
	case fStage:
		e.Stage = s
	case fDecision:
		e.Decision = s
	}
}

// runLeaf fills what leaf reads and runs it. A result that is not a bool
// fails the event, except nil for the whole expression (false).
func (w *worker) runLeaf(l *vmLeaf, r *audit.Rec) bool {
	for _, f := range l.fields {
		if w.filled&(1<<f) == 0 {
			w.filled |= 1 << f
			if !w.fill(&w.env, f, r) {
				return false
			}
		}
	}
	for _, k := range l.slots {
		if w.slotGen[k] != w.gen {
			w.slotGen[k] = w.gen
			v, ok := w.slotRaw(k, r)
			if !ok {
				return false
			}
			val, err := decodeAny(v)
			if err != nil {
				w.failed = true
				return false
			}
			w.env.Body[k] = val
		}
	}
	out, err := w.vm.Run(l.prog, &w.env)
	if err != nil {
		w.failed = true
		return false
	}
	switch b := out.(type) {
	case bool:
		return b
	case nil:
		if l.top {
			return false
		}
	}
	w.failed = true
	return false
}

// cacheMiss evaluates cached subtree k for a key not in the table yet.
func (w *worker) cacheMiss(k int, key uint32, r *audit.Rec) bool {
	t := w.tabs[k]
	if int(key) >= len(t) {
		t = append(t, make([]uint8, max(int(key)+1, w.s.Interner().Len(), 2*len(t))-len(t))...)
		w.tabs[k] = t
	}
	if t[key] == cacheUnknown {
		t[key] = w.evalKey(&w.f.caches[k], key)
	}
	switch t[key] {
	case cacheTrue:
		return true
	case cacheErr:
		w.failed = true
	}
	return false
}

// evalKey runs a cached subtree for one key of its field.
func (w *worker) evalKey(c *cacheSpec, key uint32) uint8 {
	if !w.setKey(&w.cenv, c.f, key) {
		return cacheErr
	}
	return w.runKeyed(c.leaf)
}

// setKey sets field f of e from its cache key.
func (w *worker) setKey(e *env, f fieldID, key uint32) bool {
	switch fieldTable[f].kind {
	case kID:
		setStr(e, f, w.s.Str(key))
	case kGroups:
		g, ok := w.groupsOf(key)
		if !ok {
			return false
		}
		e.Groups = g
	case kCode:
		e.Code = int(key)
	case kEnum:
		setStr(e, f, enumNames(f)[key])
	}
	return true
}

// runKeyed runs a cached leaf on w.cenv and returns the cache state.
func (w *worker) runKeyed(l *vmLeaf) uint8 {
	out, err := w.vm.Run(l.prog, &w.cenv)
	if err != nil {
		return cacheErr
	}
	switch b := out.(type) {
	case bool:
		if b {
			return cacheTrue
		}
		return cacheFalse
	case nil:
		if l.top {
			return cacheFalse
		}
	}
	return cacheErr
}

// tupleCache is one worker's cache of a tuple-keyed subtree.
type tupleCache struct {
	m              map[[tupleMax]uint32]uint8
	lookups, fresh int
	off            bool // too many distinct tuples: run the VM per event
}

// Tuple caches give up when, after tupleProbe lookups, more than half
// found a new tuple; they start over past tupleLimit entries.
const (
	tupleProbe = 1 << 14
	tupleLimit = 1 << 18
)

// tupleLookup returns the cached result for key, evaluating it on a miss.
func (w *worker) tupleLookup(t *tupleCache, l *vmLeaf, key [tupleMax]uint32) bool {
	v, ok := t.m[key]
	t.lookups++
	if !ok {
		t.fresh++
		if t.lookups == tupleProbe && t.fresh > tupleProbe/2 {
			t.off, t.m = true, nil
		}
		v = cacheErr
		for i, f := range l.fields {
			if !w.setKey(&w.cenv, f, key[i]) {
				break
			}
			if i == len(l.fields)-1 {
				v = w.runKeyed(l)
			}
		}
		if t.m == nil || len(t.m) >= tupleLimit {
			t.m = make(map[[tupleMax]uint32]uint8, 256)
		}
		if !t.off {
			t.m[key] = v
		}
	}
	switch v {
	case cacheTrue:
		return true
	case cacheErr:
		w.failed = true
	}
	return false
}
