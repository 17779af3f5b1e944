package tui

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/exp/golden"

	"ktrail/detect"
	"ktrail/filters"
	"ktrail/report"
	"ktrail/tui/history"
)

// TestGoldenInvestigate pins the pivot table and the object history pane
// at 160×48, dark and NO_COLOR. Update with: go test ./tui -run Golden -update
func TestGoldenInvestigate(t *testing.T) {
	states := []struct {
		name string
		keys func(h *harness)
	}{
		{"pivot", func(h *harness) {
			h.key("l") // the user column
			h.key("p")
			h.key("tab") // and verb
			h.key("j")
		}},
		{"object", func(h *harness) {
			h.key("f")
			h.typeText(`resource == "deployments" && namespace == "staging" && name == "checkout" && verb == "patch" && user == "bob@example.com" && stage == "ResponseComplete"`)
			h.key("enter")
			h.key("o")
		}},
	}
	for _, noColor := range []bool{false, true} {
		theme := "dark"
		if noColor {
			theme = "nocolor"
		}
		for _, st := range states {
			t.Run(fmt.Sprintf("160x48/%s/%s", theme, st.name), func(t *testing.T) {
				h := demoHarness(t, 160, 48, func(o *Options) { o.NoColor = noColor })
				st.keys(h)
				golden.RequireEqual(t, h.m.View().Content)
			})
		}
	}
}

// naiveGroups counts the rows by the fields' printed values, the slow way.
func naiveGroups(t *testing.T, h *harness, names ...string) map[string]int {
	t.Helper()
	out := map[string]int{}
	for i := 0; i < h.m.rows.Len(); i++ {
		var parts []string
		for _, n := range names {
			v, err := filters.Value(h.m.ctx.store, h.m.rows.Rec(i), n)
			if err != nil {
				t.Fatal(err)
			}
			parts = append(parts, v)
		}
		out[strings.Join(parts, "\x00")]++
	}
	return out
}

func pivotCounts(h *harness) map[string]int {
	p := &h.m.pivot
	out := map[string]int{}
	for _, gi := range p.order {
		g := &p.groups[gi]
		k := h.m.pivotFields[p.spec.f1].str(h.m.ctx.store, g.k1)
		if p.spec.f2 >= 0 {
			k += "\x00" + h.m.pivotFields[p.spec.f2].str(h.m.ctx.store, g.k2)
		}
		out[k] += g.count
	}
	return out
}

func TestPivotCountsEqualANaiveCount(t *testing.T) {
	h := demoHarness(t, 160, 48, nil)
	h.key("f")
	h.typeText(`code >= 400 || resource == "secrets"`)
	h.key("enter")
	for _, spec := range []string{"user", "user,verb", "code", "decision", "sourceIP,code", "stage", "resource,namespace"} {
		if !h.m.pivot.open {
			h.key("p")
		}
		h.key("p")
		h.key("ctrl+u")
		h.typeText(spec)
		h.key("enter")
		if got := h.m.pivotSpecText(); got != spec {
			t.Fatalf("spec %q, want %q", got, spec)
		}
		want, got := naiveGroups(t, h, strings.Split(spec, ",")...), pivotCounts(h)
		if len(want) != len(got) {
			t.Fatalf("%s: %d groups, naive %d", spec, len(got), len(want))
		}
		for k, n := range want {
			if got[k] != n {
				t.Fatalf("%s: group %q has %d, naive %d", spec, k, got[k], n)
			}
		}
		// Sorted by count, most first; sparklines hold every timed event.
		p := &h.m.pivot
		for i := 1; i < len(p.order); i++ {
			if p.groups[p.order[i-1]].count < p.groups[p.order[i]].count {
				t.Fatalf("%s: not sorted by count at %d", spec, i)
			}
		}
		for _, g := range p.groups {
			sum := 0
			for _, c := range g.spark {
				sum += int(c)
			}
			if sum != g.count {
				t.Fatalf("%s: sparkline holds %d of %d events", spec, sum, g.count)
			}
		}
	}
	h.mustContain("pivot by resource,namespace", "COUNT▼", "ACTIVITY")
}

func TestPivotSortKeys(t *testing.T) {
	h := demoHarness(t, 160, 48, nil)
	h.key("l")
	h.key("p")
	p := &h.m.pivot
	str := func(i int) string { return h.m.ctx.store.Str(p.groups[p.order[i]].k1) }
	h.key("4")
	for i := 1; i < len(p.order); i++ {
		if str(i-1) > str(i) {
			t.Fatalf("key sort: %q before %q", str(i-1), str(i))
		}
	}
	h.mustContain("USER▲")
	h.key("4")
	if str(0) < str(len(p.order)-1) {
		t.Fatal("4 again did not reverse the key order")
	}
	h.key("2")
	for i := 1; i < len(p.order); i++ {
		if p.groups[p.order[i-1]].first > p.groups[p.order[i]].first {
			t.Fatal("2 did not sort by first seen")
		}
	}
	h.key("3")
	for i := 1; i < len(p.order); i++ {
		if p.groups[p.order[i-1]].last < p.groups[p.order[i]].last {
			t.Fatal("3 did not sort by last seen, latest first")
		}
	}
	h.key("right") // next field: verb
	if h.m.pivotSpecText() != "verb" {
		t.Fatalf("→ gave %q", h.m.pivotSpecText())
	}
}

func TestPivotDrillDownAndBack(t *testing.T) {
	h := demoHarness(t, 160, 48, nil)
	h.key("l")
	h.key("p")
	h.key("tab") // user, verb
	h.key("j")
	p := &h.m.pivot
	g := p.groups[p.order[1]]
	user, verb := h.m.ctx.store.Str(g.k1), h.m.ctx.store.Str(g.k2)
	h.key("enter")
	want := fmt.Sprintf("user == %q && verb == %q", user, verb)
	if h.m.pivot.open || h.m.filterSrc != want {
		t.Fatalf("drill-down: open %v filter %q, want %q", h.m.pivot.open, h.m.filterSrc, want)
	}
	if n := len(count(t, h.m.ctx.store, want)); n != h.m.rows.Len() || n != g.count {
		t.Fatalf("rows %d, engine %d, group %d", h.m.rows.Len(), n, g.count)
	}
	h.key("esc")
	if !h.m.pivot.open || h.m.filterSrc != "" || h.m.pivotSpecText() != "user,verb" {
		t.Fatalf("Esc: pivot open %v filter %q spec %s", h.m.pivot.open, h.m.filterSrc, h.m.pivotSpecText())
	}
	if h.m.pivot.total != 6241 {
		t.Fatalf("the pivot was not counted again: %d events", h.m.pivot.total)
	}
	h.key("esc")
	if h.m.pivot.open {
		t.Fatal("Esc did not close the pivot")
	}
	h.mustContain("TIME", "USER")
}

// The checkout deployment of the demo: o lists every request about it
// and shows the patches and state diffs.
func TestObjectHistoryKey(t *testing.T) {
	h := demoHarness(t, 160, 48, nil)
	h.key("f")
	h.typeText(`resource == "deployments" && name == "checkout" && namespace == "staging"`)
	h.key("enter")
	h.key("o")
	obj := history.Object{Resource: "deployments", Namespace: "staging", Name: "checkout"}
	if h.m.filterSrc != obj.Filter() || !h.m.side.open || h.m.side.busy {
		t.Fatalf("filter %q side %+v", h.m.filterSrc, h.m.side.open)
	}
	if n := len(count(t, h.m.ctx.store, obj.Filter())); n != h.m.rows.Len() {
		t.Fatalf("rows %d, engine %d", h.m.rows.Len(), n)
	}
	text := history.PlainText(h.m.side.doc)
	for _, want := range []string{"deployments/staging/checkout · 11 requests", "patch sent:", `"availableReplicas": 1`, "by system:serviceaccount:ci:deployer"} {
		if !strings.Contains(text, want) {
			t.Fatalf("the history lacks %q:\n%s", want, text)
		}
	}
	h.mustContain("object history · deployments/staging/checkout")
	// J moves the list and the pane follows it to that request.
	h.key("J")
	if l := h.m.side.doc[h.m.side.cursor]; !l.HasID || h.m.view.Rec(l.ID).AuditID != h.cursorRec().AuditID {
		t.Fatal("the pane did not follow the list cursor")
	}
	h.key("esc")
	if h.m.side.open {
		t.Fatal("Esc did not close the pane")
	}
	h.key("esc")
	if h.m.filterSrc == obj.Filter() {
		t.Fatal("the second Esc did not undo the object filter")
	}
}

func TestUserActivityAndRequestKeys(t *testing.T) {
	h := demoHarness(t, 160, 48, nil)
	h.key("f")
	h.typeText(`sourceIP == "203.0.113.45" && subresource == "exec" && namespace == "prod"`)
	h.key("enter")
	user := h.m.ctx.store.Str(h.cursorRec().User)
	h.key("a")
	if !strings.Contains(h.m.filterSrc, "auditID ==") || h.m.rows.Len() != 3 {
		t.Fatalf("a: filter %q rows %d (want the exec's 3 stages)", h.m.filterSrc, h.m.rows.Len())
	}
	text := history.PlainText(h.m.side.doc)
	for _, want := range []string{"RequestReceived", "ResponseStarted", "ResponseComplete", "exec", "total 4m11s"} {
		if !strings.Contains(text, want) {
			t.Fatalf("the request lacks %q:\n%s", want, text)
		}
	}
	h.key("esc")
	h.key("u")
	if h.m.filterSrc != history.UserFilter(user) || h.m.rows.Len() != len(count(t, h.m.ctx.store, history.UserFilter(user))) {
		t.Fatalf("u: filter %q rows %d", h.m.filterSrc, h.m.rows.Len())
	}
	text = history.PlainText(h.m.side.doc)
	if !strings.Contains(text, "by verb") || !strings.Contains(text, "203.0.113.45") {
		t.Fatalf("activity:\n%s", text)
	}
	h.mustContain("user activity")
}

func TestMarksNotesJumpAndRestart(t *testing.T) {
	var saved *report.Session
	onSession := func(s *report.Session) { saved = s }
	h := demoHarness(t, 160, 48, func(o *Options) { o.OnSession = onSession })
	h.key("j")
	h.key("j")
	h.key("m")
	first := h.m.cursorID
	for i := 0; i < 10; i++ {
		h.key("j")
	}
	h.key("M")
	h.typeText("the attacker's first step")
	h.key("enter")
	second := h.m.cursorID
	if saved == nil || len(saved.Marks) != 2 || saved.Marks[1].Note != "the attacker's first step" {
		t.Fatalf("session %+v", saved)
	}
	h.mustContain("● ")
	h.key("g")
	h.key("'")
	if h.m.cursorID != first {
		t.Fatal("' did not go to the first mark")
	}
	h.key("'")
	if h.m.cursorID != second {
		t.Fatal("' did not go to the second mark")
	}
	h.key("\"")
	if h.m.cursorID != first {
		t.Fatal(`" did not go back to the first mark`)
	}
	h.key("f")
	h.typeText(`verb == "update"`)
	h.key("enter")
	if saved.Filter != `verb == "update"` {
		t.Fatalf("the session filter is %q", saved.Filter)
	}
	// Restart on the same input with the saved session.
	sess := saved
	h2 := demoHarness(t, 160, 48, func(o *Options) { o.Session = sess; o.OnSession = onSession })
	if h2.m.filterSrc != `verb == "update"` {
		t.Fatalf("restored filter %q", h2.m.filterSrc)
	}
	if h2.m.noteOf(first) != "marked" || h2.m.noteOf(second) != "the attacker's first step" || len(h2.m.marks.pending) != 0 {
		t.Fatalf("restored marks %v pending %d", h2.m.marks.notes, len(h2.m.marks.pending))
	}
	h2.key("f") // back to every event
	h2.key("ctrl+u")
	h2.key("enter")
	h2.key("g")
	h2.key("'")
	h2.key("enter")
	if h2.m.cursorID != first {
		t.Fatal("' did not reach the restored first mark")
	}
	h2.mustContain("● marked")
	h2.key("esc")
	h2.key("'")
	h2.key("enter")
	h2.mustContain("● the attacker's first step")
	h2.key("esc")
	h2.key("m") // unmark
	if len(saved.Marks) != 1 {
		t.Fatalf("unmark: %d marks saved", len(saved.Marks))
	}
}

func TestSavedViews(t *testing.T) {
	var saved []View
	var deleted []string
	h := demoHarness(t, 160, 48, func(o *Options) {
		o.Views = []View{{Name: "deletes", Filter: `verb == "delete"`}}
		o.OnSaveView = func(v View) { saved = append(saved, v) }
		o.OnDeleteView = func(n string) { deleted = append(deleted, n) }
	})
	h.key("f")
	h.typeText(`code >= 500`)
	h.key("enter")
	h.key("]") // zoom: the window is part of the view
	h.key("v")
	h.mustContain("Saved views", "deletes")
	h.key("n")
	h.typeText("server errors")
	h.key("enter")
	if len(saved) != 1 || saved[0].Name != "server errors" || saved[0].Filter != "code >= 500" || len(saved[0].Columns) == 0 || saved[0].From == "" {
		t.Fatalf("saved %+v", saved)
	}
	h.key("v")
	h.key("enter") // recall "deletes"
	if h.m.filterSrc != `verb == "delete"` || h.m.rows.Len() != len(count(t, h.m.ctx.store, `verb == "delete"`)) || !h.m.tl.state.Fit() {
		t.Fatalf("recall: filter %q", h.m.filterSrc)
	}
	h.key("v")
	h.key("j")
	h.key("enter") // "server errors", with its window
	if h.m.filterSrc != "code >= 500" || h.m.tl.state.Fit() {
		t.Fatalf("recall 2: filter %q fit %v", h.m.filterSrc, h.m.tl.state.Fit())
	}
	h.key("v")
	h.key("k")
	h.key("d")
	h.key("esc")
	if len(deleted) != 1 || deleted[0] != "deletes" || len(h.m.views) != 1 {
		t.Fatalf("deleted %v views %v", deleted, h.m.views)
	}
}

func TestReportHook(t *testing.T) {
	h := demoHarness(t, 120, 40, nil)
	h.key("S")
	if !h.m.statusErr || !strings.Contains(h.m.status, "not available") {
		t.Fatalf("status %q", h.m.status)
	}
	var got ReportRequest
	h = demoHarness(t, 120, 40, func(o *Options) {
		o.Report = func(_ context.Context, r ReportRequest) (string, error) { got = r; return "wrote " + r.Path, nil }
	})
	h.key("f")
	h.typeText(`verb == "delete"`)
	h.key("enter")
	h.key("m")
	h.key("S")
	h.typeText("r.md")
	h.key("enter")
	if got.Path != "r.md" || len(got.IDs) != h.m.rows.Len() || got.Filter != `verb == "delete"` || len(got.Marks) != 1 || h.m.status != "wrote r.md" {
		t.Fatalf("report request %+v status %q", got, h.m.status)
	}
}

func TestInvestigateViewsAreSanitised(t *testing.T) {
	store := loadStore(t, []byte(hostile+hostile[:len(hostile)-1]+"\n"))
	h := newHarness(t, store, 160, 40, nil)
	h.key("l")
	h.key("p")
	h.key("tab")
	assertNoControl(t, "pivot", h.m.View().Content)
	h.key("esc")
	for _, k := range []string{"u", "a", "o"} {
		h.key(k)
		assertNoControl(t, "side pane "+k, h.m.View().Content)
		h.key("esc")
		h.key("esc")
	}
	h.key("M")
	h.typeText("note \x1b[2J")
	h.key("enter")
	h.key("enter")
	assertNoControl(t, "note", h.m.View().Content)
}

func TestGapsMarkedOnTheDemoTimeline(t *testing.T) {
	h := demoHarness(t, 160, 48, nil)
	g := h.m.tl.gaps
	if len(g.List) != 1 {
		t.Fatalf("%d gaps, want the demo's one audit gap: %+v", len(g.List), g.List)
	}
	h.mustContain("gap 10m1s from 14:11:58", "░░░")
}

func TestDetectionsPanelLiveCountsAndDrillDown(t *testing.T) {
	var eng *detect.Engine
	h := demoHarness(t, 160, 48, func(o *Options) {
		e, err := detect.Compile(o.Store, detect.Builtins(), filters.Options{Now: demoNow})
		if err != nil {
			t.Fatal(err)
		}
		eng, o.Detect = e, e
	})
	h.send(tickMsg(time.Now()))
	if !h.m.det.ready || h.m.det.fed != h.m.ctx.store.View().NumRecs() {
		t.Fatalf("the engine was not fed: %+v", h.m.det.fed)
	}
	h.mustContain("⚠ 1 alert (D)")
	h.key("D")
	h.mustContain("Detections", "Binding to cluster-admin", "CRITICAL")
	want := eng.Run(context.Background(), h.m.ctx.store.View(), nil).Fired()
	fired := h.m.det.fired()
	if len(fired) != len(want) {
		t.Fatalf("panel has %d rules, Run says %d", len(fired), len(want))
	}
	h.key("enter") // the most severe rule: its expression becomes a filter step
	rule := fired[0].Rule
	if !strings.Contains(h.m.filterSrc, rule.Expr) || h.m.overlay != overlayNone {
		t.Fatalf("filter %q after Enter on %s", h.m.filterSrc, rule.ID)
	}
	if h.m.rows.Len() != len(fired[0].Hits) {
		t.Fatalf("%d rows, the rule has %d hits", h.m.rows.Len(), len(fired[0].Hits))
	}
	h.mustContain("rules fired (D)") // the alert was seen: the badge calms down
}
