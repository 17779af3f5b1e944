package themes

import (
	"strings"

	"charm.land/lipgloss/v2"
)

// Styles is every lipgloss style the TUI draws with, built from one Theme by
// NewStyles. The styles are flat (no padding, margins or borders) so they
// are cheap to render per cell; only HelpBox and Dialog have a rounded
// border and horizontal padding.
type Styles struct {
	// Name is the name of the theme the styles were built from.
	Name string
	// NoColor reports that the styles use attributes (bold, reverse, faint,
	// underline) instead of colours.
	NoColor bool

	App         lipgloss.Style // the default text of the whole screen
	Header      lipgloss.Style // the header bar
	HeaderDim   lipgloss.Style // secondary text inside the header bar
	Banner      lipgloss.Style // the program name in the header bar
	BadgeLive   lipgloss.Style // "LIVE": events are streaming in
	BadgeFollow lipgloss.Style // "FOLLOW": the list sticks to the newest event
	BadgePaused lipgloss.Style // "PAUSED": streaming is paused
	BadgeNew    lipgloss.Style // "+N new": events arrived out of view

	KeyHintKey  lipgloss.Style // a key in the footer's key hints
	KeyHintDesc lipgloss.Style // what the key does
	Divider     lipgloss.Style // separators drawn between panes and parts
	PaneBorder  lipgloss.Style // border characters of an unfocused pane
	// PaneBorderFocused is the border of the focused pane.
	PaneBorderFocused lipgloss.Style
	Title             lipgloss.Style // title of an unfocused pane
	TitleFocused      lipgloss.Style // title of the focused pane

	ColumnHeader    lipgloss.Style // table column headers
	Row             lipgloss.Style // a table row
	RowSelected     lipgloss.Style // the selected row of the focused table
	RowSelectedBlur lipgloss.Style // the selected row of an unfocused table
	Muted           lipgloss.Style // secondary text anywhere

	VerbRead   lipgloss.Style // get, list, watch
	VerbWrite  lipgloss.Style // create, update, patch
	VerbDelete lipgloss.Style // delete, deletecollection
	VerbOther  lipgloss.Style // every other verb
	Code2xx    lipgloss.Style
	Code3xx    lipgloss.Style
	Code4xx    lipgloss.Style
	Code5xx    lipgloss.Style
	CodeNone   lipgloss.Style // events without a response code

	Match lipgloss.Style // a search match

	TimelineOK        lipgloss.Style // bars of successful requests
	Timeline4xx       lipgloss.Style // bars of client errors
	Timeline5xx       lipgloss.Style // bars of server errors
	TimelineRead      lipgloss.Style // bars of reads
	TimelineWrite     lipgloss.Style // bars of writes
	TimelineDelete    lipgloss.Style // bars of deletes
	TimelineAxis      lipgloss.Style // the time axis line and ticks
	TimelineLabel     lipgloss.Style // time labels
	TimelineCursor    lipgloss.Style // the bucket under the cursor
	TimelineSelection lipgloss.Style // the selected time range
	TimelineEmpty     lipgloss.Style // buckets without events

	JSONKey      lipgloss.Style
	JSONString   lipgloss.Style
	JSONNumber   lipgloss.Style
	JSONBool     lipgloss.Style
	JSONNull     lipgloss.Style
	JSONPunct    lipgloss.Style // braces, brackets, colons, commas
	JSONFolded   lipgloss.Style // the summary of a folded object or array
	JSONRedacted lipgloss.Style // values hidden by redaction

	FilterPrompt       lipgloss.Style // the filter bar's prompt
	FilterText         lipgloss.Style // the filter expression being typed
	FilterError        lipgloss.Style // the message of an invalid expression
	FilterErrorPos     lipgloss.Style // the character an error points at
	FilterOK           lipgloss.Style // the "valid" marker / match count
	Completion         lipgloss.Style // a completion candidate
	CompletionSelected lipgloss.Style // the highlighted completion candidate

	HelpBox     lipgloss.Style // the help overlay's frame
	HelpKey     lipgloss.Style // a key in the help overlay
	HelpDesc    lipgloss.Style // what the key does
	HelpSection lipgloss.Style // a section heading in the help overlay

	ProgressFull  lipgloss.Style // the done part of a progress bar
	ProgressEmpty lipgloss.Style // the rest of a progress bar
	ProgressText  lipgloss.Style // the text next to a progress bar

	Dialog  lipgloss.Style // a modal dialog's frame
	Error   lipgloss.Style
	Warning lipgloss.Style
	OK      lipgloss.Style
}

// NewStyles builds the styles for t. Empty colours in t are taken from its
// base built-in theme (or dark). With noColor the styles carry no
// foreground or background colours at all, only text attributes, as
// NO_COLOR and --no-color ask.
func NewStyles(t Theme, noColor bool) *Styles {
	var s *Styles
	if noColor {
		s = plainStyles()
	} else {
		s = colourStyles(complete(t))
	}
	s.Name = t.Name
	s.NoColor = noColor
	return s
}

// colourStyles builds the coloured styles of the complete theme t.
func colourStyles(t Theme) *Styles {
	st := lipgloss.NewStyle()
	fg := func(c string) lipgloss.Style { return st.Foreground(lipgloss.Color(c)) }
	on := func(f, b string) lipgloss.Style {
		return st.Foreground(lipgloss.Color(f)).Background(lipgloss.Color(b))
	}
	badge := func(bg string) lipgloss.Style { return on(readableOn(bg), bg).Bold(true) }
	border := func(c string) lipgloss.Style {
		return fg(c).BorderForeground(lipgloss.Color(c))
	}
	frame := fg(t.Fg).Border(lipgloss.RoundedBorder()).
		BorderForeground(lipgloss.Color(t.Accent)).Padding(0, 1)
	// Themes based on high-contrast also mark the selection by weight.
	boldSelection := strings.EqualFold(t.Name, highContrastName) || strings.EqualFold(t.Base, highContrastName)
	selected := on(t.SelectedFg, t.SelectedBg).Bold(boldSelection)

	return &Styles{
		App:         fg(t.Fg),
		Header:      on(t.HeaderFg, t.HeaderBg).Bold(true),
		HeaderDim:   on(t.Muted, t.HeaderBg),
		Banner:      on(t.Accent, t.HeaderBg).Bold(true),
		BadgeLive:   badge(t.OK),
		BadgeFollow: badge(t.Accent),
		BadgePaused: badge(t.Warning),
		BadgeNew:    badge(t.Write),

		KeyHintKey:        fg(t.Accent).Bold(true),
		KeyHintDesc:       fg(t.Muted),
		Divider:           fg(t.Border),
		PaneBorder:        border(t.Border),
		PaneBorderFocused: border(t.Accent),
		Title:             fg(t.Fg).Bold(true),
		TitleFocused:      fg(t.Accent).Bold(true),

		ColumnHeader:    fg(t.Fg).Bold(true),
		Row:             fg(t.Fg),
		RowSelected:     selected,
		RowSelectedBlur: on(readableOn(t.Border, t.Fg, t.SelectedFg), t.Border),
		Muted:           fg(t.Muted),

		VerbRead:   fg(t.Read),
		VerbWrite:  fg(t.Write),
		VerbDelete: fg(t.Delete),
		VerbOther:  fg(t.Fg),
		Code2xx:    fg(t.Code2xx),
		Code3xx:    fg(t.Accent),
		Code4xx:    fg(t.Code4xx),
		Code5xx:    fg(t.Code5xx).Bold(true),
		CodeNone:   fg(t.Muted),

		Match: on(t.MatchFg, t.MatchBg),

		TimelineOK:        fg(t.Code2xx),
		Timeline4xx:       fg(t.Code4xx),
		Timeline5xx:       fg(t.Code5xx),
		TimelineRead:      fg(t.Read),
		TimelineWrite:     fg(t.Write),
		TimelineDelete:    fg(t.Delete),
		TimelineAxis:      fg(t.Border),
		TimelineLabel:     fg(t.Muted),
		TimelineCursor:    on(readableOn(t.Accent), t.Accent),
		TimelineSelection: on(readableOn(t.Border, t.Fg, t.SelectedFg), t.Border),
		TimelineEmpty:     fg(t.Border),

		JSONKey:      fg(t.JSONKey),
		JSONString:   fg(t.JSONString),
		JSONNumber:   fg(t.JSONNumber),
		JSONBool:     fg(t.JSONBool),
		JSONNull:     fg(t.JSONNull),
		JSONPunct:    fg(t.JSONPunct),
		JSONFolded:   fg(t.Muted).Italic(true),
		JSONRedacted: fg(t.Warning).Italic(true),

		FilterPrompt:       fg(t.Accent).Bold(true),
		FilterText:         fg(t.Fg),
		FilterError:        fg(t.Error),
		FilterErrorPos:     on(readableOn(t.Error), t.Error),
		FilterOK:           fg(t.OK),
		Completion:         fg(t.Fg),
		CompletionSelected: selected,

		HelpBox:     frame,
		HelpKey:     fg(t.Accent).Bold(true),
		HelpDesc:    fg(t.Fg),
		HelpSection: fg(t.Fg).Bold(true).Underline(true),

		ProgressFull:  fg(t.Accent),
		ProgressEmpty: fg(t.Border),
		ProgressText:  fg(t.Muted),

		Dialog:  frame,
		Error:   fg(t.Error).Bold(true),
		Warning: fg(t.Warning),
		OK:      fg(t.OK),
	}
}

// plainStyles builds the NO_COLOR styles: text attributes only, never a
// foreground, background or border colour.
func plainStyles() *Styles {
	plain := lipgloss.NewStyle()
	bold := plain.Bold(true)
	faint := plain.Faint(true)
	reverse := plain.Reverse(true)
	underline := plain.Underline(true)
	badge := reverse.Bold(true)
	frame := plain.Border(lipgloss.RoundedBorder()).Padding(0, 1)

	return &Styles{
		App:         plain,
		Header:      bold,
		HeaderDim:   faint,
		Banner:      bold,
		BadgeLive:   badge,
		BadgeFollow: badge,
		BadgePaused: badge,
		BadgeNew:    badge,

		KeyHintKey:        bold,
		KeyHintDesc:       plain,
		Divider:           plain,
		PaneBorder:        faint,
		PaneBorderFocused: bold,
		Title:             bold,
		TitleFocused:      bold.Underline(true),

		ColumnHeader:    bold,
		Row:             plain,
		RowSelected:     reverse,
		RowSelectedBlur: underline,
		Muted:           faint,

		VerbRead:   plain,
		VerbWrite:  plain,
		VerbDelete: bold,
		VerbOther:  plain,
		Code2xx:    plain,
		Code3xx:    plain,
		Code4xx:    plain,
		Code5xx:    bold,
		CodeNone:   faint,

		Match: reverse.Bold(true),

		TimelineOK:        plain,
		Timeline4xx:       plain,
		Timeline5xx:       bold,
		TimelineRead:      plain,
		TimelineWrite:     plain,
		TimelineDelete:    bold,
		TimelineAxis:      faint,
		TimelineLabel:     faint,
		TimelineCursor:    reverse,
		TimelineSelection: underline,
		TimelineEmpty:     faint,

		JSONKey:      bold,
		JSONString:   plain,
		JSONNumber:   plain,
		JSONBool:     plain,
		JSONNull:     faint,
		JSONPunct:    plain,
		JSONFolded:   faint,
		JSONRedacted: faint.Italic(true),

		FilterPrompt:       bold,
		FilterText:         plain,
		FilterError:        bold,
		FilterErrorPos:     reverse,
		FilterOK:           plain,
		Completion:         plain,
		CompletionSelected: reverse,

		HelpBox:     frame,
		HelpKey:     bold,
		HelpDesc:    plain,
		HelpSection: bold.Underline(true),

		ProgressFull:  plain,
		ProgressEmpty: faint,
		ProgressText:  plain,

		Dialog:  frame,
		Error:   bold,
		Warning: plain,
		OK:      plain,
	}
}
