package tui

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"ktrail/audit"
	"ktrail/audit/auditgen"
	"ktrail/sources"
	"ktrail/themes"
)

// demoNow is the demo's last event: relative times count from there.
var demoNow = time.Date(2026, 11, 24, 15, 0, 0, 0, time.UTC)

// loadStore indexes data (JSON lines, gzip or not) into a new Store. The
// sources stay open until the test ends so that event bytes can be read.
func loadStore(t testing.TB, data []byte) *audit.Store {
	t.Helper()
	store := audit.NewStore()
	set, err := sources.Open(store, nil, bytes.NewReader(data), sources.Options{SpoolDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if err := set.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { set.Close() })
	return store
}

// harness drives a Model synchronously: each message is handled, the
// Cmds it returns are run and their messages handled in turn (ticks are
// dropped: tests send them when they want one).
type harness struct {
	t testing.TB
	m *Model
}

func newHarness(t testing.TB, store *audit.Store, w, h int, edit func(*Options)) *harness {
	t.Helper()
	opts := Options{Store: store, Theme: themes.Default(), UTC: true, Redact: true, Now: demoNow}
	if edit != nil {
		edit(&opts)
	}
	hs := &harness{t: t, m: New(opts)}
	hs.send(tea.WindowSizeMsg{Width: w, Height: h})
	hs.run(hs.m.Init())
	return hs
}

func demoHarness(t testing.TB, w, h int, edit func(*Options)) *harness {
	return newHarness(t, loadStore(t, auditgen.Demo()), w, h, edit)
}

// send handles one message and everything it causes.
func (h *harness) send(msg tea.Msg) {
	h.t.Helper()
	_, cmd := h.m.Update(msg)
	h.run(cmd)
}

// run executes a Cmd (and batches) and feeds the results back.
func (h *harness) run(cmd tea.Cmd) {
	h.t.Helper()
	if cmd == nil {
		return
	}
	done := make(chan tea.Msg, 1)
	go func() { done <- cmd() }()
	var msg tea.Msg
	select {
	case msg = <-done:
	case <-time.After(10 * time.Second):
		h.t.Fatal("a Cmd did not finish in 10 s")
	}
	switch msg := msg.(type) {
	case nil, tickMsg:
	case tea.BatchMsg:
		for _, c := range msg {
			h.run(c)
		}
	default:
		h.send(msg)
	}
}

// typeText sends each rune as a key press.
func (h *harness) typeText(s string) {
	for _, r := range s {
		h.send(tea.KeyPressMsg{Code: r, Text: string(r)})
	}
}

// key sends a named key: "enter", "esc", "tab", "up", "down", "pgdown",
// "end", "home", "backspace", "ctrl+u", or a single character.
func (h *harness) key(name string) {
	k := tea.KeyPressMsg{}
	switch name {
	case "enter":
		k.Code = tea.KeyEnter
	case "esc":
		k.Code = tea.KeyEscape
	case "tab":
		k.Code = tea.KeyTab
	case "shift+tab":
		k.Code, k.Mod = tea.KeyTab, tea.ModShift
	case "up":
		k.Code = tea.KeyUp
	case "down":
		k.Code = tea.KeyDown
	case "pgdown":
		k.Code = tea.KeyPgDown
	case "pgup":
		k.Code = tea.KeyPgUp
	case "end":
		k.Code = tea.KeyEnd
	case "home":
		k.Code = tea.KeyHome
	case "backspace":
		k.Code = tea.KeyBackspace
	case "space":
		k.Code, k.Text = tea.KeySpace, " "
	case "ctrl+u":
		k.Code, k.Mod = 'u', tea.ModCtrl
	default:
		r := []rune(name)
		k.Code, k.Text = r[0], name
	}
	h.send(k)
}

// screen is the frame without styles.
func (h *harness) screen() string { return ansi.Strip(h.m.View().Content) }

// line returns screen line i (negative counts from the end).
func (h *harness) line(i int) string {
	lines := strings.Split(h.screen(), "\n")
	if i < 0 {
		i += len(lines)
	}
	return lines[i]
}

func (h *harness) mustContain(want ...string) {
	h.t.Helper()
	s := h.screen()
	for _, w := range want {
		if !strings.Contains(s, w) {
			h.t.Fatalf("screen lacks %q:\n%s", w, s)
		}
	}
}

// cursorRec is the record under the cursor.
func (h *harness) cursorRec() *audit.Rec { return h.m.view.Rec(h.m.cursorID) }
