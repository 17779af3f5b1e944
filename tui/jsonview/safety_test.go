package jsonview

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
)

// evil are JSON string contents (source form) that try to drive the
// terminal: escaped and raw control sequences, C1 controls, bidi
// overrides, separators and invalid UTF-8.
var evil = []string{
	`\u001b[2J`, `\u001b[31mred\u001b[0m`, `\u001b]52;c;ZXZpbA==\u0007`, `\u0007bell`, `\u009b31m`,
	"\u009b31m", "\x7f", "\u202eevil\u202c", "\u2066iso\u2069", "\u200e\u200f\u061c", "\u2028\u2029",
	"\xff\xfe\xc0\x80", "\xed\xa0\x80", "\u00ad\u200b\ufeff", "\U000e0041\U000e0001", `\ud800`,
	`\\u001b`, `\"\u001b\"`, "\u0085\u008d\u0090\u009c\u009d\u009e\u009f",
}

// evilDoc puts every payload into keys and values at several depths.
func evilDoc() string {
	var b strings.Builder
	b.WriteString(`{"ok":"fine"`)
	for _, e := range evil {
		b.WriteString(`,"` + e + `":["` + e + `",{"` + e + `":"` + e + `"},{"` + e + `":[1]}]`)
	}
	b.WriteString("}")
	return b.String()
}

// isBidi reports whether r is a bidi formatting character.
func isBidi(r rune) bool {
	return r == 0x61c || r == 0x200e || r == 0x200f || r >= 0x202a && r <= 0x202e || r >= 0x2066 && r <= 0x2069
}

// assertSafe fails when s holds anything that could drive a terminal.
func assertSafe(t testing.TB, s string) {
	t.Helper()
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] == 0x7f {
			t.Fatalf("byte 0x%02x at %d in %q", s[i], i, s)
		}
	}
	if !utf8.ValidString(s) {
		t.Fatalf("invalid UTF-8 in %q", s)
	}
	for _, r := range s {
		if r >= 0x80 && r <= 0x9f || isBidi(r) || r == 0x2028 || r == 0x2029 {
			t.Fatalf("rune %U in %q", r, s)
		}
	}
}

// sgrRe matches one SGR sequence.
var sgrRe = regexp.MustCompile("\x1b\\[[0-9;]*m")

// assertSGROnly fails when s holds any escape sequence other than SGR, or
// anything else unsafe once the SGR sequences are removed.
func assertSGROnly(t testing.TB, s string) {
	t.Helper()
	assertSafe(t, sgrRe.ReplaceAllString(s, ""))
}

// everything renders every view of d that the TUI can show.
func everything(d *Doc, st Styles, width, xoff int) []string {
	out := d.Render(st, 0, d.Lines(), width, xoff, 3)
	for l := 0; l < d.Lines(); l++ {
		out = append(out, d.PathAt(l))
	}
	return append(out, strings.Split(d.Text(), "\n")...)
}

func TestSafetyUnstyled(t *testing.T) {
	d := mustParse(t, evilDoc())
	text := d.Text()
	for _, want := range []string{`\u001b[2J`, `\u001b]52;c;ZXZpbA==\u0007`, `\u009b31m`, `\u202eevil\u202c`,
		`\u007f`, `\ufffd\ufffd\ufffd\ufffd`, `\u2028\u2029`, `\u2066iso\u2069`, `\u00ad\u200b\ufeff`, `\udb40\udc41`} {
		if !strings.Contains(text, want) {
			t.Errorf("Text lacks %s", want)
		}
	}
	if !json.Valid([]byte(text)) {
		t.Fatal("escaped Text is not valid JSON")
	}
	if len(d.Search("[2j")) == 0 || len(d.Search("52;C;")) == 0 {
		t.Fatal("escaped payloads are not searchable")
	}
	for pass := 0; pass < 3; pass++ {
		for _, width := range []int{1, 9, 40, 400} {
			for _, xoff := range []int{0, 3, 11} {
				for _, s := range everything(d, Styles{}, width, xoff) {
					assertSafe(t, s)
				}
			}
		}
		if pass == 0 {
			d.FoldAll()
		} else {
			d.FoldDefaults()
			d.FoldPath(`["\u001b[2J"]`)
		}
	}
}

func TestSafetyStyled(t *testing.T) {
	d := mustParse(t, evilDoc())
	st := styled()
	st.Cursor = st.Cursor.Underline(true).Bold(true)
	d.Search("u00")
	for _, width := range []int{1, 17, 300} {
		for _, s := range everything(d, st, width, 2) {
			assertSGROnly(t, s)
		}
	}
	d.FoldAll()
	for _, s := range everything(d, st, 80, 0) {
		assertSGROnly(t, s)
	}
	lines := d.Render(st, 0, d.Lines(), 80, 0, 1)
	if !strings.Contains(strings.Join(lines, ""), "\x1b[") {
		t.Fatal("styled render has no styling")
	}
	for _, l := range lines {
		if ansi.StringWidth(l) != 80 {
			t.Fatalf("width %d: %q", ansi.StringWidth(l), l)
		}
	}
	// Styles that carry layout or hyperlinks contribute only their SGR.
	odd := Styles{Key: lipgloss.NewStyle().Padding(0, 3).Width(50).Hyperlink("http://x").Foreground(lipgloss.Color("1"))}
	for _, l := range d.Render(odd, 0, d.Lines(), 60, 0, -1) {
		assertSGROnly(t, l)
		if ansi.StringWidth(l) != 60 {
			t.Fatalf("width %d: %q", ansi.StringWidth(l), l)
		}
	}
}

func TestParseRejectsRawControls(t *testing.T) {
	for _, s := range []string{"{\"\x1b[2J\":1}", "[\"\x1b]52;c;ZXZpbA==\x07\"]", "\"\x00\"", "[\"\x9b\"]"} {
		d, err := Parse([]byte(s))
		if s == "[\"\x9b\"]" { // a lone C1 byte is invalid UTF-8, which JSON tolerates
			if err != nil || d.Text() != "[\n  \"\\ufffd\"\n]\n" {
				t.Errorf("Parse(%q) = %v, %q", s, err, d.Text())
			}
			continue
		}
		if err == nil {
			t.Fatalf("Parse(%q) accepted a raw control character", s)
		}
		assertSafe(t, err.Error())
	}
}

func TestMustEscape(t *testing.T) {
	for _, r := range []rune{0, 0x1b, 0x1f, 0x7f, 0x80, 0x9b, 0x9f, 0xad, 0x61c, 0x200b, 0x200e, 0x200f,
		0x202a, 0x202e, 0x2028, 0x2029, 0x2060, 0x2065, 0x2066, 0x2069, 0xfeff, 0xfff9, 0xe0001, 0xe0041} {
		if !mustEscape(r) {
			t.Errorf("%U not escaped", r)
		}
	}
	for _, r := range []rune{' ', 'a', '~', 0xa0, 0xe9, 0x5d0, 0x627, 0x200c, 0x200d, 0x2026, 0x65e5, 0xfe0f, 0x1f600, 0x1f1ef, 0xe0100} {
		if mustEscape(r) {
			t.Errorf("%U escaped", r)
		}
	}
}
