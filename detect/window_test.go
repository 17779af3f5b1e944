package detect

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"ktrail/audit"
	"ktrail/filters"
)

// t0 is the time of the hand-written events' offsets.
var t0 = time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)

// ev is a hand-written event: offset from t0 (negative: no time at all),
// user, secret name, source address.
type ev struct {
	at   time.Duration
	user string
	name string
	ip   string
}

// eventLines writes the events as audit.k8s.io/v1 JSON lines: reads of
// secrets, each a distinct request.
func eventLines(evs []ev) []byte {
	var b strings.Builder
	for i, e := range evs {
		ts := ""
		if e.at >= 0 {
			t := t0.Add(e.at).Format(time.RFC3339Nano)
			ts = fmt.Sprintf(`,"requestReceivedTimestamp":%q,"stageTimestamp":%q`, t, t)
		}
		ip := e.ip
		if ip == "" {
			ip = "10.0.0.1"
		}
		fmt.Fprintf(&b, `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"id-%d","stage":"ResponseComplete",`+
			`"requestURI":"/api/v1/namespaces/ns/secrets/%s","verb":"get","user":{"username":%q},"sourceIPs":[%q],`+
			`"objectRef":{"resource":"secrets","namespace":"ns","name":%q,"apiVersion":"v1"},"responseStatus":{"code":200}%s}`+"\n",
			i, e.name, e.user, ip, e.name, ts)
	}
	return []byte(b.String())
}

// runRule runs one rule over the events.
func runRule(t *testing.T, r Rule, evs []ev) (*audit.Store, RuleResult) {
	t.Helper()
	s := loadBytes(t, "events", eventLines(evs))
	e, err := Compile(s, []Rule{r}, filters.Options{Now: t0})
	if err != nil {
		t.Fatal(err)
	}
	res := e.Run(context.Background(), s.View(), nil)
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	return s, res.Rules[0]
}

func countRule(n int, window time.Duration) Rule {
	return Rule{ID: "r", Severity: "high", Expr: `resource == "secrets"`, GroupBy: []string{"user"}, Window: window, Threshold: n}
}

func TestThresholdBoundaries(t *testing.T) {
	sec := time.Second
	cases := []struct {
		name   string
		rule   Rule
		evs    []ev
		alerts []int // Count of each alert
	}{
		{"exactly N within the window", countRule(3, time.Minute),
			[]ev{{0, "a", "s1", ""}, {10 * sec, "a", "s1", ""}, {20 * sec, "a", "s1", ""}}, []int{3}},
		{"N-1 within the window", countRule(3, time.Minute),
			[]ev{{0, "a", "s1", ""}, {10 * sec, "a", "s1", ""}}, nil},
		{"N spread just inside the window", countRule(3, time.Minute),
			[]ev{{0, "a", "s1", ""}, {30 * sec, "a", "s1", ""}, {60*sec - time.Millisecond, "a", "s1", ""}}, []int{3}},
		{"N spread exactly one window apart: the first has left", countRule(3, time.Minute),
			[]ev{{0, "a", "s1", ""}, {30 * sec, "a", "s1", ""}, {60 * sec, "a", "s1", ""}}, nil},
		{"the window slides: events 2-4 fire", countRule(3, time.Minute),
			[]ev{{0, "a", "s1", ""}, {61 * sec, "a", "s1", ""}, {70 * sec, "a", "s1", ""}, {80 * sec, "a", "s1", ""}}, []int{3}},
		{"one alert extends while the threshold holds", countRule(3, time.Minute),
			[]ev{{0, "a", "s", ""}, {sec, "a", "s", ""}, {2 * sec, "a", "s", ""}, {3 * sec, "a", "s", ""}, {4 * sec, "a", "s", ""}}, []int{5}},
		{"a gap ends an alert; a new burst raises another", countRule(2, 10*time.Second),
			[]ev{{0, "a", "s", ""}, {sec, "a", "s", ""}, {time.Minute, "a", "s", ""}, {time.Minute + sec, "a", "s", ""}}, []int{2, 2}},
		{"groups are counted apart", countRule(3, time.Minute),
			[]ev{{0, "a", "s", ""}, {sec, "b", "s", ""}, {2 * sec, "a", "s", ""}, {3 * sec, "b", "s", ""}}, nil},
		{"no group-by: one group", Rule{ID: "r", Expr: `true`, Window: time.Minute, Threshold: 4},
			[]ev{{0, "a", "s", ""}, {sec, "b", "s", ""}, {2 * sec, "a", "s", ""}, {3 * sec, "b", "s", ""}}, []int{4}},
		{"events without a time never count", countRule(3, time.Minute),
			[]ev{{0, "a", "s", ""}, {-1, "a", "s", ""}, {-1, "a", "s", ""}, {sec, "a", "s", ""}}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, rr := runRule(t, c.rule, c.evs)
			var got []int
			for _, a := range rr.Alerts {
				got = append(got, a.Count)
				if len(a.IDs) != a.Count {
					t.Errorf("alert with %d ids, count %d", len(a.IDs), a.Count)
				}
			}
			if !slices.Equal(got, c.alerts) {
				t.Errorf("alerts with counts %v, want %v", got, c.alerts)
			}
			if len(rr.Hits) != len(c.evs) {
				t.Errorf("%d hits, want every event (%d)", len(rr.Hits), len(c.evs))
			}
		})
	}
}

func TestAlertFields(t *testing.T) {
	sec := time.Second
	r := Rule{ID: "r", Expr: `verb == "get"`, GroupBy: []string{"user", "sourceIP"}, Window: time.Minute, Threshold: 2}
	s, rr := runRule(t, r, []ev{{0, "a", "s1", "192.0.2.1"}, {5 * sec, "a", "s2", "192.0.2.1"}, {9 * sec, "a", "s2", "192.0.2.1"}, {sec, "a", "s3", "192.0.2.2"}})
	if len(rr.Alerts) != 1 {
		t.Fatalf("%d alerts, want 1", len(rr.Alerts))
	}
	a := rr.Alerts[0]
	if !slices.Equal(a.Group, []string{"a", "192.0.2.1"}) || !a.First.Equal(t0) || !a.Last.Equal(t0.Add(9*sec)) || a.Count != 3 || a.Distinct != 0 || a.Values != nil {
		t.Errorf("alert %+v", a)
	}
	for i, id := range a.IDs {
		if got := val(t, s, id, "name"); got != []string{"s1", "s2", "s2"}[i] {
			t.Errorf("id %d is %s", i, got)
		}
	}
}

func TestDistinct(t *testing.T) {
	sec := time.Second
	rule := Rule{ID: "r", Expr: `resource == "secrets"`, GroupBy: []string{"user"}, Window: 10 * time.Minute, Threshold: 3, Distinct: "name"}
	// The same secret read over and over is not many secrets.
	_, rr := runRule(t, rule, []ev{{0, "a", "s1", ""}, {sec, "a", "s1", ""}, {2 * sec, "a", "s1", ""}, {3 * sec, "a", "s2", ""}})
	if len(rr.Alerts) != 0 {
		t.Errorf("2 distinct names raised %d alerts", len(rr.Alerts))
	}
	// Three names: the alert holds every event of the window and lists the names.
	_, rr = runRule(t, rule, []ev{{0, "a", "s1", ""}, {sec, "a", "s1", ""}, {2 * sec, "a", "s2", ""}, {3 * sec, "a", "s3", ""}, {4 * sec, "a", "s4", ""}, {5 * sec, "b", "s5", ""}})
	if len(rr.Alerts) != 1 {
		t.Fatalf("%d alerts, want 1", len(rr.Alerts))
	}
	a := rr.Alerts[0]
	if a.Count != 5 || a.Distinct != 4 || !slices.Equal(a.Values, []string{"s1", "s2", "s3", "s4"}) || a.Group[0] != "a" {
		t.Errorf("alert %+v", a)
	}
	// A distinct value leaving the window lowers the count.
	_, rr = runRule(t, rule, []ev{{0, "a", "s1", ""}, {sec, "a", "s2", ""}, {11 * time.Minute, "a", "s3", ""}, {11*time.Minute + sec, "a", "s3", ""}})
	if len(rr.Alerts) != 0 {
		t.Errorf("names 10 minutes apart raised %d alerts", len(rr.Alerts))
	}
	// Only the first 10 values are listed; Distinct counts them all.
	var evs []ev
	for i := range 15 {
		evs = append(evs, ev{time.Duration(i) * sec, "a", fmt.Sprintf("s%02d", i), ""})
	}
	_, rr = runRule(t, rule, evs)
	if len(rr.Alerts) != 1 || rr.Alerts[0].Distinct != 15 || len(rr.Alerts[0].Values) != 10 {
		t.Errorf("15 names: %+v", rr.Alerts)
	}
	// auditID counts requests (its fast path is the hash in the index).
	rule.Distinct = "auditID"
	_, rr = runRule(t, rule, []ev{{0, "a", "s1", ""}, {sec, "a", "s1", ""}, {2 * sec, "a", "s1", ""}})
	if len(rr.Alerts) != 1 || rr.Alerts[0].Values[0] != "id-0" {
		t.Errorf("distinct auditID: %+v", rr.Alerts)
	}
}

func TestRunSubset(t *testing.T) {
	sec := time.Second
	s := loadBytes(t, "events", eventLines([]ev{{0, "a", "s1", ""}, {sec, "a", "s2", ""}, {2 * sec, "a", "s3", ""}, {3 * sec, "b", "s4", ""}}))
	e, err := Compile(s, []Rule{{ID: "all", Expr: "true"}, countRule(3, time.Minute)}, filters.Options{})
	if err != nil {
		t.Fatal(err)
	}
	v := s.View()
	full := e.Run(context.Background(), v, nil)
	if len(full.Rules[0].Hits) != 4 || len(full.Rules[1].Alerts) != 1 {
		t.Fatalf("full run: %+v", full)
	}
	sub := e.Run(context.Background(), v, []uint32{3, 0, 2})
	if got := sub.Rules[0].Hits; len(got) != 3 || got[0] != v.ID(0) {
		t.Errorf("subset hits %v", got)
	}
	if len(sub.Rules[1].Alerts) != 0 {
		t.Errorf("two of user a's events raised an alert")
	}
	if empty := e.Run(context.Background(), v, []uint32{}); len(empty.Rules[0].Hits) != 0 {
		t.Errorf("an empty selection has hits: %v", empty.Rules[0].Hits)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if res := e.Run(ctx, v, nil); res.Err == nil {
		t.Error("a cancelled run has no error")
	}
}
