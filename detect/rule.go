// Package detect runs detection rules over audit events: filter
// expressions (the language of package filters) with a name, a severity
// and a reference, and optionally a group-by key, a sliding time window, a
// threshold and a distinct-count field that turn matching events into
// alerts ("one identity reads 5 distinct secrets within 10 minutes").
//
// Builtins returns the built-in library (rules.yaml); ParseRules reads
// rules from YAML (the user's config file); Compile prepares rules for a
// store; Engine.Run evaluates them over a view and Engine.Feed evaluates
// them incrementally as a live source grows. README.md describes the rule
// keys and the alert semantics.
package detect

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"sigs.k8s.io/yaml"

	"ktrail/audit"
	"ktrail/filters"
	"ktrail/internal/fuzzy"
)

// Rule is one detection. A rule without Threshold reports every matching
// event as a hit; with Threshold (and then Window) it also raises an alert
// for each group of GroupBy values that has Threshold matching events (or
// Threshold distinct values of Distinct) within a sliding Window.
type Rule struct {
	// ID is a short stable name: lower-case letters, digits and dashes.
	ID string `json:"id" yaml:"id"`
	// Name is a one-line title.
	Name string `json:"name" yaml:"name"`
	// Severity is info, low, medium, high or critical.
	Severity string `json:"severity" yaml:"severity"`
	// Description says what the rule finds and why it matters.
	Description string `json:"description,omitempty" yaml:"description,omitempty"`
	// Reference is a URL: a MITRE ATT&CK technique, a threat-matrix or
	// OWASP Kubernetes Top 10 page.
	Reference string `json:"reference,omitempty" yaml:"reference,omitempty"`
	// Expr is a filter expression (filters/VOCABULARY.md).
	Expr string `json:"expr" yaml:"expr"`
	// GroupBy names the fields whose values form an alert's group.
	GroupBy []string `json:"groupBy,omitempty" yaml:"groupBy,omitempty"`
	// Window is the length of the sliding window of a threshold rule,
	// written as a duration string ("10m") by MarshalJSON and read as one
	// by UnmarshalJSON (and so by ParseRules).
	Window time.Duration `json:"window,omitempty" yaml:"window,omitempty"`
	// Threshold is the number of matching events (or of distinct values)
	// within Window that raises an alert; 0 means no alerts.
	Threshold int `json:"threshold,omitempty" yaml:"threshold,omitempty"`
	// Distinct, when set, names the field whose distinct values are
	// counted against Threshold instead of the events.
	Distinct string `json:"distinct,omitempty" yaml:"distinct,omitempty"`
}

// The severities, lowest first.
var severities = []string{"info", "low", "medium", "high", "critical"}

// SeverityRank returns 0 for info up to 4 for critical, and -1 for an
// unknown severity.
func SeverityRank(s string) int { return slices.Index(severities, s) }

// Alerting reports whether the rule raises alerts (it has a threshold).
func (r *Rule) Alerting() bool { return r.Threshold > 0 }

// ruleKeys are the keys of a rule in YAML and JSON, in documentation order.
var ruleKeys = []string{"id", "name", "severity", "description", "reference", "expr", "groupBy", "window", "threshold", "distinct"}

// ruleJSON is Rule with the window as a duration string.
type ruleJSON struct {
	ID          string   `json:"id"`
	Name        string   `json:"name"`
	Severity    string   `json:"severity"`
	Description string   `json:"description,omitempty"`
	Reference   string   `json:"reference,omitempty"`
	Expr        string   `json:"expr"`
	GroupBy     []string `json:"groupBy,omitempty"`
	Window      string   `json:"window,omitempty"`
	Threshold   int      `json:"threshold,omitempty"`
	Distinct    string   `json:"distinct,omitempty"`
}

// MarshalJSON writes the rule with its window as a duration string ("10m").
func (r Rule) MarshalJSON() ([]byte, error) {
	j := ruleJSON{ID: r.ID, Name: r.Name, Severity: r.Severity, Description: r.Description, Reference: r.Reference,
		Expr: r.Expr, GroupBy: r.GroupBy, Threshold: r.Threshold, Distinct: r.Distinct}
	if r.Window != 0 {
		j.Window = shortDuration(r.Window)
	}
	return json.Marshal(j)
}

// UnmarshalJSON reads one rule strictly: unknown keys and values of the
// wrong type are errors that name the key. It does not validate the rule
// (ParseRules does).
func (r *Rule) UnmarshalJSON(b []byte) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return errors.New("a rule must be a mapping of keys to values")
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if !slices.Contains(ruleKeys, k) {
			msg := fmt.Sprintf("unknown key %q", audit.Sanitize(k))
			if h := nearestKey(k); h != "" {
				msg += " — did you mean " + h + "?"
			}
			return errors.New(msg + " (keys: " + strings.Join(ruleKeys, ", ") + ")")
		}
	}
	var out Rule
	str := func(key string, dst *string) error {
		raw, ok := m[key]
		if !ok || string(raw) == "null" {
			return nil
		}
		if err := json.Unmarshal(raw, dst); err != nil {
			return fmt.Errorf("%s: want a string, got %s", key, kindOf(raw))
		}
		return nil
	}
	for _, f := range []struct {
		key string
		dst *string
	}{{"id", &out.ID}, {"name", &out.Name}, {"severity", &out.Severity}, {"description", &out.Description},
		{"reference", &out.Reference}, {"expr", &out.Expr}, {"distinct", &out.Distinct}} {
		if err := str(f.key, f.dst); err != nil {
			return err
		}
	}
	if raw, ok := m["groupBy"]; ok && string(raw) != "null" {
		if err := json.Unmarshal(raw, &out.GroupBy); err != nil {
			var one string
			if json.Unmarshal(raw, &one) != nil {
				return fmt.Errorf("groupBy: want a list of field names, got %s", kindOf(raw))
			}
			out.GroupBy = []string{one}
		}
	}
	if raw, ok := m["threshold"]; ok && string(raw) != "null" {
		if err := json.Unmarshal(raw, &out.Threshold); err != nil {
			return fmt.Errorf("threshold: want a whole number, got %s", audit.Sanitize(string(raw)))
		}
	}
	if raw, ok := m["window"]; ok && string(raw) != "null" {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return fmt.Errorf("window: want a duration such as \"10m\" or \"30s\", got %s", audit.Sanitize(string(raw)))
		}
		d, err := time.ParseDuration(s)
		if err != nil {
			return fmt.Errorf("window: %q is not a duration (write e.g. \"90s\", \"10m\", \"1h\")", audit.Sanitize(s))
		}
		out.Window = d
	}
	*r = out
	return nil
}

// kindOf names the JSON type of raw for error messages.
func kindOf(raw json.RawMessage) string {
	switch t := bytes.TrimSpace(raw); {
	case len(t) == 0:
		return "nothing"
	case t[0] == '"':
		return "a string"
	case t[0] == '[':
		return "a list"
	case t[0] == '{':
		return "a mapping"
	case t[0] == 't' || t[0] == 'f':
		return "a boolean"
	default:
		return "a number"
	}
}

// nearestKey returns the rule key that s is a plausible misspelling of.
func nearestKey(s string) string {
	best, bestD := "", 3
	for _, k := range ruleKeys {
		if d := fuzzy.Distance(strings.ToLower(s), strings.ToLower(k)); d < bestD {
			best, bestD = k, d
		}
	}
	return best
}

// shortDuration formats d without zero units: "10m", "1h30m", "90s".
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

//go:embed rules.yaml
var builtinYAML []byte

// Builtins returns ktrail's built-in rule library (rules.yaml), in file
// order. The slice is a fresh copy.
func Builtins() []Rule {
	rules, err := ParseRules(builtinYAML)
	if err != nil {
		panic("detect: the built-in rules.yaml is invalid: " + err.Error())
	}
	return rules
}

// BuiltinYAML returns the text of the built-in rules.yaml.
func BuiltinYAML() []byte { return slices.Clone(builtinYAML) }

var idRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)

// ParseRules reads rules from YAML (or JSON): a list of rules, or a
// mapping with one key, rules or detections, holding the list. Parsing is
// strict: an unknown key, a value of the wrong type, a missing id or expr,
// an unknown severity or field name, an expression that does not compile,
// or an inconsistent window/threshold is an error of one line that names
// the rule and the key. A rule without a name takes its id; without a
// severity, medium.
func ParseRules(data []byte) ([]Rule, error) {
	js, err := yaml.YAMLToJSONStrict(data)
	if err != nil {
		return nil, fmt.Errorf("detect: rules: not valid YAML: %s", oneLine(err.Error()))
	}
	js = bytes.TrimSpace(js)
	if len(js) == 0 || string(js) == "null" {
		return nil, nil
	}
	var items []json.RawMessage
	if js[0] == '{' {
		var top map[string]json.RawMessage
		if err := json.Unmarshal(js, &top); err != nil {
			return nil, fmt.Errorf("detect: rules: %s", oneLine(err.Error()))
		}
		for k := range top {
			if k != "rules" && k != "detections" {
				return nil, fmt.Errorf("detect: rules: unknown top-level key %q (want a list of rules, or rules: [...])", audit.Sanitize(k))
			}
		}
		if len(top) != 1 {
			return nil, errors.New("detect: rules: give either rules: or detections:, not both")
		}
		for _, v := range top {
			js = v
		}
		if string(bytes.TrimSpace(js)) == "null" {
			return nil, nil
		}
	}
	if err := json.Unmarshal(js, &items); err != nil {
		return nil, errors.New("detect: rules: want a list of rules (each a mapping with id, expr, …)")
	}
	rules := make([]Rule, 0, len(items))
	seen := map[string]int{}
	empty := audit.NewStore()
	for i, raw := range items {
		var r Rule
		if err := r.UnmarshalJSON(raw); err != nil {
			return nil, fmt.Errorf("detect: %s: %s", ruleLabel(i, peekID(raw)), oneLine(err.Error()))
		}
		if err := r.validate(empty); err != nil {
			return nil, fmt.Errorf("detect: %s: %s", ruleLabel(i, r.ID), oneLine(err.Error()))
		}
		if j, dup := seen[r.ID]; dup {
			return nil, fmt.Errorf("detect: %s: id: %q is also the id of rule %d", ruleLabel(i, r.ID), r.ID, j+1)
		}
		seen[r.ID] = i
		rules = append(rules, r)
	}
	return rules, nil
}

// ruleLabel names rule i (0-based) for an error message.
func ruleLabel(i int, id string) string {
	if id == "" {
		return fmt.Sprintf("rule %d", i+1)
	}
	return fmt.Sprintf("rule %d (%s)", i+1, audit.Sanitize(id))
}

// peekID returns the id of a raw rule if it has a string one.
func peekID(raw json.RawMessage) string {
	var m struct {
		ID any `json:"id"`
	}
	_ = json.Unmarshal(raw, &m)
	s, _ := m.ID.(string)
	return s
}

// Validate checks one rule as ParseRules does; rules built in Go should
// be validated before Compile (which only compiles the expression).
func (r *Rule) Validate() error {
	rc := *r
	if err := rc.validate(audit.NewStore()); err != nil {
		return fmt.Errorf("detect: rule %q: %s", audit.Sanitize(r.ID), oneLine(err.Error()))
	}
	return nil
}

// validate checks r and fills the defaults (name, severity). The
// expression is compiled against empty, unless it is nil.
func (r *Rule) validate(empty *audit.Store) error {
	switch {
	case r.ID == "":
		return errors.New("id: missing (a short name such as my-rule)")
	case !idRE.MatchString(r.ID):
		return fmt.Errorf("id: %q: use lower-case letters, digits and dashes", audit.Sanitize(r.ID))
	case strings.TrimSpace(r.Expr) == "":
		return errors.New("expr: missing (a filter expression, see filters/VOCABULARY.md)")
	}
	if r.Name == "" {
		r.Name = r.ID
	}
	if r.Severity == "" {
		r.Severity = "medium"
	}
	if SeverityRank(r.Severity) < 0 {
		hint := ""
		if SeverityRank(strings.ToLower(r.Severity)) >= 0 {
			hint = " — write it in lower case"
		}
		return fmt.Errorf("severity: %q is not one of %s%s", audit.Sanitize(r.Severity), strings.Join(severities, ", "), hint)
	}
	if r.Reference != "" && !strings.HasPrefix(r.Reference, "https://") && !strings.HasPrefix(r.Reference, "http://") {
		return fmt.Errorf("reference: %q is not an http(s) URL", audit.Sanitize(r.Reference))
	}
	switch {
	case r.Threshold < 0:
		return fmt.Errorf("threshold: %d is negative", r.Threshold)
	case r.Window < 0:
		return fmt.Errorf("window: %v is negative", r.Window)
	case r.Threshold > 0 && r.Window == 0:
		return errors.New("window: missing: a threshold counts events within a window (e.g. window: 10m)")
	case r.Window > 0 && r.Threshold == 0:
		return errors.New("threshold: missing: a window needs a threshold (the number of events that raises an alert)")
	case len(r.GroupBy) > 0 && r.Threshold == 0:
		return errors.New("groupBy: only a rule with a threshold and a window groups events")
	case r.Distinct != "" && r.Threshold == 0:
		return errors.New("distinct: only a rule with a threshold and a window counts distinct values")
	}
	for _, g := range r.GroupBy {
		if err := checkField(g); err != nil {
			return fmt.Errorf("groupBy: %v", err)
		}
	}
	for i, g := range r.GroupBy {
		if slices.Contains(r.GroupBy[:i], g) {
			return fmt.Errorf("groupBy: %s is listed twice", g)
		}
	}
	if r.Distinct != "" {
		if err := checkField(r.Distinct); err != nil {
			return fmt.Errorf("distinct: %v", err)
		}
	}
	if empty == nil {
		return nil // the caller compiles the expression itself
	}
	if _, err := filters.Compile(empty, []string{r.Expr}, filters.Options{Now: time.Unix(0, 0)}); err != nil {
		return fmt.Errorf("expr: %v", err)
	}
	return nil
}

// checkField checks a groupBy or distinct field name.
func checkField(name string) error {
	names := filters.FieldNames()
	if slices.Contains(names, name) {
		return nil
	}
	msg := fmt.Sprintf("unknown field %q", audit.Sanitize(name))
	best, bestD := "", 1+len(name)/4+1
	for _, n := range names {
		if d := fuzzy.Distance(strings.ToLower(name), strings.ToLower(n)); d < bestD {
			best, bestD = n, d
		}
	}
	if best != "" {
		msg += " — did you mean " + best + "?"
	}
	return errors.New(msg + " (see filters/VOCABULARY.md)")
}

// oneLine folds a message onto one line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// Merge returns the built-in rules followed by the user's: a user rule
// whose id is that of a built-in one replaces it in place (to change a
// threshold, or to switch a rule off with expr: "false").
func Merge(builtin, user []Rule) []Rule {
	out := slices.Clone(builtin)
	for _, u := range user {
		if i := slices.IndexFunc(out, func(r Rule) bool { return r.ID == u.ID }); i >= 0 {
			out[i] = u
		} else {
			out = append(out, u)
		}
	}
	return out
}
