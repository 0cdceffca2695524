// Command pgwc-catalogue writes conformance.yaml: every spec of the suite
// (id, requirements, tasks, plain labels, needs, file:line), one entry per
// spec however many adapters run it, from a Ginkgo dry run's JSON report:
// what the tree really contains, each spec at the file:line it reports.
// `make catalogue` runs both steps:
//
//	go tool ginkgo --dry-run --output-dir=_output --json-report=dryrun.json .
//	go run ./cmd/pgwc-catalogue -dry-run _output/dryrun.json -o conformance.yaml
//
// It exits 1 (after writing) when a requirement or edge case has no spec, a
// spec names an unknown ID, or the written list disagrees with the spec
// declarations in the sources — the checks of the unit test
// report.TestConformanceYAML.
//
//	go run ./cmd/pgwc-catalogue -check conformance.yaml
//
// runs those checks on an existing file without writing anything.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/pgwire-conformance/pgwire-conformance/catalogue"
	"github.com/pgwire-conformance/pgwire-conformance/report"
)

func main() {
	dry := flag.String("dry-run", "", "Ginkgo JSON report of a dry run (go tool ginkgo --dry-run --json-report=…)")
	root := flag.String("root", ".", "module root: spec locations are written relative to it")
	out := flag.String("o", "conformance.yaml", "file to write")
	check := flag.String("check", "", "check this conformance.yaml against the sources instead of writing one")
	flag.Parse()
	var err error
	if *check != "" {
		err = checkFile(*check, *root, os.Stderr)
	} else {
		err = run(*dry, *root, *out, os.Stderr)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "pgwc-catalogue: %v\n", err)
		os.Exit(1)
	}
}

func run(dryPath, root, out string, stderr io.Writer) error {
	if dryPath == "" {
		return errors.New("-dry-run is required: the JSON report of `go tool ginkgo --dry-run --json-report=…`")
	}
	b, err := os.ReadFile(dryPath)
	if err != nil {
		return err
	}
	var reports []types.Report
	if err := json.Unmarshal(b, &reports); err != nil {
		return fmt.Errorf("%s is not a Ginkgo JSON report: %w", dryPath, err)
	}
	if len(reports) == 0 || !reports[0].SuiteConfig.DryRun {
		return fmt.Errorf("%s is not the report of a dry run (--dry-run)", dryPath)
	}
	specs, err := report.ConformanceFromDryRun(reports, catalogue.IDsFromLabels, root)
	if err != nil {
		return err
	}
	c := report.Conformance{Specs: specs, NotApplicable: report.NotApplicableToBuiltins}
	y, err := c.Render()
	if err != nil {
		return err
	}
	if err := os.WriteFile(out, y, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "pgwc-catalogue: wrote %d specs to %s\n", len(specs), out)
	return problems(c, root, stderr)
}

func checkFile(path, root string, stderr io.Writer) error {
	c, err := report.ReadConformance(path)
	if err != nil {
		return err
	}
	if err := problems(c, root, stderr); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "pgwc-catalogue: %s lists %d specs, matching the sources\n", path, len(c.Specs))
	return nil
}

// problems prints what is wrong with c as a certification and as a list of
// the sources' specs.
func problems(c report.Conformance, root string, stderr io.Writer) error {
	p := report.CheckCoverage(c.Specs)
	sites, err := report.SpecCallSites(root)
	if err != nil {
		return err
	}
	p = append(p, report.Stale(c.Specs, sites)...)
	for _, x := range p {
		fmt.Fprintln(stderr, "  "+x)
	}
	if len(p) > 0 {
		return fmt.Errorf("%d catalogue problem(s)", len(p))
	}
	return nil
}
