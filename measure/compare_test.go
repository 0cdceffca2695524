package measure

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// synth makes rounds the way the machine does at moderate load: a ~60 µs
// round trip, each side of each round slowed or sped up as a whole (which
// core its server backend landed on, the machine's phase: sdRound),
// per-sample jitter, and rare preemption outliers; a round's log ratio then
// varies by ~0.04, as measured (docs/fr-013.md). The subject is ratio
// times slower.
type synth struct {
	rng     *rand.Rand
	ratio   float64
	sdRound float64
	perSide int
}

func newSynth(seed uint64, ratio float64) *synth {
	return &synth{rng: rand.New(rand.NewPCG(seed, 99)), ratio: ratio, sdRound: 0.025, perSide: 200}
}

func (s *synth) round() Round {
	side := func(scale float64) []time.Duration {
		phase := math.Exp(s.rng.NormFloat64() * s.sdRound)
		out := make([]time.Duration, s.perSide)
		for i := range out {
			x := 60e3 * scale * phase * math.Exp(s.rng.NormFloat64()*0.15)
			if s.rng.IntN(50) == 0 {
				x *= 10 // preempted
			}
			out[i] = time.Duration(x)
		}
		return out
	}
	return Round{Subject: side(s.ratio), Baseline: side(1)}
}

// run plays a sequential comparison to its stop.
func (s *synth) run(m Method, threshold float64) Comparison {
	seq := Sequential{Method: m, Threshold: threshold}
	for !seq.Add(s.round()) {
	}
	return seq.Result()
}

func TestTQuantile(t *testing.T) {
	// Reference values (R: qt(p, df)).
	for _, c := range []struct{ p, df, want float64 }{
		{0.975, 1, 12.706204736},
		{0.975, 5, 2.570581836},
		{0.975, 7, 2.364624252},
		{0.995, 7, 3.499483297},
		{0.995, 23, 2.807335684},
		{0.975, 30, 2.042272456},
		{0.995, 1e6, 2.575834},
		{0.9, 3, 1.637744354},
		{0.025, 10, -2.228138852},
		{0.5, 4, 0},
	} {
		if got := TQuantile(c.p, c.df); math.Abs(got-c.want) > 1e-6*math.Max(1, math.Abs(c.want)) {
			t.Errorf("TQuantile(%v, %v) = %.9f, want %.9f", c.p, c.df, got, c.want)
		}
	}
	for _, bad := range [][2]float64{{0, 5}, {1, 5}, {0.5, 0}, {math.NaN(), 3}} {
		if !math.IsNaN(TQuantile(bad[0], bad[1])) {
			t.Errorf("TQuantile(%v, %v) is a number", bad[0], bad[1])
		}
	}
	if got := TCDF(2.570581836, 5); math.Abs(got-0.975) > 1e-9 {
		t.Errorf("TCDF(2.5706, 5) = %v, want 0.975", got)
	}
}

func TestCompareExactlyTwice(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var rounds []Round
	for r := 0; r < 12; r++ {
		var rd Round
		for i := 0; i < 50; i++ {
			base := time.Duration(50+rng.IntN(100)) * time.Microsecond
			rd.Baseline = append(rd.Baseline, base)
			rd.Subject = append(rd.Subject, 2*base)
		}
		rounds = append(rounds, rd)
	}
	c := Compare(rounds, FR013)
	if math.Abs(c.Ratio-2) > 1e-12 || math.Abs(c.RatioLow-2) > 1e-12 || math.Abs(c.RatioHigh-2) > 1e-12 {
		t.Errorf("ratio %v [%v, %v], want exactly 2 [2, 2]: every round is exactly 2x", c.Ratio, c.RatioLow, c.RatioHigh)
	}
	if c.Blocks != 12 || c.Subject.N != 600 || c.Baseline.N != 600 || len(c.RoundRatios) != 12 {
		t.Errorf("Blocks, N = %d, %d, %d, %d ratios; want 12, 600, 600, 12", c.Blocks, c.Subject.N, c.Baseline.N, len(c.RoundRatios))
	}
	if c.Subject.P50 != 2*c.Baseline.P50 {
		t.Errorf("p50 %v vs baseline %v, want exactly twice", c.Subject.P50, c.Baseline.P50)
	}
	if c.Overhead <= 0 || c.OverheadLow > c.Overhead || c.OverheadHigh < c.Overhead {
		t.Errorf("overhead %v [%v, %v]", c.Overhead, c.OverheadLow, c.OverheadHigh)
	}
	if c.Decide(1.10) != Fail || c.Decide(2.5) != Pass || c.Decide(2) != Inconclusive {
		t.Errorf("verdicts %s/%s/%s at 1.10/2.5/2, want fail/pass/inconclusive", c.Decide(1.10), c.Decide(2.5), c.Decide(2))
	}
}

// TestIntervalFromRounds: the interval comes from the spread between
// rounds, with t quantiles; more rounds narrow it, widening widens it.
func TestIntervalFromRounds(t *testing.T) {
	us := time.Microsecond
	mk := func(ratios ...float64) []Round {
		var out []Round
		for _, q := range ratios {
			out = append(out, Round{Subject: []time.Duration{time.Duration(q * 100 * float64(us))}, Baseline: []time.Duration{100 * us}})
		}
		return out
	}
	m := Method{Confidence: 0.95}
	c := Compare(mk(1.0, 1.2), m)
	// Two rounds: log ratios 0 and ln 1.2; mean ln(1.2)/2, se ln(1.2)/2.
	l := math.Log(1.2)
	if want := math.Exp(l/2 + 12.706204736*l/2); math.Abs(c.RatioHigh-want) > 1e-6 {
		t.Errorf("RatioHigh = %v, want %v (t with 1 df)", c.RatioHigh, want)
	}
	if math.Abs(c.Ratio-math.Sqrt(1.2)) > 1e-12 {
		t.Errorf("Ratio = %v, want the geometric mean %v", c.Ratio, math.Sqrt(1.2))
	}
	if c.Overhead != 10*us || c.OverheadLow >= 0 {
		t.Errorf("Overhead = %v [%v, …], want 10µs with an interval reaching below 0", c.Overhead, c.OverheadLow)
	}
	wide := Compare(mk(1.0, 1.2), Method{Confidence: 0.95, Widen: 2})
	if got, want := math.Log(wide.RatioHigh/wide.Ratio), 2*math.Log(c.RatioHigh/c.Ratio); math.Abs(got-want) > 1e-9 {
		t.Errorf("widened half-width %v, want twice %v", got, want/2)
	}
	many := Compare(mk(1.0, 1.2, 1.0, 1.2, 1.0, 1.2, 1.0, 1.2), m)
	if many.RatioHigh-many.RatioLow >= c.RatioHigh-c.RatioLow {
		t.Error("more rounds did not narrow the interval")
	}
	if one := Compare(mk(1.5), m); one.Decide(1.1) != Inconclusive || !math.IsInf(one.RatioHigh, 1) {
		t.Errorf("one round: %+v, want an unbounded interval and no verdict", one)
	}
}

// TestSyntheticVerdicts: the cases FR-013 must get right, from rounds
// that vary like the machine's.
func TestSyntheticVerdicts(t *testing.T) {
	const trials = 40
	count := func(ratio float64) map[Verdict]int {
		n := map[Verdict]int{}
		for i := 0; i < trials; i++ {
			n[newSynth(uint64(1000*ratio)+uint64(i), ratio).run(FR013, 1.10).Decide(1.10)]++
		}
		return n
	}
	if n := count(1.0); n[Pass] != trials {
		t.Errorf("A/A: %v, want %d passes", n, trials)
	}
	if n := count(1.25); n[Fail] != trials {
		t.Errorf("a 1.25x slowdown: %v, want %d failures", n, trials)
	}
	if n := count(1.10); n[Pass] > trials/10 || n[Fail] > trials/10 {
		t.Errorf("exactly at the threshold: %v, want mostly inconclusive", n)
	}
	if n := count(1.05); n[Fail] != 0 {
		t.Errorf("a 1.05x slowdown: %v, want no failure", n)
	}
}

func TestSequentialStopping(t *testing.T) {
	m := FR013
	if c := newSynth(1, 1.0).run(m, 1.10); c.Blocks > m.MinRounds+4 || c.Decide(1.10) != Pass {
		t.Errorf("A/A stopped after %d rounds with %s, want a pass within a few rounds of the first look (%d)", c.Blocks, c.Decide(1.10), m.MinRounds)
	}
	if c := newSynth(2, 1.5).run(m, 1.10); c.Blocks != m.MinRounds || c.Decide(1.10) != Fail {
		t.Errorf("1.5x stopped after %d rounds with %s, want a failure at the first look", c.Blocks, c.Decide(1.10))
	}
	if c := newSynth(3, 1.10).run(m, 1.10); c.Blocks != m.MaxRounds || c.Decide(1.10) != Inconclusive {
		t.Errorf("1.10x stopped after %d rounds with %s, want the whole budget (%d) and no verdict", c.Blocks, c.Decide(1.10), m.MaxRounds)
	}
	if c := newSynth(4, 1.10).run(m, 0); c.Blocks != m.MinRounds {
		t.Errorf("without a threshold it ran %d rounds, want %d", c.Blocks, m.MinRounds)
	}
}

// TestCoverage: across many simulated runs the interval contains the true
// ratio at least as often as its confidence says (the point of using
// rounds, not samples, as the unit).
func TestCoverage(t *testing.T) {
	m := Method{Confidence: 0.95, MinRounds: 10, MaxRounds: 10}
	const runs = 400
	miss := 0
	for i := 0; i < runs; i++ {
		s := newSynth(uint64(5000+i), 1.2)
		var rounds []Round
		for r := 0; r < 10; r++ {
			rounds = append(rounds, s.round())
		}
		if c := Compare(rounds, m); c.RatioLow > 1.2 || c.RatioHigh < 1.2 {
			miss++
		}
	}
	// 5% expected; allow sampling error (sd ~1.1%).
	if miss > runs*9/100 {
		t.Errorf("95%% interval missed the true ratio in %d of %d runs", miss, runs)
	}
}

func TestCompareEmpty(t *testing.T) {
	us := time.Microsecond
	for _, tt := range []struct {
		name   string
		rounds []Round
		blocks int
	}{
		{"nil", nil, 0},
		{"empty rounds", []Round{{}, {}}, 0},
		{"no subject samples", []Round{{Baseline: []time.Duration{us, us}}}, 0},
		{"zero baseline", []Round{{Subject: []time.Duration{us}, Baseline: []time.Duration{0}}}, 0},
		{"one good round among empty ones", []Round{{Subject: []time.Duration{2 * us}, Baseline: []time.Duration{us}}, {Subject: []time.Duration{us}}}, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := Compare(tt.rounds, FR013)
			if c.Blocks != tt.blocks {
				t.Errorf("Blocks = %d, want %d", c.Blocks, tt.blocks)
			}
			if c.Decide(1.1) != Inconclusive {
				t.Errorf("verdict %s from %+v, want inconclusive", c.Decide(1.1), c)
			}
			if tt.blocks == 0 && (c.Ratio != 0 || c.RatioLow != 0 || c.RatioHigh != 0) {
				t.Errorf("Compare = %+v, want no ratio", c)
			}
		})
	}
}

func TestCheckBaseline(t *testing.T) {
	us := time.Microsecond
	sub := Summary{N: 100, P50: 100 * us}
	for _, c := range []struct {
		name string
		base Summary
		ok   bool
	}{
		{"plausible", Summary{N: 300, P50: 80 * us}, true},
		{"slower, but not by orders of magnitude", Summary{N: 300, P50: 5 * time.Millisecond}, true},
		{"no runs", Summary{}, false},
		{"zero", Summary{N: 300}, false},
		{"100x slower", Summary{N: 300, P50: 10*time.Millisecond + us}, false},
	} {
		if err := CheckBaseline(c.base, sub, 100); (err == nil) != c.ok {
			t.Errorf("%s: %v", c.name, err)
		}
	}
}
