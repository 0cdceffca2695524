// Spec sources for report.TestScanSpecSources (testdata: never built).
package specs

import (
	. "github.com/onsi/ginkgo/v2"

	"github.com/pgwire-conformance/pgwire-conformance/adapter"
	h "github.com/pgwire-conformance/pgwire-conformance/harness"
)

const group = "Specs: " + "sample"

const orm = "maps a model"

var _ = h.ForEachAdapter(group, Label("contract"), func(s *h.Subject) {
	s.It("runs SELECT 1", h.Reqs("FR-002", "T005"), func(ctx SpecContext) {})

	s.It(orm, h.Req{"FR-011"}, func(ctx SpecContext) {}, h.Needs{adapter.ORM}, Label("orm"))

	helper(s, 3)

	for _, n := range []string{"a", "b"} {
		s.It("loops "+n, h.Reqs("FR-001"), func(ctx SpecContext) {})
	}
})

func helper(subject *h.Subject, n int) {
	subject.It("comes from a helper", h.Reqs("EC-5", "T031"), func(ctx SpecContext) {}, Label("transactions"))
}
