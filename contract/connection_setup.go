package contract

import (
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/pgwire-conformance/pgwire-conformance/harness"
	"github.com/pgwire-conformance/pgwire-conformance/profile"
	"github.com/pgwire-conformance/pgwire-conformance/report"
)

// T016 (on_connect() without IRIS-only cursor attributes), certified by
// what crosses the wire: every connection the driver opens is set up the
// way it asked and the target reports (application name, UTF-8, ISO dates,
// a time zone, standard-conforming strings), and the driver's on-connect
// hooks send nothing the profile's server lacks. The wire tap records the
// startup and every statement before the spec's first; the report lists
// them per adapter.
var _ = harness.ForEachAdapter("Contract: connection setup", Label("contract"), func(s *harness.Subject) {
	s.It("sets up each connection as asked and sends nothing on connect that the target lacks", harness.Reqs("FR-001", "T016"), func(ctx SpecContext) {
		e, app := s.Open(ctx, 1) // Open runs SELECT 1: the spec's first statement
		conns := harness.Sessions(harness.Wire(e))
		Expect(conns).NotTo(BeEmpty(), "the engine opened no connection through the wire tap")
		c := conns[0]
		onConnect := beforeFirst(c.Statements, "SELECT 1")
		AddReportEntry(report.ConnectionSetupEntry, report.ConnectionSetup{
			Startup: c.Params, Server: c.ServerParams, OnConnect: onConnect, Auth: c.AuthMethod, TLS: c.TLS,
		})
		GinkgoWriter.Printf("%s: startup %v; server %v; on connect %q\n", s.Info.Name, c.Params, c.ServerParams, onConnect)

		Expect(c.Authenticated).To(BeTrue(), "the connection authenticated")
		server := c.ServerParams
		Expect(server).To(HaveKeyWithValue("client_encoding", "UTF8"), "the session's client encoding as the server reports it")
		Expect(server).To(HaveKeyWithValue("standard_conforming_strings", "on"), "backslashes in string literals are literal")
		Expect(server).To(HaveKey("DateStyle"))
		Expect(strings.HasPrefix(server["DateStyle"], "ISO")).To(BeTrue(), "DateStyle %q: dates in ISO form", server["DateStyle"])
		Expect(server).To(HaveKey("TimeZone"), "the server reports the session's time zone")
		if v, reported := server["application_name"]; reported {
			Expect(v).To(Equal(app), "the application_name the engine was opened with, as the server reports it")
		} else {
			Expect(c.Params).To(HaveKeyWithValue("application_name", app), "the application_name the engine was opened with, sent at startup")
		}
		if p := harness.Profile(); !p.Has(profile.ConnectionView) || p.Name != profile.Postgres.Name {
			for _, stmt := range onConnect {
				Expect(profile.PostgresOnly(stmt)).To(BeEmpty(),
					"on connect the driver sent %q, which uses PostgreSQL-only constructs profile %s's server lacks", stmt, p.Name)
			}
		}
	})
})

// beforeFirst returns the statements sent before the first one equal to
// marker (case-blind, trimmed): what the driver ran on its own.
func beforeFirst(stmts []string, marker string) []string {
	out := []string{}
	for _, s := range stmts {
		if strings.EqualFold(strings.TrimSpace(strings.TrimRight(s, "; ")), marker) {
			break
		}
		out = append(out, s)
	}
	return out
}
