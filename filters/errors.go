package filters

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/file"

	"ktrail/audit"
)

// CompileError describes a filter expression that does not compile. Line
// and Col are 1-based and count runes in Expr.
type CompileError struct {
	Expr      string
	Line, Col int
	Msg       string
	Hint      string
}

// Error returns one line: "filter: LINE:COL: message — hint".
func (e *CompileError) Error() string {
	s := fmt.Sprintf("filter: %d:%d: %s", e.Line, e.Col, e.Msg)
	if e.Hint != "" {
		s += " — " + e.Hint
	}
	return oneLine(s)
}

// oneLine makes s safe to print as one terminal line.
func oneLine(s string) string {
	return audit.Sanitize(strings.NewReplacer("\n", " ", "\r", " ", "\t", " ").Replace(s))
}

// errAt returns a CompileError at rune offset pos of c.src.
func (c *compiler) errAt(pos int, msg, hint string) *CompileError {
	line, col := 1, 1
	for i, r := range c.runes {
		if i >= pos {
			break
		}
		if r == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return &CompileError{Expr: c.src, Line: line, Col: col, Msg: msg, Hint: hint}
}

// errNode returns a CompileError at node n.
func (c *compiler) errNode(n ast.Node, msg, hint string) *CompileError {
	return c.errAt(n.Location().From, msg, hint)
}

// tokenRe matches the lexer's token notation in parser messages.
var tokenRe = regexp.MustCompile(`(?:Operator|Bracket|Identifier|String|Number|Bytes)\(("(?:[^"\\]|\\.)*")\)`)

// parseError turns an expr parser error into a CompileError with a hint
// for the common mistakes.
func (c *compiler) parseError(err error) *CompileError {
	var fe *file.Error
	if !errors.As(err, &fe) {
		return &CompileError{Expr: c.src, Line: 1, Col: 1, Msg: err.Error()}
	}
	pos := fe.From
	msg := tokenRe.ReplaceAllString(fe.Message, "$1")
	hint := ""
	at := func(s string) bool { return pos < len(c.runes) && strings.HasPrefix(string(c.runes[pos:]), s) }
	switch {
	case strings.Contains(fe.Message, `Operator("=")`) && at("="):
		fixed := string(c.runes[:pos]) + "==" + string(c.runes[pos+1:])
		hint = "compare with ==, not ="
		if len(fixed) <= 80 {
			hint += ": " + strings.TrimSpace(fixed)
		}
	case strings.Contains(fe.Message, `Operator("&")`):
		hint = "write && (or and) to combine conditions"
	case strings.Contains(fe.Message, `Operator("|")`):
		hint = "write || (or or) for either condition"
	case strings.Contains(fe.Message, "literal not terminated"):
		msg = "string is not closed"
		hint = `end it with the same quote it starts with: "…" or '…'`
	case strings.Contains(fe.Message, "unexpected token EOF"), strings.Contains(fe.Message, "unexpected end"):
		msg = "expression ends too early"
		pos = len(c.runes)
		if strings.Count(c.src, "(") > strings.Count(c.src, ")") {
			hint = "a ( is not closed"
		} else if strings.Count(c.src, "[") > strings.Count(c.src, "]") {
			hint = "a [ is not closed"
		} else {
			hint = `complete the comparison, e.g. verb == "delete"`
		}
	}
	return c.errAt(pos, msg, hint)
}

// unknownNameRe matches the checker's message for an unknown identifier.
var unknownNameRe = regexp.MustCompile(`^unknown name (\S+)`)

// checkError turns an expr checker error into a CompileError with hints.
func (c *compiler) checkError(root ast.Node, err error) *CompileError {
	var fe *file.Error
	if !errors.As(err, &fe) {
		return &CompileError{Expr: c.src, Line: 1, Col: 1, Msg: err.Error()}
	}
	if m := unknownNameRe.FindStringSubmatch(fe.Message); m != nil {
		return c.unknownName(root, m[1], fe.From)
	}
	msg := strings.ReplaceAll(fe.Message, bodyIdent, "body")
	for ph, name := range placeholders {
		msg = strings.ReplaceAll(msg, ph, name)
	}
	hint := ""
	if strings.Contains(msg, "error parsing regexp") {
		hint = "matches takes a Go (RE2) regular expression, e.g. \"^system:(node|kube)\""
	}
	return c.errAt(fe.From, strings.TrimSpace(msg), hint)
}

// unknownName explains an identifier that is neither a field nor a
// function: a function name typo, an unquoted string, or a field typo.
func (c *compiler) unknownName(root ast.Node, name string, pos int) *CompileError {
	var self ast.Node
	parents := map[ast.Node]ast.Node{}
	walk(&root, nil, func(np *ast.Node, p ast.Node) bool {
		parents[*np] = p
		if id, ok := (*np).(*ast.IdentifierNode); ok && id.Value == name && id.Location().From == pos && self == nil {
			self = id
		}
		return true
	})
	parent := parents[self]
	if call, ok := parent.(*ast.CallNode); ok && call.Callee == self {
		hint := "functions include matches, contains, hasPrefix, hasSuffix, lower, cidr, since, before, after, isServiceAccount, isSystem, isHuman, len, any"
		if n := nearest(name, functionNames); n != "" {
			hint = "did you mean " + n + "?"
		}
		return c.errAt(pos, fmt.Sprintf("unknown function %q", name), hint)
	}
	if fix := quoteFix(parents, self); fix != "" {
		return c.errAt(pos, fmt.Sprintf("unknown field %q", name), "quote strings: "+fix)
	}
	hint := ""
	if n := nearest(name, FieldNames()); n != "" {
		hint = "did you mean " + n + "?"
	} else if n := nearest(name, functionNames); n != "" {
		hint = "did you mean " + n + "(…)?"
	} else {
		hint = "fields are " + strings.Join(FieldNames(), ", ")
	}
	return c.errAt(pos, fmt.Sprintf("unknown field %q", name), hint)
}

// quoteFix returns the comparison self is part of with its bare words
// quoted (verb == "delete", verb in ["get", "list"]) when self is compared
// with a string field, or "".
func quoteFix(parents map[ast.Node]ast.Node, self ast.Node) string {
	parent := parents[self]
	list, isList := parent.(*ast.ArrayNode)
	if isList {
		parent = parents[list]
	}
	b, ok := parent.(*ast.BinaryNode)
	if !ok || (!isCompareOp(b.Operator) && b.Operator != "in") {
		return ""
	}
	side := b.Left
	if side == self || side == list {
		side = b.Right
	}
	f, ok := fieldOf(side)
	if !ok || fieldTable[f].typ != "string" || (isList && b.Left != side) {
		return ""
	}
	quote := func(n ast.Node) string {
		if id, ok := n.(*ast.IdentifierNode); ok {
			if _, isField := fieldByName(id.Value); !isField {
				return strconv.Quote(id.Value)
			}
		}
		return n.String()
	}
	if isList {
		parts := make([]string, len(list.Nodes))
		for i, n := range list.Nodes {
			parts[i] = quote(n)
		}
		return fmt.Sprintf("%s %s [%s]", fieldTable[f].name, b.Operator, strings.Join(parts, ", "))
	}
	return fmt.Sprintf("%s %s %s", fieldTable[f].name, b.Operator, quote(self))
}

func isCompareOp(op string) bool {
	switch op {
	case "==", "!=", "<", "<=", ">", ">=", "matches", "contains", "startsWith", "endsWith":
		return true
	}
	return false
}

// fieldOf returns the vocabulary field an identifier node names.
func fieldOf(n ast.Node) (fieldID, bool) {
	id, ok := n.(*ast.IdentifierNode)
	if !ok {
		return 0, false
	}
	return fieldByName(id.Value)
}

// unknownNames reports the first identifier, in source order, that is
// not a field: a typo, an unquoted string, or a function name used as a
// value (verb == get), which expr would accept and never match.
func (c *compiler) unknownNames(root ast.Node) *CompileError {
	lets := map[string]bool{}
	walk(&root, nil, func(np *ast.Node, _ ast.Node) bool {
		if v, ok := (*np).(*ast.VariableDeclaratorNode); ok {
			lets[v.Name] = true
		}
		return true
	})
	parents := map[ast.Node]ast.Node{}
	var found *CompileError
	walk(&root, nil, func(np *ast.Node, p ast.Node) bool {
		parents[*np] = p
		id, ok := (*np).(*ast.IdentifierNode)
		if !ok || found != nil || lets[id.Value] {
			return found == nil
		}
		if _, isField := fieldByName(id.Value); isField {
			return true
		}
		if call, ok := p.(*ast.CallNode); ok && call.Callee == *np {
			return true
		}
		_, builtin := c.cfg.Builtins[id.Value]
		_, fn := c.cfg.Functions[id.Value]
		if !builtin && !fn {
			if id.Value != bodyIdent {
				found = c.unknownName(root, id.Value, id.Location().From)
			}
			return found == nil
		}
		hint := fmt.Sprintf("%s is a function: call it as %s(…)", id.Value, id.Value)
		if fix := quoteFix(parents, id); fix != "" {
			hint = "quote strings: " + fix
		}
		found = c.errNode(id, fmt.Sprintf("unknown field %q", id.Value), hint)
		return false
	})
	return found
}

// typeMistakes finds comparisons of a field with a literal of the wrong
// type (code == "404", verb == 5, latency > "1s") before the checker
// reports them without a hint.
func (c *compiler) typeMistakes(root ast.Node) *CompileError {
	var found *CompileError
	walk(&root, nil, func(np *ast.Node, _ ast.Node) bool {
		b, ok := (*np).(*ast.BinaryNode)
		if found != nil || !ok || (!isCompareOp(b.Operator) && b.Operator != "in") {
			return found == nil
		}
		f, ok := fieldOf(b.Left)
		lit := b.Right
		if !ok {
			if f, ok = fieldOf(b.Right); !ok || b.Operator == "in" {
				return true
			}
			lit = b.Left
		}
		lits := []ast.Node{lit}
		if arr, ok := lit.(*ast.ArrayNode); ok && b.Operator == "in" {
			lits = arr.Nodes
		}
		for _, l := range lits {
			if e := c.literalMistake(f, l); e != nil {
				found = e
				break
			}
		}
		return found == nil
	})
	return found
}

// literalMistake checks one literal compared with field f.
func (c *compiler) literalMistake(f fieldID, lit ast.Node) *CompileError {
	name := fieldTable[f].name
	switch l := lit.(type) {
	case *ast.StringNode:
		switch fieldTable[f].kind {
		case kCode:
			hint := "write code == 404 (no quotes), or code >= 400 for a range"
			if n, err := strconv.Atoi(l.Value); err == nil {
				hint = fmt.Sprintf("write it without quotes: code == %d", n)
			}
			return c.errNode(l, "code is a number, not a string", hint)
		case kLatency:
			hint := fmt.Sprintf(`write latency > duration(%q)`, l.Value)
			return c.errNode(l, "latency is a duration, not a string", hint)
		case kTime:
			return c.errNode(l, "time is a time, not a string",
				fmt.Sprintf(`use after(%q), before(…), since("1h") or time > date(%q)`, l.Value, l.Value))
		}
	case *ast.IntegerNode, *ast.FloatNode:
		switch fieldTable[f].kind {
		case kLatency:
			return c.errNode(l, "latency is a duration, not a number", `write latency > duration("1s") or latency > duration("250ms")`)
		case kTime:
			return c.errNode(l, "time is a time, not a number", `use since("1h"), after("2026-11-25T10:00:00Z") or before(…)`)
		}
		if fieldTable[f].typ == "string" {
			return c.errNode(l, name+" is a string, not a number", fmt.Sprintf("quote it: %s == \"%v\"", name, literalText(l)))
		}
	}
	return nil
}

func literalText(n ast.Node) any {
	switch l := n.(type) {
	case *ast.IntegerNode:
		return l.Value
	case *ast.FloatNode:
		return l.Value
	}
	return ""
}

// checkLiteralArg validates the literal argument of a helper at compile
// time, so that since("1x") fails with a position rather than at run time.
func (c *compiler) checkLiteralArg(name string, arg ast.Node) *CompileError {
	s, ok := arg.(*ast.StringNode)
	if !ok {
		return nil
	}
	switch name {
	case "since", "before", "after":
		if _, err := parseInstant(s.Value, time.Time{}); err != nil {
			return c.errNode(arg, fmt.Sprintf("%s: %v", name, err), "e.g. "+helperUsage[name])
		}
	case "cidr":
		p, err := cidrOf(s.Value)
		if err != nil {
			return c.errNode(arg, "cidr: "+err.Error(), "e.g. "+helperUsage[name])
		}
		c.f.prefixes[s.Value] = p
	case "duration":
		if _, err := time.ParseDuration(s.Value); err != nil {
			return c.errNode(arg, fmt.Sprintf("duration: %q is not a duration", s.Value), `durations look like "250ms", "90s", "15m", "1h30m"`)
		}
	}
	return nil
}
