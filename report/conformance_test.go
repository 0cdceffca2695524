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
//   - not be stale: the spec sources, parsed with go/ast (ForEachAdapter
//     group, s.It text, harness.Reqs IDs, Label and Needs decorators,
//     file:line), must declare exactly the specs it lists.
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
	src, unresolved, err := ScanSpecSources(root)
	if err != nil {
		t.Fatal(err)
	}
	if len(src) == 0 {
		t.Fatal("the sources declare no spec: the scanner is broken")
	}
	for _, p := range Stale(c.Specs, src, unresolved) {
		t.Errorf("conformance.yaml is stale (run `make catalogue`): %s", p)
	}
	if !reflect.DeepEqual(c.NotApplicable, NotApplicableToBuiltins) && !(len(c.NotApplicable) == 0 && len(NotApplicableToBuiltins) == 0) {
		t.Errorf("conformance.yaml's not-applicable list %v differs from report.NotApplicableToBuiltins %v (run `make catalogue`)", c.NotApplicable, NotApplicableToBuiltins)
	}
}

func TestScanSpecSources(t *testing.T) {
	specs, unresolved, err := ScanSpecSources("testdata/specsrc")
	if err != nil {
		t.Fatal(err)
	}
	want := []ConformanceSpec{
		{ID: "Specs: sample / comes from a helper", Group: "Specs: sample", Text: "comes from a helper",
			Requirements: []string{"EC-5"}, Tasks: []string{"T031"}, Labels: []string{"contract", "transactions"}, File: "specs/specs.go:28"},
		{ID: "Specs: sample / maps a model", Group: "Specs: sample", Text: "maps a model",
			Requirements: []string{"FR-011"}, Labels: []string{"contract", "orm"}, Needs: []string{"orm"}, File: "specs/specs.go:18"},
		{ID: "Specs: sample / runs SELECT 1", Group: "Specs: sample", Text: "runs SELECT 1",
			Requirements: []string{"FR-002"}, Tasks: []string{"T005"}, Labels: []string{"contract"}, File: "specs/specs.go:16"},
	}
	if !reflect.DeepEqual(specs, want) {
		t.Errorf("specs:\n got %+v\nwant %+v", specs, want)
	}
	if len(unresolved) != 1 || unresolved[0].File != "specs/specs.go:23" || unresolved[0].Group != "Specs: sample" {
		t.Errorf("unresolved = %+v, want the loop's call site specs/specs.go:23", unresolved)
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
	src := []ConformanceSpec{conf("G / a", []string{"FR-001"}, "g.go:3"), conf("G / b", []string{"FR-002", "T005"}, "g.go:7")}
	unresolved := []UnresolvedSpec{{Group: "G", File: "g.go:12"}}
	listed := append(append([]ConformanceSpec(nil), src...), conf("G / loop x", []string{"FR-001"}, "g.go:12"), conf("G / loop y", []string{"FR-001"}, "g.go:12"))
	if p := Stale(listed, src, unresolved); len(p) != 0 {
		t.Fatalf("an up-to-date list is stale: %v", p)
	}
	tests := []struct {
		name   string
		listed func() []ConformanceSpec
		want   string
	}{
		{"a new spec", func() []ConformanceSpec { return listed[1:] }, `spec "G / a" is not in conformance.yaml`},
		{"a removed spec", func() []ConformanceSpec { return append(listed, conf("G / gone", []string{"FR-001"}, "g.go:40")) }, `lists "G / gone" (g.go:40), which the sources no longer declare`},
		{"changed requirements", func() []ConformanceSpec {
			l := append([]ConformanceSpec(nil), listed...)
			l[0].Requirements = []string{"FR-009"}
			return l
		}, "requirements [FR-009], sources [FR-001]"},
		{"a moved spec", func() []ConformanceSpec {
			l := append([]ConformanceSpec(nil), listed...)
			l[1].File = "g.go:8"
			return l
		}, "file g.go:8, sources g.go:7"},
		{"changed labels", func() []ConformanceSpec {
			l := append([]ConformanceSpec(nil), listed...)
			l[1].Labels = []string{"bulk"}
			return l
		}, "labels [bulk], sources [contract]"},
		{"an unlisted loop", func() []ConformanceSpec { return listed[:2] }, "g.go:12: a spec call site conformance.yaml lists no spec for"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := strings.Join(Stale(tt.listed(), src, unresolved), "\n")
			if !strings.Contains(p, tt.want) {
				t.Errorf("problems %q lack %q", p, tt.want)
			}
		})
	}
}

func TestConformanceFromDryRunAndJoin(t *testing.T) {
	it := func(adapterName, text string, labels ...string) types.SpecReport {
		return types.SpecReport{
			LeafNodeType: types.NodeTypeIt, LeafNodeText: text,
			ContainerHierarchyTexts:  []string{"G", "[" + adapterName + "]"},
			ContainerHierarchyLabels: [][]string{{"contract"}, {"adapter:" + adapterName, "profile:postgres"}},
			LeafNodeLabels:           labels,
		}
	}
	reports := []types.Report{{SpecReports: types.SpecReports{
		it("pgx", "a", "fr:FR-001", "task:T004"), it("pq", "a", "fr:FR-001", "task:T004"),
		it("pgx", "loop x", "fr:FR-001"), it("pgx", "b", "fr:FR-002", "bulk"),
	}}}
	dry, err := ConformanceFromDryRun(reports, catalogue.IDsFromLabels)
	if err != nil {
		t.Fatal(err)
	}
	if len(dry) != 3 {
		t.Fatalf("dry run gives %d specs, want 3 (deduplicated across adapters): %+v", len(dry), dry)
	}
	if dry[0].ID != "G / a" || !reflect.DeepEqual(dry[0].Requirements, []string{"FR-001"}) || !reflect.DeepEqual(dry[0].Tasks, []string{"T004"}) || !reflect.DeepEqual(dry[0].Labels, []string{"contract"}) {
		t.Errorf("first spec %+v", dry[0])
	}
	if !reflect.DeepEqual(dry[1].Labels, []string{"bulk", "contract"}) {
		t.Errorf("labels of b: %v", dry[1].Labels)
	}
	src := []ConformanceSpec{conf("G / a", []string{"FR-001", "T004"}, "g.go:3"), conf("G / b", []string{"FR-002"}, "g.go:7"), conf("G / only for iris", []string{"FR-004"}, "g.go:20")}
	joined, notInTree, err := JoinSources(dry, src, []UnresolvedSpec{{Group: "G", File: "g.go:12"}})
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{}
	for _, s := range joined {
		files[s.ID] = s.File
	}
	if files["G / a"] != "g.go:3" || files["G / loop x"] != "g.go:12" || files["G / only for iris"] != "g.go:20" {
		t.Errorf("joined files %v", files)
	}
	if len(notInTree) != 1 || !strings.HasPrefix(notInTree[0], "G / only for iris") {
		t.Errorf("notInTree %v", notInTree)
	}
	if _, _, err := JoinSources(dry, src, nil); err == nil || !strings.Contains(err.Error(), `"G / loop x" is in the tree but not found in the sources`) {
		t.Errorf("a dry-run spec without a source: %v", err)
	}

	// Different requirements for different adapters are an error.
	bad := []types.Report{{SpecReports: types.SpecReports{it("pgx", "a", "fr:FR-001"), it("pq", "a", "fr:FR-002")}}}
	if _, err := ConformanceFromDryRun(bad, catalogue.IDsFromLabels); err == nil {
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
