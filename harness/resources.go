package harness

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"

	"github.com/jackc/pgx/v5"
	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/gomega"

	"github.com/pgwire-conformance/pgwire-conformance/config"
)

var seq atomic.Int64

// UniqueName returns a name no other spec of this run uses, on any parallel
// process: prefix_p<process>_<n>. Lower case, safe as an SQL identifier.
func UniqueName(prefix string) string {
	return fmt.Sprintf("%s_p%d_%d", strings.ToLower(prefix), ginkgo.GinkgoParallelProcess(), seq.Add(1))
}

// RawObserver opens a raw pgx connection (extended protocol) to the target,
// closed when the spec ends. Specs verify through Observe, which works on
// any PGWire server; this and Table remain for protocolspecs until it moves.
func RawObserver(ctx context.Context) *pgx.Conn {
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
