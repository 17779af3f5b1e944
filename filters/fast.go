package filters

import (
	"math"
	"reflect"
	"time"

	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/vm"

	"ktrail/audit"
)

// pred evaluates part of a filter for one event on one worker. A pred
// that cannot decide (a body that fails to decode) sets w.failed and
// returns false; the event then does not match.
type pred func(w *worker, r *audit.Rec) bool

func constPred(b bool) pred { return func(*worker, *audit.Rec) bool { return b } }

func and2(a, b pred) pred { return func(w *worker, r *audit.Rec) bool { return a(w, r) && b(w, r) } }

func or2(a, b pred) pred { return func(w *worker, r *audit.Rec) bool { return a(w, r) || b(w, r) } }

func not1(a pred) pred { return func(w *worker, r *audit.Rec) bool { return !a(w, r) } }

// build compiles the checked subtree n into a pred: boolean combinations
// and comparisons of indexed fields with constants become Go closures over
// the Rec; predicates over one indexed field are cached per distinct value;
// everything else runs in the expr VM. top is true for the whole
// expression.
func (c *compiler) build(n ast.Node, top bool) (pred, error) {
	if v, ok := c.constValue(n); ok {
		if b, ok := v.(bool); ok {
			return constPred(b), nil
		}
		if v == nil && top {
			return constPred(false), nil
		}
	}
	switch x := n.(type) {
	case *ast.BinaryNode:
		switch x.Operator {
		case "&&", "and", "||", "or":
			l, err := c.build(x.Left, false)
			if err != nil {
				return nil, err
			}
			r, err := c.build(x.Right, false)
			if err != nil {
				return nil, err
			}
			if x.Operator == "&&" || x.Operator == "and" {
				return and2(l, r), nil
			}
			return or2(l, r), nil
		}
		if p := c.compare(x); p != nil {
			return p, nil
		}
		if p := c.bodyCompare(x); p != nil {
			return p, nil
		}
	case *ast.UnaryNode:
		if x.Operator == "!" || x.Operator == "not" {
			p, err := c.build(x.Node, false)
			if err != nil {
				return nil, err
			}
			return not1(p), nil
		}
	case *ast.CallNode:
		if t0, name, ok := c.timeCall(x); ok {
			return timePred(name, t0), nil
		}
	}
	if p, ok, err := c.cached(n, top); ok || err != nil {
		return p, err
	}
	if p, ok, err := c.cachedTuple(n, top); ok || err != nil {
		return p, err
	}
	return c.vmLeaf(n, top)
}

// constValue evaluates n at compile time when it reads no event data.
func (c *compiler) constValue(n ast.Node) (any, bool) {
	switch x := n.(type) {
	case *ast.StringNode:
		return x.Value, true
	case *ast.IntegerNode:
		return x.Value, true
	case *ast.FloatNode:
		return x.Value, true
	case *ast.BoolNode:
		return x.Value, true
	case *ast.NilNode:
		return nil, true
	case *ast.ConstantNode:
		return x.Value, true
	}
	r := refsOf(n)
	if r.fields != 0 || len(r.slots) > 0 || r.dynamic {
		return nil, false
	}
	prog, err := c.program(n)
	if err != nil {
		return nil, false
	}
	out, err := vm.Run(prog, &env{})
	if err != nil {
		return nil, false
	}
	return out, true
}

// sides splits a comparison into a field and a constant, flipping the
// operator when the field is on the right.
func (c *compiler) sides(x *ast.BinaryNode) (f fieldID, cv any, op string, ok bool) {
	op = x.Operator
	if f, ok = fieldOf(x.Left); ok {
		cv, ok = c.constValue(x.Right)
		return f, cv, op, ok
	}
	if f, ok = fieldOf(x.Right); !ok || op == "in" {
		return 0, nil, "", false
	}
	cv, ok = c.constValue(x.Left)
	switch op {
	case "<":
		op = ">"
	case "<=":
		op = ">="
	case ">":
		op = "<"
	case ">=":
		op = "<="
	}
	return f, cv, op, ok
}

// compare returns a Rec-level pred for field OP constant, or nil.
func (c *compiler) compare(x *ast.BinaryNode) pred {
	f, cv, op, ok := c.sides(x)
	if !ok {
		return nil
	}
	switch op {
	case "==", "!=", "<", "<=", ">", ">=", "in":
	default:
		return nil
	}
	var p pred
	switch fieldTable[f].kind {
	case kID:
		p = c.idCompare(f, op, cv)
	case kEnum:
		p = c.enumCompare(f, op, cv)
	case kCode:
		p = codeCompare(op, cv)
	case kTime:
		if t, ok := cv.(time.Time); ok && op != "in" {
			p = timeCmpPred(op, t)
		}
	case kLatency:
		if d, ok := cv.(time.Duration); ok && op != "in" {
			p = latencyPred(op, d)
		}
	}
	return p
}

// stringList returns the strings of a constant list for in.
func stringList(cv any, op string) ([]string, bool) {
	if op != "in" {
		s, ok := cv.(string)
		return []string{s}, ok
	}
	v := reflect.ValueOf(cv)
	if v.Kind() != reflect.Slice && v.Kind() != reflect.Array {
		return nil, false
	}
	out := make([]string, 0, v.Len())
	for i := range v.Len() {
		if s, ok := v.Index(i).Interface().(string); ok {
			out = append(out, s)
		}
	}
	return out, true
}

// idCompare compares an interned string field with constants: == and !=
// with one string, in with up to 8 strings. Each constant is looked up in
// the interner once; one not interned yet can never be equal (it is
// looked up again when a new evaluation starts, for live tails).
func (c *compiler) idCompare(f fieldID, op string, cv any) pred {
	if op != "==" && op != "!=" && op != "in" {
		return nil
	}
	strs, ok := stringList(cv, op)
	if !ok || len(strs) > 8 {
		return nil
	}
	get := idGetter(f)
	var p pred
	if len(strs) == 1 {
		k := c.f.constant(strs[0])
		if id, known := c.f.knownID(k); known {
			p = eqID(f, id)
		} else {
			p = func(w *worker, r *audit.Rec) bool { return get(r) == w.f.consts[k].Load() }
		}
	} else {
		ks := make([]int, len(strs))
		for i, s := range strs {
			ks[i] = c.f.constant(s)
		}
		p = func(w *worker, r *audit.Rec) bool {
			id := get(r)
			for _, k := range ks {
				if w.f.consts[k].Load() == id {
					return true
				}
			}
			return false
		}
	}
	if op == "!=" {
		return not1(p)
	}
	return p
}

// eqID returns a pred for field f == id, reading the Rec field directly.
func eqID(f fieldID, id uint32) pred {
	switch f {
	case fUser:
		return func(_ *worker, r *audit.Rec) bool { return r.User == id }
	case fImpUser:
		return func(_ *worker, r *audit.Rec) bool { return r.ImpUser == id }
	case fVerb:
		return func(_ *worker, r *audit.Rec) bool { return r.Verb == id }
	case fResource:
		return func(_ *worker, r *audit.Rec) bool { return r.Resource == id }
	case fSubres:
		return func(_ *worker, r *audit.Rec) bool { return r.Subres == id }
	case fNamespace, fNS:
		return func(_ *worker, r *audit.Rec) bool { return r.NS == id }
	case fName:
		return func(_ *worker, r *audit.Rec) bool { return r.Name == id }
	case fAPIGroup:
		return func(_ *worker, r *audit.Rec) bool { return r.APIGroup == id }
	case fSourceIP:
		return func(_ *worker, r *audit.Rec) bool { return r.SourceIP == id }
	case fUA:
		return func(_ *worker, r *audit.Rec) bool { return r.UA == id }
	case fCluster:
		return func(_ *worker, r *audit.Rec) bool { return r.Cluster == id }
	}
	get := idGetter(f)
	return func(_ *worker, r *audit.Rec) bool { return get(r) == id }
}

// enumCompare compares level, stage or decision with names. A name
// outside the enum can only equal an event whose value is outside it too;
// those few read their raw value.
func (c *compiler) enumCompare(f fieldID, op string, cv any) pred {
	if op != "==" && op != "!=" && op != "in" {
		return nil
	}
	strs, ok := stringList(cv, op)
	if !ok {
		return nil
	}
	var set [8]bool
	var odd []string
	for _, s := range strs {
		found := false
		for v, name := range enumNames(f) {
			if name == s {
				set[v], found = true, true
			}
		}
		if !found {
			odd = append(odd, s)
		}
	}
	p := func(w *worker, r *audit.Rec) bool {
		v, other := enumOf(f, r)
		if v != other || len(odd) == 0 {
			return set[v]
		}
		s := w.rawEnum(f, r)
		for _, o := range odd {
			if s == o {
				return true
			}
		}
		return false
	}
	if op == "!=" {
		return not1(p)
	}
	return p
}

// codeCompare turns a comparison of code with a number into an inclusive
// range of status codes.
func codeCompare(op string, cv any) pred {
	var x float64
	switch v := cv.(type) {
	case int:
		x = float64(v)
	case float64:
		x = v
	default:
		return nil
	}
	switch {
	case math.IsNaN(x):
		return constPred(op == "!=")
	case math.IsInf(x, 0):
		// Every code compares with ±Inf the same way.
		return constPred(cmpResult(op, -int(math.Copysign(1, x))))
	}
	lo, hi := math.Inf(-1), math.Inf(1)
	switch op {
	case "==", "!=":
		if x != math.Trunc(x) {
			return constPred(op == "!=")
		}
		lo, hi = x, x
	case "<":
		hi = math.Ceil(x) - 1
	case "<=":
		hi = math.Floor(x)
	case ">":
		lo = math.Floor(x) + 1
	case ">=":
		lo = math.Ceil(x)
	default:
		return nil
	}
	l := int(min(max(lo, -1), 1<<17))
	h := int(min(max(hi, -1), 1<<17))
	p := func(_ *worker, r *audit.Rec) bool {
		c := int(r.Code)
		return c >= l && c <= h
	}
	if op == "!=" {
		return not1(p)
	}
	return p
}

// The range of times an int64 of Unix nanoseconds can hold.
var (
	minNanoTime = time.Unix(0, math.MinInt64)
	maxNanoTime = time.Unix(0, math.MaxInt64)
)

// nanos converts t to Unix ns, clamped to the int64 range.
func nanos(t time.Time) int64 {
	switch {
	case t.Before(minNanoTime):
		return math.MinInt64
	case t.After(maxNanoTime):
		return math.MaxInt64
	}
	return t.UnixNano()
}

// cmpResult applies a comparison operator to -1/0/+1.
func cmpResult(op string, c int) bool {
	switch op {
	case "==":
		return c == 0
	case "!=":
		return c != 0
	case "<":
		return c < 0
	case "<=":
		return c <= 0
	case ">":
		return c > 0
	}
	return c >= 0
}

// timeCmpPred compares the event time with t; events without a time have
// the zero time, as in the VM.
func timeCmpPred(op string, t time.Time) pred {
	zero := cmpResult(op, time.Time{}.Compare(t))
	if t.Before(minNanoTime) || t.After(maxNanoTime) {
		all := cmpResult(op, time.Unix(0, 0).Compare(t))
		return func(_ *worker, r *audit.Rec) bool {
			if r.Flags&audit.FlagNoTime != 0 {
				return zero
			}
			return all
		}
	}
	tn := t.UnixNano()
	return func(_ *worker, r *audit.Rec) bool {
		if r.Flags&audit.FlagNoTime != 0 {
			return zero
		}
		switch {
		case r.Time < tn:
			return cmpResult(op, -1)
		case r.Time > tn:
			return cmpResult(op, 1)
		}
		return cmpResult(op, 0)
	}
}

// latencyPred compares the latency with d.
func latencyPred(op string, d time.Duration) pred {
	return func(_ *worker, r *audit.Rec) bool {
		l := latencyOf(r)
		switch {
		case l < d:
			return cmpResult(op, -1)
		case l > d:
			return cmpResult(op, 1)
		}
		return cmpResult(op, 0)
	}
}

// timeCall recognises since/before/after with a constant argument.
func (c *compiler) timeCall(x *ast.CallNode) (time.Time, string, bool) {
	id, ok := x.Callee.(*ast.IdentifierNode)
	if !ok || len(x.Arguments) != 2 {
		return time.Time{}, "", false
	}
	switch id.Value {
	case "since", "before", "after":
	default:
		return time.Time{}, "", false
	}
	if tf, ok := x.Arguments[1].(*ast.IdentifierNode); !ok || tf.Value != "time" {
		return time.Time{}, "", false
	}
	cv, ok := c.constValue(x.Arguments[0])
	if !ok {
		return time.Time{}, "", false
	}
	t0, err := instantOf(cv, c.f.now)
	if err != nil {
		return time.Time{}, "", false
	}
	return t0, id.Value, true
}

// timePred is since/before/after over the index: events without a time
// never match.
func timePred(name string, t0 time.Time) pred {
	lo, hi := timeRange(name, t0)
	return func(_ *worker, r *audit.Rec) bool {
		return r.Flags&audit.FlagNoTime == 0 && r.Time >= lo && r.Time < hi
	}
}

// timeRange returns the Unix-ns range [lo, hi) that since/before/after
// t0 accept.
func timeRange(name string, t0 time.Time) (lo, hi int64) {
	n := nanos(t0)
	switch name {
	case "since":
		return n, math.MaxInt64
	case "before":
		return math.MinInt64, n
	}
	if n == math.MaxInt64 {
		return n, n
	}
	return n + 1, math.MaxInt64
}
