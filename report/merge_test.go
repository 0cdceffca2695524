package report

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite report/testdata/*.json from the fixture")

// withIDs gives the fixture's specs the IDs SpecsFromGinkgo would.
func withIDs(r Run) Run {
	r.Specs = append([]Spec(nil), r.Specs...)
	for i := range r.Specs {
		r.Specs[i].ID = r.Specs[i].Group + " / " + r.Specs[i].Text
	}
	return r
}

// shard keeps the fixture's specs for which keep is true; the others become
// "skipped by filter" (label shards) or are dropped with their adapter
// (adapter shards, drop=true).
func shard(r Run, keep func(Spec) bool, drop bool, command string, date time.Time) Run {
	r = withIDs(r)
	out := r
	out.Specs = nil
	out.Command = command
	out.Date = date
	used := map[string]bool{}
	for _, s := range r.Specs {
		switch {
		case keep(s):
			out.Specs = append(out.Specs, s)
			used[s.Adapter] = true
		case !drop:
			out.Specs = append(out.Specs, Spec{Adapter: s.Adapter, ID: s.ID, Group: s.Group, Text: s.Text, Requirements: s.Requirements, Labels: s.Labels, Outcome: NotRun})
		}
	}
	if drop {
		out.Adapters = nil
		for _, a := range r.Adapters {
			if used[a.Name] {
				out.Adapters = append(out.Adapters, a)
			}
		}
		out.Config = map[string]string{}
		for k, v := range r.Config {
			out.Config[k] = v
		}
		out.Config["adapters"] = out.Adapters[0].Name
	}
	return out
}

// testdataConformance is testdata/conformance.yaml: the fixture's spec
// list, which its results files are hydrated from.
func testdataConformance(t *testing.T) Conformance {
	t.Helper()
	c, err := ReadConformance(filepath.Join("testdata", "conformance.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var testdataRuns = map[string]func() any{
	"full.json": func() any { return withIDs(fixture()) },
	"shard-pgx.json": func() any {
		return shard(fixture(), func(s Spec) bool { return s.Adapter == "pgx" }, true, "PGWC_ADAPTERS=pgx go tool ginkgo -p .", time.Date(2025, 3, 4, 5, 0, 0, 0, time.UTC))
	},
	"shard-pq.json": func() any {
		return shard(fixture(), func(s Spec) bool { return s.Adapter == "pq" }, true, "PGWC_ADAPTERS=pq go tool ginkgo -p .", time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC))
	},
	"shard-label-contract.json": func() any {
		return shard(fixture(), func(s Spec) bool { return strings.HasPrefix(s.Group, "Contract: ") && s.Group < "Contract: p" }, false, "go tool ginkgo -p --label-filter=a .", time.Date(2025, 3, 4, 5, 0, 0, 0, time.UTC))
	},
	"shard-label-rest.json": func() any {
		return shard(fixture(), func(s Spec) bool { return !(strings.HasPrefix(s.Group, "Contract: ") && s.Group < "Contract: p") }, false, "go tool ginkgo -p --label-filter=b .", time.Date(2025, 3, 4, 5, 0, 0, 0, time.UTC))
	},
	"other-target.json": func() any {
		r := shard(fixture(), func(s Spec) bool { return s.Adapter == "pq" }, true, "PGWC_ADAPTERS=pq go tool ginkgo -p .", time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC))
		r.Target.ServerVersion = "PostgreSQL 16.4"
		return r
	},
	"reference-pg16.json": func() any {
		r := withIDs(fixture())
		r.Target.ServerVersion = "PostgreSQL 16.4"
		r.Specs = append([]Spec(nil), r.Specs...)
		r.Specs[1].Outcome, r.Specs[1].Message = Passed, "" // pq passes FR-002 on 16
		return r
	},
	"iris.json": func() any {
		r := withIDs(fixture())
		r.Target = Target{Name: "iris", Implementation: "iris-pgwire 1.2 + IRIS 2025.1", Provider: "external", Profile: "iris", ServerVersion: "IRIS 2025.1"}
		r.Date = time.Date(2025, 3, 5, 0, 0, 0, 0, time.UTC)
		return r
	},
	"schema-v1.json": func() any {
		r := shard(fixture(), func(s Spec) bool { return s.Adapter == "pq" }, true, "old", time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC))
		r.SchemaVersion = 1
		return r
	},
}

func TestUpdateTestdata(t *testing.T) {
	if !*update {
		t.Skip("run with -update to rewrite report/testdata")
	}
	for name, f := range testdataRuns {
		b, err := testdataBytes(f())
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join("testdata", name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	y, err := fixtureConformance(withIDs(fixture())).Render()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join("testdata", "conformance.yaml"), y, 0o644); err != nil {
		t.Fatal(err)
	}
}

// testdataBytes is a fixture run as results.json.
func testdataBytes(v any) ([]byte, error) {
	r := v.(Run)
	if r.SchemaVersion != SchemaVersion {
		// An old file: only its schema_version matters to the tests.
		return json.MarshalIndent(struct {
			SchemaVersion int    `json:"schema_version"`
			Suite         string `json:"suite"`
		}{r.SchemaVersion, r.Suite}, "", "  ")
	}
	return EncodeResults(r)
}

// TestTestdataCurrent: the committed fixture files are what the fixture
// makes (else run go test ./report -run TestUpdateTestdata -update).
func TestTestdataCurrent(t *testing.T) {
	for name, f := range testdataRuns {
		want, err := testdataBytes(f())
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		if strings.TrimSpace(string(got)) != strings.TrimSpace(string(want)) {
			t.Errorf("testdata/%s is stale: go test ./report -run TestUpdateTestdata -update", name)
		}
	}
	y, _ := fixtureConformance(withIDs(fixture())).Render()
	if got, err := os.ReadFile(filepath.Join("testdata", "conformance.yaml")); err != nil || string(got) != string(y) {
		t.Errorf("testdata/conformance.yaml is stale (%v): go test ./report -run TestUpdateTestdata -update", err)
	}
}

func read(t *testing.T, names ...string) ([]Run, []string) {
	t.Helper()
	var runs []Run
	var paths []string
	c := testdataConformance(t)
	for _, n := range names {
		p := filepath.Join("testdata", n)
		r, err := ReadResultsWith(p, c)
		if err != nil {
			t.Fatalf("ReadResults(%s): %v", p, err)
		}
		runs = append(runs, r)
		paths = append(paths, p)
	}
	return runs, paths
}

// matrix is the gate verdicts and the requirement × adapter matrix of a
// report.
func matrix(t *testing.T, r Run) string {
	t.Helper()
	md := markdown(t, r)
	return section(t, md, "Certification verdicts") + section(t, md, "Requirements × adapters")
}

func TestMergeAdapterShardsEqualsFullRun(t *testing.T) {
	full, _ := read(t, "full.json")
	runs, paths := read(t, "shard-pgx.json", "shard-pq.json")
	merged, err := Merge(runs, paths, MergeOptions{Command: "merge"})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := matrix(t, merged), matrix(t, full[0]); got != want {
		t.Errorf("merged matrix differs from the full run's:\n--- merged\n%s\n--- full\n%s", got, want)
	}
	if !reflect.DeepEqual(Counts(merged.Specs), Counts(full[0].Specs)) {
		t.Errorf("counts %v, full run %v", Counts(merged.Specs), Counts(full[0].Specs))
	}
	if len(merged.Shards) != 2 || merged.Shards[0].Source != paths[0] || merged.Shards[1].Specs != 6 {
		t.Errorf("shards %+v", merged.Shards)
	}
	if merged.Config["adapters"] != "pgx,pq" {
		t.Errorf("merged adapters setting %q", merged.Config["adapters"])
	}
	if !merged.Date.Equal(time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)) {
		t.Errorf("date %v, want the latest shard's", merged.Date)
	}
	md := markdown(t, merged)
	for _, w := range []string{"| Merged from | 2 runs: `testdata/shard-pgx.json`, `testdata/shard-pq.json` |", "- testdata/shard-pq.json: `PGWC_ADAPTERS=pq go tool ginkgo -p .`", "### ❌ pq — Contract: queries / returns one row"} {
		if !strings.Contains(md, w) {
			t.Errorf("merged REPORT.md lacks %q", w)
		}
	}
	// Merging a merged report with nothing else keeps its shards.
	again, err := Merge([]Run{merged}, []string{"merged.json"}, MergeOptions{})
	if err != nil || len(again.Shards) != 2 {
		t.Errorf("re-merge: %v, shards %+v", err, again.Shards)
	}
}

func TestMergeLabelShardsEqualsFullRun(t *testing.T) {
	full, _ := read(t, "full.json")
	runs, paths := read(t, "shard-label-contract.json", "shard-label-rest.json")
	for _, order := range [][]int{{0, 1}, {1, 0}} {
		merged, err := Merge([]Run{runs[order[0]], runs[order[1]]}, []string{paths[order[0]], paths[order[1]]}, MergeOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := matrix(t, merged), matrix(t, full[0]); got != want {
			t.Errorf("order %v: merged matrix differs from the full run's:\n--- merged\n%s\n--- full\n%s", order, got, want)
		}
		if c := Counts(merged.Specs); c[NotRun] != Counts(full[0].Specs)[NotRun] {
			t.Errorf("order %v: %d skipped by filter, full run %d", order, c[NotRun], Counts(full[0].Specs)[NotRun])
		}
	}
}

func TestMergeRefuses(t *testing.T) {
	tests := []struct {
		name  string
		files []string
		force bool
		want  string
	}{
		{"overlapping shards", []string{"shard-pgx.json", "full.json"}, false, "[pgx] Contract: queries / returns one row ran in two shards (testdata/shard-pgx.json and testdata/full.json)"},
		{"overlapping shards, forced", []string{"shard-pgx.json", "full.json"}, true, "ran in two shards"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			runs, paths := read(t, tt.files...)
			_, err := Merge(runs, paths, MergeOptions{Force: tt.force})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
	runs, paths := read(t, "shard-pgx.json", "shard-pq.json")
	runs[1] = runs[0]
	runs[1].Commit = "def5678"
	runs[1].Specs = nil
	if _, err := Merge(runs, paths, MergeOptions{}); err == nil || !strings.Contains(err.Error(), "different suite versions (pgwire-conformance abc1234 vs pgwire-conformance def5678)") {
		t.Errorf("different commits: %v", err)
	}
}

func TestReadResultsRefuses(t *testing.T) {
	for _, tt := range []struct{ file, want string }{
		{"malformed.json", "testdata/malformed.json: not a results file (malformed JSON"},
		{"schema-v1.json", "testdata/schema-v1.json: schema_version 1, this tool reads 3"},
		{"no-such-file.json", "no such file"},
		{"no-schema.json", "testdata/no-schema.json: not a results file (no schema_version)"},
		{"not-results.json", "testdata/not-results.json: not a results file (a JSON array: a Ginkgo JSON report?"},
	} {
		_, err := ReadResults(filepath.Join("testdata", tt.file))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want %q", tt.file, err, tt.want)
		}
	}
}

// TestMergeAcrossTargets: results of several targets merge into one report
// with a target × requirement view (issue 12), each spec result naming its
// target; targets of one name are told apart by their server version.
func TestMergeAcrossTargets(t *testing.T) {
	runs, paths := read(t, "full.json", "reference-pg16.json", "iris.json")
	merged, err := Merge(runs, paths, MergeOptions{Command: "merge"})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tg := range merged.Targets {
		names = append(names, tg.Name)
	}
	if want := []string{"postgres (PostgreSQL 17.2)", "postgres (PostgreSQL 16.4)", "iris"}; !reflect.DeepEqual(names, want) {
		t.Fatalf("targets %q, want %q", names, want)
	}
	if len(merged.Specs) != 3*len(runs[0].Specs) {
		t.Errorf("%d spec results, want every run's (%d)", len(merged.Specs), 3*len(runs[0].Specs))
	}
	md := markdown(t, merged)
	view := section(t, md, "Targets × requirements")
	if !strings.Contains(view, "| | requirement | postgres (PostgreSQL 17.2) | postgres (PostgreSQL 16.4) | iris |") {
		t.Errorf("target × requirement view lacks the targets:\n%s", view)
	}
	// FR-002: pq fails on 17 and iris, passes on 16; pgx passes everywhere.
	if cells := row(t, view, "FR-002"); cells[2] != "❌ 1 · ✅ 1" || cells[3] != "✅ 2" || cells[4] != "❌ 1 · ✅ 1" {
		t.Errorf("FR-002 across targets: %q", cells)
	}
	for _, n := range names {
		section(t, md, "Requirements × adapters on "+n)
	}
	if g := section(t, md, "Certification verdicts"); !strings.Contains(g, "| pq @ postgres (PostgreSQL 16.4) |") || !strings.Contains(g, "| pgx @ iris |") {
		t.Errorf("gates are not per adapter and target:\n%s", g)
	}
	if f := section(t, md, "Failures"); !strings.Contains(f, "### ❌ pq @ postgres (PostgreSQL 17.2), pq @ iris — Contract: queries / returns one row") {
		t.Errorf("failures do not name their targets:\n%s", f)
	}
	// The merged results read back as the same merge.
	dir := t.TempDir()
	if err := WriteFiles(dir, merged); err != nil {
		t.Fatal(err)
	}
	back, err := ReadResultsWith(filepath.Join(dir, "results.json"), testdataConformance(t))
	if err != nil {
		t.Fatal(err)
	}
	if md2 := markdown(t, back); md2 != md {
		t.Error("the merged results.json does not render the merged report again")
	}
	// Merging it with a run of a target it has adds a shard, not a target.
	again, err := Merge([]Run{back, runs[2]}, []string{"merged.json", "iris-again.json"}, MergeOptions{})
	if err == nil || !strings.Contains(err.Error(), "ran in two shards") {
		t.Errorf("a target's results merged twice: %v (targets %d)", err, len(again.Targets))
	}
}
