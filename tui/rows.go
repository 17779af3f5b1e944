package tui

import (
	"sort"

	"ktrail/audit"
)

// rows is the set of events the list shows: either every event of a view
// (no filter: positions are view positions, nothing is materialised) or
// the ids a filter matched, sorted like the view.
type rows struct {
	v   *audit.View
	all bool
	ids []uint32
}

// Len returns the number of rows.
func (r rows) Len() int {
	if r.v == nil {
		return 0
	}
	if r.all {
		return r.v.Len()
	}
	return len(r.ids)
}

// ID returns the event id of row i.
func (r rows) ID(i int) uint32 {
	if r.all {
		return r.v.ID(i)
	}
	return r.ids[i]
}

// Rec returns the record of row i.
func (r rows) Rec(i int) *audit.Rec { return r.v.Rec(r.ID(i)) }

// find returns the row that holds event id, or the row where it would be
// inserted and false. It is a binary search by the view's order.
func (r rows) find(id uint32) (int, bool) {
	n := r.Len()
	if n == 0 || int(id) >= r.v.NumRecs() {
		return 0, false
	}
	i := sort.Search(n, func(i int) bool { return r.v.Compare(r.ID(i), id) >= 0 })
	return i, i < n && r.ID(i) == id
}

// searchTime returns the first row whose time is ≥ t.
func (r rows) searchTime(t int64) int {
	if r.all {
		return r.v.Search(t)
	}
	return sort.Search(len(r.ids), func(i int) bool { return r.v.Rec(r.ids[i]).Time >= t })
}

// timeline adapts rows to the timeline's Rows interface.
func (r rows) timelineRows() interface {
	Len() int
	ID(int) uint32
} {
	if r.all {
		return r.v
	}
	return idList(r.ids)
}

type idList []uint32

func (l idList) Len() int        { return len(l) }
func (l idList) ID(i int) uint32 { return l[i] }
