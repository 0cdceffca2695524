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

var _ = harness.ForTarget("Wire: transactions", Label("wire"), func(s *harness.Subject) {
	s.It("reports I, T and E in ReadyForQuery and refuses statements in a failed transaction with 25P02", harness.Reqs("FR-006", "FR-009", "COMPAT"), func(ctx SpecContext) {
		checks(secSimple)
		obs := harness.Observe(ctx)
		t := harness.NewTable(ctx, obs, "wire_status", notesColumns)
		c := Connect(ctx)
		missing := harness.UniqueName("no_such_table")

		var got, want []string
		step := func(sql string, msgs []pgproto3.BackendMessage, status, code string) {
			got = append(got, fmt.Sprintf("%-40.40s → %s %s", sql, Status(msgs), strings.Join(Codes(msgs), ",")))
			want = append(want, fmt.Sprintf("%-40.40s → %s %s", sql, status, code))
		}
		for _, st := range []struct{ sql, status, code string }{
			{"SELECT 1", "I", ""},
			{"BEGIN", "T", ""},
			{fmt.Sprintf("INSERT INTO %s (id, note) VALUES (1, 'in tx')", t), "T", ""},
			{"SELECT * FROM " + missing, "E", "42P01"},
			{"SELECT 1", "E", "25P02"},
			{fmt.Sprintf("INSERT INTO %s (id, note) VALUES (2, 'after error')", t), "E", "25P02"},
		} {
			step(st.sql, c.Query(ctx, st.sql), st.status, st.code)
		}
		// The extended protocol in the failed transaction: refused the same way.
		step("(extended) SELECT 1", c.Sync(ctx, &pgproto3.Parse{Query: "SELECT 1"}, &pgproto3.Bind{}, &pgproto3.Execute{}), "E", "25P02")
		step("ROLLBACK", c.Query(ctx, "ROLLBACK"), "I", "")
		Expect(got).To(Equal(want), "ReadyForQuery status and SQLSTATE after each statement (25P02 = in_failed_sql_transaction)")
		Expect(observed(ctx, obs, "SELECT id, note FROM "+t)).To(BeEmpty(), "nothing of the rolled-back transaction is stored")
	}, wireTimeout)

	s.It("answers COMMIT of a failed transaction with the ROLLBACK tag and commits nothing", harness.Reqs("FR-006", "FR-009", "COMPAT"), func(ctx SpecContext) {
		checks(secSimple)
		obs := harness.Observe(ctx)
		t := harness.NewTable(ctx, obs, "wire_commit", notesColumns)
		c := Connect(ctx)

		Expect(Status(c.Query(ctx, "BEGIN"))).To(Equal("T"))
		msgs := c.Query(ctx, fmt.Sprintf("INSERT INTO %s (id, note) VALUES (1, 'doomed')", t))
		Expect(Tags(msgs)).To(Equal([]string{"INSERT 0 1"}), "errors %v", Errors(msgs))
		msgs = c.Query(ctx, "SELECT * FROM "+harness.UniqueName("no_such_table"))
		Expect(Status(msgs)).To(Equal("E"), "the transaction failed")

		msgs = c.Query(ctx, "COMMIT")
		Expect(Flow(msgs)).To(Equal([]string{"CommandComplete", "ReadyForQuery"}), "errors %v", Errors(msgs))
		Expect(Tags(msgs)).To(Equal([]string{"ROLLBACK"}), "COMMIT of a failed transaction rolls it back, and the tag says so")
		Expect(Status(msgs)).To(Equal("I"))
		Expect(observed(ctx, obs, "SELECT id, note FROM "+t)).To(BeEmpty(), "the row inserted before the error is not committed")
	}, wireTimeout)

	// Every PGWire session is its own: one client's open transaction holds
	// no other client's statements. The driver specs that watch one
	// session's transaction from another (visibility, DDL rollback,
	// coexistence) rely on it, and declare it (profile.ConcurrentSessions).
	s.It("answers a second session while the first holds a transaction open", harness.Reqs("FR-006", "FR-008", "COMPAT"), func(ctx SpecContext) {
		checks(secSimple)
		first, second := Connect(ctx), Connect(ctx)
		Expect(Status(first.Query(ctx, "BEGIN"))).To(Equal("T"))
		ended := false
		defer func() { // whatever the verdict, the transaction ends before the connections close
			if !ended {
				_ = first.send(ctx, &pgproto3.Query{String: "ROLLBACK"})
			}
		}()
		Expect(Errors(first.Query(ctx, "SELECT 1"))).To(BeEmpty())

		sctx, cancel := context.WithTimeout(ctx, concurrentBound)
		defer cancel()
		start := time.Now()
		second.Send(sctx, &pgproto3.Query{String: "SELECT 2"})
		var answer []pgproto3.BackendMessage
		for len(answer) == 0 || !is[*pgproto3.ReadyForQuery](answer[len(answer)-1]) {
			m, err := second.receive(sctx)
			Expect(err).NotTo(HaveOccurred(), "the second session got no full answer within %s while the first held a transaction open (after %s; got %v): the server runs one session at a time",
				concurrentBound, time.Since(start).Round(time.Millisecond), Names(answer))
			answer = append(answer, m)
		}
		Expect(Errors(answer)).To(BeEmpty(), "the second session's query")
		Expect(Text(answer)).To(Equal([][]string{{"2"}}), "the second session's own result")
		Expect(Status(answer)).To(Equal("I"), "the second session is not in the first one's transaction")
		ended = true
		Expect(Status(first.Query(ctx, "ROLLBACK"))).To(Equal("I"))
	}, wireTimeout)
})

// concurrentBound is how long a second session may wait for its answer
// while another holds a transaction open: a server answers in
// milliseconds; one that serializes sessions never does until the
// transaction ends.
const concurrentBound = 5 * time.Second
