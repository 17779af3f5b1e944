package tui

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"ktrail/audit"
	"ktrail/audit/auditgen"
	"ktrail/report"
	"ktrail/themes"
)

// waitScreen waits until the program's output shows every want.
func waitScreen(t *testing.T, tm *teatest.TestModel, want ...string) {
	t.Helper()
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool {
		s := ansi.Strip(string(b))
		for _, w := range want {
			if !strings.Contains(s, w) {
				return false
			}
		}
		return true
	}, teatest.WithDuration(10*time.Second), teatest.WithCheckInterval(20*time.Millisecond))
}

// TestProgramFlowDemoFilterDetailSave runs the model in a real bubbletea
// Program: open the demo, filter, open an event, save the view, quit.
func TestProgramFlowDemoFilterDetailSave(t *testing.T) {
	store := loadStore(t, auditgen.Demo())
	path := filepath.Join(t.TempDir(), "incident.jsonl")
	m := New(Options{
		Store: store, Theme: themes.Default(), UTC: true, Redact: true, Now: demoNow,
		Banner: "demo banner",
		Save: func(ctx context.Context, p string, v *audit.View, ids []uint32, overwrite bool) (int, error) {
			return report.SaveEvents(ctx, p, store, v, ids, report.Options{Redact: true, UTC: true}, overwrite)
		},
	})
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(140, 40))
	waitScreen(t, tm, "6,241 events", "demo banner", "SOURCE IP")

	tm.Send(tea.KeyPressMsg{Code: 'f', Text: "f"})
	tm.Type(`sourceIP == "203.0.113.45" && code >= 400`)
	waitScreen(t, tm, "✓ valid")
	tm.Send(tea.KeyPressMsg{Code: tea.KeyEnter})
	want := len(count(t, store, `sourceIP == "203.0.113.45" && code >= 400`))
	waitScreen(t, tm, commas(int64(want))+" match")

	tm.Send(tea.KeyPressMsg{Code: tea.KeyEnter})
	waitScreen(t, tm, `"kind": "Event"`, "203.0.113.45")
	tm.Send(tea.KeyPressMsg{Code: tea.KeyEscape})

	tm.Send(tea.KeyPressMsg{Code: 's', Text: "s"})
	waitScreen(t, tm, "save view to")
	tm.Type(path)
	tm.Send(tea.KeyPressMsg{Code: tea.KeyEnter})
	waitScreen(t, tm, "saved "+commas(int64(want))+" events")

	tm.Send(tea.KeyPressMsg{Code: 'q', Text: "q"})
	final := tm.FinalModel(t, teatest.WithFinalTimeout(5*time.Second)).(*Model)
	if final.rows.Len() != want {
		t.Fatalf("final rows %d, want %d", final.rows.Len(), want)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(b, []byte("\n")); n != want {
		t.Fatalf("saved %d events, want %d", n, want)
	}
}

// TestProgramFlowHelpAndTheme opens the help overlay, closes it and
// switches the theme in a running Program.
func TestProgramFlowHelpAndTheme(t *testing.T) {
	store := loadStore(t, auditgen.Demo())
	m := New(Options{Store: store, Theme: themes.Default(), UTC: true, Redact: true, Now: demoNow})
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(140, 40))
	waitScreen(t, tm, "6,241 events")
	tm.Send(tea.KeyPressMsg{Code: '?', Text: "?"})
	waitScreen(t, tm, "edit filter", "follow / pause", "copy event JSON")
	tm.Send(tea.KeyPressMsg{Code: 'x', Text: "x"})
	tm.Send(tea.KeyPressMsg{Code: 'T', Text: "T"})
	waitScreen(t, tm, "theme: light")
	tm.Send(tea.KeyPressMsg{Code: 'c', Mod: tea.ModCtrl})
	final := tm.FinalModel(t, teatest.WithFinalTimeout(5*time.Second)).(*Model)
	if final.overlay != overlayNone || final.ctx.theme.Name != "light" {
		t.Fatalf("overlay %v theme %q", final.overlay, final.ctx.theme.Name)
	}
}
