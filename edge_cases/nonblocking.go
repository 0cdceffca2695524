package edge_cases

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/pgwire-conformance/pgwire-conformance/adapter"
	"github.com/pgwire-conformance/pgwire-conformance/harness"
	"github.com/pgwire-conformance/pgwire-conformance/profile"
)

// poolTimeout bounds each pool spec; each needs about a second.
const poolTimeout = SpecTimeout(60 * time.Second)

var _ = harness.ForEachAdapter("Edge cases: pool under concurrent use", Label("pool"), func(s *harness.Subject) {
	s.It("runs 8 concurrent 0.2 s server sleeps on one engine in under 0.5 s", harness.Reqs("FR-008", "FR-005", "EC-2", "T014", "T032"), func(ctx SpecContext) {
		const workers = 8
		e, _ := s.Open(ctx, workers)
		sleep := harness.Profile().Sleep(0.2)

		// Serialised, the eight sleeps take 1.6 s; run concurrently they take
		// 0.2 s plus connecting. Under 0.5 s is only possible if the engine
		// lets callers proceed while others wait on the server.
		start := time.Now()
		errs := concurrently(ctx, workers, func(ctx context.Context, i int) error {
			return runQuery(ctx, e, sleep)
		})
		elapsed := time.Since(start)
		Expect(errs).To(BeEmpty(), "every concurrent query succeeds")
		GinkgoWriter.Printf("%d × %q concurrently: %s\n", workers, sleep, elapsed)
		Expect(elapsed).To(BeNumerically("<", 500*time.Millisecond),
			"%d concurrent 0.2 s sleeps must overlap (serialised they take %s)", workers, workers*200*time.Millisecond)
	}, poolTimeout)

	s.It("never opens more server connections than the pool maximum, and reuses them", harness.Reqs("FR-005", "EC-2", "T014", "T032"), func(ctx SpecContext) {
		const poolMax, workers = 5, 20
		obs := harness.Observer(ctx)
		e, app := s.Open(ctx, poolMax)

		// The observer polls pg_stat_activity every 10 ms while the work runs.
		pids := map[int32]bool{}
		finish := harness.PollServerConnections(ctx, obs, app, func() error { return backendPIDs(ctx, obs, app, pids) })
		sleep := harness.Profile().Sleep(0.05)
		errs := concurrently(ctx, workers, func(ctx context.Context, i int) error {
			return runQuery(ctx, e, sleep)
		})
		p := finish()
		Expect(errs).To(BeEmpty(), "every query succeeds")
		Expect(p.Err).NotTo(HaveOccurred(), "observer polling pg_stat_activity")
		GinkgoWriter.Printf("pool max %d, %d workers: %d polls, max %d server connections, %d distinct backends\n",
			poolMax, workers, p.Polls, p.Max, len(pids))

		Expect(p.Max).To(BeNumerically("<=", poolMax), "server connections seen at once must not exceed the pool maximum")
		Expect(p.Max).To(BeNumerically(">=", 2), "%d concurrent callers should be served by more than one connection", workers)
		Expect(len(pids)).To(BeNumerically("<=", poolMax),
			"distinct server backends over the whole run: a pool reuses its connections instead of opening one per query")
		Expect(harness.ServerConnections(ctx, obs, app)).To(BeNumerically("<=", poolMax), "after the work the pool holds at most its maximum")
	}, poolTimeout, harness.NeedsFeature{profile.ConnectionView})

	// Rule: after the server kills every pooled connection, the engine must
	// recover on its own. Queries that hit a dead connection may fail (the
	// pool only learns of the death by using it), but within 5 s a query must
	// succeed, and from then on queries must keep succeeding: the next five
	// in a row, without the caller doing anything.
	s.It("recovers after the server terminates its connections", harness.Reqs("FR-005", "EC-2", "FR-009", "T014", "T032"), func(ctx SpecContext) {
		const poolMax = 2
		obs := harness.Observer(ctx)
		e, app := s.Open(ctx, poolMax)

		// Two overlapping queries so the pool holds two connections to kill.
		sleep := harness.Profile().Sleep(0.1)
		Expect(concurrently(ctx, poolMax, func(ctx context.Context, i int) error {
			return runQuery(ctx, e, sleep)
		})).To(BeEmpty())
		before, err := harness.ServerConnections(ctx, obs, app)
		Expect(err).NotTo(HaveOccurred())
		Expect(before).To(BeNumerically(">=", 1), "the engine holds connections before they are killed")

		var killed int
		Expect(obs.QueryRow(ctx, harness.Profile().TerminateSQL(), app).Scan(&killed)).To(Succeed())
		Expect(killed).To(Equal(before), "the observer terminates every connection of the engine")
		// Termination may only signal: wait until the sessions are gone so
		// no query below can still slip through on a dying one.
		Eventually(func(ctx context.Context) (int, error) { return harness.ServerConnections(ctx, obs, app) }).
			WithContext(ctx).WithTimeout(5*time.Second).WithPolling(10*time.Millisecond).Should(BeZero(), "terminated backends exit")

		failures := 0
		Eventually(func(ctx context.Context) error {
			err := selectOne(ctx, e)
			if err != nil {
				failures++
				GinkgoWriter.Printf("query after termination failed (%d): %v\n", failures, err)
			}
			return err
		}).WithContext(ctx).WithTimeout(5*time.Second).WithPolling(50*time.Millisecond).Should(Succeed(),
			"within 5 s of its connections being killed the engine must run a query again")
		for i := 1; i <= 5; i++ {
			Expect(selectOne(ctx, e)).To(Succeed(), "consecutive query %d after recovery", i)
		}
		GinkgoWriter.Printf("%d connection(s) killed; %d failed queries before recovery\n", killed, failures)
		Expect(harness.ServerConnections(ctx, obs, app)).To(And(BeNumerically(">=", 1), BeNumerically("<=", poolMax)),
			"the engine runs on fresh connections, within its maximum")
	}, poolTimeout, harness.NeedsFeature{profile.ConnectionView})
})

// concurrently runs f n times at once and returns the errors, each naming
// its worker.
func concurrently(ctx context.Context, n int, f func(ctx context.Context, i int) error) []error {
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	for i := range n {
		wg.Go(func() {
			defer GinkgoRecover()
			if err := f(ctx, i); err != nil {
				mu.Lock()
				errs = append(errs, fmt.Errorf("worker %d: %w", i, err))
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return errs
}

// backendPIDs adds to pids the server backends tagged app. Backends are
// told apart by pid in pg_stat_activity: the profile has no SQL for
// session identity, so this query is PostgreSQL's, and the spec using it
// needs ConnectionView.
func backendPIDs(ctx context.Context, obs *pgx.Conn, app string, pids map[int32]bool) error {
	var seen []int32
	err := obs.QueryRow(ctx, "SELECT coalesce(array_agg(pid), '{}') FROM pg_stat_activity WHERE application_name = $1", app).Scan(&seen)
	for _, p := range seen {
		pids[p] = true
	}
	return err
}

// selectOne runs SELECT 1 through the engine, bounded so a dead connection
// cannot stall the caller.
func selectOne(ctx context.Context, e adapter.Engine) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	v, err := adapter.Scalar(ctx, e, "SELECT 1")
	if err == nil && v != int64(1) {
		err = fmt.Errorf("SELECT 1 returned %v", v)
	}
	return err
}
