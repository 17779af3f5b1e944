package audit

import (
	"sync"
	"sync/atomic"
)

const internChunk = 4096

// Interner maps strings to dense uint32 ids and back. Id 0 is always the
// empty string. Lookups of ids are lock-free; adding a string takes a
// mutex. Many goroutines may call any method at once.
type Interner struct {
	mu     sync.Mutex
	ids    map[string]uint32
	chunks atomic.Pointer[[]*[internChunk]string]
	n      atomic.Uint32
	bytes  atomic.Int64
}

// NewInterner returns an interner holding only the empty string.
func NewInterner() *Interner {
	in := &Interner{ids: map[string]uint32{"": 0}}
	first := []*[internChunk]string{new([internChunk]string)}
	in.chunks.Store(&first)
	in.n.Store(1)
	return in
}

// Len returns the number of distinct strings, the empty one included.
func (in *Interner) Len() int { return int(in.n.Load()) }

// Bytes returns the total length of the interned strings.
func (in *Interner) Bytes() int64 { return in.bytes.Load() }

// Str returns the string for id, or "" for an unknown id.
func (in *Interner) Str(id uint32) string {
	if id >= in.n.Load() {
		return ""
	}
	ch := *in.chunks.Load()
	return ch[id/internChunk][id%internChunk]
}

// Lookup returns the id of s if it has been interned.
func (in *Interner) Lookup(s string) (uint32, bool) {
	in.mu.Lock()
	id, ok := in.ids[s]
	in.mu.Unlock()
	return id, ok
}

// Intern returns the id of b, adding it if needed.
func (in *Interner) Intern(b []byte) uint32 {
	if len(b) == 0 {
		return 0
	}
	in.mu.Lock()
	id, ok := in.ids[string(b)]
	if !ok {
		id = in.add(string(b))
	}
	in.mu.Unlock()
	return id
}

// InternString is Intern for a string.
func (in *Interner) InternString(s string) uint32 {
	if s == "" {
		return 0
	}
	in.mu.Lock()
	id, ok := in.ids[s]
	if !ok {
		id = in.add(s)
	}
	in.mu.Unlock()
	return id
}

// add stores s under a new id; in.mu must be held.
func (in *Interner) add(s string) uint32 {
	id := in.n.Load()
	ch := *in.chunks.Load()
	if int(id/internChunk) == len(ch) {
		grown := make([]*[internChunk]string, len(ch)+1)
		copy(grown, ch)
		grown[len(ch)] = new([internChunk]string)
		in.chunks.Store(&grown)
		ch = grown
	}
	ch[id/internChunk][id%internChunk] = s
	in.ids[s] = id
	in.bytes.Add(int64(len(s)))
	in.n.Store(id + 1)
	return id
}

// LocalInterner caches ids for one goroutine in front of a shared
// Interner, so that repeated values (the same user or verb on most lines)
// cost one map lookup without a lock.
type LocalInterner struct {
	shared *Interner
	cache  map[string]uint32
	last   [fieldSlots]struct {
		s  string
		id uint32
	}
}

// fieldSlots is the number of per-field "same as last time" slots.
const fieldSlots = 16

// NewLocal returns a goroutine-local cache over in.
func (in *Interner) NewLocal() *LocalInterner {
	return &LocalInterner{shared: in, cache: make(map[string]uint32, 1024)}
}

// Intern returns the id of b. slot names the field so that a value equal
// to the previous one of the same field skips the map.
func (l *LocalInterner) Intern(slot int, b []byte) uint32 {
	if len(b) == 0 {
		return 0
	}
	if p := &l.last[slot]; p.s == string(b) {
		return p.id
	}
	id, ok := l.cache[string(b)]
	if !ok {
		id = l.shared.Intern(b)
		if len(l.cache) > 1<<16 {
			clear(l.cache)
		}
		// Reuse the shared copy of the string for the cache key.
		l.cache[l.shared.Str(id)] = id
	}
	l.last[slot].s = l.shared.Str(id)
	l.last[slot].id = id
	return id
}
