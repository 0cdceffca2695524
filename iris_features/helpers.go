package iris_features

import (
	"context"
	"fmt"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/pgwire-conformance/pgwire-conformance/adapter"
	"github.com/pgwire-conformance/pgwire-conformance/fixtures"
	"github.com/pgwire-conformance/pgwire-conformance/harness"
)

// queryAll runs sql through q (the adapter under test) and returns every row.
func queryAll(ctx context.Context, q adapter.Querier, sql string, args ...any) [][]any {
	GinkgoHelper()
	rows, err := q.Query(ctx, sql, args...)
	Expect(err).NotTo(HaveOccurred(), "adapter: %s", sql)
	all, err := rows.FetchAll(ctx)
	Expect(err).NotTo(HaveOccurred(), "adapter: fetch %s", sql)
	Expect(rows.Close(ctx)).To(Succeed(), "adapter: close cursor of %s", sql)
	return all
}

// seeded creates a vector table of n seeded rows (fixtures.Rows, dimension
// searchDim) through the observer and opens the adapter's engine with one
// connection.
func seeded(ctx context.Context, s *harness.Subject, prefix string, n int) ([]fixtures.Row, string, adapter.Engine) {
	GinkgoHelper()
	p := harness.Profile()
	obs := harness.Observe(ctx)
	rows := fixtures.Rows(n, searchDim)
	table := harness.NewTable(ctx, obs, prefix, fixtures.VectorTableDDL(p, searchDim))
	if err := fixtures.Seed(ctx, obs, p, table, rows); err != nil {
		harness.HarnessFail("observer could not seed %s: %v", table, err)
	}
	e, _ := s.Open(ctx, 1)
	return rows, table, e
}

// observedVectors reads every (id, vector columns...) row of table through
// the observer, parsing each vector's text form.
func observedVectors(ctx context.Context, obs *harness.Observer, table string, cols ...string) map[int64][][]float32 {
	GinkgoHelper()
	sql := "SELECT id"
	for _, c := range cols {
		sql += ", " + c
	}
	sql += " FROM " + table + " ORDER BY id"
	out := map[int64][][]float32{}
	for _, r := range obs.Rows(ctx, sql) {
		Expect(r).To(HaveLen(len(cols)+1), "observer: %s", sql)
		Expect(r[0]).NotTo(BeNil(), "observer: a row of %s has a NULL id", table)
		id, err := harness.ParseInt(*r[0])
		Expect(err).NotTo(HaveOccurred(), "observer: id in %s", table)
		for i, t := range r[1:] {
			Expect(t).NotTo(BeNil(), "observer: row %d column %s is NULL", id, cols[i])
			v, err := fixtures.ParseVector(*t)
			Expect(err).NotTo(HaveOccurred(), "observer: row %d column %s", id, cols[i])
			out[id] = append(out[id], v)
		}
	}
	return out
}

// asVector reads a vector value the adapter returned: its text form, as a
// string (the adapter contract's form for types without a Go counterpart).
func asVector(v any) ([]float32, error) {
	s, ok := v.(string)
	if !ok {
		return nil, fmt.Errorf("adapter returned a vector as %s, want its text form as a string", show(v))
	}
	return fixtures.ParseVector(s)
}

// show renders a value with its Go type for failure messages, bytes as
// text, cut at 80 characters.
func show(v any) string {
	s := fmt.Sprintf("%v", v)
	if b, ok := v.([]byte); ok {
		s = fmt.Sprintf("%q", b)
	}
	if len(s) > 80 {
		s = s[:80] + "…"
	}
	return fmt.Sprintf("%T %s", v, s)
}

// hitsOf turns (id, score) rows the adapter returned into hits.
func hitsOf(rows [][]any) []fixtures.Hit {
	GinkgoHelper()
	out := make([]fixtures.Hit, len(rows))
	for i, r := range rows {
		Expect(r).To(HaveLen(2), "row %d of the search", i)
		id, ok := r[0].(int64)
		Expect(ok).To(BeTrue(), "row %d: id is %s, want int64 for a BIGINT column", i, show(r[0]))
		score, err := fixtures.Float(r[1])
		Expect(err).NotTo(HaveOccurred(), "row %d: score", i)
		out[i] = fixtures.Hit{ID: id, Score: score}
	}
	return out
}

// expectHits compares a server's ranking with the ground truth: ids exactly,
// in order; scores within tol.
func expectHits(got, want []fixtures.Hit, tol float64) {
	GinkgoHelper()
	Expect(fixtures.IDs(got)).To(Equal(fixtures.IDs(want)), "nearest ids, most similar first (ground truth scores %v)", want)
	for i := range want {
		Expect(got[i].Score).To(BeNumerically("~", want[i].Score, tol), "score of rank %d (id %d)", i+1, want[i].ID)
	}
}
