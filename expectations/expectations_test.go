package expectations

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

var known = []string{"pgx", "pq"}

func TestParseAndLookup(t *testing.T) {
	l, err := Parse([]byte(`
pq:
  "Group / spec":
    reason: slow
    link: https://example.invalid/1
`), "x.yaml", known)
	if err != nil {
		t.Fatal(err)
	}
	e, ok := l.Lookup("pq", SpecID("Group", "spec"))
	if !ok || e.Reason != "slow" || e.Link == "" {
		t.Fatalf("Lookup = %+v, %v", e, ok)
	}
	if _, ok := l.Lookup("pgx", "Group / spec"); ok {
		t.Error("found an entry for an adapter that has none")
	}
}

func TestParseRejects(t *testing.T) {
	for name, in := range map[string]string{
		"unknown adapter": "mysql:\n  \"a / b\":\n    reason: x\n",
		"no reason":       "pq:\n  \"a / b\":\n    link: y\n",
		"not YAML":        "pq: [unclosed",
		"unknown key":     "pq:\n  \"a / b\":\n    reason: x\n    flaky: true\n",
	} {
		if _, err := Parse([]byte(in), "x.yaml", known); err == nil {
			t.Errorf("%s: accepted", name)
		} else if !strings.Contains(err.Error(), "x.yaml") {
			t.Errorf("%s: error %q does not name the file", name, err)
		}
	}
}

func TestLoadMissingFileIsEmpty(t *testing.T) {
	l, err := Load(filepath.Join(t.TempDir(), "none.yaml"), known)
	if err != nil || len(l) != 0 {
		t.Fatalf("Load(missing) = %v, %v", l, err)
	}
}

func TestRenderRoundTrips(t *testing.T) {
	in := List{
		"pq":  {"G / b": {Reason: `quote " and colon: x`}, "G / a": {Reason: "r", Link: "l"}},
		"pgx": {"H / c": {Reason: "s"}, "H / d": {Reason: "race", Intermittent: `42P05 "_pg3_0"`}},
	}
	path := filepath.Join(t.TempDir(), "l.yaml")
	if err := os.WriteFile(path, []byte(Render(in)), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := Load(path, known)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(in, out) {
		t.Errorf("round trip:\n got %+v\nwant %+v", out, in)
	}
	if Render(in) != Render(out) {
		t.Error("Render is not stable")
	}
}

func TestParseEmpty(t *testing.T) {
	for _, in := range []string{"", "# only a comment\n"} {
		if l, err := Parse([]byte(in), "x.yaml", known); err != nil || len(l) != 0 {
			t.Errorf("Parse(%q) = %v, %v; want an empty list", in, l, err)
		}
	}
}

func TestAnyAdapterAndExactWins(t *testing.T) {
	l, err := Parse([]byte(`
"*":
  "G / diverges":
    reason: every driver meets it
    source: server.py (read from code)
    reviewed: code
pq:
  "G / diverges":
    reason: lib/pq's own reason
`), "x.yaml", known)
	if err != nil {
		t.Fatal(err)
	}
	if e, ok := l.Lookup("pgx", "G / diverges"); !ok || e.Reason != "every driver meets it" || e.Reviewed != ReviewedCode || e.Source == "" {
		t.Errorf("pgx falls back to *: %+v, %v", e, ok)
	}
	if e, ok := l.Lookup("pq", "G / diverges"); !ok || e.Reason != "lib/pq's own reason" {
		t.Errorf("an exact adapter entry wins over *: %+v, %v", e, ok)
	}
	if _, ok := l.Lookup("pgx", "G / other"); ok {
		t.Error("found an entry nobody listed")
	}
}

func TestParseRejectsBadReviewed(t *testing.T) {
	_, err := Parse([]byte("pq:\n  \"a / b\":\n    reason: x\n    reviewed: guessed\n"), "x.yaml", known)
	if err == nil || !strings.Contains(err.Error(), "guessed") {
		t.Fatalf("reviewed: guessed accepted or not named: %v", err)
	}
}

func TestRenderQuotesAnyAdapter(t *testing.T) {
	in := List{AnyAdapter: {"G / a": {Reason: "r", Source: "s", Reviewed: ReviewedLive}}}
	out, err := Parse([]byte(Render(in)), "rendered", known)
	if err != nil {
		t.Fatalf("%v\n%s", err, Render(in))
	}
	if !reflect.DeepEqual(in, out) {
		t.Errorf("round trip:\n got %+v\nwant %+v", out, in)
	}
}

func TestCheckSpecIDsSuggestsTheClosest(t *testing.T) {
	ids := []string{"Wire: simple query / answers an empty query", "Wire: simple query / answers a Query of several statements"}
	l := List{
		"pq":       {ids[0]: {Reason: "ok"}},
		AnyAdapter: {"Wire: simple query / answer an empty query": {Reason: "typo"}},
	}
	err := CheckSpecIDs(l, "x.yaml", ids)
	if err == nil {
		t.Fatal("an entry naming no spec was accepted")
	}
	for _, want := range []string{"x.yaml", `"answer an empty query"`, `did you mean "` + ids[0] + `"`} {
		if !strings.Contains(err.Error(), strings.Trim(want, `"`)) {
			t.Errorf("error %q lacks %s", err, want)
		}
	}
	if err := CheckSpecIDs(List{"pq": {ids[1]: {Reason: "ok"}}}, "x.yaml", ids); err != nil {
		t.Errorf("a list naming real specs: %v", err)
	}
}

func TestEditDistances(t *testing.T) {
	for _, c := range []struct {
		a, b         string
		prefix, full int
	}{{"", "", 0, 0}, {"abc", "", 3, 3}, {"kitten", "sitting", 2, 3}, {"ü…", "u…", 1, 1}, {"same", "same", 0, 0}, {"open", "opens an engine", 0, 11}} {
		if p, f := editDistances(c.a, c.b); p != c.prefix || f != c.full {
			t.Errorf("editDistances(%q, %q) = %d, %d, want %d, %d", c.a, c.b, p, f, c.prefix, c.full)
		}
	}
	if got := Closest("abd", []string{"xyz", "abc", "abcd"}); got != "abc" {
		t.Errorf("Closest = %q", got)
	}
	// An ID cut short (and mistyped) suggests its spec, not a shorter one.
	specs := []string{
		"Contract: query execution / runs SELECT 1 and returns 1",
		"Contract: engine creation / opens an engine from the target URL, and dispose closes its server connections",
	}
	if got := Closest("Contract: engine / opens an engin", specs); got != specs[1] {
		t.Errorf("Closest = %q", got)
	}
}

// TestListsNameRealSpecs: every entry of every reviewed list in this
// directory names a spec of conformance.yaml (the embedded copy, which
// `make catalogue` regenerates; report.TestConformanceYAML keeps it fresh).
func TestListsNameRealSpecs(t *testing.T) {
	files, err := filepath.Glob("*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no expected-failure lists found: %v", err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		// Adapter names are the conformance package's business (it knows
		// every backend); here any adapter name passes, the spec IDs are
		// what is checked.
		var raw map[string]any
		if err := yaml.Unmarshal(b, &raw); err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		var names []string
		for a := range raw {
			names = append(names, a)
		}
		l, err := Parse(b, f, names)
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		if err := Strict(l, f); err != nil {
			t.Errorf("%v", err)
		}
	}
}

// TestIRISListSaysWhereAndHow: each entry of the iris list names where the
// divergence was found and how it was reviewed (code or live).
func TestIRISListSaysWhereAndHow(t *testing.T) {
	l, err := Load("iris.yaml", []string{"server"})
	if err != nil {
		t.Fatal(err)
	}
	if len(l) == 0 {
		t.Fatal("iris.yaml is empty")
	}
	for _, a := range l.adapters() {
		for _, id := range l.ids(a) {
			if e := l[a][id]; e.Source == "" || e.Reviewed == "" {
				t.Errorf("%s / %q: source %q, reviewed %q; want both", a, id, e.Source, e.Reviewed)
			}
		}
	}
}

// An intermittent entry accepts a pass and its own failure, never a failure
// for another cause; every other entry accepts only a failure.
func TestJudge(t *testing.T) {
	always := Expectation{Reason: "r"}
	sometimes := Expectation{Reason: "r", Intermittent: "42P05"}
	collided := errors.New(`sql error (SQLSTATE 42P05): prepared statement "_pg3_0" already exists`)
	other := errors.New("wrong row count: 2, want 3")
	for _, c := range []struct {
		name string
		e    Expectation
		err  error
		want Outcome
	}{
		{"always, failed", always, other, AsListed},
		{"always, passed", always, nil, UnexpectedPass},
		{"intermittent, its failure", sometimes, collided, AsListed},
		{"intermittent, passed", sometimes, nil, PassedIntermittent},
		{"intermittent, another failure", sometimes, other, OtherCause},
	} {
		if got := c.e.Judge(c.err); got != c.want {
			t.Errorf("%s: Judge = %v, want %v", c.name, got, c.want)
		}
	}
}
