package report

import (
	"encoding/xml"
	"strings"
	"testing"
)

// junitOf renders r as junit.xml and decodes it back.
func junitOf(t *testing.T, r Run) (string, junitSuites) {
	t.Helper()
	var b strings.Builder
	if err := WriteJUnit(&b, r); err != nil {
		t.Fatal(err)
	}
	var doc junitSuites
	if err := xml.Unmarshal([]byte(b.String()), &doc); err != nil {
		t.Fatalf("junit.xml is not well-formed: %v\n%s", err, b.String())
	}
	return b.String(), doc
}

func prop(ps []junitProperty, name string) []string {
	var out []string
	for _, p := range ps {
		if p.Name == name {
			out = append(out, p.Value)
		}
	}
	return out
}

// TestWriteJUnit: a testsuite per adapter, classname = spec group, name =
// spec text, requirement and task IDs as properties, file and line; every
// outcome distinguishable.
func TestWriteJUnit(t *testing.T) {
	r := fixture()
	r.Specs = append(r.Specs,
		Spec{Adapter: "pq", ID: "G / slow", Group: "G", Text: "slow", Requirements: []string{"FR-013"}, Outcome: Inconclusive, Message: "FR-013: interval contains the threshold"},
		Spec{Adapter: "pq", ID: "G / late", Group: "G", Text: "late", Requirements: []string{"FR-001"}, Outcome: Unreached, Message: "not reached: the run was interrupted (SIGINT)"},
		Spec{Adapter: "pq", ID: "G / broke", Group: "G", Text: "broke", Requirements: []string{"FR-001"}, Outcome: HarnessError, Message: "harness error: target down\x1b[0m"},
		Spec{Adapter: ServerAdapter, ID: "Wire / w", Group: "Wire", Text: "w", Requirements: []string{"FR-002"}, Outcome: Passed},
	)
	r.Specs[1].Transcript = &Transcript{Events: []Event{{Scope: "e1", Op: "query", SQL: "SELECT 1 < 2", Fetched: 1}}}
	r.Specs[1].Wire = []string{`c1 → Query "SELECT 1 < 2"`}
	r.HarnessErrors = []HarnessFailure{{Node: "health monitor", Message: "the target stopped answering for 4s", LogTail: "--- last log lines ---\nFATAL"}}
	raw, doc := junitOf(t, r)

	if doc.Tests != len(r.Specs)+1 || len(doc.Suites) != 4 {
		t.Fatalf("%d tests in %d suites, want %d in 4 (pgx, pq, server, harness)", doc.Tests, len(doc.Suites), len(r.Specs)+1)
	}
	names := []string{doc.Suites[0].Name, doc.Suites[1].Name, doc.Suites[2].Name, doc.Suites[3].Name}
	if strings.Join(names, ",") != "pgx,pq,server,harness" {
		t.Errorf("suites %v", names)
	}
	pq := doc.Suites[1]
	if pq.Failures != 2 || pq.Errors != 1 || pq.Skipped != 4 {
		t.Errorf("pq: %d failures, %d errors, %d skipped; want 2 (failed, unexpected pass), 1, 4", pq.Failures, pq.Errors, pq.Skipped)
	}
	if v := prop(pq.Properties, "gate:all"); len(v) != 1 || !strings.HasPrefix(v[0], "not certified: ") {
		t.Errorf("pq's gate property %v", v)
	}
	cases := map[string]junitCase{}
	for _, c := range pq.Cases {
		cases[c.Name] = c
	}
	c := cases["returns one row"]
	if c.Classname != "Contract: queries" || c.File != "contract/query.go" || c.Line != 42 {
		t.Errorf("testcase %+v", c)
	}
	if got := prop(c.Properties, "requirement"); strings.Join(got, ",") != "FR-002" {
		t.Errorf("requirements %v", got)
	}
	if got := prop(c.Properties, "task"); strings.Join(got, ",") != "T005" {
		t.Errorf("tasks %v", got)
	}
	if c.Failure == nil || c.Failure.Type != "failed" || !strings.Contains(c.Failure.Body, "SELECT 1 < 2") || !strings.Contains(c.Failure.Body, `c1 → Query "SELECT 1 < 2"`) {
		t.Errorf("failure %+v", c.Failure)
	}
	for name, want := range map[string]string{
		"maps a model":        "not applicable: adapter lacks capability orm",
		"bounds connections":  "", // pq passed it
		"sync misuse | probe": "skipped by filter",
		"slow":                "inconclusive: FR-013: interval contains the threshold",
		"late":                "not reached: the run was interrupted (SIGINT)",
	} {
		c := cases[name]
		got := ""
		if c.Skipped != nil {
			got = c.Skipped.Message
		}
		if got != want {
			t.Errorf("%s: skipped %q, want %q", name, got, want)
		}
	}
	if c := cases["rolls back"]; c.Failure == nil || c.Failure.Type != "unexpected pass" || prop(c.Properties, "outcome")[0] != "unexpected pass" {
		t.Errorf("unexpected pass: %+v", c)
	}
	if c := cases["broke"]; c.Error == nil || c.Error.Type != "harness error" || c.Failure != nil {
		t.Errorf("harness error: %+v", c)
	}
	var xfail junitCase
	for _, c := range doc.Suites[0].Cases {
		if c.Name == "bounds connections" {
			xfail = c
		}
	}
	if xfail.Skipped == nil || xfail.Skipped.Message != "expected failure: known: pool ignores PoolMax" || prop(xfail.Properties, "outcome")[0] != "expected failure" {
		t.Errorf("expected failure: %+v", xfail)
	}
	if h := doc.Suites[3].Cases[0]; h.Error == nil || !strings.Contains(h.Error.Body, "FATAL") {
		t.Errorf("suite-level harness error: %+v", h)
	}
	if strings.Contains(raw, "\x1b") {
		t.Error("junit.xml holds a control character XML forbids")
	}
}

// TestWriteJUnitAcrossTargets: a merge across targets has a testsuite per
// adapter and target.
func TestWriteJUnitAcrossTargets(t *testing.T) {
	a, b := fixture(), fixture()
	b.Target.Name, b.Target.ServerVersion = "iris", "IRIS 2025.1"
	m, err := Merge([]Run{a, b}, []string{"a.json", "b.json"}, MergeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, doc := junitOf(t, m)
	var names []string
	for _, s := range doc.Suites {
		names = append(names, s.Name)
	}
	if strings.Join(names, ",") != "pgx @ postgres,pq @ postgres,pgx @ iris,pq @ iris" {
		t.Errorf("suites %v", names)
	}
	if v := prop(doc.Suites[2].Properties, "target"); len(v) != 1 || v[0] != "iris" {
		t.Errorf("target property %v", v)
	}
}
