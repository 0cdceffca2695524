package wire

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/jackc/pgx/v5/pgtype"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/pgwire-conformance/pgwire-conformance/harness"
)

// oidUnknown is what a server that did not infer a parameter's type
// describes it as; pgx then cannot encode a Go integer for it.
const oidUnknown = 705

// Describe of a statement that sleeps describeSleep seconds must answer
// within describeBar: only running the statement takes longer.
const (
	describeSleep = 2
	describeBar   = time.Second
)

// integerOIDs are int2, int4 and int8: a LIMIT or OFFSET parameter is one.
var integerOIDs = []uint32{pgtype.Int2OID, pgtype.Int4OID, pgtype.Int8OID}

var _ = harness.ForTarget("Wire: extended query", Label("wire"), func(s *harness.Subject) {
	s.It("describes untyped parameters with the type their context gives them, not unknown (705)", harness.Reqs("FR-002", "COMPAT"), func(ctx SpecContext) {
		checks(secExtended)
		obs := harness.Observe(ctx)
		t := harness.NewTable(ctx, obs, "wire_params", "id {bigint}, note {text}, n {int}")
		c := Connect(ctx)

		By("the columns' own types, as the server describes them in a RowDescription")
		msgs := c.Sync(ctx, &pgproto3.Parse{Query: fmt.Sprintf("SELECT id, note, n FROM %s", t)}, &pgproto3.Describe{ObjectType: 'S'})
		rd := First[*pgproto3.RowDescription](msgs)
		Expect(rd).NotTo(BeNil(), "Describe of a SELECT answers a RowDescription; got %v, errors %v", Names(msgs), Errors(msgs))
		Expect(rd.Fields).To(HaveLen(3))
		id, note, n := rd.Fields[0].DataTypeOID, rd.Fields[1].DataTypeOID, rd.Fields[2].DataTypeOID
		GinkgoWriter.Printf("column types: id %d, note %d, n %d\n", id, note, n)

		soft := harness.NewSoft()
		for _, tc := range []struct {
			sql   string
			want  []uint32
			flow  string // RowDescription or NoData
			about string
		}{
			{fmt.Sprintf("INSERT INTO %s (id, note, n) VALUES ($1, $2, $3)", t), []uint32{id, note, n}, "NoData", "INSERT … VALUES into typed columns"},
			{fmt.Sprintf("SELECT note FROM %s WHERE id = $1", t), []uint32{id}, "RowDescription", "WHERE col = $1"},
			{fmt.Sprintf("UPDATE %s SET note = $1 WHERE n = $2", t), []uint32{note, n}, "NoData", "UPDATE … SET col = $1 WHERE col = $2"},
		} {
			msgs := c.Sync(ctx, &pgproto3.Parse{Query: tc.sql}, &pgproto3.Describe{ObjectType: 'S'})
			soft.Expect(Flow(msgs)).To(Equal([]string{"ParseComplete", "ParameterDescription", tc.flow, "ReadyForQuery"}), "%s: errors %v", tc.about, Errors(msgs))
			if pd := First[*pgproto3.ParameterDescription](msgs); pd != nil {
				soft.Expect(pd.ParameterOIDs).To(Equal(tc.want), "%s: the parameters take their columns' types (%d = unknown)", tc.about, oidUnknown)
			}
		}
		lim := fmt.Sprintf("SELECT id FROM %s ORDER BY id LIMIT $1 OFFSET $2", t)
		msgs = c.Sync(ctx, &pgproto3.Parse{Query: lim}, &pgproto3.Describe{ObjectType: 'S'})
		soft.Expect(Flow(msgs)).To(Equal([]string{"ParseComplete", "ParameterDescription", "RowDescription", "ReadyForQuery"}),
			"LIMIT $1 OFFSET $2: a SELECT is described with its RowDescription; errors %v", Errors(msgs))
		if pd := First[*pgproto3.ParameterDescription](msgs); pd != nil {
			soft.Expect(pd.ParameterOIDs).To(HaveLen(2), "LIMIT $1 OFFSET $2 has two parameters")
			soft.Expect(pd.ParameterOIDs).To(HaveEach(BeElementOf(integerOIDs)), "LIMIT $1 OFFSET $2: integer parameters (%d = unknown)", oidUnknown)
		}
		soft.Verify()

		By("the described INSERT runs with text parameters")
		msgs = c.Sync(ctx, &pgproto3.Parse{Query: fmt.Sprintf("INSERT INTO %s (id, note, n) VALUES ($1, $2, $3)", t)},
			&pgproto3.Bind{Parameters: [][]byte{[]byte("7"), []byte("seven"), []byte("70")}}, &pgproto3.Execute{})
		Expect(Tags(msgs)).To(Equal([]string{"INSERT 0 1"}), "errors %v", Errors(msgs))
		Expect(observed(ctx, obs, "SELECT id, note, n FROM "+t)).To(Equal([][]string{{"7", "seven", "70"}}))
	}, wireTimeout)

	s.It("returns results in the formats Bind asks for, and text again to the next simple Query", harness.Reqs("FR-002", "COMPAT"), func(ctx SpecContext) {
		checks(secExtended)
		obs := harness.Observe(ctx)
		t := harness.NewTable(ctx, obs, "wire_formats", notesColumns)
		obs.Exec(ctx, fmt.Sprintf("INSERT INTO %s (id, note) VALUES (42, 'forty-two')", t))
		c := Connect(ctx)
		sel := fmt.Sprintf("SELECT id, note FROM %s WHERE id = $1", t)
		int8Bytes := binary.BigEndian.AppendUint64(nil, 42)

		By("a binary parameter, the first column in binary and the second in text")
		msgs := c.Sync(ctx,
			&pgproto3.Parse{Name: "pgwc_fmt", Query: sel, ParameterOIDs: []uint32{pgtype.Int8OID}},
			&pgproto3.Bind{PreparedStatement: "pgwc_fmt", ParameterFormatCodes: []int16{1}, Parameters: [][]byte{int8Bytes}, ResultFormatCodes: []int16{1, 0}},
			&pgproto3.Describe{ObjectType: 'P'},
			&pgproto3.Execute{})
		Expect(Flow(msgs)).To(Equal([]string{"ParseComplete", "BindComplete", "RowDescription", "DataRow", "CommandComplete", "ReadyForQuery"}), "errors %v", Errors(msgs))
		rd := First[*pgproto3.RowDescription](msgs)
		Expect([]int16{rd.Fields[0].Format, rd.Fields[1].Format}).To(Equal([]int16{1, 0}), "Describe of the portal gives the formats Bind asked for")
		row := First[*pgproto3.DataRow](msgs)
		Expect(row.Values).To(Equal([][]byte{int8Bytes, []byte("forty-two")}), "id as an 8-byte big-endian integer, note as text")

		By("one format code for every column: all binary")
		msgs = c.Sync(ctx,
			&pgproto3.Bind{PreparedStatement: "pgwc_fmt", ParameterFormatCodes: []int16{1}, Parameters: [][]byte{int8Bytes}, ResultFormatCodes: []int16{1}},
			&pgproto3.Execute{})
		Expect(Flow(msgs)).To(Equal([]string{"BindComplete", "DataRow", "CommandComplete", "ReadyForQuery"}), "errors %v", Errors(msgs))
		Expect(First[*pgproto3.DataRow](msgs).Values).To(Equal([][]byte{int8Bytes, []byte("forty-two")}), "text's binary form is its bytes")

		By("a simple Query afterwards is answered in text: formats belong to the portal, not the session")
		msgs = c.Query(ctx, fmt.Sprintf("SELECT id, note FROM %s", t))
		rd = First[*pgproto3.RowDescription](msgs)
		Expect(rd).NotTo(BeNil(), "got %v, errors %v", Names(msgs), Errors(msgs))
		Expect([]int16{rd.Fields[0].Format, rd.Fields[1].Format}).To(Equal([]int16{0, 0}), "a simple Query's results are text")
		Expect(Text(msgs)).To(Equal([][]string{{"42", "forty-two"}}))
	}, wireTimeout)

	s.It("suspends a portal at Execute's row limit with PortalSuspended and resumes it", harness.Reqs("FR-002", "FR-012"), func(ctx SpecContext) {
		checks(secExtended)
		obs := harness.Observe(ctx)
		t := harness.NewTable(ctx, obs, "wire_suspend", notesColumns)
		for i := 1; i <= 5; i++ {
			obs.Exec(ctx, fmt.Sprintf("INSERT INTO %s (id, note) VALUES (%d, 'row %d')", t, i, i))
		}
		c := Connect(ctx)
		var ids []string
		rowsOf := func(msgs []pgproto3.BackendMessage) {
			for _, r := range Text(msgs) {
				ids = append(ids, r[0])
			}
		}
		suspended := func(m pgproto3.BackendMessage) bool {
			return is[*pgproto3.PortalSuspended](m) || is[*pgproto3.CommandComplete](m) || is[*pgproto3.ErrorResponse](m)
		}

		c.Send(ctx, &pgproto3.Parse{Query: fmt.Sprintf("SELECT id FROM %s ORDER BY id", t)}, &pgproto3.Bind{},
			&pgproto3.Execute{MaxRows: 2}, &pgproto3.Flush{})
		msgs := c.Until(ctx, "PortalSuspended", suspended)
		Expect(Flow(msgs)).To(Equal([]string{"ParseComplete", "BindComplete", "DataRow", "DataRow", "PortalSuspended"}), "Execute with a limit of 2 rows; errors %v", Errors(msgs))
		rowsOf(msgs)

		c.Send(ctx, &pgproto3.Execute{MaxRows: 2}, &pgproto3.Flush{})
		msgs = c.Until(ctx, "PortalSuspended", suspended)
		Expect(Flow(msgs)).To(Equal([]string{"DataRow", "DataRow", "PortalSuspended"}), "the portal resumes where it stopped")
		rowsOf(msgs)

		msgs = c.Sync(ctx, &pgproto3.Execute{})
		Expect(Flow(msgs)).To(Equal([]string{"DataRow", "CommandComplete", "ReadyForQuery"}), "Execute without a limit runs the portal to its end")
		Expect(Tags(msgs)).To(HaveExactElements(HavePrefix("SELECT ")))
		rowsOf(msgs)
		Expect(ids).To(Equal([]string{"1", "2", "3", "4", "5"}), "every row once, in order")
		Expect(Status(msgs)).To(Equal("I"))
	}, wireTimeout)

	s.It("executes nothing on Describe of a statement or a portal", harness.Reqs("FR-002", "COMPAT"), func(ctx SpecContext) {
		checks(secExtended)
		obs := harness.Observe(ctx)
		t := harness.NewTable(ctx, obs, "wire_describe", notesColumns)
		obs.Exec(ctx, fmt.Sprintf("INSERT INTO %s (id, note) VALUES (5, 'kept')", t))
		c := Connect(ctx)
		kept := [][]string{{"5", "kept"}}
		// Each check is gathered, so a server that runs both kinds of
		// statement to describe them is shown doing both.
		soft := harness.NewSoft()

		msgs := c.Sync(ctx,
			&pgproto3.Parse{Name: "pgwc_ins", Query: fmt.Sprintf("INSERT INTO %s (id, note) VALUES ($1, $2)", t)},
			&pgproto3.Describe{ObjectType: 'S', Name: "pgwc_ins"},
			&pgproto3.Parse{Name: "pgwc_del", Query: fmt.Sprintf("DELETE FROM %s WHERE id = $1", t)},
			&pgproto3.Describe{ObjectType: 'S', Name: "pgwc_del"})
		Expect(Flow(msgs)).To(Equal([]string{"ParseComplete", "ParameterDescription", "NoData", "ParseComplete", "ParameterDescription", "NoData", "ReadyForQuery"}),
			"Describe of a statement: its parameters and NoData; errors %v", Errors(msgs))
		soft.Expect(observed(ctx, obs, "SELECT id, note FROM "+t+" ORDER BY id")).To(Equal(kept),
			"Describe of the statements must run neither (a server that runs them with NULL parameters inserts a row of NULLs)")

		msgs = c.Sync(ctx,
			&pgproto3.Bind{PreparedStatement: "pgwc_ins", Parameters: [][]byte{[]byte("1"), []byte("one")}},
			&pgproto3.Describe{ObjectType: 'P'},
			&pgproto3.Bind{DestinationPortal: "pgwc_p", PreparedStatement: "pgwc_del", Parameters: [][]byte{[]byte("5")}},
			&pgproto3.Describe{ObjectType: 'P', Name: "pgwc_p"})
		Expect(Flow(msgs)).To(Equal([]string{"BindComplete", "NoData", "BindComplete", "NoData", "ReadyForQuery"}), "Describe of a portal; errors %v", Errors(msgs))
		soft.Expect(observed(ctx, obs, "SELECT id, note FROM "+t+" ORDER BY id")).To(Equal(kept),
			"Describe of the bound portals must run neither the INSERT nor the DELETE")

		By("Describe of a SELECT that sleeps answers at once: the statement is not run to find its columns")
		start := time.Now()
		msgs = c.Sync(ctx, &pgproto3.Parse{Query: harness.Profile().Sleep(describeSleep)}, &pgproto3.Describe{ObjectType: 'S'},
			&pgproto3.Bind{}, &pgproto3.Describe{ObjectType: 'P'})
		took := time.Since(start)
		Expect(Flow(msgs)).To(Equal([]string{"ParseComplete", "ParameterDescription", "RowDescription", "BindComplete", "RowDescription", "ReadyForQuery"}),
			"errors %v", Errors(msgs))
		soft.Expect(took).To(BeNumerically("<", describeBar), "Describe of %q took %s: a server that runs the statement to describe it sleeps", harness.Profile().Sleep(describeSleep), took)
		soft.Verify()

		By("the statements run when executed")
		msgs = c.Sync(ctx, &pgproto3.Bind{PreparedStatement: "pgwc_ins", Parameters: [][]byte{[]byte("1"), []byte("one")}}, &pgproto3.Execute{})
		Expect(Tags(msgs)).To(Equal([]string{"INSERT 0 1"}), "errors %v", Errors(msgs))
		Expect(observed(ctx, obs, "SELECT id, note FROM "+t+" ORDER BY id")).To(Equal([][]string{{"1", "one"}, {"5", "kept"}}))
	}, wireTimeout)

	s.It("closes statements and portals: CloseComplete, then 26000 and 34000 on reuse", harness.Reqs("FR-002"), func(ctx SpecContext) {
		checks(secExtended)
		c := Connect(ctx)
		msgs := c.Sync(ctx, &pgproto3.Parse{Name: "pgwc_s", Query: "SELECT 1"})
		Expect(Flow(msgs)).To(Equal([]string{"ParseComplete", "ReadyForQuery"}), "errors %v", Errors(msgs))

		By("a closed portal cannot be executed: 34000 invalid_cursor_name")
		msgs = c.Sync(ctx,
			&pgproto3.Bind{DestinationPortal: "pgwc_p", PreparedStatement: "pgwc_s"},
			&pgproto3.Close{ObjectType: 'P', Name: "pgwc_p"},
			&pgproto3.Execute{Portal: "pgwc_p"})
		Expect(Flow(msgs)).To(Equal([]string{"BindComplete", "CloseComplete", "ErrorResponse", "ReadyForQuery"}))
		Expect(Codes(msgs)).To(Equal([]string{"34000"}), "errors %v", Errors(msgs))
		Expect(Status(msgs)).To(Equal("I"))

		By("a closed statement cannot be bound: 26000 invalid_sql_statement_name")
		msgs = c.Sync(ctx, &pgproto3.Close{ObjectType: 'S', Name: "pgwc_s"})
		Expect(Flow(msgs)).To(Equal([]string{"CloseComplete", "ReadyForQuery"}))
		msgs = c.Sync(ctx, &pgproto3.Bind{PreparedStatement: "pgwc_s"}, &pgproto3.Execute{})
		Expect(Flow(msgs)).To(Equal([]string{"ErrorResponse", "ReadyForQuery"}))
		Expect(Codes(msgs)).To(Equal([]string{"26000"}), "errors %v", Errors(msgs))

		By("closing a name that does not exist is no error")
		msgs = c.Sync(ctx, &pgproto3.Close{ObjectType: 'S', Name: "pgwc_never"}, &pgproto3.Close{ObjectType: 'P', Name: "pgwc_never"})
		Expect(Flow(msgs)).To(Equal([]string{"CloseComplete", "CloseComplete", "ReadyForQuery"}), "errors %v", Errors(msgs))

		By("the name is free again")
		msgs = c.Sync(ctx, &pgproto3.Parse{Name: "pgwc_s", Query: "SELECT 2"}, &pgproto3.Bind{PreparedStatement: "pgwc_s"}, &pgproto3.Execute{})
		Expect(Text(msgs)).To(Equal([][]string{{"2"}}), "errors %v", Errors(msgs))
	}, wireTimeout)

	s.It("skips the rest of a pipeline after an error until Sync, rolls the group back, and recovers", harness.Reqs("FR-002", "FR-009"), func(ctx SpecContext) {
		checks(secPipelining)
		obs := harness.Observe(ctx)
		t := harness.NewTable(ctx, obs, "wire_pipeline", notesColumns)
		c := Connect(ctx)
		missing := harness.UniqueName("no_such_table")

		// Two Sync groups in one write, as a pipelining driver sends them.
		c.Send(ctx,
			&pgproto3.Parse{Query: fmt.Sprintf("INSERT INTO %s (id, note) VALUES (1, 'before')", t)}, &pgproto3.Bind{}, &pgproto3.Execute{},
			&pgproto3.Parse{Query: "SELECT * FROM " + missing}, &pgproto3.Bind{}, &pgproto3.Execute{},
			&pgproto3.Parse{Query: fmt.Sprintf("INSERT INTO %s (id, note) VALUES (2, 'after')", t)}, &pgproto3.Bind{}, &pgproto3.Execute{},
			&pgproto3.Sync{},
			&pgproto3.Parse{Query: "SELECT 1"}, &pgproto3.Bind{}, &pgproto3.Execute{},
			&pgproto3.Sync{})
		first := c.UntilReady(ctx)
		Expect(Flow(first)).To(Equal([]string{"ParseComplete", "BindComplete", "CommandComplete", "ErrorResponse", "ReadyForQuery"}),
			"after the error every message up to Sync is skipped")
		Expect(Codes(first)).To(Equal([]string{"42P01"}))
		Expect(Status(first)).To(Equal("I"), "Sync ends the failed implicit transaction")
		second := c.UntilReady(ctx)
		Expect(Flow(second)).To(Equal([]string{"ParseComplete", "BindComplete", "DataRow", "CommandComplete", "ReadyForQuery"}), "the group after Sync runs")
		Expect(Text(second)).To(Equal([][]string{{"1"}}))
		Expect(observed(ctx, obs, "SELECT id, note FROM "+t)).To(BeEmpty(),
			"the INSERT after the error was skipped, and the one before it was rolled back with its Sync group")
	}, wireTimeout)
})
