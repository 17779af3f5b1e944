package detect

import (
	"slices"
	"strings"
	"time"

	"ktrail/audit"
)

// maxValues is how many distinct values an Alert lists.
const maxValues = 10

// Alert is one firing of a threshold rule for one group: from the event
// at which the window first held Threshold events (or distinct values)
// until the last following event at which it still did.
type Alert struct {
	// Group holds the values of the rule's GroupBy fields, in order.
	Group []string
	// First and Last are the times of the alert's first and last events.
	First, Last time.Time
	// Count is the number of events in the alert (len(IDs)).
	Count int
	// Distinct is the number of distinct values of the rule's Distinct
	// field among those events; 0 for a rule without Distinct.
	Distinct int
	// Values lists up to 10 of those distinct values, in the order seen.
	Values []string
	// IDs are the events of the alert in time order: those in the window
	// when it fired, then each later one that kept it firing.
	IDs []uint32
}

// entry is a timed matching event in a group's window.
type entry struct {
	id uint32
	t  int64
	d  string // distinct key; "" when the rule has no Distinct
}

// alertState is an alert being built.
type alertState struct {
	first, last int64
	ids         []uint32
	seen        map[string]struct{} // distinct keys
	values      []string            // display values, up to maxValues
}

// groupState is the sliding window of one group of one rule.
type groupState struct {
	key    string
	first  uint32   // the group's first event, for its display values
	ids    []uint32 // every timed event of the group, in view order (for replays)
	win    []entry
	head   int
	dcount map[string]int
	alerts []*alertState
	open   *alertState
	listed bool // in windowState.alerting
}

// windowRule holds what a threshold rule's groups need.
type windowRule struct {
	s         *audit.Store
	group     []field
	distinct  *field
	window    int64
	threshold int
}

// keyOf returns the group key of r.
func (w *windowRule) keyOf(r *audit.Rec, buf []byte) ([]byte, string) {
	buf = buf[:0]
	for _, f := range w.group {
		buf = f.appendKey(w.s, r, buf)
	}
	return buf, string(buf)
}

// distinctOf returns the distinct key of r, "" without Distinct.
func (w *windowRule) distinctOf(r *audit.Rec) string {
	if w.distinct == nil {
		return ""
	}
	return string(w.distinct.appendKey(w.s, r, nil))
}

// step adds one event (later in view order than every event the group
// has stepped) to the group's window and updates its alerts.
func (w *windowRule) step(g *groupState, v *audit.View, id uint32) {
	r := v.Rec(id)
	e := entry{id: id, t: r.Time, d: w.distinctOf(r)}
	g.win = append(g.win, e)
	if w.distinct != nil {
		if g.dcount == nil {
			g.dcount = map[string]int{}
		}
		g.dcount[e.d]++
	}
	// An event at time s is in the window ending at t when t-s < window.
	for g.head < len(g.win) && e.t-g.win[g.head].t >= w.window {
		if w.distinct != nil {
			d := g.win[g.head].d
			if g.dcount[d]--; g.dcount[d] == 0 {
				delete(g.dcount, d)
			}
		}
		g.head++
	}
	if g.head > 64 && g.head*2 > len(g.win) {
		n := copy(g.win, g.win[g.head:])
		g.win, g.head = g.win[:n], 0
	}
	n := len(g.win) - g.head
	if w.distinct != nil {
		n = len(g.dcount)
	}
	if n < w.threshold {
		g.open = nil
		return
	}
	if g.open == nil {
		a := &alertState{first: g.win[g.head].t}
		for _, in := range g.win[g.head:] {
			w.addTo(a, v, in)
		}
		g.open = a
		g.alerts = append(g.alerts, a)
		return
	}
	w.addTo(g.open, v, e)
}

// addTo adds an event to an alert.
func (w *windowRule) addTo(a *alertState, v *audit.View, e entry) {
	a.ids = append(a.ids, e.id)
	a.last = e.t
	if w.distinct == nil {
		return
	}
	if a.seen == nil {
		a.seen = map[string]struct{}{}
	}
	if _, ok := a.seen[e.d]; ok {
		return
	}
	a.seen[e.d] = struct{}{}
	if len(a.values) < maxValues {
		a.values = append(a.values, w.distinct.display(w.s, v.Rec(e.id)))
	}
}

// replay rebuilds a group's window and alerts from its event list.
func (w *windowRule) replay(g *groupState, v *audit.View) {
	g.win, g.head, g.dcount, g.alerts, g.open = g.win[:0], 0, nil, nil, nil
	for _, id := range g.ids {
		w.step(g, v, id)
	}
}

// alerts returns the alerts of the given groups as Alert values sorted
// by their first event in view order.
func (w *windowRule) alerts(v *audit.View, groups []*groupState) []Alert {
	var out []Alert
	for _, g := range groups {
		if len(g.alerts) == 0 {
			continue
		}
		vals := make([]string, len(w.group))
		for i, f := range w.group {
			vals[i] = f.display(w.s, v.Rec(g.first))
		}
		for _, a := range g.alerts {
			out = append(out, Alert{
				Group: vals, First: time.Unix(0, a.first).UTC(), Last: time.Unix(0, a.last).UTC(),
				Count: len(a.ids), Distinct: len(a.seen), Values: slices.Clip(a.values), IDs: slices.Clip(a.ids),
			})
		}
	}
	slices.SortFunc(out, func(a, b Alert) int {
		if c := v.Compare(a.IDs[0], b.IDs[0]); c != 0 {
			return c
		}
		return strings.Compare(strings.Join(a.Group, "\x00"), strings.Join(b.Group, "\x00"))
	})
	return out
}

// windowState is a threshold rule's groups.
type windowState struct {
	groups   map[string]*groupState
	alerting []*groupState // the groups that have had an alert
	buf      []byte
}

func newWindowState() *windowState { return &windowState{groups: map[string]*groupState{}} }

// group returns the group of event id, creating it.
func (ws *windowState) group(w *windowRule, v *audit.View, id uint32) *groupState {
	var key string
	ws.buf, key = w.keyOf(v.Rec(id), ws.buf)
	g := ws.groups[key]
	if g == nil {
		g = &groupState{key: key, first: id}
		ws.groups[key] = g
	}
	return g
}

// run feeds matching ids (in view order) through the windows. Events of
// a group that sort before its last event are late: they are merged into
// the group's list and the group is replayed from its start, so the
// result never depends on the order in which events arrived.
func (ws *windowState) run(w *windowRule, v *audit.View, ids []uint32) {
	late := map[*groupState][]uint32{}
	for _, id := range ids {
		if v.Rec(id).Flags&audit.FlagNoTime != 0 {
			continue // events without a time never count in windows
		}
		g := ws.group(w, v, id)
		if pend, ok := late[g]; ok {
			late[g] = append(pend, id)
			continue
		}
		if n := len(g.ids); n > 0 && v.Compare(id, g.ids[n-1]) < 0 {
			late[g] = []uint32{id}
			continue
		}
		g.ids = append(g.ids, id)
		w.step(g, v, id)
		ws.list(g)
	}
	for g, add := range late {
		g.ids = mergeIDs(v, g.ids, add)
		if v.Compare(g.ids[0], g.first) < 0 {
			g.first = g.ids[0]
		}
		w.replay(g, v)
		ws.list(g)
	}
}

// list remembers g once it has an alert, so that collecting the alerts
// does not walk every group.
func (ws *windowState) list(g *groupState) {
	if !g.listed && len(g.alerts) > 0 {
		g.listed = true
		ws.alerting = append(ws.alerting, g)
	}
}

// mergeIDs merges two lists sorted by v.Compare into a new list.
func mergeIDs(v *audit.View, a, b []uint32) []uint32 {
	out := make([]uint32, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		if v.Compare(a[i], b[j]) <= 0 {
			out = append(out, a[i])
			i++
		} else {
			out = append(out, b[j])
			j++
		}
	}
	out = append(out, a[i:]...)
	return append(out, b[j:]...)
}
