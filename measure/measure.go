// Package measure summarises latency samples and compares two sides measured
// in interleaved blocks, the way FR-013 needs on a noisy two-core machine.
package measure

import (
	"math"
	"math/rand/v2"
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

// Comparison is the outcome of an interleaved subject-versus-baseline run.
type Comparison struct {
	Subject  Summary `json:"subject"`
	Baseline Summary `json:"baseline"`
	// Ratio is subject p50 / baseline p50 over all samples. The sides ran in
	// short alternating blocks, so a slow phase of the machine hits both.
	Ratio float64 `json:"ratio"`
	// RatioLow and RatioHigh bound Ratio with about 95% confidence: the
	// 2.5th and 97.5th percentiles of the ratio over block bootstraps.
	RatioLow  float64 `json:"ratio_low"`
	RatioHigh float64 `json:"ratio_high"`
	Blocks    int     `json:"blocks"`
	// Overhead is subject p50 minus baseline p50.
	Overhead time.Duration `json:"overhead"`
}

// Block holds both sides' samples of one unit of resampling (a round on one
// pair of connections).
type Block struct {
	Subject, Baseline []time.Duration
}

// Compare combines interleaved blocks into a Comparison. seed makes the
// bootstrap repeatable.
func Compare(blocks []Block, seed uint64) Comparison {
	sub, base := flatten(blocks)
	c := Comparison{Subject: Summarize(sub), Baseline: Summarize(base), Blocks: len(blocks)}
	c.Overhead = c.Subject.P50 - c.Baseline.P50
	if c.Baseline.P50 <= 0 || c.Subject.N == 0 {
		return c
	}
	c.Ratio = float64(c.Subject.P50) / float64(c.Baseline.P50)
	c.RatioLow, c.RatioHigh = bootstrap(blocks, seed)
	return c
}

func flatten(blocks []Block) (sub, base []time.Duration) {
	for _, b := range blocks {
		sub = append(sub, b.Subject...)
		base = append(base, b.Baseline...)
	}
	return sub, base
}

// bootstrap resamples whole blocks (keeping each block's pairing) and
// returns the 2.5th and 97.5th percentiles of the resampled ratio.
func bootstrap(blocks []Block, seed uint64) (lo, hi float64) {
	const resamples = 200
	rng := rand.New(rand.NewPCG(seed, 0x2545f4914f6cdd1d))
	ratios := make([]float64, 0, resamples)
	pick := make([]Block, len(blocks))
	for i := 0; i < resamples; i++ {
		for j := range pick {
			pick[j] = blocks[rng.IntN(len(blocks))]
		}
		sub, base := flatten(pick)
		bm := Summarize(base).P50
		if bm > 0 {
			ratios = append(ratios, float64(Summarize(sub).P50)/float64(bm))
		}
	}
	if len(ratios) == 0 {
		return 0, 0
	}
	sort.Float64s(ratios)
	return ratios[int(0.025*float64(len(ratios)-1))], ratios[int(math.Ceil(0.975*float64(len(ratios)-1)))]
}
