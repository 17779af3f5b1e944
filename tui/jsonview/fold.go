package jsonview

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
)

// Lines returns the number of visible lines with the current folds.
func (d *Doc) Lines() int { return d.visible }

// recount recomputes every container's inner line count and the number of
// visible lines in one pass over the nodes. Children come after their
// parent, so walking backwards sees every child's count before its parent.
func (d *Doc) recount() {
	nodes := d.nodes
	for i := len(nodes) - 1; i >= 0; i-- {
		n := &nodes[i]
		if !n.isOpen(i) {
			continue
		}
		s := int32(0)
		for j := i + 1; j < int(n.end); {
			c := &nodes[j]
			switch {
			case !c.isOpen(j):
				s++
				j++
			case c.folded:
				s++
				j = int(c.end) + 1
			default:
				s += c.inner + 2
				j = int(c.end) + 1
			}
		}
		n.inner = s
	}
	d.visible = d.subtreeLines(0)
	d.cacheLine = -1
}

// subtreeLines is the number of visible lines node i occupies, assuming it
// is itself visible.
func (d *Doc) subtreeLines(i int) int {
	n := &d.nodes[i]
	if !n.isOpen(i) || n.folded {
		return 1
	}
	return int(n.inner) + 2
}

// setFold folds or unfolds the container opened by node i and updates the
// line counts of its ancestors. It costs O(depth) and reports whether
// anything changed.
func (d *Doc) setFold(i int, fold bool) bool {
	n := &d.nodes[i]
	if !n.isOpen(i) || n.folded == fold {
		return false
	}
	n.folded = fold
	delta := n.inner + 1 // the inner lines and the close line
	if fold {
		delta = -delta
	}
	if d.cacheLine >= 0 && d.cacheNode > i {
		d.cacheLine = -1 // lines up to and including i keep their numbers
	}
	for p := n.parent; p >= 0; p = d.nodes[p].parent {
		d.nodes[p].inner += delta
		if d.nodes[p].folded {
			return true // hidden below a folded ancestor: total unchanged
		}
	}
	d.visible += int(delta)
	return true
}

// Toggle folds or unfolds the object or array that opens (or is folded) on
// visible line line and reports whether anything changed. Lines holding a
// scalar, an empty container or a closing bracket are left alone.
func (d *Doc) Toggle(line int) bool {
	if line < 0 || line >= d.visible {
		return false
	}
	i := d.seek(line)
	return d.setFold(i, !d.nodes[i].folded)
}

// FoldPath folds the container at the dotted path (see PathAt for the
// syntax; "" is the root) and reports whether the path names a non-empty
// object or array, which is folded afterwards.
func (d *Doc) FoldPath(path string) bool {
	i := d.resolve(path)
	if i < 0 || !d.nodes[i].isOpen(i) {
		return false
	}
	d.setFold(i, true)
	return true
}

// FoldDefaults resets the folds to the default view: everything is open
// except the value of every "managedFields" key at any depth, which is
// folded because it is noise.
func (d *Doc) FoldDefaults() {
	for i := range d.nodes {
		n := &d.nodes[i]
		n.folded = n.isOpen(i) && d.keyIs(n, "managedFields")
	}
	d.recount()
}

// FoldAll folds every container below the root.
func (d *Doc) FoldAll() {
	for i := range d.nodes {
		n := &d.nodes[i]
		n.folded = i > 0 && n.isOpen(i)
	}
	d.recount()
}

// UnfoldAll unfolds every container.
func (d *Doc) UnfoldAll() {
	for i := range d.nodes {
		d.nodes[i].folded = false
	}
	d.recount()
}

// next returns the node on the visible line after the one of node i.
func (d *Doc) next(i int) int {
	n := &d.nodes[i]
	if n.folded && n.isOpen(i) {
		return int(n.end) + 1
	}
	return i + 1
}

// prev returns the node on the visible line before the one of node i.
func (d *Doc) prev(i int) int {
	j := i - 1
	if c := &d.nodes[j]; c.kind == kClose && d.nodes[c.end].folded {
		return int(c.end)
	}
	return j
}

// seek returns the node on visible line t (0 <= t < Lines()). It starts
// from the root, the last line or the cached position, whichever is
// nearest, and jumps over whole unfolded containers that lie entirely
// before (or after) the target, so scrolling by a line costs O(1) and a
// cold seek costs O(depth × siblings) rather than O(lines).
func (d *Doc) seek(t int) int {
	i, l := 0, 0
	if last := d.visible - 1; last-t < t {
		i, l = 0, last
		if d.visible > 1 {
			i = len(d.nodes) - 1
		}
	}
	if d.cacheLine >= 0 && abs(d.cacheLine-t) < abs(l-t) {
		i, l = d.cacheNode, d.cacheLine
	}
	for l < t {
		n := &d.nodes[i]
		if n.isOpen(i) && !n.folded && l+int(n.inner)+1 <= t {
			l += int(n.inner) + 1
			i = int(n.end)
			continue
		}
		i = d.next(i)
		l++
	}
	for l > t {
		if n := &d.nodes[i]; n.kind == kClose {
			if o := &d.nodes[n.end]; l-int(o.inner)-1 >= t {
				l -= int(o.inner) + 1
				i = int(n.end)
				continue
			}
		}
		i = d.prev(i)
		l--
	}
	d.cacheLine, d.cacheNode = t, i
	return i
}

// abs returns the absolute value of x.
func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// lineOfNode returns the visible line of node i, or -1 when a folded
// ancestor hides it.
func (d *Doc) lineOfNode(i int) int {
	for p := d.nodes[i].parent; p >= 0; p = d.nodes[p].parent {
		if d.nodes[p].folded {
			return -1
		}
	}
	if n := &d.nodes[i]; n.kind == kClose && d.nodes[n.end].folded {
		return -1
	}
	l := 0
	for j := 0; j != i; {
		n := &d.nodes[j]
		switch {
		case !n.isOpen(j) || int(n.end) < i:
			l += d.subtreeLines(j)
			if n.isOpen(j) {
				j = int(n.end) + 1
			} else {
				j++
			}
		case int(n.end) == i:
			return l + int(n.inner) + 1
		default: // j encloses i
			j++
			l++
		}
	}
	return l
}

// LineOf returns the visible line where the node at path opens, or -1 if
// the path does not exist or a folded container hides it.
func (d *Doc) LineOf(path string) int {
	i := d.resolve(path)
	if i < 0 {
		return -1
	}
	return d.lineOfNode(i)
}

// PathAt returns the path of the node on visible line line, or "" for the
// root and for lines out of range; a closing bracket reports the path of
// its container. Object keys are joined with dots and array elements use
// [N], e.g. "responseObject.items[3].metadata". A key that is empty or holds
// a space, a byte outside printable ASCII or one of . [ ] " \ is written as
// ["key"], JSON-quoted with the same escaping Render uses, so the result is
// always safe to print and FoldPath and LineOf accept it back.
func (d *Doc) PathAt(line int) string {
	if line < 0 || line >= d.visible {
		return ""
	}
	i := d.seek(line)
	if d.nodes[i].kind == kClose {
		i = int(d.nodes[i].end)
	}
	var chain []int
	for j := i; d.nodes[j].parent >= 0; j = int(d.nodes[j].parent) {
		chain = append(chain, j)
	}
	var b []byte
	for k := len(chain) - 1; k >= 0; k-- {
		n := &d.nodes[chain[k]]
		if d.nodes[n.parent].kind == kArray {
			b = append(b, '[')
			b = strconv.AppendInt(b, int64(d.indexOf(chain[k])), 10)
			b = append(b, ']')
			continue
		}
		name := d.raw[n.keyStart+1 : n.keyEnd-1]
		if bareKey(name) {
			if len(b) > 0 {
				b = append(b, '.')
			}
			b = append(b, name...)
			continue
		}
		b = append(b, '[', '"')
		b = appendEscaped(b, name)
		b = append(b, '"', ']')
	}
	return string(b)
}

// bareKey reports whether a raw key can be written in a path without
// quoting.
func bareKey(name []byte) bool {
	if len(name) == 0 {
		return false
	}
	for _, c := range name {
		if c <= 0x20 || c >= 0x7f || c == '.' || c == '[' || c == ']' || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// keyIs reports whether node n has the decoded key name.
func (d *Doc) keyIs(n *node, name string) bool {
	if n.keyEnd == 0 {
		return false
	}
	raw := d.raw[n.keyStart+1 : n.keyEnd-1]
	if bytes.IndexByte(raw, '\\') < 0 {
		return string(raw) == name
	}
	var s string
	if json.Unmarshal(d.raw[n.keyStart:n.keyEnd], &s) != nil {
		return false
	}
	return s == name
}

// resolve returns the node index named by path, or -1.
func (d *Doc) resolve(path string) int {
	i := 0
	for path != "" {
		var seg string
		quoted, isIndex := false, false
		switch path[0] {
		case '.':
			path = path[1:]
			continue
		case '[':
			end := strings.IndexByte(path, ']')
			if len(path) > 1 && path[1] == '"' {
				end = quotedEnd(path)
				quoted = true
			} else {
				isIndex = true
			}
			if end < 0 {
				return -1
			}
			seg, path = path[1:end], path[end+1:]
			if quoted && json.Unmarshal([]byte(seg), &seg) != nil {
				return -1
			}
		default:
			end := strings.IndexAny(path, ".[")
			if end < 0 {
				end = len(path)
			}
			seg, path = path[:end], path[end:]
		}
		if i = d.child(i, seg, quoted, isIndex); i < 0 {
			return -1
		}
	}
	return i
}

// quotedEnd returns the index of the "]" closing a `["..."]` segment at
// the start of path, or -1.
func quotedEnd(path string) int {
	for j := 2; j < len(path); j++ {
		switch path[j] {
		case '\\':
			j++
		case '"':
			if j+1 < len(path) && path[j+1] == ']' {
				return j + 1
			}
			return -1
		}
	}
	return -1
}

// child returns the child of container i named by seg, or -1. An array
// child is addressed by its decimal index, an object child by its key.
func (d *Doc) child(i int, seg string, quoted, isIndex bool) int {
	n := &d.nodes[i]
	if !n.isOpen(i) {
		return -1
	}
	want := -1
	if n.kind == kArray {
		v, err := strconv.Atoi(seg)
		if quoted || err != nil || v < 0 || v >= int(n.valEnd) {
			return -1
		}
		want = v
	} else if isIndex {
		return -1
	}
	for j, k := i+1, 0; j < int(n.end); k++ {
		c := &d.nodes[j]
		if k == want || (want < 0 && d.keyIs(c, seg)) {
			return j
		}
		if c.isOpen(j) {
			j = int(c.end) + 1
		} else {
			j++
		}
	}
	return -1
}

// indexOf returns the position of node i among its parent's children,
// walking the siblings before it.
func (d *Doc) indexOf(i int) int {
	k := 0
	for j := int(d.nodes[i].parent) + 1; j < i; k++ {
		if c := &d.nodes[j]; c.isOpen(j) {
			j = int(c.end) + 1
		} else {
			j++
		}
	}
	return k
}
