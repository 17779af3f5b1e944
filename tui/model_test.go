package tui

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"ktrail/audit"
	"ktrail/filters"
	"ktrail/report"
)

// count evaluates expr with the filters package directly: the oracle the
// TUI's results are compared with.
func count(t *testing.T, s *audit.Store, expr string) []uint32 {
	t.Helper()
	f, err := filters.Compile(s, []string{expr}, filters.Options{Now: demoNow})
	if err != nil {
		t.Fatal(err)
	}
	ids, err := f.Eval(context.Background(), s.View())
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

func TestOpenShowsFirstEventsAndCounts(t *testing.T) {
	h := demoHarness(t, 100, 30, nil)
	h.mustContain("6,241 events", "TIME", "USER", "VERB", "filter (none — press f to filter)")
	if h.m.cursor != 0 || !h.m.hasCursor {
		t.Fatalf("cursor %d %v, want the first event", h.m.cursor, h.m.hasCursor)
	}
	if got := h.m.rows.Len(); got != 6241 {
		t.Fatalf("rows %d", got)
	}
	for i, l := range strings.Split(h.screen(), "\n") {
		if w := ansi.StringWidth(l); w != 100 {
			t.Fatalf("line %d is %d cells wide, want 100: %q", i, w, l)
		}
	}
	if n := strings.Count(h.screen(), "\n") + 1; n != 30 {
		t.Fatalf("%d lines, want 30", n)
	}
}

func TestFilterApplyMatchesTheEngine(t *testing.T) {
	h := demoHarness(t, 120, 40, nil)
	want := count(t, h.m.ctx.store, `verb == "delete"`)
	h.key("f")
	h.typeText(`verb == "delete"`)
	if !strings.Contains(h.line(-1), "✓ valid") {
		t.Fatalf("hint line %q", h.line(-1))
	}
	h.key("enter")
	if h.m.rows.Len() != len(want) {
		t.Fatalf("%d rows, the engine says %d", h.m.rows.Len(), len(want))
	}
	for i := 0; i < h.m.rows.Len(); i++ {
		if h.m.rows.ID(i) != want[i] {
			t.Fatalf("row %d is event %d, want %d", i, h.m.rows.ID(i), want[i])
		}
	}
	h.mustContain(fmt.Sprintf("%d match", len(want)), `filter verb == "delete"`)
	for _, l := range h.rowLines() {
		if !strings.Contains(l, " delete ") {
			t.Fatalf("row without delete: %q", l)
		}
	}
}

// rowLines are the list's row lines on screen.
func (h *harness) rowLines() []string {
	lay := h.m.layout()
	lines := strings.Split(h.screen(), "\n")
	n := min(lay.listRows, h.m.rows.Len()-h.m.top)
	return lines[lay.listY : lay.listY+n]
}

func TestFilterErrorIsShownInlineAndNotApplied(t *testing.T) {
	h := demoHarness(t, 120, 40, nil)
	h.key("f")
	h.typeText(`usr == "x"`)
	hint := h.line(-1)
	if !strings.Contains(hint, "✗") || !strings.Contains(hint, "did you mean user") || !strings.Contains(hint, "1:1") {
		t.Fatalf("hint %q", hint)
	}
	h.key("enter")
	if !h.m.bar.editing || h.m.filterSrc != "" {
		t.Fatal("an invalid filter was applied")
	}
	h.key("esc")
	if h.m.bar.editing {
		t.Fatal("Esc did not close the editor")
	}
	h.mustContain("filter (none")
}

func TestCompletionOfFieldsAndValues(t *testing.T) {
	h := demoHarness(t, 120, 40, nil)
	h.key("f")
	h.typeText("reso")
	h.key("tab")
	if v := h.m.bar.input.Value(); v != "resource" {
		t.Fatalf("field completion gave %q", v)
	}
	h.typeText(` == "sec`)
	h.mustContain(`"secrets"`) // the candidate line
	h.key("tab")
	if v := h.m.bar.input.Value(); v != `resource == "secrets"` {
		t.Fatalf("value completion gave %q", v)
	}
	h.key("enter")
	if h.m.filterSrc != `resource == "secrets"` || h.m.rows.Len() != len(count(t, h.m.ctx.store, `resource == "secrets"`)) {
		t.Fatalf("filter %q rows %d", h.m.filterSrc, h.m.rows.Len())
	}
}

func TestHistoryUpDown(t *testing.T) {
	var saved []string
	h := demoHarness(t, 120, 40, func(o *Options) {
		o.History = []string{`code == 404`}
		o.OnHistory = func(s string) { saved = append(saved, s) }
	})
	for _, f := range []string{`verb == "get"`, `verb == "list"`} {
		h.key("f")
		h.key("ctrl+u")
		h.typeText(f)
		h.key("enter")
	}
	h.key("f")
	h.key("ctrl+u")
	h.typeText("draft")
	for _, want := range []string{`verb == "list"`, `verb == "get"`, `code == 404`, `code == 404`} {
		h.key("up")
		if v := h.m.bar.input.Value(); v != want {
			t.Fatalf("up: %q, want %q", v, want)
		}
	}
	for _, want := range []string{`verb == "get"`, `verb == "list"`, "draft"} {
		h.key("down")
		if v := h.m.bar.input.Value(); v != want {
			t.Fatalf("down: %q, want %q", v, want)
		}
	}
	if strings.Join(saved, "|") != `verb == "get"|verb == "list"` {
		t.Fatalf("OnHistory got %q", saved)
	}
}

func TestKeepDropAndUndo(t *testing.T) {
	h := demoHarness(t, 160, 48, nil)
	for i := 0; i < 30; i++ {
		h.key("j")
	}
	user := h.m.ctx.store.Str(h.cursorRec().User)
	h.key("l") // focus the user column
	h.key("+")
	want := fmt.Sprintf("user == %q", user)
	if h.m.filterSrc != want {
		t.Fatalf("filter %q, want %q", h.m.filterSrc, want)
	}
	if n := len(count(t, h.m.ctx.store, want)); n != h.m.rows.Len() {
		t.Fatalf("rows %d, want %d", h.m.rows.Len(), n)
	}
	verb := h.m.ctx.store.Str(h.cursorRec().Verb)
	h.key("l") // verb
	h.key("-")
	want2 := fmt.Sprintf("(%s) && verb != %q", want, verb)
	if h.m.filterSrc != want2 {
		t.Fatalf("filter %q, want %q", h.m.filterSrc, want2)
	}
	for i := 0; i < h.m.rows.Len(); i++ {
		r := h.m.rows.Rec(i)
		if h.m.ctx.store.Str(r.User) != user || h.m.ctx.store.Str(r.Verb) == verb {
			t.Fatalf("row %d does not satisfy %s", i, want2)
		}
	}
	h.key("esc")
	if h.m.filterSrc != want {
		t.Fatalf("Esc: filter %q, want %q", h.m.filterSrc, want)
	}
	h.key("esc")
	if h.m.filterSrc != "" || h.m.rows.Len() != 6241 {
		t.Fatalf("second Esc: filter %q rows %d", h.m.filterSrc, h.m.rows.Len())
	}
}

func TestScrollKeysKeepTheCursorVisible(t *testing.T) {
	h := demoHarness(t, 100, 30, nil)
	rows := h.m.layout().listRows
	h.key("j")
	h.key("down")
	if h.m.cursor != 2 {
		t.Fatalf("cursor %d", h.m.cursor)
	}
	h.key("pgdown")
	if h.m.cursor != 2+rows-1 {
		t.Fatalf("pgdown: cursor %d, rows %d", h.m.cursor, rows)
	}
	h.key("G")
	if h.m.cursor != 6240 || h.m.top != 6241-rows {
		t.Fatalf("G: cursor %d top %d", h.m.cursor, h.m.top)
	}
	h.key("k")
	h.key("g")
	if h.m.cursor != 0 || h.m.top != 0 {
		t.Fatalf("g: cursor %d top %d", h.m.cursor, h.m.top)
	}
	for i := 0; i < rows+5; i++ {
		h.key("j")
	}
	if h.m.cursor < h.m.top || h.m.cursor >= h.m.top+rows {
		t.Fatalf("cursor %d outside [%d,%d)", h.m.cursor, h.m.top, h.m.top+rows)
	}
}

func TestDetailPaneOpensFoldsAndCloses(t *testing.T) {
	h := demoHarness(t, 160, 48, nil)
	h.key("enter")
	if !h.m.detail.open || h.m.focus != focusDetail {
		t.Fatal("Enter did not open the detail pane")
	}
	h.mustContain(`"kind": "Event"`, `"auditID"`)
	lines := h.m.detail.doc.Lines()
	h.key("Z")
	if h.m.detail.doc.Lines() >= lines {
		t.Fatalf("Z did not fold: %d lines, was %d", h.m.detail.doc.Lines(), lines)
	}
	h.key("Z")
	if h.m.detail.doc.Lines() < lines {
		t.Fatalf("Z did not unfold: %d lines, was %d", h.m.detail.doc.Lines(), lines)
	}
	h.key("z") // layout: right → below
	h.key("z") // → full screen
	if h.m.layout().listY != -1 {
		t.Fatal("full-screen detail still shows the list")
	}
	h.key("esc")
	if h.m.detail.open || h.m.focus != focusList {
		t.Fatal("Esc did not close the detail pane")
	}
}

func TestSearchFindsAndWraps(t *testing.T) {
	h := demoHarness(t, 120, 40, nil)
	h.key("/")
	h.typeText("203.0.113.45")
	h.key("enter")
	ip := func() string { return h.m.ctx.store.Str(h.cursorRec().SourceIP) }
	if ip() != "203.0.113.45" {
		t.Fatalf("search landed on %s", ip())
	}
	first := h.m.cursor
	h.key("n")
	if ip() != "203.0.113.45" || h.m.cursor <= first {
		t.Fatalf("n: cursor %d ip %s", h.m.cursor, ip())
	}
	h.key("N")
	if h.m.cursor != first {
		t.Fatalf("N: cursor %d, want %d", h.m.cursor, first)
	}
	if !strings.Contains(h.m.View().Content, h.m.ctx.styles.Match.Render("203.0.113.45")) {
		t.Fatal("the match is not highlighted")
	}
}

func TestJumpToTime(t *testing.T) {
	h := demoHarness(t, 120, 40, nil)
	h.key("t")
	h.typeText("13:41")
	h.key("enter")
	at := time.Date(2026, 11, 24, 13, 41, 0, 0, time.UTC).UnixNano()
	if h.cursorRec().Time < at || h.m.rows.Rec(h.m.cursor-1).Time >= at {
		t.Fatalf("cursor at %v", time.Unix(0, h.cursorRec().Time).UTC())
	}
	h.key("t")
	h.typeText("yesterday")
	h.key("enter")
	if !h.m.statusErr || !strings.Contains(h.m.status, "15:04") {
		t.Fatalf("status %q", h.m.status)
	}
}

func TestSaveViewAtomicPrivateAndNoClobber(t *testing.T) {
	dir := t.TempDir()
	var store *audit.Store
	h := demoHarness(t, 120, 40, func(o *Options) {
		store = o.Store
		o.Save = func(ctx context.Context, path string, v *audit.View, ids []uint32, overwrite bool) (int, error) {
			return report.SaveEvents(ctx, path, store, v, ids, report.Options{Redact: true, UTC: true}, overwrite)
		}
	})
	h.key("f")
	h.typeText(`resource == "secrets"`)
	h.key("enter")
	path := filepath.Join(dir, "view.jsonl")
	h.key("s")
	h.typeText(path)
	h.key("enter")
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v", st.Mode())
	}
	b, _ := os.ReadFile(path)
	if n := strings.Count(string(b), "\n"); n != h.m.rows.Len() {
		t.Fatalf("%d lines saved, %d rows", n, h.m.rows.Len())
	}
	h.key("esc") // back to all events
	h.key("s")
	h.typeText(path)
	h.key("enter")
	h.mustContain("exists — overwrite? (y/N)")
	h.key("n")
	if b2, _ := os.ReadFile(path); string(b2) != string(b) {
		t.Fatal("the file was replaced without confirmation")
	}
	h.key("s")
	h.typeText(path)
	h.key("enter")
	h.key("y")
	b3, _ := os.ReadFile(path)
	if n := strings.Count(string(b3), "\n"); n != 6241 {
		t.Fatalf("overwrite wrote %d lines", n)
	}
	csv := filepath.Join(dir, "view.csv")
	h.key("s")
	h.typeText(csv)
	h.key("enter")
	if b, err := os.ReadFile(csv); err != nil || !strings.HasPrefix(string(b), "time,") {
		t.Fatalf("csv: %v %.40q", err, b)
	}
	matches, _ := filepath.Glob(filepath.Join(dir, ".ktrail-*"))
	if len(matches) != 0 {
		t.Fatalf("temporary files left: %v", matches)
	}
}

func TestThemeCycleAndNoColor(t *testing.T) {
	h := demoHarness(t, 100, 30, nil)
	h.key("T")
	if h.m.ctx.theme.Name != "light" {
		t.Fatalf("theme %q", h.m.ctx.theme.Name)
	}
	nc := demoHarness(t, 100, 30, func(o *Options) { o.NoColor = true })
	if c := nc.m.View().Content; strings.Contains(c, "38;") || strings.Contains(c, "48;") {
		t.Fatal("NO_COLOR output has colours")
	}
}

func TestMouseWheelAndClick(t *testing.T) {
	h := demoHarness(t, 120, 40, nil)
	h.send(tea.MouseWheelMsg{Button: tea.MouseWheelDown, X: 5, Y: 20})
	if h.m.cursor != 3 {
		t.Fatalf("wheel: cursor %d", h.m.cursor)
	}
	lay := h.m.layout()
	h.send(tea.MouseClickMsg{Button: tea.MouseLeft, X: 5, Y: lay.listY + 7})
	if h.m.cursor != h.m.top+7 {
		t.Fatalf("click: cursor %d top %d", h.m.cursor, h.m.top)
	}
}

func TestResizeKeepsExactFrame(t *testing.T) {
	h := demoHarness(t, 120, 40, nil)
	for _, sz := range [][2]int{{40, 10}, {20, 6}, {200, 60}, {80, 24}} {
		h.send(tea.WindowSizeMsg{Width: sz[0], Height: sz[1]})
		lines := strings.Split(h.screen(), "\n")
		if len(lines) != sz[1] {
			t.Fatalf("%v: %d lines", sz, len(lines))
		}
		for i, l := range lines {
			if w := ansi.StringWidth(l); w != sz[0] {
				t.Fatalf("%v: line %d is %d wide: %q", sz, i, w, l)
			}
		}
	}
}

func TestColumnPickerAddsAColumn(t *testing.T) {
	h := demoHarness(t, 200, 40, nil)
	h.key("c")
	for _, c := range allColumns() {
		if c.name == "userAgent" {
			break
		}
		h.key("j")
	}
	h.key("space")
	h.key("esc")
	h.mustContain("USER AGENT")
}

func TestHelpOverlayFitsTheScreen(t *testing.T) {
	for _, w := range []int{80, 100, 120, 160, 200} {
		h := demoHarness(t, w, 50, nil)
		h.key("?")
		s := h.screen()
		if !strings.Contains(s, "╮") || !strings.Contains(s, "╯") || !strings.Contains(s, "edit filter") {
			t.Fatalf("width %d: the help box is cut:\n%s", w, s)
		}
		h.key("x")
		if h.m.overlay != overlayNone {
			t.Fatal("a key did not close the help")
		}
	}
}

func TestMultiDayTimesShowTheDateAndURIsFillTheResource(t *testing.T) {
	ev := func(id, ts, uri, res string) string {
		obj := ""
		if res != "" {
			obj = `,"objectRef":{"resource":"` + res + `","namespace":"ns"}`
		}
		return `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"` + id + `","stage":"ResponseComplete","requestURI":"` + uri + `","verb":"get","user":{"username":"u"}` + obj + `,"responseStatus":{"metadata":{},"code":200},"requestReceivedTimestamp":"` + ts + `","stageTimestamp":"` + ts + `"}` + "\n"
	}
	data := ev("a", "2026-11-23T23:59:00Z", "/version", "") + ev("b", "2026-11-24T00:01:00Z", "/api/v1/namespaces/ns/pods", "pods")
	h := newHarness(t, loadStore(t, []byte(data)), 120, 30, nil)
	h.mustContain("11-23 23:59:00", "11-24 00:01:00", "/version")
	h.key("l")
	h.key("l")
	h.key("l") // resource column
	h.key("+")
	if h.m.filterSrc != `uri == "/version"` || h.m.rows.Len() != 1 {
		t.Fatalf("filter %q rows %d", h.m.filterSrc, h.m.rows.Len())
	}
}
