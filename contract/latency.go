package contract

import (
	"context"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gmeasure"

	"github.com/pgwire-conformance/pgwire-conformance/harness"
	"github.com/pgwire-conformance/pgwire-conformance/report"
)

var _ = harness.ForEachAdapter("Contract: latency", Label("contract", "performance"), func(s *harness.Subject) {
	s.It("keeps SELECT 1 latency within the threshold of the raw driver, interleaved", harness.Reqs("FR-013", "T007", "T021", "T022", "T023"), func(ctx SpecContext) {
		if s.Info.IsOwnBaseline() {
			Skip(harness.NotApplicable + "adapter " + s.Info.Name + " is the raw-driver baseline itself: the other adapters of its backend are compared with it")
		}
		// The baseline: the raw pgx.Conn for Go adapters; for a remote
		// adapter the one it declares (an async adapter's sync twin, the
		// seed's criterion), timed inside the same backend.
		baseName, baseSide, err := harness.BaselineOf(s.Info)
		Expect(err).NotTo(HaveOccurred())
		rawName, rawSide, err := harness.RawBaselineOf(s.Info)
		Expect(err).NotTo(HaveOccurred())
		cfg := harness.Config()
		undo, clientCPUs := harness.PinAwayFrom(harness.Target().CPUs)
		defer undo()

		exp := gmeasure.NewExperiment("SELECT 1 latency: " + s.Info.Name + " vs " + baseName)
		cmp, err := harness.Interleave(ctx, recorded(exp, s.Info.Name, s.Side), recorded(exp, "baseline", baseSide),
			"SELECT 1", cfg.LatencyIterations, rounds, 10, uint64(GinkgoRandomSeed()))
		Expect(err).NotTo(HaveOccurred())
		AddReportEntry(exp.Name, exp)
		entry := report.Latency{
			Statement: "SELECT 1", Baseline: baseName, Path: harness.Target().Path,
			Rounds: rounds, ServerCPUs: harness.Target().CPUs, ClientCPUs: clientCPUs,
			Threshold: cfg.LatencyThreshold, Comparison: cmp,
		}
		GinkgoWriter.Printf("%s: p50 %s vs %s %s, ratio %.3f [%.3f, %.3f] over %d rounds, overhead %s\n",
			s.Info.Name, cmp.Subject.P50, baseName, cmp.Baseline.P50, cmp.Ratio, cmp.RatioLow, cmp.RatioHigh, cmp.Blocks, cmp.Overhead)

		// T023: the absolute overhead over the raw driver, measured apart
		// when the FR-013 baseline is not the raw driver itself.
		raw := cmp
		if rawName != baseName {
			rexp := gmeasure.NewExperiment("SELECT 1 latency: " + s.Info.Name + " vs " + rawName + " (T023)")
			raw, err = harness.Interleave(ctx, recorded(rexp, s.Info.Name, s.Side), recorded(rexp, "raw", rawSide),
				"SELECT 1", cfg.LatencyIterations, rounds, 10, uint64(GinkgoRandomSeed())+1)
			Expect(err).NotTo(HaveOccurred())
			AddReportEntry(rexp.Name, rexp)
			entry.Raw = &report.RawLatency{Baseline: rawName, Comparison: raw}
			GinkgoWriter.Printf("%s: p50 %s vs raw %s %s, ratio %.3f [%.3f, %.3f] over %d rounds, overhead %s (T023)\n",
				s.Info.Name, raw.Subject.P50, rawName, raw.Baseline.P50, raw.Ratio, raw.RatioLow, raw.RatioHigh, raw.Blocks, raw.Overhead)
		}
		AddReportEntry(report.LatencyEntry, entry)

		Expect(cmp.Subject.N).To(BeNumerically(">=", cfg.LatencyIterations))
		Expect(cmp.Ratio).To(BeNumerically("<=", cfg.LatencyThreshold),
			"p50 latency ratio %s / %s = %.3f (95%% CI %.3f–%.3f; p50 %s vs %s) exceeds %.2f",
			s.Info.Name, baseName, cmp.Ratio, cmp.RatioLow, cmp.RatioHigh, cmp.Subject.P50, cmp.Baseline.P50, cfg.LatencyThreshold)
		Expect(raw.Overhead).To(BeNumerically("<", 5*time.Millisecond), "T023: absolute overhead over the raw driver (%s)", rawName)
	}, Serial, SpecTimeout(5*time.Minute))
})

// recorded wraps a side so every sample also lands in the gmeasure
// experiment under name (warm-ups included; the comparison excludes them).
func recorded(exp *gmeasure.Experiment, name string, side harness.Side) harness.Side {
	return func(ctx context.Context) (harness.BenchFunc, func(context.Context) error, error) {
		bench, closeFn, err := side(ctx)
		if err != nil {
			return nil, nil, err
		}
		return func(ctx context.Context, sql string, n int) ([]time.Duration, error) {
			d, err := bench(ctx, sql, n)
			for _, x := range d {
				exp.RecordDuration(name, x, gmeasure.Precision(time.Microsecond))
			}
			return d, err
		}, closeFn, nil
	}
}

// rounds of fresh connection pairs per comparison; see harness.Interleave.
const rounds = 16
