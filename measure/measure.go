// Package measure summarises latency samples and compares two sides measured
// in interleaved rounds, the way FR-013 needs on a noisy two-core machine:
// a ratio with an interval that includes the variance between rounds, a
// three-way verdict, and a sequential stopping rule. Everything here is pure
// (no clock, no I/O) so it is unit-tested with synthetic samples.
package measure

import (
	"fmt"
	"math"
	"sort"
	"time"
)

// Summary describes one set of durations.
type Summary struct {
	N   int           `json:"n"`
	P50 time.Duration `json:"p50"`
	P95 time.Duration `json:"p95"`
	P99 time.Duration `json:"p99"`
}

// Summarize returns n and the 50th, 95th and 99th percentiles (nearest rank).
func Summarize(d []time.Duration) Summary {
	if len(d) == 0 {
		return Summary{}
	}
	s := sorted(d)
	return Summary{N: len(s), P50: Percentile(s, 50), P95: Percentile(s, 95), P99: Percentile(s, 99)}
}

func sorted(d []time.Duration) []time.Duration {
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s
}

// Percentile returns the p-th percentile of sorted samples by nearest rank.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	// p*n/100, not p/100*n: p/100 is inexact, and the product can land just
	// above a whole number (7/100*100 = 7.000000000000001), one rank too high.
	rank := int(math.Ceil(p*float64(len(sorted))/100)) - 1
	if rank < 0 {
		rank = 0
	}
	if rank >= len(sorted) {
		rank = len(sorted) - 1
	}
	return sorted[rank]
}

// Round holds both sides' samples of one unit of resampling: one fresh pair
// of connections, its blocks interleaved in random order.
type Round struct {
	Subject, Baseline []time.Duration
}

// Center is the location of a round's samples that FR-013 compares: the
// geometric mean of the middle half (the samples ranked from the 25th to
// the 75th percentile). Like the median it ignores the preempted and
// stalled tail (a quarter of the samples on either side may be anything);
// unlike the median it averages half the samples, not one or two, so a
// round's ratio varies about 0.6 times as much (measured on this machine:
// docs/fr-013.md), which is what lets a 10% threshold be decided in
// seconds. It is 0 for no samples.
func Center(d []time.Duration) time.Duration { return time.Duration(center(d)) }

// center is Center in nanoseconds, unrounded.
func center(d []time.Duration) float64 {
	if len(d) == 0 {
		return 0
	}
	s := sorted(d)
	lo, hi := len(s)/4, len(s)-len(s)/4
	var sum float64
	for _, x := range s[lo:hi] {
		if x <= 0 {
			return 0
		}
		sum += math.Log(float64(x))
	}
	return math.Exp(sum / float64(hi-lo))
}

// Statistic names Center in reports.
const Statistic = "interquartile geometric mean"

// Comparison is the outcome of an interleaved subject-versus-baseline run.
//
// The statistic of a round is the ratio of its two Centers; the rounds are
// the independent units, so the interval below is a Student t interval
// over the rounds' log ratios: it contains the between-round variance
// (which server core a connection lands on, the machine's phase) by
// construction, and uses t quantiles, which a bootstrap over a dozen
// rounds would not.
type Comparison struct {
	// Subject and Baseline summarise every sample of each side.
	Subject  Summary `json:"subject"`
	Baseline Summary `json:"baseline"`
	// Statistic is what a round's ratio compares (Statistic).
	Statistic string `json:"statistic,omitempty"`
	// SubjectCenter and BaselineCenter are the geometric means over rounds
	// of each side's Center: the typical round trip of each.
	SubjectCenter  time.Duration `json:"subject_center,omitempty"`
	BaselineCenter time.Duration `json:"baseline_center,omitempty"`
	// Ratio is the geometric mean over rounds of the rounds' Center ratios.
	Ratio float64 `json:"ratio"`
	// RatioLow and RatioHigh bound Ratio at Confidence (see Method).
	RatioLow  float64 `json:"ratio_low"`
	RatioHigh float64 `json:"ratio_high"`
	// Blocks is the number of rounds (the units of resampling) that gave
	// both sides a Center.
	Blocks int `json:"blocks"`
	// Overhead is the mean over rounds of subject − baseline Center, with
	// its interval at the same confidence.
	Overhead     time.Duration `json:"overhead"`
	OverheadLow  time.Duration `json:"overhead_low"`
	OverheadHigh time.Duration `json:"overhead_high"`
	// Confidence is the two-sided level of the intervals, Widen the factor
	// their half-widths were multiplied by (Method).
	Confidence float64 `json:"confidence,omitempty"`
	Widen      float64 `json:"widen,omitempty"`
	// RoundRatios are the rounds' Center ratios, in order.
	RoundRatios []float64 `json:"round_ratios,omitempty"`
	// Discarded counts the rounds measured again because other processes
	// took more than the harness's bound of the CPUs meanwhile; ForeignMax
	// is the most they took (in CPUs) and ForeignTop who took it.
	Discarded  int     `json:"discarded,omitempty"`
	ForeignMax float64 `json:"foreign_max_cpus,omitempty"`
	ForeignTop string  `json:"foreign_top,omitempty"`
}

// BaselineRoundTrip is the baseline's typical round trip: the center of its
// rounds, or its p50 when there are none.
func (c Comparison) BaselineRoundTrip() time.Duration {
	if c.BaselineCenter > 0 {
		return c.BaselineCenter
	}
	return c.Baseline.P50
}

// Method is how intervals are made and when a sequential comparison stops.
type Method struct {
	// Confidence is the two-sided level of each interval (0.99: the
	// 0.5th–99.5th percentile of the t distribution). It is above 0.95
	// because a sequential comparison looks at its interval after every
	// round: see docs/fr-013.md.
	Confidence float64
	// Widen multiplies every interval's half-width (≥ 1): the calibration
	// for run-to-run spread the rounds of one run do not show.
	Widen float64
	// MinRounds is the first look; MaxRounds the budget.
	MinRounds, MaxRounds int
}

// FR013 is the method FR-013 uses, calibrated in docs/fr-013.md.
var FR013 = Method{Confidence: 0.99, Widen: 2, MinRounds: 8, MaxRounds: 24}

// Compare combines rounds into a Comparison with m's intervals.
func Compare(rounds []Round, m Method) Comparison {
	stats := make([]roundStat, len(rounds))
	for i, r := range rounds {
		stats[i] = statOf(r)
	}
	return compare(rounds, stats, m)
}

// roundStat is a round's two Centers (zero when a side has no samples).
type roundStat struct{ sub, base float64 }

func statOf(r Round) roundStat { return roundStat{center(r.Subject), center(r.Baseline)} }

func compare(rounds []Round, stats []roundStat, m Method) Comparison {
	var sub, base []time.Duration
	for _, r := range rounds {
		sub = append(sub, r.Subject...)
		base = append(base, r.Baseline...)
	}
	c := interval(stats, m)
	c.Subject, c.Baseline = Summarize(sub), Summarize(base)
	return c
}

// interval is the part of a Comparison made from the rounds' Centers.
func interval(stats []roundStat, m Method) Comparison {
	c := Comparison{Statistic: Statistic, Confidence: m.Confidence, Widen: m.widen()}
	var logs, diffs, subs, bases []float64
	for _, st := range stats {
		if st.sub <= 0 || st.base <= 0 {
			continue
		}
		c.RoundRatios = append(c.RoundRatios, st.sub/st.base)
		logs = append(logs, math.Log(st.sub/st.base))
		diffs = append(diffs, st.sub-st.base)
		subs = append(subs, math.Log(st.sub))
		bases = append(bases, math.Log(st.base))
	}
	c.Blocks = len(logs)
	if len(logs) == 0 {
		return c
	}
	c.SubjectCenter, c.BaselineCenter = time.Duration(math.Exp(mean(subs))), time.Duration(math.Exp(mean(bases)))
	mean, half := m.interval(logs)
	c.Ratio, c.RatioLow, c.RatioHigh = math.Exp(mean), math.Exp(mean-half), math.Exp(mean+half)
	mean, half = m.interval(diffs)
	c.Overhead, c.OverheadLow, c.OverheadHigh = time.Duration(mean), time.Duration(mean-half), time.Duration(mean+half)
	return c
}

func (m Method) widen() float64 {
	if m.Widen < 1 {
		return 1
	}
	return m.Widen
}

// interval returns the mean of x and the half-width of its widened t
// interval; with one value the half-width is infinite (nothing is known
// about the spread).
func (m Method) interval(x []float64) (mu, half float64) {
	mu = mean(x)
	if len(x) < 2 {
		return mu, math.Inf(1)
	}
	n := float64(len(x))
	var ss float64
	for _, v := range x {
		ss += (v - mu) * (v - mu)
	}
	se := math.Sqrt(ss / (n - 1) / n)
	return mu, m.widen() * TQuantile(1-(1-m.Confidence)/2, n-1) * se
}

func mean(x []float64) float64 {
	var s float64
	for _, v := range x {
		s += v
	}
	return s / float64(len(x))
}

// Verdict is a comparison's three-way outcome against a threshold.
type Verdict string

const (
	// Pass: the whole interval is below the threshold.
	Pass Verdict = "pass"
	// Fail: the whole interval is above the threshold.
	Fail Verdict = "fail"
	// Inconclusive: the interval contains the threshold (or there is no
	// interval): the evidence decides neither way.
	Inconclusive Verdict = "inconclusive"
)

// Decide compares the ratio's interval with threshold.
func (c Comparison) Decide(threshold float64) Verdict {
	switch {
	case c.Blocks < 2 || c.RatioHigh <= 0 || math.IsInf(c.RatioHigh, 0) || math.IsNaN(c.RatioHigh):
		return Inconclusive
	case c.RatioHigh < threshold:
		return Pass
	case c.RatioLow > threshold:
		return Fail
	}
	return Inconclusive
}

// Sequential is a comparison that decides as it goes: rounds are added one
// at a time, and from Method.MinRounds on it stops as soon as the interval
// is entirely on one side of Threshold; at Method.MaxRounds it stops
// whatever the interval. A Threshold ≤ 0 seeks no verdict: it stops at
// MinRounds.
type Sequential struct {
	Method    Method
	Threshold float64
	rounds    []Round
	stats     []roundStat
}

// Add records a round and reports whether to stop.
func (s *Sequential) Add(r Round) (stop bool) {
	s.rounds = append(s.rounds, r)
	s.stats = append(s.stats, statOf(r))
	n := len(s.rounds)
	switch {
	case n >= s.Method.MaxRounds:
		return true
	case n < s.Method.MinRounds:
		return false
	case s.Threshold <= 0:
		return true
	}
	return interval(s.stats, s.Method).Decide(s.Threshold) != Inconclusive
}

// Rounds is how many rounds were added.
func (s *Sequential) Rounds() int { return len(s.rounds) }

// Result is the comparison of every round added so far.
func (s *Sequential) Result() Comparison { return compare(s.rounds, s.stats, s.Method) }

// CheckBaseline says why a baseline's figures cannot be the reference of a
// subject's (T001): no runs, a p50 of zero, or a p50 more than factor
// times the subject's (it measures something else). nil when plausible.
func CheckBaseline(base, subject Summary, factor float64) error {
	switch {
	case base.N == 0:
		return fmt.Errorf("the baseline ran no timed query")
	case base.P50 <= 0:
		return fmt.Errorf("the baseline's p50 is %s over %d runs: timed as taking no time", base.P50, base.N)
	case subject.P50 > 0 && float64(base.P50) > factor*float64(subject.P50):
		return fmt.Errorf("the baseline's p50 %s is more than %.0f times the subject's %s", base.P50, factor, subject.P50)
	}
	return nil
}

// DescribeDiscarded says which rounds were measured again and why ("" when
// none were).
func (c Comparison) DescribeDiscarded() string {
	if c.Discarded == 0 {
		return ""
	}
	return fmt.Sprintf("; %d round(s) measured again: other processes took up to %.2f CPU meanwhile (%s)", c.Discarded, c.ForeignMax, c.ForeignTop)
}
