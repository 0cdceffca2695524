package edge_cases

import (
	"context"
	"fmt"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/pgwire-conformance/pgwire-conformance/harness"
	"github.com/pgwire-conformance/pgwire-conformance/profile"
)

// The cancellation bar: a caller's deadline must end a running statement
// for the caller (the call returns within about a second of it) and for
// the server (the statement stops: a CancelRequest on the wire, or, where
// the profile has a session view, no statement left running), and the
// connection must serve the next query. A driver that ignores its context
// makes the caller wait the whole 5 s.
const (
	cancelDeadline = 300 * time.Millisecond
	cancelReturn   = 1500 * time.Millisecond // deadline + about a second
	cancelSleep    = 5.0                     // seconds the statement would run
)

var _ = harness.ForEachAdapter("Edge cases: cancellation", Label("errors"), func(s *harness.Subject) {
	s.It("cancels a running statement when the caller's deadline passes: the call returns, the server stops, the connection serves again", harness.Reqs("FR-009", "FR-008", "T029", "T032"), func(ctx SpecContext) {
		e, app := s.Open(ctx, 1)
		tap := harness.Wire(e)
		p := harness.Profile()

		qctx, cancel := context.WithTimeout(ctx, cancelDeadline)
		start := time.Now()
		err := runQuery(qctx, e, p.Sleep(cancelSleep))
		elapsed := time.Since(start)
		cancel()
		GinkgoWriter.Printf("%s: a %gs sleep under a %s deadline returned after %s: %v\n", s.Info.Name, cancelSleep, cancelDeadline, elapsed, err)
		Expect(err).To(HaveOccurred(), "a %g s server sleep under a %s deadline must not succeed", cancelSleep, cancelDeadline)
		recordProbe("cancellation", err, elapsed, namesTimeout)
		Expect(elapsed).To(BeNumerically("<", cancelReturn),
			"the call must return soon after its deadline (%s), not when the statement ends (%g s)", cancelDeadline, cancelSleep)

		By("the server stops the statement")
		DeferCleanup(func() {
			for _, c := range tap.Conns() {
				if c.Cancel {
					GinkgoWriter.Printf("wire: connection c%d carried a CancelRequest for backend %d\n", c.ID, c.CancelTarget)
				}
			}
		})
		var obs *harness.Observer
		if p.Has(profile.ConnectionView) {
			obs = harness.Observe(ctx)
		}
		var evidence string
		Eventually(func(ctx context.Context) error {
			if obs != nil {
				// The session view is the server's own word: nothing of the
				// engine may still be running.
				n, err := obs.TryInt(ctx, p.ActiveSQL(), app)
				if err != nil {
					return err
				}
				if n > 0 {
					detail, _ := obs.TryRows(ctx, "SELECT pid, state, query, backend_start FROM pg_stat_activity WHERE application_name = $1", app) // pgwc:postgres-only (diagnostic)
					return fmt.Errorf("the server still runs %d statement(s) of the engine: %v", n, showRows(detail))
				}
				evidence = "the session view shows no statement of the engine running"
				return nil
			}
			for _, c := range tap.Conns() {
				if c.CancelsAimed > 0 {
					evidence = fmt.Sprintf("a CancelRequest for backend %d crossed the wire", c.BackendPID)
					return nil
				}
				for _, e := range c.Errors {
					if e.Code == "57014" {
						evidence = "the server answered the statement with 57014 (canceled)"
						return nil
					}
				}
			}
			return fmt.Errorf("no CancelRequest crossed the wire and the server did not report the statement canceled (a driver that only drops its connection leaves the statement running)")
		}).WithContext(ctx).WithTimeout(time.Second).WithPolling(25*time.Millisecond).Should(Succeed(),
			"within a second of the deadline the server must have stopped the statement")
		GinkgoWriter.Printf("%s: %s\n", s.Info.Name, evidence)

		By("the engine (one connection) serves the next query")
		next, cancelNext := context.WithTimeout(ctx, 2*time.Second)
		defer cancelNext()
		Expect(selectOne(next, e)).To(Succeed(), "after the cancel, the next query must run within 2 s on a pool of one")
	}, SpecTimeout(30*time.Second))
})

func showRows(rows [][]*string) string {
	var out []string
	for _, r := range rows {
		var cells []string
		for _, v := range r {
			if v == nil {
				cells = append(cells, "NULL")
			} else {
				cells = append(cells, *v)
			}
		}
		out = append(out, "("+strings.Join(cells, ", ")+")")
	}
	return strings.Join(out, " ")
}
