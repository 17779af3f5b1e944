package jsonview

import (
	"bytes"
	"encoding/json"
	"math/rand"
	"reflect"
	"strings"
	"testing"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
)

// decode decodes JSON with numbers kept as json.Number.
func decode(t testing.TB, data []byte) any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("decode %q: %v", data, err)
	}
	return v
}

// mustParse parses s or fails the test.
func mustParse(t testing.TB, s string) *Doc {
	t.Helper()
	d, err := Parse([]byte(s))
	if err != nil {
		t.Fatalf("Parse(%q): %v", s, err)
	}
	return d
}

// styled returns Styles in which every element has a distinct look.
func styled() Styles {
	c := func(s string) lipgloss.Style { return lipgloss.NewStyle().Foreground(lipgloss.Color(s)) }
	return Styles{
		Key: c("#ff0000").Bold(true), String: c("#00ff00"), Number: c("4"),
		Bool: c("5"), Null: c("245"), Punct: c("#888888"), Folded: c("6").Italic(true),
		Redacted: c("1").Reverse(true), Match: lipgloss.NewStyle().Background(lipgloss.Color("3")),
		Cursor: lipgloss.NewStyle().Background(lipgloss.Color("#222222")),
	}
}

const small = `{"a":1,"b":[true,null,{}],"c":{"d":"x"},"e":[]}`

const smallText = `{
  "a": 1,
  "b": [
    true,
    null,
    {}
  ],
  "c": {
    "d": "x"
  },
  "e": []
}
`

func TestTextExact(t *testing.T) {
	d := mustParse(t, small)
	if got := d.Text(); got != smallText {
		t.Fatalf("Text:\n%s\nwant:\n%s", got, smallText)
	}
	if d.Lines() != 12 {
		t.Fatalf("Lines = %d, want 12", d.Lines())
	}
}

func TestRoundTrip(t *testing.T) {
	docs := []string{
		small,
		`{}`, `[]`, `0`, `-1.5e-7`, `"x"`, `true`, `null`, ` [ {} , [ ] , [[]], {"":{}} ] `,
		`{"big":12345678901234567890,"huge":1e400,"neg":-0.0E+00,"list":[1,2.50,3e1]}`,
		`{"ünïcødé":"日本語 👨‍👩‍👧‍👦 🇯🇵 é","esc":"\"\\\/\b\f\n\r\t\u0000\u001b\ud83d\ude00\u2028"}`,
		"{\"raw\":\"\u202e\u009b\x7f\xff\xc0\xed\xa0\x80\",\"\xfe\":1}",
		`{"a":{"b":{"c":[{"d":[[[{"e":null}]]]}]}},"dup":1,"dup":2}`,
	}
	for _, s := range docs {
		d := mustParse(t, s)
		text := d.Text()
		if !json.Valid([]byte(text)) {
			t.Fatalf("Text of %q is not valid JSON:\n%s", s, text)
		}
		if got, want := decode(t, []byte(text)), decode(t, []byte(s)); !reflect.DeepEqual(got, want) {
			t.Errorf("round trip of %q:\n got %#v\nwant %#v", s, got, want)
		}
		if n := strings.Count(text, "\n"); n != d.Lines() {
			t.Errorf("%q: Text has %d lines, Lines() = %d", s, n, d.Lines())
		}
	}
	text := mustParse(t, docs[9]).Text()
	for _, lit := range []string{"12345678901234567890", "1e400", "-0.0E+00", "2.50", "3e1"} {
		if !strings.Contains(text, lit) {
			t.Errorf("number %s not kept verbatim:\n%s", lit, text)
		}
	}
}

func TestToggleAndLines(t *testing.T) {
	d := mustParse(t, small)
	if d.Toggle(1) || d.Toggle(5) || d.Toggle(6) || d.Toggle(-1) || d.Toggle(12) {
		t.Fatal("Toggle changed a scalar, empty container, close line or out-of-range line")
	}
	if !d.Toggle(2) { // "b": [
		t.Fatal("Toggle(2) did nothing")
	}
	if d.Lines() != 8 {
		t.Fatalf("Lines after folding b = %d, want 8", d.Lines())
	}
	lines := d.Render(Styles{}, 0, 100, 30, 0, -1)
	if want := `  "b": [… 3 items],`; strings.TrimRight(lines[2], " ") != want {
		t.Fatalf("folded line = %q, want %q", lines[2], want)
	}
	if got := strings.TrimRight(lines[3], " "); got != `  "c": {` {
		t.Fatalf("line after fold = %q", got)
	}
	if !d.Toggle(3) || strings.TrimRight(d.Render(Styles{}, 3, 1, 30, 0, -1)[0], " ") != `  "c": {… 1 key},` {
		t.Fatal("folding c")
	}
	if d.Lines() != 6 {
		t.Fatalf("Lines = %d, want 6", d.Lines())
	}
	if !d.Toggle(2) || d.Lines() != 10 { // unfold b from its folded line
		t.Fatalf("unfold b: Lines = %d, want 10", d.Lines())
	}
	if !d.Toggle(0) || d.Lines() != 1 {
		t.Fatalf("fold root: Lines = %d", d.Lines())
	}
	if got := strings.TrimRight(d.Render(Styles{}, 0, 5, 30, 0, -1)[0], " "); got != `{… 4 keys}` {
		t.Fatalf("folded root = %q", got)
	}
	if !d.Toggle(0) || d.Lines() != 10 {
		t.Fatalf("unfold root: Lines = %d, want 10 (c stays folded)", d.Lines())
	}
	d.UnfoldAll()
	if d.Lines() != 12 {
		t.Fatalf("UnfoldAll: Lines = %d", d.Lines())
	}
	d.FoldAll()
	if d.Lines() != 6 {
		t.Fatalf("FoldAll: Lines = %d, want 6", d.Lines())
	}
	if d.Text() != smallText {
		t.Fatal("Text depends on folds")
	}
}

const event = `{"kind":"Event","verb":"update",
 "requestObject":{"metadata":{"name":"p","managedFields":[{"manager":"kubectl"},{"manager":"k"}],"annotations":{"a.b/c":"1","":"2","x\"y":"3"}}},
 "responseObject":{"items":[{"metadata":{"managedFields":[{"m":1}]}},{"metadata":{"name":"q"}}],"managedFields":{}}}`

func TestPaths(t *testing.T) {
	d := mustParse(t, event)
	for _, p := range []string{"", "kind", "requestObject", "requestObject.metadata.managedFields",
		"requestObject.metadata.annotations[\"a.b/c\"]", `requestObject.metadata.annotations[""]`,
		`requestObject.metadata.annotations["x\"y"]`, "responseObject.items[1].metadata.name",
		"responseObject.items.1.metadata", "responseObject.managedFields"} {
		l := d.LineOf(p)
		if l < 0 {
			t.Fatalf("LineOf(%q) = -1", p)
		}
		canon := d.PathAt(l)
		if d.LineOf(canon) != l {
			t.Errorf("PathAt(%d) = %q does not resolve back", l, canon)
		}
	}
	for _, p := range []string{"nope", "kind.x", "responseObject.items[2]", "responseObject.items.x", "requestObject[0]", `requestObject["metadata`} {
		if l := d.LineOf(p); l != -1 {
			t.Errorf("LineOf(%q) = %d, want -1", p, l)
		}
	}
	if got := d.PathAt(d.LineOf("responseObject.items.1.metadata.name")); got != "responseObject.items[1].metadata.name" {
		t.Errorf("PathAt = %q", got)
	}
	if got := d.PathAt(d.LineOf(`requestObject.metadata.annotations["a.b/c"]`)); got != `requestObject.metadata.annotations["a.b/c"]` {
		t.Errorf("PathAt = %q", got)
	}
	// The close line of a container reports the container's path.
	closeLine := d.LineOf("requestObject.metadata.annotations") + 5
	if got := d.PathAt(closeLine); got != "requestObject.metadata" {
		t.Errorf("PathAt(close of metadata) = %q", got)
	}
	// Folding hides descendants and shortens the document.
	before := d.Lines()
	if !d.FoldPath("requestObject") || d.LineOf("requestObject.metadata") != -1 {
		t.Fatal("FoldPath(requestObject) did not hide its contents")
	}
	if d.Lines() != before-17 {
		t.Fatalf("Lines = %d, want %d", d.Lines(), before-17)
	}
	if d.FoldPath("kind") || d.FoldPath("responseObject.managedFields") || d.FoldPath("missing") {
		t.Fatal("FoldPath folded a scalar, an empty object or a missing path")
	}
	if got := d.LineOf("responseObject"); got != 4 {
		t.Fatalf("LineOf(responseObject) = %d, want 4", got)
	}
}

func TestFoldDefaults(t *testing.T) {
	d := mustParse(t, event)
	d.FoldPath("responseObject")
	d.FoldDefaults()
	text := strings.Join(d.Render(Styles{}, 0, 100, 60, 0, -1), "\n")
	for _, want := range []string{`"managedFields": [… 2 items],`, `"managedFields": [… 1 item]`, `"managedFields": {}`, `"name": "q"`} {
		if !strings.Contains(text, want) {
			t.Errorf("missing %q in\n%s", want, text)
		}
	}
	if strings.Contains(text, `"manager"`) || d.LineOf("requestObject.metadata.annotations") < 0 || d.LineOf("responseObject.items") < 0 {
		t.Errorf("wrong defaults:\n%s", text)
	}
}

// visibleNodes lists the node of every visible line the slow way.
func visibleNodes(d *Doc) []int {
	var out []int
	for i := 0; i < len(d.nodes); {
		out = append(out, i)
		if n := &d.nodes[i]; n.folded && n.isOpen(i) {
			i = int(n.end) + 1
		} else {
			i++
		}
	}
	return out
}

func TestSeekMatchesSlowWalk(t *testing.T) {
	d, err := Parse(bigDoc(40))
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewSource(1))
	for round := 0; round < 200; round++ {
		want := visibleNodes(d)
		if len(want) != d.Lines() {
			t.Fatalf("round %d: Lines = %d, slow walk = %d", round, d.Lines(), len(want))
		}
		for k := 0; k < 20; k++ {
			l := rng.Intn(len(want))
			if k%3 == 0 && d.cacheLine >= 0 { // exercise short cached moves
				l = max(0, min(len(want)-1, d.cacheLine+rng.Intn(9)-4))
			}
			if got := d.seek(l); got != want[l] {
				t.Fatalf("round %d: seek(%d) = %d, want %d", round, l, got, want[l])
			}
			if got := d.lineOfNode(want[l]); got != l {
				t.Fatalf("round %d: lineOfNode(%d) = %d, want %d", round, want[l], got, l)
			}
		}
		switch rng.Intn(10) {
		case 0:
			d.FoldDefaults()
		case 1:
			d.FoldAll()
		case 2:
			d.UnfoldAll()
		default:
			d.Toggle(rng.Intn(d.Lines()))
			d.setFold(rng.Intn(len(d.nodes)), rng.Intn(2) == 0) // possibly hidden
		}
	}
}

func TestRenderWidths(t *testing.T) {
	d := mustParse(t, `{"日本":"日本語テキストと長い文字列","emoji":"👨‍👩‍👧‍👦🇯🇵🇺🇸❤️é","mix":"a日b本c語d","deep":[[[["x"]]]],`+
		`"long":"`+strings.Repeat("abc日", 200)+`","zw":"a\u200bb​c"}`)
	d.FoldPath("deep.0.0")
	d.Search("本")
	for _, st := range []Styles{{}, styled()} {
		for width := 1; width <= 50; width++ {
			for xoff := 0; xoff <= 60; xoff += 1 + xoff/7 {
				for k, line := range d.Render(st, 0, 100, width, xoff, 2) {
					if w := ansi.StringWidth(line); w != width {
						t.Fatalf("width %d xoff %d line %d: %q has width %d", width, xoff, k, line, w)
					}
				}
			}
		}
	}
	d2 := mustParse(t, `{"k":"日本語"}`)
	cases := []struct {
		width, xoff int
		want        string
	}{
		{10, 0, `  "k": " …`},
		{15, 0, `  "k": "日本語"`},
		{14, 0, `  "k": "日本 …`},
		{6, 9, ` 本語"`},
		{5, 9, ` 本 …`},
		{3, 100, `   `},
		{1, 0, `…`},
	}
	for _, c := range cases {
		if got := d2.Render(Styles{}, 1, 1, c.width, c.xoff, -1)[0]; got != c.want {
			t.Errorf("width %d xoff %d: got %q, want %q", c.width, c.xoff, got, c.want)
		}
	}
	if got := d2.Render(Styles{}, 0, 10, 8, 0, -1); len(got) != 3 || got[2] != "}       " {
		t.Errorf("Render past the end = %q", got)
	}
	if got := d2.Render(Styles{}, 3, 10, 8, 0, -1); got != nil {
		t.Errorf("Render below the document = %q", got)
	}
}

func TestRenderCursorAndStyles(t *testing.T) {
	d := mustParse(t, `{"a":"***REDACTED***","b":[1,2]}`)
	st := Styles{Cursor: lipgloss.NewStyle().Reverse(true)}
	lines := d.Render(st, 0, 10, 20, 0, 1)
	if want := "\x1b[7m" + `  "a": "***REDACTED…` + "\x1b[m"; lines[1] != want {
		t.Errorf("cursor line = %q, want %q", lines[1], want)
	}
	if want := "\x1b[7m" + `}` + strings.Repeat(" ", 19) + "\x1b[m"; d.Render(st, 6, 1, 20, 0, 6)[0] != want {
		t.Errorf("cursor padding not styled: %q", d.Render(st, 6, 1, 20, 0, 6)[0])
	}
	for i, l := range lines {
		if i != 1 && strings.Contains(l, "\x1b") {
			t.Errorf("line %d styled without styles: %q", i, l)
		}
	}
	st = styled()
	lines = d.Render(st, 0, 10, 40, 0, -1)
	red := keyOf(st.Redacted).sgr()
	if !strings.Contains(lines[1], red+`"***REDACTED***"`+"\x1b[m") {
		t.Errorf("redacted value not in Redacted style: %q", lines[1])
	}
	if key := keyOf(st.Key).sgr(); !strings.HasPrefix(lines[1], "  "+key+`"a"`+"\x1b[m") {
		t.Errorf("key not in Key style: %q", lines[1])
	}
	if lipgloss.NewStyle().Foreground(lipgloss.Color("#ff0000")).Bold(true).Render("x") != keyOf(st.Key).sgr()+"x\x1b[m" {
		t.Error("SGR differs from lipgloss's own rendering")
	}
	// The cursor is layered over the token styles.
	cl := d.Render(st, 0, 10, 40, 0, 1)[1]
	if cur := keyOf(st.Cursor).sgr(); !strings.Contains(cl, red+cur+`"***REDACTED***"`) {
		t.Errorf("cursor not layered over the token style: %q", cl)
	}
}

func TestSearch(t *testing.T) {
	d := mustParse(t, `{"Name":"x","list":[{"name":"NAMED"},"été"],"other":"no"}`)
	if got := d.Search("name"); !reflect.DeepEqual(got, []int{1, 4}) {
		t.Fatalf("Search(name) = %v", got)
	}
	if got := d.Search("ÉTÉ"); !reflect.DeepEqual(got, []int{6}) {
		t.Fatalf("Search(ÉTÉ) = %v", got)
	}
	d.Search("NAME")
	st := Styles{Match: lipgloss.NewStyle().Bold(true)}
	lines := d.Render(st, 0, 10, 40, 0, -1)
	hl := "\x1b[1m"
	if want := `      "` + hl + "name\x1b[m" + `": "` + hl + "NAME\x1b[m" + `D"`; !strings.HasPrefix(lines[4], want) {
		t.Errorf("highlight: %q, want prefix %q", lines[4], want)
	}
	if strings.Contains(lines[7], "\x1b") {
		t.Errorf("non-matching line highlighted: %q", lines[7])
	}
	d.Toggle(2) // fold the list: its matches disappear from view
	if got := d.Search("name"); !reflect.DeepEqual(got, []int{1}) {
		t.Fatalf("Search after fold = %v", got)
	}
	if d.Search("") != nil || strings.Contains(strings.Join(d.Render(st, 0, 10, 40, 0, -1), ""), "\x1b") {
		t.Error("empty search did not clear highlighting")
	}
}

func TestParseErrors(t *testing.T) {
	cases := []struct {
		in     string
		offset int
	}{
		{``, 0}, {`  `, 2}, {`{"a":1,}`, 7}, {`[1 2]`, 3}, {`{"a" 1}`, 5}, {`"abc`, 4},
		{`01`, 1}, {`[1,]`, 3}, {`nul`, 3}, {`nulx`, 3}, {"\"a\x01\"", 2}, {`"\q"`, 2},
		{`1.`, 2}, {`-`, 1}, {`1e+`, 3}, {`{"a":1}}`, 7}, {`{"a":[1,2}`, 9}, {`"\u12g4"`, 5},
		{"{\"\x1b[2J\":1}", 2}, {`[`, 1}, {`{`, 1}, {`{"a":`, 5}, {`x`, 0},
	}
	for _, c := range cases {
		d, err := Parse([]byte(c.in))
		if err == nil || d != nil {
			t.Errorf("Parse(%q) succeeded", c.in)
			continue
		}
		if json.Valid([]byte(c.in)) {
			t.Errorf("%q is valid JSON", c.in)
		}
		var se *SyntaxError
		if !errorsAs(err, &se) || se.Offset != c.offset {
			t.Errorf("Parse(%q) = %v, want offset %d", c.in, err, c.offset)
		}
		if !strings.HasPrefix(err.Error(), "jsonview: offset ") {
			t.Errorf("error %q lacks the offset prefix", err)
		}
		assertSafe(t, err.Error())
	}
	deep := strings.Repeat("[", maxDepth) + strings.Repeat("]", maxDepth)
	if _, err := Parse([]byte(deep)); err != nil || !json.Valid([]byte(deep)) {
		t.Errorf("depth %d: %v", maxDepth, err)
	}
	deeper := "[" + deep + "]"
	if _, err := Parse([]byte(deeper)); err == nil || json.Valid([]byte(deeper)) {
		t.Error("depth beyond the limit accepted")
	}
}

// errorsAs is errors.As for *SyntaxError.
func errorsAs(err error, target **SyntaxError) bool {
	se, ok := err.(*SyntaxError)
	*target = se
	return ok
}

func TestDeepRender(t *testing.T) {
	const depth = 5000
	d := mustParse(t, strings.Repeat(`{"k":`, depth)+`"x"`+strings.Repeat("}", depth))
	lines := d.Render(styled(), depth-1, 3, 30, 0, depth)
	if len(lines) != 3 {
		t.Fatalf("got %d lines", len(lines))
	}
	for _, l := range lines {
		if ansi.StringWidth(l) != 30 || !strings.HasSuffix(ansi.Strip(l), "…") {
			t.Errorf("deep line %q", l)
		}
	}
	if got := d.Render(Styles{}, depth, 1, 20, 2*depth+5, -1)[0]; got != `"x"`+strings.Repeat(" ", 17) {
		t.Errorf("deep value scrolled into view = %q", got)
	}
}

func TestRenderWidthsRandomUnicode(t *testing.T) {
	// Runes that stress grapheme clustering: combining marks, joiners,
	// regional indicators, skin tones, Hangul jamo, Indic conjuncts,
	// prepend marks, tags and zero-width format characters.
	pool := []string{"a", "é", "e\u0301", "日", "👨‍👩‍👧‍👦", "🇯", "🇵", "❤", "\ufe0f", "\ufe0e", "\u200d", "\u200c",
		"\u0301", "\u0600", "\u0d4e", "\u2065", "\u200b", "ᄀ", "ᅡ", "ᆨ", "가", "\U0001F3FB", "👍", "\u0e33", "\u0903",
		"क", "्", "ष", " ", `\`, `"`, "\U000e0067", "\U000e007f", "🏴", "\u00ad", "\u3000", "ｱ", "\u1160", "\u115f"}
	rng := rand.New(rand.NewSource(7))
	st := styled()
	for iter := 0; iter < 500; iter++ {
		m := map[string]any{}
		for k := 0; k < 1+rng.Intn(3); k++ {
			var sb strings.Builder
			for j := rng.Intn(30); j > 0; j-- {
				sb.WriteString(pool[rng.Intn(len(pool))])
			}
			m[sb.String()+string(rune('a'+k))] = sb.String()
		}
		raw, _ := json.Marshal(m)
		d := mustParse(t, string(raw))
		if rng.Intn(2) == 0 {
			d.Search(pool[rng.Intn(len(pool))])
		}
		for w := 1; w < 45; w += 1 + rng.Intn(4) {
			xoff := rng.Intn(40)
			for _, l := range d.Render(st, 0, 10, w, xoff, 1) {
				if got := ansi.StringWidth(l); got != w {
					t.Fatalf("width %d xoff %d: got %d: %q (document %q)", w, xoff, got, l, raw)
				}
				assertSGROnly(t, l)
			}
		}
	}
}
