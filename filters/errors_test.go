package filters

import (
	"errors"
	"strings"
	"testing"
	"time"

	"ktrail/audit"
)

// errorCases are expressions that must not compile, with where and why.
var errorCases = []struct {
	expr      string
	line, col int
	msg, hint string
}{
	{`usr == "alice"`, 1, 1, `unknown field "usr"`, "did you mean user?"},
	{`verb == "get" && resouce == "pods"`, 1, 18, `unknown field "resouce"`, "did you mean resource?"},
	{`UserAgent contains "curl"`, 1, 1, `unknown field "UserAgent"`, "did you mean userAgent?"},
	{`frobnicate`, 1, 1, `unknown field "frobnicate"`, "fields are annotations, apiGroup"},
	{`verb = "delete"`, 1, 6, `unexpected token "="`, `compare with ==, not =: verb == "delete"`},
	{`verb == delete`, 1, 9, `unknown field "delete"`, `quote strings: verb == "delete"`},
	{`verb == get`, 1, 9, `unknown field "get"`, `quote strings: verb == "get"`},
	{`verb in [list, get]`, 1, 10, `unknown field "list"`, `quote strings: verb in ["list", "get"]`},
	{`user == "a" || keys`, 1, 16, `unknown field "keys"`, "keys is a function"},
	{`delete == verb`, 1, 1, `unknown field "delete"`, `quote strings: verb == "delete"`},
	{`verb in [get, "list"]`, 1, 10, `unknown field "get"`, `quote strings: verb in ["get", "list"]`},
	{`code == "404"`, 1, 9, "code is a number, not a string", "code == 404"},
	{`code in [401, "403"]`, 1, 15, "code is a number, not a string", "code == 403"},
	{`verb == 5`, 1, 9, "verb is a string, not a number", `quote it: verb == "5"`},
	{`latency > "1s"`, 1, 11, "latency is a duration, not a string", `latency > duration("1s")`},
	{`latency > 5`, 1, 11, "latency is a duration, not a number", `duration("1s")`},
	{`time > "2026-01-01"`, 1, 8, "time is a time, not a string", `after("2026-01-01")`},
	{`foo(user)`, 1, 1, `unknown function "foo"`, "functions include matches"},
	{`hasprefix(user, "x")`, 1, 1, `unknown function "hasprefix"`, "did you mean hasPrefix?"},
	{`user`, 1, 1, "filter must be true/false, got string", `user == "…"`},
	{`code + 1`, 1, 6, "filter must be true/false, got number", "compare it"},
	{`since("1x")`, 1, 7, `since: "1x" is neither a duration`, `since("1h")`},
	{`since()`, 1, 1, "since takes one argument, got 0", `since("1h")`},
	{`before("1h", "2h")`, 1, 1, "before takes one argument, got 2", ""},
	{`matches(user)`, 1, 1, "matches takes 2 arguments, got 1", `matches(user, "^system:")`},
	{`isHuman(user, verb)`, 1, 1, "isHuman takes no argument or one, got 2", ""},
	{`cidr(sourceIP, "10.0.0/33")`, 1, 16, `cidr: "10.0.0/33" is not a CIDR`, `cidr(sourceIP, "10.0.0.0/8")`},
	{`user == "a" & verb == "b"`, 1, 13, `unexpected token "&"`, "write &&"},
	{`(user == "a"`, 1, 13, "expression ends too early", "a ( is not closed"},
	{`verb in ["a"`, 1, 13, "expression ends too early", "a [ is not closed"},
	{`user ==`, 1, 8, "expression ends too early", "complete the comparison"},
	{`user == "abc`, 1, 13, "string is not closed", "same quote"},
	{`duration("5 minutes") < latency`, 1, 10, `duration: "5 minutes" is not a duration`, `"250ms"`},
	{`user matches "("`, 1, 6, "error parsing regexp", "RE2"},
	{`matches(user, "[")`, 1, 1, "error parsing regexp", "RE2"},
	{`$env.user == "a"`, 1, 1, "$env is not supported", ""},
	{`lower(code) == "a"`, 1, 7, "cannot use int as argument (type string) to call lower", ""},
	{"verb == \"get\" &&\n  usr == \"b\"", 2, 3, `unknown field "usr"`, "did you mean user?"},
	{`user == "é" && nme == "x"`, 1, 16, `unknown field "nme"`, "did you mean name?"},
}

func TestCompileErrors(t *testing.T) {
	s := loadFile(t, recording)
	for _, tc := range errorCases {
		t.Run(tc.expr, func(t *testing.T) {
			_, err := Compile(s, []string{`verb != ""`, tc.expr}, Options{Now: time.Now()})
			var ce *CompileError
			if !errors.As(err, &ce) {
				t.Fatalf("got %v, want a *CompileError", err)
			}
			if ce.Expr != tc.expr || ce.Line != tc.line || ce.Col != tc.col {
				t.Errorf("at %q %d:%d, want %q %d:%d", ce.Expr, ce.Line, ce.Col, tc.expr, tc.line, tc.col)
			}
			if !strings.Contains(ce.Msg, tc.msg) {
				t.Errorf("Msg %q, want it to contain %q", ce.Msg, tc.msg)
			}
			if !strings.Contains(ce.Hint, tc.hint) {
				t.Errorf("Hint %q, want it to contain %q", ce.Hint, tc.hint)
			}
			line := err.Error()
			if !strings.HasPrefix(line, "filter: ") || strings.ContainsAny(line, "\n\r") {
				t.Errorf("Error() is not one line with the filter: prefix: %q", line)
			}
		})
	}
}

// TestErrorLine checks the exact one-line form.
func TestErrorLine(t *testing.T) {
	_, err := Compile(audit.NewStore(), []string{`usr == "alice"`}, Options{})
	want := `filter: 1:1: unknown field "usr" — did you mean user?`
	if err == nil || err.Error() != want {
		t.Errorf("got %v, want %s", err, want)
	}
}

// TestErrorSanitized checks that control characters typed into a filter do
// not reach the terminal through an error message.
func TestErrorSanitized(t *testing.T) {
	_, err := Compile(audit.NewStore(), []string{"verb == \"a\x1b[2J\" && x\x07y"}, Options{})
	if err == nil {
		t.Fatal("compiled")
	}
	if strings.ContainsAny(err.Error(), "\x1b\x07") {
		t.Errorf("control characters in %q", err.Error())
	}
}

func TestBlankMatchesAll(t *testing.T) {
	s := loadFile(t, recording)
	for _, exprs := range [][]string{nil, {}, {"", "  \t"}, {"true"}} {
		f, err := Compile(s, exprs, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if !f.MatchAll() {
			t.Errorf("%q: MatchAll is false", exprs)
		}
		if n := count(t, s, Options{}, exprs...); n != s.Len() {
			t.Errorf("%q: %d matches, want %d", exprs, n, s.Len())
		}
	}
	f, _ := Compile(s, []string{"verb == \"get\"", "  ", " user == 'admin' "}, Options{})
	if f.MatchAll() || f.String() != `(verb == "get") && (user == 'admin')` {
		t.Errorf("MatchAll %v, String %q", f.MatchAll(), f.String())
	}
	if n := count(t, s, Options{}, `verb == "get"`, `user == 'admin'`); n != 3 {
		t.Errorf("AND of two expressions: %d matches, want 3", n)
	}
}
