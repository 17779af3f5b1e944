package detect

import (
	"math/bits"
	"slices"
	"strings"

	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/parser/lexer"

	"ktrail/audit"
	"ktrail/filters"
)

// Gates let one pass over the events find, for every rule at once, the
// few events its expression can match, so that each rule's filter runs on
// those candidates only instead of walking every event itself.
//
// A rule's expression is split into its top-level && terms. A term that
// reads exactly one index field F (user == "x", code == 401,
// !isSystem(), matches(userAgent, "…"), resource in […]) is a gate term:
// its value depends on F's value alone, so it is computed once per
// distinct value of F (by the filters package itself, on the first event
// with that value: Filter.Match of the term) and kept in a table indexed
// by F's interned id. Per event the pass looks up one bit mask per gate
// field (bit i: rule i's terms on that field hold) and ANDs them; the
// rules whose bits survive get the event as a candidate. Every term of a
// conjunction is necessary, so no match is ever lost; the rule's full
// filter then decides.

// gateField reads a field's value for the gate tables; ok is false when
// the value does not determine the field's filter value (an enum outside
// the known names, which the filter reads from the event's bytes).
type gateField struct {
	name  string
	get   func(r *audit.Rec) (val uint32, ok bool)
	terms []gateTerm
}

// gateTerm is one gate term: its rule and the term compiled alone.
type gateTerm struct {
	rule int
	f    *filters.Filter
}

// gateGetter reads one index field for the gate tables.
type gateGetter struct {
	name string
	get  func(r *audit.Rec) (uint32, bool)
}

// gateGetters are the fields a gate term may read, most selective first
// (the pass stops at the first field that leaves no rule).
var gateGetters = []gateGetter{
	{"resource", func(r *audit.Rec) (uint32, bool) { return r.Resource, true }},
	{"code", func(r *audit.Rec) (uint32, bool) { return uint32(r.Code), true }},
	{"user", func(r *audit.Rec) (uint32, bool) { return r.User, true }},
	{"impersonatedUser", func(r *audit.Rec) (uint32, bool) { return r.ImpUser, true }},
	{"userAgent", func(r *audit.Rec) (uint32, bool) { return r.UA, true }},
	{"subresource", func(r *audit.Rec) (uint32, bool) { return r.Subres, true }},
	{"verb", func(r *audit.Rec) (uint32, bool) { return r.Verb, true }},
	{"apiGroup", func(r *audit.Rec) (uint32, bool) { return r.APIGroup, true }},
	{"namespace", func(r *audit.Rec) (uint32, bool) { return r.NS, true }},
	{"ns", func(r *audit.Rec) (uint32, bool) { return r.NS, true }},
	{"name", func(r *audit.Rec) (uint32, bool) { return r.Name, true }},
	{"sourceIP", func(r *audit.Rec) (uint32, bool) { return r.SourceIP, true }},
	{"cluster", func(r *audit.Rec) (uint32, bool) { return r.Cluster, true }},
	{"groups", func(r *audit.Rec) (uint32, bool) { return r.Groups, true }},
	{"effectiveUser", func(r *audit.Rec) (uint32, bool) {
		if r.ImpUser != 0 {
			return r.ImpUser, true
		}
		return r.User, true
	}},
	{"stage", func(r *audit.Rec) (uint32, bool) { return uint32(r.Stage), r.Stage != audit.StageOther }},
	{"decision", func(r *audit.Rec) (uint32, bool) { return uint32(r.Decision), r.Decision != audit.DecisionOther }},
	{"level", func(r *audit.Rec) (uint32, bool) { return uint32(r.Level), r.Level != audit.LevelOther }},
}

// gates is the gate of every rule of an engine.
type gates struct {
	fields []*gateField
	words  int      // uint64 words per mask
	gated  []uint64 // the rules that have at least one gate term
}

// buildGates splits the rules' expressions into terms and compiles the
// gate terms for store s.
func buildGates(s *audit.Store, rules []*compiled, opts filters.Options) *gates {
	g := &gates{words: (len(rules) + 63) / 64}
	g.gated = make([]uint64, g.words)
	byName := map[string]*gateField{}
	for _, gg := range gateGetters {
		f := &gateField{name: gg.name, get: gg.get}
		byName[gg.name] = f
		g.fields = append(g.fields, f)
	}
	for i, c := range rules {
		for _, term := range splitAnd(c.rule.Expr) {
			name, ok := termField(term)
			if !ok {
				continue
			}
			f, err := filters.Compile(s, []string{term}, opts)
			if err != nil {
				continue
			}
			byName[name].terms = append(byName[name].terms, gateTerm{rule: i, f: f})
			g.gated[i/64] |= 1 << (i % 64)
		}
	}
	g.fields = slices.DeleteFunc(g.fields, func(f *gateField) bool { return len(f.terms) == 0 })
	return g
}

// isGated reports whether rule i has a gate.
func (g *gates) isGated(i int) bool { return g.gated[i/64]&(1<<(i%64)) != 0 }

// splitAnd returns the top-level && terms of src (the whole of src when
// it has a top-level ||, ?:, ??, pipe or let, or does not lex).
func splitAnd(src string) []string {
	toks, err := lexer.Lex(file.NewSource(src))
	if err != nil {
		return []string{src}
	}
	runes := []rune(src)
	var out []string
	var split func(toks []lexer.Token, from, to int) // token range [from, to)
	split = func(toks []lexer.Token, from, to int) {
		if from >= to {
			return
		}
		// Strip parentheses around the whole range.
		if toks[from].Is(lexer.Bracket, "(") && closing(toks, from) == to-1 {
			split(toks, from+1, to-1)
			return
		}
		depth, cuts := 0, []int{}
		for k := from; k < to; k++ {
			t := toks[k]
			switch {
			case t.Kind == lexer.Bracket && strings.ContainsAny(t.Value, "([{"):
				depth++
			case t.Kind == lexer.Bracket:
				depth--
			case depth > 0:
			case t.Kind == lexer.Operator && (t.Value == "&&" || t.Value == "and"):
				cuts = append(cuts, k)
			case t.Kind == lexer.Operator && slices.Contains([]string{"||", "or", "?", "??", "|", ";", ":"}, t.Value),
				t.Kind == lexer.Identifier && (t.Value == "let" || t.Value == "if"):
				out = append(out, text(runes, toks, from, to))
				return
			}
		}
		if len(cuts) == 0 {
			out = append(out, text(runes, toks, from, to))
			return
		}
		prev := from
		for _, c := range append(cuts, to) {
			split(toks, prev, c)
			prev = c + 1
		}
	}
	end := len(toks)
	if end > 0 && toks[end-1].Kind == lexer.EOF {
		end--
	}
	split(toks, 0, end)
	return out
}

// closing returns the index of the bracket that closes toks[open].
func closing(toks []lexer.Token, open int) int {
	depth := 0
	for k := open; k < len(toks); k++ {
		if toks[k].Kind != lexer.Bracket {
			continue
		}
		if strings.ContainsAny(toks[k].Value, "([{") {
			depth++
		} else if depth--; depth == 0 {
			return k
		}
	}
	return -1
}

// text returns the source of tokens [from, to) (a token's location is
// the half-open range of its runes, quotes included).
func text(runes []rune, toks []lexer.Token, from, to int) string {
	a, b := toks[from].From, toks[to-1].To
	if a < 0 || b > len(runes) || a >= b {
		return ""
	}
	return strings.TrimSpace(string(runes[a:b]))
}

// termField returns the one index field a term reads, if it reads
// exactly one and nothing else that varies between events (the time).
func termField(term string) (string, bool) {
	toks, err := lexer.Lex(file.NewSource(term))
	if err != nil {
		return "", false
	}
	fields := map[string]bool{}
	for k, t := range toks {
		if t.Kind != lexer.Identifier {
			continue
		}
		member := k > 0 && toks[k-1].Kind == lexer.Operator && (toks[k-1].Value == "." || toks[k-1].Value == "?.")
		call := k+1 < len(toks) && toks[k+1].Is(lexer.Bracket, "(")
		switch {
		case member:
		case call && slices.Contains([]string{"now", "since", "after", "before", "date"}, t.Value):
			return "", false // reads the event time or the clock
		case call && slices.Contains([]string{"isSystem", "isHuman", "isServiceAccount"}, t.Value):
			if k+2 < len(toks) && toks[k+2].Is(lexer.Bracket, ")") {
				fields["user"] = true // no argument: user
			}
		case call:
		case t.Value == "true" || t.Value == "false" || t.Value == "nil":
		case slices.ContainsFunc(gateGetters, func(g gateGetter) bool { return g.name == t.Value }):
			fields[t.Value] = true
		default:
			return "", false // another field, or a variable
		}
	}
	if len(fields) != 1 {
		return "", false
	}
	for f := range fields {
		return f, true
	}
	return "", false
}

// gateWorker is one goroutine's tables and candidates.
type gateWorker struct {
	g     *gates
	v     *audit.View
	masks [][]uint64 // per field: words per value id
	known [][]bool   // per field: the value's mask is computed
	m     []uint64
	cands [][]uint32 // per rule
}

func (g *gates) newWorker(v *audit.View, nrules int) *gateWorker {
	return &gateWorker{g: g, v: v, masks: make([][]uint64, len(g.fields)), known: make([][]bool, len(g.fields)),
		m: make([]uint64, g.words), cands: make([][]uint32, nrules)}
}

// visit adds event id to the candidates of the rules whose gates it
// passes.
func (w *gateWorker) visit(id uint32) {
	r := w.v.Rec(id)
	if w.g.words == 1 {
		m := w.g.gated[0]
		for fi, f := range w.g.fields {
			val, ok := f.get(r)
			if !ok {
				continue
			}
			if known := w.known[fi]; int(val) < len(known) && known[val] {
				m &= w.masks[fi][val]
			} else {
				m &= w.lookup(fi, f, val, id)[0]
			}
			if m == 0 {
				return
			}
		}
		for m != 0 {
			b := bits.TrailingZeros64(m)
			m &^= 1 << b
			w.cands[b] = append(w.cands[b], id)
		}
		return
	}
	m := w.m
	copy(m, w.g.gated)
	for fi, f := range w.g.fields {
		val, ok := f.get(r)
		if !ok {
			continue
		}
		tm := w.lookup(fi, f, val, id)
		zero := uint64(0)
		for k := range m {
			m[k] &= tm[k]
			zero |= m[k]
		}
		if zero == 0 {
			return
		}
	}
	for k, word := range m {
		for word != 0 {
			b := bits.TrailingZeros64(word)
			word &^= 1 << b
			i := k*64 + b
			w.cands[i] = append(w.cands[i], id)
		}
	}
}

// lookup returns the mask of field fi for value val, computing it on the
// event id (which has that value) the first time.
func (w *gateWorker) lookup(fi int, f *gateField, val uint32, id uint32) []uint64 {
	words := w.g.words
	if int(val) >= len(w.known[fi]) {
		n := max(int(val)+1, 2*len(w.known[fi]), 64)
		w.known[fi] = slices.Grow(w.known[fi], n-len(w.known[fi]))[:n]
		w.masks[fi] = slices.Grow(w.masks[fi], n*words-len(w.masks[fi]))[:n*words]
	}
	tm := w.masks[fi][int(val)*words : (int(val)+1)*words]
	if w.known[fi][val] {
		return tm
	}
	for k := range tm {
		tm[k] = ^uint64(0)
	}
	for _, t := range f.terms {
		if ok, _ := t.f.Match(w.v, id); !ok {
			tm[t.rule/64] &^= 1 << (t.rule % 64)
		}
	}
	w.known[fi][val] = true
	return tm
}
