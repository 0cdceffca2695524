// Package measure summarises latency samples and compares two sides measured
// in interleaved blocks, the way FR-013 needs on a noisy two-core machine.
package measure

import (
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
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return Summary{N: len(s), P50: Percentile(s, 50), P95: Percentile(s, 95), P99: Percentile(s, 99)}
}

// Percentile returns the p-th percentile of sorted samples by nearest rank.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p/100*float64(len(sorted)))) - 1
	if rank < 0 {
		rank = 0
	}
	if rank >= len(sorted) {
		rank = len(sorted) - 1
	}
	return sorted[rank]
}

// Comparison is the outcome of an interleaved subject-versus-baseline run.
type Comparison struct {
	Subject  Summary `json:"subject"`
	Baseline Summary `json:"baseline"`
	// Ratio is the median over blocks of (subject block median / baseline
	// block median): each block's two sides ran back to back, so slow
	// phases of the machine cancel out.
	Ratio float64 `json:"ratio"`
	// RatioLow and RatioHigh bound Ratio with about 95% confidence
	// (order statistics of the block ratios).
	RatioLow  float64 `json:"ratio_low"`
	RatioHigh float64 `json:"ratio_high"`
	Blocks    int     `json:"blocks"`
	// Overhead is subject p50 minus baseline p50 over all samples.
	Overhead time.Duration `json:"overhead"`
}

// Block is one interleaved block: both sides' samples.
type Block struct {
	Subject, Baseline []time.Duration
}

// Compare combines interleaved blocks into a Comparison.
func Compare(blocks []Block) Comparison {
	var all, base []time.Duration
	ratios := make([]float64, 0, len(blocks))
	for _, b := range blocks {
		all = append(all, b.Subject...)
		base = append(base, b.Baseline...)
		sm, bm := Summarize(b.Subject).P50, Summarize(b.Baseline).P50
		if sm > 0 && bm > 0 {
			ratios = append(ratios, float64(sm)/float64(bm))
		}
	}
	c := Comparison{Subject: Summarize(all), Baseline: Summarize(base), Blocks: len(ratios)}
	c.Overhead = c.Subject.P50 - c.Baseline.P50
	if len(ratios) == 0 {
		return c
	}
	sort.Float64s(ratios)
	c.Ratio = medianFloat(ratios)
	lo, hi := medianCI(len(ratios))
	c.RatioLow, c.RatioHigh = ratios[lo], ratios[hi]
	return c
}

func medianFloat(s []float64) float64 {
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// medianCI returns the indices bounding a ~95% distribution-free confidence
// interval for the median of n sorted samples (normal approximation to the
// binomial).
func medianCI(n int) (lo, hi int) {
	half := 1.96 * math.Sqrt(float64(n)) / 2
	lo = int(math.Floor(float64(n)/2 - half))
	hi = int(math.Ceil(float64(n)/2+half)) - 1
	if lo < 0 {
		lo = 0
	}
	if hi > n-1 {
		hi = n - 1
	}
	return lo, hi
}
