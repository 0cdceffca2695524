package report

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/pgwire-conformance/pgwire-conformance/catalogue"
)

// TestConformanceYAML is the catalogue check (issue 3), without Docker or
// the ginkgo binary: conformance.yaml at the module root must
//   - give every FR-001…FR-014 and EC-1…EC-5 a spec, unless declared in
//     NotApplicableToBuiltins;
//   - name only catalogue IDs, and give each spec a requirement;
//   - not be stale: every spec declaration in the sources (an It call with
//     harness.Reqs) must be listed at its file:line, every listed spec must
//     sit on one, with the text and IDs the source spells out.
//
// When it fails, run `make catalogue` and review the diff.
func TestConformanceYAML(t *testing.T) {
	root, err := ModuleRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	c, err := ReadConformance(filepath.Join(root, "conformance.yaml"))
	if err != nil {
		t.Fatalf("read conformance.yaml (run `make catalogue`): %v", err)
	}
	for _, p := range CheckCoverage(c.Specs) {
		t.Error(p)
	}
	sites, err := SpecCallSites(root)
	if err != nil {
		t.Fatal(err)
	}
	if len(sites) == 0 {
		t.Fatal("the sources declare no spec: the call-site scan is broken")
	}
	for _, p := range Stale(c.Specs, sites) {
		t.Errorf("conformance.yaml is stale (run `make catalogue`): %s", p)
	}
	if !reflect.DeepEqual(c.NotApplicable, NotApplicableToBuiltins) && !(len(c.NotApplicable) == 0 && len(NotApplicableToBuiltins) == 0) {
		t.Errorf("conformance.yaml's not-applicable list %v differs from report.NotApplicableToBuiltins %v (run `make catalogue`)", c.NotApplicable, NotApplicableToBuiltins)
	}
}

func TestSpecCallSites(t *testing.T) {
	sites, err := SpecCallSites("testdata/specsrc")
	if err != nil {
		t.Fatal(err)
	}
	want := []CallSite{
		{File: "specs/specs.go:16", Text: "runs SELECT 1", IDs: []string{"FR-002", "T005"}},
		{File: "specs/specs.go:18", IDs: []string{"FR-011"}},     // text is a constant: not spelt out here
		{File: "specs/specs.go:23", IDs: []string{"FR-001"}},     // text built in a loop
		{File: "specs/specs.go:28", Text: "comes from a helper"}, // IDs from a variable
		{File: "specs/specs.go:30", Text: "concatenated text", IDs: []string{"EC-5"}},
	}
	if !reflect.DeepEqual(sites, want) {
		t.Errorf("call sites:\n got %+v\nwant %+v", sites, want)
	}
}

func conf(id string, reqs []string, file string) ConformanceSpec {
	g, text, _ := strings.Cut(id, " / ")
	r, tasks := SplitIDs(reqs)
	return ConformanceSpec{ID: id, Group: g, Text: text, Requirements: r, Tasks: tasks, Labels: []string{"contract"}, File: file}
}

// allCovered is a spec list that covers every requirement and edge case.
func allCovered() []ConformanceSpec {
	var out []ConformanceSpec
	for _, id := range []string{"FR-001", "FR-002", "FR-003", "FR-004", "FR-005", "FR-006", "FR-007", "FR-008", "FR-009", "FR-010", "FR-011", "FR-012", "FR-013", "FR-014", "EC-1", "EC-2", "EC-3", "EC-4", "EC-5"} {
		out = append(out, conf("G / covers "+id, []string{id}, "g.go:1"))
	}
	return out
}

func TestCheckCoverage(t *testing.T) {
	if p := CheckCoverage(allCovered()); len(p) != 0 {
		t.Fatalf("a complete list has problems: %v", p)
	}
	tests := []struct {
		name  string
		specs func() []ConformanceSpec
		want  string
	}{
		{"a requirement without spec", func() []ConformanceSpec { return allCovered()[1:] }, "FR-001 (Engine can be created from the target's URL) has no spec"},
		{"an edge case without spec", func() []ConformanceSpec { s := allCovered(); return s[:len(s)-1] }, "EC-5 (Transactions in async context) has no spec"},
		{"an unknown ID", func() []ConformanceSpec { return append(allCovered(), conf("G / typo", []string{"FR-099"}, "g.go:9")) }, "unknown requirement ID(s) FR-099"},
		{"tasks only", func() []ConformanceSpec { return append(allCovered(), conf("G / tasks", []string{"T005"}, "g.go:9")) }, `spec "G / tasks" (g.go:9)`},
		{"a duplicate ID", func() []ConformanceSpec {
			return append(allCovered(), conf("G / covers FR-001", []string{"FR-001"}, "h.go:2"))
		}, "declared twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := strings.Join(CheckCoverage(tt.specs()), "\n")
			if !strings.Contains(p, tt.want) {
				t.Errorf("problems %q lack %q", p, tt.want)
			}
		})
	}
}

// TestCheckCoverageNotApplicable: a declaration in NotApplicableToBuiltins
// exempts a requirement without spec, must go once it has one, and may
// only name requirements and edge cases.
func TestCheckCoverageNotApplicable(t *testing.T) {
	old := NotApplicableToBuiltins
	t.Cleanup(func() { NotApplicableToBuiltins = old })
	var withoutORM []ConformanceSpec
	for _, s := range allCovered() {
		if s.Requirements[0] != "FR-011" {
			withoutORM = append(withoutORM, s)
		}
	}
	NotApplicableToBuiltins = map[string]string{"FR-011": "no ORM"}
	if p := CheckCoverage(withoutORM); len(p) != 0 {
		t.Errorf("a declared requirement without spec has problems: %v", p)
	}
	if p := strings.Join(CheckCoverage(allCovered()), "\n"); !strings.Contains(p, "FR-011 has 1 spec(s) now: remove it from report.NotApplicableToBuiltins") {
		t.Errorf("a declared requirement with a spec: problems %q", p)
	}
	NotApplicableToBuiltins = map[string]string{"T001": "a task"}
	if p := strings.Join(CheckCoverage(allCovered()), "\n"); !strings.Contains(p, `names "T001", not a requirement or edge case`) {
		t.Errorf("a declared task: problems %q", p)
	}
}

func TestStale(t *testing.T) {
	sites := []CallSite{
		{File: "g.go:3", Text: "a", IDs: []string{"FR-001"}},
		{File: "g.go:7", Text: "b", IDs: []string{"FR-002", "T005"}},
		{File: "g.go:12"}, // a loop: text and IDs built at run time
	}
	listed := []ConformanceSpec{conf("G / a", []string{"FR-001"}, "g.go:3"), conf("G / b", []string{"T005", "FR-002"}, "g.go:7"),
		conf("G / loop x", []string{"FR-001"}, "g.go:12"), conf("G / loop y", []string{"FR-001"}, "g.go:12")}
	if p := Stale(listed, sites); len(p) != 0 {
		t.Fatalf("an up-to-date list is stale: %v", p)
	}
	tests := []struct {
		name   string
		listed func() []ConformanceSpec
		want   string
	}{
		{"a new spec", func() []ConformanceSpec { return listed[1:] }, `g.go:3: "a" is declared here but not in conformance.yaml`},
		{"a removed spec", func() []ConformanceSpec { return append(listed, conf("G / gone", []string{"FR-001"}, "g.go:40")) }, `lists "G / gone" at g.go:40, where the sources declare no spec`},
		{"changed requirements", func() []ConformanceSpec {
			l := append([]ConformanceSpec(nil), listed...)
			l[0].Requirements = []string{"FR-009"}
			return l
		}, `g.go:3: spec "G / a" names [FR-001], conformance.yaml has [FR-009]`},
		{"a moved spec", func() []ConformanceSpec {
			l := append([]ConformanceSpec(nil), listed...)
			l[1].File = "g.go:8"
			return l
		}, `lists "G / b" at g.go:8`},
		{"a renamed spec", func() []ConformanceSpec {
			l := append([]ConformanceSpec(nil), listed...)
			l[0].Text = "old a"
			return l
		}, `g.go:3: spec text "a", conformance.yaml has "old a"`},
		{"an unlisted loop", func() []ConformanceSpec { return listed[:2] }, "g.go:12: a spec is declared here but not in conformance.yaml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := strings.Join(Stale(tt.listed(), sites), "\n")
			if !strings.Contains(p, tt.want) {
				t.Errorf("problems %q lack %q", p, tt.want)
			}
		})
	}
}

func TestConformanceFromDryRun(t *testing.T) {
	root := t.TempDir()
	it := func(adapterName, text string, line int, labels ...string) types.SpecReport {
		return types.SpecReport{
			LeafNodeType: types.NodeTypeIt, LeafNodeText: text,
			ContainerHierarchyTexts:  []string{"G", "[" + adapterName + "]"},
			ContainerHierarchyLabels: [][]string{{"contract"}, {"adapter:" + adapterName, "profile:postgres"}},
			LeafNodeLabels:           labels,
			LeafNodeLocation:         types.CodeLocation{FileName: filepath.Join(root, "contract", "g.go"), LineNumber: line},
		}
	}
	reports := []types.Report{{SpecReports: types.SpecReports{
		it("pgx", "a", 3, "fr:FR-001", "task:T004"), it("pq", "a", 3, "fr:FR-001", "task:T004"),
		it("pgx", "loop x", 12, "fr:FR-001"), it("pgx", "b", 7, "fr:FR-002", "bulk", "needs:orm", "Serial"),
	}}}
	dry, err := ConformanceFromDryRun(reports, catalogue.IDsFromLabels, root)
	if err != nil {
		t.Fatal(err)
	}
	if len(dry) != 3 {
		t.Fatalf("dry run gives %d specs, want 3 (deduplicated across adapters): %+v", len(dry), dry)
	}
	want := ConformanceSpec{ID: "G / a", Group: "G", Text: "a", Requirements: []string{"FR-001"}, Tasks: []string{"T004"}, Labels: []string{"contract"}, File: "contract/g.go:3"}
	if !reflect.DeepEqual(dry[0], want) {
		t.Errorf("first spec\n got %+v\nwant %+v", dry[0], want)
	}
	if b := dry[1]; !reflect.DeepEqual(b.Labels, []string{"bulk", "contract"}) || !reflect.DeepEqual(b.Needs, []string{"orm"}) || b.File != "contract/g.go:7" {
		t.Errorf("spec b: labels %v, needs %v, file %s", b.Labels, b.Needs, b.File)
	}

	// Different requirements for different adapters are an error.
	bad := []types.Report{{SpecReports: types.SpecReports{it("pgx", "a", 3, "fr:FR-001"), it("pq", "a", 3, "fr:FR-002")}}}
	if _, err := ConformanceFromDryRun(bad, catalogue.IDsFromLabels, root); err == nil {
		t.Error("different IDs per adapter: no error")
	}
}

func TestConformanceRenderRoundTrip(t *testing.T) {
	c := Conformance{Specs: allCovered()[:2], NotApplicable: map[string]string{"FR-011": "an example reason"}}
	b, err := c.Render()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "conformance.yaml")
	if err := writeFile(path, b); err != nil {
		t.Fatal(err)
	}
	back, err := ReadConformance(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, c) {
		t.Errorf("round trip:\n got %+v\nwant %+v", back, c)
	}
	if !strings.HasPrefix(string(b), "# conformance.yaml") {
		t.Error("no header")
	}
}

func TestUnrunSpecs(t *testing.T) {
	c := Conformance{Specs: []ConformanceSpec{
		{ID: "G / tx", Group: "G", Text: "tx", Requirements: []string{"FR-006"}, Tasks: []string{"T031"}, Labels: []string{"transactions"}, File: "e.go:1"},
		{ID: "G / bulk", Group: "G", Text: "bulk", Requirements: []string{"FR-007"}, Labels: []string{"bulk", "contract"}, File: "b.go:1"},
	}}
	f := HarnessFailure{Node: "SynchronizedBeforeSuite", Message: "harness error: start the postgres target: boom\nmore"}
	specs, err := UnrunSpecs(c, []string{"pgx", "pq"}, "postgres", "transactions || adapter:pq", f)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]Outcome{}
	for _, s := range specs {
		got[s.Adapter+" "+s.ID] = s.Outcome
		if s.Outcome == HarnessError && s.Message != "did not run: the suite's SynchronizedBeforeSuite failed: harness error: start the postgres target: boom" {
			t.Errorf("message %q", s.Message)
		}
	}
	want := map[string]Outcome{"pgx G / tx": HarnessError, "pgx G / bulk": NotRun, "pq G / tx": HarnessError, "pq G / bulk": HarnessError}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("outcomes %v, want %v", got, want)
	}
	if RequirementOutcome(specs, "pgx", "FR-006") != HarnessError || RequirementOutcome(specs, "pgx", "T031") != HarnessError {
		t.Error("requirement of an unrun spec is not a harness error")
	}
	if _, err := UnrunSpecs(c, []string{"pgx"}, "postgres", "((", f); err == nil {
		t.Error("a malformed label filter: no error")
	}
}
