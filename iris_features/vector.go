package iris_features

import (
	"fmt"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/pgwire-conformance/pgwire-conformance/fixtures"
	"github.com/pgwire-conformance/pgwire-conformance/harness"
	"github.com/pgwire-conformance/pgwire-conformance/profile"
)

// vectorTimeout bounds each vector spec; each needs well under a second.
const vectorTimeout = SpecTimeout(60 * time.Second)

// Sizes of the nearest-neighbour data: the seed's 128 dimensions and top 5.
const (
	searchRows = 200
	searchDim  = 128
	searchK    = 5
	// scoreTol is how far a server's similarity may stray from the float64
	// ground truth: servers accumulate float32 products (errors near 1e-6).
	scoreTol = 1e-5
)

var _ = harness.ForEachAdapter("IRIS features: vectors", Label("vector"), func(s *harness.Subject) {
	s.It("stores vectors inserted with parameters exactly as sent", harness.Reqs("FR-004", "EC-3", "T025", "T028"), func(ctx SpecContext) {
		p := harness.Profile()
		obs := harness.Observe(ctx)
		table := harness.NewTable(ctx, obs, "vec_insert", fmt.Sprintf("id {bigint} PRIMARY KEY, small %s, large %s", p.VectorType(3), p.VectorType(searchDim)))
		e, _ := s.Open(ctx, 1)

		// Hand-picked 3-d values (fractions without an exact binary form,
		// negatives, tiny and large magnitudes) next to seeded ones.
		small := append([][]float32{{0.1, 0.2, 0.3}, {-0.5, 0.25, 1e-3}, {123.5, -7, 0}, {1, 0, 0}, {3.14159, -2.71828, 1.41421}},
			fixtures.Vectors(fixtures.DefaultSeed, 15, 3)...)
		large := fixtures.Vectors(fixtures.DefaultSeed+1, len(small), searchDim)
		insert := fmt.Sprintf("INSERT INTO %s (id, small, large) VALUES ($1, %s, %s)", table, p.VectorParam(2), p.VectorParam(3))
		for i := range small {
			harness.Write(ctx, e, 1, insert, int64(i+1), profile.VectorLiteral(small[i]), profile.VectorLiteral(large[i]))
		}

		got := observedVectors(ctx, obs, table, "small", "large")
		Expect(got).To(HaveLen(len(small)), "rows the observer sees")
		for i := range small {
			id := int64(i + 1)
			Expect(got).To(HaveKey(id))
			Expect(fixtures.SameVector(got[id][0], small[i], 0)).To(Succeed(), "row %d, %s vector as the observer reads it", id, p.VectorType(3))
			Expect(fixtures.SameVector(got[id][1], large[i], 0)).To(Succeed(), "row %d, %s vector as the observer reads it", id, p.VectorType(searchDim))
		}
	}, vectorTimeout)

	s.It("reads vectors back in their text form", harness.Reqs("FR-004", "EC-3", "T025", "T028"), func(ctx SpecContext) {
		rows, table, e := seeded(ctx, s, "vec_read", 10)

		got := queryAll(ctx, e, fmt.Sprintf("SELECT id, embedding FROM %s ORDER BY id", table))
		Expect(got).To(HaveLen(len(rows)))
		for i, r := range got {
			Expect(r[0]).To(Equal(rows[i].ID), "id of row %d", i)
			v, err := asVector(r[1])
			Expect(err).NotTo(HaveOccurred(), "row %d", rows[i].ID)
			Expect(fixtures.SameVector(v, rows[i].Embedding, 0)).To(Succeed(), "row %d's vector read through the adapter", rows[i].ID)
		}
	}, vectorTimeout)

	s.It("gives cosine similarity 1.0 for a vector with itself", harness.Reqs("FR-004", "EC-3", "T025", "T028"), func(ctx SpecContext) {
		p := harness.Profile()
		rows, table, e := seeded(ctx, s, "vec_cosine", 5)

		q := fixtures.Query(searchDim)
		sql := fmt.Sprintf("SELECT %s, %s FROM %s WHERE id = $3",
			p.CosineSimilarity("embedding", p.VectorParam(1)), p.CosineSimilarity("embedding", p.VectorParam(2)), table)
		for _, r := range rows {
			got := queryAll(ctx, e, sql, profile.VectorLiteral(r.Embedding), profile.VectorLiteral(q), r.ID)
			Expect(got).To(HaveLen(1), "row %d", r.ID)
			self, err := fixtures.Float(got[0][0])
			Expect(err).NotTo(HaveOccurred())
			Expect(self).To(BeNumerically("~", 1.0, 1e-6), "row %d: cosine similarity with itself", r.ID)
			// And with another vector, so a constant answer cannot pass.
			other, err := fixtures.Float(got[0][1])
			Expect(err).NotTo(HaveOccurred())
			Expect(other).To(BeNumerically("~", fixtures.Cosine(r.Embedding, q), scoreTol), "row %d: cosine similarity with the query", r.ID)
		}
	}, vectorTimeout)

	s.It("returns the top 5 nearest rows by cosine similarity, as computed in Go", harness.Reqs("FR-004", "EC-3", "T009", "T025", "T028"), func(ctx SpecContext) {
		p := harness.Profile()
		rows, table, e := seeded(ctx, s, "vec_topk", searchRows)
		q := fixtures.Query(searchDim)
		want := fixtures.TopK(rows, q, searchK)

		got := queryAll(ctx, e, fixtures.SearchSQL(p, table, searchK), profile.VectorLiteral(q))
		Expect(got).To(HaveLen(searchK), "rows of a top-%d search over %d", searchK, searchRows)
		expectHits(hitsOf(got), want, scoreTol)
	}, vectorTimeout)

	s.It("orders by the <=> cosine distance operator nearest first", harness.Reqs("FR-004", "EC-3", "T009", "T025", "T028"), func(ctx SpecContext) {
		p := harness.Profile()
		rows, table, e := seeded(ctx, s, "vec_op", searchRows)
		q := fixtures.Query(searchDim)
		want := fixtures.TopK(rows, q, searchK)

		got := queryAll(ctx, e, fmt.Sprintf("SELECT id FROM %s ORDER BY embedding <=> %s LIMIT %d", table, p.VectorParam(1), searchK), profile.VectorLiteral(q))
		ids := make([]any, len(got))
		for i, r := range got {
			ids[i] = r[0]
		}
		wantIDs := make([]any, len(want))
		for i, h := range want {
			wantIDs[i] = h.ID
		}
		Expect(ids).To(Equal(wantIDs), "ORDER BY distance ascending puts the most similar rows first (ground truth %v)", want)
	}, vectorTimeout, harness.NeedsFeature{profile.VectorOperators})
})
