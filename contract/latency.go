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
		cfg := harness.Config()
		undo, clientCPUs := harness.PinAwayFrom(harness.Target().CPUs)
		defer undo()

		exp := gmeasure.NewExperiment("SELECT 1 latency: " + s.Info.Name + " vs " + harness.BaselineName)
		cmp, err := harness.Interleave(ctx, recorded(exp, s.Info.Name, s.Side), recorded(exp, "baseline", harness.Baseline),
			"SELECT 1", cfg.LatencyIterations, rounds, 10, uint64(GinkgoRandomSeed()))
		Expect(err).NotTo(HaveOccurred())
		AddReportEntry(exp.Name, exp)
		AddReportEntry(report.LatencyEntry, report.Latency{
			Statement: "SELECT 1", Baseline: harness.BaselineName, Path: harness.Target().Path,
			Rounds: rounds, ServerCPUs: harness.Target().CPUs, ClientCPUs: clientCPUs,
			Threshold: cfg.LatencyThreshold, Comparison: cmp,
		})
		GinkgoWriter.Printf("%s: p50 %s vs baseline %s, ratio %.3f [%.3f, %.3f] over %d rounds, overhead %s\n",
			s.Info.Name, cmp.Subject.P50, cmp.Baseline.P50, cmp.Ratio, cmp.RatioLow, cmp.RatioHigh, cmp.Blocks, cmp.Overhead)

		Expect(cmp.Subject.N).To(BeNumerically(">=", cfg.LatencyIterations))
		Expect(cmp.Ratio).To(BeNumerically("<=", cfg.LatencyThreshold),
			"p50 latency ratio %s / %s = %.3f (95%% CI %.3f–%.3f; p50 %s vs %s) exceeds %.2f",
			s.Info.Name, harness.BaselineName, cmp.Ratio, cmp.RatioLow, cmp.RatioHigh, cmp.Subject.P50, cmp.Baseline.P50, cfg.LatencyThreshold)
		Expect(cmp.Overhead).To(BeNumerically("<", 5*time.Millisecond), "T023: absolute overhead over the raw driver")
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
