package edge_cases

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/pgwire-conformance/pgwire-conformance/adapter"
	"github.com/pgwire-conformance/pgwire-conformance/harness"
	"github.com/pgwire-conformance/pgwire-conformance/protocol"
)

// Faults injected on the wire between the adapter and the target (the
// engine's wire tap), so they work on any server: no pg_terminate_backend,
// no container pause. The bar in each: the adapter answers with an error
// within a stated bound — a spec timeout is not an answer — and recovers
// once the fault is gone.
const (
	faultDeadline = 3 * time.Second // the caller's deadline during a fault
	faultAnswer   = 5 * time.Second // by when the adapter must have answered
	faultRecover  = 5 * time.Second // by when it must serve again
)

// namesConnection: a connection fault's message should say so.
var namesConnection = regexp.MustCompile(`(?i)connect|closed|reset|broken|eof|lost|terminat|timeout|deadline|refused|gone|unexpected`)

var _ = harness.ForEachAdapter("Edge cases: faults on the wire", Label("errors", "pool"), func(s *harness.Subject) {
	s.It("returns an error within 5 s when the server stops answering, and serves again when it answers", harness.Reqs("FR-009", "EC-2", "FR-005", "T029", "T032"), func(ctx SpecContext) {
		e, _ := s.Open(ctx, 1)
		tap := harness.Wire(e)
		tap.Faults().Blackhole(true)
		DeferCleanup(func() { tap.Faults().Blackhole(false) })

		err, elapsed, answered := callWithin(ctx, faultAnswer, func(ctx context.Context) error {
			qctx, cancel := context.WithTimeout(ctx, faultDeadline)
			defer cancel()
			return runQuery(qctx, e, "SELECT 1")
		})
		Expect(answered).To(BeTrue(), "with the server silent, a query under a %s deadline must return within %s; it had not after %s", faultDeadline, faultAnswer, elapsed)
		Expect(err).To(HaveOccurred(), "a query the server never answered cannot succeed")
		recordFailureMode("server stops answering", err, elapsed)

		tap.Faults().Blackhole(false)
		expectRecovery(ctx, e)
	}, SpecTimeout(60*time.Second))

	s.It("reports an error, not a short result, when the connection breaks mid-result", harness.Reqs("FR-009", "FR-012", "EC-2", "T029", "T032"), func(ctx SpecContext) {
		t := digitsTable(ctx)
		e, _ := s.Open(ctx, 1)
		tap := harness.Wire(e)
		const rows, cut = 10000, 100
		tap.Faults().ResetAfterDataRows(cut)
		DeferCleanup(func() { tap.Faults().ResetAfterDataRows(-1) })

		var got [][]any
		err, elapsed, answered := callWithin(ctx, faultAnswer, func(ctx context.Context) error {
			qctx, cancel := context.WithTimeout(ctx, faultDeadline)
			defer cancel()
			r, err := e.Query(qctx, fmt.Sprintf("SELECT a.d * 1000 + b.d * 100 + c.d * 10 + x.d FROM %[1]s a, %[1]s b, %[1]s c, %[1]s x", t))
			if err != nil {
				return err
			}
			got, err = r.FetchAll(qctx)
			if cerr := r.Close(qctx); err == nil {
				err = cerr
			}
			return err
		})
		Expect(answered).To(BeTrue(), "a connection reset mid-result must end the call within %s; it had not after %s", faultAnswer, elapsed)
		Expect(tap.Stats().Resets).To(Equal(1), "the tap cut the connection after %d of %d rows (fetched %d; error %v)", cut, rows, len(got), err)
		Expect(err).To(HaveOccurred(), "the connection broke after %d of %d rows: the adapter returned %d rows and no error — a silently short result", cut, rows, len(got))
		recordFailureMode("connection lost", err, elapsed)
		Expect(err.Error()).To(MatchRegexp(namesConnection.String()), "the error should say the connection was lost: %v", err)

		expectRecovery(ctx, e)
	}, SpecTimeout(60*time.Second))

	s.It("fails promptly while the server refuses connections, and recovers once it accepts them", harness.Reqs("FR-009", "EC-2", "FR-005", "T029", "T032"), func(ctx SpecContext) {
		e, _ := s.Open(ctx, 1)
		tap := harness.Wire(e)
		tap.Faults().RefuseNew(true)
		DeferCleanup(func() { tap.Faults().RefuseNew(false) })
		tap.Faults().CloseAll()

		err, elapsed, answered := callWithin(ctx, faultAnswer, func(ctx context.Context) error {
			qctx, cancel := context.WithTimeout(ctx, faultDeadline)
			defer cancel()
			// The first query may fail on the dead connection; a pool that
			// then reconnects meets the refusal.
			if err := runQuery(qctx, e, "SELECT 1"); err != nil {
				return err
			}
			return runQuery(qctx, e, "SELECT 1")
		})
		Expect(answered).To(BeTrue(), "with every connection gone and new ones refused, a query must fail within %s; it had not after %s", faultAnswer, elapsed)
		Expect(err).To(HaveOccurred(), "no connection can reach the server: a query cannot succeed")
		recordFailureMode("server refuses connections", err, elapsed)

		tap.Faults().RefuseNew(false)
		expectRecovery(ctx, e)
	}, SpecTimeout(60*time.Second))
})

// callWithin is harness.Within, also timing the call.
func callWithin(ctx context.Context, bound time.Duration, f func(context.Context) error) (err error, elapsed time.Duration, answered bool) {
	start := time.Now()
	err, answered = harness.Within(ctx, bound, f)
	return err, time.Since(start), answered
}

// expectRecovery: once the fault is gone the engine must serve again
// within faultRecover, and keep serving.
func expectRecovery(ctx context.Context, e adapter.Engine) {
	GinkgoHelper()
	Eventually(func(ctx context.Context) error { return selectOne(ctx, e) }).
		WithContext(ctx).WithTimeout(faultRecover).WithPolling(50*time.Millisecond).
		Should(Succeed(), "within %s of the fault ending the engine must run a query again", faultRecover)
	for i := 1; i <= 3; i++ {
		Expect(selectOne(ctx, e)).To(Succeed(), "consecutive query %d after recovery", i)
	}
}

// recordFailureMode notes what a fault made the adapter raise, for the
// report's failure-mode section (T002).
func recordFailureMode(probe string, err error, elapsed time.Duration) {
	recordProbe(probe, err, elapsed, namesConnection)
}

// errorClass names an error's kind: a backend's exception class (or its
// category), else the innermost Go error type.
func errorClass(err error) string {
	var ce *protocol.CallError
	if errors.As(err, &ce) {
		if ce.Err.Type != "" {
			return ce.Err.Type
		}
		return ce.Err.Category + " error"
	}
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return fmt.Sprintf("%T", err)
		}
		err = next
	}
}

// digitsTable creates a spec-owned table of the digits 0…9 through the
// observer: its cross products make large results in plain SQL every
// profile runs.
func digitsTable(ctx context.Context) string {
	GinkgoHelper()
	obs := harness.Observe(ctx)
	t := harness.NewTable(ctx, obs, "fault_digits", "d {int} PRIMARY KEY")
	for d := 0; d < 10; d++ {
		obs.Exec(ctx, "INSERT INTO "+t+" (d) VALUES ($1)", d)
	}
	return t
}
