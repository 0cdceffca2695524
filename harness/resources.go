package harness

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

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

// ObservedNotes reads a table of (id int8, note text) rows through the
// observer, note by id.
func ObservedNotes(ctx context.Context, obs *pgx.Conn, table string) (map[int64]string, error) {
	rows, err := obs.Query(ctx, fmt.Sprintf("SELECT id, note FROM %s", table))
	if err != nil {
		return nil, err
	}
	out := map[int64]string{}
	var id int64
	var note string
	_, err = pgx.ForEachRow(rows, []any{&id, &note}, func() error {
		out[id] = note
		return nil
	})
	return out, err
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

// ConnectionPoll is what PollServerConnections saw.
type ConnectionPoll struct {
	Polls int // samples taken
	Max   int // most server connections seen at once
	Err   error
}

// PollServerConnections counts the server connections tagged app through
// the observer every 10 ms while the spec's work runs; finish stops it,
// takes one last sample and returns what it saw. each, when not nil, runs
// after every count (to sample more); its error, like the count's, ends
// the polling and is the result's Err.
func PollServerConnections(ctx context.Context, obs *pgx.Conn, app string, each func() error) (finish func() ConnectionPoll) {
	stop := make(chan struct{})
	polled := make(chan ConnectionPoll, 1)
	go func() {
		defer ginkgo.GinkgoRecover()
		polled <- pollServerConnections(ctx, obs, app, stop, each)
	}()
	return func() ConnectionPoll {
		ginkgo.GinkgoHelper()
		close(stop)
		var p ConnectionPoll
		gomega.Eventually(polled).WithContext(ctx).WithTimeout(5 * time.Second).Should(gomega.Receive(&p))
		return p
	}
}

func pollServerConnections(ctx context.Context, obs *pgx.Conn, app string, stop <-chan struct{}, each func() error) ConnectionPoll {
	var p ConnectionPoll
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	sample := func() bool {
		n, err := ServerConnections(ctx, obs, app)
		if err == nil && each != nil {
			err = each()
		}
		if err != nil {
			p.Err = err
			return false
		}
		p.Polls++
		p.Max = max(p.Max, n)
		return true
	}
	for {
		if !sample() {
			return p
		}
		select {
		case <-stop:
			sample()
			return p
		case <-ctx.Done():
			p.Err = ctx.Err()
			return p
		case <-tick.C:
		}
	}
}
