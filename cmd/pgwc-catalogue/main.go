// Command pgwc-catalogue writes conformance.yaml: every spec of the suite
// (id, requirements, tasks, plain labels, needs, file:line), one entry per
// spec however many adapters run it. The spec list comes from a Ginkgo dry
// run's JSON report (what the tree really contains); file:line and needs
// come from the spec sources. `make catalogue` runs both steps:
//
//	go tool ginkgo --dry-run --output-dir=_output --json-report=dryrun.json .
//	go run ./cmd/pgwc-catalogue -dry-run _output/dryrun.json -o conformance.yaml
//
// It exits 1 (after writing) when a requirement or edge case has no spec or
// a spec names an unknown ID, as the unit test report.TestConformanceYAML does.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/pgwire-conformance/pgwire-conformance/catalogue"
	"github.com/pgwire-conformance/pgwire-conformance/report"
)

func main() {
	dry := flag.String("dry-run", "", "Ginkgo JSON report of a dry run (go tool ginkgo --dry-run --json-report=…)")
	root := flag.String("root", ".", "module root, where the spec sources are")
	out := flag.String("o", "conformance.yaml", "file to write")
	flag.Parse()
	if err := run(*dry, *root, *out); err != nil {
		fmt.Fprintf(os.Stderr, "pgwc-catalogue: %v\n", err)
		os.Exit(1)
	}
}

func run(dryPath, root, out string) error {
	if dryPath == "" {
		return fmt.Errorf("-dry-run is required: the JSON report of `go tool ginkgo --dry-run --json-report=…`")
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
	dry, err := report.ConformanceFromDryRun(reports, catalogue.IDsFromLabels)
	if err != nil {
		return err
	}
	src, unresolved, err := report.ScanSpecSources(root)
	if err != nil {
		return err
	}
	specs, notInTree, err := report.JoinSources(dry, src, unresolved)
	if err != nil {
		return err
	}
	for _, s := range notInTree {
		fmt.Fprintf(os.Stderr, "pgwc-catalogue: note: %s is in the sources but not in the dry run's tree (built only for some adapters or profiles?); listed from the sources\n", s)
	}
	c := report.Conformance{Specs: specs, NotApplicable: report.NotApplicableToBuiltins}
	y, err := c.Render()
	if err != nil {
		return err
	}
	if err := os.WriteFile(out, y, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "pgwc-catalogue: wrote %d specs to %s\n", len(specs), out)
	if p := report.CheckCoverage(specs); len(p) > 0 {
		for _, x := range p {
			fmt.Fprintln(os.Stderr, "  "+x)
		}
		return fmt.Errorf("%d catalogue problem(s)", len(p))
	}
	return nil
}
