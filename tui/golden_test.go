package tui

import (
	"fmt"
	"testing"

	"github.com/charmbracelet/x/exp/golden"
)

// TestGoldenViews pins the whole frame — layout, colours and text — of
// the demo at two sizes, in the dark theme and with NO_COLOR, in the
// states a user sees first. Update with: go test ./tui -run Golden -update
func TestGoldenViews(t *testing.T) {
	states := []struct {
		name string
		keys func(h *harness)
	}{
		{"list", func(h *harness) {}},
		{"filtered", func(h *harness) {
			h.key("f")
			h.typeText(`sourceIP == "203.0.113.45"`)
			h.key("enter")
			for i := 0; i < 5; i++ {
				h.key("j")
			}
		}},
		{"filter-error", func(h *harness) {
			h.key("f")
			h.typeText(`usr == "alice"`)
		}},
		{"detail", func(h *harness) {
			h.key("f")
			h.typeText(`resource == "clusterrolebindings" && verb == "create"`)
			h.key("enter")
			h.key("enter")
		}},
		{"help", func(h *harness) { h.key("?") }},
	}
	for _, size := range [][2]int{{80, 24}, {160, 48}} {
		for _, noColor := range []bool{false, true} {
			theme := "dark"
			if noColor {
				theme = "nocolor"
			}
			for _, st := range states {
				t.Run(fmt.Sprintf("%dx%d/%s/%s", size[0], size[1], theme, st.name), func(t *testing.T) {
					h := demoHarness(t, size[0], size[1], func(o *Options) { o.NoColor = noColor })
					st.keys(h)
					golden.RequireEqual(t, h.m.View().Content)
				})
			}
		}
	}
}
