package edge_cases

import (
	"context"
	"regexp"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/pgwire-conformance/pgwire-conformance/adapter"
	"github.com/pgwire-conformance/pgwire-conformance/harness"
	"github.com/pgwire-conformance/pgwire-conformance/report"
)

// T002 asked for the async failure modes to be documented; here the suite
// observes them itself. Each spec provokes one misuse or fault through the
// adapter, checks what can be checked (it raises, promptly, and does not
// hang or succeed), and records the exact error — its class, its message,
// whether it names the problem — for the report's "async failure modes"
// section. The other probes live with their requirement: sync misuse and a
// missing async dependency (misuse.go), cancellation (cancel.go), a lost
// connection (faults.go).
const misuseAnswer = 3 * time.Second // by when a misused engine must answer

var (
	namesClosed  = regexp.MustCompile(`(?i)clos|dispos|shut|terminat|not open|invalid|released`)
	namesTimeout = regexp.MustCompile(`(?i)timeout|timed out|deadline|exhaust|pool|acquire|wait`)
)

var _ = harness.ForEachAdapter("Edge cases: failure modes", Label("errors"), func(s *harness.Subject) {
	s.It("raises promptly when a closed engine is used, instead of hanging or reconnecting", harness.Reqs("FR-009", "T002", "T029"), func(ctx SpecContext) {
		e, _ := s.Open(ctx, 1)
		Expect(e.Close(ctx)).To(Succeed(), "dispose the engine")

		var got [][]any
		err, elapsed, answered := callWithin(ctx, misuseAnswer, func(ctx context.Context) error {
			var err error
			got, err = adapter.QueryAll(ctx, e, "SELECT 1")
			return err
		})
		Expect(answered).To(BeTrue(), "a query on a closed engine must be refused within %s; it had not returned after %s", misuseAnswer, elapsed)
		recordProbe("use after close", err, elapsed, namesClosed)
		Expect(err).To(HaveOccurred(), "a query on a closed engine must fail, not run (it returned %v)", got)
	}, SpecTimeout(30*time.Second))

	s.It("raises promptly when the pool is exhausted and the caller's deadline passes", harness.Reqs("FR-009", "FR-005", "EC-2", "T002", "T029"), func(ctx SpecContext) {
		e, _ := s.Open(ctx, 1)
		harness.Acquire(ctx, e) // the pool's only connection, held

		const deadline = 500 * time.Millisecond
		err, elapsed, answered := callWithin(ctx, misuseAnswer, func(ctx context.Context) error {
			qctx, cancel := context.WithTimeout(ctx, deadline)
			defer cancel()
			_, err := adapter.QueryAll(qctx, e, "SELECT 1")
			return err
		})
		Expect(answered).To(BeTrue(), "with the pool's only connection held, a query under a %s deadline must give up within %s; it had not after %s", deadline, misuseAnswer, elapsed)
		recordProbe("pool exhaustion", err, elapsed, namesTimeout)
		Expect(err).To(HaveOccurred(), "the pool's only connection is held: the query cannot have run")
	}, SpecTimeout(30*time.Second))
})

// recordProbe notes what a probe made the adapter raise (T002), judging
// whether the message names the problem by names.
func recordProbe(probe string, err error, elapsed time.Duration, names *regexp.Regexp) {
	if err == nil {
		return
	}
	AddReportEntry(report.FailureModeEntry, report.FailureMode{
		Probe: probe, Class: errorClass(err), Message: err.Error(), Elapsed: elapsed, NamesFix: names.MatchString(err.Error()),
	})
}
