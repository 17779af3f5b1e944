// Package jsonview renders one JSON document (an audit event) as an
// indented, syntax-coloured, foldable and scrollable view.
//
// The document is parsed once into a flat slice of nodes, one node per
// line of the fully expanded view: scalars, opening brackets and closing
// brackets each occupy one node, and an empty container is a single node.
// Folding a container flips a flag and adjusts a handful of counters, and
// rendering walks only the lines that are on screen.
//
// Every key and string value is treated as hostile: it is shown JSON-escaped
// and every control, bidi-formatting or otherwise dangerous rune is escaped
// as \uXXXX, so the rendered text can never drive the terminal.
package jsonview

import (
	"fmt"
	"math"
)

// kind is the type of a node.
type kind uint8

const (
	kObject kind = iota // opening "{" (or "{}" when empty)
	kArray              // opening "[" (or "[]" when empty)
	kClose              // closing "}" or "]"
	kString
	kNumber
	kTrue
	kFalse
	kNull
)

// maxDepth is the deepest nesting Parse accepts; it matches encoding/json so
// that both agree on which documents are valid.
const maxDepth = 10000

// node is one line of the fully expanded document (32 bytes).
type node struct {
	keyStart, keyEnd int32 // key token including quotes; keyEnd == 0 when there is no key
	valStart         int32 // first byte of the value (the bracket of a container or close node)
	valEnd           int32 // scalar: end of the token; container: number of direct children
	parent           int32 // index of the enclosing open node, -1 for the root
	end              int32 // open: index of the close node (itself when empty); close: index of the open node
	inner            int32 // open: visible lines strictly inside when unfolded
	depth            uint16
	kind             kind
	folded           bool // open: the container is folded
}

// last reports whether node i (not a close node) is the last child of its
// parent, so that its line takes no trailing comma. The node after a
// subtree is either the next sibling or the parent's close node.
func (d *Doc) last(i int) bool {
	if n := &d.nodes[i]; n.kind == kObject || n.kind == kArray {
		i = int(n.end)
	}
	return i+1 >= len(d.nodes) || d.nodes[i+1].kind == kClose
}

// isOpen reports whether n, which is node i, opens a container that has
// children.
func (n *node) isOpen(i int) bool {
	return (n.kind == kObject || n.kind == kArray) && int(n.end) != i
}

// Doc is one parsed JSON document together with its fold state, its search
// state and a small render cache. A Doc is not safe for concurrent use.
type Doc struct {
	raw     []byte
	nodes   []node
	visible int // number of visible lines

	cacheLine, cacheNode int // last seek result; cacheLine < 0 when invalid

	needle   []rune // last searched text
	lb       lineBuf
	out      []byte
	clusters []cluster
	matches  [][2]int32
	styles   styleCache
}

// SyntaxError is the error Parse returns for malformed input.
type SyntaxError struct {
	Offset int    // byte offset of the problem in the input
	Msg    string // description; never contains input bytes other than printable ASCII
}

// Error formats e as "jsonview: offset N: message".
func (e *SyntaxError) Error() string {
	return fmt.Sprintf("jsonview: offset %d: %s", e.Offset, e.Msg)
}

// Parse parses raw into a Doc. It accepts any valid JSON value, keeps object
// key order and number literals verbatim, and reports the byte offset of the
// first error. The Doc keeps a reference to raw, which must not be modified
// afterwards (rendering stays safe even then, but may show garbage).
func Parse(raw []byte) (*Doc, error) {
	if len(raw) > math.MaxInt32-1 {
		return nil, &SyntaxError{Offset: 0, Msg: "document too large"}
	}
	p := parser{raw: raw}
	p.nodes = make([]node, 0, len(raw)/10+4)
	if err := p.parse(); err != nil {
		return nil, err
	}
	if cap(p.nodes) > 2*len(p.nodes)+64 { // mostly long strings: do not keep the guess
		p.nodes = append([]node(nil), p.nodes...)
	}
	d := &Doc{raw: raw, nodes: p.nodes, cacheLine: -1}
	d.recount()
	return d, nil
}

// parser holds the state of one Parse call.
type parser struct {
	raw   []byte
	pos   int
	nodes []node
	stack []int32 // indices of the open containers enclosing pos
}

// fail returns a SyntaxError at the current position.
func (p *parser) fail(format string, args ...any) error {
	return &SyntaxError{Offset: p.pos, Msg: fmt.Sprintf(format, args...)}
}

// describe names the byte at the current position without echoing
// anything that is not printable ASCII.
func (p *parser) describe() string {
	if p.pos >= len(p.raw) {
		return "end of input"
	}
	c := p.raw[p.pos]
	if c > 0x20 && c < 0x7f {
		if c == '\'' {
			return `character '\''`
		}
		return fmt.Sprintf("character '%c'", c)
	}
	return fmt.Sprintf("byte 0x%02x", c)
}

// skipSpace advances past JSON whitespace.
func (p *parser) skipSpace() {
	for p.pos < len(p.raw) {
		switch p.raw[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

// parse parses the whole input iteratively, so deep nesting cannot
// exhaust the goroutine stack.
func (p *parser) parse() error {
	p.skipSpace()
	keyStart, keyEnd := int32(0), int32(0)
	for {
		// A value is expected at p.pos.
		if err := p.value(keyStart, keyEnd); err != nil {
			return err
		}
		// After a value: close containers or find the next element.
		for {
			p.skipSpace()
			if len(p.stack) == 0 {
				if p.pos < len(p.raw) {
					return p.fail("invalid %s after top-level value", p.describe())
				}
				return nil
			}
			top := p.stack[len(p.stack)-1]
			open := &p.nodes[top]
			closer := byte('}')
			if open.kind == kArray {
				closer = ']'
			}
			if p.pos >= len(p.raw) {
				return p.fail("unexpected end of input, expecting ',' or '%c'", closer)
			}
			c := p.raw[p.pos]
			if c == closer {
				p.closeContainer(top)
				continue
			}
			if c != ',' {
				return p.fail("invalid %s after %s element, expecting ',' or '%c'", p.describe(), containerName(open.kind), closer)
			}
			p.pos++
			p.skipSpace()
			keyStart, keyEnd = 0, 0
			if open.kind == kObject {
				var err error
				if keyStart, keyEnd, err = p.key(); err != nil {
					return err
				}
			}
			break
		}
	}
}

// containerName names a container kind for error messages.
func containerName(k kind) string {
	if k == kArray {
		return "array"
	}
	return "object"
}

// key parses `"name" :` at p.pos and returns the span of the name token.
func (p *parser) key() (int32, int32, error) {
	if p.pos >= len(p.raw) || p.raw[p.pos] != '"' {
		return 0, 0, p.fail("invalid %s looking for beginning of object key string", p.describe())
	}
	start := p.pos
	if err := p.str(); err != nil {
		return 0, 0, err
	}
	end := p.pos
	p.skipSpace()
	if p.pos >= len(p.raw) || p.raw[p.pos] != ':' {
		return 0, 0, p.fail("invalid %s after object key, expecting ':'", p.describe())
	}
	p.pos++
	p.skipSpace()
	return int32(start), int32(end), nil
}

// add appends a node for a child of the innermost open container.
func (p *parser) add(k kind, keyStart, keyEnd int32, start, end int) int32 {
	parent := int32(-1)
	if n := len(p.stack); n > 0 {
		parent = p.stack[n-1]
		p.nodes[parent].valEnd++ // child count
	}
	if k == kObject || k == kArray {
		end = 0 // no children yet
	}
	idx := int32(len(p.nodes))
	p.nodes = append(p.nodes, node{
		keyStart: keyStart, keyEnd: keyEnd,
		valStart: int32(start), valEnd: int32(end),
		parent: parent, end: idx, depth: uint16(len(p.stack)), kind: k,
	})
	return idx
}

// value parses one value at p.pos. Containers are opened and, when empty,
// closed immediately; their elements are handled by parse.
func (p *parser) value(keyStart, keyEnd int32) error {
	for {
		if p.pos >= len(p.raw) {
			return p.fail("unexpected end of input, expecting a value")
		}
		start := p.pos
		switch c := p.raw[p.pos]; c {
		case '{', '[':
			if len(p.stack) >= maxDepth {
				return p.fail("exceeded maximum nesting depth %d", maxDepth)
			}
			k, closer := kObject, byte('}')
			if c == '[' {
				k, closer = kArray, ']'
			}
			idx := p.add(k, keyStart, keyEnd, start, start+1)
			p.pos++
			p.skipSpace()
			if p.pos < len(p.raw) && p.raw[p.pos] == closer {
				p.pos++
				return nil
			}
			p.stack = append(p.stack, idx)
			if k == kObject {
				var err error
				if keyStart, keyEnd, err = p.key(); err != nil {
					return err
				}
			} else {
				keyStart, keyEnd = 0, 0
			}
			continue // parse the first element
		case '"':
			if err := p.str(); err != nil {
				return err
			}
			p.add(kString, keyStart, keyEnd, start, p.pos)
		case 't', 'f', 'n':
			lit, k := "null", kNull
			if c == 't' {
				lit, k = "true", kTrue
			} else if c == 'f' {
				lit, k = "false", kFalse
			}
			for j := 0; j < len(lit); j++ {
				if p.pos >= len(p.raw) || p.raw[p.pos] != lit[j] {
					if p.pos >= len(p.raw) {
						return p.fail("unexpected end of input in literal %s", lit)
					}
					return p.fail("invalid %s in literal %s", p.describe(), lit)
				}
				p.pos++
			}
			p.add(k, keyStart, keyEnd, start, p.pos)
		default:
			if c != '-' && (c < '0' || c > '9') {
				return p.fail("invalid %s looking for beginning of value", p.describe())
			}
			if err := p.number(); err != nil {
				return err
			}
			p.add(kNumber, keyStart, keyEnd, start, p.pos)
		}
		return nil
	}
}

// closeContainer consumes the closing bracket of the container open at top.
func (p *parser) closeContainer(top int32) {
	p.stack = p.stack[:len(p.stack)-1]
	open := &p.nodes[top]
	idx := int32(len(p.nodes))
	open.end = idx
	p.nodes = append(p.nodes, node{
		valStart: int32(p.pos), parent: open.parent, end: top,
		depth: open.depth, kind: kClose,
	})
	p.pos++
}

// str validates the string token at p.pos and advances past it. Like
// encoding/json it rejects raw control characters and bad escapes but
// accepts invalid UTF-8.
func (p *parser) str() error {
	p.pos++ // opening quote
	for p.pos < len(p.raw) {
		c := p.raw[p.pos]
		switch {
		case c == '"':
			p.pos++
			return nil
		case c < 0x20:
			return p.fail("invalid control character 0x%02x in string", c)
		case c == '\\':
			p.pos++
			if p.pos >= len(p.raw) {
				return p.fail("unexpected end of input in string escape")
			}
			switch p.raw[p.pos] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				p.pos++
			case 'u':
				p.pos++
				for j := 0; j < 4; j++ {
					if p.pos >= len(p.raw) {
						return p.fail("unexpected end of input in \\u escape")
					}
					if !isHex(p.raw[p.pos]) {
						return p.fail("invalid %s in \\u escape", p.describe())
					}
					p.pos++
				}
			default:
				return p.fail("invalid %s in string escape", p.describe())
			}
		default:
			p.pos++
		}
	}
	return p.fail("unexpected end of input in string")
}

// isHex reports whether c is a hexadecimal digit.
func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// number validates the number literal at p.pos and advances past it.
func (p *parser) number() error {
	digits := func() int {
		n := 0
		for p.pos < len(p.raw) && p.raw[p.pos] >= '0' && p.raw[p.pos] <= '9' {
			p.pos++
			n++
		}
		return n
	}
	if p.raw[p.pos] == '-' {
		p.pos++
	}
	if p.pos < len(p.raw) && p.raw[p.pos] == '0' {
		p.pos++
	} else if digits() == 0 {
		return p.fail("invalid %s in numeric literal", p.describe())
	}
	if p.pos < len(p.raw) && p.raw[p.pos] == '.' {
		p.pos++
		if digits() == 0 {
			return p.fail("invalid %s after decimal point in numeric literal", p.describe())
		}
	}
	if p.pos < len(p.raw) && (p.raw[p.pos] == 'e' || p.raw[p.pos] == 'E') {
		p.pos++
		if p.pos < len(p.raw) && (p.raw[p.pos] == '+' || p.raw[p.pos] == '-') {
			p.pos++
		}
		if digits() == 0 {
			return p.fail("invalid %s in exponent of numeric literal", p.describe())
		}
	}
	return nil
}
