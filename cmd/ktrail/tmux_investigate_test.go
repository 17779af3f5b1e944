package main

// An end-to-end investigation on the demo data, as a new user would run
// it: pivot on the source IP, drill down to the attacker's address, mark
// the cluster-admin binding with a note, write a Markdown report, look at
// the detections panel, quit, and find the mark again on the next start.
// It reuses the tmux harness of tmux_e2e_test.go.

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

const (
	invWidth, invHeight = 160, 48
	invIP               = "203.0.113.45"
	invNote             = "cluster-admin backdoor <b>"
)

// invTitles are the titles of the default columns, left to right.
var invTitles = []string{"TIME", "USER", "VERB", "RESOURCE", "NAMESPACE/NAME", "CODE", "LATENCY", "SOURCE IP"}

func TestTmuxInvestigationFlow(t *testing.T) {
	bin, _ := e2eSetup(t)
	demo := invReadDemo(t, bin)
	if demo.byIP[invIP] == 0 || demo.backdoor.AuditID == "" {
		t.Fatalf("the demo data has no event from %s or no create of clusterrolebindings/backdoor-admin", invIP)
	}

	tm := startTmux(t, "exec sleep 3600")
	tm.run("resize-window", "-t", tm.target, "-x", strconv.Itoa(invWidth), "-y", strconv.Itoa(invHeight))
	if got, want := tm.format("#{pane_width}x#{pane_height}"), fmt.Sprintf("%dx%d", invWidth, invHeight); got != want {
		t.Fatalf("the pane is %s after resize-window, want %s", got, want)
	}
	tm.run("respawn-pane", "-k", "-t", tm.target, e2eWrap(bin, "demo"))

	// 1. The demo is indexed.
	total := e2eCommas(demo.total) + " events"
	tm.waitFor("the header to count "+total+" and the column header", func(s string) bool {
		head, _ := e2eList(s)
		return strings.Contains(e2eLine(s, 0), total) && head != ""
	})

	// 2. Focus the SOURCE IP column with l, as the column header shows it.
	focused, _ := invFocused(tm)
	for presses := 0; focused != "SOURCE IP"; presses++ {
		if presses == len(invTitles) {
			_, scr := invFocused(tm)
			t.Fatalf("after %d presses of l the focused column is %q, want SOURCE IP\n%s", presses, focused, e2eFrame(scr))
		}
		before := focused
		tm.keys("l")
		focused = invWaitStyled(tm, "the column focus to move right from "+before, func(st invScreen) (string, bool) {
			f := st.focusedTitle()
			return f, f != before && f != ""
		})
	}

	// Pivot by sourceIP: one row per address with its count.
	tm.keys("p")
	wantTitle := fmt.Sprintf("pivot by sourceIP · %d groups · %s", len(demo.byIP), total)
	scr := tm.waitFor("the pivot by sourceIP", func(s string) bool {
		_, rows := invPivot(s)
		return strings.Contains(s, wantTitle) && !strings.Contains(s, "counting…") && len(rows) > 0
	})
	head, rows := invPivot(scr)
	for _, h := range []string{"SOURCEIP", "COUNT", "FIRST", "LAST", "ACTIVITY"} {
		if !strings.Contains(head, h) {
			t.Errorf("the pivot's header %q has no %s column\n%s", head, h, e2eFrame(scr))
		}
	}
	target := -1
	for i, r := range rows {
		f := strings.Fields(r)
		if len(f) < 2 {
			t.Fatalf("pivot row %d is %q, want the value then its count\n%s", i, r, e2eFrame(scr))
		}
		if n := demo.byIP[f[0]]; e2eCommas(n) != f[1] {
			t.Errorf("pivot row %s: COUNT = %s, want %s (counted in the demo's JSON)\n%s", f[0], f[1], e2eCommas(n), e2eFrame(scr))
		}
		if i > 0 && invAtoi(f[1]) > invAtoi(strings.Fields(rows[i-1])[1]) {
			t.Errorf("the pivot is not sorted by count, largest first: row %d (%s) after %s\n%s", i, r, rows[i-1], e2eFrame(scr))
		}
		if f[0] == invIP {
			target = i
		}
	}
	if target < 0 {
		t.Fatalf("the pivot has no row for %s on the screen\n%s", invIP, e2eFrame(scr))
	}
	if !strings.ContainsAny(rows[target], "▁▂▃▄▅▆▇█") {
		t.Errorf("the pivot row of %s has no sparkline: %q\n%s", invIP, rows[target], e2eFrame(scr))
	}
	sel := invWaitStyled(tm, "one highlighted pivot row", func(st invScreen) (int, bool) {
		i := st.selectedPivotRow()
		return i, i >= 0
	})
	if sel != 0 {
		t.Errorf("the pivot opened with row %d highlighted, want the first one", sel)
	}
	for range target - sel {
		tm.keys("j")
	}
	invWaitStyled(tm, fmt.Sprintf("the highlight on pivot row %d (%s)", target, invIP), func(st invScreen) (int, bool) {
		i := st.selectedPivotRow()
		return i, i == target
	})

	// Drill down: the filter gets the address, the header its count.
	tm.keys("Enter")
	wantFilter := `filter sourceIP == "` + invIP + `"`
	wantMatch := e2eCommas(demo.byIP[invIP]) + " match"
	scr = tm.waitFor("the drilled-down filter and "+wantMatch, func(s string) bool {
		head, _ := e2eList(s)
		return e2eLine(s, -2) == wantFilter && strings.Contains(e2eLine(s, 0), " "+wantMatch+" ") && head != ""
	})
	if h := e2eLine(scr, 0); !strings.Contains(h, total) {
		t.Errorf("after the drill-down the header = %q, want it to still count %s\n%s", h, total, e2eFrame(scr))
	}
	lhead, lrows := e2eList(scr)
	if want := min(demo.byIP[invIP], e2eListHeight(scr)); len(lrows) != want {
		t.Errorf("%d rows listed after the drill-down, want %d\n%s", len(lrows), want, e2eFrame(scr))
	}
	for i, r := range lrows {
		if ip := e2eCell(lhead, r, "SOURCE IP"); ip != invIP {
			t.Errorf("row %d after the drill-down: SOURCE IP = %q, want %s\n%s", i, ip, invIP, e2eFrame(scr))
			break
		}
	}

	// 3. Find the backdoor binding, mark it, add a note.
	tm.keys("/")
	tm.waitFor("the search prompt", func(s string) bool { return strings.HasPrefix(e2eLine(s, -2), "search>") })
	tm.typeText("backdoor")
	tm.waitFor("the typed search", func(s string) bool { return strings.HasPrefix(e2eLine(s, -2), "search> backdoor") })
	tm.keys("Enter")
	tm.waitFor("the search to close", func(s string) bool { return !strings.HasPrefix(e2eLine(s, -2), "search>") })
	cur := invWaitStyled(tm, "the cursor on a backdoor-admin row", func(st invScreen) (string, bool) {
		r := st.selectedListRow()
		return r, strings.Contains(r, "backdoor-admin")
	})
	// The first match is the RequestReceived stage (no code yet); the
	// ResponseComplete one (201) is the next.
	if c := e2eCell(lhead, cur, "CODE"); c != "201" {
		tm.keys("n")
		cur = invWaitStyled(tm, "the cursor on the backdoor-admin row with code 201", func(st invScreen) (string, bool) {
			r := st.selectedListRow()
			return r, strings.Contains(r, "backdoor-admin") && e2eCell(lhead, r, "CODE") == "201"
		})
	}
	if v, res := e2eCell(lhead, cur, "VERB"), e2eCell(lhead, cur, "RESOURCE"); v != "create" || res != "clusterrolebindings" {
		t.Errorf("the cursor row = %q: VERB %q RESOURCE %q, want create clusterrolebindings", cur, v, res)
	}

	tm.keys("m")
	scr = tm.waitFor("the ● gutter on the marked row", func(s string) bool {
		_, rows := e2eList(s)
		return len(invMarked(rows)) > 0
	})
	invCheckMarked(t, scr, "after m")
	if l := e2eLine(scr, -1); !strings.HasPrefix(l, "marked") {
		t.Errorf("after m the status line = %q, want it to say the event is marked\n%s", l, e2eFrame(scr))
	}

	tm.keys("M")
	tm.waitFor("the note prompt", func(s string) bool { return strings.HasPrefix(e2eLine(s, -2), "note>") })
	tm.typeText(invNote)
	tm.waitFor("the typed note", func(s string) bool { return e2eLine(s, -2) == "note> "+invNote })
	tm.keys("Enter")
	scr = tm.waitFor("the note prompt to close", func(s string) bool { return e2eLine(s, -2) != "note> "+invNote })
	if l := e2eLine(scr, -2); !strings.HasPrefix(l, wantFilter) {
		t.Errorf("after the note the filter line = %q, want it to start with %q\n%s", l, wantFilter, e2eFrame(scr))
	}
	invCheckMarked(t, scr, "after the note")

	// 4. Write a Markdown report.
	repPath := filepath.Join(t.TempDir(), "incident.md")
	tm.keys("S")
	tm.waitFor("the report prompt", func(s string) bool { return strings.HasPrefix(e2eLine(s, -2), "report to>") })
	tm.typeText(repPath)
	tm.keys("Enter")
	wrote := "wrote " + repPath + " and " + repPath + ".sha256"
	if len([]rune(wrote)) > invWidth {
		wrote = "wrote " + repPath // the message is cut at the screen's edge
	}
	scr = tm.waitFor("the status line to say the report was written", func(s string) bool {
		l := e2eLine(s, -1)
		return strings.HasPrefix(l, "wrote ") || strings.HasPrefix(l, "report:")
	})
	if l := e2eLine(scr, -1); !strings.HasPrefix(l, wrote) {
		t.Fatalf("status line after S = %q, want %q\n%s", l, wrote, e2eFrame(scr))
	}
	invCheckReport(t, repPath, demo)

	// 5. The detections panel names the cluster-admin binding; Esc closes it.
	tm.keys("D")
	scr = tm.waitFor("the detections panel with its rules", func(s string) bool {
		return strings.Contains(s, "Detections  ↑/↓ choose") && !strings.Contains(s, "running the rules…") &&
			strings.Contains(s, "Binding to cluster-admin")
	})
	if l := invLineWith(scr, "Binding to cluster-admin"); !strings.Contains(l, "CRITICAL") || !strings.Contains(l, "1 hit") {
		t.Errorf("detections panel line %q, want CRITICAL Binding to cluster-admin — 1 hit\n%s", l, e2eFrame(scr))
	}
	tm.keys("Escape")
	scr = tm.waitFor("the detections panel to close", func(s string) bool { return !strings.Contains(s, "Detections  ↑/↓ choose") })
	if l := e2eLine(scr, -2); !strings.HasPrefix(l, wantFilter) {
		t.Errorf("Esc on the detections panel changed the filter line to %q\n%s", l, e2eFrame(scr))
	}
	invCheckMarked(t, scr, "after closing the detections panel")

	// 6. Quit; the session keeps the filter, the mark and its note.
	tm.keys("q")
	tm.checkQuit()
	invCheckSession(t, filepath.Join(tm.home, "state", "ktrail", "sessions"), demo)

	// Start again on the demo: the mark and the filter are restored.
	tm.run("respawn-pane", "-k", "-t", tm.target, e2eWrap(bin, "demo"))
	scr = tm.waitFor("the restored session: "+total+", the filter and the ● mark", func(s string) bool {
		_, rows := e2eList(s)
		return strings.Contains(e2eLine(s, 0), total) && len(invMarked(rows)) > 0
	})
	if l := e2eLine(scr, -2); l != wantFilter {
		t.Errorf("after a restart the filter line = %q, want the session's %q\n%s", l, wantFilter, e2eFrame(scr))
	}
	if h := e2eLine(scr, 0); !strings.Contains(h, " "+wantMatch+" ") {
		t.Errorf("after a restart the header = %q, want %s\n%s", h, wantMatch, e2eFrame(scr))
	}
	invCheckMarked(t, scr, "after a restart")
	// ' jumps to the mark; its detail pane's title shows the note as typed.
	tm.keys("'")
	invWaitStyled(tm, "the cursor on the marked row", func(st invScreen) (string, bool) {
		r := st.selectedListRow()
		return r, strings.HasPrefix(r, "●")
	})
	tm.keys("Enter")
	scr = tm.waitFor("the detail pane of the marked event", func(s string) bool { return strings.Contains(s, `"kind": "Event"`) })
	if !strings.Contains(scr, "● "+invNote) {
		t.Errorf("the detail pane of the marked event does not show its note %q\n%s", "● "+invNote, e2eFrame(scr))
	}
	tm.keys("Escape")
	tm.waitFor("the detail pane to close", func(s string) bool { return !strings.Contains(s, `"kind": "Event"`) })
	tm.keys("q")
	tm.checkQuit()
}

// ---------------------------------------------------------------------------
// The demo, read independently of the view

// invDemoData is what the test counts in the demo's JSON lines.
type invDemoData struct {
	total    int
	byIP     map[string]int // first of sourceIPs → events
	backdoor struct {       // the ResponseComplete of create clusterrolebindings/backdoor-admin
		AuditID, Stage string
	}
}

// invReadDemo decodes `ktrail query --demo -o jsonl` with encoding/json.
func invReadDemo(t *testing.T, bin string) invDemoData {
	t.Helper()
	cmd := exec.Command(bin, "query", "--demo", "-o", "jsonl")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("ktrail query --demo -o jsonl: %v\n%s", err, stderr.Bytes())
	}
	d := invDemoData{byIP: map[string]int{}}
	for i, l := range bytes.Split(out, []byte("\n")) {
		if len(bytes.TrimSpace(l)) == 0 {
			continue
		}
		var e struct {
			AuditID   string   `json:"auditID"`
			Stage     string   `json:"stage"`
			Verb      string   `json:"verb"`
			SourceIPs []string `json:"sourceIPs"`
			ObjectRef *struct {
				Resource string `json:"resource"`
				Name     string `json:"name"`
			} `json:"objectRef"`
		}
		if err := json.Unmarshal(l, &e); err != nil {
			t.Fatalf("demo line %d: %v", i+1, err)
		}
		d.total++
		ip := ""
		if len(e.SourceIPs) > 0 {
			ip = e.SourceIPs[0]
		}
		d.byIP[ip]++
		if o := e.ObjectRef; o != nil && e.Verb == "create" && o.Resource == "clusterrolebindings" &&
			o.Name == "backdoor-admin" && e.Stage == "ResponseComplete" {
			d.backdoor.AuditID, d.backdoor.Stage = e.AuditID, e.Stage
		}
	}
	return d
}

// ---------------------------------------------------------------------------
// Checks of the files

// invCheckReport checks the Markdown report and its digest file.
func invCheckReport(t *testing.T, path string, demo invDemoData) {
	t.Helper()
	for _, p := range []string{path, path + ".sha256"} {
		if fi, err := os.Stat(p); err != nil {
			t.Errorf("report: %v", err)
		} else if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", p, fi.Mode().Perm())
		}
	}
	body, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("report: %v", err)
	}
	md := string(body)
	if sum, err := os.ReadFile(path + ".sha256"); err == nil {
		h := sha256.Sum256(body)
		if want := hex.EncodeToString(h[:]) + "  " + filepath.Base(path) + "\n"; string(sum) != want {
			t.Errorf("%s.sha256 = %q, want %q (sha256sum's line for the report)", path, sum, want)
		}
	}
	show := func() string { return invExcerpt(md, 1500) }
	if !strings.HasPrefix(md, "# ktrail investigation\n") {
		t.Errorf("the report does not start with its title:\n%s", show())
	}
	for _, want := range []string{
		`| Filter | sourceIP == "` + invIP + `" |`,
		fmt.Sprintf("| Events matching | %d |", demo.byIP[invIP]),
		"| Marked events | 1 |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("the report's summary has no line %q:\n%s", want, show())
		}
	}
	// The note is Markdown-escaped text: <b> must not reach a renderer
	// as raw HTML.
	escaped := `cluster-admin backdoor \<b\>`
	if strings.Contains(md, "<b>") {
		t.Errorf("the report holds the note's <b> raw (it would be HTML in a Markdown viewer), line %q",
			invLineWith(md, "<b>"))
	}
	marked := invSection(md, "## Marked events")
	if !strings.Contains(marked, "Note: "+escaped) {
		t.Errorf("the Marked events section has no line %q:\n%s", "Note: "+escaped, invExcerpt(marked, 1500))
	}
	row := invLineWith(marked, "| M1 |")
	for _, want := range []string{"backdoor-admin", "clusterrolebindings", "create", "201", escaped + " |"} {
		if !strings.Contains(row, want) {
			t.Errorf("the marked event's row %q does not hold %q:\n%s", row, want, invExcerpt(marked, 1500))
		}
	}
	if !strings.Contains(marked, `"auditID": "`+demo.backdoor.AuditID+`"`) {
		t.Errorf("the Marked events section does not show the event %s's JSON:\n%s", demo.backdoor.AuditID, invExcerpt(marked, 1500))
	}
	det := invSection(md, "## Detections")
	if !strings.Contains(det, "### \\[critical\\] Binding to cluster-admin (cluster-admin-binding)") {
		t.Errorf("the Detections section does not name the cluster-admin binding rule:\n%s", invExcerpt(det, 1500))
	}
	if ev := invSection(md, "## Events"); !strings.Contains(invLineWith(ev, "| ★ M1 |"), "backdoor-admin") {
		t.Errorf("the Events table does not star the marked event:\n%s", invExcerpt(ev, 1500))
	}
}

// invCheckSession checks the session file saved under dir.
func invCheckSession(t *testing.T, dir string, demo invDemoData) {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	if len(files) != 1 {
		all, err := os.ReadDir(dir)
		t.Fatalf("session files in %s: %v, want one (directory: %v, %v)", dir, files, all, err)
	}
	fi, err := os.Stat(files[0])
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("session file %s has mode %v, want 0600", files[0], fi.Mode().Perm())
	}
	b, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	var s struct {
		Filter string `json:"filter"`
		Marks  []struct {
			AuditID string `json:"auditID"`
			Stage   string `json:"stage"`
			Note    string `json:"note"`
		} `json:"marks"`
	}
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatalf("session file %s: %v\n%s", files[0], err, b)
	}
	if want := `sourceIP == "` + invIP + `"`; s.Filter != want {
		t.Errorf("session filter = %q, want %q\n%s", s.Filter, want, b)
	}
	if len(s.Marks) != 1 {
		t.Fatalf("session has %d marks, want 1\n%s", len(s.Marks), b)
	}
	m := s.Marks[0]
	if m.AuditID != demo.backdoor.AuditID || m.Stage != demo.backdoor.Stage || m.Note != invNote {
		t.Errorf("session mark = %+v, want auditID %s, stage %s, note %q\n%s", m, demo.backdoor.AuditID, demo.backdoor.Stage, invNote, b)
	}
}

// ---------------------------------------------------------------------------
// Reading the screen (what tmux_e2e_test.go's helpers do not cover)

// invMarked returns the rows with the ● gutter.
func invMarked(rows []string) []string {
	var out []string
	for _, r := range rows {
		if strings.HasPrefix(r, "● ") {
			out = append(out, r)
		}
	}
	return out
}

// invCheckMarked checks that exactly the backdoor binding's response row
// carries the ● gutter.
func invCheckMarked(t *testing.T, scr, when string) {
	t.Helper()
	head, rows := e2eList(scr)
	m := invMarked(rows)
	if len(m) != 1 {
		t.Errorf("%s: %d rows with the ● gutter, want 1\n%s", when, len(m), e2eFrame(scr))
		return
	}
	if res, name, code := e2eCell(head, m[0], "RESOURCE"), e2eCell(head, m[0], "NAMESPACE/NAME"), e2eCell(head, m[0], "CODE"); res != "clusterrolebindings" || name != "backdoor-admin" || code != "201" {
		t.Errorf("%s: the ● row is %q (RESOURCE %q, NAME %q, CODE %q), want the clusterrolebindings backdoor-admin 201 row\n%s",
			when, m[0], res, name, code, e2eFrame(scr))
	}
}

// invPivot returns the pivot's column header and its non-blank rows.
func invPivot(screen string) (head string, rows []string) {
	lines := strings.Split(screen, "\n")
	start := -1
	for i, l := range lines {
		if strings.HasPrefix(l, "SOURCEIP") && strings.Contains(l, "COUNT") {
			head, start = l, i
			break
		}
	}
	if start < 0 {
		return "", nil
	}
	for _, l := range lines[start+1:] {
		if strings.HasPrefix(l, "filter") {
			break
		}
		if strings.TrimSpace(l) != "" {
			rows = append(rows, l)
		}
	}
	return head, rows
}

// invLineWith returns the first line of s holding sub, or "".
func invLineWith(s, sub string) string {
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			return l
		}
	}
	return ""
}

// invSection returns the Markdown from the heading line to the next
// heading of the same level (or the end).
func invSection(md, heading string) string {
	i := strings.Index(md, "\n"+heading+"\n")
	if i < 0 {
		return ""
	}
	rest := md[i+1:]
	level := heading[:strings.IndexByte(heading, ' ')+1]
	if j := strings.Index(rest[len(heading):], "\n"+level); j >= 0 {
		return rest[:len(heading)+j+1]
	}
	return rest
}

// invExcerpt cuts s for a failure message.
func invExcerpt(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "\n[… " + strconv.Itoa(len(s)-n) + " more bytes]"
}

func invAtoi(s string) int {
	n, _ := strconv.Atoi(strings.ReplaceAll(s, ",", ""))
	return n
}

// ---------------------------------------------------------------------------
// Reading the screen's colours: the focused column's title and the
// highlighted row differ from the others only by their style.

// invCell is one character of the screen with its colours.
type invCell struct {
	r      rune
	fg, bg string // SGR colour parameters, "" for the default
	attrs  uint16 // bold, dim, italic, underline, blink, reverse… (bit n = SGR n)
}

func (c invCell) style() string { return fmt.Sprintf("%s/%s/%b", c.fg, c.bg, c.attrs) }

// highlighted says the cell is drawn on a background or reversed.
func (c invCell) highlighted() bool { return c.bg != "" || c.attrs&(1<<7) != 0 }

// invScreen is a capture-pane -e screen, one slice of cells per line.
type invScreen [][]invCell

// invParse reads capture-pane -e output: text and SGR sequences (tmux
// carries the attributes over from one line to the next).
func invParse(esc string) invScreen {
	var scr invScreen
	var line []invCell
	var cur invCell
	rs := []rune(esc)
	for i := 0; i < len(rs); i++ {
		switch r := rs[i]; {
		case r == '\n':
			scr = append(scr, line)
			line = nil
		case r == 0x1b && i+1 < len(rs) && rs[i+1] == '[':
			j := i + 2
			for j < len(rs) && (rs[j] < 0x40 || rs[j] > 0x7e) {
				j++
			}
			if j < len(rs) && rs[j] == 'm' {
				invSGR(&cur, string(rs[i+2:j]))
			}
			i = j
		case r == 0x1b && i+1 < len(rs) && rs[i+1] == ']':
			j := i + 2
			for j < len(rs) && rs[j] != 0x07 && !(rs[j] == 0x1b && j+1 < len(rs) && rs[j+1] == '\\') {
				j++
			}
			if j < len(rs) && rs[j] == 0x1b {
				j++
			}
			i = j
		case r == 0x1b:
			i++
		default:
			c := cur
			c.r = r
			line = append(line, c)
		}
	}
	if len(line) > 0 {
		scr = append(scr, line)
	}
	return scr
}

// invSGR applies one SGR sequence's parameters to c.
func invSGR(c *invCell, params string) {
	ps := strings.FieldsFunc(strings.ReplaceAll(params, ":", ";"), func(r rune) bool { return r == ';' })
	if len(ps) == 0 {
		ps = []string{"0"}
	}
	for i := 0; i < len(ps); i++ {
		n, _ := strconv.Atoi(ps[i])
		switch {
		case n == 0:
			c.fg, c.bg, c.attrs = "", "", 0
		case n >= 1 && n <= 9:
			c.attrs |= 1 << n
		case n == 22:
			c.attrs &^= 1<<1 | 1<<2
		case n >= 23 && n <= 29:
			c.attrs &^= 1 << (n - 20)
		case n >= 30 && n <= 37, n >= 90 && n <= 97:
			c.fg = ps[i]
		case n == 39:
			c.fg = ""
		case n >= 40 && n <= 47, n >= 100 && n <= 107:
			c.bg = ps[i]
		case n == 49:
			c.bg = ""
		case n == 38 || n == 48:
			k := 0
			if i+1 < len(ps) && ps[i+1] == "5" {
				k = 2
			} else if i+1 < len(ps) && ps[i+1] == "2" {
				k = 4
			}
			k = min(k, len(ps)-1-i)
			v := strings.Join(ps[i+1:i+1+k], ";")
			if n == 38 {
				c.fg = v
			} else {
				c.bg = v
			}
			i += k
		}
	}
}

func (s invScreen) text(i int) string {
	if i < 0 || i >= len(s) {
		return ""
	}
	rs := make([]rune, len(s[i]))
	for j, c := range s[i] {
		rs[j] = c.r
	}
	return strings.TrimRight(string(rs), " ")
}

func (s invScreen) plain() string {
	lines := make([]string, len(s))
	for i := range s {
		lines[i] = s.text(i)
	}
	return strings.Join(lines, "\n")
}

// focusedTitle returns the list's column title drawn in a style no
// other title has (the focused column), or "".
func (s invScreen) focusedTitle() string {
	for i := range s {
		l := s.text(i)
		if t := strings.TrimLeft(l, " "); !strings.HasPrefix(t, "TIME ") || !strings.Contains(t, " VERB ") {
			continue
		}
		styles := map[string][]string{}
		for _, title := range invTitles {
			b := strings.Index(l, title)
			if b < 0 {
				return ""
			}
			at := len([]rune(l[:b]))
			if at >= len(s[i]) {
				return ""
			}
			st := s[i][at].style()
			styles[st] = append(styles[st], title)
		}
		if len(styles) != 2 {
			return ""
		}
		for _, titles := range styles {
			if len(titles) == 1 {
				return titles[0]
			}
		}
		return ""
	}
	return ""
}

// selectedPivotRow returns the index among the pivot's rows of the one
// highlighted, or -1 unless exactly one is.
func (s invScreen) selectedPivotRow() int {
	sel, n, found := -1, 0, 0
	start := -1
	for i := range s {
		l := s.text(i)
		if start < 0 {
			if strings.HasPrefix(l, "SOURCEIP") && strings.Contains(l, "COUNT") {
				start = i
			}
			continue
		}
		if strings.HasPrefix(l, "filter") {
			break
		}
		if strings.TrimSpace(l) == "" {
			continue
		}
		if s[i][0].highlighted() {
			sel, found = n, found+1
		}
		n++
	}
	if found != 1 {
		return -1
	}
	return sel
}

// selectedListRow returns the list row whose time cell is highlighted
// (the cursor's), with its gutter, or "" unless exactly one is.
func (s invScreen) selectedListRow() string {
	head, _ := e2eList(s.plain())
	if head == "" {
		return ""
	}
	col := len([]rune(head[:strings.Index(head, "TIME")]))
	found, row := 0, ""
	in := false
	for i := range s {
		l := s.text(i)
		if !in {
			in = l == head
			continue
		}
		if strings.HasPrefix(l, "filter") || strings.HasPrefix(l, "─ event") {
			break
		}
		if col < len(s[i]) && s[i][col].r != ' ' && s[i][col].highlighted() {
			found++
			row = l
		}
	}
	if found != 1 {
		return ""
	}
	return row
}

// invFocused returns the focused column's title and the plain screen.
func invFocused(tm *tmuxSession) (string, string) {
	s := invParse(tm.capture("-e"))
	return s.focusedTitle(), s.plain()
}

// invWaitStyled is tmuxSession.waitFor on the screen's colours: it polls
// capture-pane -e until ok holds and returns what ok returned; on a
// timeout it fails with the plain screen.
func invWaitStyled[T any](tm *tmuxSession, what string, ok func(invScreen) (T, bool)) T {
	tm.t.Helper()
	deadline := time.Now().Add(e2eTimeout)
	for {
		s := invParse(tm.capture("-e"))
		if v, done := ok(s); done {
			return v
		}
		if time.Now().After(deadline) {
			tm.t.Fatalf("timed out after %v waiting for %s; the screen:\n%s", e2eTimeout, what, e2eFrame(s.plain()))
		}
		time.Sleep(e2ePoll)
	}
}
