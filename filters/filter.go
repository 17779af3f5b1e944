package filters

import (
	"math"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/expr-lang/expr/ast"

	"ktrail/audit"
)

// Options configure Compile.
type Options struct {
	// Now is the time since("1h"), before/after with a duration and now()
	// count from: the --now flag, or the last event's time for the demo.
	// Zero means the wall clock at compile time.
	Now time.Time

	// vmOnly runs every expression in the expr VM, without fast paths,
	// body slots or time bounds; tests compare it with the fast paths.
	vmOnly bool
}

// absentID marks a constant string not interned (yet).
const absentID = math.MaxUint32

// Filter is a compiled filter. It is safe for concurrent use.
type Filter struct {
	s      *audit.Store
	exprs  []string
	now    time.Time
	vmOnly bool
	root   pred
	all    bool // matches every event without evaluation
	never  bool // matches no event

	// Interned constants: ids, or absentID until the string appears.
	constStrs []string
	consts    []atomic.Uint32
	constIdx  map[string]int

	caches   []cacheSpec
	tuples   []*vmLeaf
	slots    []bodySlot
	slotIdx  map[string]int
	prefixes map[string]netip.Prefix

	// Time bounds from top-level since/after/before/time comparisons: no
	// event outside [lo, hi) (Unix ns) can match.
	lo, hi int64

	errs atomic.Int64
	mu   sync.Mutex
	free []*worker
}

// Compile parses the AND of exprs (none or all-blank means match
// everything) against the vocabulary of s. Errors are *CompileError. The
// views later given to the filter must be views of s.
func Compile(s *audit.Store, exprs []string, opts Options) (*Filter, error) {
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	f := &Filter{
		s: s, now: now, vmOnly: opts.vmOnly,
		constIdx: map[string]int{}, slotIdx: map[string]int{},
		prefixes: map[string]netip.Prefix{},
		lo:       math.MinInt64, hi: math.MaxInt64,
	}
	cfg := newConfig(now, f.prefixes)
	var preds []pred
	for _, e := range exprs {
		if strings.TrimSpace(e) == "" {
			continue
		}
		f.exprs = append(f.exprs, e)
		c := &compiler{f: f, cfg: cfg, src: e, vmOnly: opts.vmOnly}
		p, konst, err := c.compileExpr()
		if err != nil {
			return nil, err
		}
		switch {
		case konst == nil:
			preds = append(preds, p)
		case !*konst:
			f.never = true
		}
	}
	// The constants are final: give them their atomic slots.
	f.consts = make([]atomic.Uint32, len(f.constStrs))
	for k, str := range f.constStrs {
		id, ok := s.Interner().Lookup(str)
		if !ok {
			id = absentID
		}
		f.consts[k].Store(id)
	}
	switch {
	case f.never:
		f.root = constPred(false)
	case len(preds) == 0:
		f.all = true
		f.root = constPred(true)
	default:
		f.root = preds[0]
		for _, p := range preds[1:] {
			f.root = and2(f.root, p)
		}
	}
	return f, nil
}

// MatchAll reports whether the filter matches every event without
// evaluating anything (no expression, or only constant true ones).
func (f *Filter) MatchAll() bool { return f.all }

// String returns the filter's expressions joined with &&, each in
// parentheses when there are several; "" when there is none.
func (f *Filter) String() string {
	if len(f.exprs) == 1 {
		return strings.TrimSpace(f.exprs[0])
	}
	parts := make([]string, len(f.exprs))
	for i, e := range f.exprs {
		parts[i] = "(" + strings.TrimSpace(e) + ")"
	}
	return strings.Join(parts, " && ")
}

// Errors returns how many event evaluations failed since the filter was
// compiled (a body that does not decode, bytes that cannot be read, a
// VM error such as a type mismatch); those events did not match.
func (f *Filter) Errors() int64 { return f.errs.Load() }

// constant registers a string constant and returns its index. The id is
// looked up when compilation ends (see knownID before that).
func (f *Filter) constant(s string) int {
	if k, ok := f.constIdx[s]; ok {
		return k
	}
	f.constStrs = append(f.constStrs, s)
	f.constIdx[s] = len(f.constStrs) - 1
	return len(f.constStrs) - 1
}

// knownID returns the interned id of constant k if the string is interned
// now; such a constant can be captured as a plain integer.
func (f *Filter) knownID(k int) (uint32, bool) {
	return f.s.Interner().Lookup(f.constStrs[k])
}

// refresh looks up again the constants that were not interned, so that a
// value first seen in a live tail is found.
func (f *Filter) refresh() {
	for k := range f.consts {
		if f.consts[k].Load() == absentID {
			if id, ok := f.s.Interner().Lookup(f.constStrs[k]); ok {
				f.consts[k].Store(id)
			}
		}
	}
}

// addSlot registers a body path and returns its slot.
func (f *Filter) addSlot(root fieldID, path []pathElem) int {
	var key strings.Builder
	key.WriteString(fieldTable[root].name)
	var needle []byte
	for _, p := range path {
		if p.isIdx {
			key.WriteString("[" + itoa(p.index) + "]")
		} else {
			key.WriteString("." + quoteKey(p.key))
			needle = []byte(`"` + p.key + `"`)
		}
	}
	if k, ok := f.slotIdx[key.String()]; ok {
		return k
	}
	if needle != nil && !asciiPlain(needle) {
		needle = nil // a key an encoder may escape: no pre-check
	}
	f.slots = append(f.slots, bodySlot{root: root, path: path, needle: needle})
	f.slotIdx[key.String()] = len(f.slots) - 1
	return len(f.slots) - 1
}

// asciiPlain reports whether the quoted key b holds only letters, digits
// and _ . : -, which JSON encoders always write as they are (never as
// \u escapes), so that its absence from an event's bytes is proof.
func asciiPlain(b []byte) bool {
	for _, c := range b[1 : len(b)-1] {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_', c == '.', c == ':', c == '-':
		default:
			return false
		}
	}
	return len(b) > 2
}

func quoteKey(s string) string { return strings.ReplaceAll(s, ".", `\.`) }

func itoa(i int) string {
	var b [20]byte
	n := len(b)
	for {
		n--
		b[n] = byte('0' + i%10)
		i /= 10
		if i == 0 {
			return string(b[n:])
		}
	}
}

// addCache registers a cached subtree and returns its table index.
func (f *Filter) addCache(fid fieldID, leaf *vmLeaf) int {
	f.caches = append(f.caches, cacheSpec{f: fid, leaf: leaf})
	return len(f.caches) - 1
}

// collectBounds narrows [f.lo, f.hi) with the time conditions that the
// whole expression needs (its top-level && terms) and that events
// without a time cannot meet.
func (f *Filter) collectBounds(c *compiler, n ast.Node) {
	if c.vmOnly {
		return
	}
	if b, ok := n.(*ast.BinaryNode); ok && (b.Operator == "&&" || b.Operator == "and") {
		f.collectBounds(c, b.Left)
		f.collectBounds(c, b.Right)
		return
	}
	lo, hi := int64(math.MinInt64), int64(math.MaxInt64)
	switch x := n.(type) {
	case *ast.CallNode:
		t0, name, ok := c.timeCall(x)
		if !ok {
			return
		}
		lo, hi = timeRange(name, t0)
	case *ast.BinaryNode:
		fid, cv, op, ok := c.sides(x)
		t, isTime := cv.(time.Time)
		if !ok || !isTime || fieldTable[fid].kind != kTime || cmpResult(op, time.Time{}.Compare(t)) {
			return
		}
		tn := nanos(t)
		switch op {
		case ">=":
			lo = tn
		case ">":
			lo = sat(tn, 1)
		case "<":
			hi = tn
		case "<=":
			hi = sat(tn, 1)
		case "==":
			lo, hi = tn, sat(tn, 1)
		}
	default:
		return
	}
	f.lo, f.hi = max(f.lo, lo), min(f.hi, hi)
}

// sat adds d to x, saturating at the int64 maximum.
func sat(x, d int64) int64 {
	if x > math.MaxInt64-d {
		return math.MaxInt64
	}
	return x + d
}
