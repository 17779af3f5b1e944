package tui

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"ktrail/audit"
	"ktrail/detect"
)

// detections is the state of the detections panel (D): the live results
// of the rule engine, fed with the records that arrived since the last
// tick, off the render path.
type detections struct {
	busy  bool
	fed   int // records given to the engine
	res   detect.Result
	sel   int
	seen  int // alerts the user has seen (the header badge counts the rest)
	ready bool
}

// detMsg brings the engine's results after a Feed.
type detMsg struct {
	res detect.Result
	fed int
}

// detCmd feeds the engine the records it has not seen yet.
func (m *Model) detCmd(v *audit.View) tea.Cmd {
	e := m.ctx.opts.Detect
	d := &m.det
	if e == nil || d.busy || v.NumRecs() <= d.fed {
		return nil
	}
	d.busy = true
	from := d.fed
	return func() tea.Msg {
		res := e.Feed(context.Background(), v, from)
		return detMsg{res: res, fed: v.NumRecs()}
	}
}

func (m *Model) onDet(msg detMsg) {
	d := &m.det
	d.busy = false
	if msg.res.Err != nil {
		// An incomplete feed leaves the engine's state partial: start over.
		m.ctx.opts.Detect.Reset()
		d.fed = 0
		return
	}
	d.res, d.fed, d.ready = msg.res, msg.fed, true
}

// alerts counts the alerts of threshold rules and the hits of the others
// that are high or critical.
func (d *detections) alerts() int {
	n := 0
	for _, rr := range d.res.Rules {
		if rr.Rule == nil {
			continue
		}
		if rr.Rule.Alerting() {
			n += len(rr.Alerts)
		}
	}
	return n
}

// fired returns the rules that found something, most severe first.
func (d *detections) fired() []detect.RuleResult {
	f := d.res.Fired()
	slices.SortStableFunc(f, func(a, b detect.RuleResult) int {
		return detect.SeverityRank(b.Rule.Severity) - detect.SeverityRank(a.Rule.Severity)
	})
	return f
}

// renderDetections draws the panel: one line per rule that fired.
func (m *Model) renderDetections(width, height int) string {
	st := m.ctx.styles
	d := &m.det
	lines := []string{st.HelpSection.Render("Detections") + st.Muted.Render("  ↑/↓ choose · Enter show its events · Esc close")}
	switch {
	case m.ctx.opts.Detect == nil:
		lines = append(lines, st.Muted.Render("no detection rules loaded"))
	case !d.ready:
		lines = append(lines, st.Muted.Render("running the rules…"))
	}
	fired := d.fired()
	if d.ready && len(fired) == 0 {
		lines = append(lines, st.OK.Render(fmt.Sprintf("none of the %d rules fired on %s", len(d.res.Rules), plural(d.fed, "event"))))
	}
	w := min(width-4, 110)
	for i, rr := range fired {
		if len(lines) >= height-4 {
			lines = append(lines, st.Muted.Render(fmt.Sprintf("… %d more", len(fired)-i)))
			break
		}
		sev := strings.ToUpper(rr.Rule.Severity)
		style := st.Warning
		if sev == "HIGH" || sev == "CRITICAL" {
			style = st.Error
		}
		count := plural(len(rr.Hits), "hit")
		if rr.Rule.Alerting() {
			count = plural(len(rr.Alerts), "alert") + " · " + plural(len(rr.Hits), "event")
		}
		line := fit(fmt.Sprintf("%-8s %s — %s", sev, audit.Sanitize(rr.Rule.Name), count), w, false)
		if i == d.sel {
			line = st.RowSelected.Render(line)
		} else {
			line = style.Render(line)
		}
		lines = append(lines, line)
	}
	return st.Dialog.Render(strings.Join(lines, "\n"))
}

// detectionsKey handles the panel's keys; Enter filters on the rule.
func (m *Model) detectionsKey(msg tea.KeyPressMsg) tea.Cmd {
	k := m.ctx.keys
	d := &m.det
	fired := d.fired()
	switch {
	case key.Matches(msg, k.Down):
		d.sel = min(len(fired)-1, d.sel+1)
	case key.Matches(msg, k.Up):
		d.sel = max(0, d.sel-1)
	case key.Matches(msg, k.Open):
		m.overlay = overlayNone
		if d.sel < len(fired) {
			d.seen = d.alerts()
			return m.addClause("(" + fired[d.sel].Rule.Expr + ")")
		}
	case key.Matches(msg, k.Clear), key.Matches(msg, k.Detections), key.Matches(msg, k.Quit):
		m.overlay = overlayNone
		d.seen = d.alerts()
	}
	return nil
}
