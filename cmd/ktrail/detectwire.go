package main

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"ktrail/audit"
	"ktrail/detect"
	"ktrail/filters"
	"ktrail/report"
)

// allRules returns the built-in rules merged with the user's rules from
// the config file (a user rule with a built-in's id replaces it).
func allRules() ([]detect.Rule, error) {
	user, err := loadUserRules("")
	if err != nil {
		return nil, err
	}
	return detect.Merge(detect.Builtins(), user), nil
}

func init() {
	// Reports (ktrail report and S in the view) list the detections
	// that fired on the reported events.
	reportDetections = func(store *audit.Store, v *audit.View, ids []uint32) ([]report.Finding, error) {
		rules, err := allRules()
		if err != nil {
			return nil, err
		}
		e, err := detect.Compile(store, rules, filters.Options{})
		if err != nil {
			return nil, err
		}
		res := e.Run(context.Background(), v, ids)
		if res.Err != nil {
			return nil, res.Err
		}
		fired := res.Fired()
		slices.SortStableFunc(fired, func(a, b detect.RuleResult) int {
			return detect.SeverityRank(b.Rule.Severity) - detect.SeverityRank(a.Rule.Severity)
		})
		var out []report.Finding
		for _, rr := range fired {
			f := report.Finding{RuleID: rr.Rule.ID, Name: rr.Rule.Name, Severity: rr.Rule.Severity,
				Reference: rr.Rule.Reference, Hits: len(rr.Hits)}
			for _, a := range rr.Alerts {
				s := fmt.Sprintf("%s: %d events %s – %s", strings.Join(a.Group, ", "), a.Count,
					a.First.UTC().Format("2006-01-02 15:04:05"), a.Last.UTC().Format("15:04:05"))
				if a.Distinct > 0 {
					s += fmt.Sprintf(", %d distinct (%s)", a.Distinct, strings.Join(a.Values, ", "))
				}
				f.Alerts = append(f.Alerts, s)
			}
			out = append(out, f)
		}
		return out, nil
	}
}
