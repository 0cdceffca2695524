package iris_features

import (
	"fmt"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/pgwire-conformance/pgwire-conformance/harness"
	"github.com/pgwire-conformance/pgwire-conformance/profile"
)

var _ = harness.ForEachAdapter("IRIS features: INFORMATION_SCHEMA", Label("metadata"), func(s *harness.Subject) {
	s.It("lists the suite's table in INFORMATION_SCHEMA.TABLES", harness.Reqs("FR-004", "T026", "T028"), func(ctx SpecContext) {
		p := harness.Profile()
		obs := harness.Observe(ctx)
		table := harness.NewTable(ctx, obs, "meta_tables", "id {bigint} PRIMARY KEY, name VARCHAR(64)")
		other := harness.NewTable(ctx, obs, "meta_tables", "id {bigint} PRIMARY KEY")
		e, _ := s.Open(ctx, 1)

		got := queryAll(ctx, e, "SELECT table_name, table_type FROM information_schema.tables WHERE table_schema = $1", p.Schema)
		// Names compare as identifiers: a server may return them upper case.
		types := map[string][]any{}
		for i, r := range got {
			Expect(r).To(HaveLen(2))
			name, ok := r[0].(string)
			Expect(ok).To(BeTrue(), "row %d: table_name is %s, want a string", i, show(r[0]))
			for _, t := range []string{table, other} {
				if profile.SameIdentifier(name, t) {
					types[t] = append(types[t], r[1])
				}
			}
		}
		for _, t := range []string{table, other} {
			Expect(types[t]).To(HaveLen(1), "INFORMATION_SCHEMA.TABLES in schema %s lists the table the observer created, once (%d tables listed)", p.Schema, len(got))
			Expect(types[t][0]).To(Equal("BASE TABLE"), "table_type of %s", t)
		}
	}, SpecTimeout(60*time.Second))

	s.It("lists the table's columns and their types in INFORMATION_SCHEMA.COLUMNS", harness.Reqs("FR-004", "T026", "T028"), func(ctx SpecContext) {
		p := harness.Profile()
		obs := harness.Observe(ctx)
		table := harness.NewTable(ctx, obs, "meta_columns",
			fmt.Sprintf("id {bigint} PRIMARY KEY, name VARCHAR(64) NOT NULL, score {double}, embedding %s", p.VectorType(3)))
		e, _ := s.Open(ctx, 1)

		got := queryAll(ctx, e, "SELECT column_name, data_type, ordinal_position FROM information_schema.columns "+
			"WHERE table_schema = $1 AND lower(table_name) = $2 ORDER BY ordinal_position", p.Schema, table)
		// Each column's type, as the servers name them: bigint, character
		// varying / varchar, double precision / double, and the vector type
		// (USER-DEFINED on PostgreSQL, whose udt_name is vector).
		want := []struct {
			name  string
			types []string
		}{
			{"id", []string{"bigint"}},
			{"name", []string{"character varying", "varchar"}},
			{"score", []string{"double precision", "double"}},
			{"embedding", []string{"user-defined", "vector"}},
		}
		Expect(got).To(HaveLen(len(want)), "columns of %s: %v", table, got)
		for i, w := range want {
			name, ok := got[i][0].(string)
			Expect(ok).To(BeTrue(), "column_name is %s, want a string", show(got[i][0]))
			Expect(profile.SameIdentifier(name, w.name)).To(BeTrue(), "column %d is %s, want %s", i+1, name, w.name)
			typ, ok := got[i][1].(string)
			Expect(ok).To(BeTrue(), "data_type is %s, want a string", show(got[i][1]))
			Expect(strings.ToLower(typ)).To(BeElementOf(w.types), "data_type of column %s", w.name)
			Expect(got[i][2]).To(BeEquivalentTo(i+1), "ordinal_position of column %s", w.name)
		}
	}, SpecTimeout(60*time.Second))
})
