package wire

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/pgwire-conformance/pgwire-conformance/harness"
)

// wireTimeout bounds the message-level specs: each is a handful of round trips.
const wireTimeout = SpecTimeout(45 * time.Second)

// emptyQueryWithin is how long an empty query may take: it costs a server
// nothing, and lib/pq pings with ";".
const emptyQueryWithin = 3 * time.Second

var _ = harness.ForTarget("Wire: simple query", Label("wire"), func(s *harness.Subject) {
	s.It("answers a Query of several statements with one result each, then one ReadyForQuery, as one transaction", harness.Reqs("FR-002"), func(ctx SpecContext) {
		checks(secSimple)
		obs := harness.Observe(ctx)
		t := harness.NewTable(ctx, obs, "wire_multi", notesColumns)
		c := Connect(ctx)

		msgs := c.Query(ctx, fmt.Sprintf("INSERT INTO %[1]s (id, note) VALUES (1, 'one'); INSERT INTO %[1]s (id, note) VALUES (2, 'two'); "+
			"SELECT id, note FROM %[1]s ORDER BY id; UPDATE %[1]s SET note = 'uno' WHERE id = 1", t))
		Expect(Flow(msgs)).To(Equal([]string{"CommandComplete", "CommandComplete", "RowDescription", "DataRow", "DataRow",
			"CommandComplete", "CommandComplete", "ReadyForQuery"}), "one result per statement, one ReadyForQuery at the end; errors: %v", Errors(msgs))
		Expect(Tags(msgs)).To(Equal([]string{"INSERT 0 1", "INSERT 0 1", "SELECT 2", "UPDATE 1"}))
		Expect(Text(msgs)).To(Equal([][]string{{"1", "one"}, {"2", "two"}}))
		Expect(Status(msgs)).To(Equal("I"))
		Expect(observed(ctx, obs, "SELECT id, note FROM "+t+" ORDER BY id")).To(Equal([][]string{{"1", "uno"}, {"2", "two"}}))

		By("an error in a later statement rolls back the earlier ones: the Query is one implicit transaction")
		msgs = c.Query(ctx, fmt.Sprintf("INSERT INTO %[1]s (id, note) VALUES (3, 'three'); SELECT * FROM %[2]s; INSERT INTO %[1]s (id, note) VALUES (4, 'four')",
			t, harness.UniqueName("no_such_table")))
		Expect(Flow(msgs)).To(Equal([]string{"CommandComplete", "ErrorResponse", "ReadyForQuery"}), "the statements after the error are not run")
		Expect(Codes(msgs)).To(Equal([]string{"42P01"}))
		Expect(Status(msgs)).To(Equal("I"))
		Expect(observed(ctx, obs, "SELECT id, note FROM "+t+" ORDER BY id")).To(Equal([][]string{{"1", "uno"}, {"2", "two"}}),
			"row 3 was inserted in the same Query as the failed statement, so it is rolled back; row 4 never ran")
	}, wireTimeout)

	s.It("answers an empty Query with EmptyQueryResponse and ReadyForQuery, promptly", harness.Reqs("FR-002", "COMPAT"), func(ctx SpecContext) {
		checks(secSimple)
		c := Connect(ctx)
		for _, q := range []string{"", ";", "  "} {
			qctx, cancel := context.WithTimeout(ctx, emptyQueryWithin)
			msgs := c.Query(qctx, q)
			cancel()
			Expect(Flow(msgs)).To(Equal([]string{"EmptyQueryResponse", "ReadyForQuery"}), "Query %q", q)
			Expect(Status(msgs)).To(Equal("I"))
		}
		Expect(Text(c.Query(ctx, "SELECT 1"))).To(Equal([][]string{{"1"}}), "the session goes on")
	}, wireTimeout)

	s.It("writes the exact command tag of each statement", harness.Reqs("FR-002", "COMPAT"), func(ctx SpecContext) {
		checks(secSimple)
		t := harness.UniqueName("wire_tags")
		harness.DropAtEnd(t)
		c := Connect(ctx)
		steps := []struct{ sql, tag string }{
			{fmt.Sprintf("CREATE TABLE %s (%s)", t, harness.Profile().DDL(notesColumns)), "CREATE TABLE"},
			{fmt.Sprintf("INSERT INTO %s (id, note) VALUES (1, 'a')", t), "INSERT 0 1"},
			{fmt.Sprintf("INSERT INTO %s (id, note) VALUES (2, 'b')", t), "INSERT 0 1"},
			{fmt.Sprintf("INSERT INTO %[1]s (id, note) SELECT id + 10, note FROM %[1]s", t), "INSERT 0 2"},
			{fmt.Sprintf("UPDATE %s SET note = 'c'", t), "UPDATE 4"},
			{fmt.Sprintf("SELECT id FROM %s", t), "SELECT 4"},
			{fmt.Sprintf("DELETE FROM %s WHERE id > 10", t), "DELETE 2"},
			{"BEGIN", "BEGIN"},
			{fmt.Sprintf("UPDATE %s SET note = 'd' WHERE id = 1", t), "UPDATE 1"},
			{"COMMIT", "COMMIT"},
			{"BEGIN", "BEGIN"},
			{fmt.Sprintf("DELETE FROM %s", t), "DELETE 2"},
			{"ROLLBACK", "ROLLBACK"},
			{fmt.Sprintf("DROP TABLE %s", t), "DROP TABLE"},
		}
		var got, want []string
		for _, st := range steps {
			msgs := c.Query(ctx, st.sql)
			got = append(got, fmt.Sprintf("%-40.40s → %s", st.sql, strings.Join(append(Tags(msgs), Errors(msgs)...), ", ")))
			want = append(want, fmt.Sprintf("%-40.40s → %s", st.sql, st.tag))
		}
		Expect(got).To(Equal(want), "CommandComplete tags (drivers read rows affected from the last number)")
	}, wireTimeout)

	s.It("returns a row over 1 MB whole, and takes one as Bind parameters", harness.Reqs("FR-002"), func(ctx SpecContext) {
		checks(secExtended)
		obs := harness.Observe(ctx)
		t := harness.NewTable(ctx, obs, "wire_big", "id {bigint}, a {text}, b {text}")
		c := Connect(ctx)
		// Two columns of 600 000 characters: a 1.2 MB row within the
		// column size every profile has ({text} is VARCHAR(1000000) on IRIS).
		a, b := strings.Repeat("0123456789abcdef", 37500), strings.Repeat("fedcba9876543210", 37500)

		msgs := c.Sync(ctx,
			&pgproto3.Parse{Query: fmt.Sprintf("INSERT INTO %s (id, a, b) VALUES ($1, $2, $3)", t)},
			&pgproto3.Bind{Parameters: [][]byte{[]byte("1"), []byte(a), []byte(b)}},
			&pgproto3.Execute{})
		Expect(Tags(msgs)).To(Equal([]string{"INSERT 0 1"}), "a 1.2 MB Bind; errors: %v", Errors(msgs))
		Expect(observed(ctx, obs, fmt.Sprintf("SELECT LENGTH(a), LENGTH(b) FROM %s", t))).To(Equal([][]string{{"600000", "600000"}}))

		msgs = c.Query(ctx, fmt.Sprintf("SELECT id, a, b FROM %s", t))
		rows := Values(msgs)
		Expect(rows).To(HaveLen(1), "one DataRow; errors: %v", Errors(msgs))
		Expect(rows[0]).To(HaveLen(3))
		Expect(rows[0][1]).NotTo(BeNil())
		Expect(rows[0][2]).NotTo(BeNil())
		Expect(len(*rows[0][1])+len(*rows[0][2])).To(Equal(1200000), "the DataRow carries both values whole")
		Expect(*rows[0][1] == a && *rows[0][2] == b).To(BeTrue(), "the values come back byte for byte")
		Expect(Status(msgs)).To(Equal("I"))
	}, wireTimeout)

	s.It("sends a NoticeResponse for DROP TABLE IF EXISTS of a missing table, and completes it", harness.Reqs("FR-009"), func(ctx SpecContext) {
		checks(secAsync)
		c := Connect(ctx)
		missing := harness.UniqueName("no_such_table")
		msgs := c.Query(ctx, "DROP TABLE IF EXISTS "+missing)
		Expect(Flow(msgs)).To(Equal([]string{"CommandComplete", "ReadyForQuery"}), "errors: %v", Errors(msgs))
		Expect(Tags(msgs)).To(Equal([]string{"DROP TABLE"}))
		notices := All[*pgproto3.NoticeResponse](msgs)
		Expect(notices).To(HaveLen(1), "one NoticeResponse saying the table does not exist; got %v", Names(msgs))
		Expect(notices[0].Severity).To(Equal("NOTICE"))
		Expect(notices[0].Code).To(Equal("00000"), "SQLSTATE successful_completion")
		Expect(strings.ToLower(notices[0].Message)).To(ContainSubstring(missing), "the notice names the table")
	}, wireTimeout)
})

var _ = harness.ForTarget("Wire: termination", Label("wire"), func(s *harness.Subject) {
	s.It("closes the connection on Terminate", harness.Reqs("FR-005"), func(ctx SpecContext) {
		checks(secTermination)
		c := Connect(ctx)
		Expect(Text(c.Query(ctx, "SELECT 1"))).To(Equal([][]string{{"1"}}))
		c.Send(ctx, &pgproto3.Terminate{})
		c.ExpectClosed(ctx)
	}, wireTimeout)
})
