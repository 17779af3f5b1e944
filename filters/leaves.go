package filters

import (
	"bytes"
	"math/bits"
	"reflect"
	"strconv"
	"unicode/utf8"

	"github.com/expr-lang/expr/ast"

	"ktrail/audit"
)

// This file holds the leaves of a compiled filter that are not plain
// Rec comparisons: subtrees cached per distinct field value, VM leaves,
// and body paths compared on the raw JSON.

// cached returns a pred for a subtree that reads exactly one indexed
// field with a small key (an interned id, the code, an enum): it is
// evaluated by the VM once per distinct key and cached per worker.
func (c *compiler) cached(n ast.Node, top bool) (pred, bool, error) {
	// Predicate elements (#) and let variables inside n depend only on
	// what n reads, so they do not prevent caching.
	r := refsOf(n)
	if len(r.slots) > 0 || bits.OnesCount64(r.fields) != 1 {
		return nil, false, nil
	}
	f := fieldID(bits.TrailingZeros64(r.fields))
	switch fieldTable[f].kind {
	case kID, kGroups, kCode, kEnum:
	default:
		return nil, false, nil
	}
	prog, err := c.program(n)
	if err != nil {
		return nil, false, err
	}
	leaf := &vmLeaf{prog: prog, fields: []fieldID{f}, top: top}
	k := c.f.addCache(f, leaf)
	switch fieldTable[f].kind {
	case kID, kGroups:
		get := idGetter(f)
		return func(w *worker, r *audit.Rec) bool {
			id := get(r)
			if t := w.tabs[k]; int(id) < len(t) {
				switch t[id] {
				case cacheTrue:
					return true
				case cacheFalse:
					return false
				}
			}
			return w.cacheMiss(k, id, r)
		}, true, nil
	case kCode:
		return func(w *worker, r *audit.Rec) bool {
			if v := w.tabs[k][r.Code]; v == cacheTrue || v == cacheFalse {
				return v == cacheTrue
			}
			return w.cacheMiss(k, uint32(r.Code), r)
		}, true, nil
	}
	return func(w *worker, r *audit.Rec) bool {
		v, other := enumOf(f, r)
		if v == other {
			return w.runLeaf(leaf, r)
		}
		if t := w.tabs[k][v]; t == cacheTrue || t == cacheFalse {
			return t == cacheTrue
		}
		return w.cacheMiss(k, uint32(v), r)
	}, true, nil
}

// tupleMax is the largest number of fields a tuple cache keys on.
const tupleMax = 3

// smallKey returns the cache key of a field that has one (an interned id,
// the code, an enum inside its names).
func smallKey(f fieldID, r *audit.Rec) (uint32, bool) {
	switch fieldTable[f].kind {
	case kID, kGroups:
		return recID(f, r), true
	case kCode:
		return uint32(r.Code), true
	case kEnum:
		v, other := enumOf(f, r)
		return uint32(v), v != other
	}
	return 0, false
}

// cachedTuple returns a pred for a subtree over two or three fields with
// small keys (user + impersonatedUser, verb + resource): the VM runs once
// per distinct tuple of keys, cached per worker in a map. A worker that
// finds mostly new tuples stops caching and runs the VM per event.
func (c *compiler) cachedTuple(n ast.Node, top bool) (pred, bool, error) {
	r := refsOf(n)
	if cnt := bits.OnesCount64(r.fields); len(r.slots) > 0 || cnt < 2 || cnt > tupleMax {
		return nil, false, nil
	}
	var fs []fieldID
	for f := range numFields {
		if r.fields&(1<<f) == 0 {
			continue
		}
		switch fieldTable[f].kind {
		case kID, kGroups, kCode, kEnum:
			fs = append(fs, f)
		default:
			return nil, false, nil
		}
	}
	prog, err := c.program(n)
	if err != nil {
		return nil, false, err
	}
	leaf := &vmLeaf{prog: prog, fields: fs, top: top}
	c.f.tuples = append(c.f.tuples, leaf)
	k := len(c.f.tuples) - 1
	return func(w *worker, r *audit.Rec) bool {
		t := &w.tuples[k]
		if t.off {
			return w.runLeaf(leaf, r)
		}
		var key [tupleMax]uint32
		for i, f := range fs {
			v, ok := smallKey(f, r)
			if !ok {
				return w.runLeaf(leaf, r)
			}
			key[i] = v
		}
		return w.tupleLookup(t, leaf, key)
	}, true, nil
}

// vmLeaf compiles n as a VM leaf.
func (c *compiler) vmLeaf(n ast.Node, top bool) (pred, error) {
	prog, err := c.program(n)
	if err != nil {
		return nil, err
	}
	r := refsOf(n)
	leaf := &vmLeaf{prog: prog, slots: r.slots, top: top}
	for f := range numFields {
		if r.fields&(1<<f) != 0 {
			leaf.fields = append(leaf.fields, f)
		}
	}
	return func(w *worker, r *audit.Rec) bool { return w.runLeaf(leaf, r) }, nil
}

// bodyCompare compares one body path with scalar constants (==, != and
// in) on the raw JSON, without decoding the body or running the VM.
func (c *compiler) bodyCompare(x *ast.BinaryNode) pred {
	op := x.Operator
	if op != "==" && op != "!=" && op != "in" {
		return nil
	}
	k, other := slotOf(x.Left), x.Right
	if k < 0 && op != "in" {
		k, other = slotOf(x.Right), x.Left
	}
	if k < 0 {
		return nil
	}
	cv, ok := c.constValue(other)
	if !ok {
		return nil
	}
	consts := []any{cv}
	if op == "in" {
		v := reflect.ValueOf(cv)
		if v.Kind() != reflect.Slice {
			return nil
		}
		consts = consts[:0]
		for i := range v.Len() {
			consts = append(consts, v.Index(i).Interface())
		}
	}
	for _, cv := range consts {
		switch cv.(type) {
		case nil, bool, string, int, float64:
		default:
			return nil
		}
	}
	p := func(w *worker, r *audit.Rec) bool {
		v, ok := w.slotRaw(k, r)
		if !ok {
			return false
		}
		for _, cv := range consts {
			if rawEquals(v, cv) {
				return true
			}
		}
		return false
	}
	if op == "!=" {
		return func(w *worker, r *audit.Rec) bool {
			m := p(w, r)
			return !m && !w.failed
		}
	}
	return p
}

// rawEquals reports whether the raw JSON value v equals the constant c as
// expr's == would after decoding v with encoding/json.
func rawEquals(v []byte, c any) bool {
	switch c := c.(type) {
	case nil:
		return isNullOrEmpty(v)
	case bool:
		if c {
			return string(v) == "true"
		}
		return string(v) == "false"
	case string:
		if len(v) < 2 || v[0] != '"' {
			return false
		}
		in := v[1 : len(v)-1]
		if bytes.IndexByte(in, '\\') < 0 && utf8.Valid(in) {
			return string(in) == c
		}
		s, err := decodeAny(v)
		return err == nil && s == c
	case int:
		return rawNumber(v, float64(c))
	case float64:
		return rawNumber(v, c)
	}
	return false
}

func rawNumber(v []byte, x float64) bool {
	if len(v) == 0 || (v[0] != '-' && (v[0] < '0' || v[0] > '9')) {
		return false
	}
	f, err := strconv.ParseFloat(string(v), 64)
	return err == nil && f == x
}
