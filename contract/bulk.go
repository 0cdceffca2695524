package contract

import (
	"fmt"
	"strconv"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/pgwire-conformance/pgwire-conformance/harness"
	"github.com/pgwire-conformance/pgwire-conformance/report"
	"github.com/pgwire-conformance/pgwire-conformance/wiretap"
)

var _ = harness.ForEachAdapter("Contract: bulk insert", Label("contract", "bulk"), func(s *harness.Subject) {
	s.It("inserts rows with executemany in under 10 s, every row intact", harness.Reqs("FR-007", "T006", "T017"), func(ctx SpecContext) {
		n := harness.Config().BulkRows
		obs := harness.Observe(ctx)
		table := harness.NewTable(ctx, obs, "bulk", "id {bigint} PRIMARY KEY, name {text} NOT NULL, score {double}")
		e, _ := s.Open(ctx, 1)
		tap := harness.Wire(e)

		rows := make([][]any, n)
		for i := range rows {
			rows[i] = []any{int64(i), fmt.Sprintf("row-%03d", i), float64(i) / 4}
		}
		// Every server reply reaches the driver bulkReplyDelay late, as
		// over a real network: a driver that waits for each row's answer
		// pays it per row, one that pipelines does not. Without it the
		// count measures the server's speed too: a fast server drains a
		// pipeline between two TCP segments of one batch.
		tap.Faults().SetLatency(bulkReplyDelay)
		DeferCleanup(func() { tap.Faults().SetLatency(0) })
		w := tap.Watch()
		start := time.Now()
		affected, err := e.ExecMany(ctx, fmt.Sprintf("INSERT INTO %s (id, name, score) VALUES ($1, $2, $3)", table), rows)
		elapsed := time.Since(start)
		wire := w.Stop()
		Expect(err).NotTo(HaveOccurred())
		method := batchMethod(wire, n)
		AddReportEntry(report.BulkEntry, report.BulkInsert{Rows: n, Seconds: elapsed.Seconds(), RowsPerSecond: float64(n) / elapsed.Seconds(),
			RoundTrips: wire.RoundTrips, Method: method})
		GinkgoWriter.Printf("%s: %d rows in %s, %d round trip(s), %s\n", s.Info.Name, n, elapsed, wire.RoundTrips, method)
		Expect(elapsed).To(BeNumerically("<", 10*time.Second), "the seed's bar: %d rows in under 10 s", n)

		// What the server holds first: the count the driver reports is
		// checked last, so a wrong count cannot hide lost rows.
		got := obs.Rows(ctx, fmt.Sprintf("SELECT id, name, score FROM %s ORDER BY id", table))
		for i, r := range got {
			Expect(i).To(BeNumerically("<", n), "the observer sees more rows than were sent: %v", textRow(r))
			Expect(observedRow(r)).To(Equal(rows[i]), "row %d as the observer sees it", i)
		}
		Expect(got).To(HaveLen(n), "rows the observer sees")

		// Evidence of batching, from the wire: a driver that sends one
		// statement per row and waits for each (a loop) makes about n round
		// trips; pipelining, a batch, a multi-row statement or COPY make a
		// few. Rows per second cannot tell them apart on a local server.
		Expect(wire.RoundTrips).To(BeNumerically("<=", maxBulkRoundTrips(n)),
			"efficient bulk insert: %d rows took %d round trips on the wire (%s); at most %d allowed", n, wire.RoundTrips, method, maxBulkRoundTrips(n))
		Expect(affected).To(Equal(int64(n)), "rows affected reported by the driver")
	})
})

// bulkReplyDelay is the latency the tap adds to every server reply while
// the bulk insert runs (elapsed time and rows/s include it).
const bulkReplyDelay = 2 * time.Millisecond

// maxBulkRoundTrips is FR-007's bar for n rows: a tenth of a loop's, and
// never fewer than 3 (a prepare, the batch, a commit).
func maxBulkRoundTrips(n int) int { return max(3, n/10) }

// batchMethod says how a driver sent a bulk insert, from what crossed the
// wire during it.
func batchMethod(s wiretap.Stats, n int) string {
	c := s.FromClient
	tags := 0
	for _, k := range s.CommandTags {
		tags += k
	}
	switch {
	case c["CopyData"] > 0:
		return fmt.Sprintf("COPY (%d CopyData message(s))", c["CopyData"])
	case c["Bind"] >= n && s.RoundTrips < n/2:
		return fmt.Sprintf("pipelined: %d Bind/Execute in %d request(s)", c["Bind"], s.Requests)
	case c["Query"] > 0 && c["Query"] < n/2 && tags >= n:
		return fmt.Sprintf("%d statements in %d Query message(s)", tags, c["Query"])
	case c["Bind"]+c["Query"] < n/2:
		return fmt.Sprintf("multi-row statements: %d statement(s) for %d rows", c["Bind"]+c["Query"], n)
	default:
		return fmt.Sprintf("one statement per row: %d Bind + %d Query, %d request(s)", c["Bind"], c["Query"], s.Requests)
	}
}

// observedRow reads an observed (id, name, score) row as the values sent.
func observedRow(r []*string) []any {
	GinkgoHelper()
	Expect(r).To(HaveLen(3))
	Expect(r).NotTo(ContainElement(BeNil()), "no column is NULL: %v", textRow(r))
	id, err := harness.ParseInt(*r[0])
	Expect(err).NotTo(HaveOccurred(), "id")
	score, err := strconv.ParseFloat(*r[2], 64)
	Expect(err).NotTo(HaveOccurred(), "score")
	return []any{id, *r[1], score}
}

// textRow shows an observed row, NULL as NULL.
func textRow(r []*string) []string {
	out := make([]string, len(r))
	for i, v := range r {
		out[i] = "NULL"
		if v != nil {
			out[i] = *v
		}
	}
	return out
}
