package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/pgwire-conformance/pgwire-conformance/report"
)

func td(name string) string { return filepath.Join("..", "..", "report", "testdata", name) }

// conf is the -conformance flag for the testdata: the fixture's spec list.
var conf = []string{"-conformance", td("conformance.yaml")}

func args(a ...string) []string {
	return append(append([]string{a[0]}, conf...), a[1:]...)
}

func TestMerge(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "merged")
	var out, errb bytes.Buffer
	if code := run(args("merge", "-o", dir, td("shard-pgx.json"), td("shard-pq.json")), &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if !strings.Contains(out.String(), "merged 2 runs (12 spec results") {
		t.Errorf("stdout %q", out.String())
	}
	c, err := report.ReadConformance(td("conformance.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	r, err := report.ReadResultsWith(filepath.Join(dir, "results.json"), c)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Shards) != 2 || !strings.HasPrefix(r.Command, "go run ./cmd/pgwc-report merge -o ") {
		t.Errorf("merged run: shards %d, command %q", len(r.Shards), r.Command)
	}
	for _, f := range []string{"REPORT.md", "junit.xml", report.LatencySVG, report.PerformanceMD} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
	if errb.Len() > 0 {
		t.Errorf("warnings merging results the conformance.yaml lists: %s", errb.String())
	}
}

// TestMergeAcrossTargets: runs against different targets merge into a
// report with a target × requirement view.
func TestMergeAcrossTargets(t *testing.T) {
	dir := t.TempDir()
	var out, errb bytes.Buffer
	if code := run(args("merge", "-o", dir, td("full.json"), td("iris.json")), &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if !strings.Contains(out.String(), "merged 2 runs across 2 targets") {
		t.Errorf("stdout %q", out.String())
	}
	md, err := os.ReadFile(filepath.Join(dir, "REPORT.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(md), "\n## Targets × requirements\n") {
		t.Error("no target × requirement view")
	}
}

func TestMergeRefuses(t *testing.T) {
	for _, tt := range []struct {
		args []string
		code int
		want string
	}{
		{args("merge", "-o", "x", td("shard-pgx.json"), td("full.json")), 1, "ran in two shards"},
		{args("merge", "-o", "x", td("malformed.json")), 1, "malformed.json: not a results file"},
		{args("merge", "-o", "x", td("schema-v1.json")), 1, "schema_version 1"},
		{[]string{"merge", td("shard-pgx.json")}, 2, "usage"},
		{[]string{"split"}, 2, "usage"},
		{[]string{}, 2, "usage"},
	} {
		var out, errb bytes.Buffer
		code := run(tt.args, &out, &errb)
		if code != tt.code || !strings.Contains(errb.String(), tt.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d, %q", tt.args, code, errb.String(), tt.code, tt.want)
		}
	}
}

// TestMergeWarnsUnknownSpecs: results whose specs the conformance.yaml in
// use does not list merge, with a warning saying what to do.
func TestMergeWarnsUnknownSpecs(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"merge", "-o", t.TempDir(), td("shard-pgx.json")}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if !strings.Contains(errb.String(), "does not list (results of another suite version? give its conformance.yaml with -conformance)") {
		t.Errorf("stderr %q", errb.String())
	}
}

var summaryLine = regexp.MustCompile(`^conformance: (\d+) passed, (\d+) failed, (\d+) unexpected passes, (\d+) harness errors, (\d+) inconclusive, (\d+) not reached, (\d+) expected failures, (\d+) not applicable, (\d+) skipped$`)

func TestSummary(t *testing.T) {
	var out, errOut strings.Builder
	code := run(args("summary", td("full.json")), &out, &errOut)
	all := strings.Split(strings.TrimSpace(out.String()), "\n")
	line := all[len(all)-1]
	m := summaryLine.FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("summary line %q (stderr %q)", line, errOut.String())
	}
	if m[1] != "4" || m[2] != "1" || m[3] != "1" || m[7] != "2" || m[8] != "2" || m[9] != "2" {
		t.Errorf("counts in %q", line)
	}
	if code != 1 {
		t.Errorf("a run with a failure: exit %d, want 1", code)
	}
	// The failures come before the line, with their messages.
	if !strings.Contains(out.String(), "failed [pq] Contract: queries / returns one row: Expected") ||
		!strings.Contains(out.String(), "unexpected pass [pq] Contract: transactions / rolls back") {
		t.Errorf("failures not listed: %q", out.String())
	}
	if code := run(args("summary", td("malformed.json")), &out, &errOut); code != 1 {
		t.Errorf("malformed file: exit %d, want 1", code)
	}
}

func TestSummaryExit(t *testing.T) {
	for _, tt := range []struct {
		name   string
		s      Summary
		strict bool
		fails  bool
	}{
		{"clean", Summary{Passed: 9, ExpectedFailures: 2, NotApplicable: 3}, false, false},
		{"failed", Summary{Passed: 9, Failed: 1}, false, true},
		{"unexpected pass", Summary{UnexpectedPasses: 1}, false, true},
		{"harness error", Summary{HarnessErrors: 1}, false, true},
		{"interrupted", Summary{Passed: 3, Unreached: 5, Interrupted: true}, false, true},
		{"inconclusive", Summary{Passed: 9, Inconclusive: 1}, false, false},
		{"inconclusive, strict", Summary{Passed: 9, Inconclusive: 1}, true, true},
	} {
		if got := tt.s.Fails(tt.strict); got != tt.fails {
			t.Errorf("%s: Fails(%v) = %v, want %v", tt.name, tt.strict, got, tt.fails)
		}
	}
}

func TestPublish(t *testing.T) {
	root := t.TempDir()
	src := t.TempDir()
	c, err := report.ReadConformance(td("conformance.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	r, err := report.ReadResultsWith(td("iris.json"), c)
	if err != nil {
		t.Fatal(err)
	}
	if err := report.WriteFiles(src, r); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	if code := run(args("publish", "-root", root, filepath.Join(src, "results.json")), &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	// The fixture's suite has no version: reports/unversioned/<target>.
	want := filepath.Join(root, "reports", "unversioned", "iris", "results.json")
	if _, err := os.Stat(want); err != nil {
		t.Errorf("published results: %v (stdout %q)", err, out.String())
	}
	for _, f := range []string{"REPORT.md", report.LatencySVG, report.PerformanceMD} {
		if _, err := os.Stat(filepath.Join(root, f)); err != nil {
			t.Errorf("published %s: %v", f, err)
		}
	}

	// An incomplete run is refused, and the published report stays.
	r.Partial = "label filter contract"
	if err := report.WriteFiles(src, r); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(filepath.Join(root, "REPORT.md"))
	errb.Reset()
	if code := run(args("publish", "-root", root, filepath.Join(src, "results.json")), &out, &errb); code != 1 || !strings.Contains(errb.String(), "not publishing") {
		t.Errorf("partial run: exit %d, stderr %q", code, errb.String())
	}
	if after, _ := os.ReadFile(filepath.Join(root, "REPORT.md")); !bytes.Equal(before, after) {
		t.Error("a refused publish changed REPORT.md")
	}
}
