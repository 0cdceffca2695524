package measure

import (
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
