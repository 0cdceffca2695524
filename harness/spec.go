package harness

import (
	"fmt"
	"github.com/pgwire-conformance/pgwire-conformance/config"
	"strings"
	"time"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/gomega"

	"github.com/pgwire-conformance/pgwire-conformance/adapter"
	"github.com/pgwire-conformance/pgwire-conformance/catalogue"
	"github.com/pgwire-conformance/pgwire-conformance/expectations"
	"github.com/pgwire-conformance/pgwire-conformance/profile"
	"github.com/pgwire-conformance/pgwire-conformance/report"
)

// DefaultSpecTimeout bounds every spec that does not set its own.
const DefaultSpecTimeout = 2 * time.Minute

// NotApplicable starts the skip message of a spec whose adapter or profile
// lacks what it needs; reports count these apart from other skips.
const NotApplicable = "not applicable: "

// ExpectedFailure starts the skip message of a listed spec that failed as
// expected; UnexpectedPass starts the failure of a listed spec that passed.
const (
	ExpectedFailure = "expected failure: "
	UnexpectedPass  = "unexpected pass: "
)

// Undecided ends the spec as inconclusive: it measured, but its evidence
// decides neither way. It is a skip (shown apart from passes and failures)
// unless the run is strict, where it fails the run.
func Undecided(format string, args ...any) {
	msg := report.InconclusivePrefix + fmt.Sprintf(format, args...)
	if Config().Strict {
		ginkgo.Fail(msg, 1)
	}
	ginkgo.Skip(msg, 1)
}

// Req lists the catalogue IDs (requirements, edge cases, tasks) a spec checks.
type Req []string

// Reqs is Req's constructor, for reading: Reqs("FR-002", "T005").
func Reqs(ids ...string) Req { return Req(ids) }

// Needs is a decorator: capabilities the adapter must declare for the spec
// to apply.
type Needs []adapter.Capability

// NeedsFeature is a decorator: profile features the target must have for
// the spec to apply (e.g. transactional DDL).
type NeedsFeature []profile.Feature

// Subject is the adapter one branch of the tree certifies.
type Subject struct {
	Adapter adapter.Adapter
	Info    adapter.Info
	Group   string
}

// ForEachAdapter adds a group of specs once per selected adapter, each
// branch labelled adapter:NAME and profile:PROFILE, and protocol:PROTOCOL
// when the adapter declares the query protocol it runs on.
func ForEachAdapter(group string, labels ginkgo.Labels, body func(s *Subject)) bool {
	// The adapter list comes from the configuration, which is loaded after
	// package init: the branches are made when Ginkgo builds the tree.
	return ginkgo.Describe(group, labels, ginkgo.Offset(1), func() {
		checkLabels(group, labels)
		profile := Config().Profile
		for _, a := range Selected() {
			s := &Subject{Adapter: a, Info: a.Info(), Group: group}
			branch := ginkgo.Label("adapter:"+s.Info.Name, "profile:"+profile, "target:"+Config().TargetName())
			if s.Info.Protocol != "" {
				branch = append(branch, "protocol:"+s.Info.Protocol)
			}
			ginkgo.Describe("["+s.Info.Name+"]", append(branchDecorators(branch), func() {
				resetSharedSession()
				body(s)
			})...)
		}
	})
}

// ServerAdapter is the name server-level specs (ForTarget) are listed
// under, in reports and expected-failure lists: they certify the target,
// not a driver.
const ServerAdapter = "server"

// ForTarget adds a group of specs that run once per run against the target
// itself, below any driver (the message-level wire specs): labelled
// adapter:server, target:NAME and profile:NAME.
func ForTarget(group string, labels ginkgo.Labels, body func(s *Subject)) bool {
	return ginkgo.Describe(group, labels, ginkgo.Offset(1), func() {
		checkLabels(group, labels)
		s := &Subject{Info: adapter.Info{Name: ServerAdapter, Driver: "pgproto3 (message level)", Language: "go"}, Group: group}
		branch := ginkgo.Label("adapter:"+ServerAdapter, "profile:"+Config().Profile, "target:"+Config().TargetName())
		ginkgo.Describe("["+ServerAdapter+"]", append(branchDecorators(branch), func() {
			resetSharedSession()
			body(s)
		})...)
	})
}

// It declares one conformance spec. req names what it certifies; it must
// name at least one requirement or edge case from the catalogue. Decorators
// may include Needs, Label, Serial and SpecTimeout (default 2 min). The
// spec's code location is the caller's, so --focus-file and reports point
// at the spec file.
func (s *Subject) It(text string, req Req, body func(ctx ginkgo.SpecContext), decorators ...any) bool {
	var needs Needs
	var features NeedsFeature
	args := []any{ginkgo.Offset(1)}
	hasTimeout := false
	for _, d := range decorators {
		switch x := d.(type) {
		case Needs:
			needs = append(needs, x...)
		case NeedsFeature:
			features = append(features, x...)
		case ginkgo.SpecTimeout:
			hasTimeout = true
			args = append(args, scaled(x))
		default:
			args = append(args, x)
		}
	}
	if !hasTimeout {
		args = append(args, scaled(ginkgo.SpecTimeout(DefaultSpecTimeout)))
	}
	if err := catalogue.Check(req); err != nil {
		treeError("spec %q: %v", text, err)
	}
	for _, d := range args {
		if l, ok := d.(ginkgo.Labels); ok {
			checkLabels(text, l)
		}
	}
	args = append(args, ginkgo.Label(catalogue.Labels(req)...))
	// What the spec needs shows as labels too (needs:orm,
	// needs:connection-view), so the catalogue lists it and a run can
	// select by it.
	for _, c := range needs {
		args = append(args, ginkgo.Label(report.NeedsLabelPrefix+string(c)))
	}
	for _, f := range features {
		args = append(args, ginkgo.Label(report.NeedsLabelPrefix+string(f)))
	}
	args = append(args, func(ctx ginkgo.SpecContext) {
		for _, c := range needs {
			if !s.Info.Has(c) {
				ginkgo.Skip(fmt.Sprintf("%sadapter %s lacks capability %q", NotApplicable, s.Info.Name, c))
			}
		}
		for _, f := range features {
			if p := Profile(); !p.Has(f) {
				ginkgo.Skip(fmt.Sprintf("%sprofile %s on target %s lacks %q", NotApplicable, p.Name, Config().TargetName(), f))
			}
		}
		if exp, ok := Expected(s.Info.Name, expectations.SpecID(s.Group, text)); ok {
			runExpectedToFail(ctx, exp, body)
			return
		}
		body(ctx)
	})
	return ginkgo.It(text, args...)
}

// scaled applies the run's timeout scale to a spec timeout.
func scaled(t ginkgo.SpecTimeout) ginkgo.SpecTimeout {
	if f := Config().TimeoutScale; f > 0 {
		return ginkgo.SpecTimeout(time.Duration(float64(t) * f))
	}
	return t
}

// AdapterOf returns the adapter name from a spec's labels.
func AdapterOf(labels []string) string {
	for _, l := range labels {
		if name, ok := strings.CutPrefix(l, "adapter:"); ok {
			return name
		}
	}
	return ""
}

// runExpectedToFail runs a listed spec: its first Gomega failure (which ends
// the body, as it would unlisted) makes it an expected failure; a clean pass
// fails the spec so the list is corrected. A spec that ends inconclusive
// (Undecided: a skip, not a Gomega failure) stays inconclusive.
func runExpectedToFail(ctx ginkgo.SpecContext, exp expectations.Expectation, body func(ginkgo.SpecContext)) {
	err := gomega.InterceptGomegaFailure(func() { body(ctx) })
	switch exp.Judge(err) {
	case expectations.UnexpectedPass:
		ginkgo.Fail(fmt.Sprintf("%slisted as an expected failure (%s) but passed: remove it from the expected-failure list", UnexpectedPass, exp.Reason))
	case expectations.PassedIntermittent:
		ginkgo.AddReportEntry("listed as intermittent", exp.Reason)
		return
	case expectations.OtherCause:
		ginkgo.Fail(config.Redact(fmt.Sprintf("listed as an intermittent failure containing %q (%s), but failed otherwise: %v", exp.Intermittent, exp.Reason, err)), 1)
	}
	msg := ExpectedFailure + exp.Reason
	if exp.Link != "" {
		msg += " (" + exp.Link + ")"
	}
	ginkgo.Skip(msg + " — got: " + config.OneLine(err.Error()))
}

var allowedLabels = map[string]bool{}

// AllowLabels sets the plain labels specs may carry (label sets such as
// fr:FR-001 are made by the harness and always allowed).
func AllowLabels(labels ...string) {
	mu.Lock()
	defer mu.Unlock()
	for _, l := range labels {
		allowedLabels[l] = true
	}
}

func checkLabels(where string, labels []string) {
	mu.Lock()
	open := len(allowedLabels) == 0
	var bad []string
	for _, l := range labels {
		if !open && !allowedLabels[l] && !strings.Contains(l, ":") {
			bad = append(bad, l)
		}
	}
	mu.Unlock()
	if len(bad) > 0 {
		treeError("%q: label(s) %s are not in the suite's list of plain labels", where, strings.Join(bad, ", "))
	}
}
