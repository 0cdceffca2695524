package harness

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"

	"github.com/jackc/pgx/v5"
	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/gomega"

	"github.com/pgwire-conformance/pgwire-conformance/adapter"
	"github.com/pgwire-conformance/pgwire-conformance/config"
)

var seq atomic.Int64

// UniqueName returns a name no other spec of this run uses, on any parallel
// process: prefix_p<process>_<n>. Lower case, safe as an SQL identifier.
func UniqueName(prefix string) string {
	return fmt.Sprintf("%s_p%d_%d", strings.ToLower(prefix), ginkgo.GinkgoParallelProcess(), seq.Add(1))
}

// Observer opens the independent connection specs verify through: raw pgx,
// not the adapter under test. It is closed when the spec ends.
func Observer(ctx context.Context) *pgx.Conn {
	ginkgo.GinkgoHelper()
	dsn := Target().DSN
	c, err := pgx.Connect(ctx, dsn)
	gomega.Expect(err).NotTo(gomega.HaveOccurred(), "observer: connect to %s", config.RedactDSN(dsn))
	ginkgo.DeferCleanup(func(ctx context.Context) error {
		cctx, cancel := detach(ctx)
		defer cancel()
		return c.Close(cctx)
	})
	return c
}

// Open opens an engine through the adapter under test against the target,
// tagged with a unique application_name (returned) so an observer can find
// its server connections. It is closed when the spec ends.
func (s *Subject) Open(ctx context.Context, poolMax int) (adapter.Engine, string) {
	ginkgo.GinkgoHelper()
	app := UniqueName("pgwc_" + strings.ReplaceAll(s.Info.Name, "-", "_"))
	e, err := s.Adapter.Open(ctx, adapter.OpenOptions{DSN: Target().DSN, PoolMax: poolMax, ApplicationName: app})
	gomega.Expect(err).NotTo(gomega.HaveOccurred(), "open engine for %s against %s", s.Info.Name, Target().RedactedDSN())
	// Every call through the engine is recorded; a failed spec's report
	// shows the transcript (harness/transcript.go).
	e = transcribe(e)
	ginkgo.DeferCleanup(func(ctx context.Context) error {
		cctx, cancel := detach(ctx)
		defer cancel()
		return e.Close(cctx)
	})
	return e, app
}

// Table creates a table owned by the current spec through the observer and
// drops it when the spec ends. columns is the part between the parentheses.
func Table(ctx context.Context, obs *pgx.Conn, prefix, columns string) string {
	ginkgo.GinkgoHelper()
	name := UniqueName(prefix)
	_, err := obs.Exec(ctx, fmt.Sprintf("CREATE TABLE %s (%s)", name, columns))
	gomega.Expect(err).NotTo(gomega.HaveOccurred(), "observer: create table %s", name)
	ginkgo.DeferCleanup(func(ctx context.Context) error {
		cctx, cancel := detach(ctx)
		defer cancel()
		// A fresh connection: the spec's observer may already be closed.
		c, err := pgx.Connect(cctx, Target().DSN)
		if err != nil {
			return fmt.Errorf("drop %s: %w", name, err)
		}
		defer c.Close(cctx)
		_, err = c.Exec(cctx, "DROP TABLE IF EXISTS "+name)
		return err
	})
	return name
}

// ServerConnections counts the target's sessions whose application_name is
// app, as the profile lets the observer see them.
func ServerConnections(ctx context.Context, obs *pgx.Conn, app string) (int, error) {
	q := Profile().ConnectionsSQL()
	if q == "" {
		return 0, fmt.Errorf("profile %s cannot count server connections (specs using this need NeedsFeature{profile.ConnectionView})", Profile().Name)
	}
	var n int
	err := obs.QueryRow(ctx, q, app).Scan(&n)
	return n, err
}
