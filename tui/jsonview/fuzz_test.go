package jsonview

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/charmbracelet/x/ansi"
)

func FuzzParse(f *testing.F) {
	for _, s := range []string{small, event, evilDoc(), `[]`, `{"a":{}}`, `1e400`, `"\ud83d\ude00"`, `[1,`, `{"a" 1}`,
		`{"k":"日本語👨‍👩‍👧‍👦é"}`, "[\"\u0600\u2065\"]", `-0.0e-0`, `{"":""}`} {
		f.Add([]byte(s))
	}
	st := styled()
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := Parse(data)
		if valid := json.Valid(data); valid != (err == nil) {
			t.Fatalf("json.Valid = %v but Parse error = %v", valid, err)
		}
		if err != nil {
			assertSafe(t, err.Error())
			return
		}
		text := d.Text()
		if got, want := decode(t, []byte(text)), decode(t, data); !reflect.DeepEqual(got, want) {
			t.Fatalf("round trip:\n got %#v\nwant %#v", got, want)
		}
		if len(data) > 0 {
			d.Search(string(data[:1+len(data)%3]))
		}
		for k, width := range []int{1, 7, 33} {
			for _, l := range d.Render(st, 0, 200, width, k*2, 1) {
				assertSGROnly(t, l)
				if w := ansi.StringWidth(l); w != width {
					t.Fatalf("width %d, want %d: %q", w, width, l)
				}
			}
			d.Toggle(k)
			if got := len(visibleNodes(d)); got != d.Lines() {
				t.Fatalf("Lines = %d, slow walk = %d", d.Lines(), got)
			}
		}
		if l := d.Lines() - 1; d.LineOf(d.PathAt(l)) > l {
			t.Fatalf("PathAt(%d) = %q resolves below its line", l, d.PathAt(l))
		}
	})
}
