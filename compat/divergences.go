package compat

import (
	"fmt"
	"math/big"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/pgwire-conformance/pgwire-conformance/adapter"
	"github.com/pgwire-conformance/pgwire-conformance/harness"
)

// iris-pgwire's divergences as a driver meets them (shared/docs/iris-pgwire.md,
// "Protocol-level behaviour"); the same divergences at message level are in
// package wire.

var _ = harness.ForEachAdapter("Compat: SQL text and result types", Label("compat"), func(s *harness.Subject) {
	s.It("keeps a string literal holding ';' and SQL as data, as a parameter and as a literal", harness.Reqs("COMPAT", "FR-002", "T005"), func(ctx SpecContext) {
		obs := harness.Observe(ctx)
		table := harness.NewTable(ctx, obs, "div_semicolon", "id {bigint}, note {text}")
		e, _ := s.Open(ctx, 1)
		// Run as SQL, either string drops the spec's own table: a server (or
		// a driver interpolating parameters) that splits statements at every
		// ';', even inside a literal, executes the DROP.
		v1 := "x; DROP TABLE " + table + "; --"
		v2 := "it's; DROP TABLE " + table + "; --"
		lit, err := harness.Profile().Literal(v2)
		Expect(err).NotTo(HaveOccurred())

		harness.Write(ctx, e, 1, fmt.Sprintf("INSERT INTO %s (id, note) VALUES ($1, $2)", table), int64(1), v1)
		harness.Write(ctx, e, 1, fmt.Sprintf("INSERT INTO %s (id, note) VALUES (2, %s)", table, lit))
		Expect(adapter.QueryAll(ctx, e, "SELECT "+lit)).To(Equal([][]any{{v2}}), "a SELECT of the literal returns it unchanged")

		rows, err := obs.TryRows(ctx, fmt.Sprintf("SELECT id, note FROM %s ORDER BY id", table))
		Expect(err).NotTo(HaveOccurred(), "the observer reads the table: it must still exist")
		var got [][]string
		for _, r := range rows {
			got = append(got, []string{observedText(r[0]), observedText(r[1])})
		}
		Expect(got).To(Equal([][]string{{"1", v1}, {"2", v2}}), "each string stored exactly, as data")
	})

	s.It("runs PostgreSQL casts with and without spaces around the cast operator, and CAST … AS BIGINT", harness.Reqs("COMPAT", "FR-002", "T005"), func(ctx SpecContext) {
		e, _ := s.Open(ctx, 1)
		soft := harness.NewSoft()
		// The :: forms are PostgreSQL casts as drivers and ORMs write them,
		// which iris-pgwire translates to CAST(x AS T): sent on every profile
		// on purpose, this spec checks that translation, spaces included.
		// BIGINT is a type name IRIS has too.
		// pgwc:postgres-only syntax (see above: it is what is under test)
		for _, cast := range []string{"'7'::bigint", "'7' ::bigint", "'7' :: bigint", "CAST('7' AS BIGINT)"} {
			v, err := adapter.Scalar(ctx, e, "SELECT "+cast)
			soft.Expect(err).NotTo(HaveOccurred(), "SELECT %s", cast)
			soft.Expect(v).To(Equal(int64(7)), "SELECT %s returns the integer 7", cast)
		}
		soft.Verify()
	})

	s.It("returns NUMERIC results typed numeric and exact", harness.Reqs("COMPAT", "FR-002", "T005"), func(ctx SpecContext) {
		obs := harness.Observe(ctx)
		table := harness.NewTable(ctx, obs, "div_numeric", "id {bigint}, v {numeric}")
		const value = "12345678901234567890.123456789" // beyond float8's 15-17 digits
		obs.Exec(ctx, fmt.Sprintf("INSERT INTO %s (id, v) VALUES (1, %s)", table, value))
		e, _ := s.Open(ctx, 1)

		rows, err := e.Query(ctx, fmt.Sprintf("SELECT v FROM %s WHERE id = 1", table))
		Expect(err).NotTo(HaveOccurred())
		all, err := rows.FetchAll(ctx)
		Expect(err).NotTo(HaveOccurred())
		cols := rows.Columns()
		Expect(rows.Close(ctx)).To(Succeed())
		Expect(cols).To(HaveLen(1))
		Expect(strings.ToLower(cols[0].Type)).To(Equal("numeric"), "the column's server type (a server that sends NUMERIC as float8 loses digits)")
		Expect(all).To(HaveLen(1))
		Expect(all[0][0]).NotTo(BeAssignableToTypeOf(float64(0)), "a numeric comes back as exact decimal text, not a float: %#v", all[0][0])
		Expect(exactDecimal(all[0][0])).To(Equal(exactDecimal(value)), "every digit kept: %#v", all[0][0])
	})
})

// exactDecimal is the exact value of decimal text (a string, or the bytes
// some database/sql drivers give), or why it is none.
func exactDecimal(v any) string {
	var s string
	switch x := v.(type) {
	case string:
		s = x
	case []byte:
		s = string(x)
	default:
		return fmt.Sprintf("not decimal text: %#v (%T)", v, v)
	}
	r, ok := new(big.Rat).SetString(strings.TrimSpace(s))
	if !ok {
		return fmt.Sprintf("not a decimal: %q", s)
	}
	return r.RatString()
}

// observedText is an observed value as text, "NULL" for NULL.
func observedText(p *string) string {
	if p == nil {
		return "NULL"
	}
	return *p
}
