package detect

import (
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"ktrail/audit"
	"ktrail/filters"
)

func TestParseRules(t *testing.T) {
	rules, err := ParseRules([]byte(`
detections:
- id: many-secrets
  name: Many secrets
  severity: high
  expr: resource == "secrets" && verb == "get"
  groupBy: [user, sourceIP]
  window: 10m
  threshold: 5
  distinct: name
- id: minimal
  expr: code == 500
`))
	if err != nil {
		t.Fatal(err)
	}
	if len(rules) != 2 {
		t.Fatalf("%d rules", len(rules))
	}
	r := rules[0]
	if r.Window != 10*time.Minute || r.Threshold != 5 || r.Distinct != "name" || len(r.GroupBy) != 2 || !r.Alerting() {
		t.Errorf("rule %+v", r)
	}
	if m := rules[1]; m.Name != "minimal" || m.Severity != "medium" || m.Alerting() {
		t.Errorf("defaults: %+v", m)
	}
	// A bare list, and the rules: key, are accepted too; JSON round-trips.
	b, err := json.Marshal(rules)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"window":"10m"`) {
		t.Errorf("window not written as a duration: %s", b)
	}
	again, err := ParseRules(b)
	if err != nil || len(again) != 2 || again[0].Window != 10*time.Minute {
		t.Errorf("round trip: %v %+v", err, again)
	}
	if rs, err := ParseRules([]byte("rules: []\n")); err != nil || len(rs) != 0 {
		t.Errorf("empty rules: %v %v", rs, err)
	}
	if rs, err := ParseRules(nil); err != nil || rs != nil {
		t.Errorf("no YAML: %v %v", rs, err)
	}
	// groupBy may be one string.
	if rs, err := ParseRules([]byte("- {id: a, expr: 'true', groupBy: user, window: 1m, threshold: 2}")); err != nil || rs[0].GroupBy[0] != "user" {
		t.Errorf("groupBy string: %v %v", rs, err)
	}
}

func TestParseRulesErrors(t *testing.T) {
	cases := []struct{ yaml, want string }{
		{"- id: a\n  expr: 'true'\n  thresold: 3\n", `detect: rule 1 (a): unknown key "thresold" — did you mean threshold?`},
		{"- id: a\n  expr: 'true'\n  window: 10 minutes\n  threshold: 3\n", `detect: rule 1 (a): window: "10 minutes" is not a duration`},
		{"- id: a\n  expr: 'true'\n  window: 600\n  threshold: 3\n", `detect: rule 1 (a): window: want a duration such as "10m"`},
		{"- id: a\n  expr: 'true'\n  threshold: five\n  window: 1m\n", `detect: rule 1 (a): threshold: want a whole number, got "five"`},
		{"- id: a\n  expr: 'true'\n  threshold: 5\n", `detect: rule 1 (a): window: missing`},
		{"- id: a\n  expr: 'true'\n  window: 5m\n", `detect: rule 1 (a): threshold: missing`},
		{"- id: a\n  expr: 'true'\n  groupBy: [user]\n", `detect: rule 1 (a): groupBy: only a rule with a threshold`},
		{"- id: a\n  expr: 'true'\n  distinct: name\n", `detect: rule 1 (a): distinct: only a rule with a threshold`},
		{"- id: a\n  expr: 'true'\n  groupBy: [usr]\n  window: 1m\n  threshold: 2\n", `detect: rule 1 (a): groupBy: unknown field "usr" — did you mean user?`},
		{"- id: a\n  expr: 'true'\n  distinct: nmae\n  window: 1m\n  threshold: 2\n", `detect: rule 1 (a): distinct: unknown field "nmae" — did you mean name?`},
		{"- id: a\n  expr: 'true'\n  groupBy: [user, user]\n  window: 1m\n  threshold: 2\n", `groupBy: user is listed twice`},
		{"- id: a\n  expr: verb = 'get'\n", `detect: rule 1 (a): expr: filter: 1:6: unexpected token "=" — compare with ==`},
		{"- id: a\n  expr: usr == 'x'\n", `detect: rule 1 (a): expr: filter: 1:1: unknown field "usr" — did you mean user?`},
		{"- id: a\n", `detect: rule 1 (a): expr: missing`},
		{"- expr: 'true'\n", `detect: rule 1: id: missing`},
		{"- id: My Rule\n  expr: 'true'\n", `detect: rule 1 (My Rule): id: "My Rule": use lower-case letters`},
		{"- id: a\n  expr: 'true'\n- id: a\n  expr: 'false'\n", `detect: rule 2 (a): id: "a" is also the id of rule 1`},
		{"- id: a\n  expr: 'true'\n  severity: High\n", `detect: rule 1 (a): severity: "High" is not one of info, low, medium, high, critical — write it in lower case`},
		{"- id: a\n  expr: 'true'\n  severity: urgent\n", `severity: "urgent" is not one of`},
		{"- id: a\n  expr: 'true'\n  reference: see the wiki\n", `reference: "see the wiki" is not an http(s) URL`},
		{"- id: a\n  expr: [1]\n", `detect: rule 1 (a): expr: want a string, got a list`},
		{"- id: a\n  expr: 'true'\n  threshold: -1\n  window: 1m\n", `threshold: -1 is negative`},
		{"- just a string\n", `detect: rule 1: a rule must be a mapping`},
		{"rulez: []\n", `detect: rules: unknown top-level key "rulez"`},
		{"rules: []\ndetections: []\n", `not both`},
		{"rules: 3\n", `want a list of rules`},
		{"- id: a\n  expr: 'true\n", `detect: rules: not valid YAML`},
		{"- id: a\n  expr: 'true'\n  expr: 'false'\n", `detect: rules: not valid YAML: yaml: unmarshal errors: line 3: key "expr" already set in map`},
	}
	for _, c := range cases {
		_, err := ParseRules([]byte(c.yaml))
		if err == nil {
			t.Errorf("%q: no error, want %q", c.yaml, c.want)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, c.want) {
			t.Errorf("%q:\n got %s\nwant %s", c.yaml, msg, c.want)
		}
		if strings.Contains(msg, "\n") || !strings.HasPrefix(msg, "detect: ") {
			t.Errorf("%q: not one line prefixed detect: %q", c.yaml, msg)
		}
	}
}

func TestCompileErrors(t *testing.T) {
	s := audit.NewStore()
	if _, err := Compile(s, []Rule{{ID: "ok", Expr: "true"}, {ID: "bad", Expr: "code == 'x'"}}, filters.Options{}); err == nil ||
		!strings.HasPrefix(err.Error(), "detect: rule 2 (bad): expr: filter:") {
		t.Errorf("bad expression: %v", err)
	}
	if _, err := Compile(s, []Rule{{ID: "a", Expr: "true"}, {ID: "a", Expr: "true"}}, filters.Options{}); err == nil || !strings.Contains(err.Error(), "used by two rules") {
		t.Errorf("duplicate id: %v", err)
	}
	if _, err := Compile(s, []Rule{{ID: "a", Expr: "true", Threshold: 3}}, filters.Options{}); err == nil || !strings.Contains(err.Error(), "window: missing") {
		t.Errorf("threshold without window: %v", err)
	}
	if err := (&Rule{ID: "a", Expr: "nope("}).Validate(); err == nil || !strings.HasPrefix(err.Error(), `detect: rule "a": expr:`) {
		t.Errorf("Validate: %v", err)
	}
	e, err := Compile(s, Builtins(), filters.Options{})
	if err != nil || len(e.Rules()) != len(Builtins()) {
		t.Errorf("builtins: %v", err)
	}
}

// TestReadmeExample parses the config example of README.md.
func TestReadmeExample(t *testing.T) {
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	start := strings.Index(doc, "```yaml\ndetections:")
	if start < 0 {
		t.Fatal("no detections: example in README.md")
	}
	block := doc[start+len("```yaml\n"):]
	block = block[:strings.Index(block, "```")]
	rules, err := ParseRules([]byte(block))
	if err != nil {
		t.Fatal(err)
	}
	merged := Merge(Builtins(), rules)
	if len(merged) != len(Builtins())+2 {
		t.Errorf("merge: %d rules, want the built-ins and two new ones", len(merged))
	}
	if _, err := Compile(audit.NewStore(), merged, filters.Options{}); err != nil {
		t.Error(err)
	}
	if i := slices.IndexFunc(merged, func(r Rule) bool { return r.ID == "authz-403-burst" }); i < 0 || merged[i].Threshold != 20 {
		t.Error("the tuned built-in rule did not replace the original in place")
	}
}
