package edge_cases

import (
	"context"
	"regexp"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/pgwire-conformance/pgwire-conformance/adapter"
	"github.com/pgwire-conformance/pgwire-conformance/adapter/remote"
	"github.com/pgwire-conformance/pgwire-conformance/harness"
	"github.com/pgwire-conformance/pgwire-conformance/report"
)

// misuseProber is what an adapter with the EC-1/EC-4 probes offers: it
// provokes the misuse inside the driver's own runtime and returns the
// exception it raised. Go drivers have no async/sync split, so only
// backends declare these capabilities.
type misuseProber interface {
	ProbeSyncMisuse(ctx context.Context, dsn string) (remote.ProbeResult, error)
	ProbeMissingAsyncDependency(ctx context.Context, dsn string) (remote.ProbeResult, error)
}

const (
	// namesAsync: the error must point the user at async/await (SQLAlchemy:
	// "greenlet_spawn has not been called; can't call await_only() here").
	namesAsync = `(?i)await|async|greenlet_spawn|event loop`
	// namesRemedy: the error must say what is missing or what to install.
	namesRemedy = `(?i)install|required|no module named|pip `
)

var _ = harness.ForEachAdapter("Edge cases: misuse and missing dependencies", Label("errors"), func(s *harness.Subject) {
	prober := func() misuseProber {
		GinkgoHelper()
		p, ok := s.Adapter.(misuseProber)
		Expect(ok).To(BeTrue(), "adapter %s declares the probe capabilities but offers no probes", s.Info.Name)
		return p
	}

	s.It("fails with an error that names async/await when sync code uses the async engine", harness.Reqs("EC-1", "FR-009", "T029"), func(ctx SpecContext) {
		r, err := prober().ProbeSyncMisuse(ctx, harness.Target().DSN)
		Expect(err).NotTo(HaveOccurred())
		AddReportEntry(report.FailureModeEntry, report.FailureMode{Probe: "sync use of an async engine", Class: r.Raised, Message: r.Message,
			NamesFix: regexp.MustCompile(namesAsync).MatchString(r.Raised + ": " + r.Message)})
		Expect(r.Raised).NotTo(BeEmpty(), "using the async engine from sync code must raise, not block or succeed")
		Expect(r.Raised+": "+r.Message).To(MatchRegexp(namesAsync),
			"the error must tell the user the call needs async/await")
	}, harness.Needs{adapter.SyncMisuseProbe})

	s.It("fails with an error that says what to install when the async dependency is missing", harness.Reqs("EC-4", "FR-009", "T030"), func(ctx SpecContext) {
		r, err := prober().ProbeMissingAsyncDependency(ctx, harness.Target().DSN)
		Expect(err).NotTo(HaveOccurred())
		AddReportEntry(report.FailureModeEntry, report.FailureMode{Probe: "missing async dependency", Class: r.Raised, Message: r.Message,
			NamesFix: regexp.MustCompile(namesRemedy).MatchString(r.Raised + ": " + r.Message)})
		Expect(r.Raised).NotTo(BeEmpty(), "a missing async dependency must raise")
		Expect(r.Raised+": "+r.Message).To(MatchRegexp(namesRemedy),
			"the error must name what is missing or what to install")
	}, harness.Needs{adapter.MissingAsyncDepProbe})
})
