package edge_cases

import (
	"context"
	"fmt"
	"sync"
	"time"

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

	// Counted at the wire tap, so the bound holds on any server (iris-pgwire
	// has no session view); where the profile has one, the server's own
	// count is a cross-check.
	s.It("never opens more server connections than the pool maximum, and reuses them", harness.Reqs("FR-005", "EC-2", "T014", "T032"), func(ctx SpecContext) {
		const poolMax, workers = 5, 20
		p := harness.Profile()
		e, app := s.Open(ctx, poolMax)
		tap := harness.Wire(e)

		var finish func() harness.ConnectionPoll
		if p.Has(profile.ConnectionView) {
			finish = harness.PollSessions(ctx, harness.Observe(ctx), app, nil)
		}
		w := tap.Watch()
		errs := concurrently(ctx, workers, func(ctx context.Context, i int) error {
			return runQuery(ctx, e, p.Sleep(0.05))
		})
		st := w.Stop()
		distinct := len(harness.Sessions(tap))
		Expect(errs).To(BeEmpty(), "every query succeeds")
		GinkgoWriter.Printf("pool max %d, %d workers: at most %d connections open at once on the wire, %d distinct over the engine's life\n",
			poolMax, workers, st.PeakOpen, distinct)

		Expect(st.PeakOpen).To(BeNumerically("<=", poolMax), "connections open at once on the wire must not exceed the pool maximum")
		Expect(st.PeakOpen).To(BeNumerically(">=", 2), "%d concurrent callers should be served by more than one connection", workers)
		Expect(distinct).To(BeNumerically("<=", poolMax),
			"distinct connections over the whole run: a pool reuses its connections instead of opening one per query")
		if finish != nil {
			poll := finish()
			Expect(poll.Err).NotTo(HaveOccurred(), "observer polling the session view")
			Expect(poll.Max).To(BeNumerically("<=", poolMax), "cross-check: the server's session view never saw more than the pool maximum")
		}
	}, poolTimeout)

	// Rule: after every pooled connection dies (the wire tap closes them all,
	// as a server restart or a network cut would — no pg_terminate_backend
	// needed, so it holds on any server), the engine must recover on its
	// own. Queries that hit a dead connection may fail (the pool only learns
	// of the death by using it), but within 5 s a query must succeed, and
	// from then on queries must keep succeeding: the next five in a row,
	// without the caller doing anything.
	s.It("recovers after every connection it holds dies", harness.Reqs("FR-005", "EC-2", "FR-009", "T014", "T032"), func(ctx SpecContext) {
		const poolMax = 2
		e, _ := s.Open(ctx, poolMax)
		tap := harness.Wire(e)

		// Two overlapping queries so the pool holds two connections to kill.
		Expect(concurrently(ctx, poolMax, func(ctx context.Context, i int) error {
			return runQuery(ctx, e, harness.Profile().Sleep(0.1))
		})).To(BeEmpty())
		before := tap.Stats().Open
		Expect(before).To(BeNumerically(">=", 1), "the engine holds connections before they are killed")
		tap.Faults().CloseAll()

		failures := 0
		Eventually(func(ctx context.Context) error {
			err := selectOne(ctx, e)
			if err != nil {
				failures++
				GinkgoWriter.Printf("query after the connections died failed (%d): %v\n", failures, err)
			}
			return err
		}).WithContext(ctx).WithTimeout(5*time.Second).WithPolling(50*time.Millisecond).Should(Succeed(),
			"within 5 s of its connections dying the engine must run a query again")
		for i := 1; i <= 5; i++ {
			Expect(selectOne(ctx, e)).To(Succeed(), "consecutive query %d after recovery", i)
		}
		GinkgoWriter.Printf("%d connection(s) killed; %d failed queries before recovery\n", before, failures)
		Expect(tap.Stats().Open).To(And(BeNumerically(">=", 1), BeNumerically("<=", poolMax)),
			"the engine runs on fresh connections, within its maximum")
	}, poolTimeout)

	// The same, killed by the server itself, where the profile lets the
	// observer terminate sessions: a server-side kill reaches the driver as
	// an error message (57P01) before the socket closes.
	s.It("recovers after the server terminates its connections", harness.Reqs("FR-005", "EC-2", "FR-009", "T014", "T032"), func(ctx SpecContext) {
		const poolMax = 2
		obs := harness.Observe(ctx)
		e, app := s.Open(ctx, poolMax)
		Expect(concurrently(ctx, poolMax, func(ctx context.Context, i int) error {
			return runQuery(ctx, e, harness.Profile().Sleep(0.1))
		})).To(BeEmpty())
		before := obs.Sessions(ctx, app)
		Expect(before).To(BeNumerically(">=", 1), "the engine holds connections before they are killed")
		killed := int(obs.Int(ctx, harness.Profile().TerminateSQL(), app))
		Expect(killed).To(Equal(before), "the observer terminates every connection of the engine")
		Eventually(func(ctx context.Context) (int, error) { return obs.TrySessions(ctx, app) }).
			WithContext(ctx).WithTimeout(5*time.Second).WithPolling(10*time.Millisecond).Should(BeZero(), "terminated backends exit")
		Eventually(func(ctx context.Context) error { return selectOne(ctx, e) }).
			WithContext(ctx).WithTimeout(5*time.Second).WithPolling(50*time.Millisecond).Should(Succeed(),
			"within 5 s of its connections being terminated the engine must run a query again")
		for i := 1; i <= 5; i++ {
			Expect(selectOne(ctx, e)).To(Succeed(), "consecutive query %d after recovery", i)
		}
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
