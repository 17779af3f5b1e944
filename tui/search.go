package tui

import (
	"strconv"
	"strings"

	tea "charm.land/bubbletea/v2"

	"ktrail/audit"
)

// searchState is the text search (/): matches are highlighted in the
// visible rows and n / N move to the next and previous matching row.
type searchState struct {
	text  string
	lower string
	hits  []uint64 // bit set over interned ids whose string contains the text
	seq   int
}

func (s *searchState) invalidate() {}

// startSearch sets the search text and moves to the first match after the
// cursor (in the detail pane when it has the focus).
func (m *Model) startSearch(text string) tea.Cmd {
	m.search = searchState{text: text, lower: strings.ToLower(text), seq: m.search.seq + 1}
	if text == "" {
		return nil
	}
	return m.findNext(1)
}

// findNext moves to the next (dir 1) or previous (dir -1) match.
func (m *Model) findNext(dir int) tea.Cmd {
	if m.search.text == "" {
		m.setStatus("no search: press / to search", true)
		return nil
	}
	if m.focus == focusDetail && m.detail.open {
		if !m.detail.find(m.search.text, dir, m.layout().detailH) {
			m.setStatus("not found in this event: "+m.search.text, true)
		}
		return nil
	}
	if m.search.hits == nil {
		m.search.hits = internHits(m.ctx.store, m.search.lower)
	}
	r, hits, q, from, seq := m.rows, m.search.hits, m.search.lower, m.cursor, m.search.seq
	return func() tea.Msg {
		n := r.Len()
		for k := 1; k <= n; k++ {
			i := ((from+dir*k)%n + n) % n
			if recMatches(r.Rec(i), hits, q) {
				return searchMsg{seq: seq, row: i, id: r.ID(i), wrapped: (dir > 0 && i <= from) || (dir < 0 && i >= from)}
			}
		}
		return searchMsg{seq: seq, row: -1}
	}
}

// searchMsg is the row the search found, or -1.
type searchMsg struct {
	seq, row int
	id       uint32
	wrapped  bool
}

func (m *Model) onSearch(msg searchMsg) {
	if msg.seq != m.search.seq {
		return
	}
	if msg.row < 0 {
		m.setStatus("not found: "+m.search.text, true)
		return
	}
	i, ok := m.rows.find(msg.id)
	if !ok {
		i = msg.row
	}
	m.follow = false
	m.moveTo(i)
	if msg.wrapped {
		m.setStatus("search wrapped around", false)
	}
}

// internHits marks every interned string that contains q.
func internHits(s *audit.Store, q string) []uint64 {
	in := s.Interner()
	n := in.Len()
	bits := make([]uint64, n/64+1)
	for id := 0; id < n; id++ {
		if strings.Contains(strings.ToLower(in.Str(uint32(id))), q) {
			bits[id/64] |= 1 << (id % 64)
		}
	}
	return bits
}

func hit(bits []uint64, id uint32) bool {
	i := int(id / 64)
	return i < len(bits) && bits[i]&(1<<(id%64)) != 0
}

// recMatches reports whether a shown field of r contains q.
func recMatches(r *audit.Rec, bits []uint64, q string) bool {
	for _, id := range [...]uint32{r.User, r.Verb, r.Resource, r.Subres, r.NS, r.Name, r.SourceIP, r.UA, r.APIGroup, r.ImpUser, r.Cluster} {
		if hit(bits, id) {
			return true
		}
	}
	if r.Code != 0 && strings.Contains(strconv.Itoa(int(r.Code)), q) {
		return true
	}
	return false
}
