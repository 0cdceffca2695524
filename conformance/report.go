package conformance

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sort"
	"strings"
	"time"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/types"
	"github.com/onsi/gomega"

	pgwc "github.com/pgwire-conformance/pgwire-conformance"
	"github.com/pgwire-conformance/pgwire-conformance/adapter"
	"github.com/pgwire-conformance/pgwire-conformance/catalogue"
	"github.com/pgwire-conformance/pgwire-conformance/config"
	"github.com/pgwire-conformance/pgwire-conformance/expectations"
	"github.com/pgwire-conformance/pgwire-conformance/harness"
	"github.com/pgwire-conformance/pgwire-conformance/health"
	"github.com/pgwire-conformance/pgwire-conformance/report"
)

// Release is the suite's version when it runs from a source tree without
// a module version of its own (this repository, or a replace directive).
const Release = "0.2.0"

// ModulePath is the suite's module.
const ModulePath = "github.com/pgwire-conformance/pgwire-conformance"

// writeReport runs on process 1 after every spec: it assembles the run's
// results — verdicts rest on the run's own evidence: the outcomes, the
// health monitor's outages — and writes REPORT.md, results.json and
// junit.xml.
func writeReport(r ginkgo.Report) {
	if r.SuiteConfig.DryRun {
		return
	}
	cfg := harness.Config()
	version, commit := SuiteVersion()
	run := report.Run{
		SchemaVersion:  report.SchemaVersion,
		Date:           time.Now(),
		Suite:          "pgwire-conformance " + version,
		Commit:         commit,
		Command:        reproduceCommand(r.SuiteConfig),
		Implementation: state.opts.Implementation,
		Config:         cfg.Redacted(),
		Machine:        report.Machine{Cores: runtime.NumCPU(), OS: osDescription()},
		Duration:       r.RunTime,
		Specs: report.SpecsFromGinkgo(r.SpecReports, catalogue.IDsFromLabels, harness.AdapterOf,
			report.Prefixes{NotApplicable: harness.NotApplicable, ExpectedFailure: harness.ExpectedFailure, UnexpectedPass: harness.UnexpectedPass}),
		HarnessErrors: report.HarnessFailures(r.SpecReports),
		Partial:       partial(r.SuiteConfig),
	}
	if reasons := interrupted(r); reasons != "" {
		run.Interrupted, run.InterruptReason = true, reasons
	}
	if t, ok := harness.TargetIfSet(); ok {
		run.Target = report.Target{Name: t.Name, Implementation: t.Implementation, Provider: t.Provider, Profile: t.Profile,
			DSN: t.RedactedDSN(), Path: t.Path, ServerVersion: t.ServerVersion, Images: t.Images}
	} else {
		run.Target = report.Target{Name: cfg.TargetName(), Provider: cfg.Provider, Profile: cfg.Profile, DSN: config.RedactDSN(cfg.DSN), Path: "(target did not start)"}
	}
	for _, a := range harness.Selected() {
		run.Adapters = append(run.Adapters, a.Info())
	}
	attributeOutages(&run, outages, specTimes(r.SpecReports))
	if cfg.TargetName() == "divergent" {
		attributeDivergences(&run)
	}
	markUnreached(&run, r.SuiteConfig)
	addUnrunSpecs(&run, cfg.Profile, r.SuiteConfig.LabelFilter)
	gomega.Expect(report.WriteFiles(cfg.ReportDir, run)).To(gomega.Succeed())
	writeRegeneratedExpectations(cfg, run)
	fmt.Fprintf(os.Stdout, "pgwire-conformance: wrote %s/REPORT.md, results.json and junit.xml\n", cfg.ReportDir)
}

// SuiteVersion is the suite's version and commit: the module version a
// driver repository depends on, else this source tree's release and git
// commit ("unknown" outside a git checkout).
func SuiteVersion() (version, commit string) {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, m := range bi.Deps {
			if m.Path == ModulePath && m.Version != "" && m.Version != "(devel)" && m.Replace == nil {
				return m.Version, pseudoCommit(m.Version)
			}
		}
	}
	return Release, gitCommit(sourceDir())
}

// pseudoCommit is the commit a pseudo-version names (v0.0.0-2026…-abcdef123456).
func pseudoCommit(v string) string {
	parts := strings.Split(v, "-")
	if last := parts[len(parts)-1]; len(parts) >= 3 && len(last) == 12 {
		return last
	}
	return v
}

// sourceDir is this package's source directory, where the build compiled
// it (the suite's own tree, or a replace target): its git commit is the
// suite's, whatever directory the caller's test runs in.
func sourceDir() string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return "."
	}
	return filepath.Dir(file)
}

func gitCommit(dir string) string {
	out, err := exec.Command("git", "-C", dir, "rev-parse", "--short=12", "HEAD").Output()
	if err != nil {
		return "unknown"
	}
	c := strings.TrimSpace(string(out))
	if st, err := exec.Command("git", "-C", dir, "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(st) > 0 {
		c += "-dirty"
	}
	return c
}

// partial says how the run selected a subset of the spec tree, "" when it
// ran all of it.
func partial(sc types.SuiteConfig) string {
	var why []string
	if sc.LabelFilter != "" {
		why = append(why, "label filter "+sc.LabelFilter)
	}
	if len(sc.FocusStrings) > 0 || len(sc.FocusFiles) > 0 {
		why = append(why, "focus "+strings.Join(append(sc.FocusStrings, sc.FocusFiles...), ", "))
	}
	if len(sc.SkipStrings) > 0 || len(sc.SkipFiles) > 0 {
		why = append(why, "skip "+strings.Join(append(sc.SkipStrings, sc.SkipFiles...), ", "))
	}
	return strings.Join(why, "; ")
}

// interrupted gives why the run ended early ("" when it did not).
func interrupted(r ginkgo.Report) string {
	var why []string
	for _, reason := range r.SpecialSuiteFailureReasons {
		l := strings.ToLower(reason)
		if strings.Contains(l, "interrupt") || strings.Contains(l, "timeout") || strings.Contains(l, "abort") {
			why = append(why, reason)
		}
	}
	for _, sr := range r.SpecReports {
		if sr.State.Is(types.SpecStateInterrupted | types.SpecStateAborted) {
			why = append(why, fmt.Sprintf("%s: %s", sr.State, firstLine(sr.Failure.Message)))
			break
		}
	}
	return strings.Join(why, "; ")
}

// specTimes maps a spec (adapter + ID) to when it ran.
func specTimes(srs types.SpecReports) map[string][2]time.Time {
	out := map[string][2]time.Time{}
	for _, sr := range srs {
		if sr.LeafNodeType != types.NodeTypeIt || sr.StartTime.IsZero() {
			continue
		}
		key := harness.AdapterOf(sr.Labels()) + "\x00" + report.GroupOf(sr.ContainerHierarchyTexts) + " / " + sr.LeafNodeText
		out[key] = [2]time.Time{sr.StartTime, sr.EndTime}
	}
	return out
}

// attributeOutages turns a failure that happened while the target or a
// backend was down or stalled — as the suite's own monitor saw it, not as
// the driver's error message says — into a harness error naming the cause,
// and lists every outage as a harness-level failure of the run.
func attributeOutages(run *report.Run, outs []health.Outage, times map[string][2]time.Time) {
	if len(outs) == 0 {
		return
	}
	judged := map[string]int{}
	for i := range run.Specs {
		s := &run.Specs[i]
		if s.Outcome != report.Failed && s.Outcome != report.ExpectedFail && s.Outcome != report.Inconclusive {
			continue
		}
		t, ok := times[s.Adapter+"\x00"+s.ID]
		if !ok {
			continue
		}
		o, ok := health.Overlapping(outs, t[0], t[1], time.Second)
		if !ok {
			continue
		}
		s.Message = report.HarnessErrorPrefix + " " + o.Describe() + " (the spec's own failure: " + firstLine(s.Message) + ")"
		s.Outcome = report.HarnessError
		judged[o.Describe()]++
	}
	for _, o := range outs {
		msg := o.Describe()
		if n := judged[msg]; n > 0 {
			msg += fmt.Sprintf("; %d spec(s) not judged", n)
		}
		run.HarnessErrors = append(run.HarnessErrors, report.HarnessFailure{Node: "health monitor", Message: msg})
	}
}

// markUnreached: in an interrupted run, the specs the filter selected but
// the run never reached are not "skipped by filter".
func markUnreached(run *report.Run, sc types.SuiteConfig) {
	if !run.Interrupted {
		return
	}
	filter, err := types.ParseLabelFilter(sc.LabelFilter)
	for i := range run.Specs {
		s := &run.Specs[i]
		if s.Outcome == report.NotRun && (err != nil || filter(s.Labels)) {
			s.Outcome = report.Unreached
			s.Message = "not reached: the run was interrupted (" + run.InterruptReason + ")"
		}
	}
}

// addUnrunSpecs: when the suite's setup failed, Ginkgo reports no spec at
// all; the embedded spec list stands in for the tree, so every spec that
// would have run shows as a harness error.
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
		c, err := report.ParseConformance(pgwc.ConformanceYAML, "conformance.yaml")
		if err == nil {
			run.Specs, err = report.UnrunSpecs(c, names, profile, labelFilter, h)
		}
		if err != nil {
			run.HarnessErrors = append(run.HarnessErrors, report.HarnessFailure{Node: "report", Message: "cannot list the specs that did not run: " + err.Error()})
		}
		return
	}
}

// reproduceCommand is the command that reruns this certification: the
// PGWC_COMMAND a Makefile passes, else `go test` of the caller's package
// with the PGWC_* settings and -pgwc.* flags in force and Ginkgo's filters
// (secrets redacted), run from the caller's module.
func reproduceCommand(sc types.SuiteConfig) string {
	if c := os.Getenv("PGWC_COMMAND"); c != "" {
		return c
	}
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "PGWC_") {
			env = append(env, config.Redact(kv))
		}
	}
	sort.Strings(env)
	pkg := "."
	if root, err := moduleRoot(state.testPkg); err == nil {
		if rel, err := filepath.Rel(root, state.testPkg); err == nil {
			pkg = "./" + filepath.ToSlash(rel)
		}
	}
	args := []string{"go", "test", pkg, "-count=1", "-timeout=60m", "-run", "'^" + state.test + "$'", "-args"}
	for name, v := range flags.Values() {
		args = append(args, "-pgwc."+name+"="+shellQuote(config.Redact(v)))
	}
	if sc.LabelFilter != "" {
		args = append(args, "-ginkgo.label-filter="+shellQuote(sc.LabelFilter))
	}
	for _, f := range sc.FocusStrings {
		args = append(args, "-ginkgo.focus="+shellQuote(f))
	}
	for _, f := range sc.FocusFiles {
		args = append(args, "-ginkgo.focus-file="+shellQuote(f))
	}
	if args[len(args)-1] == "-args" {
		args = args[:len(args)-1]
	}
	return strings.TrimSpace(strings.Join(env, " ") + " " + strings.Join(args, " "))
}

func shellQuote(s string) string {
	if s != "" && !strings.ContainsAny(s, " '\"$`\\|&;<>()*?![]{}~#") {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func moduleRoot(dir string) (string, error) {
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no go.mod above %s", dir)
		}
	}
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

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

// loadExpectations reads the caller's list (a path given is required to
// exist) or the suite's embedded list for the target (absent means none).
// Every entry must name a spec of the suite (conformance.yaml): a renamed
// spec cannot leave a stale entry that silently stops applying.
func loadExpectations(cfg config.Config, callerPath string) (expectations.List, error) {
	known := knownAdapterNames()
	var l expectations.List
	var name string
	if callerPath != "" || cfg.Expectations != "" {
		name = cfg.ExpectationsPath()
		b, err := os.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("expected-failure list %s: %w", name, err)
		}
		if l, err = expectations.Parse(b, name, known); err != nil {
			return nil, err
		}
	} else {
		name = cfg.ExpectationsPath() + " (embedded)"
		b, err := pgwc.Expectations.ReadFile(cfg.ExpectationsPath())
		if err != nil {
			return expectations.List{}, nil // no reviewed list for this target yet
		}
		if l, err = expectations.Parse(b, name, known); err != nil {
			return nil, err
		}
	}
	return l, expectations.Strict(l, name)
}

// writeRegeneratedExpectations writes the expected-failure list this run's
// results imply, to paste into the reviewed list when results change.
func writeRegeneratedExpectations(cfg config.Config, run report.Run) {
	l := expectations.List{}
	for _, s := range run.Specs {
		e, ok := harness.Expected(s.Adapter, s.ID)
		// Listed entries stay while this run could not decide them.
		keep := ok && (s.Outcome == report.NotRun || s.Outcome == report.Unreached || s.Outcome == report.Inconclusive)
		if s.Outcome != report.Failed && s.Outcome != report.ExpectedFail && !keep {
			continue
		}
		if !ok {
			e = expectations.Expectation{Reason: "TODO: why this fails: " + config.Redact(config.OneLine(s.Message))}
		}
		if l[s.Adapter] == nil {
			l[s.Adapter] = map[string]expectations.Expectation{}
		}
		l[s.Adapter][s.ID] = e
	}
	path := filepath.Join(cfg.ReportDir, "expected-failures."+cfg.TargetName()+".yaml")
	if err := os.WriteFile(path, []byte(expectations.Render(l)), 0o644); err == nil {
		fmt.Fprintf(os.Stdout, "pgwire-conformance: the expected-failure list these results imply is in %s (reviewed list: %s)\n", path, cfg.ExpectationsPath())
	}
}

var _ = adapter.Names // the adapter package registers the built-ins this package certifies
