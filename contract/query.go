package contract

import (
	"fmt"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/pgwire-conformance/pgwire-conformance/adapter"
	"github.com/pgwire-conformance/pgwire-conformance/harness"
)

var _ = harness.ForEachAdapter("Contract: query execution", Label("contract"), func(s *harness.Subject) {
	s.It("runs SELECT 1 and returns 1", harness.Reqs("FR-002", "T005", "T018"), func(ctx SpecContext) {
		e, _ := s.Open(ctx, 1)
		rows, err := e.Query(ctx, "SELECT 1 AS one")
		Expect(err).NotTo(HaveOccurred())
		Expect(rows.Columns()).To(HaveLen(1))
		Expect(rows.Columns()[0].Name).To(Equal("one"))
		all, err := rows.FetchAll(ctx)
		Expect(err).NotTo(HaveOccurred())
		Expect(rows.Close(ctx)).To(Succeed())
		Expect(all).To(Equal([][]any{{int64(1)}}))
	})

	s.It("binds parameters of several types and returns them unchanged", harness.Reqs("FR-002", "T005"), func(ctx SpecContext) {
		p := harness.Profile()
		e, _ := s.Open(ctx, 1)
		text := `it's "quoted" — ünïcödé; DROP TABLE x; --`
		// The casts state each parameter's type (the profile writes them).
		sql := fmt.Sprintf("SELECT %s + %s, %s, %s * 2", p.Cast("$1", "bigint"), p.Cast("$2", "bigint"), p.Cast("$3", "text"), p.Cast("$4", "double"))
		rows, err := e.Query(ctx, sql, int64(40), int64(2), text, 1.25)
		Expect(err).NotTo(HaveOccurred())
		all, err := rows.FetchAll(ctx)
		Expect(err).NotTo(HaveOccurred())
		Expect(rows.Close(ctx)).To(Succeed())
		Expect(all).To(Equal([][]any{{int64(42), text, 2.5}}))
	})

	s.It("runs many queries on one engine without error", harness.Reqs("FR-002", "T018"), func(ctx SpecContext) {
		e, _ := s.Open(ctx, 2)
		sql := "SELECT " + harness.Profile().Cast("$1", "bigint") + " * 3"
		for i := int64(0); i < 50; i++ {
			Expect(adapter.Scalar(ctx, e, sql, i)).To(Equal(i*3), "query %d", i)
		}
	})
})
