package detect

import (
	"context"
	"reflect"
	"slices"
	"testing"

	"ktrail/audit"
	"ktrail/filters"
)

func TestSplitAnd(t *testing.T) {
	cases := []struct {
		src  string
		want []string
	}{
		{`code == 401`, []string{`code == 401`}},
		{`a == "x && y" && b in ["p", "q"] and (c || d)`, []string{`a == "x && y"`, `b in ["p", "q"]`, `c || d`}},
		{`(verb == "get" && (resource == "secrets" && code < 400))`, []string{`verb == "get"`, `resource == "secrets"`, `code < 400`}},
		{`a && b || c`, []string{`a && b || c`}},
		{`a ? b && c : d`, []string{`a ? b && c : d`}},
		{`any(groups, # == "x" && true) && user == "é"`, []string{`any(groups, # == "x" && true)`, `user == "é"`}},
	}
	for _, c := range cases {
		if got := splitAnd(c.src); !reflect.DeepEqual(got, c.want) {
			t.Errorf("splitAnd(%q) = %q, want %q", c.src, got, c.want)
		}
	}
}

func TestTermField(t *testing.T) {
	cases := []struct {
		term, field string
	}{
		{`code == 401`, "code"},
		{`!isSystem()`, "user"},
		{`isHuman(effectiveUser)`, "effectiveUser"},
		{`matches(userAgent, "(?i)nmap")`, "userAgent"},
		{`"system:masters" in groups`, "groups"},
		{`any(requestObject.rules, "*" in .verbs)`, ""},
		{`user == name`, ""},
		{`since("1h")`, ""},
		{`verb == "get" || before("2026-01-01")`, ""},
		{`x == 1`, ""},
		{`true`, ""},
	}
	for _, c := range cases {
		f, ok := termField(c.term)
		if (c.field == "") == ok || f != c.field {
			t.Errorf("termField(%q) = %q, %v; want %q", c.term, f, ok, c.field)
		}
	}
}

// TestGatesLoseNothing compares every rule's hits through the gates and
// the screen with the rule's filter evaluated over every event, on the
// recorded fixture and the demo, for the built-in rules and for rules
// written the way users might write them.
func TestGatesLoseNothing(t *testing.T) {
	extra := []Rule{
		{ID: "or", Expr: `code == 401 || user == "alice"`},
		{ID: "nested", Expr: `(verb == "get" && (resource == "secrets" || resource == "configmaps")) && code < 400`},
		{ID: "time", Expr: `since("2h") && verb == "delete"`},
		{ID: "two-fields", Expr: `name contains namespace && resource == "pods"`},
		{ID: "groups", Expr: `"system:masters" in groups && verb != "get"`},
		{ID: "ternary", Expr: `(code >= 500 ? true : verb == "watch") && stage != "RequestReceived"`},
		{ID: "body-or", Expr: `resource == "pods" && (requestObject.spec.hostNetwork == true || responseObject.status.phase == "Pending")`},
		{ID: "all", Expr: `true`},
	}
	rules := append(Builtins(), extra...)
	for _, name := range []string{"fixture", "demo"} {
		var s *audit.Store
		if name == "fixture" {
			s = loadFixture(t)
		} else {
			s = loadDemo(t)
		}
		v := s.View()
		e, err := Compile(s, rules, filters.Options{Now: lastTime(s)})
		if err != nil {
			t.Fatal(err)
		}
		res := e.Run(context.Background(), v, nil)
		fed := e.Feed(context.Background(), v, 0)
		// A selection: every third event.
		var sel []uint32
		v.EachID(0, v.Len(), func(pos int, id uint32) bool {
			if pos%3 == 0 {
				sel = append(sel, id)
			}
			return true
		})
		sub := e.Run(context.Background(), v, sel)
		for i, r := range rules {
			f, err := filters.Compile(s, []string{r.Expr}, filters.Options{Now: lastTime(s)})
			if err != nil {
				t.Fatal(err)
			}
			want, err := f.Eval(context.Background(), v)
			if err != nil {
				t.Fatal(err)
			}
			if got := res.Rules[i].Hits; !slices.Equal(got, want) && len(got)+len(want) > 0 {
				t.Errorf("%s %s: Run has %d hits, the filter alone %d", name, r.ID, len(got), len(want))
			}
			if got := fed.Rules[i].Hits; !slices.Equal(got, want) && len(got)+len(want) > 0 {
				t.Errorf("%s %s: Feed has %d hits, the filter alone %d", name, r.ID, len(got), len(want))
			}
			inSel := map[uint32]bool{}
			for _, id := range sel {
				inSel[id] = true
			}
			wantSub := slices.DeleteFunc(slices.Clone(want), func(id uint32) bool { return !inSel[id] })
			if got := sub.Rules[i].Hits; !slices.Equal(got, wantSub) && len(got)+len(wantSub) > 0 {
				t.Errorf("%s %s: Run on a selection has %d hits, want %d", name, r.ID, len(got), len(wantSub))
			}
		}
		if !e.gates.isGated(0) || e.gates.isGated(len(rules)-1) {
			t.Errorf("the first built-in rule should be gated and %q not", rules[len(rules)-1].Expr)
		}
	}
}
