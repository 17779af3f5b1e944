package main

// End-to-end tests of the interactive view: the real binary runs inside a
// private tmux server, keys are typed with send-keys and the screen is read
// back with capture-pane, as a user would see it. They are skipped with
// -short and when tmux is not installed.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const (
	e2eWidth, e2eHeight = 120, 40
	e2eEvents           = 20000
	e2eSeed             = 42
	e2eStart            = "2026-11-24T12:00:00Z"
	e2eTimeout          = 10 * time.Second
	e2ePoll             = 50 * time.Millisecond
)

// e2eShared is built once for all the tmux tests: the binary and a
// generated log, in a directory TestMain removes.
var e2eShared struct {
	once sync.Once
	dir  string
	bin  string
	log  string
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if e2eShared.dir != "" {
		os.RemoveAll(e2eShared.dir)
	}
	os.Exit(code)
}

// e2eSetup skips the test when it cannot run, else returns the binary and
// the generated log (building them on first use).
func e2eSetup(t *testing.T) (bin, log string) {
	t.Helper()
	if testing.Short() {
		t.Skip("skipping the tmux end-to-end test in -short mode")
	}
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("skipping the tmux end-to-end test: tmux is not on PATH (install tmux to run it)")
	}
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("skipping the tmux end-to-end test: go is not on PATH, so the binary cannot be built")
	}
	s := &e2eShared
	s.once.Do(func() {
		s.dir, s.err = os.MkdirTemp("", "ktrail-e2e-")
		if s.err != nil {
			return
		}
		s.bin = filepath.Join(s.dir, "ktrail")
		build := exec.Command("go", "build", "-o", s.bin, "./")
		if out, err := build.CombinedOutput(); err != nil {
			s.err = fmt.Errorf("go build -o %s ./: %v\n%s", s.bin, err, out)
			return
		}
		s.log = filepath.Join(s.dir, "audit.log")
		gen := exec.Command(s.bin, "gen", "--events", strconv.Itoa(e2eEvents), "--seed", strconv.Itoa(e2eSeed),
			"--start", e2eStart, "--out", s.log)
		if out, err := gen.CombinedOutput(); err != nil {
			s.err = fmt.Errorf("ktrail gen: %v\n%s", err, out)
		}
	})
	if s.err != nil {
		t.Fatal(s.err)
	}
	return s.bin, s.log
}

// ---------------------------------------------------------------------------
// The tests

// TestTmuxE2E opens a generated log as a new user would: waits for it to
// load, filters, makes a typo in a filter, opens an event, reads the help
// and quits.
func TestTmuxE2E(t *testing.T) {
	bin, log := e2eSetup(t)
	events := e2eReadEvents(t, log)
	deletes := 0
	for _, e := range events {
		if e.Verb == "delete" {
			deletes++
		}
	}
	if deletes == 0 {
		t.Fatalf("the generated log has no delete events; pick another seed")
	}

	tm := startTmux(t, e2eWrap(bin, log))

	// 1. The whole log is indexed: the header counts every line.
	total := e2eCommas(len(events))
	sawNew := ""
	tm.waitFor("the header to count every event", func(s string) bool {
		if h := e2eLine(s, 0); sawNew == "" && strings.Contains(h, " new ") {
			sawNew = h
		}
		return strings.Contains(e2eLine(s, 0), total+" events")
	})
	scr := tm.waitFor("the column header and the empty filter line", func(s string) bool {
		head, _ := e2eList(s)
		return head != "" && strings.Contains(s, "filter (none — press f to filter)")
	})
	if h := e2eLine(scr, 0); !strings.HasPrefix(h, "ktrail · ") || !strings.Contains(h, filepath.Base(log)) {
		t.Errorf("header line = %q, want it to start with %q and name the log\n%s", h, "ktrail · ", e2eFrame(scr))
	}
	// The "N new" badge is for events that arrive on a live input while the
	// view is paused; loading a plain file is not news (an earlier build
	// counted every event loaded after the first tick as new).
	if h := e2eLine(scr, 0); strings.Contains(h, " new ") {
		t.Errorf("after loading a plain file (not followed, not live) the header shows a \"N new\" badge: %q\n%s", h, e2eFrame(scr))
	} else if sawNew != "" {
		t.Errorf("while loading a plain file (not followed, not live) the header showed a \"N new\" badge: %q", sawNew)
	}

	// 2. Type a filter.
	tm.keys("f")
	tm.waitFor("the filter editor", func(s string) bool { return strings.Contains(e2eLine(s, -2), "filter>") })
	tm.typeText(`verb == "delete"`)
	tm.waitFor("the typed filter, checked as valid", func(s string) bool {
		return strings.Contains(e2eLine(s, -2), `filter> verb == "delete"`) && strings.HasPrefix(e2eLine(s, -1), "✓ valid")
	})
	tm.keys("Enter")
	want := e2eCommas(deletes) + " match"
	scr = tm.waitFor("the header to show "+want, func(s string) bool {
		return strings.Contains(e2eLine(s, 0), want) && e2eLine(s, -2) == `filter verb == "delete"`
	})
	head, rows := e2eList(scr)
	if len(rows) == 0 {
		t.Fatalf("no event rows under the column header after filtering\n%s", e2eFrame(scr))
	}
	listRows := e2eListHeight(scr)
	if want := min(deletes, listRows); len(rows) != want {
		t.Errorf("%d rows shown, want %d (the list has room for %d)\n%s", len(rows), want, listRows, e2eFrame(scr))
	}
	for i, r := range rows {
		if v := e2eCell(head, r, "VERB"); v != "delete" {
			t.Errorf("row %d: VERB = %q, want delete: %q\n%s", i+1, v, r, e2eFrame(scr))
			break
		}
	}

	// 3. A typo in the filter: the error is explained, Esc keeps the
	// filter in force.
	tm.keys("f")
	tm.waitFor("the filter editor on the current filter", func(s string) bool {
		return strings.Contains(e2eLine(s, -2), `filter> verb == "delete"`)
	})
	tm.keys("C-u")
	tm.waitFor("the cleared filter editor", func(s string) bool {
		return strings.TrimSpace(e2eLine(s, -2)) == "filter>"
	})
	tm.typeText(`usr == "x"`)
	scr = tm.waitFor("the error of the unknown field", func(s string) bool {
		return strings.Contains(e2eLine(s, -2), `filter> usr == "x"`) && strings.HasPrefix(e2eLine(s, -1), "✗")
	})
	if l := e2eLine(scr, -1); !strings.Contains(l, "did you mean user") {
		t.Errorf("error line = %q, want it to suggest %q\n%s", l, "did you mean user", e2eFrame(scr))
	}
	tm.keys("Enter") // refused: the filter is broken
	tm.keys("Escape")
	scr = tm.waitFor("the editor to close on Esc", func(s string) bool {
		return !strings.Contains(s, "filter>")
	})
	if l := e2eLine(scr, -2); l != `filter verb == "delete"` {
		t.Errorf("after Esc the filter line = %q, want the previous filter %q\n%s", l, `filter verb == "delete"`, e2eFrame(scr))
	}
	if !strings.Contains(e2eLine(scr, 0), want) {
		t.Errorf("after Esc the header = %q, want it to still show %q\n%s", e2eLine(scr, 0), want, e2eFrame(scr))
	}
	if l := e2eLine(scr, -1); strings.HasPrefix(l, "✗") {
		t.Errorf("after Esc the bottom line still shows the error: %q\n%s", l, e2eFrame(scr))
	}

	// 4. Enter opens the event under the cursor, Esc closes it.
	tm.keys("Enter")
	scr = tm.waitFor("the detail pane", func(s string) bool {
		return strings.Contains(s, `"kind": "Event"`)
	})
	if !strings.Contains(scr, `"verb": "delete"`) {
		t.Errorf("the detail pane does not show %q\n%s", `"verb": "delete"`, e2eFrame(scr))
	}
	tm.keys("Escape")
	scr = tm.waitFor("the detail pane to close", func(s string) bool {
		return !strings.Contains(s, `"kind": "Event"`)
	})
	if _, rows := e2eList(scr); len(rows) != min(deletes, listRows) {
		t.Errorf("after closing the detail pane the list shows %d rows, want %d\n%s", len(rows), min(deletes, listRows), e2eFrame(scr))
	}
	if l := e2eLine(scr, -2); l != `filter verb == "delete"` {
		t.Errorf("Esc closing the detail pane also changed the filter line to %q\n%s", l, e2eFrame(scr))
	}

	// 5. The help overlay, closed by any key.
	tm.keys("?")
	scr = tm.waitFor("the help overlay", func(s string) bool { return strings.Contains(s, "follow / pause") })
	for _, d := range []string{"edit filter", "follow / pause", "open event / fold", "search text", "quit"} {
		if !strings.Contains(scr, d) {
			t.Errorf("the help overlay does not describe %q\n%s", d, e2eFrame(scr))
		}
	}
	e2eCheckBox(t, scr)
	tm.keys("x")
	scr = tm.waitFor("the help overlay to close", func(s string) bool { return !strings.Contains(s, "follow / pause") })
	if l := e2eLine(scr, -2); l != `filter verb == "delete"` {
		t.Errorf("closing the help changed the filter line to %q\n%s", l, e2eFrame(scr))
	}

	// The applied filter went to the history under the test's
	// XDG_STATE_HOME, not the user's.
	if b, err := os.ReadFile(filepath.Join(tm.home, "state", "ktrail", "history")); err != nil {
		t.Errorf("filter history: %v", err)
	} else if !strings.Contains(string(b), `verb == "delete"`) || strings.Contains(string(b), "usr") {
		t.Errorf("filter history = %q, want the applied filter only", b)
	}

	// 6. q quits and gives the terminal back.
	tm.keys("q")
	tm.checkQuit()
}

// TestTmuxE2EPipe reads events from a pipe: a finished one, then a live
// one (tail -f of a file the test appends to) with follow and pause.
func TestTmuxE2EPipe(t *testing.T) {
	bin, log := e2eSetup(t)
	events := e2eReadEvents(t, log)

	t.Run("finished", func(t *testing.T) {
		failures := 0
		for _, e := range events {
			if e.Code >= 400 {
				failures++
			}
		}
		tm := startTmux(t, fmt.Sprintf("cat %s | %s", e2eQuote(log), e2eWrap(bin)))
		total := e2eCommas(len(events)) + " events"
		scr := tm.waitFor("the header to count every event", func(s string) bool {
			h := e2eLine(s, 0)
			return strings.Contains(h, total) && !strings.Contains(h, "LIVE")
		})
		if h := e2eLine(scr, 0); !strings.HasPrefix(h, "ktrail · stdin · ") || !strings.Contains(h, "FOLLOW") {
			t.Errorf("header = %q, want the source named stdin and FOLLOW on (stdin starts in follow mode)\n%s", h, e2eFrame(scr))
		}
		tm.keys("f")
		tm.waitFor("the filter editor", func(s string) bool { return strings.Contains(e2eLine(s, -2), "filter>") })
		tm.typeText("code >= 400")
		tm.waitFor("the typed filter, checked as valid", func(s string) bool {
			return strings.Contains(e2eLine(s, -2), "filter> code >= 400") && strings.HasPrefix(e2eLine(s, -1), "✓ valid")
		})
		tm.keys("Enter")
		want := e2eCommas(failures) + " match"
		scr = tm.waitFor("the header to show "+want, func(s string) bool {
			return strings.Contains(e2eLine(s, 0), want) && e2eLine(s, -2) == "filter code >= 400"
		})
		head, rows := e2eList(scr)
		if len(rows) == 0 {
			t.Fatalf("no rows after filtering\n%s", e2eFrame(scr))
		}
		for i, r := range rows {
			if c, err := strconv.Atoi(e2eCell(head, r, "CODE")); err != nil || c < 400 {
				t.Errorf("row %d: CODE = %q, want >= 400: %q\n%s", i+1, e2eCell(head, r, "CODE"), r, e2eFrame(scr))
				break
			}
		}
		// Following: the cursor (and the last row) is the newest match.
		var newest time.Time
		for _, e := range events {
			if e.Code >= 400 && e.Time.After(newest) {
				newest = e.Time
			}
		}
		if got, want := e2eCell(head, rows[len(rows)-1], "TIME"), newest.UTC().Format("15:04:05.000"); got != want {
			t.Errorf("following: the last row's TIME = %q, want the newest match's %q\n%s", got, want, e2eFrame(scr))
		}
		tm.keys("q")
		tm.checkQuit()
	})

	t.Run("live", func(t *testing.T) {
		const first, second, third = 1000, 500, 300
		if len(events) < first+second+third {
			t.Fatalf("the generated log has only %d events", len(events))
		}
		lines := e2eReadLines(t, log)
		live := filepath.Join(t.TempDir(), "live.log")
		e2eAppend(t, live, lines[:first])
		tm := startTmux(t, fmt.Sprintf("tail -n +1 -f %s | %s", e2eQuote(live), e2eWrap(bin)))

		// newestTime is what the TIME column shows for the newest of the
		// first n events.
		newestTime := func(n int) string {
			var newest time.Time
			for _, e := range events[:n] {
				if e.Time.After(newest) {
					newest = e.Time
				}
			}
			return newest.UTC().Format("15:04:05.000")
		}
		lastRowTime := func(s string) string {
			head, rows := e2eList(s)
			if len(rows) == 0 {
				return ""
			}
			return e2eCell(head, rows[len(rows)-1], "TIME")
		}
		waitTotal := func(n int) string {
			total := e2eCommas(n) + " events"
			return tm.waitFor("the header to count "+total+" and show LIVE", func(s string) bool {
				h := e2eLine(s, 0)
				return strings.Contains(h, total) && hasBadge(h, "LIVE")
			})
		}

		scr := waitTotal(first)
		if h := e2eLine(scr, 0); !hasBadge(h, "FOLLOW") {
			t.Errorf("header = %q, want FOLLOW (stdin starts in follow mode)\n%s", h, e2eFrame(scr))
		}
		scr = tm.waitFor("the last row to be the newest event", func(s string) bool { return lastRowTime(s) == newestTime(first) })

		e2eAppend(t, live, lines[first:first+second])
		waitTotal(first + second)
		scr = tm.waitFor("the list to follow to the newest event", func(s string) bool {
			return lastRowTime(s) == newestTime(first+second)
		})
		if h := e2eLine(scr, 0); !hasBadge(h, "FOLLOW") || strings.Contains(h, " new ") {
			t.Errorf("following: header = %q, want FOLLOW and no \"new\" badge\n%s", h, e2eFrame(scr))
		}

		tm.keys("F")
		scr = tm.waitFor("PAUSED", func(s string) bool { return hasBadge(e2eLine(s, 0), "PAUSED") })
		if h := e2eLine(scr, 0); hasBadge(h, "FOLLOW") {
			t.Errorf("after F the header = %q, want PAUSED instead of FOLLOW\n%s", h, e2eFrame(scr))
		}
		e2eAppend(t, live, lines[first+second:first+second+third])
		badge := fmt.Sprintf(" %s new ", e2eCommas(third))
		scr = tm.waitFor("the header to count the appended events and show"+strconv.Quote(badge), func(s string) bool {
			h := e2eLine(s, 0)
			return strings.Contains(h, e2eCommas(first+second+third)+" events") && strings.Contains(h, badge)
		})
		if h := e2eLine(scr, 0); !hasBadge(h, "PAUSED") {
			t.Errorf("header = %q, want it to stay PAUSED\n%s", h, e2eFrame(scr))
		}

		tm.keys("F")
		tm.waitFor("FOLLOW again, the badge gone and the newest event last", func(s string) bool {
			h := e2eLine(s, 0)
			return hasBadge(h, "FOLLOW") && !strings.Contains(h, " new ") &&
				lastRowTime(s) == newestTime(first+second+third)
		})
		// A tail that does not notice its reader is gone (not GNU's) ends
		// on its next write.
		tm.poke = func() { e2eAppend(t, live, lines[:1]) }
		tm.keys("q")
		tm.checkQuit()
	})
}

// hostileLog are events whose strings carry terminal control sequences:
// OSC 52 (clipboard), OSC 0/2 (title), tmux's window-name sequence, CSI
// (clear screen, colours, cursor moves, leaving the alternate screen),
// BEL, DCS passthrough, APC, OSC 8, and (in the fourth) raw C1 controls
// and a bidi override, which JSON allows unescaped. {C1CSI}, {C1OSC},
// {C1ST} and {RLO} are replaced by the raw runes.
const hostileLog = `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"e2e00000-0000-4000-8000-000000000001","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/default/pods/clip\u001b]52;c;SU5KRUNURUQtQ0xJUA==\u0007","verb":"get","user":{"username":"mallory","groups":["system:authenticated"]},"sourceIPs":["10.66.0.1"],"userAgent":"agent\u001b]52;c;SU5KRUNURUQtQ0xJUA==\u0007","objectRef":{"resource":"pods","namespace":"default","name":"clip\u001b]52;c;SU5KRUNURUQtQ0xJUA==\u0007","apiVersion":"v1"},"responseStatus":{"metadata":{},"code":403,"message":"denied \u001b]52;c;SU5KRUNURUQtQ0xJUA==\u001b\\"},"requestReceivedTimestamp":"2026-11-24T12:00:01.000000Z","stageTimestamp":"2026-11-24T12:00:01.002000Z"}
{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"e2e00000-0000-4000-8000-000000000002","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/default/pods/title\u001b]0;PWNED-TITLE\u0007","verb":"get","user":{"username":"mallory","groups":["system:authenticated"]},"sourceIPs":["10.66.0.1"],"userAgent":"agent\u001b]2;PWNED-TITLE\u001b\\","objectRef":{"resource":"pods","namespace":"default","name":"title\u001bkPWNED-WIN\u001b\\","apiVersion":"v1"},"responseStatus":{"metadata":{},"code":404,"message":"\u001b]2;PWNED-TITLE\u0007\u001bkPWNED-WIN\u001b\\"},"requestReceivedTimestamp":"2026-11-24T12:00:02.000000Z","stageTimestamp":"2026-11-24T12:00:02.002000Z"}
{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"e2e00000-0000-4000-8000-000000000003","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/default/pods/csi\u001b[2J\u001b[H","verb":"get","user":{"username":"mallory","groups":["system:authenticated"]},"sourceIPs":["10.66.0.1"],"userAgent":"agent\u001b[?1049l\u001b[?25l","objectRef":{"resource":"pods","namespace":"default","name":"csi\u001b[31mRED","apiVersion":"v1"},"responseStatus":{"metadata":{},"code":500,"message":"gone\u001b[1A\u001b[2K\u001b[5;5HFAKE"},"requestReceivedTimestamp":"2026-11-24T12:00:03.000000Z","stageTimestamp":"2026-11-24T12:00:03.002000Z"}
{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"e2e00000-0000-4000-8000-000000000004","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/default/pods/bel\u0007\u0007","verb":"get","user":{"username":"mallory","groups":["system:authenticated"]},"sourceIPs":["10.66.0.1"],"userAgent":"agent{C1CSI}31m{C1OSC}2;PWNED-TITLE{C1ST}","objectRef":{"resource":"pods","namespace":"default","name":"bel\u0007{RLO}gpj.exe","apiVersion":"v1"},"responseStatus":{"metadata":{},"code":403,"message":"ring\u0007\u0007 \u001bPtmux;\u001b\u001b]52;c;SU5KRUNURUQtQ0xJUA==\u0007\u001b\\"},"requestReceivedTimestamp":"2026-11-24T12:00:04.000000Z","stageTimestamp":"2026-11-24T12:00:04.002000Z"}
{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"e2e00000-0000-4000-8000-000000000005","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/default/pods/link\u001b]8;;http://evil.example/\u001b\\click\u001b]8;;\u001b\\","verb":"get","user":{"username":"mallory","groups":["system:authenticated"]},"sourceIPs":["10.66.0.1"],"userAgent":"agent\r\nFAKE-LINE\u007f","objectRef":{"resource":"pods","namespace":"default","name":"nl\nFAKE\r","apiVersion":"v1"},"responseStatus":{"metadata":{},"code":403,"message":"\u001b_apc\u001b\\\u001b^pm\u001b\\\u001bXsos\u001b\\"},"requestReceivedTimestamp":"2026-11-24T12:00:05.000000Z","stageTimestamp":"2026-11-24T12:00:05.002000Z"}
`

// TestTmuxHostile shows events that carry terminal control sequences and
// checks that they are shown escaped and reach neither tmux's clipboard,
// nor the title, nor the screen.
func TestTmuxHostile(t *testing.T) {
	bin, _ := e2eSetup(t)
	text := strings.NewReplacer("{C1CSI}", "\u009b", "{C1OSC}", "\u009d", "{C1ST}", "\u009c", "{RLO}", "\u202e").Replace(hostileLog)
	path := filepath.Join(t.TempDir(), "hostile.log")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	for i, l := range strings.Split(strings.TrimSpace(text), "\n") {
		if !json.Valid([]byte(l)) {
			t.Fatalf("hostile event %d is not valid JSON", i+1)
		}
	}

	tm := startTmux(t, e2eWrap(bin, path))
	scr := tm.waitFor("the 5 events", func(s string) bool {
		_, rows := e2eList(s)
		return strings.Contains(e2eLine(s, 0), "5 events") && len(rows) == 5
	})
	if strings.Contains(e2eLine(scr, 0), "skipped") {
		t.Errorf("some hostile events were skipped: %q\n%s", e2eLine(scr, 0), e2eFrame(scr))
	}
	head, rows := e2eList(scr)
	// The list escapes what it shows (the NAMESPACE/NAME column is cut to
	// its width, so only its start is compared).
	wantNames := []string{`default/clip\x1b]52;c;`, `default/title\x1bkPWNED-`, `default/csi\x1b[31mRED`, `default/bel\x07\u202egpj`, `default/nl\nFAKE\r`}
	for i, r := range rows {
		if c := e2eCell(head, r, "NAMESPACE/NAME"); !strings.HasPrefix(c, wantNames[i]) {
			t.Errorf("row %d: NAMESPACE/NAME = %q, want it to start with %q\n%s", i+1, c, wantNames[i], e2eFrame(scr))
		}
	}
	e2eCheckScreen(t, tm, scr)

	// Open the first event in the full-screen detail pane and walk through
	// all five with J: every hostile string is shown JSON-escaped.
	wantDetail := [][]string{
		{`"requestURI": "/api/v1/namespaces/default/pods/clip\u001b]52;c;SU5KRUNURUQtQ0xJUA==\u0007"`,
			`"userAgent": "agent\u001b]52;c;SU5KRUNURUQtQ0xJUA==\u0007"`,
			`"name": "clip\u001b]52;c;SU5KRUNURUQtQ0xJUA==\u0007"`,
			`"message": "denied \u001b]52;c;SU5KRUNURUQtQ0xJUA==\u001b\\"`},
		{`"requestURI": "/api/v1/namespaces/default/pods/title\u001b]0;PWNED-TITLE\u0007"`,
			`"userAgent": "agent\u001b]2;PWNED-TITLE\u001b\\"`,
			`"name": "title\u001bkPWNED-WIN\u001b\\"`,
			`"message": "\u001b]2;PWNED-TITLE\u0007\u001bkPWNED-WIN\u001b\\"`},
		{`"requestURI": "/api/v1/namespaces/default/pods/csi\u001b[2J\u001b[H"`,
			`"userAgent": "agent\u001b[?1049l\u001b[?25l"`,
			`"name": "csi\u001b[31mRED"`,
			`"message": "gone\u001b[1A\u001b[2K\u001b[5;5HFAKE"`},
		{`"requestURI": "/api/v1/namespaces/default/pods/bel\u0007\u0007"`,
			`"userAgent": "agent\u009b31m\u009d2;PWNED-TITLE\u009c"`,
			`"name": "bel\u0007\u202egpj.exe"`,
			`"message": "ring\u0007\u0007 \u001bPtmux;\u001b\u001b]52;c;SU5KRUNURUQtQ0xJUA==\u0007\u001b\\"`},
		{`"requestURI": "/api/v1/namespaces/default/pods/link\u001b]8;;http://evil.example/\u001b\\click\u001b]8;;\u001b\\"`,
			`"userAgent": "agent\r\nFAKE-LINE\u007f"`,
			`"name": "nl\nFAKE\r"`,
			`"message": "\u001b_apc\u001b\\\u001b^pm\u001b\\\u001bXsos\u001b\\"`},
	}
	tm.keys("Enter")
	tm.waitFor("the detail pane", func(s string) bool { return strings.Contains(s, `"kind": "Event"`) })
	tm.keys("z")
	tm.waitFor("the full-screen detail pane", func(s string) bool {
		head, _ := e2eList(s)
		return head == "" && strings.Contains(s, `"kind": "Event"`)
	})
	for i, want := range wantDetail {
		if i > 0 {
			tm.keys("J")
		}
		id := fmt.Sprintf(`"auditID": "e2e00000-0000-4000-8000-00000000000%d"`, i+1)
		scr := tm.waitFor("the detail of event "+strconv.Itoa(i+1), func(s string) bool {
			return strings.Contains(s, id) && strings.Contains(s, `"stageTimestamp"`)
		})
		for _, w := range want {
			if !strings.Contains(scr, w) {
				t.Errorf("event %d: the detail pane does not show %s\n%s", i+1, w, e2eFrame(scr))
			}
		}
		// What tmux holds, attributes included, has the escaped text too.
		if esc := tm.capture("-e"); !strings.Contains(esc, `\u001b`) && !strings.Contains(esc, `\u0007`) {
			t.Errorf("event %d: capture-pane -e does not show the escaped control characters:\n%q", i+1, esc)
		}
		e2eCheckScreen(t, tm, scr)
	}
	e2eCheckTmuxState(t, tm)

	tm.keys("Escape")
	tm.waitFor("the detail pane to close", func(s string) bool { return !strings.Contains(s, `"kind": "Event"`) })
	tm.keys("q")
	tm.checkQuit()
	e2eCheckTmuxState(t, tm)

	// Control: the same tmux does record a clipboard write, a title, a
	// window name and a bell from a program that sends them, so the checks
	// above can fail.
	tm.run("new-window", "-d", "-n", "control", `printf '\033]52;c;Q09OVFJPTA==\a\033]2;CONTROL-TITLE\a\033kCONTROL-WIN\033\\\a'; exec sleep 60`)
	tm.waitForCond("the control window to set the clipboard, title, name and bell", func() (bool, string) {
		buf, _ := tm.try("show-buffer")
		st, _ := tm.try("list-windows", "-F", "#{window_name} title=#{pane_title} bell=#{window_bell_flag}")
		return strings.Contains(buf, "CONTROL") && strings.Contains(st, "CONTROL-WIN title=CONTROL-TITLE bell=1"),
			"show-buffer: " + buf + "\nlist-windows:\n" + st
	})
}

// e2eCheckScreen checks that the injected sequences did not act on the
// pane: it is still in the alternate screen, laid out as usual.
func e2eCheckScreen(t *testing.T, tm *tmuxSession, scr string) {
	t.Helper()
	if alt := tm.format("#{alternate_on}"); alt != "1" {
		t.Errorf("the pane left the alternate screen while ktrail runs (alternate_on=%s)\n%s", alt, e2eFrame(scr))
	}
	if !strings.HasPrefix(e2eLine(scr, 0), "ktrail · ") || !strings.HasPrefix(e2eLine(scr, -2), "filter") {
		t.Errorf("the screen is not laid out as expected (header first, filter line last but one)\n%s", e2eFrame(scr))
	}
	for _, l := range strings.Split(scr, "\n") {
		if strings.Contains(l, "FAKE") && !strings.Contains(l, `FAKE\r`) && !strings.Contains(l, `\nFAKE`) &&
			!strings.Contains(l, `HFAKE`) {
			t.Errorf("injected text reached the screen unescaped: %q\n%s", l, e2eFrame(scr))
		}
	}
}

// e2eCheckTmuxState checks that no injected sequence reached tmux: no paste
// buffer, title, window name or bell.
func e2eCheckTmuxState(t *testing.T, tm *tmuxSession) {
	t.Helper()
	if buf, err := tm.try("show-buffer"); err == nil && buf != "" {
		t.Errorf("tmux got a paste buffer (an OSC 52 clipboard write reached it): %q", buf)
	}
	if title := tm.format("#{pane_title}"); strings.Contains(title, "PWNED") {
		t.Errorf("the pane title was changed by an event: %q", title)
	}
	if name := tm.format("#{window_name}"); name != "app" {
		t.Errorf("the window name was changed by an event: %q, want app", name)
	}
	if bell := tm.format("#{window_bell_flag}"); bell != "0" {
		t.Errorf("a BEL from an event reached the terminal (window_bell_flag=%s)", bell)
	}
}

// e2eCheckBox checks that the help overlay's box fits the screen: both
// right-hand corners are visible (an earlier build drew four columns from
// 120 columns on, about 130 wide, cut at the screen's edge).
func e2eCheckBox(t *testing.T, scr string) {
	t.Helper()
	for _, c := range [][2]string{{"╭", "╮"}, {"╰", "╯"}} {
		found := false
		for _, l := range strings.Split(scr, "\n") {
			if strings.Contains(l, c[0]) {
				found = true
				if !strings.Contains(l, c[1]) {
					t.Errorf("the help overlay is wider than the %d-column screen: its corner %s is cut off: %q\n%s",
						e2eWidth, c[1], l, e2eFrame(scr))
				}
			}
		}
		if !found {
			t.Errorf("the help overlay has no %s corner\n%s", c[0], e2eFrame(scr))
		}
	}
}

// ---------------------------------------------------------------------------
// tmux

// tmuxSession is a private tmux server (its own socket, no config file)
// with one session: window "idle" (current) and window "app" running the
// command under test, in the background so that a bell there is flagged.
type tmuxSession struct {
	t      *testing.T
	sock   string
	env    []string
	home   string // HOME; XDG_CONFIG_HOME and XDG_STATE_HOME are under it
	target string
	// poke, if set, is called while waiting for the pane to die (see
	// checkQuit).
	poke func()
}

var tmuxSeq atomic.Int64

// startTmux starts the server and runs shellCmd in a 120×40 pane. The
// pane stays after its program exits (remain-on-exit), tmux records
// clipboard writes (set-clipboard on) and window renames (allow-rename
// on). The server is killed when the test ends.
func startTmux(t *testing.T, shellCmd string) *tmuxSession {
	t.Helper()
	home := t.TempDir()
	tm := &tmuxSession{
		t:      t,
		sock:   fmt.Sprintf("ktrail-e2e-%d-%d", os.Getpid(), tmuxSeq.Add(1)),
		home:   home,
		target: "e2e:app",
	}
	for _, kv := range os.Environ() {
		switch strings.SplitN(kv, "=", 2)[0] {
		case "NO_COLOR", "TMUX", "TMUX_PANE", "TERM", "HOME", "XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME":
			continue
		}
		tm.env = append(tm.env, kv)
	}
	tm.env = append(tm.env, "TERM=xterm-256color", "HOME="+home,
		"XDG_CONFIG_HOME="+filepath.Join(home, "config"), "XDG_STATE_HOME="+filepath.Join(home, "state"))
	t.Cleanup(func() {
		if t.Failed() {
			if s, err := tm.try("capture-pane", "-p", "-t", tm.target); err == nil {
				t.Logf("the pane when the test ended:\n%s", e2eFrame(strings.TrimSuffix(s, "\n")))
			}
		}
		sockPath, _ := tm.try("display-message", "-p", "#{socket_path}")
		tm.try("kill-server")
		// tmux leaves its socket file behind.
		if p := strings.TrimSpace(sockPath); strings.HasSuffix(p, "/"+tm.sock) {
			os.Remove(p)
		}
	})
	tm.run("start-server", ";",
		"set-option", "-s", "set-clipboard", "on", ";",
		"set-option", "-g", "default-terminal", "xterm-256color", ";",
		"set-option", "-g", "remain-on-exit", "on", ";",
		"set-option", "-g", "allow-rename", "on", ";",
		"new-session", "-d", "-x", strconv.Itoa(e2eWidth), "-y", strconv.Itoa(e2eHeight), "-s", "e2e", "-n", "idle", "exec sleep 3600", ";",
		"new-window", "-d", "-n", "app", shellCmd)
	return tm
}

// try runs a tmux command against the private server.
func (tm *tmuxSession) try(args ...string) (string, error) {
	cmd := exec.Command("tmux", append([]string{"-L", tm.sock, "-f", "/dev/null"}, args...)...)
	cmd.Env = tm.env
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if err != nil {
		err = fmt.Errorf("tmux %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(errb.String()))
	}
	return out.String(), err
}

// run is try that fails the test on error.
func (tm *tmuxSession) run(args ...string) string {
	tm.t.Helper()
	out, err := tm.try(args...)
	if err != nil {
		tm.t.Fatal(err)
	}
	return out
}

// keys sends tmux key names (Enter, Escape, C-u, or single characters).
func (tm *tmuxSession) keys(keys ...string) {
	tm.t.Helper()
	tm.run(append([]string{"send-keys", "-t", tm.target}, keys...)...)
}

// typeText types text literally, character by character as a user would.
func (tm *tmuxSession) typeText(text string) {
	tm.t.Helper()
	tm.run("send-keys", "-t", tm.target, "-l", text)
}

// capture returns the pane's text, one line per row, trailing blanks cut.
func (tm *tmuxSession) capture(flags ...string) string {
	tm.t.Helper()
	out := tm.run(append([]string{"capture-pane", "-p", "-t", tm.target}, flags...)...)
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	return strings.Join(lines, "\n")
}

// format expands a tmux format for the app pane.
func (tm *tmuxSession) format(f string) string {
	tm.t.Helper()
	return strings.TrimSpace(tm.run("display-message", "-p", "-t", tm.target, f))
}

// waitFor polls the screen every 50 ms until ok holds, and fails the test
// with the last screen after 10 s.
func (tm *tmuxSession) waitFor(what string, ok func(screen string) bool) string {
	tm.t.Helper()
	deadline := time.Now().Add(e2eTimeout)
	for {
		s := tm.capture()
		if ok(s) {
			return s
		}
		if time.Now().After(deadline) {
			tm.t.Fatalf("timed out after %v waiting for %s; the screen:\n%s", e2eTimeout, what, e2eFrame(s))
		}
		time.Sleep(e2ePoll)
	}
}

// waitForCond is waitFor for a condition on something else than the
// screen; cond returns whether it holds and what to print if it never does.
func (tm *tmuxSession) waitForCond(what string, cond func() (bool, string)) {
	tm.t.Helper()
	deadline := time.Now().Add(e2eTimeout)
	for {
		ok, state := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			tm.t.Fatalf("timed out after %v waiting for %s; last state:\n%s", e2eTimeout, what, state)
		}
		time.Sleep(e2ePoll)
	}
}

// checkQuit waits for the program under test to exit after q and checks
// that the terminal is as before: the main screen with what was printed
// before ktrail started, the cursor shown, the mouse and keypad modes off.
// Then it ends the wrapper (see e2eWrap) and checks the exit status.
func (tm *tmuxSession) checkQuit() {
	tm.t.Helper()
	scr := tm.waitFor("ktrail to exit", func(s string) bool { return strings.Contains(s, "ktrail exited with status") })
	if !strings.Contains(scr, "ktrail exited with status 0") {
		tm.t.Errorf("ktrail did not exit with status 0\n%s", e2eFrame(scr))
	}
	if !strings.HasPrefix(scr, "e2e: starting ktrail") {
		tm.t.Errorf("the main screen was not restored: the line printed before ktrail started is gone\n%s", e2eFrame(scr))
	}
	if strings.Contains(scr, "ktrail · ") || strings.Contains(scr, "filter") {
		tm.t.Errorf("the TUI is still on the screen after quitting\n%s", e2eFrame(scr))
	}
	modes := tm.format("alt=#{alternate_on} cursor=#{cursor_flag} mouse=#{mouse_any_flag}#{mouse_standard_flag}#{mouse_button_flag}#{mouse_all_flag}#{mouse_sgr_flag} keypad=#{keypad_cursor_flag}#{keypad_flag}")
	if want := "alt=0 cursor=1 mouse=00000 keypad=00"; modes != want {
		tm.t.Errorf("terminal modes after quitting: %s, want %s\n%s", modes, want, e2eFrame(scr))
	}
	tm.keys("Enter") // ends the wrapper's read
	tm.waitForCond("the pane's process to exit", func() (bool, string) {
		if tm.poke != nil {
			tm.poke()
		}
		dead := tm.format("#{pane_dead}")
		return dead == "1", "pane_dead = " + dead
	})
	// tmux 3.3 does not always record the status of a dead pane (the
	// wrapper printed ktrail's own above); when it does, it must be 0.
	if st := tm.format("#{pane_dead_status}"); st != "" && st != "0" {
		tm.t.Errorf("the pane's exit status = %s, want 0", st)
	}
}

// e2eWrap is the shell command that runs ktrail with args in the pane: a
// line before it, the exit status after it (the pane is then kept until
// Enter, so that the restored screen can be checked), then the status.
func e2eWrap(bin string, args ...string) string {
	q := []string{e2eQuote(bin)}
	for _, a := range args {
		q = append(q, e2eQuote(a))
	}
	// In a pipeline only the last command's status counts; the wrapper
	// runs in a subshell so that "cat … |" can precede it.
	return fmt.Sprintf(`(echo "e2e: starting ktrail"; %s; st=$?; echo "ktrail exited with status $st"; read _ </dev/tty; exit $st)`,
		strings.Join(q, " "))
}

// e2eQuote quotes s for sh.
func e2eQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// ---------------------------------------------------------------------------
// Reading the screen

// e2eLine returns line i of the screen; negative counts from the end.
func e2eLine(screen string, i int) string {
	lines := strings.Split(screen, "\n")
	for len(lines) < e2eHeight {
		lines = append(lines, "")
	}
	if i < 0 {
		i += len(lines)
	}
	if i < 0 || i >= len(lines) {
		return ""
	}
	return lines[i]
}

// e2eList returns the list's column header line and the non-blank rows
// under it, down to the filter line or the detail pane's title.
func e2eList(screen string) (head string, rows []string) {
	lines := strings.Split(screen, "\n")
	start := -1
	for i, l := range lines {
		if isListHead(l) {
			head, start = l, i
			break
		}
	}
	if start < 0 {
		return "", nil
	}
	for _, l := range lines[start+1:] {
		if strings.HasPrefix(l, "filter") || strings.HasPrefix(l, "─ event") {
			break
		}
		if strings.TrimSpace(l) != "" {
			rows = append(rows, l)
		}
	}
	return head, rows
}

// hasBadge reports whether the header line h shows the badge word (" LIVE ",
// " FOLLOW "…); capture-pane drops trailing blanks, so a badge that ends
// the line has no blank after it.
func hasBadge(h, word string) bool { return strings.Contains(h+" ", " "+word+" ") }

// isListHead reports whether l is the list's column header, which starts
// two cells in (after the "● " gutter) once an event is marked. Rows keep
// the gutter, so e2eCell still lines them up with the header.
func isListHead(l string) bool {
	t := strings.TrimLeft(l, " ")
	return strings.HasPrefix(t, "TIME ") && strings.Contains(t, " VERB ") && len(l)-len(t) <= 2
}

// e2eListHeight returns how many rows the list has room for: the lines
// between the column header and the filter line.
func e2eListHeight(screen string) int {
	lines := strings.Split(screen, "\n")
	start := -1
	for i, l := range lines {
		switch {
		case start < 0 && isListHead(l):
			start = i
		case start >= 0 && strings.HasPrefix(l, "filter"):
			return i - start - 1
		}
	}
	return 0
}

// e2eCell returns the text of a row under the column titled title: from
// where the title starts to where the next title starts (titles are
// separated by at least one blank; the list uses one-cell characters).
func e2eCell(head, row, title string) string {
	h, r := []rune(head), []rune(row)
	i := strings.Index(head, title)
	if i < 0 {
		return ""
	}
	start := len([]rune(head[:i]))
	end := start + len([]rune(title))
	for end < len(h) && h[end] == ' ' {
		end++
	}
	if end == len(h) {
		end = len(r)
	}
	// A right-aligned title (CODE, LATENCY) ends where its column ends,
	// so a right-aligned cell starts where the blank before the title
	// starts.
	for start > 0 && h[start-1] == ' ' && start-1 < len(r) && r[start-1] != ' ' {
		start--
	}
	start, end = min(start, len(r)), min(end, len(r))
	return strings.TrimSpace(string(r[start:end]))
}

// e2eFrame prints a screen with line numbers for failure messages.
func e2eFrame(screen string) string {
	var b strings.Builder
	b.WriteString("    ┌" + strings.Repeat("─", e2eWidth) + "┐\n")
	for i, l := range strings.Split(screen, "\n") {
		fmt.Fprintf(&b, "%3d │%s\n", i, l)
	}
	b.WriteString("    └" + strings.Repeat("─", e2eWidth) + "┘")
	return b.String()
}

// e2eCommas prints n with thousands separators, as the header does.
func e2eCommas(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// ---------------------------------------------------------------------------
// Reading the log independently of ktrail

type e2eEvent struct {
	Verb string
	Code int
	Time time.Time // requestReceivedTimestamp, else stageTimestamp
}

func e2eReadLines(t *testing.T, path string) [][]byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines [][]byte
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		if len(bytes.TrimSpace(sc.Bytes())) > 0 {
			lines = append(lines, append([]byte(nil), sc.Bytes()...))
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return lines
}

func e2eReadEvents(t *testing.T, path string) []e2eEvent {
	t.Helper()
	var out []e2eEvent
	for i, l := range e2eReadLines(t, path) {
		var e struct {
			Verb           string    `json:"verb"`
			Received       time.Time `json:"requestReceivedTimestamp"`
			Stage          time.Time `json:"stageTimestamp"`
			ResponseStatus *struct {
				Code int `json:"code"`
			} `json:"responseStatus"`
		}
		if err := json.Unmarshal(l, &e); err != nil {
			t.Fatalf("%s:%d: %v", path, i+1, err)
		}
		ev := e2eEvent{Verb: e.Verb, Time: e.Received}
		if ev.Time.IsZero() {
			ev.Time = e.Stage
		}
		if e.ResponseStatus != nil {
			ev.Code = e.ResponseStatus.Code
		}
		out = append(out, ev)
	}
	return out
}

// e2eAppend appends lines to the file at path, creating it.
func e2eAppend(t *testing.T, path string, lines [][]byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	for _, l := range lines {
		b.Write(l)
		b.WriteByte('\n')
	}
	if _, err := f.Write(b.Bytes()); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}
