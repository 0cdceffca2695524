package sqltext

import (
	"fmt"
	"testing"
)

func lit(v any) (string, error) {
	switch x := v.(type) {
	case int:
		return fmt.Sprint(x), nil
	case string:
		return "'" + x + "'", nil
	}
	return "", fmt.Errorf("unsupported %T", v)
}

func TestInterpolate(t *testing.T) {
	for _, c := range []struct {
		sql  string
		args []any
		want string
	}{
		{"SELECT $1, $2", []any{1, "a"}, "SELECT 1, 'a'"},
		{"SELECT $2, $1, $2", []any{1, "a"}, "SELECT 'a', 1, 'a'"},
		{"SELECT '$1', $1", []any{7}, "SELECT '$1', 7"},
		{`SELECT "col$1", $1`, []any{7}, `SELECT "col$1", 7`},
		{"SELECT col$1 FROM t WHERE a = $1", []any{7}, "SELECT col$1 FROM t WHERE a = 7"},
		{"SELECT $$ $1 $$, $tag$ it's $1 $tag$, $1", []any{7}, "SELECT $$ $1 $$, $tag$ it's $1 $tag$, 7"},
		{"SELECT 1 -- $1\n, $1", []any{7}, "SELECT 1 -- $1\n, 7"},
		{"SELECT /* $1 */ $1", []any{7}, "SELECT /* $1 */ 7"},
		{"SELECT 'it''s $1', $1", []any{7}, "SELECT 'it''s $1', 7"},
		{"SELECT $10", []any{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, ""},
	} {
		got, err := Interpolate(c.sql, lit, c.args...)
		if c.want == "" {
			if err == nil {
				t.Errorf("Interpolate(%q) = %q, want an error (unused arguments)", c.sql, got)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("Interpolate(%q) = %q, %v; want %q", c.sql, got, err, c.want)
		}
	}
	if _, err := Interpolate("SELECT $2", lit, 1); err == nil {
		t.Error("missing argument accepted")
	}
	if _, err := Interpolate("SELECT $1", lit, 1.5); err == nil {
		t.Error("literal error not returned")
	}
	if n := Placeholders("SELECT $3, '$9', x$5"); n != 3 {
		t.Errorf("Placeholders = %d, want 3", n)
	}
}
