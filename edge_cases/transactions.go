package edge_cases

import (
	"context"
	"fmt"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/pgwire-conformance/pgwire-conformance/adapter"
	"github.com/pgwire-conformance/pgwire-conformance/harness"
	"github.com/pgwire-conformance/pgwire-conformance/profile"
	"github.com/pgwire-conformance/pgwire-conformance/wiretap"
)

// txTimeout bounds each transaction spec: none should take more than a
// second, so a driver that hangs (a lock it never releases) fails fast.
const txTimeout = SpecTimeout(30 * time.Second)

var _ = harness.ForEachAdapter("Edge cases: transactions", Label("transactions"), func(s *harness.Subject) {
	s.It("commit persists: the observer sees the rows after Commit", harness.Reqs("FR-006", "EC-5", "T031", "T032"), func(ctx SpecContext) {
		obs := harness.Observe(ctx)
		table := harness.NewTable(ctx, obs, "tx_commit", notesColumns)
		tx, tap := begin(ctx, s)

		// One row per INSERT: multi-row VALUES is a dialect question (see
		// compat), not a transaction one.
		insert := fmt.Sprintf("INSERT INTO %s (id, note) VALUES ($1, $2)", table)
		harness.Write(ctx, tx, 1, insert, int64(1), "one")
		harness.Write(ctx, tx, 1, insert, int64(2), "two")
		Expect(tx.Commit(ctx)).To(Succeed())

		Expect(obs.Notes(ctx, table)).To(Equal(map[int64]string{1: "one", 2: "two"}),
			"after Commit another session must see exactly the committed rows")
		expectIdle(tap, "Commit")
	}, txTimeout)

	s.It("rollback discards: the observer sees nothing after Rollback", harness.Reqs("FR-006", "EC-5", "T031", "T032"), func(ctx SpecContext) {
		obs := harness.Observe(ctx)
		table := harness.NewTable(ctx, obs, "tx_rollback", notesColumns)
		tx, tap := begin(ctx, s)

		harness.Write(ctx, tx, 1, fmt.Sprintf("INSERT INTO %s (id, note) VALUES ($1, $2)", table), int64(1), "doomed")
		// The transaction sees its own write, so the INSERT really ran...
		Expect(adapter.Scalar(ctx, tx, fmt.Sprintf("SELECT count(*) FROM %s", table))).To(BeEquivalentTo(1),
			"the transaction must read its own uncommitted row")
		Expect(tx.Rollback(ctx)).To(Succeed())

		// ...and after Rollback the session has left its transaction (the
		// wire says so: "nobody sees the rows" is also true of a transaction
		// that is merely still open), and nobody sees them.
		expectIdle(tap, "Rollback")
		Expect(obs.Notes(ctx, table)).To(BeEmpty(), "after Rollback the server must hold none of the transaction's rows")
	}, txTimeout)

	s.It("keeps uncommitted rows invisible to other sessions until Commit", harness.Reqs("FR-006", "EC-5", "T031", "T032"), func(ctx SpecContext) {
		obs := harness.Observe(ctx)
		table := harness.NewTable(ctx, obs, "tx_isolated", notesColumns)
		tx, _ := begin(ctx, s)

		for i := int64(1); i <= 3; i++ {
			harness.Write(ctx, tx, 1, fmt.Sprintf("INSERT INTO %s (id, note) VALUES ($1, $2)", table), i, fmt.Sprintf("row %d", i))
		}
		Expect(adapter.Scalar(ctx, tx, fmt.Sprintf("SELECT count(*) FROM %s", table))).To(BeEquivalentTo(3),
			"inside the transaction all three rows are visible")
		Expect(obs.Notes(ctx, table)).To(BeEmpty(),
			"while the transaction is open another session must see none of its rows (no autocommit per statement)")

		Expect(tx.Commit(ctx)).To(Succeed())
		Expect(obs.Notes(ctx, table)).To(HaveLen(3), "after Commit all three rows are visible")
	}, txTimeout, harness.NeedsFeature{profile.ConcurrentSessions})

	s.It("rolls back DDL: a table created inside a rolled-back transaction does not exist", harness.Reqs("FR-006", "EC-5", "T031", "T032"), func(ctx SpecContext) {
		obs := harness.Observe(ctx)
		name := harness.UniqueName("tx_ddl")
		// Should a broken driver commit the DDL, the table must not outlive the spec.
		harness.DropAtEnd(name)
		tx, tap := begin(ctx, s)

		_, err := tx.Exec(ctx, fmt.Sprintf("CREATE TABLE %s (%s)", name, harness.Profile().DDL("id {bigint} PRIMARY KEY")))
		Expect(err).NotTo(HaveOccurred())
		// The new table is usable inside its transaction.
		harness.Write(ctx, tx, 1, fmt.Sprintf("INSERT INTO %s (id) VALUES (1)", name))
		Expect(tablesNamed(ctx, obs, name)).To(BeZero(), "another session must not see the table before the transaction ends")
		Expect(tx.Rollback(ctx)).To(Succeed())
		expectIdle(tap, "Rollback")

		Expect(tablesNamed(ctx, obs, name)).To(BeZero(),
			"DDL is transactional on this profile: after Rollback no table %s may exist", name)
		Expect(obs.TryExec(ctx, fmt.Sprintf("SELECT * FROM %s", name))).NotTo(Succeed(), "selecting from the rolled-back table must fail")
	}, txTimeout, harness.NeedsFeature{profile.TransactionalDDL, profile.ConcurrentSessions})

	s.It("rolls back a transaction in which a statement failed, leaving nothing of it", harness.Reqs("FR-006", "EC-5", "T031", "T032"), func(ctx SpecContext) {
		obs, table, tx, tap, soft := abortedTransaction(ctx, s)
		_ = tx.Commit(ctx) // what Commit reports is the next spec's concern
		Expect(obs.Notes(ctx, table)).To(Equal(map[int64]string{1: "before"}),
			"nothing from the failed transaction may remain; the row from before it is untouched")
		expectIdle(tap, "Commit of the aborted transaction")
		soft.Verify()
	}, txTimeout)

	// A Rollback after a failed statement must leave the session usable:
	// with a pool of one, the next query and an autocommit INSERT run (a
	// driver that skips the ROLLBACK leaves the session aborted, and only a
	// pool that throws such connections away hides it — the wire does not).
	s.It("rolls back after a failed statement so that the pool's only connection serves the next statements", harness.Reqs("FR-006", "EC-5", "FR-005", "T031", "T032"), func(ctx SpecContext) {
		obs := harness.Observe(ctx)
		table := harness.NewTable(ctx, obs, "tx_after_error", notesColumns)
		obs.Exec(ctx, fmt.Sprintf("INSERT INTO %s (id, note) VALUES (1, 'before')", table))
		e, _ := s.Open(ctx, 1)
		tap := harness.Wire(e)
		c, err := e.Acquire(ctx)
		Expect(err).NotTo(HaveOccurred(), "acquire the pool's only connection")
		tx, err := c.Begin(ctx)
		Expect(err).NotTo(HaveOccurred())
		insert := fmt.Sprintf("INSERT INTO %s (id, note) VALUES ($1, $2)", table)
		_, err = tx.Exec(ctx, insert, int64(1), "duplicate")
		Expect(err).To(HaveOccurred(), "inserting a duplicate primary key must fail")
		Expect(tx.Rollback(ctx)).To(Succeed())
		expectIdle(tap, "Rollback after a failed statement")
		Expect(c.Release(ctx)).To(Succeed())

		Expect(adapter.Scalar(ctx, e, "SELECT 1")).To(BeEquivalentTo(1), "the next query on the pool of one")
		_, err = e.Exec(ctx, insert, int64(2), "autocommit")
		Expect(err).NotTo(HaveOccurred(), "an autocommit INSERT on the pool of one")
		Expect(obs.Notes(ctx, table)).To(Equal(map[int64]string{1: "before", 2: "autocommit"}),
			"the autocommit INSERT is committed at once, the failed transaction left nothing")
	}, txTimeout)

	s.It("reports COMMIT of an aborted transaction as an error, not as success", harness.Reqs("FR-009", "EC-5", "T031"), func(ctx SpecContext) {
		obs, table, tx, _, soft := abortedTransaction(ctx, s)
		// The server has turned COMMIT into ROLLBACK; a driver that reports
		// success tells the application its data was saved when it was not.
		Expect(tx.Commit(ctx)).NotTo(Succeed(), "Commit of an aborted transaction must report that nothing was committed")
		Expect(obs.Notes(ctx, table)).To(Equal(map[int64]string{1: "before"}))
		soft.Verify()
	}, txTimeout)

	s.It("rolls back to a savepoint and commits the rest", harness.Reqs("FR-006", "EC-5", "T031", "T032"), func(ctx SpecContext) {
		obs := harness.Observe(ctx)
		table := harness.NewTable(ctx, obs, "tx_savepoint", notesColumns)
		tx, tap := begin(ctx, s)
		insert := fmt.Sprintf("INSERT INTO %s (id, note) VALUES ($1, $2)", table)

		harness.Write(ctx, tx, 1, insert, int64(1), "outer before")
		_, err := tx.Exec(ctx, "SAVEPOINT sp")
		Expect(err).NotTo(HaveOccurred())
		harness.Write(ctx, tx, 1, insert, int64(2), "inside savepoint")
		_, err = tx.Exec(ctx, "ROLLBACK TO SAVEPOINT sp")
		Expect(err).NotTo(HaveOccurred())
		harness.Write(ctx, tx, 1, insert, int64(3), "outer after")
		Expect(tx.Commit(ctx)).To(Succeed())

		Expect(obs.Notes(ctx, table)).To(Equal(map[int64]string{1: "outer before", 3: "outer after"}),
			"only the rows outside the rolled-back savepoint are committed")
		expectIdle(tap, "Commit")
	}, txTimeout)
})

// notesColumns is the (id, note) table the transaction specs write to.
const notesColumns = "id {bigint} PRIMARY KEY, note {text} NOT NULL"

// begin opens an engine through the adapter, holds one connection and starts
// a transaction on it; it returns the transaction and the engine's wire
// tap. The transaction is rolled back (if the spec left it open) and the
// connection released when the spec ends.
func begin(ctx context.Context, s *harness.Subject) (adapter.Tx, *wiretap.Tap) {
	GinkgoHelper()
	e, _ := s.Open(ctx, 2)
	return beginOn(ctx, e), harness.Wire(e)
}

// expectIdle: after a transaction ends (Commit or Rollback returned), the
// server must say so on the wire: every session of the engine still open
// reports ReadyForQuery status I, not T (still in the transaction) or E
// (still in its aborted transaction). A closed session is ended too.
func expectIdle(tap *wiretap.Tap, after string) {
	GinkgoHelper()
	for _, c := range harness.Sessions(tap) {
		if !c.Closed.IsZero() || c.LastStatus == 0 {
			continue
		}
		Expect(string(c.LastStatus)).To(Equal("I"),
			"after %s the session (connection c%d, backend %d) must be idle: its last ReadyForQuery says %q (T = still in a transaction, E = in an aborted one)",
			after, c.ID, c.BackendPID, string(c.LastStatus))
	}
}

// tablesNamed counts the tables called name the observer sees in
// INFORMATION_SCHEMA, in any schema (so a table created somewhere other
// than the profile's schema still counts). Names compare as identifiers:
// the suite's names are lower case, and a server may store them upper case.
func tablesNamed(ctx context.Context, obs *harness.Observer, name string) int {
	GinkgoHelper()
	n := 0
	for _, r := range obs.Rows(ctx, "SELECT table_name FROM information_schema.tables") {
		if len(r) == 1 && r[0] != nil && profile.SameIdentifier(*r[0], name) {
			n++
		}
	}
	return n
}

// abortedTransaction returns a transaction the server has aborted: a row
// inserted inside it, then a duplicate key (23505), then a statement refused
// because the transaction is aborted (25P02). The table holds one row from
// before the transaction. How the server answers the duplicate and the
// statement after it is gathered in the returned Soft, not asserted at
// once: a server that never reports 25P02 still reaches the spec's own
// COMMIT/ROLLBACK checks, and the spec reports both.
func abortedTransaction(ctx SpecContext, s *harness.Subject) (*harness.Observer, string, adapter.Tx, *wiretap.Tap, *harness.Soft) {
	GinkgoHelper()
	soft := harness.NewSoft()
	obs := harness.Observe(ctx)
	table := harness.NewTable(ctx, obs, "tx_error", notesColumns)
	obs.Exec(ctx, fmt.Sprintf("INSERT INTO %s (id, note) VALUES (1, 'before')", table))
	tx, tap := begin(ctx, s)
	insert := fmt.Sprintf("INSERT INTO %s (id, note) VALUES ($1, $2)", table)
	harness.Write(ctx, tx, 1, insert, int64(2), "inside")
	_, err := tx.Exec(ctx, insert, int64(1), "duplicate")
	soft.Expect(err).To(HaveOccurred(), "inserting a duplicate primary key must fail")
	soft.Expect(adapter.SQLState(err)).To(Equal("23505"), "SQLSTATE of the duplicate key: %v", err)
	_, err = tx.Exec(ctx, insert, int64(3), "after error")
	soft.Expect(err).To(HaveOccurred(), "a statement after an error in the same transaction must fail")
	soft.Expect(adapter.SQLState(err)).To(Equal("25P02"), "in_failed_sql_transaction: %v", err)
	return obs, table, tx, tap, soft
}
