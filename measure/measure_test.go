package measure

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// seq returns 1..n microseconds, sorted.
func seq(n int) []time.Duration {
	d := make([]time.Duration, n)
	for i := range d {
		d[i] = time.Duration(i+1) * time.Microsecond
	}
	return d
}

func TestPercentile(t *testing.T) {
	us := time.Microsecond
	tests := []struct {
		name   string
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{"empty", nil, 50, 0},
		{"one", []time.Duration{7 * us}, 50, 7 * us},
		{"one p99", []time.Duration{7 * us}, 99, 7 * us},
		{"p0 is the minimum", seq(10), 0, 1 * us},
		{"p100 is the maximum", seq(10), 100, 10 * us},
		{"p above 100 clamps", seq(10), 150, 10 * us},
		{"p below 0 clamps", seq(10), -5, 1 * us},
		{"p50 of 10", seq(10), 50, 5 * us},
		{"p50 of 11", seq(11), 50, 6 * us},
		{"p95 of 10", seq(10), 95, 10 * us},
		{"p95 of 20", seq(20), 95, 19 * us},
		{"p95 of 100", seq(100), 95, 95 * us},
		{"p99 of 100", seq(100), 99, 99 * us},
		{"p99 of 1000", seq(1000), 99, 990 * us},
		{"p50 of 2000", seq(2000), 50, 1000 * us},
		{"p7 of 100 (exact rank)", seq(100), 7, 7 * us},
		{"p2.5 of 200", seq(200), 2.5, 5 * us},
		{"p97.5 of 200", seq(200), 97.5, 195 * us},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Percentile(tt.sorted, tt.p); got != tt.want {
				t.Errorf("Percentile(n=%d, %v) = %v, want %v", len(tt.sorted), tt.p, got, tt.want)
			}
		})
	}
}

// TestPercentileNearestRank checks every whole percentile against the
// definition: the smallest sample with at least p% of samples at or below it.
func TestPercentileNearestRank(t *testing.T) {
	for _, n := range []int{1, 2, 3, 7, 10, 99, 100, 200, 1000, 2000} {
		s := seq(n)
		for p := 1; p <= 100; p++ {
			// rank k (1-based) is the smallest k with 100*k >= p*n.
			k := (p*n + 99) / 100
			if got, want := Percentile(s, float64(p)), s[k-1]; got != want {
				t.Errorf("Percentile(n=%d, p=%d) = %v, want %v (rank %d)", n, p, got, want, k)
			}
		}
	}
}

func TestSummarize(t *testing.T) {
	if got := Summarize(nil); got != (Summary{}) {
		t.Errorf("Summarize(nil) = %+v, want zero", got)
	}
	// Unsorted input: 100..1 µs.
	d := seq(100)
	rev := make([]time.Duration, len(d))
	for i := range d {
		rev[i] = d[len(d)-1-i]
	}
	got := Summarize(rev)
	want := Summary{N: 100, P50: 50 * time.Microsecond, P95: 95 * time.Microsecond, P99: 99 * time.Microsecond}
	if got != want {
		t.Errorf("Summarize = %+v, want %+v", got, want)
	}
	if rev[0] != 100*time.Microsecond {
		t.Error("Summarize sorted its input in place")
	}
}

func TestCompareExactlyTwice(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var blocks []Block
	for b := 0; b < 40; b++ {
		var blk Block
		for i := 0; i < 10; i++ {
			base := time.Duration(50+rng.IntN(100)) * time.Microsecond
			blk.Baseline = append(blk.Baseline, base)
			blk.Subject = append(blk.Subject, 2*base)
		}
		blocks = append(blocks, blk)
	}
	c := Compare(blocks, 42)
	if c.Ratio != 2 {
		t.Errorf("Ratio = %v, want exactly 2", c.Ratio)
	}
	if !(c.RatioLow <= 2 && 2 <= c.RatioHigh) {
		t.Errorf("CI %v–%v does not contain 2", c.RatioLow, c.RatioHigh)
	}
	if math.Abs(c.RatioLow-2) > 1e-9 || math.Abs(c.RatioHigh-2) > 1e-9 {
		t.Errorf("CI %v–%v, want 2–2: every resample keeps the exact 2x", c.RatioLow, c.RatioHigh)
	}
	if c.Blocks != 40 || c.Subject.N != 400 || c.Baseline.N != 400 {
		t.Errorf("Blocks, N = %d, %d, %d; want 40, 400, 400", c.Blocks, c.Subject.N, c.Baseline.N)
	}
	if c.Subject.P50 != 2*c.Baseline.P50 {
		t.Errorf("p50 %v vs baseline %v, want exactly twice", c.Subject.P50, c.Baseline.P50)
	}
	if c.Overhead != c.Baseline.P50 {
		t.Errorf("Overhead = %v, want baseline p50 %v", c.Overhead, c.Baseline.P50)
	}
}

func TestCompareNoisyAroundTwice(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var blocks []Block
	for b := 0; b < 60; b++ {
		var blk Block
		// Each block shares a machine "phase" that slows both sides.
		phase := 1 + rng.Float64()
		for i := 0; i < 10; i++ {
			base := time.Duration(phase * float64(100+rng.IntN(20)) * float64(time.Microsecond))
			sub := time.Duration(phase * float64(200+rng.IntN(40)) * float64(time.Microsecond))
			blk.Baseline = append(blk.Baseline, base)
			blk.Subject = append(blk.Subject, sub)
		}
		blocks = append(blocks, blk)
	}
	c := Compare(blocks, 7)
	if c.Ratio < 1.8 || c.Ratio > 2.2 {
		t.Errorf("Ratio = %v, want about 2", c.Ratio)
	}
	if !(c.RatioLow <= c.Ratio && c.Ratio <= c.RatioHigh) {
		t.Errorf("CI %v–%v does not contain Ratio %v", c.RatioLow, c.RatioHigh, c.Ratio)
	}
	if c.RatioLow < 1.5 || c.RatioHigh > 2.5 || c.RatioLow == c.RatioHigh {
		t.Errorf("CI %v–%v, want a non-empty interval near 2", c.RatioLow, c.RatioHigh)
	}
	if again := Compare(blocks, 7); again != c {
		t.Errorf("Compare with the same seed gave %+v then %+v", c, again)
	}
}

func TestCompareEmpty(t *testing.T) {
	us := time.Microsecond
	tests := []struct {
		name   string
		blocks []Block
	}{
		{"nil", nil},
		{"no blocks", []Block{}},
		{"empty blocks", []Block{{}, {}}},
		{"no subject samples", []Block{{Baseline: []time.Duration{us, us}}}},
		{"no baseline samples", []Block{{Subject: []time.Duration{us, us}}}},
		{"zero baseline", []Block{{Subject: []time.Duration{us}, Baseline: []time.Duration{0}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Compare(tt.blocks, 1)
			if c.Ratio != 0 || c.RatioLow != 0 || c.RatioHigh != 0 {
				t.Errorf("Compare = %+v, want no ratio", c)
			}
			if c.Blocks != len(tt.blocks) {
				t.Errorf("Blocks = %d, want %d", c.Blocks, len(tt.blocks))
			}
		})
	}
}

func TestCompareSomeEmptyBlocks(t *testing.T) {
	// A block with no baseline samples must not break the bootstrap.
	us := time.Microsecond
	blocks := []Block{
		{Subject: []time.Duration{2 * us, 2 * us}, Baseline: []time.Duration{us, us}},
		{Subject: []time.Duration{2 * us}},
		{},
	}
	c := Compare(blocks, 9)
	if c.Ratio != 2 {
		t.Errorf("Ratio = %v, want 2", c.Ratio)
	}
	if c.RatioLow > 2 || c.RatioHigh < 2 {
		t.Errorf("CI %v–%v does not contain 2", c.RatioLow, c.RatioHigh)
	}
}
