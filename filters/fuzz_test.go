package filters

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"slices"
	"testing"
	"time"
)

// FuzzCompile compiles arbitrary expressions and, when they compile,
// evaluates them on the recording with the fast paths and with the VM
// only. Neither may panic, and when neither failed an event they must
// agree.
//
//	go test -run '^$' -fuzz FuzzCompile -fuzztime 60s ./filters/
func FuzzCompile(f *testing.F) {
	for _, tc := range recordingCases {
		f.Add(tc.expr)
	}
	for _, tc := range audit2rbacCases {
		f.Add(tc.expr)
	}
	for _, tc := range errorCases {
		f.Add(tc.expr)
	}
	for _, e := range []string{
		`requestObject.spec.containers[0].securityContext.privileged == true`,
		`filter(sourceIPs, cidr(#, "127.0.0.0/8")) != []`,
		`let x = user; x == "admin" && code in 200..299`,
		`requestObject?.metadata?.labels?.app ?? "none" == "none"`,
		`responseObject.items[1].metadata.name startsWith "a"`,
		`code < 0/0 || latency >= duration("0s") && time <= now()`,
		`isSystem(effectiveUser) != isHuman(effectiveUser) || decision in ["?"]`,
	} {
		f.Add(e)
	}
	s := loadFile(f, recording)
	v := s.View()
	now := lastTime(s)
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, expr string) {
		// A hang would stall the fuzzer silently; panic with the input.
		tm := time.AfterFunc(10*time.Second, func() { panic(fmt.Sprintf("SLOW %q", expr)) })
		defer tm.Stop()
		var got [2][]uint32
		var errs [2]int64
		for i, m := range modes {
			flt, err := Compile(s, []string{expr}, Options{Now: now, vmOnly: m.vmOnly})
			if err != nil {
				if _, ok := err.(*CompileError); !ok {
					t.Fatalf("%s: %T is not a *CompileError: %v", m.name, err, err)
				}
				return
			}
			_ = flt.String()
			ids, err := flt.Eval(ctx, v)
			if err != nil {
				t.Fatalf("%s: %v", m.name, err)
			}
			if v.Len() > 0 {
				flt.Match(v, v.ID(0))
			}
			got[i], errs[i] = ids, flt.Errors()
		}
		if errs[0] == 0 && errs[1] == 0 && !slices.Equal(got[0], got[1]) {
			t.Errorf("%q: fast %d matches, VM %d", expr, len(got[0]), len(got[1]))
		}
	})
}

// FuzzDecode checks decodeValue against encoding/json: the same value
// for valid JSON, an error for invalid JSON.
//
//	go test -run '^$' -fuzz FuzzDecode -fuzztime 60s ./filters/
func FuzzDecode(f *testing.F) {
	for _, s := range []string{`{"a":[1,2.5,-3e2,true,false,null,"x\u00e9\n"],"b":{}}`, `[]`, `"\xff"`, `01`, `1.`, `-`, `{"a":1,}`, `"a\tb"`, `1e400`, `{"a":1,"a":2}`} {
		f.Add([]byte(s))
	}
	if data, err := os.ReadFile(recording); err == nil {
		for _, l := range bytes.Split(data, []byte("\n"))[:20] {
			f.Add(l)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var want any
		werr := json.Unmarshal(b, &want)
		if bytes.TrimSpace(b) == nil || string(bytes.TrimSpace(b)) == "null" {
			return
		}
		got, gerr := decodeAny(b)
		if (werr != nil) != (gerr != nil) {
			t.Fatalf("%q: encoding/json error %v, decodeAny error %v", b, werr, gerr)
		}
		if werr == nil && !reflect.DeepEqual(got, want) {
			t.Fatalf("%q: encoding/json %#v, decodeAny %#v", b, want, got)
		}
	})
}
