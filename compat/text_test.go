package compat

import (
	"reflect"
	"strings"
	"testing"
)

func TestDecimal(t *testing.T) {
	same := [][2]any{
		{"12345678901234567890.123456789", []byte("12345678901234567890.123456789")},
		{"1.50", "1.5"},
		{"0", "0.000"},
		{"-0.000000000000000001", "-1e-18"},
	}
	for _, p := range same {
		if decimal(p[0]) != decimal(p[1]) || strings.HasPrefix(decimal(p[0]), "not") {
			t.Errorf("decimal(%v) = %s, decimal(%v) = %s: want equal decimals", p[0], decimal(p[0]), p[1], decimal(p[1]))
		}
	}
	differ := [][2]any{
		{"12345678901234567890.123456789", "12345678901234567890.12345679"}, // a digit lost
		{"12345678901234567890.123456789", "12345678901234567000"},
		{"1", "-1"},
	}
	for _, p := range differ {
		if decimal(p[0]) == decimal(p[1]) {
			t.Errorf("decimal(%v) == decimal(%v): want different", p[0], p[1])
		}
	}
	for _, bad := range []any{"{12345 -9 false finite true}", 1.5, "NaN", "", nil, "1.2.3"} {
		if got := decimal(bad); !strings.HasPrefix(got, "not") {
			t.Errorf("decimal(%#v) = %s, want a description of why it is not a decimal", bad, got)
		}
	}
}

func TestCanonicalJSON(t *testing.T) {
	same := [][2]any{
		{`{"a": 1, "b": [true, null]}`, `{"b":[true,null],"a":1}`},
		{`"\u00fc"`, []byte(`"ü"`)},
		{`12345678901234567890`, `12345678901234567890`},
		{`null`, ` null `},
	}
	for _, p := range same {
		if canonicalJSON(p[0]) != canonicalJSON(p[1]) || strings.HasPrefix(canonicalJSON(p[0]), "not") {
			t.Errorf("canonicalJSON(%v) = %s, canonicalJSON(%v) = %s: want equal", p[0], canonicalJSON(p[0]), p[1], canonicalJSON(p[1]))
		}
	}
	differ := [][2]any{
		{`null`, `"null"`},
		{`{"a": 1}`, `{"a": 1.0}`},
		{`12345678901234567890`, `12345678901234567000`},
		{`[1, 2]`, `[2, 1]`},
	}
	for _, p := range differ {
		if canonicalJSON(p[0]) == canonicalJSON(p[1]) {
			t.Errorf("canonicalJSON(%v) == canonicalJSON(%v): want different", p[0], p[1])
		}
	}
	for _, bad := range []any{"map[a:1]", nil, `{"a": 1} {"b": 2}`, 3} {
		if got := canonicalJSON(bad); !strings.HasPrefix(got, "not") {
			t.Errorf("canonicalJSON(%#v) = %s, want a description of why it is not JSON", bad, got)
		}
	}
}

func TestVector(t *testing.T) {
	if got := vector("[1,0.1,-2.5,3e-05]"); !reflect.DeepEqual(got, []float32{1, 0.1, -2.5, 3e-5}) {
		t.Errorf("vector = %#v", got)
	}
	if got := vector([]byte(" [0.5, 1000000] ")); !reflect.DeepEqual(got, []float32{0.5, 1e6}) {
		t.Errorf("vector(bytes) = %#v", got)
	}
	for _, bad := range []any{"1,2", "[1,x]", "[", nil, 7} {
		if _, ok := vector(bad).(string); !ok {
			t.Errorf("vector(%#v) = %#v, want a description", bad, vector(bad))
		}
	}
}
