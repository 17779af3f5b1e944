// Package themes holds ktrail's colour themes: the built-in palettes (dark,
// light, high-contrast), user themes loaded from YAML files, NO_COLOR support,
// and the Styles the TUI renders with.
//
// A Theme is only a palette of colour strings; NewStyles turns it into
// lipgloss styles. Every place in the TUI that draws something takes its
// style from a Styles value, so switching themes at run time is one call.
package themes

import (
	"fmt"
	"image/color"
	"math"
	"reflect"
	"strconv"
	"strings"

	"charm.land/lipgloss/v2"
)

// Theme is a named palette. Colour values are strings: "#rrggbb", "#rgb" or
// an ANSI index "0".."255". An empty colour inherits the colour of Base.
type Theme struct {
	// Name is what --theme and the config file select the theme by.
	Name string `json:"name"`
	// Base is the built-in theme a user theme starts from; empty means
	// "dark". Built-in themes leave it empty.
	Base string `json:"base,omitempty"`

	Fg         string `json:"fg,omitempty"`         // normal text
	Muted      string `json:"muted,omitempty"`      // secondary text, hints, labels
	Accent     string `json:"accent,omitempty"`     // focus, prompts, key names
	Border     string `json:"border,omitempty"`     // pane borders, dividers; also the blurred-selection background
	HeaderFg   string `json:"headerFg,omitempty"`   // text of the header bar
	HeaderBg   string `json:"headerBg,omitempty"`   // background of the header bar
	SelectedFg string `json:"selectedFg,omitempty"` // text of the selected row
	SelectedBg string `json:"selectedBg,omitempty"` // background of the selected row

	Error   string `json:"error,omitempty"`
	Warning string `json:"warning,omitempty"`
	OK      string `json:"ok,omitempty"`

	Read   string `json:"read,omitempty"`   // get, list, watch
	Write  string `json:"write,omitempty"`  // create, update, patch
	Delete string `json:"delete,omitempty"` // delete, deletecollection

	Code2xx string `json:"code2xx,omitempty"`
	Code4xx string `json:"code4xx,omitempty"`
	Code5xx string `json:"code5xx,omitempty"`

	JSONKey    string `json:"jsonKey,omitempty"`
	JSONString string `json:"jsonString,omitempty"`
	JSONNumber string `json:"jsonNumber,omitempty"`
	JSONBool   string `json:"jsonBool,omitempty"`
	JSONNull   string `json:"jsonNull,omitempty"`
	JSONPunct  string `json:"jsonPunct,omitempty"`

	MatchFg string `json:"matchFg,omitempty"` // search-match highlight text
	MatchBg string `json:"matchBg,omitempty"` // search-match highlight background
}

// The built-in palettes. Contrast intent (WCAG 2 contrast ratios, checked by
// TestBuiltinContrast against a representative terminal background: #1c1c1c
// for dark, #ffffff for light, #000000 for high-contrast):
//   - text colours (fg, accent, status, verb, code and JSON colours) reach at
//     least 4.5:1 against the terminal background;
//   - muted text and JSON punctuation reach at least 3:1;
//   - headerFg on headerBg, selectedFg on selectedBg and matchFg on matchBg
//     reach at least 4.5:1, muted and accent on headerBg at least 3:1;
//   - border is deliberately subtle (it is decoration), but fg stays readable
//     on it because the blurred selection uses it as a background.
//
// High-contrast aims higher: pure colours, white and black, at least 7:1 for
// text (pure red, 5.25:1 on black, is the one exception), and a bold
// selection.
var (
	dark = Theme{
		Name:  "dark",
		Fg:    "#d0d0d0",
		Muted: "#8a8a8a", Accent: "#5fafff", Border: "#4e4e4e",
		HeaderFg: "#e4e4e4", HeaderBg: "#303030",
		SelectedFg: "#ffffff", SelectedBg: "#005f87",
		Error: "#ff5f5f", Warning: "#ffd75f", OK: "#87d787",
		Read: "#87afff", Write: "#ffaf5f", Delete: "#ff5f87",
		Code2xx: "#87d787", Code4xx: "#ffd75f", Code5xx: "#ff5f5f",
		JSONKey: "#87d7ff", JSONString: "#afd787", JSONNumber: "#ffaf87",
		JSONBool: "#d787ff", JSONNull: "#d787af", JSONPunct: "#8a8a8a",
		MatchFg: "#1c1c1c", MatchBg: "#ffd75f",
	}
	light = Theme{
		Name:  "light",
		Fg:    "#1c1c1c",
		Muted: "#5f5f5f", Accent: "#005fd7", Border: "#c6c6c6",
		HeaderFg: "#1c1c1c", HeaderBg: "#e4e4e4",
		SelectedFg: "#ffffff", SelectedBg: "#005faf",
		Error: "#d70000", Warning: "#875f00", OK: "#007700",
		Read: "#005fd7", Write: "#af5f00", Delete: "#d7005f",
		Code2xx: "#007700", Code4xx: "#875f00", Code5xx: "#d70000",
		JSONKey: "#005f87", JSONString: "#005f00", JSONNumber: "#af5f00",
		JSONBool: "#8700af", JSONNull: "#875f87", JSONPunct: "#6c6c6c",
		MatchFg: "#000000", MatchBg: "#ffd75f",
	}
	highContrast = Theme{
		Name:  "high-contrast",
		Fg:    "#ffffff",
		Muted: "#c0c0c0", Accent: "#00ffff", Border: "#808080",
		HeaderFg: "#ffffff", HeaderBg: "#0000ff",
		SelectedFg: "#000000", SelectedBg: "#ffffff",
		Error: "#ff0000", Warning: "#ffff00", OK: "#00ff00",
		Read: "#00ffff", Write: "#ffff00", Delete: "#ff0000",
		Code2xx: "#00ff00", Code4xx: "#ffff00", Code5xx: "#ff0000",
		JSONKey: "#00ffff", JSONString: "#00ff00", JSONNumber: "#ffff00",
		JSONBool: "#ff87ff", JSONNull: "#c0c0c0", JSONPunct: "#ffffff",
		MatchFg: "#000000", MatchBg: "#ffff00",
	}
)

// highContrastName is the built-in whose selection (and that of every theme
// based on it) is drawn bold as well as coloured.
const highContrastName = "high-contrast"

// Builtins returns the built-in themes dark, light and high-contrast, in that
// order, with every colour filled in. The slice is a fresh copy on each call.
func Builtins() []Theme {
	return []Theme{dark, light, highContrast}
}

// Default returns the default theme, dark.
func Default() Theme {
	return dark
}

// builtin returns the built-in theme called name (case-insensitively).
func builtin(name string) (Theme, bool) {
	for _, t := range Builtins() {
		if strings.EqualFold(t.Name, strings.TrimSpace(name)) {
			return t, true
		}
	}
	return Theme{}, false
}

// builtinNames returns the names of the built-in themes, in order.
func builtinNames() []string {
	return names(Builtins())
}

// names returns the names of all, in order.
func names(all []Theme) []string {
	out := make([]string, len(all))
	for i, t := range all {
		out[i] = t.Name
	}
	return out
}

// Find returns the theme in all whose name equals name, ignoring case and
// surrounding spaces. An empty name selects Default. The error for an
// unknown name lists the available names.
func Find(all []Theme, name string) (Theme, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return Default(), nil
	}
	for _, t := range all {
		if strings.EqualFold(t.Name, name) {
			return t, nil
		}
	}
	return Theme{}, fmt.Errorf("themes: unknown theme %q (available: %s)", name, strings.Join(names(all), ", "))
}

// Next returns the theme after current in all (matched like Find), wrapping
// from the last to the first. An unknown current yields the first theme, and
// an empty all yields Default.
func Next(all []Theme, current string) Theme {
	if len(all) == 0 {
		return Default()
	}
	current = strings.TrimSpace(current)
	for i, t := range all {
		if strings.EqualFold(t.Name, current) {
			return all[(i+1)%len(all)]
		}
	}
	return all[0]
}

// NoColor reports whether the NO_COLOR environment variable, read through
// getenv, is set to a non-empty value (https://no-color.org).
func NoColor(getenv func(string) string) bool {
	return getenv("NO_COLOR") != ""
}

// colourField is one colour of a Theme: its YAML key and field index.
type colourField struct {
	key   string
	index int
}

// colourFields lists the colour fields of Theme (every string field except
// name and base) in declaration order; keys come from the json tags so the
// YAML format and the struct cannot drift apart.
var colourFields = func() []colourField {
	var out []colourField
	rt := reflect.TypeFor[Theme]()
	for i := range rt.NumField() {
		f := rt.Field(i)
		key, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if f.Type.Kind() != reflect.String || key == "name" || key == "base" {
			continue
		}
		out = append(out, colourField{key: key, index: i})
	}
	return out
}()

// colourPtr returns a pointer to the colour field cf of t.
func colourPtr(t *Theme, cf colourField) *string {
	return reflect.ValueOf(t).Elem().Field(cf.index).Addr().Interface().(*string)
}

// overlay returns base with every non-empty colour of top copied over it.
func overlay(base, top Theme) Theme {
	for _, cf := range colourFields {
		if v := *colourPtr(&top, cf); v != "" {
			*colourPtr(&base, cf) = v
		}
	}
	return base
}

// complete fills the empty colours of t from its base (or, failing that, from
// the built-in of the same name, or from dark), so hand-built themes render.
func complete(t Theme) Theme {
	base, ok := builtin(t.Base)
	if !ok {
		if base, ok = builtin(t.Name); !ok {
			base = Default()
		}
	}
	out := overlay(base, t)
	out.Name, out.Base = t.Name, t.Base
	return out
}

// checkColour returns an error unless s is "#rrggbb", "#rgb" or a decimal
// ANSI index 0..255.
func checkColour(s string) error {
	if strings.HasPrefix(s, "#") {
		hex := s[1:]
		if len(hex) != 3 && len(hex) != 6 {
			return fmt.Errorf("%q is not a colour: want \"#rrggbb\", \"#rgb\" or an ANSI index 0-255", s)
		}
		for _, c := range hex {
			if !strings.ContainsRune("0123456789abcdefABCDEF", c) {
				return fmt.Errorf("%q is not a colour: %q is not a hex digit", s, c)
			}
		}
		return nil
	}
	if s == "" || len(s) > 3 || strings.Trim(s, "0123456789") != "" {
		return fmt.Errorf("%q is not a colour: want \"#rrggbb\", \"#rgb\" or an ANSI index 0-255", s)
	}
	if n, _ := strconv.Atoi(s); n > 255 {
		return fmt.Errorf("%q is not a colour: ANSI indexes run from 0 to 255", s)
	}
	return nil
}

// luminance returns the WCAG 2 relative luminance of c.
func luminance(c color.Color) float64 {
	r, g, b, _ := c.RGBA()
	lin := func(v uint32) float64 {
		x := float64(v) / 0xffff
		if x <= 0.04045 {
			return x / 12.92
		}
		return math.Pow((x+0.055)/1.055, 2.4)
	}
	return 0.2126*lin(r) + 0.7152*lin(g) + 0.0722*lin(b)
}

// contrast returns the WCAG 2 contrast ratio (1 to 21) of colour strings a
// and b.
func contrast(a, b string) float64 {
	la, lb := luminance(lipgloss.Color(a)), luminance(lipgloss.Color(b))
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05)
}

// readableOn returns the first of preferred that reaches a 4.5:1 contrast
// ratio on bg, or else whichever of black and white contrasts more. It keeps
// text on coloured backgrounds (badges, the blurred selection) legible in
// user themes whose colours were not chosen with those pairs in mind.
func readableOn(bg string, preferred ...string) string {
	for _, p := range preferred {
		if contrast(p, bg) >= 4.5 {
			return p
		}
	}
	if contrast("#000000", bg) >= contrast("#ffffff", bg) {
		return "#000000"
	}
	return "#ffffff"
}
