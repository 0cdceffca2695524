package contract

import (
	"fmt"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/pgwire-conformance/pgwire-conformance/harness"
)

// The rows-affected count a driver reports comes from the server's command
// tag ("UPDATE 3"); a server that writes its tags wrong (iris-pgwire's
// "UPDATE 0 0") makes every driver report the wrong count. Other specs only
// record the count (harness.Write) so that this divergence cannot hide
// theirs; this spec certifies it. The statements carry their values as
// literals: only the count is under test here, not parameter binding.
var _ = harness.ForEachAdapter("Contract: rows affected", Label("contract"), func(s *harness.Subject) {
	s.It("reports rows affected by INSERT, UPDATE and DELETE", harness.Reqs("FR-002", "COMPAT", "T005"), func(ctx SpecContext) {
		obs := harness.Observe(ctx)
		table := harness.NewTable(ctx, obs, "rows_affected", "id {bigint} PRIMARY KEY, grp {int} NOT NULL, note {text} NOT NULL")
		e, _ := s.Open(ctx, 1)
		soft := harness.NewSoft()
		// Every statement's count is checked, and what the server did is
		// checked apart through the observer: a wrong count next to the
		// right effect is the driver's (or tag's) fault alone.
		exec := func(sql string, want int64, what string) {
			GinkgoHelper()
			n, err := e.Exec(ctx, sql)
			if soft.Expect(err).NotTo(HaveOccurred(), "%s: %s", what, sql) {
				soft.Expect(n).To(Equal(want), "rows affected by %s", what)
			}
		}

		// Groups: 1 holds ids 1-3, 2 holds ids 4-5.
		for id := 1; id <= 5; id++ {
			grp := 1 + id/4
			exec(fmt.Sprintf("INSERT INTO %s (id, grp, note) VALUES (%d, %d, 'new')", table, id, grp), 1, fmt.Sprintf("an INSERT of one row (id %d)", id))
		}
		soft.Expect(obs.Count(ctx, table)).To(Equal(int64(5)), "the observer sees the five inserted rows")

		exec(fmt.Sprintf("UPDATE %s SET note = 'updated' WHERE grp = 1", table), 3, "an UPDATE matching 3 rows")
		soft.Expect(obs.Int(ctx, fmt.Sprintf("SELECT count(*) FROM %s WHERE note = 'updated'", table))).To(Equal(int64(3)),
			"the observer sees the three updated rows")
		exec(fmt.Sprintf("UPDATE %s SET note = 'never' WHERE grp = 3", table), 0, "an UPDATE matching no row")

		exec(fmt.Sprintf("DELETE FROM %s WHERE grp = 2", table), 2, "a DELETE matching 2 rows")
		soft.Expect(obs.Count(ctx, table)).To(Equal(int64(3)), "the observer sees the three rows left")
		exec(fmt.Sprintf("DELETE FROM %s WHERE grp = 3", table), 0, "a DELETE matching no row")

		soft.Expect(obs.Int(ctx, fmt.Sprintf("SELECT count(*) FROM %s WHERE note = 'never'", table))).To(BeZero(),
			"the UPDATE matching no row changed nothing")
		soft.Verify()
	})
})
