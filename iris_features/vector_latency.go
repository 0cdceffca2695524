package iris_features

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/pgwire-conformance/pgwire-conformance/fixtures"
	"github.com/pgwire-conformance/pgwire-conformance/harness"
	"github.com/pgwire-conformance/pgwire-conformance/measure"
	"github.com/pgwire-conformance/pgwire-conformance/profile"
	"github.com/pgwire-conformance/pgwire-conformance/report"
	"github.com/pgwire-conformance/pgwire-conformance/sqltext"
)

// vectorLatencyRuns is how many times the vector query is timed.
const vectorLatencyRuns = 300

var _ = harness.ForEachAdapter("IRIS features: vector query latency", Label("vector", "performance"), func(s *harness.Subject) {
	s.It("times the top-5 cosine query over 200 vectors of dimension 128, every answer right", harness.Reqs("FR-004", "EC-3", "T021", "T024"), func(ctx SpecContext) {
		p := harness.Profile()
		rows, table, e := seeded(ctx, s, "vlat", 200)
		q := fixtures.Query(searchDim)
		// Bench runs a statement without parameters, so the query vector is
		// written into it as the profile's literal.
		sql, err := sqltext.Interpolate(fixtures.SearchSQL(p, table, searchK), p.Literal, profile.VectorLiteral(q))
		Expect(err).NotTo(HaveOccurred())

		// The timed statement must give the Go ground truth, ids and scores.
		expectHits(hitsOf(queryAll(ctx, e, sql)), fixtures.TopK(rows, q, searchK), scoreTol)

		undo, _ := harness.PinAwayFrom(harness.Target().CPUs)
		defer undo()
		// The other drivers' backends are stilled while this one is timed.
		defer harness.Isolate(ctx, harness.BackendOf(s.Adapter))()
		_, err = e.Bench(ctx, sql, 30) // warm-up
		Expect(err).NotTo(HaveOccurred())
		d, err := e.Bench(ctx, sql, vectorLatencyRuns)
		Expect(err).NotTo(HaveOccurred())
		Expect(d).To(HaveLen(vectorLatencyRuns), "Bench must time every run")
		sum := measure.Summarize(d)
		AddReportEntry(report.VectorLatencyEntry, report.Latency{
			Statement:  "top-5 cosine over 200 × 128",
			Path:       harness.Target().Path,
			Comparison: measure.Comparison{Subject: sum},
		})
		GinkgoWriter.Printf("%s: vector query p50 %s p95 %s p99 %s (n=%d)\n", s.Info.Name, sum.P50, sum.P95, sum.P99, sum.N)
	}, Serial, SpecTimeout(2*time.Minute))
})
