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
	recChunk = 1 << 12
	// orderChunk is the target length of an order chunk; a chunk that
	// grows past twice this through late inserts is split.
	orderChunk = 1 << 12
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
	chunks [][]uint32 // ids sorted by time, in chunks of varying length
	starts []int      // starts[i] is the position of chunks[i][0]
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
func (v *View) ID(pos int) uint32 {
	i := v.chunkFor(pos)
	return v.chunks[i][pos-v.starts[i]]
}

// chunkFor returns the index of the chunk holding position pos.
func (v *View) chunkFor(pos int) int {
	lo, hi := 0, len(v.starts)
	for hi-lo > 1 {
		m := int(uint(lo+hi) >> 1)
		if v.starts[m] <= pos {
			lo = m
		} else {
			hi = m
		}
	}
	return lo
}

// Rec returns the record with the given id.
func (v *View) Rec(id uint32) *Rec { return &v.recs[id/recChunk][id%recChunk] }

// At returns the record at sorted position pos.
func (v *View) At(pos int) *Rec { return v.Rec(v.ID(pos)) }

// EachID calls fn for the ids at positions [from, to) in time order and
// stops early when fn returns false.
func (v *View) EachID(from, to int, fn func(pos int, id uint32) bool) {
	for pos := from; pos < to; {
		i := v.chunkFor(pos)
		off := pos - v.starts[i]
		end := min(to-pos, len(v.chunks[i])-off)
		for k, id := range v.chunks[i][off : off+end] {
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
// returns the number dropped. Ids that sort after every held event are
// appended; late ones are placed by binary search and the order is rebuilt
// from the first of them with block copies, so a late event costs a search
// plus a memmove of the tail, never a comparison per tail element.
func (s *Store) merge(v *View, ids []uint32) int {
	var late []insert
	app := make([]uint32, 0, len(ids))
	dups := 0
	for _, id := range ids {
		k := keyOf(v.Rec(id))
		if v.n == 0 || cmpKey(k, v.maxKey) > 0 {
			if s.isDupIn(v, app, id) {
				v.Rec(id).Flags |= FlagDup
				dups++
				continue
			}
			app = append(app, id)
			continue
		}
		pos := searchPos(v, func(p int) bool { return cmpKey(keyOf(v.At(p)), k) > 0 })
		dup := s.isDupBefore(v, pos, id)
		if !dup {
			// Earlier late ids with the same key sit at the end of late.
			var same []uint32
			for j := len(late) - 1; j >= 0 && late[j].pos == pos; j-- {
				same = append(same, late[j].id)
			}
			dup = s.isDupIn(v, same, id)
		}
		if dup {
			v.Rec(id).Flags |= FlagDup
			dups++
			continue
		}
		late = append(late, insert{pos, id})
	}
	if len(late) > 0 {
		v.Generation++
		v.insertLate(late)
	}
	v.appendIDs(app)
	if v.n > 0 {
		v.maxKey = keyOf(v.At(v.n - 1))
	}
	return dups
}

// insertLate places ids at their positions (sorted by position). Only
// the chunks that receive ids are copied; the others stay shared with
// older views.
func (v *View) insertLate(late []insert) {
	chunks := make([][]uint32, 0, len(v.chunks)+len(late)/orderChunk+2)
	k := 0
	for ci, c := range v.chunks {
		end := v.starts[ci] + len(c)
		last := ci == len(v.chunks)-1
		j := k
		for j < len(late) && (late[j].pos < end || (late[j].pos == end && last)) {
			j++
		}
		if j == k {
			chunks = append(chunks, c)
			continue
		}
		merged := make([]uint32, 0, len(c)+j-k)
		cur := 0
		for _, in := range late[k:j] {
			off := in.pos - v.starts[ci]
			merged = append(merged, c[cur:off]...)
			merged = append(merged, in.id)
			cur = off
		}
		merged = append(merged, c[cur:]...)
		for len(merged) > 2*orderChunk {
			chunks = append(chunks, merged[:orderChunk:orderChunk])
			merged = merged[orderChunk:]
		}
		chunks = append(chunks, merged[:len(merged):len(merged)])
		k = j
	}
	v.chunks = chunks
	v.n += len(late)
	v.restart()
}

// appendIDs adds ids after every held event. Writing past the end of the
// last chunk is invisible to older views, whose chunk slices are shorter.
func (v *View) appendIDs(ids []uint32) {
	if len(ids) == 0 {
		return
	}
	// The chunk list is copied: older views share the old one.
	chunks := slices.Clone(v.chunks)
	starts := slices.Clip(v.starts)
	for len(ids) > 0 {
		if len(chunks) == 0 || len(chunks[len(chunks)-1]) >= orderChunk {
			chunks = append(chunks, make([]uint32, 0, orderChunk))
			starts = append(starts, v.n)
		}
		last := &chunks[len(chunks)-1]
		room := orderChunk - len(*last)
		if room <= 0 || cap(*last)-len(*last) < min(room, len(ids)) {
			// A chunk made by insertLate has no spare capacity: give it
			// a fresh tail chunk instead of copying it.
			chunks = append(chunks, make([]uint32, 0, orderChunk))
			starts = append(starts, v.n)
			continue
		}
		n := min(room, len(ids))
		*last = append(*last, ids[:n]...)
		ids = ids[n:]
		v.n += n
	}
	v.chunks, v.starts = chunks, starts
}

// restart recomputes the chunk start positions.
func (v *View) restart() {
	starts := make([]int, len(v.chunks))
	p := 0
	for i, c := range v.chunks {
		starts[i] = p
		p += len(c)
	}
	v.starts = starts
}

// insert is a late id and the position it goes to.
type insert struct {
	pos int
	id  uint32
}

// isDupBefore reports whether id is identical to an event with the same
// key just before sorted position pos.
func (s *Store) isDupBefore(v *View, pos int, id uint32) bool {
	k := keyOf(v.Rec(id))
	for p, n := pos-1, 0; p >= 0 && n < maxDupProbe; p, n = p-1, n+1 {
		o := v.At(p)
		if cmpKey(keyOf(o), k) != 0 {
			return false
		}
		if s.sameBytes(o, v.Rec(id)) {
			return true
		}
	}
	return false
}

// maxDupProbe bounds the byte comparisons for one event, so crafted input
// with many same-key events cannot make loading quadratic; past it an
// event is kept even if it might be a duplicate.
const maxDupProbe = 16

// isDupIn reports whether id is identical to an event with the same key
// at the end of list.
func (s *Store) isDupIn(v *View, list []uint32, id uint32) bool {
	r := v.Rec(id)
	k := keyOf(r)
	for p, n := len(list)-1, 0; p >= 0 && n < maxDupProbe; p, n = p-1, n+1 {
		o := v.Rec(list[p])
		if cmpKey(keyOf(o), k) != 0 {
			return false
		}
		if s.sameBytes(o, r) {
			return true
		}
	}
	return false
}

// sameBytes compares two events' raw bytes.
func (s *Store) sameBytes(a, b *Rec) bool {
	if a.Len != b.Len {
		return false
	}
	x, err1 := s.Raw(a, nil)
	y, err2 := s.Raw(b, nil)
	return err1 == nil && err2 == nil && bytes.Equal(x, y)
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
