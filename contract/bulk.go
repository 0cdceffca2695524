package contract

import (
	"fmt"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/pgwire-conformance/pgwire-conformance/harness"
	"github.com/pgwire-conformance/pgwire-conformance/report"
)

var _ = harness.ForEachAdapter("Contract: bulk insert", Label("contract", "bulk"), func(s *harness.Subject) {
	s.It("inserts rows with executemany in under 10 s, every row intact", harness.Reqs("FR-007", "T006", "T017"), func(ctx SpecContext) {
		n := harness.Config().BulkRows
		obs := harness.Observer(ctx)
		table := harness.Table(ctx, obs, "bulk", "id int8 PRIMARY KEY, name text NOT NULL, score float8")
		e, _ := s.Open(ctx, 1)

		rows := make([][]any, n)
		for i := range rows {
			rows[i] = []any{int64(i), fmt.Sprintf("row-%03d", i), float64(i) / 4}
		}
		start := time.Now()
		affected, err := e.ExecMany(ctx, fmt.Sprintf("INSERT INTO %s (id, name, score) VALUES ($1, $2, $3)", table), rows)
		elapsed := time.Since(start)
		Expect(err).NotTo(HaveOccurred())
		AddReportEntry(report.BulkEntry, report.BulkInsert{Rows: n, Seconds: elapsed.Seconds(), RowsPerSecond: float64(n) / elapsed.Seconds()})
		Expect(elapsed).To(BeNumerically("<", 10*time.Second), "the seed's bar: %d rows in under 10 s", n)
		Expect(affected).To(Equal(int64(n)), "rows affected reported by the driver")

		got, err := obs.Query(ctx, fmt.Sprintf("SELECT id, name, score FROM %s ORDER BY id", table))
		Expect(err).NotTo(HaveOccurred())
		i := 0
		for got.Next() {
			var id int64
			var name string
			var score float64
			Expect(got.Scan(&id, &name, &score)).To(Succeed())
			Expect([]any{id, name, score}).To(Equal(rows[i]), "row %d as the observer sees it", i)
			i++
		}
		Expect(got.Err()).NotTo(HaveOccurred())
		Expect(i).To(Equal(n), "rows the observer sees")
	})
})
