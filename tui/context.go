package tui

import (
	"context"
	"time"

	"ktrail/audit"
	"ktrail/detect"
	"ktrail/report"
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

	// Session is the investigation restored at start: its marks and
	// notes (found again by auditID, stage and time as the events are
	// indexed), its time range (the timeline's window) and, when Filter
	// is empty, its filter. Nil: a fresh start.
	Session *report.Session
	// OnSession is called with the whole session after every change of
	// the marks, notes, filter or time range (nil: not kept). It runs on
	// the UI goroutine: it should only write a small file.
	OnSession func(*report.Session)

	// Views are the saved views v lists; OnSaveView is called when one
	// is saved (a view with the name of an existing one replaces it) and
	// OnDeleteView when one is deleted. Nil callbacks: views live only
	// until the program ends.
	Views        []View
	OnSaveView   func(View)
	OnDeleteView func(name string)

	// Report writes an investigation report (S); nil: not available.
	Report ReportFunc

	// Detect runs the detection rules over every event as they arrive
	// (the D panel and the alert badge); nil: no detections.
	Detect *detect.Engine
}

// View is a saved view: a name for a filter, the list's columns and a
// time range (the timeline's window; empty: the whole range). From and
// To are RFC 3339.
type View struct {
	Name    string   `json:"name"`
	Filter  string   `json:"filter,omitempty"`
	Columns []string `json:"columns,omitempty"`
	From    string   `json:"from,omitempty"`
	To      string   `json:"to,omitempty"`
}

// ReportRequest is what S asks a report of: the matching events, the
// filter, the timeline's window (zero times: open) and the marks.
type ReportRequest struct {
	Path     string // what the user typed at the prompt
	View     *audit.View
	IDs      []uint32 // the matching events, sorted like View
	Filter   string
	From, To time.Time
	Marks    []report.Mark
}

// ReportFunc writes a report and returns a one-line description of what
// it wrote (shown in the status line).
type ReportFunc func(ctx context.Context, req ReportRequest) (string, error)

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
