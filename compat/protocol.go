package compat

import (
	"fmt"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/pgwire-conformance/pgwire-conformance/adapter"
	"github.com/pgwire-conformance/pgwire-conformance/harness"
)

var _ = harness.ForEachAdapter("Compat: query protocol", Label("compat"), func(s *harness.Subject) {
	// The protocol:simple / protocol:extended labels are only worth having
	// if they are true, and the wire tells: on the extended protocol the
	// statement travels in a Parse with $1 and the value in a Bind; on the
	// simple protocol the driver writes the value into a Query's text.
	s.It("runs a parameterised statement on the protocol it declares", harness.Reqs("COMPAT", "FR-002", "T005"), func(ctx SpecContext) {
		if s.Info.Protocol == "" {
			Skip(harness.NotApplicable + "adapter " + s.Info.Name + " declares no query protocol")
		}
		obs := harness.Observe(ctx)
		table := harness.NewTable(ctx, obs, "proto", "id {bigint} PRIMARY KEY")
		const marker = 987654321
		obs.Exec(ctx, "INSERT INTO "+table+" (id) VALUES ($1)", marker)
		e, _ := s.Open(ctx, 1)
		tap := harness.Wire(e)

		w := tap.Watch()
		sql := fmt.Sprintf("SELECT id FROM %s WHERE id = $1", table)
		Expect(adapter.QueryAll(ctx, e, sql, int64(marker))).To(Equal([][]any{{int64(marker)}}), "the parameter's value selects its row")
		wire := w.Stop()
		var sent []string
		for _, c := range harness.Sessions(tap) {
			for _, st := range c.Statements {
				if strings.Contains(st, table) {
					sent = append(sent, st)
				}
			}
		}
		GinkgoWriter.Printf("%s (declares %s): %d Query, %d Parse, %d Bind; statement text(s) sent: %q\n",
			s.Info.Name, s.Info.Protocol, wire.FromClient["Query"], wire.FromClient["Parse"], wire.FromClient["Bind"], sent)
		Expect(sent).NotTo(BeEmpty(), "the statement crossed the wire")

		switch s.Info.Protocol {
		case "extended":
			Expect(wire.FromClient["Bind"]).To(BeNumerically(">=", 1), "on the extended protocol the value travels in a Bind")
			for _, st := range sent {
				Expect(st).To(ContainSubstring("$1"), "on the extended protocol the statement keeps its placeholder")
				Expect(st).NotTo(ContainSubstring(fmt.Sprint(marker)), "on the extended protocol the value is not in the statement text")
			}
		case "simple":
			Expect(wire.FromClient["Parse"]+wire.FromClient["Bind"]).To(BeZero(), "on the simple protocol no Parse or Bind crosses the wire")
			Expect(wire.FromClient["Query"]).To(BeNumerically(">=", 1), "on the simple protocol the statement travels in a Query")
			for _, st := range sent {
				Expect(st).NotTo(ContainSubstring("$1"), "on the simple protocol the driver interpolates the parameter")
				Expect(st).To(ContainSubstring(fmt.Sprint(marker)), "on the simple protocol the value is in the statement text")
			}
		default:
			Fail("unknown protocol " + s.Info.Protocol + ": want simple or extended")
		}
	})
})
