package tui

import "charm.land/bubbles/v2/key"

// KeyMap holds every key binding of the TUI. It drives both the key
// handling and the help overlay and key-hint line, so the two cannot
// disagree.
type KeyMap struct {
	Up, Down, PageUp, PageDown, Top, Bottom key.Binding
	Left, Right                             key.Binding
	Search, NextMatch, PrevMatch            key.Binding
	Filter, Clear, Open, Focus              key.Binding
	Keep, Drop                              key.Binding
	JumpTime, Follow, Copy, Theme           key.Binding
	Layout, Fold, Columns, Save             key.Binding
	ZoomIn, ZoomOut, StackMode, Select      key.Binding
	Pivot, PivotSort, Object, UserActivity  key.Binding
	Request, Mark, Note, NextMark, PrevMark key.Binding
	Views, ViewSave, ViewDelete, Report     key.Binding
	Detections                              key.Binding
	Help, Quit                              key.Binding
}

// DefaultKeyMap returns the bindings: vim, k9s and lnav habits.
func DefaultKeyMap() KeyMap {
	b := func(keys []string, k, desc string) key.Binding {
		return key.NewBinding(key.WithKeys(keys...), key.WithHelp(k, desc))
	}
	return KeyMap{
		Up:        b([]string{"k", "up"}, "↑/k", "up"),
		Down:      b([]string{"j", "down"}, "↓/j", "down"),
		PageUp:    b([]string{"pgup", "ctrl+b", "ctrl+u"}, "PgUp", "page up"),
		PageDown:  b([]string{"pgdown", "ctrl+f", "ctrl+d", "space"}, "PgDn", "page down"),
		Top:       b([]string{"g", "home"}, "g", "first event"),
		Bottom:    b([]string{"G", "end"}, "G", "last event"),
		Left:      b([]string{"h", "left"}, "←/h", "column / scroll left"),
		Right:     b([]string{"l", "right"}, "→/l", "column / scroll right"),
		Search:    b([]string{"/"}, "/", "search text"),
		NextMatch: b([]string{"n"}, "n", "next match"),
		PrevMatch: b([]string{"N"}, "N", "previous match"),
		Filter:    b([]string{"f", ":"}, "f/:", "edit filter"),
		Clear:     b([]string{"esc"}, "Esc", "back / undo last step"),
		Open:      b([]string{"enter"}, "Enter", "open event / fold"),
		Focus:     b([]string{"tab"}, "Tab", "next pane"),
		Keep:      b([]string{"+", "="}, "+", "keep value under cursor"),
		Drop:      b([]string{"-"}, "-", "drop value under cursor"),
		JumpTime:  b([]string{"t"}, "t", "jump to time"),
		Follow:    b([]string{"F"}, "F", "follow / pause"),
		Copy:      b([]string{"y"}, "y", "copy event JSON"),
		Theme:     b([]string{"T"}, "T", "next theme"),
		Layout:    b([]string{"z"}, "z", "detail right/below/full"),
		Fold:      b([]string{"Z"}, "Z", "detail: fold all / unfold all"),
		Columns:   b([]string{"c"}, "c", "choose columns"),
		Save:      b([]string{"s"}, "s", "save view"),
		ZoomIn:    b([]string{"]"}, "]", "timeline zoom in"),
		ZoomOut:   b([]string{"["}, "[", "timeline zoom out"),
		StackMode: b([]string{"b"}, "b", "timeline: outcome / verb"),
		Select:    b([]string{"V"}, "V", "timeline: select span"),

		Pivot:        b([]string{"p"}, "p", "pivot: group by field(s)"),
		PivotSort:    b([]string{"1", "2", "3", "4"}, "1-4", "pivot: sort count/first/last/key"),
		Object:       b([]string{"o"}, "o", "object history with diffs"),
		UserActivity: b([]string{"u"}, "u", "user's activity over time"),
		Request:      b([]string{"a"}, "a", "all stages of the request"),
		Mark:         b([]string{"m"}, "m", "mark / unmark event"),
		Note:         b([]string{"M"}, "M", "note on event"),
		NextMark:     b([]string{"'"}, "'", "next mark"),
		PrevMark:     b([]string{"\""}, "\"", "previous mark"),
		Views:        b([]string{"v"}, "v", "saved views"),
		ViewSave:     b([]string{"n", "s"}, "n/s", "views: save current"),
		ViewDelete:   b([]string{"d"}, "d", "views: delete"),
		Report:       b([]string{"S"}, "S", "report"),
		Detections:   b([]string{"D"}, "D", "detections panel"),
		Help:         b([]string{"?"}, "?", "help"),
		Quit:         b([]string{"q", "ctrl+c"}, "q", "quit"),
	}
}

// ShortHelp is the key-hint line.
func (k KeyMap) ShortHelp() []key.Binding {
	short := func(b key.Binding, desc string) key.Binding {
		b.SetHelp(b.Help().Key, desc)
		return b
	}
	return []key.Binding{short(k.Filter, "filter"), short(k.Search, "search"), short(k.Open, "open"),
		short(k.Keep, "keep"), short(k.Drop, "drop"), short(k.Follow, "follow"), short(k.Save, "save"),
		short(k.Help, "help"), short(k.Quit, "quit")}
}

// FullHelp is the help overlay, one group per column.
func (k KeyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		{k.Up, k.Down, k.PageUp, k.PageDown, k.Top, k.Bottom, k.Left, k.Right, k.JumpTime, k.Follow},
		{k.Filter, k.Keep, k.Drop, k.Clear, k.Search, k.NextMatch, k.PrevMatch, k.Columns},
		{k.Open, k.Focus, k.Layout, k.Fold, k.Copy, k.Save, k.Theme, k.Help, k.Quit},
		{k.ZoomIn, k.ZoomOut, k.StackMode, k.Select},
		{k.Pivot, k.PivotSort, k.Object, k.UserActivity, k.Request, k.Mark, k.Note, k.NextMark, k.PrevMark,
			k.Views, k.ViewSave, k.ViewDelete, k.Report, k.Detections},
	}
}
