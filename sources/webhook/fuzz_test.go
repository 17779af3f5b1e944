package webhook

import (
	"bytes"
	"encoding/json"
	"testing"
)

// FuzzHandleBody feeds random bodies to the batch parser the handler
// uses. It must never panic; an accepted body yields exactly one line per
// event, each a JSON object with a non-empty string auditID and stage.
func FuzzHandleBody(f *testing.F) {
	f.Add(eventList(ev("a", "ResponseComplete"), ev("b", "RequestReceived")))
	f.Add(ev("c", "Panic"))
	f.Add([]byte(`{"kind":"Event","auditID":"d","stage":"ResponseStarted"}`))
	f.Add([]byte("{\n \"items\": [\n  {\"auditID\": \"e\",\n \"stage\": \"x\"}\n ]\n}"))
	f.Add([]byte(`[{"auditID":"f","stage":"s"},{"auditID":"g","stage":"t","items":[]}]`))
	f.Add([]byte(`{"kind":"EventList","items":null}`))
	f.Add([]byte(`{"kind":"Status","code":500}`))
	f.Add([]byte(`{"auditID":"\u0000","stage":"\"","user":{"username":null}}`))
	f.Add([]byte(`{"auditID":"h","stage":"s","protoPayload":{}}`))
	f.Add([]byte("\xef\xbb\xbf{}"))
	f.Add([]byte(`{"auditID":"a","auditID":"","stage":"s"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		out, n, rej := parseBatch(body, nil)
		if rej != nil {
			if n != 0 || rej.code < 400 || rej.reason == "" || sanitize(rej.msg) != rej.msg {
				t.Fatalf("bad rejection %+v (n=%d)", rej, n)
			}
			return
		}
		if n == 0 {
			if len(out) != 0 {
				t.Fatalf("no events but %d bytes", len(out))
			}
			return
		}
		if len(out) == 0 || out[len(out)-1] != '\n' {
			t.Fatalf("output does not end with a newline: %q", out)
		}
		lines := bytes.Split(out[:len(out)-1], []byte("\n"))
		if len(lines) != n {
			t.Fatalf("%d lines for %d events", len(lines), n)
		}
		for _, l := range lines {
			var m map[string]any
			if err := json.Unmarshal(l, &m); err != nil {
				t.Fatalf("line %q does not parse: %v", l, err)
			}
			id, ok := m["auditID"].(string)
			st, ok2 := m["stage"].(string)
			if !ok || !ok2 || id == "" || st == "" {
				t.Fatalf("line %q lacks a string auditID/stage", l)
			}
			if !bytes.Contains(body, l) && !bytes.ContainsAny(body, "\n\r") {
				t.Fatalf("line %q is not the bytes received", l)
			}
		}
	})
}
