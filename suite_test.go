// The one conformance suite. Flags and env become a validated configuration
// before the spec tree is built (the tree has one branch per adapter);
// process 1 starts the target once for all parallel processes; the report is
// written after every run.
package pgwireconformance_test

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/pgwire-conformance/pgwire-conformance/adapter"
	_ "github.com/pgwire-conformance/pgwire-conformance/adapter/broken"
	_ "github.com/pgwire-conformance/pgwire-conformance/adapter/pgxadapter"
	"github.com/pgwire-conformance/pgwire-conformance/adapter/remote"
	_ "github.com/pgwire-conformance/pgwire-conformance/adapter/sqladapter"
	"github.com/pgwire-conformance/pgwire-conformance/catalogue"
	_ "github.com/pgwire-conformance/pgwire-conformance/compat"
	"github.com/pgwire-conformance/pgwire-conformance/config"
	"github.com/pgwire-conformance/pgwire-conformance/containers"
	_ "github.com/pgwire-conformance/pgwire-conformance/contract"
	_ "github.com/pgwire-conformance/pgwire-conformance/edge_cases"
	"github.com/pgwire-conformance/pgwire-conformance/expectations"
	"github.com/pgwire-conformance/pgwire-conformance/harness"
	_ "github.com/pgwire-conformance/pgwire-conformance/integration"
	_ "github.com/pgwire-conformance/pgwire-conformance/iris_features"
	_ "github.com/pgwire-conformance/pgwire-conformance/protocolspecs"
	"github.com/pgwire-conformance/pgwire-conformance/report"
	"github.com/pgwire-conformance/pgwire-conformance/target"
)

// SuiteVersion is stamped into every report.
const SuiteVersion = "pgwire-conformance 0.1.0"

// plainLabels is the frozen list of plain labels specs may use; a spec with
// any other fails the tree. Written as one literal Label call so that
// `go tool ginkgo labels` lists them.
var plainLabels = Label("contract", "integration", "vector", "metadata", "functions",
	"transactions", "pool", "bulk", "errors", "performance", "http", "orm", "cursors", "compat", "protocol")

var (
	flags   = config.RegisterFlags(flag.CommandLine)
	running *target.Running // process 1 only
	started = time.Now()
)

func TestConformance(t *testing.T) {
	RegisterFailHandler(Fail)
	containers.DefaultEnv()
	cfg, err := config.Load(flags, os.Getenv, certifiedAdapters())
	if err != nil {
		// Fixtures (adapter/broken) are not in the default selection but
		// stay selectable by name.
		cfg, err = config.Load(flags, os.Getenv, adapter.Names())
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "pgwire-conformance: configuration: %v\n", err)
		os.Exit(2)
	}
	harness.Configure(cfg)
	harness.AllowLabels(plainLabels...)
	// Built-in backends' adapters are known even when not selected (and so
	// not registered): the reviewed list names them for every run.
	exp, err := expectations.Load(cfg.ExpectationsPath(), append(adapter.Names(), remote.BuiltinAdapterNames()...))
	if err != nil {
		fmt.Fprintf(os.Stderr, "pgwire-conformance: %v\n", err)
		os.Exit(2)
	}
	harness.SetExpectations(exp)
	suiteCfg, _ := GinkgoConfiguration()
	if GinkgoParallelProcess() == 1 && !suiteCfg.DryRun {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err := target.Preflight(ctx, cfg)
		cancel()
		if err != nil {
			fmt.Fprintf(os.Stderr, "pgwire-conformance: %v\n", err)
			os.Exit(2)
		}
	}
	RunSpecs(t, "pgwire-conformance")
}

var _ = SynchronizedBeforeSuite(func(ctx SpecContext) []byte {
	Expect(harness.TreeErrors()).To(BeEmpty(), "the spec tree names unknown requirements")
	cfg := harness.Config()
	r, err := target.Start(ctx, cfg, GinkgoWriter)
	if err != nil {
		Fail(fmt.Sprintf("harness error: start the %s target: %v", cfg.Profile, err))
	}
	running = r
	if err := target.RunSetup(ctx, r.DSN, harness.Profile().Setup); err != nil {
		Fail(fmt.Sprintf("harness error: profile %s setup: %v%s", cfg.Profile, err, logTail(ctx, r)))
	}
	if err := remote.StartBackends(ctx, r.Stack(), r.DSN, cfg.Profile, cfg.Adapters, cfg.BaseImage, cfg.StartTimeout, GinkgoWriter); err != nil {
		Fail(fmt.Sprintf("harness error: start driver backends: %v", err))
	}
	if st := r.Stack(); st != nil {
		r.Images, r.Containers = st.Images(), st.ContainerNames()
	}
	return remote.Encode(harness.EncodeTarget(r.Target))
}, func(ctx SpecContext, data []byte) {
	data, err := remote.Decode(data)
	Expect(err).NotTo(HaveOccurred())
	t, err := harness.DecodeTarget(data)
	Expect(err).NotTo(HaveOccurred())
	harness.SetTarget(t)
}, NodeTimeout(10*time.Minute))

var _ = SynchronizedAfterSuite(func() {}, func(ctx SpecContext) {
	if running != nil {
		Expect(running.Stop(ctx)).To(Succeed(), "remove the target's containers")
		running = nil
	}
}, NodeTimeout(2*time.Minute))

var _ = ReportAfterSuite("certification report", func(r Report) {
	if r.SuiteConfig.DryRun {
		return
	}
	cfg := harness.Config()
	run := report.Run{
		SchemaVersion: report.SchemaVersion,
		Date:          time.Now(),
		Suite:         SuiteVersion,
		Commit:        gitCommit(),
		Command:       reproduceCommand(r.SuiteConfig.LabelFilter),
		Config:        cfg.Redacted(),
		Machine:       report.Machine{Cores: runtime.NumCPU(), OS: osDescription()},
		Duration:      r.RunTime,
		Specs: report.SpecsFromGinkgo(r.SpecReports, catalogue.IDsFromLabels, harness.AdapterOf,
			report.Prefixes{NotApplicable: harness.NotApplicable, ExpectedFailure: harness.ExpectedFailure, UnexpectedPass: harness.UnexpectedPass}),
		HarnessErrors: report.HarnessFailures(r.SpecReports),
	}
	if t, ok := harness.TargetIfSet(); ok {
		run.Target = report.Target{Provider: t.Provider, Profile: t.Profile, DSN: t.RedactedDSN(), Path: t.Path, ServerVersion: t.ServerVersion, Images: t.Images}
	} else {
		run.Target = report.Target{Provider: cfg.Provider, Profile: cfg.Profile, DSN: config.RedactDSN(cfg.DSN), Path: "(target did not start)"}
	}
	for _, a := range harness.Selected() {
		run.Adapters = append(run.Adapters, a.Info())
	}
	addUnrunSpecs(&run, cfg.Profile, r.SuiteConfig.LabelFilter)
	Expect(report.WriteFiles(cfg.ReportDir, run)).To(Succeed())
	writeRegeneratedExpectations(cfg, run)
	fmt.Fprintf(os.Stdout, "pgwire-conformance: wrote %s/REPORT.md and results.json\n", cfg.ReportDir)
})

// addUnrunSpecs: when the suite's setup failed, Ginkgo reports no spec at
// all; the committed spec list (conformance.yaml) stands in for the tree,
// so every spec that would have run shows as a harness error.
func addUnrunSpecs(run *report.Run, profile, labelFilter string) {
	if len(run.Specs) > 0 {
		return
	}
	for _, h := range run.HarnessErrors {
		if !strings.Contains(h.Node, "BeforeSuite") || strings.HasPrefix(h.Node, "Report") {
			continue
		}
		names := make([]string, len(run.Adapters))
		for i, a := range run.Adapters {
			names[i] = a.Name
		}
		c, err := report.ReadConformance("conformance.yaml")
		if err == nil {
			run.Specs, err = report.UnrunSpecs(c, names, profile, labelFilter, h)
		}
		if err != nil {
			run.HarnessErrors = append(run.HarnessErrors, report.HarnessFailure{Node: "report", Message: "cannot list the specs that did not run: " + err.Error()})
		}
		return
	}
}

// logTail is the target's container log tail, appended to a harness error.
func logTail(ctx context.Context, r *target.Running) string {
	tails := r.LogTail(context.WithoutCancel(ctx), 20)
	if len(tails) == 0 {
		return ""
	}
	keys := make([]string, 0, len(tails))
	for k := range tails {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString("\n" + report.LogTailMarker + " ---\n")
	for _, k := range keys {
		fmt.Fprintf(&b, "[%s]\n%s\n", k, strings.TrimRight(tails[k], "\n"))
	}
	return b.String()
}

func gitCommit() string {
	out, err := exec.Command("git", "rev-parse", "--short=12", "HEAD").Output()
	if err != nil {
		return "unknown"
	}
	c := strings.TrimSpace(string(out))
	if st, err := exec.Command("git", "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(st) > 0 {
		c += "-dirty"
	}
	return c
}

func osDescription() string {
	b, err := os.ReadFile("/etc/os-release")
	if err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, "PRETTY_NAME="); ok {
				return strings.Trim(v, `"`) + " " + runtime.GOARCH
			}
		}
	}
	return runtime.GOOS + "/" + runtime.GOARCH
}

// reproduceCommand is the command that reruns this certification: the
// PGWC_COMMAND the Makefile passes, else ginkgo with the PGWC_* settings in
// force (secrets redacted).
func reproduceCommand(labelFilter string) string {
	if c := os.Getenv("PGWC_COMMAND"); c != "" {
		return c
	}
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "PGWC_") {
			k, v, _ := strings.Cut(kv, "=")
			if k == "PGWC_DSN" {
				v = config.RedactDSN(v)
			}
			env = append(env, k+"="+v)
		}
	}
	sort.Strings(env)
	cmd := strings.TrimSpace(strings.Join(env, " ") + " go tool ginkgo -r")
	if labelFilter != "" {
		cmd += " --label-filter='" + labelFilter + "'"
	}
	return cmd
}

// writeRegeneratedExpectations writes the expected-failure list this run's
// results imply, to paste into the reviewed list when results change.
func writeRegeneratedExpectations(cfg config.Config, run report.Run) {
	l := expectations.List{}
	for _, s := range run.Specs {
		e, ok := harness.Expected(s.Adapter, s.ID)
		// Listed entries stay when flaky or not run this time; the rest
		// follow this run's outcome.
		keep := ok && (e.Flaky || s.Outcome == report.NotRun)
		if s.Outcome != report.Failed && s.Outcome != report.ExpectedFail && !keep {
			continue
		}
		if !ok {
			e = expectations.Expectation{Reason: "TODO: why this fails: " + config.OneLine(s.Message)}
		}
		if l[s.Adapter] == nil {
			l[s.Adapter] = map[string]expectations.Expectation{}
		}
		l[s.Adapter][s.ID] = e
	}
	path := filepath.Join(cfg.ReportDir, "expected-failures."+cfg.Profile+".yaml")
	if err := os.WriteFile(path, []byte(expectations.Render(l)), 0o644); err == nil {
		fmt.Fprintf(os.Stdout, "pgwire-conformance: the expected-failure list these results imply is in %s (reviewed list: %s)\n", path, cfg.ExpectationsPath())
	}
}

// certifiedAdapters are the registered adapters a run certifies when none
// are named: every one but the broken-on-purpose fixtures.
func certifiedAdapters() []string {
	var out []string
	for _, name := range adapter.Names() {
		if a, ok := adapter.Lookup(name); ok && !a.Info().Fixture {
			out = append(out, name)
		}
	}
	return out
}
