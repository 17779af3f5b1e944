package audit

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"sync/atomic"
)

const (
	recChunk   = 1 << 12
	orderChunk = 1 << 14
)

// Segment is a byte store that holds events verbatim: an input file read
// in place, or a spool file ktrail writes for gzip, stdin and webhook
// input.
type Segment interface {
	io.ReaderAt
	// Name is what error messages and reports call the segment.
	Name() string
}

// Store holds the index of every event read so far. One goroutine appends
// (Append); any number read through View snapshots, which see a
// consistent, time-sorted prefix of the events.
type Store struct {
	mu   sync.Mutex // serialises writers
	in   *Interner
	segs atomic.Pointer[[]Segment]
	view atomic.Pointer[View]
	dups atomic.Int64
	// bytes counts the event bytes indexed.
	bytes atomic.Int64
}

// View is an immutable snapshot of the store: records by id and the ids
// sorted by time. It stays valid while the store grows.
type View struct {
	recs   []*[recChunk]Rec
	nrec   int
	order  []*[orderChunk]uint32
	n      int
	maxKey sortKey
	// Generation increases when events were inserted before the end of
	// the order (late events), so positions from older views may shift.
	Generation uint64
}

// NewStore returns an empty store.
func NewStore() *Store {
	s := &Store{in: NewInterner()}
	s.segs.Store(&[]Segment{})
	s.view.Store(&View{})
	return s
}

// Interner returns the store's string table.
func (s *Store) Interner() *Interner { return s.in }

// Str returns the interned string for id.
func (s *Store) Str(id uint32) string { return s.in.Str(id) }

// View returns the current snapshot.
func (s *Store) View() *View { return s.view.Load() }

// Len returns the number of distinct events.
func (s *Store) Len() int { return s.view.Load().n }

// Duplicates returns how many events were dropped as exact duplicates.
func (s *Store) Duplicates() int64 { return s.dups.Load() }

// Bytes returns the number of event bytes indexed.
func (s *Store) Bytes() int64 { return s.bytes.Load() }

// AddSegment registers seg and returns its id.
func (s *Store) AddSegment(seg Segment) uint16 {
	s.mu.Lock()
	defer s.mu.Unlock()
	old := *s.segs.Load()
	if len(old) >= 1<<16-1 {
		panic("audit: too many segments")
	}
	segs := append(old[:len(old):len(old)], seg)
	s.segs.Store(&segs)
	return uint16(len(segs) - 1)
}

// Segments returns the registered segments.
func (s *Store) Segments() []Segment { return *s.segs.Load() }

// Raw appends the event's verbatim bytes to dst.
func (s *Store) Raw(r *Rec, dst []byte) ([]byte, error) {
	segs := *s.segs.Load()
	seg := int(r.Seg())
	if seg >= len(segs) {
		return dst, fmt.Errorf("audit: unknown segment %d", seg)
	}
	n := len(dst)
	dst = slices.Grow(dst, int(r.Len))[:n+int(r.Len)]
	m, err := segs[seg].ReadAt(dst[n:], r.Off())
	if m == int(r.Len) {
		return dst, nil
	}
	if err == nil || errors.Is(err, io.EOF) {
		err = fmt.Errorf("audit: %s: event at byte %d is no longer there (file truncated?)", segs[seg].Name(), r.Off())
	}
	return dst[:n+m], err
}

// Len returns the number of events in the view.
func (v *View) Len() int { return v.n }

// NumRecs returns the number of record ids, duplicates included.
func (v *View) NumRecs() int { return v.nrec }

// ID returns the id of the event at sorted position pos.
func (v *View) ID(pos int) uint32 { return v.order[pos/orderChunk][pos%orderChunk] }

// Rec returns the record with the given id.
func (v *View) Rec(id uint32) *Rec { return &v.recs[id/recChunk][id%recChunk] }

// At returns the record at sorted position pos.
func (v *View) At(pos int) *Rec { return v.Rec(v.ID(pos)) }

// EachID calls fn for the ids at positions [from, to) in time order and
// stops early when fn returns false.
func (v *View) EachID(from, to int, fn func(pos int, id uint32) bool) {
	for pos := from; pos < to; {
		ch := v.order[pos/orderChunk]
		end := min(to-pos, orderChunk-pos%orderChunk)
		for k, id := range ch[pos%orderChunk : pos%orderChunk+end] {
			if !fn(pos+k, id) {
				return
			}
		}
		pos += end
	}
}

// sortKey orders events by time; ties are broken so that identical events
// become neighbours.
type sortKey struct {
	t   int64
	aid uint64
	st  Stage
	ln  uint32
}

func keyOf(r *Rec) sortKey { return sortKey{r.Time, r.AuditID, r.Stage, r.Len} }

func cmpKey(a, b sortKey) int {
	if c := cmp.Compare(a.t, b.t); c != 0 {
		return c
	}
	if c := cmp.Compare(a.aid, b.aid); c != 0 {
		return c
	}
	if c := cmp.Compare(a.st, b.st); c != 0 {
		return c
	}
	return cmp.Compare(a.ln, b.ln)
}

// Less reports whether the event with id a sorts before the one with id b.
func (v *View) Less(a, b uint32) bool { return cmpKey(keyOf(v.Rec(a)), keyOf(v.Rec(b))) < 0 }

// Compare orders two ids as the store's time order does.
func (v *View) Compare(a, b uint32) int { return cmpKey(keyOf(v.Rec(a)), keyOf(v.Rec(b))) }

// Append adds records and returns how many were new and how many were
// duplicates of events already held. Only one goroutine may append at a
// time; readers are never blocked.
func (s *Store) Append(batch []Rec) (added, dups int) {
	if len(batch) == 0 {
		return 0, 0
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.view.Load()
	v := *old
	// Store the records under new ids.
	first := uint32(v.nrec)
	v.recs = slices.Clip(v.recs)
	var nbytes int64
	for i := range batch {
		id := v.nrec
		if id/recChunk == len(v.recs) {
			v.recs = append(v.recs, new([recChunk]Rec))
		}
		v.recs[id/recChunk][id%recChunk] = batch[i]
		v.nrec++
		nbytes += int64(batch[i].Len)
	}
	ids := make([]uint32, len(batch))
	for i := range ids {
		ids[i] = first + uint32(i)
	}
	slices.SortStableFunc(ids, func(a, b uint32) int { return cmpKey(keyOf(v.Rec(a)), keyOf(v.Rec(b))) })
	nd := s.merge(&v, ids)
	s.dups.Add(int64(nd))
	s.bytes.Add(nbytes)
	s.view.Store(&v)
	return len(batch) - nd, nd
}

// merge inserts the sorted ids into v's order, dropping duplicates, and
// returns the number dropped.
func (s *Store) merge(v *View, ids []uint32) int {
	// Find where the batch starts within the existing order.
	lo := v.n
	if v.n > 0 && cmpKey(keyOf(v.Rec(ids[0])), v.maxKey) <= 0 {
		k0 := keyOf(v.Rec(ids[0]))
		lo = searchPos(v, func(pos int) bool { return cmpKey(keyOf(v.At(pos)), k0) >= 0 })
		// Step back over equal keys so duplicates are compared.
		for lo > 0 && cmpKey(keyOf(v.At(lo-1)), k0) == 0 {
			lo--
		}
	}
	tail := make([]uint32, 0, v.n-lo+len(ids))
	v.EachID(lo, v.n, func(_ int, id uint32) bool { tail = append(tail, id); return true })
	out := make([]uint32, 0, len(tail)+len(ids))
	dups := 0
	i, j := 0, 0
	for i < len(tail) || j < len(ids) {
		if j >= len(ids) || (i < len(tail) && cmpKey(keyOf(v.Rec(tail[i])), keyOf(v.Rec(ids[j]))) <= 0) {
			out = append(out, tail[i])
			i++
			continue
		}
		id := ids[j]
		j++
		if s.isDup(v, out, id) {
			v.Rec(id).Flags |= FlagDup
			dups++
			continue
		}
		out = append(out, id)
	}
	// Write the merged tail into fresh chunks from lo on; earlier chunks
	// are shared with older views.
	if lo < v.n {
		v.Generation++
	}
	// Chunks wholly before lo are shared. The chunk holding lo is copied
	// when older views can see positions at or after lo; positions past
	// the old end are invisible to them and are written in place.
	k := lo / orderChunk
	order := make([]*[orderChunk]uint32, k, k+(len(out)+lo%orderChunk)/orderChunk+1)
	copy(order, v.order[:k])
	if lo%orderChunk != 0 {
		c := v.order[k]
		if lo < v.n {
			c = new([orderChunk]uint32)
			copy(c[:lo%orderChunk], v.order[k][:lo%orderChunk])
		}
		order = append(order, c)
	}
	pos := lo
	for _, id := range out {
		if pos/orderChunk == len(order) {
			order = append(order, new([orderChunk]uint32))
		}
		order[pos/orderChunk][pos%orderChunk] = id
		pos++
	}
	v.order = order
	v.n = pos
	if pos > 0 {
		v.maxKey = keyOf(v.At(pos - 1))
	}
	return dups
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// isDup reports whether id is identical to an event with the same key at
// the end of out.
func (s *Store) isDup(v *View, out []uint32, id uint32) bool {
	r := v.Rec(id)
	k := keyOf(r)
	var a, b []byte
	for p := len(out) - 1; p >= 0; p-- {
		o := v.Rec(out[p])
		if cmpKey(keyOf(o), k) != 0 {
			return false
		}
		var err1, err2 error
		a, err1 = s.Raw(o, a[:0])
		b, err2 = s.Raw(r, b[:0])
		if err1 == nil && err2 == nil && bytes.Equal(a, b) {
			return true
		}
	}
	return false
}

// searchPos returns the smallest position in [0, v.n) for which f is true,
// or v.n.
func searchPos(v *View, f func(int) bool) int {
	lo, hi := 0, v.n
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if !f(m) {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// Search returns the first sorted position whose time is ≥ t.
func (v *View) Search(t int64) int {
	return searchPos(v, func(pos int) bool { return v.At(pos).Time >= t })
}
