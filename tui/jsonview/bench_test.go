package jsonview

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
)

// bigDoc returns an audit event whose responseObject lists n pods, each
// with managedFields, labels and a container spec (~2 MB for 5,000 pods).
func bigDoc(n int) []byte {
	var b strings.Builder
	b.WriteString(`{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"RequestResponse","auditID":"0f9a","stage":"ResponseComplete",`)
	b.WriteString(`"requestURI":"/api/v1/pods?limit=500","verb":"list","user":{"username":"system:admin","groups":["system:masters","system:authenticated"]},`)
	b.WriteString(`"requestObject":null,"responseObject":{"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"123"},"items":[`)
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"metadata":{"name":"pod-%d","namespace":"ns-%d","resourceVersion":"%d",`, i, i%17, 1000+i)
		fmt.Fprintf(&b, `"labels":{"app":"web","pod-template-hash":"7d%05d"},"managedFields":[{"manager":"kube-controller-manager","operation":"Update","fieldsV1":{"f:metadata":{"f:labels":{".":{},"f:app":{}}}}}]},`, i)
		fmt.Fprintf(&b, `"spec":{"containers":[{"name":"web","image":"nginx:1.%d","ports":[{"containerPort":80}],"resources":{}}],"nodeName":"node-%d"},`, i%30, i%50)
		fmt.Fprintf(&b, `"status":{"phase":"Running","ready":true,"restartCount":%d,"message":null}}`, i%7)
	}
	b.WriteString(`]},"requestReceivedTimestamp":"2024-01-01T00:00:00.000000Z","annotations":{"authorization.k8s.io/decision":"allow"}}`)
	return []byte(b.String())
}

func TestBigDoc(t *testing.T) {
	raw := bigDoc(5000)
	if len(raw) < 2e6 || !json.Valid(raw) {
		t.Fatalf("bigDoc: %d bytes, valid %v", len(raw), json.Valid(raw))
	}
	d, err := Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	d.FoldDefaults()
	if d.LineOf("responseObject.items[4999].metadata.managedFields") < 0 || d.LineOf("responseObject.items[4999].metadata.managedFields[0]") != -1 {
		t.Fatal("FoldDefaults did not fold managedFields deep in the list")
	}
	top := d.Lines() - 40
	for _, l := range d.Render(styled(), top, 40, 120, 0, top+3) {
		if ansi.StringWidth(l) != 120 {
			t.Fatalf("bad width: %q", l)
		}
	}
	allocs := testing.AllocsPerRun(50, func() {
		top = (top + 1) % (d.Lines() - 40)
		d.Render(styled(), top, 40, 120, 0, top+3)
	})
	if allocs > 45 {
		t.Errorf("Render of 40 lines: %.0f allocs, want about 41", allocs)
	}
}

func BenchmarkParse(b *testing.B) {
	raw := bigDoc(5000)
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(raw); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRender(b *testing.B) {
	d, err := Parse(bigDoc(5000))
	if err != nil {
		b.Fatal(err)
	}
	d.FoldDefaults()
	st := styled()
	span := d.Lines() - 40
	top := span / 2
	b.ReportAllocs()
	for b.Loop() {
		top = (top + 1) % span // scroll one line per frame
		d.Render(st, top, 40, 120, 0, top+5)
	}
}

func BenchmarkRenderJump(b *testing.B) {
	d, err := Parse(bigDoc(5000))
	if err != nil {
		b.Fatal(err)
	}
	st := styled()
	span := d.Lines() - 40
	top := 0
	b.ReportAllocs()
	for b.Loop() {
		top = (top + 7919*13) % span // jump around the document
		d.Render(st, top, 40, 120, 0, top+5)
	}
}

func BenchmarkSearch(b *testing.B) {
	d, err := Parse(bigDoc(5000))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		d.Search("pod-4999")
	}
}
