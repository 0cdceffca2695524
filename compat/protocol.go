package compat

import (
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/pgwire-conformance/pgwire-conformance/harness"
	"github.com/pgwire-conformance/pgwire-conformance/profile"
)

var _ = harness.ForEachAdapter("Compat: query protocol", Label("compat"), func(s *harness.Subject) {
	// The protocol:simple / protocol:extended labels are only worth having
	// if they are true. PostgreSQL's current_query() is the statement text
	// as the server received it: on the extended protocol the parameter
	// stays a placeholder ($1) bound separately; on the simple protocol the
	// driver has written the value into the text.
	s.It("runs a parameterised statement on the protocol it declares", harness.Reqs("COMPAT", "FR-002", "T005"), func(ctx SpecContext) {
		if s.Info.Protocol == "" {
			Skip(harness.NotApplicable + "adapter " + s.Info.Name + " declares no query protocol")
		}
		if p := harness.Profile(); p.Name != profile.Postgres.Name {
			Skip(harness.NotApplicable + "profile " + p.Name + " has no current_query()")
		}
		e, _ := s.Open(ctx, 1)
		const marker = 987654321
		rows, err := e.Query(ctx, "SELECT current_query(), $1::int8", int64(marker))
		Expect(err).NotTo(HaveOccurred())
		all, err := rows.FetchAll(ctx)
		Expect(err).NotTo(HaveOccurred())
		Expect(rows.Close(ctx)).To(Succeed())
		Expect(all).To(HaveLen(1))
		Expect(all[0][1]).To(Equal(int64(marker)), "the parameter's value comes back")
		text, ok := all[0][0].(string)
		Expect(ok).To(BeTrue(), "current_query() is text: %#v", all[0][0])
		GinkgoWriter.Printf("%s (%s): the server received %q\n", s.Info.Name, s.Info.Protocol, text)

		switch s.Info.Protocol {
		case "extended":
			Expect(text).To(ContainSubstring("$1"), "on the extended protocol the server receives the placeholder and binds the value")
			Expect(text).NotTo(ContainSubstring("987654321"), "on the extended protocol the value is not in the statement text")
		case "simple":
			Expect(text).NotTo(ContainSubstring("$1"), "on the simple protocol the driver interpolates the parameter")
			Expect(text).To(ContainSubstring("987654321"), "on the simple protocol the value is in the statement text")
		default:
			Fail("unknown protocol " + s.Info.Protocol + ": want simple or extended")
		}
		Expect(strings.ToLower(text)).To(HavePrefix("select current_query()"), "the statement is the one sent")
	})
})
