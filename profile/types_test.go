package profile

import (
	"reflect"
	"testing"
)

func TestCast(t *testing.T) {
	for _, c := range []struct {
		p           Profile
		expr, token string
		want        string
	}{
		// The reference keeps the casts the specs always sent.
		{Postgres, "$1", "bigint", "$1::int8"},
		{Postgres, "$3", "text", "$3::text"},
		{Postgres, "$4", "double", "$4::float8"},
		{IRIS, "$1", "bigint", "CAST($1 AS BIGINT)"},
		{IRIS, "$4", "double", "CAST($4 AS DOUBLE)"},
		{IRIS, "$3", "text", "CAST($3 AS VARCHAR(1000000))"},
	} {
		if got := c.p.Cast(c.expr, c.token); got != c.want {
			t.Errorf("%s Cast(%q, %q) = %q, want %q", c.p.Name, c.expr, c.token, got, c.want)
		}
	}
	for _, c := range []struct {
		p     Profile
		token string
	}{{Postgres, "identity"}, {IRIS, "json"}, {Postgres, "int8"}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s Cast to {%s} did not panic", c.p.Name, c.token)
				}
			}()
			c.p.Cast("$1", c.token)
		}()
	}
}

func TestLacks(t *testing.T) {
	cols := "id {bigint} PRIMARY KEY, j {json}, jb {jsonb}, k {json}, v {bytea}"
	if got := IRIS.Lacks(cols); !reflect.DeepEqual(got, []string{"json", "jsonb"}) {
		t.Errorf("iris Lacks = %q, want json, jsonb", got)
	}
	if got := Postgres.Lacks(cols); got != nil {
		t.Errorf("postgres Lacks = %q, want none", got)
	}
}
