package expectations

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

var known = []string{"pgx", "pq"}

func TestParseAndLookup(t *testing.T) {
	l, err := Parse([]byte(`
pq:
  "Group / spec":
    reason: slow
    link: https://example.invalid/1
    flaky: true
`), "x.yaml", known)
	if err != nil {
		t.Fatal(err)
	}
	e, ok := l.Lookup("pq", SpecID("Group", "spec"))
	if !ok || e.Reason != "slow" || e.Link == "" || !e.Flaky {
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
		"pq":  {"G / b": {Reason: `quote " and colon: x`, Flaky: true}, "G / a": {Reason: "r", Link: "l"}},
		"pgx": {"H / c": {Reason: "s"}},
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
