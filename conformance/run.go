// Package conformance is the suite as a library: one call certifies the
// adapters a driver repository registers, against the suite's targets, with
// the suite's own spec list and expected-failure lists (embedded), and
// writes a versioned report naming the implementation under test — the
// Gateway API model. This repository's own suite_test.go is a thin caller
// of the same function:
//
//	func TestConformance(t *testing.T) {
//		conformance.Run(t, conformance.Options{
//			Adapters:       []adapter.Adapter{mydriver.Adapter{}},
//			Implementation: conformance.Implementation{Name: "mydriver", Version: "v1.2.3"},
//			Expectations:   "expectations.yaml",
//		})
//	}
package conformance

import (
	"context"
	"flag"
	"fmt"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/gomega"

	"github.com/pgwire-conformance/pgwire-conformance/adapter"
	_ "github.com/pgwire-conformance/pgwire-conformance/adapter/broken"
	_ "github.com/pgwire-conformance/pgwire-conformance/adapter/pgxadapter"
	"github.com/pgwire-conformance/pgwire-conformance/adapter/remote"
	_ "github.com/pgwire-conformance/pgwire-conformance/adapter/sqladapter"
	_ "github.com/pgwire-conformance/pgwire-conformance/compat"
	"github.com/pgwire-conformance/pgwire-conformance/config"
	"github.com/pgwire-conformance/pgwire-conformance/containers"
	_ "github.com/pgwire-conformance/pgwire-conformance/contract"
	_ "github.com/pgwire-conformance/pgwire-conformance/edge_cases"
	"github.com/pgwire-conformance/pgwire-conformance/harness"
	_ "github.com/pgwire-conformance/pgwire-conformance/integration"
	_ "github.com/pgwire-conformance/pgwire-conformance/iris_features"
	_ "github.com/pgwire-conformance/pgwire-conformance/protocolspecs"
	"github.com/pgwire-conformance/pgwire-conformance/report"
	"github.com/pgwire-conformance/pgwire-conformance/target"
	_ "github.com/pgwire-conformance/pgwire-conformance/wire"
)

// Options configure a certification run. Environment variables and
// -pgwc.* flags override them (so CI can narrow a run); the zero value
// certifies the suite's built-in adapters against the default target.
type Options struct {
	// Adapters are the caller's own adapters: registered, and — unless the
	// run names adapters itself — the only ones certified.
	Adapters []adapter.Adapter
	// Builtins names built-in adapters to certify next to Adapters (e.g.
	// "pgx", as a point of comparison).
	Builtins []string
	// Implementation is what is being certified, stamped into the report.
	Implementation report.Implementation
	// Expectations is the caller's reviewed expected-failure list (a path
	// relative to the test's package directory). Empty: the suite's own
	// list for the target.
	Expectations string
	// ReportDir is where REPORT.md, results.json and junit.xml go
	// (default _output, relative to the test's package directory).
	ReportDir string
	// Target, Profile, Provider and DSN choose the server (see config).
	Target, Profile, Provider, DSN string
	// TimeoutScale multiplies every spec's timeout (e.g. 2 on a slow CI
	// machine); 0 means 1.
	TimeoutScale float64
}

// Implementation is report.Implementation, re-exported so a caller needs
// one import.
type Implementation = report.Implementation

// plainLabels is the frozen list of plain labels specs may use; a spec
// with any other fails the tree. One literal Label call, so that `go tool
// ginkgo labels` lists them.
var plainLabels = ginkgo.Label("contract", "integration", "vector", "metadata", "functions",
	"transactions", "pool", "bulk", "errors", "performance", "http", "orm", "cursors", "compat",
	"protocol", "wire", "tls")

var (
	flags   = config.RegisterFlags(flag.CommandLine)
	runOnce sync.Once
	// run state of this process (process 1 holds the target and monitor).
	state struct {
		opts    Options
		testPkg string // the caller's package directory, for the reproduce line
		test    string // the caller's test name
		started time.Time
	}
)

// Run certifies the selected adapters. It must be called once per test
// binary, from a Test function; it builds the spec tree, starts the target
// (and backends) on Ginkgo's process 1, runs the specs and writes the
// report. Bad configuration ends the process with one line and exit code 2.
func Run(t *testing.T, o Options) {
	t.Helper()
	runProxyIfAsked() // this binary started again as the divergent target's proxy
	first := false
	runOnce.Do(func() { first = true })
	if !first {
		t.Fatal("conformance.Run called twice in one test binary: the spec tree is global")
	}
	state.opts, state.test, state.started = o, t.Name(), time.Now()
	state.testPkg, _ = os.Getwd()

	gomega.RegisterFailHandler(failRedacted)
	containers.DefaultEnv()
	for _, a := range o.Adapters {
		if _, dup := adapter.Lookup(a.Info().Name); !dup {
			adapter.Register(a)
		}
	}
	cfg, err := config.LoadWith(defaults(o), flags, os.Getenv, adapter.Names())
	if err != nil {
		exitf("configuration: %v", err)
	}
	harness.Configure(cfg)
	harness.AllowLabels(plainLabels...)
	exp, err := loadExpectations(cfg, o.Expectations)
	if err != nil {
		exitf("%v", err)
	}
	harness.SetExpectations(exp)

	suiteCfg, _ := ginkgo.GinkgoConfiguration()
	if ginkgo.GinkgoParallelProcess() == 1 && !suiteCfg.DryRun {
		if err := preflight(cfg); err != nil {
			exitf("%v", err)
		}
	}
	registerSuiteNodes()
	ginkgo.RunSpecs(t, "pgwire-conformance")
}

// defaults turns Options into the configuration's defaults.
func defaults(o Options) config.Config {
	c := config.Defaults()
	if len(o.Adapters) > 0 || len(o.Builtins) > 0 {
		c.Adapters = nil
		for _, a := range o.Adapters {
			c.Adapters = append(c.Adapters, a.Info().Name)
		}
		c.Adapters = append(c.Adapters, o.Builtins...)
	} else {
		c.Adapters = certifiedBuiltins()
	}
	set := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	set(&c.Target, o.Target)
	set(&c.Profile, o.Profile)
	set(&c.Provider, o.Provider)
	set(&c.DSN, o.DSN)
	set(&c.ReportDir, o.ReportDir)
	set(&c.Expectations, o.Expectations)
	if o.TimeoutScale > 0 {
		c.TimeoutScale = o.TimeoutScale
	}
	return c
}

// certifiedBuiltins are the registered adapters a run certifies when none
// are named: every one but the broken-on-purpose fixtures.
func certifiedBuiltins() []string {
	var out []string
	for _, name := range adapter.Names() {
		if a, ok := adapter.Lookup(name); ok && !a.Info().Fixture {
			out = append(out, name)
		}
	}
	return out
}

func preflight(cfg config.Config) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := checkReportDir(cfg.ReportDir); err != nil {
		return err
	}
	return target.Preflight(ctx, cfg)
}

// checkReportDir fails before any container starts when the report could
// not be written (found only after every spec ran, the results would be
// lost).
func checkReportDir(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("report dir %s: %w", dir, err)
	}
	f, err := os.CreateTemp(dir, ".pgwc-write-check-*")
	if err != nil {
		return fmt.Errorf("report dir %s is not writable: %w", dir, err)
	}
	f.Close()
	return os.Remove(f.Name())
}

// failRedacted is Gomega's fail handler: every failure message passes
// through the run's redaction (a dumped driver error can hold its
// config's password) before Ginkgo records it.
func failRedacted(message string, callerSkip ...int) {
	skip := 1
	if len(callerSkip) > 0 {
		skip += callerSkip[0]
	}
	ginkgo.Fail(config.Redact(message), skip)
}

func exitf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "pgwire-conformance: %s\n", config.Redact(config.OneLine(fmt.Sprintf(format, args...))))
	os.Exit(2)
}

// knownAdapterNames are the names an expected-failure list may use: the
// registered adapters, every built-in backend's adapters (registered or
// not) and the server-level specs' name.
func knownAdapterNames() []string {
	names := append(adapter.Names(), remote.BuiltinAdapterNames()...)
	names = append(names, harness.ServerAdapter, "*")
	slices.Sort(names)
	return slices.Compact(names)
}
