package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/pgwire-conformance/pgwire-conformance/report"
)

const specSource = `package specs

import "github.com/pgwire-conformance/pgwire-conformance/harness"

var _ = harness.ForEachAdapter("G", nil, func(s *harness.Subject) {
	s.It("runs SELECT 1", harness.Reqs("FR-002", "T005"), nil)
})
`

// dryRun writes a module with one spec source and the dry-run report of a
// tree whose spec sits at line.
func dryRun(t *testing.T, line int) (root, dry string) {
	t.Helper()
	root = t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "specs"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "specs", "specs.go"), []byte(specSource), 0o644); err != nil {
		t.Fatal(err)
	}
	var reports []types.Report
	r := types.Report{SuiteConfig: types.SuiteConfig{DryRun: true}}
	for _, a := range []string{"pgx", "pq"} {
		r.SpecReports = append(r.SpecReports, types.SpecReport{
			LeafNodeType: types.NodeTypeIt, LeafNodeText: "runs SELECT 1",
			ContainerHierarchyTexts: []string{"G", "[" + a + "]"}, LeafNodeLabels: []string{"fr:FR-002", "task:T005", "contract"},
			LeafNodeLocation: types.CodeLocation{FileName: filepath.Join(root, "specs", "specs.go"), LineNumber: line},
		})
	}
	reports = append(reports, r)
	b, err := json.Marshal(reports)
	if err != nil {
		t.Fatal(err)
	}
	dry = filepath.Join(root, "dryrun.json")
	if err := os.WriteFile(dry, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return root, dry
}

// TestRun: conformance.yaml comes from the dry run, each spec at the
// file:line it reports; the checks run on what was written.
func TestRun(t *testing.T) {
	root, dry := dryRun(t, 6)
	out := filepath.Join(root, "conformance.yaml")
	var stderr bytes.Buffer
	err := run(dry, root, out, &stderr)
	// One spec covers one requirement: the coverage check fails, the
	// staleness check does not.
	if err == nil || !strings.Contains(stderr.String(), "FR-001") || strings.Contains(stderr.String(), "specs/specs.go") {
		t.Errorf("run: %v\n%s", err, stderr.String())
	}
	c, err := report.ReadConformance(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Specs) != 1 || c.Specs[0].File != "specs/specs.go:6" || c.Specs[0].ID != "G / runs SELECT 1" || strings.Join(c.Specs[0].Tasks, ",") != "T005" {
		t.Errorf("specs %+v", c.Specs)
	}

	// A dry run that disagrees with the sources (a spec moved since) fails
	// the check, and -check says so of the file.
	root, dry = dryRun(t, 9)
	out = filepath.Join(root, "conformance.yaml")
	stderr.Reset()
	_ = run(dry, root, out, &stderr)
	if !strings.Contains(stderr.String(), `lists "G / runs SELECT 1" at specs/specs.go:9, where the sources declare no spec`) {
		t.Errorf("a moved spec is not reported:\n%s", stderr.String())
	}
	stderr.Reset()
	if err := checkFile(out, root, &stderr); err == nil || !strings.Contains(stderr.String(), `specs/specs.go:6: "runs SELECT 1" is declared here but not in conformance.yaml`) {
		t.Errorf("-check: %v\n%s", err, stderr.String())
	}
}

func TestRunRefuses(t *testing.T) {
	dir := t.TempDir()
	notDry := filepath.Join(dir, "report.json")
	if err := os.WriteFile(notDry, []byte(`[{"SuiteConfig":{"DryRun":false}}]`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ dry, want string }{
		{"", "-dry-run is required"},
		{notDry, "is not the report of a dry run"},
		{filepath.Join(dir, "missing.json"), "no such file"},
	} {
		if err := run(tt.dry, dir, filepath.Join(dir, "c.yaml"), &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: %v, want %q", tt.dry, err, tt.want)
		}
	}
}
