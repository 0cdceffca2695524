package contract

import (
	"context"
	"net/url"
	"time"

	"github.com/jackc/pgx/v5"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/pgwire-conformance/pgwire-conformance/adapter"
	"github.com/pgwire-conformance/pgwire-conformance/harness"
	"github.com/pgwire-conformance/pgwire-conformance/profile"
)

var _ = harness.ForEachAdapter("Contract: engine creation", Label("contract"), func(s *harness.Subject) {
	// The engine's connections are counted on the wire (its tap), so the
	// spec holds on any server; where the profile has a session view, the
	// server's own count is a cross-check.
	s.It("opens an engine from the target URL, and dispose closes its server connections", harness.Reqs("FR-001", "T004", "T018"), func(ctx SpecContext) {
		e, app := s.Open(ctx, 3)
		tap := harness.Wire(e)
		var obs *harness.Observer
		if harness.Profile().Has(profile.ConnectionView) {
			obs = harness.Observe(ctx)
		}

		Expect(adapter.Scalar(ctx, e, "SELECT 1")).To(BeEquivalentTo(1))
		Expect(tap.Stats().Open).To(BeNumerically(">=", 1), "the engine holds a connection to the target after a query")
		if obs != nil {
			Expect(obs.Sessions(ctx, app)).To(BeNumerically(">=", 1),
				"cross-check: the server should see the engine's connection tagged application_name=%s", app)
		}

		Expect(e.Close(ctx)).To(Succeed())
		Eventually(func() int { return tap.Stats().Open }).WithContext(ctx).WithTimeout(10*time.Second).WithPolling(20*time.Millisecond).
			Should(BeZero(), "after dispose the engine must have closed every connection it opened (%d opened)", len(harness.Sessions(tap)))
		if obs != nil {
			Eventually(func(ctx context.Context) (int, error) {
				return obs.TrySessions(ctx, app)
			}).WithContext(ctx).WithTimeout(10*time.Second).WithPolling(50*time.Millisecond).Should(BeZero(),
				"cross-check: after dispose the server should see none of the engine's connections")
		}
	})

	// Each fact is read with the profile's own SQL; a fact the profile has
	// no SQL for is noted, not checked. The server port is the one the
	// server reports to the observer (the DSN's may be a forwarded one).
	s.It("connects as the URL's user, to its database and port (create_connect_args)", harness.Reqs("FR-001", "T015"), func(ctx SpecContext) {
		obs := harness.Observe(ctx)
		e, app := s.Open(ctx, 1)
		want, err := pgx.ParseConfig(harness.Target().DSN)
		Expect(err).NotTo(HaveOccurred())
		sql := harness.Profile().SessionSQL()

		// A server that cannot say its port (PGlite answers NULL) leaves
		// the port to the tap: the URL's port is the tap's, so the
		// engine's connection arriving there is the evidence.
		portSQL, byTap := sql.Port, false
		if portSQL != "" && obs.Text(ctx, portSQL) == nil {
			byTap = true
			Expect(harness.Wire(e).Stats().Opened).To(BeNumerically(">=", 1),
				"server port: the target reports none (%s is NULL), and the engine never connected to the URL's port (the wire tap's)", sql.Port)
			AddReportEntry("port checked at the wire tap", sql.Port+" is NULL on target "+harness.Config().TargetName())
		}
		facts := []struct {
			name, sql string
			want      func() any
			same      func(got, want any) bool
		}{
			{"user", sql.User, func() any { return want.User }, equal},
			{"database", sql.Database, func() any { return want.Database }, sameIdentifier},
			{"server port", portSQL, func() any { return obs.Int(ctx, sql.Port) }, equal},
			{"application_name", sql.ApplicationName, func() any { return app }, equal},
		}
		soft := harness.NewSoft()
		checked := 0
		for _, f := range facts {
			if f.name == "server port" && byTap {
				checked++
				continue
			}
			if f.sql == "" {
				AddReportEntry("not checked", "profile "+harness.Profile().Name+" has no SQL to read the session's "+f.name)
				GinkgoWriter.Printf("%s: not checked, profile %s has no SQL for it\n", f.name, harness.Profile().Name)
				continue
			}
			checked++
			got, err := adapter.Scalar(ctx, e, f.sql)
			if !soft.Expect(err).NotTo(HaveOccurred(), "%s: %s through the adapter", f.name, f.sql) {
				continue
			}
			w := f.want()
			soft.Expect(f.same(got, w)).To(BeTrue(), "%s the server sees for %s: %#v, want %#v",
				f.name, redactedURLUser(harness.Target().DSN), got, w)
		}
		if checked == 0 {
			Skip(harness.NotApplicable + "profile " + harness.Profile().Name + " can read none of the session's facts")
		}
		soft.Verify()
	})
})

func equal(got, want any) bool { return got == want }

// sameIdentifier compares a name the server returns with the DSN's, as
// identifiers (IRIS returns its namespace upper case).
func sameIdentifier(got, want any) bool {
	g, ok1 := got.(string)
	w, ok2 := want.(string)
	return ok1 && ok2 && profile.SameIdentifier(g, w)
}

func redactedURLUser(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil || u.User == nil {
		return "(DSN)"
	}
	return u.User.Username() + "@" + u.Host + u.Path
}
