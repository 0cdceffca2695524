package report

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/pgwire-conformance/pgwire-conformance/measure"
)

func TestLatencyHelpers(t *testing.T) {
	us := time.Microsecond
	l := Latency{Baseline: "pgx.Conn", Threshold: 1.10, Comparison: measure.Comparison{
		Statistic: measure.Statistic, Ratio: 1.2, RatioLow: 1.15, RatioHigh: 1.25, Blocks: 8,
		Overhead: 20 * us, OverheadLow: 12 * us, OverheadHigh: 28 * us, BaselineCenter: 100 * us,
		Confidence: 0.99, Widen: 1.5,
	}}
	if !l.HasVerdict() || (Latency{Baselines: []BaselineFigures{{}}}).HasVerdict() {
		t.Error("HasVerdict: a comparison has one, T001 figures do not")
	}
	f, lo, hi := l.BehindPGWire()
	if math.Abs(f-0.005) > 1e-12 || math.Abs(lo-0.003) > 1e-12 || math.Abs(hi-0.007) > 1e-12 {
		t.Errorf("BehindPGWire = %v [%v, %v], want 20 µs [12, 28] of 4 ms", f, lo, hi)
	}
	d := l.Describe("pq")
	for _, w := range []string{"pq / pgx.Conn = 1.200 [1.150, 1.250]", "99% interval over 8 rounds, widened ×1.50", "+20.0 µs [+12.0 µs, +28.0 µs]", "100 µs baseline round trip", "~4 ms round trip", "+0.50% [+0.30%, +0.70%]", "+20% measured"} {
		if !strings.Contains(d, w) {
			t.Errorf("Describe lacks %q:\n%s", w, d)
		}
	}
}
