package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"ktrail/audit"
	"ktrail/tui/timeline"
)

// writeGaps prints the silent periods of the events ids (sorted like v):
// the times when none of them was logged for much longer than usual (the
// rule is timeline.FindGaps': at least max(minGap or 1m, 10 × the median
// interval, 3 × the 99th percentile interval), counted at the time each
// event was logged). One line per gap, oldest first:
//
//	FROM                      TO                        SILENT
//	2026-11-24T14:11:58.551Z  2026-11-24T14:22:00.000Z  10m1s
//
// then a line with the rule's numbers. It returns the number of gaps.
// utc false prints local times.
func writeGaps(w io.Writer, store *audit.Store, v *audit.View, ids []uint32, minGap time.Duration, utc bool) (int, error) {
	_ = store // the rule needs only the index; kept for symmetry with the other writers
	g, err := timeline.FindGaps(context.Background(), v, timeline.IDs(ids), minGap)
	if err != nil {
		return 0, err
	}
	loc := time.Local
	if utc {
		loc = time.UTC
	}
	ts := func(ns int64) string { return time.Unix(0, ns).In(loc).Format("2006-01-02T15:04:05.000Z07:00") }
	if len(g.List) > 0 {
		if _, err := fmt.Fprintf(w, "%-29s %-29s %s\n", "FROM", "TO", "SILENT"); err != nil {
			return 0, err
		}
	}
	for _, gap := range g.List {
		if _, err := fmt.Fprintf(w, "%-29s %-29s %s\n", ts(gap.From), ts(gap.To), gap.Len().Round(time.Millisecond)); err != nil {
			return 0, err
		}
	}
	var note string
	switch {
	case g.Events < timeline.MinGapEvents:
		note = fmt.Sprintf("%s: %d events are too few to tell the usual rate (at least %d needed)", plural(len(g.List), "gap"), g.Events, timeline.MinGapEvents)
	default:
		note = fmt.Sprintf("%s of at least %s among %d events (median interval %s)", plural(len(g.List), "gap"),
			g.Threshold.Round(time.Millisecond), g.Events, g.Median.Round(time.Microsecond))
	}
	if _, err := fmt.Fprintln(w, note); err != nil {
		return 0, err
	}
	return len(g.List), nil
}

// plural prints n and the noun, plural unless n is 1.
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
