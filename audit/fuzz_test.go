package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"testing"
	"unicode/utf8"
)

func addSeeds(f *testing.F) {
	for _, s := range []string{evV1, evV1beta1, evNoAPIVersion, evNonResource, evExec, evUnknownFields, evNoTime, evTruncatedAnn, prettyList(), `{"kind": 0}`, `[1,2]`, `{"items":[{"verb":"x"}]}`, "\x00\xff", `{"a":"\u00e9\ud83d\ude00"}`} {
		f.Add([]byte(s))
	}
	if b, err := os.ReadFile("../testdata/kube-apiserver-v1.37/audit.log"); err == nil {
		for _, line := range bytes.SplitN(b, []byte("\n"), 20) {
			f.Add(line)
		}
	}
}

// FuzzExtract checks the fast extractor against encoding/json on the
// top-level fields of every input that is valid JSON.
func FuzzExtract(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		var fl Fields
		err := Extract(b, &fl)
		if !json.Valid(b) || !utf8.Valid(b) {
			return
		}
		// A map keeps keys case-sensitive, as the API server's decoder is
		// (encoding/json struct decoding is not).
		var ref map[string]any
		if json.Unmarshal(b, &ref) != nil {
			return // not an object
		}
		if err != nil {
			if IsTruncated(err) {
				t.Fatalf("valid JSON reported truncated: %v", err)
			}
			return
		}
		if fl.IsList {
			return
		}
		check := func(name string, got []byte, want any) {
			w, ok := want.(string)
			if !ok {
				return
			}
			if g := string(Unescape(nil, got)); g != w {
				t.Fatalf("%s: extractor %q, encoding/json %q", name, g, w)
			}
		}
		check("auditID", fl.AuditID, ref["auditID"])
		check("verb", fl.Verb, ref["verb"])
		if u, ok := ref["user"].(map[string]any); ok {
			check("user", fl.User, u["username"])
		}
	})
}

// FuzzLoad feeds arbitrary bytes through the loader: it must not panic,
// every event must point at bytes of the input, and good lines next to
// bad ones must survive.
func FuzzLoad(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		in := append(append([]byte(evV1+"\n"), b...), "\n"+evExec+"\n"...)
		s := NewStore()
		seg := newMemSeg("fuzz", in)
		l := NewLoader(s, s.AddSegment(seg), seg, LoaderOptions{ChunkSize: 64})
		if err := l.Load(context.Background(), int64(len(in)), true); err != nil {
			t.Fatal(err)
		}
		v := s.View()
		for i := range v.Len() {
			r := v.At(i)
			raw, err := s.Raw(r, nil)
			if err != nil || !bytes.Contains(in, raw) {
				t.Fatalf("event %d: raw %q not from input (%v)", i, raw, err)
			}
		}
		if l.Mode() == ModeLines && !bytes.Contains(b, []byte("\n")) && s.Len() < 1 {
			t.Fatalf("good events lost: %d", s.Len())
		}
	})
}
