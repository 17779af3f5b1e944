package filters

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"ktrail/audit"
)

// findOne returns the id of the single event expr matches.
func findOne(t *testing.T, s *audit.Store, expr string) uint32 {
	t.Helper()
	f, err := Compile(s, []string{expr}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ids, err := f.Eval(context.Background(), s.View())
	if err != nil || len(ids) != 1 {
		t.Fatalf("%s: %d matches (%v), want 1", expr, len(ids), err)
	}
	return ids[0]
}

func TestValue(t *testing.T) {
	s := loadFile(t, recording)
	v := s.View()
	r := v.Rec(findOne(t, s, `auditID == "acd231dd-6b3c-4e6a-9270-f615ad88b2fe"`))
	want := map[string]string{
		"user":               "admin",
		"groups":             "system:masters,system:authenticated",
		"userUID":            "1000",
		"impersonatedUser":   "",
		"impersonatedGroups": "",
		"effectiveUser":      "admin",
		"verb":               "create",
		"resource":           "secrets",
		"subresource":        "",
		"namespace":          "team-a",
		"ns":                 "team-a",
		"name":               "db-creds",
		"objectUID":          "",
		"apiGroup":           "",
		"apiVersion":         "v1",
		"uri":                "/api/v1/namespaces/team-a/secrets?fieldManager=kubectl-create&fieldValidation=Strict",
		"code":               "201",
		"reason":             "",
		"message":            "",
		"level":              "RequestResponse",
		"stage":              "ResponseComplete",
		"sourceIP":           "127.0.0.1",
		"sourceIPs":          "127.0.0.1",
		"userAgent":          "kubectl/v1.37.2 (linux/amd64) kubernetes/$Format",
		"decision":           "allow",
		"authzReason":        "",
		"annotations":        "authorization.k8s.io/decision=allow,authorization.k8s.io/reason=",
		"time":               "2026-11-25T20:54:58.775792Z",
		"latency":            "2.566ms",
		"auditID":            "acd231dd-6b3c-4e6a-9270-f615ad88b2fe",
		"cluster":            "",
		"requestObject":      `{"kind":"Secret","apiVersion":"v1","metadata":{"name":"db-creds","namespace":"team-a"},"data":{"password":"aHVudGVyMg=="},"type":"Opaque"}`,
	}
	for _, name := range FieldNames() {
		got, err := Value(s, r, name)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if name == "responseObject" {
			if !strings.HasPrefix(got, `{"kind":"Secret"`) || !strings.HasSuffix(got, `"type":"Opaque"}`) {
				t.Errorf("responseObject = %.60q…", got)
			}
			continue
		}
		w, ok := want[name]
		if !ok {
			t.Errorf("no expected value for field %s", name)
		}
		if got != w {
			t.Errorf("%s = %q, want %q", name, got, w)
		}
	}
	// The 401: no user, no decision, stage ResponseStarted.
	r401 := v.Rec(findOne(t, s, `code == 401`))
	for name, w := range map[string]string{"user": "", "groups": "", "stage": "ResponseStarted", "decision": "", "annotations": "", "requestObject": ""} {
		if got, err := Value(s, r401, name); err != nil || got != w {
			t.Errorf("401 %s = %q (%v), want %q", name, got, err, w)
		}
	}
	if _, err := Value(s, r, "usr"); err == nil || err.Error() != `filter: unknown field "usr" — did you mean user?` {
		t.Errorf("unknown field: %v", err)
	}
}

func TestFieldNames(t *testing.T) {
	names := FieldNames()
	if !slices.IsSorted(names) || len(names) != int(numFields) {
		t.Fatalf("FieldNames %v", names)
	}
	doc, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	md, err := os.ReadFile("VOCABULARY.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		if !regexp.MustCompile(`(?m)^//\s+` + n + `\s`).Match(doc) {
			t.Errorf("doc.go does not document field %s", n)
		}
		if !strings.Contains(string(md), "| `"+n+"` |") {
			t.Errorf("VOCABULARY.md does not document field %s", n)
		}
	}
	for _, n := range []string{"matches", "hasPrefix", "hasSuffix", "contains", "lower", "cidr", "since", "before", "after", "duration", "isServiceAccount", "isSystem", "isHuman", "now"} {
		if !regexp.MustCompile(`(?m)^//\s+` + n + `\(`).Match(doc) {
			t.Errorf("doc.go does not document function %s", n)
		}
		if !strings.Contains(string(md), "| `"+n+"(") {
			t.Errorf("VOCABULARY.md does not document function %s", n)
		}
	}
}

// TestBadBodies checks that events whose bodies do not decode, or whose
// bytes are gone, fail without a panic: no match, counted in Errors.
func TestBadBodies(t *testing.T) {
	lines := []string{
		`{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Request","auditID":"a1","stage":"ResponseComplete","verb":"create","requestReceivedTimestamp":"2026-11-25T10:00:00Z","requestObject":{"kind":"Pod","spec":{"hostNetwork":true}}}`,
		`{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Request","auditID":"a2","stage":"ResponseComplete","verb":"create","requestReceivedTimestamp":"2026-11-25T10:00:01Z","requestObject":{"kind":"Pod","spec":{"hostNetwork":tru}}}`,
		`{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Request","auditID":"a3","stage":"ResponseComplete","verb":"create","requestReceivedTimestamp":"2026-11-25T10:00:02Z","requestObject":{"kind":"Pod","spec":{"containers":[{"name":"a",}]}}}`,
		`{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Request","auditID":"a4","stage":"ResponseComplete","verb":"create","requestReceivedTimestamp":"2026-11-25T10:00:03Z","requestObject":{"kind":"Pod","spec":{"hostNetwork":false}}}`,
	}
	path := filepath.Join(t.TempDir(), "bad.log")
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := loadFile(t, path)
	if s.Len() != 4 {
		t.Fatalf("%d events indexed, want 4", s.Len())
	}
	// Body predicates read only the members on their path: the fast path
	// does not see malformed JSON elsewhere in a body, the VM (which
	// decodes whole bodies) does. Either way a malformed value is an error.
	for _, tc := range []struct {
		expr           string
		wantFast, want int // matches with fast paths, with the VM only
		minErrors      int64
	}{
		{`requestObject.spec.hostNetwork == true`, 1, 1, 1},
		{`requestObject.spec.hostNetwork != true`, 2, 1, 1},
		{`any(requestObject.spec.containers, .name == "a")`, 0, 0, 1},
		{`requestObject.kind == "Pod"`, 4, 2, 0},
		{`requestObject != nil`, 4, 2, 0},
	} {
		for _, m := range modes {
			f, err := Compile(s, []string{tc.expr}, Options{vmOnly: m.vmOnly})
			if err != nil {
				t.Fatal(err)
			}
			ids, err := f.Eval(context.Background(), s.View())
			if err != nil {
				t.Fatal(err)
			}
			want := tc.want
			if !m.vmOnly {
				want = tc.wantFast
			}
			if len(ids) != want || f.Errors() < tc.minErrors {
				t.Errorf("%s %s: %d matches, %d errors; want %d, ≥%d", m.name, tc.expr, len(ids), f.Errors(), want, tc.minErrors)
			}
		}
	}
	// The file is truncated under the store: every raw read fails.
	if err := os.Truncate(path, 10); err != nil {
		t.Fatal(err)
	}
	f, _ := Compile(s, []string{`uri == ""`}, Options{})
	ids, err := f.Eval(context.Background(), s.View())
	if err != nil || len(ids) != 0 || f.Errors() != 4 {
		t.Errorf("truncated file: %d matches, %d errors, %v; want 0, 4, nil", len(ids), f.Errors(), err)
	}
	if _, err := Value(s, s.View().At(0), "uri"); err == nil {
		t.Error("Value of a truncated event: no error")
	}
}

// TestConcurrent runs one filter from several goroutines at once, with the
// race detector in mind.
func TestConcurrent(t *testing.T) {
	s := loadFile(t, recording)
	f, err := Compile(s, []string{`hasPrefix(user, "system:") && requestObject.kind != "Lease" || "system:masters" in groups && lower(verb) == verb + ""`}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	v := s.View()
	want, _ := f.Eval(context.Background(), v)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 5 {
				got, err := f.Eval(context.Background(), v)
				if err != nil || !slices.Equal(got, want) {
					t.Errorf("concurrent Eval: %d ids, %v", len(got), err)
				}
				if ok, _ := f.Match(v, want[0]); !ok {
					t.Error("concurrent Match")
				}
			}
		})
	}
	wg.Wait()
}

// TestCancel checks that a cancelled context stops an evaluation.
func TestCancel(t *testing.T) {
	s := loadFile(t, recording)
	f, _ := Compile(s, []string{`verb == "get"`}, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := f.Eval(ctx, s.View()); err == nil {
		t.Error("Eval with a cancelled context: no error")
	}
	if _, err := f.EvalNew(ctx, s.View(), 0); err == nil {
		t.Error("EvalNew with a cancelled context: no error")
	}
}

// TestSynthAgree compares the fast paths with the VM on 200k synthetic
// index records: enough events for the caches to grow, the tuple caches
// to give up on too many distinct tuples, and several chunks per worker.
func TestSynthAgree(t *testing.T) {
	s := synthStore(t, 200_000)
	v := s.View()
	now := synthStart.Add(24 * time.Hour)
	for _, e := range []string{
		`name contains namespace`,
		`verb + resource == "getpods"`,
		`code >= 500 && hasPrefix(userAgent, "kube") || isHuman() && verb == "delete"`,
		`since("23h") && verb == "get"`,
		`time < date("2026-11-25T01:00:00Z") || after("23h30m")`,
		`latency > duration("50ms") && code in 400..499`,
		`effectiveUser != user`,
		`"system:masters" in groups && level == "RequestResponse"`,
		`cidr(sourceIP, "10.1.0.0/16") && !isServiceAccount()`,
		`user in ["user00@example.com", "user05@example.com", "system:anonymous"] && decision != "allow"`,
		`(code == 200 ? verb : resource) == "get"`,
	} {
		var got [2][]uint32
		for i, m := range modes {
			f, err := Compile(s, []string{e}, Options{Now: now, vmOnly: m.vmOnly})
			if err != nil {
				t.Fatal(err)
			}
			if got[i], err = f.Eval(context.Background(), v); err != nil {
				t.Fatal(err)
			}
			if f.Errors() != 0 {
				t.Errorf("%s %s: %d errors", m.name, e, f.Errors())
			}
		}
		if !slices.Equal(got[0], got[1]) || len(got[0]) == 0 {
			t.Errorf("%s: fast %d matches, VM %d", e, len(got[0]), len(got[1]))
		}
	}
}

// TestOddEnums checks level, stage and decision values outside their
// known names, which the index keeps only as "other" and the filter reads
// from the raw bytes.
func TestOddEnums(t *testing.T) {
	lines := []string{
		`{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"b1","stage":"ResponseComplete","verb":"get","requestReceivedTimestamp":"2026-11-25T10:00:00Z","annotations":{"authorization.k8s.io/decision":"allow"}}`,
		`{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Extra","auditID":"b2","stage":"Weird","verb":"get","requestReceivedTimestamp":"2026-11-25T10:00:01Z","annotations":{"authorization.k8s.io/decision":"maybe"}}`,
		`{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Request","auditID":"b3","stage":"Odd","verb":"get","requestReceivedTimestamp":"2026-11-25T10:00:02Z"}`,
	}
	path := filepath.Join(t.TempDir(), "odd.log")
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := loadFile(t, path)
	for _, tc := range []struct {
		expr string
		want int
	}{
		{`stage == "Weird"`, 1},
		{`stage != "Weird"`, 2},
		{`stage in ["Weird", "ResponseComplete"]`, 2},
		{`level == "Extra"`, 1},
		{`decision == "maybe"`, 1},
		{`decision == ""`, 1},
		{`lower(stage) == "weird"`, 1},
		{`stage startsWith "O" || level == "Extra"`, 2},
		{`stage + decision == "Weirdmaybe"`, 1},
	} {
		for _, m := range modes {
			if n := count(t, s, Options{vmOnly: m.vmOnly}, tc.expr); n != tc.want {
				t.Errorf("%s %s: %d matches, want %d", m.name, tc.expr, n, tc.want)
			}
		}
	}
	r := s.View().Rec(findOne(t, s, `auditID == "b2"`))
	for name, want := range map[string]string{"stage": "Weird", "level": "Extra", "decision": "maybe"} {
		if got, err := Value(s, r, name); err != nil || got != want {
			t.Errorf("Value %s = %q (%v), want %q", name, got, err, want)
		}
	}
}
