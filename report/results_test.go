package report

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestEncodeResultsSlim: results.json holds what the run observed, one
// line per spec result, and none of what conformance.yaml holds.
func TestEncodeResultsSlim(t *testing.T) {
	r := fixture()
	r.Specs[0].Message = "SELECT 1 < 2 && true"
	b, err := EncodeResults(r)
	if err != nil {
		t.Fatal(err)
	}
	if !json.Valid(b) {
		t.Fatalf("not valid JSON:\n%s", b)
	}
	s := string(b)
	for _, bad := range []string{`"group"`, `"text"`, `"requirements"`, `"labels"`, `\u003c`, `\u0026`} {
		if strings.Contains(s, bad) {
			t.Errorf("results.json holds %s", bad)
		}
	}
	var lines []string
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, `    {"adapter":`) {
			lines = append(lines, l)
		}
	}
	if len(lines) != len(r.Specs)+len(ComputeGates(r)) {
		t.Errorf("%d one-line entries, want one per spec result and gate verdict (%d)", len(lines), len(r.Specs)+len(ComputeGates(r)))
	}
	if !strings.Contains(s, `{"adapter":"pq","id":"Contract: queries / returns one row","outcome":"failed","message":"Expected\n    <int64>: 2\nto equal\n    <int64>: 1","location":"contract/query.go:42","duration":15000000}`) {
		t.Errorf("the failed spec's line is not as documented:\n%s", s)
	}
	if strings.Contains(s, `"location":"contract/tx.go:9"`) {
		t.Error("an unexpected pass's location (the spec's own) is written: conformance.yaml has it")
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(b, &top); err != nil {
		t.Fatal(err)
	}
	if _, ok := top["gates"]; !ok {
		t.Error("no gates")
	}
}

// TestHydrate: spec results of IDs conformance.yaml does not list keep
// their ID, split into group and text, and are reported.
func TestHydrate(t *testing.T) {
	r := Run{Specs: []Spec{{Adapter: "pgx", ID: "G / known"}, {Adapter: "pgx", ID: "Other: group / new spec / with a slash"}}}
	c := Conformance{Specs: []ConformanceSpec{{ID: "G / known", Group: "G", Text: "known", Requirements: []string{"FR-001"}, Tasks: []string{"T004"}, Labels: []string{"contract"}, File: "g.go:3"}}}
	unknown := Hydrate(&r, c)
	if len(unknown) != 1 || unknown[0] != "Other: group / new spec / with a slash" {
		t.Errorf("unknown %v", unknown)
	}
	k := r.Specs[0]
	if k.Group != "G" || k.Text != "known" || strings.Join(k.Requirements, ",") != "FR-001,T004" || k.Location != "g.go:3" ||
		strings.Join(k.Labels, ",") != "contract,fr:FR-001,task:T004,adapter:pgx" {
		t.Errorf("hydrated %+v", k)
	}
	if u := r.Specs[1]; u.Group != "Other: group" || u.Text != "new spec / with a slash" || len(u.Requirements) != 0 {
		t.Errorf("unknown spec %+v", u)
	}
	if got := Unresolved(r); len(got) != 1 {
		t.Errorf("Unresolved %v", got)
	}
}

// TestSuiteConformance: the embedded conformance.yaml parses.
func TestSuiteConformance(t *testing.T) {
	c, err := SuiteConformance()
	if err != nil || len(c.Specs) == 0 {
		t.Errorf("the embedded conformance.yaml: %d specs, %v", len(c.Specs), err)
	}
}
