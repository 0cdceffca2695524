package profile

import (
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestIRISSQL(t *testing.T) {
	p := IRIS
	checks := []struct{ what, got, want string }{
		{"Name", p.Name, "iris"},
		{"Schema", p.Schema, "SQLUser"},
		{"VectorType(3)", p.VectorType(3), "VECTOR(FLOAT, 3)"},
		{"VectorType(128)", p.VectorType(128), "VECTOR(FLOAT, 128)"},
		{"VectorParam(1)", p.VectorParam(1), "TO_VECTOR($1, FLOAT)"},
		{"VectorParam(12)", p.VectorParam(12), "TO_VECTOR($12, FLOAT)"},
		{"CosineSimilarity", p.CosineSimilarity("a", "b"), "VECTOR_COSINE(a, b)"},
		{"CosineSimilarity nested", p.CosineSimilarity("embedding", p.VectorParam(1)), "VECTOR_COSINE(embedding, TO_VECTOR($1, FLOAT))"},
		{"Sleep(0.2)", p.Sleep(0.2), "SELECT pgwc_sleep(0.2)"},
		{"Sleep(2)", p.Sleep(2), "SELECT pgwc_sleep(2)"},
		{"ConnectionsSQL", p.ConnectionsSQL(), ""},
		{"TerminateSQL", p.TerminateSQL(), ""},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("iris %s = %q, want %q", c.what, c.got, c.want)
		}
	}
	if want := map[string]string{
		"CURRENT_TIMESTAMP": "SELECT CURRENT_TIMESTAMP",
		"$HOROLOG":          "SELECT $HOROLOG",
		"$ZVERSION":         "SELECT $ZVERSION",
	}; !reflect.DeepEqual(p.ServerFunctions(), want) {
		t.Errorf("iris ServerFunctions = %v, want %v", p.ServerFunctions(), want)
	}
	for _, f := range []Feature{TransactionalDDL, ConnectionView, VectorOperators} {
		if p.Has(f) {
			t.Errorf("iris claims %q", f)
		}
	}
	if !p.Has(ConcurrentSessions) {
		t.Errorf("iris lacks %q: every iris-pgwire connection is its own IRIS process", ConcurrentSessions)
	}
	// The sleep function Sleep calls is the one Setup defines.
	if len(p.Setup) != 1 || !strings.Contains(p.Setup[0], "FUNCTION pgwc_sleep(") || !strings.Contains(p.Setup[0], "HANG") {
		t.Errorf("iris Setup = %q, want the ObjectScript pgwc_sleep", p.Setup)
	}
}

func TestPostgresSQL(t *testing.T) {
	p := Postgres
	checks := []struct{ what, got, want string }{
		{"Name", p.Name, "postgres"},
		{"Schema", p.Schema, "public"},
		{"VectorType(3)", p.VectorType(3), "vector(3)"},
		{"VectorParam(2)", p.VectorParam(2), "$2::vector"},
		{"CosineSimilarity", p.CosineSimilarity("a", "b"), "(1 - (a <=> b))"},
		{"Sleep(0.2)", p.Sleep(0.2), "SELECT pg_sleep(0.2)"},
		{"ConnectionsSQL", p.ConnectionsSQL(), "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("postgres %s = %q, want %q", c.what, c.got, c.want)
		}
	}
	if !strings.Contains(p.TerminateSQL(), "pg_terminate_backend") {
		t.Errorf("postgres TerminateSQL = %q", p.TerminateSQL())
	}
	fns := p.ServerFunctions()
	if fns["CURRENT_TIMESTAMP"] != "SELECT CURRENT_TIMESTAMP" || len(fns) < 2 {
		t.Errorf("postgres ServerFunctions = %v", fns)
	}
	for _, f := range []Feature{TransactionalDDL, ConnectionView, VectorOperators, CopyFromStdin, ConcurrentSessions} {
		if !p.Has(f) {
			t.Errorf("postgres lacks %q", f)
		}
	}
	if !reflect.DeepEqual(p.Setup, []string{"CREATE EXTENSION IF NOT EXISTS vector"}) {
		t.Errorf("postgres Setup = %q", p.Setup)
	}
}

func TestServerFunctionsIsACopy(t *testing.T) {
	m := IRIS.ServerFunctions()
	m["x"] = "SELECT 1"
	delete(m, "$HOROLOG")
	if _, ok := IRIS.ServerFunctions()["$HOROLOG"]; !ok || len(IRIS.ServerFunctions()) != 3 {
		t.Error("changing the returned map changed the profile")
	}
}

func TestVectorLiteral(t *testing.T) {
	for _, c := range []struct {
		v    []float32
		want string
	}{
		{[]float32{1, 2, 3}, "[1,2,3]"},
		{[]float32{0.1, -0.5, 0}, "[0.1,-0.5,0]"},
		{[]float32{}, "[]"},
	} {
		if got := VectorLiteral(c.v); got != c.want {
			t.Errorf("VectorLiteral(%v) = %q, want %q", c.v, got, c.want)
		}
	}
}

func TestByName(t *testing.T) {
	for _, n := range []string{"postgres", "iris"} {
		p, err := ByName(n)
		if err != nil || p.Name != n {
			t.Errorf("ByName(%q) = %v, %v", n, p.Name, err)
		}
	}
	if _, err := ByName("mysql"); err == nil {
		t.Error("ByName accepted an unknown profile")
	}
}

// What each target takes away from the postgres profile: a feature lost on
// the wrong target turns its specs "not applicable" there without a word
// (ConcurrentSessions once did so on every target).
func TestForTargetFeatures(t *testing.T) {
	all := []Feature{TransactionalDDL, ConnectionView, VectorOperators, CopyFromStdin, ConcurrentSessions}
	lacks := map[string][]Feature{
		"reference": nil,
		"gateway":   {ConnectionView},
		"divergent": {ConnectionView},
		"pglite":    {ConnectionView, CopyFromStdin, ConcurrentSessions},
	}
	for target, missing := range lacks {
		p, err := ForTarget("postgres", target)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range all {
			if want := !slices.Contains(missing, f); p.Has(f) != want {
				t.Errorf("postgres on %s: Has(%q) = %v, want %v", target, f, p.Has(f), want)
			}
		}
	}
}
