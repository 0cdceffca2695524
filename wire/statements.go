package wire

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/jackc/pgx/v5/pgtype"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/pgwire-conformance/pgwire-conformance/harness"
)

// The specs of iris-pgwire's divergences (shared/docs/iris-pgwire.md,
// "Protocol-level behaviour") at message level, where no driver stands
// between the suite and the server.

var _ = harness.ForTarget("Wire: statements", Label("wire"), func(s *harness.Subject) {
	s.It("keeps a string literal holding ';' and SQL as data, in a simple Query, in Parse and as a parameter", harness.Reqs("COMPAT", "FR-002"), func(ctx SpecContext) {
		checks(secSimple + " and " + secExtended)
		obs := harness.Observe(ctx)
		t := harness.NewTable(ctx, obs, "wire_semicolon", notesColumns)
		c := Connect(ctx)
		// Executed as SQL, either would drop the spec's own table.
		v1 := "x; DROP TABLE " + t + "; --"
		v2 := "it's; DROP TABLE " + t + "; --"
		insert := "INSERT INTO " + t + " (id, note) VALUES (%d, %s)"

		var tags []string
		for _, m := range [][]pgproto3.BackendMessage{
			c.Query(ctx, fmt.Sprintf(insert, 1, lit(v1))),
			c.Query(ctx, fmt.Sprintf(insert, 2, lit(v2))),
			c.Sync(ctx, &pgproto3.Parse{Query: fmt.Sprintf(insert, 3, lit(v1))}, &pgproto3.Bind{}, &pgproto3.Execute{}),
			c.Sync(ctx, &pgproto3.Parse{Query: fmt.Sprintf(insert, 4, "$1")}, &pgproto3.Bind{Parameters: [][]byte{[]byte(v2)}}, &pgproto3.Execute{}),
		} {
			tags = append(tags, strings.Join(append(Tags(m), Errors(m)...), ", "))
		}
		Expect(tags).To(Equal([]string{"INSERT 0 1", "INSERT 0 1", "INSERT 0 1", "INSERT 0 1"}),
			"each INSERT is one statement: simple Query with the literal, Parse with the literal, Parse with the value as a parameter")
		Expect(observed(ctx, obs, "SELECT id, note FROM "+t+" ORDER BY id")).To(Equal([][]string{{"1", v1}, {"2", v2}, {"3", v1}, {"4", v2}}),
			"the table still exists and holds each string exactly (a server that splits at ';' inside literals drops it)")
	}, wireTimeout)

	s.It("surfaces the specific SQLSTATE of each error: 42P01, 42601, 23505, through both protocols", harness.Reqs("FR-009", "COMPAT"), func(ctx SpecContext) {
		checks(secSimple + " and " + secExtended)
		obs := harness.Observe(ctx)
		t := harness.NewTable(ctx, obs, "wire_sqlstate", "id {bigint} PRIMARY KEY, note {text}")
		obs.Exec(ctx, fmt.Sprintf("INSERT INTO %s (id, note) VALUES (1, 'first')", t))
		c := Connect(ctx)
		missing := "SELECT * FROM " + harness.UniqueName("no_such_table")
		dup := fmt.Sprintf("INSERT INTO %s (id, note) VALUES (1, 'again')", t)

		var got, want []string
		step := func(what string, msgs []pgproto3.BackendMessage, code string) {
			var errs []string
			for _, e := range All[*pgproto3.ErrorResponse](msgs) {
				errs = append(errs, e.Severity+" "+e.Code)
			}
			got = append(got, what+" → "+strings.Join(errs, ", "))
			want = append(want, what+" → ERROR "+code)
		}
		step("simple: undefined table", c.Query(ctx, missing), "42P01")
		step("simple: syntax error", c.Query(ctx, "SELEC 1"), "42601")
		step("simple: duplicate key", c.Query(ctx, dup), "23505")
		step("extended: undefined table", c.Sync(ctx, &pgproto3.Parse{Query: missing}, &pgproto3.Bind{}, &pgproto3.Execute{}), "42P01")
		step("extended: syntax error", c.Sync(ctx, &pgproto3.Parse{Query: "SELEC 1"}, &pgproto3.Bind{}, &pgproto3.Execute{}), "42601")
		step("extended: duplicate key", c.Sync(ctx, &pgproto3.Parse{Query: dup}, &pgproto3.Bind{}, &pgproto3.Execute{}), "23505")
		Expect(got).To(Equal(want), "one ErrorResponse each, with PostgreSQL's SQLSTATE (not a catch-all such as 42000)")
		Expect(observed(ctx, obs, "SELECT id, note FROM "+t)).To(Equal([][]string{{"1", "first"}}), "the duplicates were not stored")
	}, wireTimeout)

	s.It("honours SET statement_timeout: a long statement ends with 57014", harness.Reqs("FR-009", "COMPAT"), func(ctx SpecContext) {
		checks(secSimple)
		c := Connect(ctx)
		msgs := c.Query(ctx, fmt.Sprintf("SET statement_timeout = '%dms'", statementWait.Milliseconds()))
		Expect(Flow(msgs)).To(Equal([]string{"CommandComplete", "ReadyForQuery"}), "errors %v", Errors(msgs))

		start := time.Now()
		qctx, cancel := context.WithTimeout(ctx, cancelBar)
		defer cancel()
		msgs = c.Query(qctx, harness.Profile().Sleep(3))
		elapsed := time.Since(start)
		Expect(Codes(msgs)).To(Equal([]string{"57014"}), "statement_timeout=%s must end a 3 s sleep with query_canceled; got %v", statementWait, Names(msgs))
		Expect(elapsed).To(BeNumerically("<", 2*time.Second), "the timeout ends the statement well before the sleep would")
		Expect(Status(msgs)).To(Equal("I"))
	}, wireTimeout)

	s.It("returns the rows of INSERT … RETURNING, in a simple Query and through Execute", harness.Reqs("COMPAT", "FR-002"), func(ctx SpecContext) {
		checks(secSimple + " and " + secExtended)
		obs := harness.Observe(ctx)
		t := harness.NewTable(ctx, obs, "wire_returning", "id {identity} PRIMARY KEY, note {text}")
		c := Connect(ctx)

		msgs := c.Query(ctx, fmt.Sprintf("INSERT INTO %s (note) VALUES ('simple') RETURNING id, note", t))
		Expect(Flow(msgs)).To(Equal([]string{"RowDescription", "DataRow", "CommandComplete", "ReadyForQuery"}), "errors %v", Errors(msgs))
		Expect(Tags(msgs)).To(Equal([]string{"INSERT 0 1"}))
		first := Text(msgs)

		msgs = c.Sync(ctx, &pgproto3.Parse{Query: fmt.Sprintf("INSERT INTO %s (note) VALUES ($1) RETURNING id, note", t)},
			&pgproto3.Bind{Parameters: [][]byte{[]byte("extended")}}, &pgproto3.Describe{ObjectType: 'P'}, &pgproto3.Execute{})
		Expect(Flow(msgs)).To(Equal([]string{"ParseComplete", "BindComplete", "RowDescription", "DataRow", "CommandComplete", "ReadyForQuery"}), "errors %v", Errors(msgs))
		Expect(Tags(msgs)).To(Equal([]string{"INSERT 0 1"}))
		second := Text(msgs)

		Expect(append(first, second...)).To(Equal(observed(ctx, obs, "SELECT id, note FROM "+t+" ORDER BY id")),
			"RETURNING gives each inserted row as the server stored it")
	}, wireTimeout)

	s.It("types NUMERIC results as numeric (OID 1700), exact", harness.Reqs("COMPAT", "FR-002"), func(ctx SpecContext) {
		checks(secSimple + " and " + secExtended)
		obs := harness.Observe(ctx)
		t := harness.NewTable(ctx, obs, "wire_numeric", "id {bigint}, v {numeric}")
		const value = "12345678901234567890.123456789" // beyond float8's 15-17 digits
		obs.Exec(ctx, fmt.Sprintf("INSERT INTO %s (id, v) VALUES (1, %s)", t, value))
		c := Connect(ctx)

		msgs := c.Query(ctx, fmt.Sprintf("SELECT v, v * 2 FROM %s", t))
		rd := First[*pgproto3.RowDescription](msgs)
		Expect(rd).NotTo(BeNil(), "got %v, errors %v", Names(msgs), Errors(msgs))
		Expect([]uint32{rd.Fields[0].DataTypeOID, rd.Fields[1].DataTypeOID}).To(Equal([]uint32{pgtype.NumericOID, pgtype.NumericOID}),
			"a numeric column and an expression of it are numeric (1700), not float8 (701)")
		rows := Text(msgs)
		Expect(rows).To(HaveLen(1))
		Expect([]string{exact(rows[0][0]), exact(rows[0][1])}).To(Equal([]string{exact(value), exact("24691357802469135780.246913578")}),
			"every digit kept: %v", rows[0])

		msgs = c.Sync(ctx, &pgproto3.Parse{Query: fmt.Sprintf("SELECT v FROM %s WHERE id = $1", t)}, &pgproto3.Describe{ObjectType: 'S'})
		rd = First[*pgproto3.RowDescription](msgs)
		Expect(rd).NotTo(BeNil(), "got %v, errors %v", Names(msgs), Errors(msgs))
		Expect(rd.Fields[0].DataTypeOID).To(Equal(uint32(pgtype.NumericOID)), "Describe of the statement types the column numeric too")
	}, wireTimeout)
})
