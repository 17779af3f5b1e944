package filters

import (
	"fmt"
	"reflect"
	"strings"

	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/checker"
	exprcompiler "github.com/expr-lang/expr/compiler"
	"github.com/expr-lang/expr/conf"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/optimizer"
	"github.com/expr-lang/expr/parser"
	"github.com/expr-lang/expr/parser/lexer"
	"github.com/expr-lang/expr/vm"
)

// compiler holds the state of compiling one expression of a filter.
type compiler struct {
	f      *Filter
	cfg    *conf.Config
	src    string
	runes  []rune
	source file.Source
	vmOnly bool
}

// placeholders stand for the operators matches and contains when they
// are called as functions, which expr's parser does not accept. They have
// the same length, so positions in error messages stay right.
var placeholders = map[string]string{"_matchs": "matches", "_contain": "contains"}

// callForms rewrites matches(a, b) and contains(a, b) to placeholder
// function names that the parser accepts; the AST rewrite turns them back
// into the operators.
func callForms(src string) string {
	toks, err := lexer.Lex(file.NewSource(src))
	if err != nil {
		return src
	}
	var runes []rune
	for i, t := range toks {
		if t.Kind != lexer.Operator || (t.Value != "matches" && t.Value != "contains") {
			continue
		}
		if i+1 >= len(toks) || !toks[i+1].Is(lexer.Bracket, "(") {
			continue
		}
		if i > 0 {
			p := toks[i-1]
			if p.Kind == lexer.Identifier || p.Kind == lexer.Number || p.Kind == lexer.String ||
				p.Kind == lexer.Bytes || p.Is(lexer.Bracket, ")") || p.Is(lexer.Bracket, "]") {
				continue // the infix form: user matches ("x")
			}
		}
		if runes == nil {
			runes = []rune(src)
		}
		for ph, name := range placeholders {
			if name == t.Value {
				copy(runes[t.From:], []rune(ph))
			}
		}
	}
	if runes == nil {
		return src
	}
	return string(runes)
}

// walk visits the nodes under *np in pre-order with their parents; fn
// returns false to skip a node's children.
func walk(np *ast.Node, parent ast.Node, fn func(np *ast.Node, parent ast.Node) bool) {
	if *np == nil || !fn(np, parent) {
		return
	}
	n := *np
	for _, c := range children(n) {
		walk(c, n, fn)
	}
}

// children returns pointers to the child slots of n.
func children(n ast.Node) []*ast.Node {
	switch n := n.(type) {
	case *ast.UnaryNode:
		return []*ast.Node{&n.Node}
	case *ast.BinaryNode:
		return []*ast.Node{&n.Left, &n.Right}
	case *ast.ChainNode:
		return []*ast.Node{&n.Node}
	case *ast.MemberNode:
		return []*ast.Node{&n.Node, &n.Property}
	case *ast.SliceNode:
		out := []*ast.Node{&n.Node}
		if n.From != nil {
			out = append(out, &n.From)
		}
		if n.To != nil {
			out = append(out, &n.To)
		}
		return out
	case *ast.CallNode:
		out := []*ast.Node{&n.Callee}
		for i := range n.Arguments {
			out = append(out, &n.Arguments[i])
		}
		return out
	case *ast.BuiltinNode:
		return ptrs(n.Arguments)
	case *ast.PredicateNode:
		return []*ast.Node{&n.Node}
	case *ast.VariableDeclaratorNode:
		return []*ast.Node{&n.Value, &n.Expr}
	case *ast.SequenceNode:
		return ptrs(n.Nodes)
	case *ast.ConditionalNode:
		return []*ast.Node{&n.Cond, &n.Exp1, &n.Exp2}
	case *ast.ArrayNode:
		return ptrs(n.Nodes)
	case *ast.MapNode:
		return ptrs(n.Pairs)
	case *ast.PairNode:
		return []*ast.Node{&n.Key, &n.Value}
	}
	return nil
}

// compileExpr parses, rewrites and checks one expression and returns its
// predicate, or its value when it is a constant.
func (c *compiler) compileExpr() (pred, *bool, error) {
	c.runes = []rune(c.src)
	tree, err := parser.ParseWithConfig(callForms(c.src), c.cfg)
	if err != nil {
		return nil, nil, c.parseError(err)
	}
	c.source = tree.Source
	if err := c.rewrite(&tree.Node); err != nil {
		return nil, nil, err
	}
	if err := c.unknownNames(tree.Node); err != nil {
		return nil, nil, err
	}
	if err := c.typeMistakes(tree.Node); err != nil {
		return nil, nil, err
	}
	t, err := checker.Check(tree, c.cfg)
	if err != nil {
		return nil, nil, c.checkError(tree.Node, err)
	}
	if t != nil && t.Kind() != reflect.Bool && t.Kind() != reflect.Interface {
		hint := `compare it with a value: verb == "delete", code >= 400, "system:masters" in groups`
		if f, ok := fieldOf(tree.Node); ok && fieldTable[f].typ == "string" {
			hint = fmt.Sprintf(`compare it: %s == "…", or hasPrefix(%s, "…")`, fieldTable[f].name, fieldTable[f].name)
		}
		return nil, nil, c.errNode(tree.Node, "filter must be true/false, got "+typeName(t), hint)
	}
	c.f.collectBounds(c, tree.Node)
	var p pred
	if c.vmOnly {
		p, err = c.vmLeaf(tree.Node, true)
		return p, nil, err
	}
	if v, ok := c.constValue(tree.Node); ok {
		b, _ := v.(bool)
		return nil, &b, nil
	}
	p, err = c.build(tree.Node, true)
	return p, nil, err
}

// typeName names a Go type as a filter user knows it.
func typeName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Int, reflect.Int64, reflect.Float64:
		if t.String() == "time.Duration" {
			return "duration"
		}
		return "number"
	case reflect.Slice, reflect.Array:
		return "list"
	case reflect.Map:
		return "map"
	}
	if t.String() == "time.Time" {
		return "time"
	}
	return t.String()
}

// rewrite prepares the parsed tree: helper calls get their implicit
// arguments and are checked, matches()/contains() become operators, body
// paths become slots, and member chains over JSON values become nil-safe.
func (c *compiler) rewrite(np *ast.Node) error {
	switch n := (*np).(type) {
	case *ast.IdentifierNode:
		if n.Value == "$env" {
			return c.errNode(n, "$env is not supported", "use the field names directly, e.g. user")
		}
		if !c.vmOnly && (n.Value == "requestObject" || n.Value == "responseObject") {
			root, _ := fieldByName(n.Value)
			ast.Patch(np, c.slotNode(root, nil, n))
			return nil
		}
	case *ast.CallNode:
		if err := c.rewriteCall(np, n); err != nil {
			return err
		}
	case *ast.BuiltinNode:
		if n.Name == "duration" && len(n.Arguments) == 1 {
			if err := c.checkLiteralArg("duration", n.Arguments[0]); err != nil {
				return err
			}
		}
		if listBuiltins[n.Name] && len(n.Arguments) > 0 {
			if _, _, ok := bodyPath(n.Arguments[0]); ok || chainRoot(n.Arguments[0], true) {
				// A missing list in the JSON is an empty one.
				empty := &ast.ArrayNode{}
				empty.SetLocation(n.Arguments[0].Location())
				co := &ast.BinaryNode{Operator: "??", Left: n.Arguments[0], Right: empty}
				co.SetLocation(n.Arguments[0].Location())
				n.Arguments[0] = co
			}
		}
	case *ast.BinaryNode:
		if list, ok := n.Right.(*ast.ArrayNode); ok && n.Operator == "in" && len(list.Nodes) <= 32 && isJSON(n.Left) {
			// expr's optimizer turns in [...] into a map lookup in which
			// nil finds "" (nil in [""] is true); compare one by one.
			var or ast.Node = &ast.BoolNode{Value: false}
			for i := len(list.Nodes) - 1; i >= 0; i-- {
				eq := &ast.BinaryNode{Operator: "==", Left: n.Left, Right: list.Nodes[i]}
				eq.SetLocation(n.Location())
				if i == len(list.Nodes)-1 {
					or = eq
				} else {
					or = &ast.BinaryNode{Operator: "||", Left: eq, Right: or}
				}
				or.SetLocation(n.Location())
			}
			or.SetLocation(n.Location())
			*np = or
			return c.rewrite(np)
		}
		if notNil := c.guardOrder(np, n); notNil != nil {
			for _, ch := range []*ast.Node{&notNil.Left, &n.Left, &n.Right} {
				if err := c.rewrite(ch); err != nil {
					return err
				}
			}
			return nil
		}
	case *ast.MemberNode, *ast.ChainNode:
		if root, path, ok := bodyPath(n); ok && !c.vmOnly {
			ast.Patch(np, c.slotNode(root, path, n))
			return nil
		}
		if chainRoot(n, c.vmOnly) {
			optionalize(np)
			// Rewrite only the computed properties; the chain itself is done.
			for m := *np; ; {
				switch x := m.(type) {
				case *ast.ChainNode:
					m = x.Node
					continue
				case *ast.MemberNode:
					if err := c.rewrite(&x.Property); err != nil {
						return err
					}
					m = x.Node
					continue
				}
				return nil
			}
		}
	}
	for _, ch := range children(*np) {
		if err := c.rewrite(ch); err != nil {
			return err
		}
	}
	return nil
}

// isJSON reports whether n reads JSON data: a body path or a chain from a
// predicate's element.
func isJSON(n ast.Node) bool {
	if _, _, ok := bodyPath(n); ok {
		return true
	}
	return chainRoot(n, true)
}

// guardOrder makes an ordering comparison with a JSON value false when the
// value is missing (nil), as == already is, instead of failing the event:
// X > c becomes X != nil && X > c. It returns the new X != nil node, or
// nil when n is not such a comparison.
func (c *compiler) guardOrder(np *ast.Node, n *ast.BinaryNode) *ast.BinaryNode {
	switch n.Operator {
	case "<", "<=", ">", ">=":
	default:
		return nil
	}
	x := n.Left
	if !isJSON(x) {
		if x = n.Right; !isJSON(x) {
			return nil
		}
	}
	null := &ast.NilNode{}
	null.SetLocation(x.Location())
	notNil := &ast.BinaryNode{Operator: "!=", Left: x, Right: null}
	notNil.SetLocation(x.Location())
	guard := &ast.BinaryNode{Operator: "&&", Left: notNil, Right: n}
	guard.SetLocation(n.Location())
	*np = guard
	return notNil
}

// rewriteCall handles a call of one of our helpers.
func (c *compiler) rewriteCall(np *ast.Node, n *ast.CallNode) error {
	id, ok := n.Callee.(*ast.IdentifierNode)
	if !ok {
		return nil
	}
	name := id.Value
	if orig, ok := placeholders[name]; ok {
		name = orig
	}
	ar, ok := helperArity[name]
	if !ok {
		return nil
	}
	args := n.Arguments
	if len(args) < ar[0] || len(args) > ar[1] {
		want := fmt.Sprintf("%d arguments", ar[0])
		switch {
		case ar[0] == 1 && ar[1] == 1:
			want = "one argument"
		case ar[0] == 0:
			want = "no argument or one"
		}
		return c.errNode(n, fmt.Sprintf("%s takes %s, got %d", name, want, len(args)), "e.g. "+helperUsage[name])
	}
	mk := func(v string) ast.Node {
		x := &ast.IdentifierNode{Value: v}
		x.SetLocation(n.Location())
		return x
	}
	switch name {
	case "matches", "contains":
		b := &ast.BinaryNode{Operator: name, Left: args[0], Right: args[1]}
		ast.Patch(np, b)
	case "since", "before", "after":
		if err := c.checkLiteralArg(name, args[0]); err != nil {
			return err
		}
		n.Arguments = append(args, mk("time"))
	case "cidr":
		if err := c.checkLiteralArg(name, args[1]); err != nil {
			return err
		}
	case "isServiceAccount", "isSystem", "isHuman":
		if len(args) == 0 {
			n.Arguments = []ast.Node{mk("user")}
		}
	}
	return nil
}

// listBuiltins are the builtins whose first argument is a list; over JSON
// data a missing list is read as an empty one.
var listBuiltins = map[string]bool{
	"all": true, "none": true, "any": true, "one": true, "filter": true, "map": true,
	"find": true, "findIndex": true, "findLast": true, "findLastIndex": true,
	"count": true, "sum": true, "groupBy": true, "sortBy": true, "reduce": true, "len": true,
}

// bodyPath decomposes a member chain with constant properties rooted at
// requestObject or responseObject.
func bodyPath(n ast.Node) (root fieldID, path []pathElem, ok bool) {
	for {
		switch x := n.(type) {
		case *ast.ChainNode:
			n = x.Node
		case *ast.MemberNode:
			if x.Method {
				return 0, nil, false
			}
			switch p := x.Property.(type) {
			case *ast.StringNode:
				path = append(path, pathElem{key: p.Value})
			case *ast.IntegerNode:
				if p.Value < 0 {
					return 0, nil, false
				}
				path = append(path, pathElem{index: p.Value, isIdx: true})
			default:
				return 0, nil, false
			}
			n = x.Node
		case *ast.IdentifierNode:
			f, ok := fieldByName(x.Value)
			if !ok || fieldTable[f].kind != kBody {
				return 0, nil, false
			}
			for i, j := 0, len(path)-1; i < j; i, j = i+1, j-1 {
				path[i], path[j] = path[j], path[i]
			}
			return f, path, true
		default:
			return 0, nil, false
		}
	}
}

// chainRoot reports whether the member chain n reads JSON data: it starts
// at a predicate's element (#, .field) or, in VM-only mode, at a body.
func chainRoot(n ast.Node, bodies bool) bool {
	for {
		switch x := n.(type) {
		case *ast.ChainNode:
			n = x.Node
		case *ast.MemberNode:
			if x.Method {
				return false
			}
			n = x.Node
		case *ast.PointerNode:
			return true
		case *ast.IdentifierNode:
			return bodies && (x.Value == "requestObject" || x.Value == "responseObject")
		default:
			return false
		}
	}
}

// optionalize makes every access of the member chain at *np nil-safe, as
// if written with ?., so that a missing member reads as nil instead of
// failing the event.
func optionalize(np *ast.Node) {
	for n := *np; ; {
		switch x := n.(type) {
		case *ast.ChainNode:
			n = x.Node
			continue
		case *ast.MemberNode:
			x.Optional = true
			n = x.Node
			continue
		}
		break
	}
	if _, ok := (*np).(*ast.ChainNode); !ok {
		ast.Patch(np, &ast.ChainNode{Node: *np})
	}
}

// slotNode returns the node __body[k] for a body path, adding the slot.
func (c *compiler) slotNode(root fieldID, path []pathElem, at ast.Node) ast.Node {
	k := c.f.addSlot(root, path)
	id := &ast.IdentifierNode{Value: bodyIdent}
	id.SetLocation(at.Location())
	idx := &ast.IntegerNode{Value: k}
	idx.SetLocation(at.Location())
	m := &ast.MemberNode{Node: id, Property: idx}
	m.SetLocation(at.Location())
	return m
}

// slotOf returns the slot a __body[k] node reads, or -1.
func slotOf(n ast.Node) int {
	m, ok := n.(*ast.MemberNode)
	if !ok {
		return -1
	}
	id, ok := m.Node.(*ast.IdentifierNode)
	if !ok || id.Value != bodyIdent {
		return -1
	}
	k, ok := m.Property.(*ast.IntegerNode)
	if !ok {
		return -1
	}
	return k.Value
}

// refs describes what a subtree reads.
type refs struct {
	fields  uint64 // bit per fieldID
	slots   []int
	dynamic bool // reads # or let variables: not a constant, but cacheable
}

// refsOf collects the fields and body slots that n reads.
func refsOf(n ast.Node) refs {
	var r refs
	walk(&n, nil, func(np *ast.Node, _ ast.Node) bool {
		switch x := (*np).(type) {
		case *ast.IdentifierNode:
			if f, ok := fieldByName(x.Value); ok {
				r.fields |= 1 << f
			} else if x.Value != bodyIdent {
				r.dynamic = true
			}
		case *ast.PointerNode, *ast.VariableDeclaratorNode:
			r.dynamic = true
		case *ast.CallNode:
			if _, ok := x.Callee.(*ast.IdentifierNode); ok {
				for i := range x.Arguments {
					sub := refsOf(x.Arguments[i])
					r.fields |= sub.fields
					r.slots = append(r.slots, sub.slots...)
					r.dynamic = r.dynamic || sub.dynamic
				}
				return false
			}
		case *ast.MemberNode:
			if k := slotOf(x); k >= 0 {
				r.slots = append(r.slots, k)
				return false
			}
		}
		return true
	})
	return r
}

// program compiles the subtree n (already checked) for the VM.
func (c *compiler) program(n ast.Node) (*vm.Program, error) {
	tree := &parser.Tree{Node: n, Source: c.source}
	if err := optimizer.Optimize(&tree.Node, c.cfg); err != nil {
		return nil, c.errNode(n, strings.TrimSpace(err.Error()), "")
	}
	p, err := exprcompiler.Compile(tree, c.cfg)
	if err != nil {
		return nil, c.errNode(n, "cannot compile: "+firstLine(err.Error()), "")
	}
	return p, nil
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

// ptrs returns pointers to each node of nodes, so they can be rewritten in
// place.
func ptrs(nodes []ast.Node) []*ast.Node {
	out := make([]*ast.Node, len(nodes))
	for i := range nodes {
		out[i] = &nodes[i]
	}
	return out
}
