package compat

import (
	"context"
	"fmt"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/pgwire-conformance/pgwire-conformance/adapter"
	"github.com/pgwire-conformance/pgwire-conformance/harness"
	"github.com/pgwire-conformance/pgwire-conformance/profile"
)

var _ = harness.ForEachAdapter("Compat: statements", Label("compat"), func(s *harness.Subject) {
	s.It("honours LIMIT with OFFSET: rows 3-5 of an ordered set", harness.Reqs("COMPAT", "FR-012"), func(ctx SpecContext) {
		obs := harness.Observe(ctx)
		table := tenRows(ctx, obs, "sql_offset")
		e, _ := s.Open(ctx, 1)

		Expect(adapter.QueryAll(ctx, e, fmt.Sprintf("SELECT id, note FROM %s ORDER BY id LIMIT 3 OFFSET 2", table))).
			To(Equal([][]any{{int64(3), "row 3"}, {int64(4), "row 4"}, {int64(5), "row 5"}}),
				"LIMIT 3 OFFSET 2 must skip two rows (a server that drops OFFSET returns rows 1-3)")
		Expect(adapter.QueryAll(ctx, e, fmt.Sprintf("SELECT id FROM %s ORDER BY id LIMIT $1 OFFSET $2", table), int64(3), int64(2))).
			To(Equal([][]any{{int64(3)}, {int64(4)}, {int64(5)}}), "LIMIT and OFFSET as parameters")
		Expect(adapter.QueryAll(ctx, e, fmt.Sprintf("SELECT id FROM %s ORDER BY id OFFSET 8", table))).
			To(Equal([][]any{{int64(9)}, {int64(10)}}), "OFFSET without LIMIT")
		Expect(adapter.QueryAll(ctx, e, fmt.Sprintf("SELECT id FROM %s ORDER BY id DESC LIMIT 2 OFFSET 1", table))).
			To(Equal([][]any{{int64(9)}, {int64(8)}}), "LIMIT with OFFSET on a descending order")
	})

	s.It("inserts several rows with one multi-row VALUES statement", harness.Reqs("COMPAT", "FR-002", "T005"), func(ctx SpecContext) {
		obs := harness.Observe(ctx)
		table := harness.NewTable(ctx, obs, "sql_values", notesColumns)
		e, _ := s.Open(ctx, 1)

		harness.Write(ctx, e, 3, fmt.Sprintf("INSERT INTO %s (id, note) VALUES ($1, $2), ($3, $4), ($5, $6)", table),
			int64(1), "one", int64(2), "two", int64(3), "three")
		harness.Write(ctx, e, 2, fmt.Sprintf("INSERT INTO %s (id, note) VALUES (4, 'four'), (5, 'five')", table))

		Expect(obs.Count(ctx, table)).To(Equal(int64(5)), "the observer counts every row of both statements")
		Expect(obs.Notes(ctx, table)).To(Equal(map[int64]string{1: "one", 2: "two", 3: "three", 4: "four", 5: "five"}),
			"each row holds its own values")
	})

	s.It("returns the generated ids from INSERT … RETURNING", harness.Reqs("COMPAT", "FR-002", "FR-012", "T005"), func(ctx SpecContext) {
		obs := harness.Observe(ctx)
		table := harness.NewTable(ctx, obs, "sql_returning", "id {identity} PRIMARY KEY, note {text} NOT NULL")
		e, _ := s.Open(ctx, 1)

		notes := []string{"first", "second", "third"}
		ids := make([]int64, 0, len(notes))
		for _, note := range notes {
			rows, err := e.Query(ctx, fmt.Sprintf("INSERT INTO %s (note) VALUES ($1) RETURNING id, note", table), note)
			Expect(err).NotTo(HaveOccurred())
			Expect(rows.Columns()).To(HaveLen(2), "RETURNING id, note gives two columns")
			Expect(profile.SameIdentifier(rows.Columns()[0].Name, "id")).To(BeTrue(), "the first column is id, not %q", rows.Columns()[0].Name)
			all, err := rows.FetchAll(ctx)
			Expect(err).NotTo(HaveOccurred())
			Expect(rows.Close(ctx)).To(Succeed())
			Expect(all).To(HaveLen(1), "RETURNING gives one row per inserted row")
			Expect(all[0]).To(HaveLen(2))
			Expect(all[0][0]).To(BeAssignableToTypeOf(int64(0)), "the generated id is an integer")
			Expect(all[0][1]).To(Equal(note), "RETURNING gives the inserted row's own values")
			ids = append(ids, all[0][0].(int64))
		}
		GinkgoWriter.Printf("generated ids: %v\n", ids)
		Expect(ids[0]).To(BeNumerically("<", ids[1]), "ids are generated in increasing order")
		Expect(ids[1]).To(BeNumerically("<", ids[2]), "ids are generated in increasing order")

		want := map[int64]string{}
		for i, id := range ids {
			want[id] = notes[i]
		}
		Expect(obs.Notes(ctx, table)).To(Equal(want), "the returned ids are those the server stored with each row")
	})
})

// notesColumns is an (id, note) table, as obs.Notes reads it.
const notesColumns = "id {bigint} PRIMARY KEY, note {text} NOT NULL"

// tenRows creates a spec-owned (id, note) table holding rows 1…10
// ("row 1" …), inserted one by one so that no dialect feature is assumed.
func tenRows(ctx context.Context, obs *harness.Observer, prefix string) string {
	GinkgoHelper()
	table := harness.NewTable(ctx, obs, prefix, notesColumns)
	// Inserted in a scrambled order, so that a server returning rows in
	// insertion order instead of honouring ORDER BY is caught too.
	for _, i := range []int64{7, 2, 10, 5, 1, 9, 3, 8, 6, 4} {
		obs.Exec(ctx, fmt.Sprintf("INSERT INTO %s (id, note) VALUES ($1, $2)", table), i, fmt.Sprintf("row %d", i))
	}
	return table
}
