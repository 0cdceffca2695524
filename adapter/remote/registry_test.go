package remote

import (
	"slices"
	"testing"
)

// Every built-in adapter's FR-013 baseline is an adapter of its backend,
// qualified with the backend's name; the raw driver names itself.
func TestBuiltinBaselines(t *testing.T) {
	names := BuiltinAdapterNames()
	if !slices.Contains(names, "python:psycopg-sync") || !slices.Contains(names, "python:sqlalchemy-async") {
		t.Fatalf("BuiltinAdapterNames = %v, want the python adapters", names)
	}
	for be := range Builtins {
		all, err := backendAdapters(be)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range all {
			if b := a.info.Baseline; b != "" && !slices.Contains(names, b) {
				t.Errorf("%s: baseline %q is not an adapter of backend %s", a.info.Name, b, be)
			}
		}
	}
	want := map[string]string{
		"python:psycopg-async":    "python:psycopg-sync",
		"python:psycopg-sync":     "python:psycopg-sync",
		"python:sqlalchemy-async": "python:sqlalchemy-sync",
		"python:sqlalchemy-sync":  "python:psycopg-sync",
		"python:asyncpg":          "python:psycopg-sync",
	}
	all, _ := backendAdapters("python")
	for _, a := range all {
		if a.info.Baseline != want[a.info.Name] {
			t.Errorf("%s: baseline %q, want %q", a.info.Name, a.info.Baseline, want[a.info.Name])
		}
		if own := a.info.IsOwnBaseline(); own != (a.info.Name == "python:psycopg-sync") {
			t.Errorf("%s: IsOwnBaseline = %v", a.info.Name, own)
		}
	}
}
