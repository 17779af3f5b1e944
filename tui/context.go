package tui

import (
	"context"
	"time"

	"ktrail/audit"
	"ktrail/themes"
)

// Status is what the sources report about the input: the TUI shows it in
// the header and the progress bar.
type Status struct {
	Names   []string // the inputs, for the header
	Done    int64    // bytes indexed
	Total   int64    // bytes known
	Skipped int64    // lines skipped
	Live    bool     // events may still arrive (stdin, --follow, webhook)
	Loading bool     // the first pass over the inputs is still running
}

// SaveFunc writes the events ids (sorted like v) to path in the format its
// extension names (.csv = CSV, anything else JSON lines). It must refuse
// to replace an existing file unless overwrite is set, and report that
// with an error wrapping fs.ErrExist.
type SaveFunc func(ctx context.Context, path string, v *audit.View, ids []uint32, overwrite bool) (int, error)

// Options are the TUI's dependencies and starting state. The TUI itself
// does no I/O: it reads the Store and calls the functions given here.
type Options struct {
	Store  *audit.Store
	Status func() Status // nil: a finished, static input
	Save   SaveFunc      // nil: saving is disabled

	Filter  string    // the starting filter expression
	Now     time.Time // what relative times count from; zero = wall clock
	Redact  bool      // mask Secret values and tokens in the detail pane and copies
	UTC     bool      // show times in UTC
	Follow  bool      // start following the newest event
	Banner  string    // one line shown under the header (the demo's hint)
	Columns []string  // starting columns; nil = the defaults

	Theme   themes.Theme
	Themes  []themes.Theme // what T cycles through
	NoColor bool

	History   []string          // earlier filters, oldest first
	OnHistory func(expr string) // called with each applied filter
}

// programContext is the state every component reads: sizes, styles,
// keys and options. It is passed explicitly, never global.
type programContext struct {
	width, height int
	styles        *themes.Styles
	theme         themes.Theme
	keys          KeyMap
	store         *audit.Store
	opts          Options
	multiDay      bool // the events span several days: times show the date
}

func (c *programContext) setTheme(t themes.Theme) {
	c.theme = t
	c.styles = themes.NewStyles(t, c.opts.NoColor)
}

func (c *programContext) loc() *time.Location {
	if c.opts.UTC {
		return time.UTC
	}
	return time.Local
}

func (c *programContext) now() time.Time {
	if !c.opts.Now.IsZero() {
		return c.opts.Now
	}
	return time.Now()
}
