package timeline

import (
	"context"
	"slices"
	"time"

	"ktrail/audit"
)

// Gap is a silent period: no matching event was logged in (From, To).
type Gap struct {
	From, To int64 // Unix ns: the logging times of the events on either side
}

// Len returns the gap's length.
func (g Gap) Len() time.Duration { return time.Duration(g.To - g.From) }

// Gaps is the result of FindGaps.
type Gaps struct {
	List      []Gap         // the silent periods, oldest first
	Threshold time.Duration // the length from which a silence counts
	Median    time.Duration // the median interval between events
	Events    int           // the events considered
}

// Largest returns the longest gap; ok is false when there is none.
func (g Gaps) Largest() (Gap, bool) {
	if len(g.List) == 0 {
		return Gap{}, false
	}
	best := g.List[0]
	for _, x := range g.List[1:] {
		if x.Len() > best.Len() {
			best = x
		}
	}
	return best, true
}

// The gap rule's constants (see FindGaps).
const (
	// DefaultMinGap is the shortest silence reported when the caller
	// gives none.
	DefaultMinGap = time.Minute
	// MinGapEvents is the fewest events the rule works on: with fewer,
	// the usual rate cannot be told and nothing is reported.
	MinGapEvents = 20
	// medianFactor and p99Factor scale the usual intervals.
	medianFactor = 10
	p99Factor    = 3
	// sampleMax bounds the intervals sorted to estimate the quantiles.
	sampleMax = 1 << 17
)

// FindGaps finds the silent periods of the rows: the times when none of
// them was logged for much longer than usual ("was logging turned
// off?"). The rule:
//
//   - An event counts at the time it was logged: its stageTimestamp
//     (requestReceivedTimestamp + latency) when it has one, else its event
//     time. A long watch that started before the log did is then not
//     mistaken for sparse traffic before it. Events without a time are
//     skipped.
//   - Between consecutive logging times there are intervals; m is their
//     median and p99 their 99th percentile (estimated on an evenly spread
//     sample of at most 131,072 intervals).
//   - A silence is an interval of at least
//     max(minGap, 10 × m, 3 × p99), minGap being DefaultMinGap (one minute)
//     when zero or negative. The median term asks for "ten times the usual
//     pace", the p99 term keeps the regular pauses of bursty traffic (a
//     job that calls every five minutes) from being reported, the floor
//     keeps busy clusters from reporting a quiet minute's fraction.
//   - With fewer than MinGapEvents events nothing is reported.
//
// It visits each row once and sorts the logging times, so a million rows
// take some tens of milliseconds; run it off the render path. ctx is
// checked every 64K rows.
func FindGaps(ctx context.Context, v *audit.View, rows Rows, minGap time.Duration) (Gaps, error) {
	if minGap <= 0 {
		minGap = DefaultMinGap
	}
	res := Gaps{Threshold: minGap}
	if v == nil || rows == nil || rows.Len() == 0 {
		return res, nil
	}
	times := make([]int64, 0, rows.Len())
	n := rows.Len()
	for i := 0; i < n; i++ {
		if i&(checkEvery-1) == 0 {
			if err := ctx.Err(); err != nil {
				return Gaps{}, err
			}
		}
		r := v.Rec(rows.ID(i))
		if r.Flags&audit.FlagNoTime != 0 {
			continue
		}
		times = append(times, LoggedAt(r))
	}
	res.Events = len(times)
	if len(times) < MinGapEvents {
		return res, nil
	}
	slices.Sort(times) // nearly sorted already: most latencies are small
	res.List, res.Threshold, res.Median = gapsOf(times, minGap)
	return res, nil
}

// LoggedAt returns when r was logged: its time plus its latency.
func LoggedAt(r *audit.Rec) int64 {
	t := r.Time
	if r.Latency > 0 {
		t += int64(float64(r.Latency) * 1e9)
	}
	return t
}

// gapsOf applies the rule to sorted times.
func gapsOf(times []int64, minGap time.Duration) ([]Gap, time.Duration, time.Duration) {
	nInt := len(times) - 1
	stride := max(1, nInt/sampleMax)
	sample := make([]int64, 0, nInt/stride+1)
	for i := 0; i < nInt; i += stride {
		sample = append(sample, times[i+1]-times[i])
	}
	slices.Sort(sample)
	med := time.Duration(sample[len(sample)/2])
	p99 := time.Duration(sample[min(len(sample)-1, len(sample)*99/100)])
	th := max(minGap, medianFactor*med, p99Factor*p99)
	var out []Gap
	for i := 0; i < nInt; i++ {
		if d := times[i+1] - times[i]; d >= int64(th) {
			out = append(out, Gap{From: times[i], To: times[i+1]})
		}
	}
	return out, th, med
}
