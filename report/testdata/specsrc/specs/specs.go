// Spec sources for report.TestSpecCallSites (testdata: never built).
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

	helper(s, h.Reqs("EC-5", "T031"))

	for _, n := range []string{"a", "b"} {
		s.It("loops "+n, h.Reqs("FR-001"), func(ctx SpecContext) {})
	}
})

func helper(subject *h.Subject, req h.Req) {
	subject.It("comes from a helper", req, func(ctx SpecContext) {}, Label("transactions"))
	It("is not a spec of the harness", func() {})
	subject.It("concatenated "+
		"text", h.Reqs("EC-5"), func(ctx SpecContext) {})
}
