package tui

import (
	"cmp"
	"slices"
	"strconv"
	"strings"

	tea "charm.land/bubbletea/v2"

	"ktrail/audit"
	"ktrail/tui/timeline"
)

// sparkN is the number of time buckets of a pivot row's sparkline.
const sparkN = 20

// pivotField is a field the pivot groups by: a key per event (an
// interned id, a code or an enum value) and how to print and filter it.
type pivotField struct {
	name string // the filter vocabulary's name
	key  func(*audit.Rec) uint32
	// str prints a key; num says keys compare as numbers and filter
	// without quotes.
	str func(s *audit.Store, k uint32) string
	num bool
	w   int // the column width its values need; 0 = a share of the spare width
}

func idField(name string, get func(*audit.Rec) uint32) pivotField {
	return pivotField{name: name, key: get, str: func(s *audit.Store, k uint32) string { return s.Str(k) }}
}

func enumField(name string, get func(*audit.Rec) uint32, names func(uint32) string, w int) pivotField {
	return pivotField{name: name, key: get, str: func(_ *audit.Store, k uint32) string { return names(k) }, w: w}
}

// sized returns f with a column width.
func (f pivotField) sized(w int) pivotField { f.w = w; return f }

// pivotFields are the fields p can group by, in the order ←/→ cycle.
func pivotFields() []pivotField {
	return []pivotField{
		idField("user", func(r *audit.Rec) uint32 { return r.User }),
		idField("verb", func(r *audit.Rec) uint32 { return r.Verb }).sized(16),
		idField("resource", func(r *audit.Rec) uint32 { return r.Resource }),
		idField("namespace", func(r *audit.Rec) uint32 { return r.NS }),
		idField("sourceIP", func(r *audit.Rec) uint32 { return r.SourceIP }).sized(15),
		idField("userAgent", func(r *audit.Rec) uint32 { return r.UA }),
		{name: "code", key: func(r *audit.Rec) uint32 { return uint32(r.Code) }, num: true, w: 6,
			str: func(_ *audit.Store, k uint32) string { return strconv.Itoa(int(k)) }},
		enumField("decision", func(r *audit.Rec) uint32 { return uint32(r.Decision) },
			func(k uint32) string { return audit.Decision(k).String() }, 8),
		idField("cluster", func(r *audit.Rec) uint32 { return r.Cluster }),
		idField("name", func(r *audit.Rec) uint32 { return r.Name }),
		idField("subresource", func(r *audit.Rec) uint32 { return r.Subres }),
		idField("apiGroup", func(r *audit.Rec) uint32 { return r.APIGroup }),
		idField("impersonatedUser", func(r *audit.Rec) uint32 { return r.ImpUser }),
		enumField("stage", func(r *audit.Rec) uint32 { return uint32(r.Stage) },
			func(k uint32) string { return audit.Stage(k).String() }, 16),
		enumField("level", func(r *audit.Rec) uint32 { return uint32(r.Level) },
			func(k uint32) string { return audit.Level(k).String() }, 15),
	}
}

// pivotFieldIndex returns the index of a field by name, or -1.
func pivotFieldIndex(fields []pivotField, name string) int {
	for i, f := range fields {
		if strings.EqualFold(f.name, name) || (name == "ns" && f.name == "namespace") {
			return i
		}
	}
	return -1
}

// pivotGroup is one row of the pivot: the keys of its fields, how many
// events have them, their first and last times and the sparkline counts.
type pivotGroup struct {
	k1, k2      uint32
	count       int
	first, last int64 // 0: no timed event
	spark       [sparkN]uint32
}

// pivot sort orders.
const (
	sortCount = iota
	sortFirst
	sortLast
	sortKey
)

// pivotSpec is what a pivot is computed from.
type pivotSpec struct {
	f1, f2 int // field indexes; f2 -1 = one field
}

// pivotMsg carries computed groups (sorted as asked).
type pivotMsg struct {
	seq      int
	spec     pivotSpec
	groups   []pivotGroup
	order    []int32
	total    int
	from, to int64
	rowsGen  int
	sortBy   int
	desc     bool
}

// pivotCmd groups the rows off the render path: keys are interned ids or
// small numbers packed in a uint64, so a million rows cost one map lookup
// each and no string.
func (m *Model) pivotCmd() tea.Cmd {
	p := &m.pivot
	p.seq++
	p.busy = true
	fields, spec, seq, gen := m.pivotFields, p.spec, p.seq, m.rowsGen
	s, v, r := m.ctx.store, m.view, m.rows.timelineRows()
	by, desc := p.sortBy, p.desc
	first, last, ok := timeline.Bounds(v, r)
	from, to := first, last+1
	if ok {
		from, to = m.tl.state.Window(first, last)
	}
	return func() tea.Msg {
		groups, total := aggregate(v, r, fields, spec, from, to)
		order := sortGroups(s, fields, spec, groups, by, desc)
		return pivotMsg{seq: seq, spec: spec, groups: groups, order: order, total: total, from: from, to: to, rowsGen: gen,
			sortBy: by, desc: desc}
	}
}

// aggregate counts the rows per key pair, with first and last times and
// sparkN time buckets over [from, to).
func aggregate(v *audit.View, r timeline.Rows, fields []pivotField, spec pivotSpec, from, to int64) ([]pivotGroup, int) {
	k1 := fields[spec.f1].key
	var k2 func(*audit.Rec) uint32
	if spec.f2 >= 0 {
		k2 = fields[spec.f2].key
	}
	index := make(map[uint64]int32, 256)
	var groups []pivotGroup
	span := to - from
	n := r.Len()
	for i := 0; i < n; i++ {
		rec := v.Rec(r.ID(i))
		a := k1(rec)
		var b uint32
		if k2 != nil {
			b = k2(rec)
		}
		key := uint64(a)<<32 | uint64(b)
		gi, ok := index[key]
		if !ok {
			gi = int32(len(groups))
			index[key] = gi
			groups = append(groups, pivotGroup{k1: a, k2: b})
		}
		g := &groups[gi]
		g.count++
		if rec.Flags&audit.FlagNoTime != 0 {
			continue
		}
		t := rec.Time
		if g.first == 0 || t < g.first {
			g.first = t
		}
		g.last = max(g.last, t)
		if span > 0 && t >= from && t < to {
			g.spark[min(sparkN-1, int((t-from)*sparkN/span))]++
		}
	}
	return groups, n
}

// sortGroups returns the order of groups under a sort: by count (ties by
// key), first or last time, or key; desc reverses it.
func sortGroups(s *audit.Store, fields []pivotField, spec pivotSpec, groups []pivotGroup, by int, desc bool) []int32 {
	order := make([]int32, len(groups))
	for i := range order {
		order[i] = int32(i)
	}
	keyCmp := func(a, b *pivotGroup) int {
		if c := cmpKey(s, fields[spec.f1], a.k1, b.k1); c != 0 || spec.f2 < 0 {
			return c
		}
		return cmpKey(s, fields[spec.f2], a.k2, b.k2)
	}
	slices.SortStableFunc(order, func(x, y int32) int {
		a, b := &groups[x], &groups[y]
		var c int
		switch by {
		case sortCount:
			c = cmp.Compare(b.count, a.count) // most first
		case sortFirst:
			c = cmp.Compare(a.first, b.first)
		case sortLast:
			c = cmp.Compare(b.last, a.last) // latest first
		}
		if desc {
			c = -c
		}
		if c != 0 {
			return c
		}
		c = keyCmp(a, b)
		if desc && by == sortKey {
			c = -c
		}
		return c
	})
	return order
}

func cmpKey(s *audit.Store, f pivotField, a, b uint32) int {
	if f.num || a == b {
		return cmp.Compare(a, b)
	}
	return strings.Compare(f.str(s, a), f.str(s, b))
}

// pivotSortMsg carries a new order of the same groups.
type pivotSortMsg struct {
	seq   int
	order []int32
}

// resortCmd sorts the groups again off the render path.
func (m *Model) resortCmd() tea.Cmd {
	p := &m.pivot
	seq, s, fields, spec, groups, by, desc := p.sortSeq, m.ctx.store, m.pivotFields, p.spec, p.groups, p.sortBy, p.desc
	return func() tea.Msg {
		return pivotSortMsg{seq: seq, order: sortGroups(s, fields, spec, groups, by, desc)}
	}
}

// groupClause is the filter step that keeps a group's events.
func groupClause(s *audit.Store, fields []pivotField, spec pivotSpec, g *pivotGroup) string {
	c := fieldClause(s, fields[spec.f1], g.k1)
	if spec.f2 >= 0 {
		c += " && " + fieldClause(s, fields[spec.f2], g.k2)
	}
	return c
}

func fieldClause(s *audit.Store, f pivotField, k uint32) string {
	v := f.str(s, k)
	if f.num {
		return f.name + " == " + v
	}
	return f.name + " == " + strconv.Quote(v)
}

// sparkline draws counts with the eighth blocks, scaled to their maximum.
func sparkline(c *[sparkN]uint32) string {
	blocks := [8]string{"▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"}
	var mx uint32
	for _, n := range c {
		mx = max(mx, n)
	}
	var b strings.Builder
	for _, n := range c {
		switch {
		case n == 0:
			b.WriteByte(' ')
		case mx == 0:
			b.WriteString("▁")
		default:
			b.WriteString(blocks[min(7, int((uint64(n)*8-1)/uint64(mx)))])
		}
	}
	return b.String()
}
