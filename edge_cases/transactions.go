package edge_cases

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/pgwire-conformance/pgwire-conformance/adapter"
	"github.com/pgwire-conformance/pgwire-conformance/harness"
	"github.com/pgwire-conformance/pgwire-conformance/profile"
)

// txTimeout bounds each transaction spec: none should take more than a
// second, so a driver that hangs (a lock it never releases) fails fast.
const txTimeout = SpecTimeout(30 * time.Second)

var _ = harness.ForEachAdapter("Edge cases: transactions", Label("transactions"), func(s *harness.Subject) {
	s.It("commit persists: the observer sees the rows after Commit", harness.Reqs("FR-006", "EC-5", "T031", "T032"), func(ctx SpecContext) {
		obs := harness.Observer(ctx)
		table := harness.Table(ctx, obs, "tx_commit", "id int8 PRIMARY KEY, note text NOT NULL")
		tx := begin(ctx, s)

		// One row per INSERT: multi-row VALUES is a dialect question (see
		// compat), not a transaction one.
		insert := fmt.Sprintf("INSERT INTO %s (id, note) VALUES ($1, $2)", table)
		Expect(tx.Exec(ctx, insert, int64(1), "one")).To(Equal(int64(1)), "rows affected by the first INSERT")
		Expect(tx.Exec(ctx, insert, int64(2), "two")).To(Equal(int64(1)), "rows affected by the second INSERT")
		Expect(tx.Commit(ctx)).To(Succeed())

		Expect(harness.ObservedNotes(ctx, obs, table)).To(Equal(map[int64]string{1: "one", 2: "two"}),
			"after Commit another session must see exactly the committed rows")
	}, txTimeout)

	s.It("rollback discards: the observer sees nothing after Rollback", harness.Reqs("FR-006", "EC-5", "T031", "T032"), func(ctx SpecContext) {
		obs := harness.Observer(ctx)
		table := harness.Table(ctx, obs, "tx_rollback", "id int8 PRIMARY KEY, note text NOT NULL")
		tx := begin(ctx, s)

		Expect(tx.Exec(ctx, fmt.Sprintf("INSERT INTO %s (id, note) VALUES ($1, $2)", table), int64(1), "doomed")).To(Equal(int64(1)))
		// The transaction sees its own write, so the INSERT really ran...
		Expect(adapter.Scalar(ctx, tx, fmt.Sprintf("SELECT count(*) FROM %s", table))).To(BeEquivalentTo(1),
			"the transaction must read its own uncommitted row")
		Expect(tx.Rollback(ctx)).To(Succeed())

		// ...and after Rollback nobody does.
		Expect(harness.ObservedNotes(ctx, obs, table)).To(BeEmpty(), "after Rollback the server must hold none of the transaction's rows")
	}, txTimeout)

	s.It("keeps uncommitted rows invisible to other sessions until Commit", harness.Reqs("FR-006", "EC-5", "T031", "T032"), func(ctx SpecContext) {
		obs := harness.Observer(ctx)
		table := harness.Table(ctx, obs, "tx_isolated", "id int8 PRIMARY KEY, note text NOT NULL")
		tx := begin(ctx, s)

		for i := int64(1); i <= 3; i++ {
			Expect(tx.Exec(ctx, fmt.Sprintf("INSERT INTO %s (id, note) VALUES ($1, $2)", table), i, fmt.Sprintf("row %d", i))).To(Equal(int64(1)))
		}
		Expect(adapter.Scalar(ctx, tx, fmt.Sprintf("SELECT count(*) FROM %s", table))).To(BeEquivalentTo(3),
			"inside the transaction all three rows are visible")
		Expect(harness.ObservedNotes(ctx, obs, table)).To(BeEmpty(),
			"while the transaction is open another session must see none of its rows (no autocommit per statement)")

		Expect(tx.Commit(ctx)).To(Succeed())
		Expect(harness.ObservedNotes(ctx, obs, table)).To(HaveLen(3), "after Commit all three rows are visible")
	}, txTimeout)

	s.It("rolls back DDL: a table created inside a rolled-back transaction does not exist", harness.Reqs("FR-006", "EC-5", "T031", "T032"), func(ctx SpecContext) {
		obs := harness.Observer(ctx)
		name := harness.UniqueName("tx_ddl")
		// Should a broken driver commit the DDL, the table must not outlive the spec.
		DeferCleanup(func(ctx context.Context) error {
			_, err := obs.Exec(ctx, "DROP TABLE IF EXISTS "+name)
			return err
		})
		tx := begin(ctx, s)

		_, err := tx.Exec(ctx, fmt.Sprintf("CREATE TABLE %s (id int8 PRIMARY KEY)", name))
		Expect(err).NotTo(HaveOccurred())
		Expect(tx.Exec(ctx, fmt.Sprintf("INSERT INTO %s (id) VALUES (1)", name))).To(Equal(int64(1)),
			"the new table is usable inside its transaction")
		Expect(tablesNamed(ctx, obs, name)).To(BeZero(), "another session must not see the table before the transaction ends")
		Expect(tx.Rollback(ctx)).To(Succeed())

		Expect(tablesNamed(ctx, obs, name)).To(BeZero(),
			"DDL is transactional on this profile: after Rollback no table %s may exist", name)
		_, err = obs.Exec(ctx, fmt.Sprintf("SELECT * FROM %s", name))
		Expect(err).To(HaveOccurred(), "selecting from the rolled-back table must fail")
	}, txTimeout, harness.NeedsFeature{profile.TransactionalDDL})

	s.It("rolls back a transaction in which a statement failed, leaving nothing of it", harness.Reqs("FR-006", "EC-5", "T031", "T032"), func(ctx SpecContext) {
		obs, table, tx := abortedTransaction(ctx, s)
		_ = tx.Commit(ctx) // what Commit reports is the next spec's concern
		Expect(harness.ObservedNotes(ctx, obs, table)).To(Equal(map[int64]string{1: "before"}),
			"nothing from the failed transaction may remain; the row from before it is untouched")
	}, txTimeout)

	s.It("reports COMMIT of an aborted transaction as an error, not as success", harness.Reqs("FR-009", "EC-5", "T031"), func(ctx SpecContext) {
		obs, table, tx := abortedTransaction(ctx, s)
		// The server has turned COMMIT into ROLLBACK; a driver that reports
		// success tells the application its data was saved when it was not.
		Expect(tx.Commit(ctx)).NotTo(Succeed(), "Commit of an aborted transaction must report that nothing was committed")
		Expect(harness.ObservedNotes(ctx, obs, table)).To(Equal(map[int64]string{1: "before"}))
	}, txTimeout)

	s.It("rolls back to a savepoint and commits the rest", harness.Reqs("FR-006", "EC-5", "T031", "T032"), func(ctx SpecContext) {
		obs := harness.Observer(ctx)
		table := harness.Table(ctx, obs, "tx_savepoint", "id int8 PRIMARY KEY, note text NOT NULL")
		tx := begin(ctx, s)
		insert := fmt.Sprintf("INSERT INTO %s (id, note) VALUES ($1, $2)", table)

		Expect(tx.Exec(ctx, insert, int64(1), "outer before")).To(Equal(int64(1)))
		_, err := tx.Exec(ctx, "SAVEPOINT sp")
		Expect(err).NotTo(HaveOccurred())
		Expect(tx.Exec(ctx, insert, int64(2), "inside savepoint")).To(Equal(int64(1)))
		_, err = tx.Exec(ctx, "ROLLBACK TO SAVEPOINT sp")
		Expect(err).NotTo(HaveOccurred())
		Expect(tx.Exec(ctx, insert, int64(3), "outer after")).To(Equal(int64(1)))
		Expect(tx.Commit(ctx)).To(Succeed())

		Expect(harness.ObservedNotes(ctx, obs, table)).To(Equal(map[int64]string{1: "outer before", 3: "outer after"}),
			"only the rows outside the rolled-back savepoint are committed")
	}, txTimeout)
})

// begin opens an engine through the adapter, holds one connection and starts
// a transaction on it. The transaction is rolled back (if the spec left it
// open) and the connection released when the spec ends.
func begin(ctx context.Context, s *harness.Subject) adapter.Tx {
	GinkgoHelper()
	e, _ := s.Open(ctx, 2)
	return beginOn(ctx, e)
}

// tablesNamed counts the tables called name the observer sees in
// INFORMATION_SCHEMA, in any schema (so a table created somewhere other
// than the profile's schema still counts). Names compare case-blind: the
// suite's names are lower case, and a server may store them upper case.
func tablesNamed(ctx context.Context, obs *pgx.Conn, name string) (int64, error) {
	var n int64
	err := obs.QueryRow(ctx, "SELECT count(*) FROM information_schema.tables WHERE lower(table_name) = lower($1)", name).Scan(&n)
	return n, err
}

// abortedTransaction returns a transaction the server has aborted: a row
// inserted inside it, then a duplicate key (23505), then a statement refused
// because the transaction is aborted (25P02). The table holds one row from
// before the transaction.
func abortedTransaction(ctx SpecContext, s *harness.Subject) (*pgx.Conn, string, adapter.Tx) {
	GinkgoHelper()
	obs := harness.Observer(ctx)
	table := harness.Table(ctx, obs, "tx_error", "id int8 PRIMARY KEY, note text NOT NULL")
	_, err := obs.Exec(ctx, fmt.Sprintf("INSERT INTO %s (id, note) VALUES (1, 'before')", table))
	Expect(err).NotTo(HaveOccurred())
	tx := begin(ctx, s)
	insert := fmt.Sprintf("INSERT INTO %s (id, note) VALUES ($1, $2)", table)
	Expect(tx.Exec(ctx, insert, int64(2), "inside")).To(Equal(int64(1)))
	_, err = tx.Exec(ctx, insert, int64(1), "duplicate")
	Expect(err).To(HaveOccurred(), "inserting a duplicate primary key must fail")
	Expect(adapter.SQLState(err)).To(Equal("23505"), "SQLSTATE of the duplicate key: %v", err)
	_, err = tx.Exec(ctx, insert, int64(3), "after error")
	Expect(err).To(HaveOccurred(), "a statement after an error in the same transaction must fail")
	Expect(adapter.SQLState(err)).To(Equal("25P02"), "in_failed_sql_transaction: %v", err)
	return obs, table, tx
}
