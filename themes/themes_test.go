package themes

import (
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"charm.land/lipgloss/v2"
)

// colourFieldNames returns the Go names of Theme's colour fields.
func colourFieldNames() []string {
	var out []string
	rt := reflect.TypeFor[Theme]()
	for _, cf := range colourFields {
		out = append(out, rt.Field(cf.index).Name)
	}
	return out
}

func TestColourFieldsCoverTheme(t *testing.T) {
	rt := reflect.TypeFor[Theme]()
	if got, want := len(colourFields), rt.NumField()-2; got != want {
		t.Fatalf("colourFields has %d entries, Theme has %d colour fields", got, want)
	}
	for _, name := range []string{"Fg", "HeaderFg", "Code2xx", "JSONKey", "MatchBg"} {
		if !slices.Contains(colourFieldNames(), name) {
			t.Errorf("colourFields lacks %s", name)
		}
	}
	keys := map[string]bool{}
	for _, cf := range colourFields {
		keys[cf.key] = true
	}
	for _, k := range []string{"fg", "muted", "headerFg", "selectedBg", "ok", "code4xx", "jsonPunct", "matchFg"} {
		if !keys[k] {
			t.Errorf("no YAML key %q", k)
		}
	}
}

func TestBuiltinsComplete(t *testing.T) {
	all := Builtins()
	if got := names(all); !slices.Equal(got, []string{"dark", "light", "high-contrast"}) {
		t.Fatalf("Builtins names = %v", got)
	}
	if Default() != all[0] {
		t.Errorf("Default() = %q, want dark", Default().Name)
	}
	for _, th := range all {
		v := reflect.ValueOf(th)
		for i := range v.NumField() {
			f := v.Type().Field(i)
			if f.Name == "Base" {
				continue
			}
			val := v.Field(i).String()
			if val == "" {
				t.Errorf("%s: %s is empty", th.Name, f.Name)
				continue
			}
			if f.Name == "Name" {
				continue
			}
			if err := checkColour(val); err != nil {
				t.Errorf("%s: %s: %v", th.Name, f.Name, err)
			}
			if _, isNone := lipgloss.Color(val).(lipgloss.NoColor); isNone {
				t.Errorf("%s: %s = %q does not parse as a lipgloss colour", th.Name, f.Name, val)
			}
		}
	}
	all[0].Fg = "#000000"
	if Builtins()[0].Fg == "#000000" {
		t.Error("Builtins returns shared state")
	}
}

// TestBuiltinContrast checks the contrast intent documented on the palettes.
func TestBuiltinContrast(t *testing.T) {
	terminalBg := map[string]string{"dark": "#1c1c1c", "light": "#ffffff", "high-contrast": "#000000"}
	for _, th := range Builtins() {
		bg := terminalBg[th.Name]
		text := 4.5
		if th.Name == "high-contrast" {
			text = 7
		}
		check := func(what, fg, bg string, min float64) {
			if r := contrast(fg, bg); r < min {
				t.Errorf("%s: %s %s on %s: contrast %.2f < %.1f", th.Name, what, fg, bg, r, min)
			}
		}
		for _, c := range []struct {
			what string
			fg   string
		}{
			{"fg", th.Fg}, {"accent", th.Accent}, {"error", th.Error}, {"warning", th.Warning},
			{"ok", th.OK}, {"read", th.Read}, {"write", th.Write}, {"delete", th.Delete},
			{"code2xx", th.Code2xx}, {"code4xx", th.Code4xx}, {"code5xx", th.Code5xx},
			{"jsonKey", th.JSONKey}, {"jsonString", th.JSONString}, {"jsonNumber", th.JSONNumber},
			{"jsonBool", th.JSONBool}, {"jsonNull", th.JSONNull},
		} {
			min := text
			if th.Name == "high-contrast" && (c.what == "error" || c.what == "delete" || c.what == "code5xx") {
				min = 5 // pure red on black is 5.25:1; it stays pure by design
			}
			check(c.what, c.fg, bg, min)
		}
		check("muted", th.Muted, bg, 3)
		check("jsonPunct", th.JSONPunct, bg, 3)
		check("headerFg", th.HeaderFg, th.HeaderBg, 4.5)
		check("muted in header", th.Muted, th.HeaderBg, 3)
		check("accent in header", th.Accent, th.HeaderBg, 3)
		check("selectedFg", th.SelectedFg, th.SelectedBg, 4.5)
		check("matchFg", th.MatchFg, th.MatchBg, 4.5)
		check("fg on border", readableOn(th.Border, th.Fg, th.SelectedFg), th.Border, 4.5)
	}
}

func TestCheckColour(t *testing.T) {
	for _, ok := range []string{"#d0d0d0", "#FFF", "#aBc", "0", "15", "208", "255"} {
		if err := checkColour(ok); err != nil {
			t.Errorf("checkColour(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"", "#", "#12", "#1234", "#12345", "#1234567", "#ggg", "256", "1000", "-1", "red", "0x10", " 1"} {
		if err := checkColour(bad); err == nil {
			t.Errorf("checkColour(%q) = nil, want an error", bad)
		}
	}
}

// writeFiles creates the named files (a trailing "/" makes a directory).
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		p := filepath.Join(dir, name)
		if strings.HasSuffix(name, "/") {
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// errorFor returns the message of the one error naming file, failing unless
// there is exactly one.
func errorFor(t *testing.T, errs []error, file string) string {
	t.Helper()
	var found []string
	for _, e := range errs {
		if strings.Contains(e.Error(), file+":") {
			found = append(found, e.Error())
		}
	}
	if len(found) != 1 {
		t.Fatalf("want one error for %s, got %q", file, found)
	}
	return found[0]
}

func TestLoadDir(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"solar.yaml":      "base: light\nfg: \"#101010\"\naccent: \"#0000af\"\n",
		"night.yml":       "name: Night Owl\nmuted: 244\nborder: \"\"\n",
		"typo.yaml":       "fgg: \"#ffffff\"\n",
		"badcolour.yaml":  "fg: \"#12345\"\n",
		"badbase.yaml":    "base: solarized\n",
		"unquoted.yaml":   "fg: #d0d0d0\n",
		"notes.txt":       "fg: nonsense\n",
		"README.md":       "# not a theme\n",
		".hidden.yaml":    "fgg: 1\n",
		"sub.yaml/":       "",
		"UPPER.YAML":      "warning: \"#abc\"\n",
		"default-me.yaml": "# only a comment\n",
	})
	got, errs := LoadDir(dir)

	if n := names(got); !slices.Equal(n, []string{"UPPER", "default-me", "Night Owl", "solar"}) {
		t.Fatalf("loaded %v (errors %v)", n, errs)
	}
	solar := got[3]
	want := Builtins()[1]
	want.Name, want.Base, want.Fg, want.Accent = "solar", "light", "#101010", "#0000af"
	if solar != want {
		t.Errorf("solar = %+v\nwant   %+v", solar, want)
	}
	night := got[2]
	if night.Base != "dark" || night.Muted != "244" || night.Border != Default().Border || night.Fg != Default().Fg {
		t.Errorf("Night Owl = %+v, want dark with muted 244", night)
	}
	if got[0].Warning != "#abc" {
		t.Errorf("UPPER.YAML warning = %q", got[0].Warning)
	}
	if d := got[1]; d.Name != "default-me" || d.Base != "dark" {
		t.Errorf("comment-only file = %+v, want dark under the file's name", d)
	} else if d.Name, d.Base = "dark", ""; d != Default() {
		t.Errorf("comment-only file = %+v, want dark's colours", d)
	}

	if len(errs) != 4 {
		t.Errorf("want 4 errors, got %d: %q", len(errs), errs)
	}
	for _, e := range errs {
		if msg := e.Error(); !strings.HasPrefix(msg, "themes: "+dir) || strings.Contains(msg, "\n") {
			t.Errorf("error %q: want one line starting with the file path", msg)
		}
	}
	typo := filepath.Join(dir, "typo.yaml")
	if msg, want := errorFor(t, errs, typo), "themes: "+typo+`: key "fgg" is not a theme colour (did you mean "fg"?)`; msg != want {
		t.Errorf("typo error\n got %s\nwant %s", msg, want)
	}
	if msg := errorFor(t, errs, filepath.Join(dir, "badcolour.yaml")); !strings.Contains(msg, `key "fg": "#12345" is not a colour`) {
		t.Errorf("bad colour error = %s", msg)
	}
	if msg := errorFor(t, errs, filepath.Join(dir, "badbase.yaml")); !strings.Contains(msg, `"solarized" is not a built-in theme (built-ins: dark, light, high-contrast)`) {
		t.Errorf("bad base error = %s", msg)
	}
	if msg := errorFor(t, errs, filepath.Join(dir, "unquoted.yaml")); !strings.Contains(msg, `key "fg": no value; quote hex colours`) {
		t.Errorf("unquoted colour error = %s", msg)
	}
}

func TestLoadDirMissingOrEmpty(t *testing.T) {
	for _, dir := range []string{"", filepath.Join(t.TempDir(), "nope")} {
		got, errs := LoadDir(dir)
		if got != nil || errs != nil {
			t.Errorf("LoadDir(%q) = %v, %v; want nothing", dir, got, errs)
		}
	}
	got, errs := LoadDir(t.TempDir())
	if len(got) != 0 || len(errs) != 0 {
		t.Errorf("empty dir: %v, %v", got, errs)
	}
	file := filepath.Join(t.TempDir(), "plain")
	writeFiles(t, filepath.Dir(file), map[string]string{"plain": "x"})
	if _, errs := LoadDir(file); len(errs) != 1 || !strings.HasPrefix(errs[0].Error(), "themes: reading theme directory ") {
		t.Errorf("LoadDir(file) errors = %v", errs)
	}
}

func TestLoadDirRejects(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"a-first.yaml":  "name: Mine\n",
		"b-dup.yaml":    "name: MINE\n",
		"dark.yaml":     "accent: \"#ff0000\"\n",
		"hc.yaml":       "name: High-Contrast\n",
		"broken.yaml":   "fg: [\n",
		"list.yaml":     "- fg\n- muted\n",
		"twice.yaml":    "fg: \"1\"\nfg: \"2\"\n",
		"types.yaml":    "name: 3\nbase: light\nfg: true\nmuted: 3.5\naccent: 256\n",
		"emptyname.yml": "name: \"  \"\n",
		"multi.yaml":    "fgg: 1\nheaderfg: 2\nzzzzzz: 3\n",
	})
	got, errs := LoadDir(dir)
	if n := names(got); !slices.Equal(n, []string{"Mine"}) {
		t.Errorf("loaded %v, want only Mine", n)
	}
	p := func(f string) string { return filepath.Join(dir, f) }
	for file, want := range map[string]string{
		"b-dup.yaml":    `name "MINE" is already used by a-first.yaml`,
		"dark.yaml":     `name "dark" is already used by the built-in theme`,
		"hc.yaml":       `name "High-Contrast" is already used by the built-in theme`,
		"broken.yaml":   "invalid YAML: yaml: line 1:",
		"list.yaml":     "want a mapping of theme keys to colours, got a list",
		"twice.yaml":    `key "fg" already set`,
		"emptyname.yml": `key "name": the name is empty`,
	} {
		if msg := errorFor(t, errs, p(file)); !strings.Contains(msg, want) {
			t.Errorf("%s: error %q lacks %q", file, msg, want)
		}
	}
	var typeErrs, multiErrs []string
	for _, e := range errs {
		if strings.Contains(e.Error(), p("types.yaml")) {
			typeErrs = append(typeErrs, e.Error())
		}
		if strings.Contains(e.Error(), p("multi.yaml")) {
			multiErrs = append(multiErrs, e.Error())
		}
	}
	joined := strings.Join(typeErrs, "\n")
	for _, want := range []string{`key "name" must be a string, got a number`, `key "fg": want a colour string, got a boolean`, `key "muted": 3.5 is not a colour`, `key "accent": 256 is not a colour`} {
		if !strings.Contains(joined, want) {
			t.Errorf("types.yaml errors %q lack %q", typeErrs, want)
		}
	}
	joined = strings.Join(multiErrs, "\n")
	for _, want := range []string{`key "fgg" is not a theme colour (did you mean "fg"?)`, `key "headerfg" is not a theme colour (did you mean "headerFg"?)`, `key "zzzzzz" is not a theme colour (valid keys: name, base, fg, muted,`} {
		if !strings.Contains(joined, want) {
			t.Errorf("multi.yaml errors %q lack %q", multiErrs, want)
		}
	}
}

func TestUserDir(t *testing.T) {
	env := func(kv ...string) func(string) string {
		return func(k string) string {
			for i := 0; i < len(kv); i += 2 {
				if kv[i] == k {
					return kv[i+1]
				}
			}
			return ""
		}
	}
	for _, c := range []struct {
		env  func(string) string
		want string
	}{
		{env("XDG_CONFIG_HOME", "/xdg", "HOME", "/home/u"), filepath.Join("/xdg", "ktrail", "themes")},
		{env("XDG_CONFIG_HOME", "", "HOME", "/home/u"), filepath.Join("/home/u", ".config", "ktrail", "themes")},
		{env("XDG_CONFIG_HOME", "rel/dir", "HOME", "/home/u"), filepath.Join("/home/u", ".config", "ktrail", "themes")},
		{env("XDG_CONFIG_HOME", "/xdg"), filepath.Join("/xdg", "ktrail", "themes")},
		{env(), ""},
	} {
		if got := UserDir(c.env); got != c.want {
			t.Errorf("UserDir = %q, want %q", got, c.want)
		}
	}
}

func TestFind(t *testing.T) {
	all := append(Builtins(), Theme{Name: "Mine", Base: "light"})
	for name, want := range map[string]string{"LIGHT": "light", " dark ": "dark", "mine": "Mine", "High-Contrast": "high-contrast", "": "dark"} {
		got, err := Find(all, name)
		if err != nil || got.Name != want {
			t.Errorf("Find(%q) = %q, %v; want %q", name, got.Name, err, want)
		}
	}
	_, err := Find(all, "solarized")
	if err == nil || err.Error() != `themes: unknown theme "solarized" (available: dark, light, high-contrast, Mine)` {
		t.Errorf("Find(solarized) error = %v", err)
	}
}

func TestNext(t *testing.T) {
	all := append(Builtins(), Theme{Name: "Mine"})
	cur := "dark"
	var seen []string
	for range 5 {
		cur = Next(all, cur).Name
		seen = append(seen, cur)
	}
	if want := []string{"light", "high-contrast", "Mine", "dark", "light"}; !slices.Equal(seen, want) {
		t.Errorf("cycle = %v, want %v", seen, want)
	}
	if got := Next(all, "MINE").Name; got != "dark" {
		t.Errorf("Next(MINE) = %q, want wrap to dark", got)
	}
	if got := Next(all, "gone").Name; got != "dark" {
		t.Errorf("Next(unknown) = %q, want the first theme", got)
	}
	if got := Next(nil, "dark").Name; got != "dark" {
		t.Errorf("Next(nil) = %q, want Default", got)
	}
	if got := Next(all[:1], "dark").Name; got != "dark" {
		t.Errorf("Next of a single theme = %q", got)
	}
}

func TestNoColor(t *testing.T) {
	for val, want := range map[string]bool{"": false, "1": true, "0": true, "true": true} {
		getenv := func(k string) string {
			if k == "NO_COLOR" {
				return val
			}
			return ""
		}
		if got := NoColor(getenv); got != want {
			t.Errorf("NO_COLOR=%q: NoColor = %v, want %v", val, got, want)
		}
	}
	if NoColor(func(string) string { return "" }) {
		t.Error("unset NO_COLOR: NoColor = true")
	}
}

// requiredStyles are the Styles fields the TUI is written against.
var requiredStyles = strings.Fields(`App Header HeaderDim Banner BadgeLive BadgeFollow BadgePaused BadgeNew
	KeyHintKey KeyHintDesc Divider PaneBorder PaneBorderFocused Title TitleFocused
	ColumnHeader Row RowSelected RowSelectedBlur Muted
	VerbRead VerbWrite VerbDelete VerbOther Code2xx Code3xx Code4xx Code5xx CodeNone Match
	TimelineOK Timeline4xx Timeline5xx TimelineRead TimelineWrite TimelineDelete TimelineAxis
	TimelineLabel TimelineCursor TimelineSelection TimelineEmpty
	JSONKey JSONString JSONNumber JSONBool JSONNull JSONPunct JSONFolded JSONRedacted
	FilterPrompt FilterText FilterError FilterErrorPos FilterOK Completion CompletionSelected
	HelpBox HelpKey HelpDesc HelpSection ProgressFull ProgressEmpty ProgressText
	Dialog Error Warning OK`)

// styleFields returns every lipgloss.Style field of s by name.
func styleFields(t *testing.T, s *Styles) map[string]lipgloss.Style {
	t.Helper()
	out := map[string]lipgloss.Style{}
	v := reflect.ValueOf(s).Elem()
	for i := range v.NumField() {
		if st, ok := v.Field(i).Interface().(lipgloss.Style); ok {
			out[v.Type().Field(i).Name] = st
		}
	}
	for _, name := range requiredStyles {
		if _, ok := out[name]; !ok {
			t.Errorf("Styles lacks the lipgloss.Style field %s", name)
		}
	}
	return out
}

var sgrRE = regexp.MustCompile("\x1b\\[([0-9;:]*)m")

// colourSGR returns the first colour-setting SGR parameter in s, or "".
func colourSGR(s string) string {
	for _, m := range sgrRE.FindAllStringSubmatch(s, -1) {
		for _, p := range strings.FieldsFunc(m[1], func(r rune) bool { return r == ';' || r == ':' }) {
			n, err := strconv.Atoi(p)
			if err != nil {
				continue
			}
			switch {
			case n == 38 || n == 48 || n == 58,
				n >= 30 && n <= 37, n >= 40 && n <= 47,
				n >= 90 && n <= 97, n >= 100 && n <= 107:
				return m[0]
			}
		}
	}
	return ""
}

func TestColourSGRDetector(t *testing.T) {
	for s, want := range map[string]bool{
		"\x1b[1;7mx\x1b[m": false, "\x1b[4;4mx\x1b[m": false, "\x1b[2mx\x1b[0m": false,
		"\x1b[38;2;1;2;3mx": true, "\x1b[1;48;5;4mx": true, "\x1b[31mx": true, "\x1b[44mx": true,
		"\x1b[91mx": true, "\x1b[103mx": true,
	} {
		if got := colourSGR(s) != ""; got != want {
			t.Errorf("colourSGR(%q) found = %v, want %v", s, got, want)
		}
	}
}

func TestNoColorStyles(t *testing.T) {
	for _, th := range Builtins() {
		s := NewStyles(th, true)
		if !s.NoColor || s.Name != th.Name {
			t.Errorf("NoColor/Name = %v/%q", s.NoColor, s.Name)
		}
		for name, st := range styleFields(t, s) {
			out := st.Render("text")
			if sgr := colourSGR(out); sgr != "" {
				t.Errorf("%s: %s renders colour SGR %q", th.Name, name, sgr)
			}
		}
	}
	s := NewStyles(Default(), true)
	attr := func(name string, got, want bool) {
		if got != want {
			t.Errorf("no-colour %s = %v, want %v", name, got, want)
		}
	}
	attr("RowSelected reverse", s.RowSelected.GetReverse(), true)
	attr("RowSelectedBlur underline", s.RowSelectedBlur.GetUnderline(), true)
	attr("Match reverse", s.Match.GetReverse(), true)
	attr("Match bold", s.Match.GetBold(), true)
	attr("FilterErrorPos reverse", s.FilterErrorPos.GetReverse(), true)
	attr("TimelineCursor reverse", s.TimelineCursor.GetReverse(), true)
	for name, st := range map[string]lipgloss.Style{
		"Header": s.Header, "Title": s.Title, "ColumnHeader": s.ColumnHeader, "HelpKey": s.HelpKey,
		"JSONKey": s.JSONKey, "KeyHintKey": s.KeyHintKey, "Error": s.Error, "FilterError": s.FilterError,
	} {
		attr(name+" bold", st.GetBold(), true)
	}
	for name, st := range map[string]lipgloss.Style{"BadgeLive": s.BadgeLive, "BadgeFollow": s.BadgeFollow, "BadgePaused": s.BadgePaused, "BadgeNew": s.BadgeNew} {
		attr(name+" reverse", st.GetReverse(), true)
		attr(name+" bold", st.GetBold(), true)
	}
	attr("Muted faint", s.Muted.GetFaint(), true)
	attr("HeaderDim faint", s.HeaderDim.GetFaint(), true)
}

func TestColourStyles(t *testing.T) {
	for _, th := range Builtins() {
		s := NewStyles(th, false)
		if s.NoColor || s.Name != th.Name {
			t.Errorf("NoColor/Name = %v/%q", s.NoColor, s.Name)
		}
		if out := s.RowSelected.Render("row"); !strings.Contains(out, "48;") {
			t.Errorf("%s: RowSelected renders %q, want a background SGR", th.Name, out)
		}
		for name, st := range styleFields(t, s) {
			if _, none := st.GetForeground().(lipgloss.NoColor); none {
				t.Errorf("%s: %s has no foreground", th.Name, name)
			}
			framed := name == "HelpBox" || name == "Dialog"
			top, right, bottom, left := st.GetPadding()
			mt, mr, mb, ml := st.GetMargin()
			_, bt, br, bb, bl := st.GetBorder()
			if !framed && (top+right+bottom+left+mt+mr+mb+ml != 0 || bt || br || bb || bl) {
				t.Errorf("%s: %s has padding, margins or a border", th.Name, name)
			}
			if framed && (!bt || right != 1 || left != 1) {
				t.Errorf("%s: %s lacks its rounded frame", th.Name, name)
			}
		}
		for name, st := range map[string]lipgloss.Style{"RowSelectedBlur": s.RowSelectedBlur, "Match": s.Match, "BadgeLive": s.BadgeLive, "BadgeFollow": s.BadgeFollow, "BadgePaused": s.BadgePaused, "BadgeNew": s.BadgeNew} {
			if _, none := st.GetBackground().(lipgloss.NoColor); none {
				t.Errorf("%s: %s has no background", th.Name, name)
			}
		}
		if !s.BadgeLive.GetBold() || !s.BadgeNew.GetBold() {
			t.Errorf("%s: badges are not bold", th.Name)
		}
		if got, want := s.RowSelected.GetBold(), th.Name == "high-contrast"; got != want {
			t.Errorf("%s: RowSelected bold = %v, want %v", th.Name, got, want)
		}
	}
	// A user theme based on high-contrast keeps the bold selection.
	hc, errs := parse("x.yaml", "mine", []byte("base: high-contrast\nselectedBg: \"#00ff00\"\n"))
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if s := NewStyles(hc, false); !s.RowSelected.GetBold() || !strings.Contains(s.RowSelected.Render("x"), "48;2;0;255;0") {
		t.Errorf("high-contrast-based selection = %q", s.RowSelected.Render("x"))
	}
}

func TestNewStylesFillsIncompleteTheme(t *testing.T) {
	s := NewStyles(Theme{Name: "bare", Fg: "1"}, false)
	if out := s.App.Render("x"); !strings.Contains(out, "\x1b[31m") {
		t.Errorf("App with fg 1 renders %q", out)
	}
	if out := s.RowSelected.Render("x"); !strings.Contains(out, "48;2;0;95;135") {
		t.Errorf("RowSelected of a bare theme renders %q, want dark's selection", out)
	}
	s = NewStyles(Theme{Name: "x", Base: "light"}, false)
	if out := s.Row.Render("x"); !strings.Contains(out, "38;2;28;28;28") {
		t.Errorf("Row of a light-based bare theme renders %q", out)
	}
}

func TestReadableOn(t *testing.T) {
	for bg, want := range map[string]string{"#ffd75f": "#000000", "#005f87": "#ffffff", "#ffffff": "#000000", "#000000": "#ffffff", "0": "#ffffff"} {
		if got := readableOn(bg); got != want {
			t.Errorf("readableOn(%s) = %s, want %s", bg, got, want)
		}
	}
	if got := readableOn("#4e4e4e", "#d0d0d0"); got != "#d0d0d0" {
		t.Errorf("readableOn keeps a readable preference: got %s", got)
	}
	if r := contrast("#000000", "#ffffff"); r < 20.9 || r > 21.1 {
		t.Errorf("contrast(black, white) = %.2f, want 21", r)
	}
}

// TestReadmeExample keeps the example theme in README.md valid.
func TestReadmeExample(t *testing.T) {
	data, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(data), "```yaml\n")
	example, _, ok2 := strings.Cut(rest, "```")
	if !ok || !ok2 {
		t.Fatal("README.md has no yaml example")
	}
	th, errs := parse("README.md", "ocean", []byte(example))
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if th.Name != "ocean" || th.Base != "light" || th.Code4xx != "130" || th.Fg != Builtins()[1].Fg {
		t.Errorf("README example = %+v", th)
	}
}
