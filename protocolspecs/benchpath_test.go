package protocolspecs

import (
	"math"
	"testing"
	"time"
)

func TestBenchPathPlausibility(t *testing.T) {
	us := time.Microsecond
	cases := []struct {
		m    BenchPath
		ok   bool
		what string
	}{
		{BenchPath{Query: 600 * us, Echo: 100 * us, Bench: 280 * us}, true, "bench ≈ 0.93 of the estimate"},
		{BenchPath{Query: 600 * us, Echo: 100 * us, Bench: 150 * us}, true, "0.5: a sync driver's thread hop"},
		{BenchPath{Query: 600 * us, Echo: 100 * us, Bench: 100 * us}, false, "0.33: a bench that hoists work out of its loop"},
		{BenchPath{Query: 250 * us, Echo: 100 * us, Bench: 10 * us}, true, "round trips swamp the query: nothing to judge"},
	}
	for _, c := range cases {
		if got := c.m.Plausible(); got != c.ok {
			t.Errorf("%s: %s: plausible = %v, want %v", c.what, c.m, got, c.ok)
		}
	}
	if r := (BenchPath{Query: 250 * us, Echo: 100 * us}).Ratio(); !math.IsInf(r, 1) {
		t.Errorf("ratio without a positive estimate = %v", r)
	}
	if m := quantile([]time.Duration{5, 1, 3}, 0.5); m != 3 {
		t.Errorf("median = %v", m)
	}
	if m := quantile([]time.Duration{9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 10}, 0.1); m != 1 {
		t.Errorf("p10 = %v", m)
	}
}
