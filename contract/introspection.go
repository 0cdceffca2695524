package contract

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/pgwire-conformance/pgwire-conformance/adapter"
	"github.com/pgwire-conformance/pgwire-conformance/harness"
)

var _ = harness.ForEachAdapter("Contract: async resolution and introspection", Label("contract"), func(s *harness.Subject) {
	s.It("reports the pool and connection classes it runs on, consistent with its declared mode", harness.Reqs("FR-005", "FR-008", "T003", "T013", "T014"), func(ctx SpecContext) {
		e, _ := s.Open(ctx, 2)
		in, err := e.Introspect(ctx)
		Expect(err).NotTo(HaveOccurred())
		Expect(in.PoolClass).NotTo(BeEmpty(), "pool class")
		Expect(in.ConnectionClass).NotTo(BeEmpty(), "connection class")
		Expect(in.IsAsync).To(Equal(s.Info.Async), "introspected is_async must match the adapter's declared async=%v", s.Info.Async)
	}, harness.Needs{adapter.Introspects})

	s.It("resolves the target URL to the async dialect variant", harness.Reqs("FR-003", "FR-001", "T004", "T010", "T011", "T012"), func(ctx SpecContext) {
		e, _ := s.Open(ctx, 1)
		in, err := e.Introspect(ctx)
		Expect(err).NotTo(HaveOccurred())
		Expect(in.Dialect).NotTo(BeEmpty(), "dialect class")
		Expect(in.IsAsync).To(BeTrue(), "dialect %s must be the async variant", in.Dialect)
	}, harness.Needs{adapter.Dialect, adapter.Async})
})
