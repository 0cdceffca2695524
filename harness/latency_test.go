package harness

import (
	"context"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/onsi/gomega"

	"github.com/pgwire-conformance/pgwire-conformance/adapter"
	"github.com/pgwire-conformance/pgwire-conformance/config"
	"github.com/pgwire-conformance/pgwire-conformance/measure"
)

type fakeAdapter struct{ info adapter.Info }

func (f fakeAdapter) Info() adapter.Info { return f.info }
func (f fakeAdapter) Open(context.Context, adapter.OpenOptions) (adapter.Engine, error) {
	return nil, adapter.ErrNotSupported
}

func TestBaselines(t *testing.T) {
	for name, base := range map[string]string{
		"lt:raw": "lt:raw", "lt:sync": "lt:raw", "lt:async": "lt:sync", "lt:go": "",
		"lt:lost": "lt:nowhere", "lt:c1": "lt:c2", "lt:c2": "lt:c1",
	} {
		adapter.Register(fakeAdapter{adapter.Info{Name: name, Baseline: base}})
	}
	info := func(n string) adapter.Info { a, _ := adapter.Lookup(n); return a.Info() }
	for _, c := range []struct{ name, base, raw string }{
		{"lt:go", BaselineName, BaselineName},
		{"lt:sync", "lt:raw", "lt:raw"},
		{"lt:async", "lt:sync", "lt:raw"},
	} {
		b, side, err := BaselineOf(info(c.name))
		if err != nil || b != c.base || side == nil {
			t.Errorf("BaselineOf(%s) = %q, %v; want %q", c.name, b, err, c.base)
		}
		r, side, err := RawBaselineOf(info(c.name))
		if err != nil || r != c.raw || side == nil {
			t.Errorf("RawBaselineOf(%s) = %q, %v; want %q", c.name, r, err, c.raw)
		}
	}
	if _, _, err := BaselineOf(info("lt:lost")); err == nil || !strings.Contains(err.Error(), "not registered") {
		t.Errorf("BaselineOf(lt:lost): %v, want not registered", err)
	}
	if _, _, err := RawBaselineOf(info("lt:lost")); err == nil || !strings.Contains(err.Error(), "not registered") {
		t.Errorf("RawBaselineOf(lt:lost): %v, want not registered", err)
	}
	if _, _, err := RawBaselineOf(info("lt:c1")); err == nil || !strings.Contains(err.Error(), "cycle") {
		t.Errorf("RawBaselineOf(lt:c1): %v, want a cycle", err)
	}
	if !info("lt:raw").IsOwnBaseline() || info("lt:sync").IsOwnBaseline() || info("lt:go").IsOwnBaseline() {
		t.Error("IsOwnBaseline wrong")
	}
}

// fakeSide is a Side whose runs take ratio × 100 µs (± 2%), without a
// server, counting opens and closes.
type fakeSide struct {
	ratio           float64
	rng             *rand.Rand
	opens, closes   int
	openErr, runErr error
}

func (f *fakeSide) side(ctx context.Context) (BenchFunc, func(context.Context) error, error) {
	if f.openErr != nil {
		return nil, nil, f.openErr
	}
	f.opens++
	bench := func(ctx context.Context, sql string, n int) ([]time.Duration, error) {
		if f.runErr != nil {
			return nil, f.runErr
		}
		d := make([]time.Duration, n)
		for i := range d {
			d[i] = time.Duration(f.ratio * 100e3 * (1 + 0.02*f.rng.NormFloat64()))
		}
		return d, nil
	}
	return bench, func(context.Context) error { f.closes++; return nil }, nil
}

func newFake(ratio float64) *fakeSide {
	return &fakeSide{ratio: ratio, rng: rand.New(rand.NewPCG(uint64(ratio*1000), 7))}
}

func TestInterleaveSequential(t *testing.T) {
	Configure(config.Defaults())
	ctx := context.Background()
	m := measure.Method{Confidence: 0.99, Widen: 1.5, MinRounds: 4, MaxRounds: 9}
	plan := Plan{SQL: "SELECT 1", PerRound: 40, BlockSize: 10, WarmUp: 5, Method: m, Threshold: 1.10, Seed: 1}
	for _, c := range []struct {
		ratio  float64
		rounds int
		want   measure.Verdict
	}{
		{1.0, 4, measure.Pass},
		{1.5, 4, measure.Fail},
		{1.10, 9, measure.Inconclusive},
	} {
		sub, base := newFake(c.ratio), newFake(1)
		var seen int
		p := plan
		p.Progress = func(n int, _ measure.Comparison) { seen = n }
		cmp, err := Interleave(ctx, sub.side, base.side, p)
		if err != nil {
			t.Fatalf("ratio %v: %v", c.ratio, err)
		}
		if cmp.Blocks != c.rounds || seen != c.rounds || cmp.Decide(1.10) != c.want {
			t.Errorf("ratio %v: %d rounds (progress saw %d), %s; want %d rounds, %s", c.ratio, cmp.Blocks, seen, cmp.Decide(1.10), c.rounds, c.want)
		}
		if cmp.Subject.N != 40*c.rounds || cmp.Baseline.N != 40*c.rounds {
			t.Errorf("ratio %v: %d and %d samples, want %d each (warm-ups excluded)", c.ratio, cmp.Subject.N, cmp.Baseline.N, 40*c.rounds)
		}
		if sub.opens != c.rounds || sub.closes != c.rounds || base.opens != c.rounds || base.closes != c.rounds {
			t.Errorf("ratio %v: opens/closes %d/%d and %d/%d, want fresh sides every round, all closed", c.ratio, sub.opens, sub.closes, base.opens, base.closes)
		}
	}

	// Without a threshold it runs the first look's rounds only.
	p := plan
	p.Threshold = 0
	if cmp, err := Interleave(ctx, newFake(1.1).side, newFake(1).side, p); err != nil || cmp.Blocks != m.MinRounds {
		t.Errorf("no threshold: %d rounds, %v; want %d", cmp.Blocks, err, m.MinRounds)
	}

	// Errors name the round and the side, and what was measured is kept.
	bad := newFake(1)
	bad.openErr = errors.New("refused")
	if _, err := Interleave(ctx, newFake(1).side, bad.side, plan); err == nil || !strings.Contains(err.Error(), "round 1: open baseline: refused") {
		t.Errorf("open error: %v", err)
	}
	flaky := newFake(1)
	flaky.runErr = errors.New("broken pipe")
	if _, err := Interleave(ctx, flaky.side, newFake(1).side, plan); err == nil || !strings.Contains(err.Error(), "warm-up (subject): broken pipe") {
		t.Errorf("run error: %v", err)
	}

	// A deadline too close for another round ends the comparison with
	// what it has instead of running into the spec's timeout.
	slow := func(ctx context.Context) (BenchFunc, func(context.Context) error, error) {
		b, c, err := newFake(1.1).side(ctx)
		return func(ctx context.Context, sql string, n int) ([]time.Duration, error) {
			time.Sleep(10 * time.Millisecond)
			return b(ctx, sql, n)
		}, c, err
	}
	dctx, cancel := context.WithTimeout(ctx, 400*time.Millisecond)
	defer cancel()
	p = plan
	p.Method.MaxRounds = 1000
	cmp, err := Interleave(dctx, slow, newFake(1).side, p)
	if err != nil || cmp.Blocks < 2 || cmp.Blocks >= 1000 {
		t.Errorf("near a deadline: %d rounds, %v; want an early stop without error", cmp.Blocks, err)
	}
}

func TestSideOf(t *testing.T) {
	goInfo := adapter.Info{Name: "g", Language: "go"}
	py := adapter.Info{Name: "p", Language: "python"}
	if !InProcess(goInfo) || InProcess(py) {
		t.Error("InProcess: Go adapters are timed in process, remote ones are not")
	}
	if TimingOf(goInfo) != TimingPath || TimingOf(py) != TimingBench {
		t.Errorf("TimingOf: %q, %q", TimingOf(goInfo), TimingOf(py))
	}
	s := &Subject{Adapter: fakeAdapter{py}, Info: py}
	if _, _, ok := CrossCheckOf(s); ok {
		t.Error("a remote adapter has a cross-check: its Engine.Bench is the verdict's source")
	}
	s = &Subject{Adapter: fakeAdapter{goInfo}, Info: goInfo}
	if sub, base, ok := CrossCheckOf(s); !ok || sub == nil || base == nil {
		t.Error("an in-process adapter has no cross-check")
	}
}

func TestPerRound(t *testing.T) {
	p := Plan{PerRound: 250, BlockSize: 10, SideBudget: 40 * time.Millisecond, MinPerRound: 50}
	for _, c := range []struct {
		rtt  time.Duration
		want int
	}{
		{0, 250},                      // no estimate: the plan's count
		{100 * time.Microsecond, 250}, // fast: capped by PerRound
		{200 * time.Microsecond, 200},
		{330 * time.Microsecond, 130}, // 121, rounded up to whole blocks
		{4 * time.Millisecond, 50},    // iris-pgwire: the floor
	} {
		if got := p.perRound(c.rtt); got != c.want {
			t.Errorf("perRound(%s) = %d, want %d", c.rtt, got, c.want)
		}
	}
	if got := (Plan{PerRound: 250, BlockSize: 10}).perRound(time.Second); got != 250 {
		t.Errorf("without a budget: %d, want the plan's 250", got)
	}
	// Interleave sizes each round from its warm-up (the fakes take 100 µs).
	Configure(config.Defaults())
	m := measure.Method{Confidence: 0.99, Widen: 2, MinRounds: 2, MaxRounds: 2}
	cmp, err := Interleave(context.Background(), newFake(1).side, newFake(1).side,
		Plan{SQL: "SELECT 1", PerRound: 40, BlockSize: 10, WarmUp: 4, SideBudget: 2 * time.Millisecond, MinPerRound: 5, Method: m})
	if err != nil || cmp.Subject.N != 2*20 || cmp.Baseline.N != 2*20 {
		t.Errorf("adaptive rounds: %d and %d samples, %v; want 20 per side per round", cmp.Subject.N, cmp.Baseline.N, err)
	}
}

// An engine that could not be opened fails its spec with the harness's
// sentence alone, as a Gomega failure (so a listed spec catches it).
func TestOpenFailureIsTheMessageAlone(t *testing.T) {
	var got []string
	g := gomega.NewGomega(func(msg string, _ ...int) { got = append(got, msg) })
	var err error = errors.New("open engine for pq against postgres://u:xxxxx@h/db: refused")
	g.Expect(err).To(noError{})
	err = nil
	g.Expect(err).To(noError{})
	if len(got) != 1 || got[0] != "open engine for pq against postgres://u:xxxxx@h/db: refused" {
		t.Errorf("failures %q", got)
	}
}
