package tui

import (
	"bytes"
	"context"
	"io"
	"regexp"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"ktrail/audit"
	"ktrail/audit/auditgen"
	"ktrail/sources"
)

// demoLines returns the demo as JSON lines.
func demoLines(t testing.TB) [][]byte {
	var b bytes.Buffer
	if err := auditgen.WriteDemo(&b); err != nil {
		t.Fatal(err)
	}
	return bytes.SplitAfter(bytes.TrimRight(b.Bytes(), "\n"), []byte("\n"))
}

// liveStore feeds a Store from a pipe; write sends lines and waits until
// the Store holds want events.
func liveStore(t *testing.T) (*audit.Store, func(lines [][]byte, want int)) {
	store := audit.NewStore()
	pr, pw := io.Pipe()
	set, err := sources.Open(store, nil, pr, sources.Options{SpoolDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { set.Run(ctx); close(done) }()
	t.Cleanup(func() { pw.Close(); cancel(); <-done; set.Close() })
	write := func(lines [][]byte, want int) {
		t.Helper()
		for _, l := range lines {
			if _, err := pw.Write(l); err != nil {
				t.Fatal(err)
			}
		}
		deadline := time.Now().Add(10 * time.Second)
		for store.Len() < want {
			if time.Now().After(deadline) {
				t.Fatalf("the store has %d events, want %d", store.Len(), want)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	return store, write
}

func TestLiveTailFollowPauseAndFilterOnlyNewEvents(t *testing.T) {
	lines := demoLines(t)
	store, write := liveStore(t)
	write(lines[:3000], 3000)
	h := newHarness(t, store, 120, 40, func(o *Options) {
		o.Follow = true
		o.Filter = `verb in ["get", "list"]`
		o.Status = func() Status { return Status{Names: []string{"stdin"}, Live: true} }
	})
	oracle := func() []uint32 { return count(t, store, `verb in ["get", "list"]`) }
	if h.m.rows.Len() != len(oracle()) || h.m.cursor != h.m.rows.Len()-1 {
		t.Fatalf("start: rows %d cursor %d, want %d rows, cursor on the last", h.m.rows.Len(), h.m.cursor, len(oracle()))
	}
	evaluated := h.m.evaluated
	write(lines[3000:4000], 4000)
	h.send(tickMsg(time.Now()))
	want := oracle()
	if h.m.rows.Len() != len(want) {
		t.Fatalf("after a tick: %d rows, want %d", h.m.rows.Len(), len(want))
	}
	for i, id := range want {
		if h.m.rows.ID(i) != id {
			t.Fatalf("row %d: %d, want %d", i, h.m.rows.ID(i), id)
		}
	}
	if h.m.evaluated <= evaluated || h.m.evaluated != store.View().NumRecs() {
		t.Fatalf("evaluated %d → %d of %d records", evaluated, h.m.evaluated, store.View().NumRecs())
	}
	if h.m.cursor != h.m.rows.Len()-1 {
		t.Fatalf("following: cursor %d of %d", h.m.cursor, h.m.rows.Len())
	}
	h.mustContain("FOLLOW")

	h.key("F")
	h.key("k")
	id := h.m.cursorID
	before := h.m.rows.Len()
	write(lines[4000:5000], 5000)
	h.send(tickMsg(time.Now()))
	if h.m.cursorID != id {
		t.Fatal("paused: the cursor left its event")
	}
	added := h.m.rows.Len() - before
	if added <= 0 || h.m.newCount != added {
		t.Fatalf("paused: %d new rows, badge %d", added, h.m.newCount)
	}
	h.mustContain(" new ", "PAUSED", "LIVE")
	h.key("G")
	if h.m.newCount != 0 {
		t.Fatalf("the badge stays after G: %d", h.m.newCount)
	}
}

func TestTicksBatchEvents(t *testing.T) {
	// One message per tick whatever arrived: 1,000 events become one
	// tail evaluation, not 1,000 messages.
	lines := demoLines(t)
	store, write := liveStore(t)
	write(lines[:10], 10)
	h := newHarness(t, store, 100, 30, nil)
	write(lines[10:1010], 1010)
	var msgs int
	_, cmd := h.m.Update(tickMsg(time.Now()))
	for _, c := range cmd().(tea.BatchMsg) {
		if c == nil {
			continue
		}
		done := make(chan tea.Msg, 1)
		go func() { done <- c() }()
		select {
		case msg := <-done:
			if _, ok := msg.(tailMsg); ok {
				msgs++
				h.send(msg)
			}
		case <-time.After(200 * time.Millisecond):
		}
	}
	if msgs != 1 || h.m.rows.Len() != 1010 {
		t.Fatalf("%d tail messages, %d rows", msgs, h.m.rows.Len())
	}
}

// hostile events carry terminal control sequences in every field that is
// drawn: user, user agent, name, namespace, URI, message.
const hostile = `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"RequestResponse","auditID":"a1","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/x/pods/\u001b]52;c;ZXZpbA==\u0007p","verb":"get","user":{"username":"eve\u001b[2J\u001b[H\u0007"},"sourceIPs":["10.0.0.1"],"userAgent":"curl\u001b]0;pwned\u0007\u001b[31mred","objectRef":{"resource":"pods","namespace":"x\u009b31m","name":"p\u001b]52;c;ZXZpbA==\u0007\u202eevil"},"responseStatus":{"metadata":{},"code":403,"message":"no\u001b[5m\u0007 way"},"requestReceivedTimestamp":"2026-11-24T12:00:00.000000Z","stageTimestamp":"2026-11-24T12:00:00.001000Z"}
`

// sgrOnly matches the styling sequences lipgloss writes.
var sgrOnly = regexp.MustCompile(`\x1b\[[0-9;:]*m`)

func assertNoControl(t *testing.T, what, s string) {
	t.Helper()
	rest := sgrOnly.ReplaceAllString(s, "")
	for i, r := range rest {
		switch {
		case r == '\n':
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0):
			t.Fatalf("%s: control character %U at %d: %q", what, r, i, rest[max(0, i-20):min(len(rest), i+20)])
		case r == 0x202e || r == 0x202d || (r >= 0x2066 && r <= 0x2069):
			t.Fatalf("%s: bidi override %U at %d", what, r, i)
		}
	}
}

func TestHostileFieldsAreSanitised(t *testing.T) {
	store := loadStore(t, []byte(hostile+hostile[:len(hostile)-1]+"\n"))
	h := newHarness(t, store, 220, 40, func(o *Options) {
		o.Columns = []string{"time", "user", "verb", "resource", "namespace/name", "code", "userAgent"}
	})
	if h.m.rows.Len() == 0 {
		t.Fatal("no events")
	}
	assertNoControl(t, "list", h.m.View().Content)
	h.mustContain(`eve\x1b[2J`, `curl\x1b]0;pwned\x07`)
	h.key("enter")
	assertNoControl(t, "detail", h.m.View().Content)
	h.mustContain(`\u001b]52;c;ZXZpbA==`)
	h.key("esc")
	h.key("/")
	h.typeText("pwned\x1b[2J")
	assertNoControl(t, "search prompt", h.m.View().Content)
	h.key("enter")
	h.key("f")
	h.typeText("user == \"\x07\x1b]52;c;eA==\x07\"")
	assertNoControl(t, "filter editor", h.m.View().Content)
}

func TestTimelineSpanBecomesATimeFilter(t *testing.T) {
	h := demoHarness(t, 120, 40, nil)
	h.key("tab") // focus: list → timeline
	if h.m.focus != focusTimeline {
		t.Fatalf("focus %v", h.m.focus)
	}
	for i := 0; i < 10; i++ {
		h.key("l")
	}
	h.key("V") // span selection moved from v (now saved views)
	for i := 0; i < 5; i++ {
		h.key("l")
	}
	from, to, ok := h.m.tl.state.Selection(h.m.tl.hist)
	if !ok {
		t.Fatal("no selection")
	}
	h.key("enter")
	if !strings.Contains(h.m.filterSrc, "since(") || !strings.Contains(h.m.filterSrc, "before(") {
		t.Fatalf("filter %q", h.m.filterSrc)
	}
	if h.m.rows.Len() == 0 {
		t.Fatal("no rows in the span")
	}
	for i := 0; i < h.m.rows.Len(); i++ {
		if tm := h.m.rows.Rec(i).Time; tm < from || tm >= to {
			t.Fatalf("row %d at %v outside the span", i, time.Unix(0, tm).UTC())
		}
	}
	h.key("]")
	h.key("b")
	if h.m.tl.state.Mode != 1 {
		t.Fatalf("mode %v", h.m.tl.state.Mode)
	}
	if !strings.Contains(h.screen(), "read") {
		t.Fatalf("the legend does not say read/write/delete:\n%s", h.screen())
	}
	h.key("esc") // undo the span
	if h.m.filterSrc != "" {
		t.Fatalf("Esc left %q", h.m.filterSrc)
	}
}

func TestCopyUsesOSC52AndRedacts(t *testing.T) {
	secret := `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"RequestResponse","auditID":"s1","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/x/secrets/db","verb":"get","user":{"username":"alice"},"objectRef":{"resource":"secrets","namespace":"x","name":"db","apiVersion":"v1"},"responseStatus":{"metadata":{},"code":200},"responseObject":{"kind":"Secret","apiVersion":"v1","metadata":{"name":"db"},"data":{"password":"aHVudGVyMg=="}},"requestReceivedTimestamp":"2026-11-24T12:00:00.000000Z","stageTimestamp":"2026-11-24T12:00:00.001000Z"}` + "\n"
	h := newHarness(t, loadStore(t, []byte(secret)), 120, 40, nil)
	_, cmd := h.m.Update(tea.KeyPressMsg{Code: 'y', Text: "y"})
	if cmd == nil {
		t.Fatal("y returned no command")
	}
	msg := cmd()
	if s, ok := msg.(interface{ String() string }); ok && strings.Contains(s.String(), "aHVudGVyMg") {
		t.Fatal("the copy carries the secret")
	}
	raw, err := h.m.eventJSON(h.m.cursorID)
	if err != nil || strings.Contains(string(raw), "aHVudGVyMg") || !strings.Contains(string(raw), "REDACTED") {
		t.Fatalf("copied JSON %s %v", raw, err)
	}
	if !strings.Contains(h.m.status, "OSC 52") {
		t.Fatalf("status %q", h.m.status)
	}
	h.key("enter")
	h.key("G")
	if txt := h.m.detail.doc.Text(); strings.Contains(txt, "aHVudGVyMg") || !strings.Contains(txt, "REDACTED") {
		t.Fatalf("the detail pane's document:\n%s", txt)
	}
	h.mustContain(`"password": "***REDACTED***"`)
}
