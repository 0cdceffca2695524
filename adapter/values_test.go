package adapter

import (
	"context"
	"errors"
	"math/big"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/lib/pq"
)

type stringer struct{}

func (stringer) String() string { return "as text" }

func TestNormalize(t *testing.T) {
	when := time.Date(2024, 2, 29, 12, 30, 0, 0, time.UTC)
	tests := []struct {
		name string
		in   any
		want any
	}{
		{"nil", nil, nil},
		{"bool", true, true},
		{"int", int(-5), int64(-5)},
		{"int8", int8(-8), int64(-8)},
		{"int16", int16(16), int64(16)},
		{"int32", int32(-2147483648), int64(-2147483648)},
		{"int64", int64(1 << 62), int64(1 << 62)},
		{"uint8", uint8(255), int64(255)},
		{"uint16", uint16(65535), int64(65535)},
		{"uint32", uint32(4294967295), int64(4294967295)},
		{"float32", float32(1.5), float64(1.5)},
		{"float32 negative", float32(-0.25), float64(-0.25)},
		{"float64", 2.75, 2.75},
		{"string", "héllo", "héllo"},
		{"bytes", []byte{0, 1, 0xff}, []byte{0, 1, 0xff}},
		{"time", when, when},
		{"stringer", stringer{}, "as text"},
		{"big.Int (Stringer)", big.NewInt(12345678901234), "12345678901234"},
		{"other", []int{1, 2}, "[1 2]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Normalize(tt.in)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Normalize(%#v) = %#v (%T), want %#v (%T)", tt.in, got, got, tt.want, tt.want)
			}
		})
	}
}

func TestNormalizeCopiesBytes(t *testing.T) {
	in := []byte("abc")
	out, ok := Normalize(in).([]byte)
	if !ok {
		t.Fatalf("Normalize([]byte) gave %T", Normalize(in))
	}
	in[0] = 'X'
	if string(out) != "abc" {
		t.Errorf("Normalize shares the driver's buffer: got %q after the driver reused it", out)
	}
}

// A nil byte slice is SQL NULL and must compare equal to a plain nil; an
// empty bytea must stay an empty, non-nil slice.
func TestNormalizeNilAndEmptyBytes(t *testing.T) {
	if got := Normalize([]byte(nil)); got != nil {
		t.Errorf("Normalize([]byte(nil)) = %#v, want nil", got)
	}
	b, ok := Normalize([]byte{}).([]byte)
	if !ok || b == nil || len(b) != 0 {
		t.Errorf("Normalize([]byte{}) = %#v, want a non-nil empty slice", Normalize([]byte{}))
	}
}

func TestWithParamURL(t *testing.T) {
	tests := []struct {
		name, dsn, value string
		// want: the runtime parameters both drivers must read from the result.
		want map[string]string
	}{
		{"no query", "postgres://u:pw@db:5432/app", "pgwc-1", map[string]string{"application_name": "pgwc-1"}},
		{"existing query", "postgres://u:pw@db/app?sslmode=disable", "pgwc-1", map[string]string{"application_name": "pgwc-1"}},
		{"replaces", "postgres://u@db/app?application_name=old", "new", map[string]string{"application_name": "new"}},
		{"space and separators", "postgres://u@db/app", "a b&c=d", map[string]string{"application_name": "a b&c=d"}},
		{"quote", "postgresql://u@db/app", `it's "x"`, map[string]string{"application_name": `it's "x"`}},
		{"plus", "postgresql://u@db/app", "a+b", map[string]string{"application_name": "a+b"}},
		{"other encoded parameter kept", "postgres://u@db/app?search_path=a%20b", "x",
			map[string]string{"application_name": "x", "search_path": "a b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := WithParam(tt.dsn, "application_name", tt.value)
			if err != nil {
				t.Fatalf("WithParam: %v", err)
			}
			u, err := url.Parse(got)
			if err != nil {
				t.Fatalf("result %q does not parse: %v", got, err)
			}
			orig, _ := url.Parse(tt.dsn)
			if u.User.String() != orig.User.String() || u.Host != orig.Host || u.Path != orig.Path {
				t.Errorf("WithParam changed more than the query: %q → %q", tt.dsn, got)
			}
			if n := strings.Count(u.RawQuery, "application_name="); n != 1 {
				t.Errorf("%q sets application_name %d times, want once", got, n)
			}
			if strings.Contains(tt.dsn, "sslmode=disable") && !strings.Contains(got, "sslmode=disable") {
				t.Errorf("%q lost sslmode", got)
			}

			// pgconn decodes URL queries the libpq way ('+' is a plus).
			pc, err := pgconn.ParseConfig(got)
			if err != nil {
				t.Fatalf("pgconn cannot parse %q: %v", got, err)
			}
			// lib/pq decodes them the net/url way ('+' is a space).
			qc, err := pq.NewConfig(got)
			if err != nil {
				t.Fatalf("lib/pq cannot parse %q: %v", got, err)
			}
			for k, want := range tt.want {
				if v := pc.RuntimeParams[k]; v != want {
					t.Errorf("pgconn reads %s = %q from %q, want %q", k, v, got, want)
				}
				v := qc.Runtime[k]
				if k == "application_name" {
					v = qc.ApplicationName
				}
				if v != want {
					t.Errorf("lib/pq reads %s = %q from %q, want %q", k, v, got, want)
				}
			}
		})
	}
}

func TestWithParamKeywordValue(t *testing.T) {
	tests := []struct {
		name, dsn, value, want string
	}{
		{"plain", "host=db user=u dbname=app", "pgwc-1", "host=db user=u dbname=app application_name='pgwc-1'"},
		{"trailing space", "host=db  ", "x", "host=db application_name='x'"},
		{"space", "host=db", "a b", "host=db application_name='a b'"},
		{"quote", "host=db", "it's", `host=db application_name='it\'s'`},
		{"backslash", "host=db", `a\b`, `host=db application_name='a\\b'`},
		{"backslash before quote", "host=db", `a\'b`, `host=db application_name='a\\\'b'`},
		{"empty", "host=db", "", "host=db application_name=''"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := WithParam(tt.dsn, "application_name", tt.value)
			if err != nil {
				t.Fatalf("WithParam: %v", err)
			}
			if got != tt.want {
				t.Errorf("WithParam(%q) = %q, want %q", tt.dsn, got, tt.want)
			}
			cfg, err := pgconn.ParseConfig(got)
			if err != nil {
				t.Fatalf("pgconn cannot parse %q: %v", got, err)
			}
			if v := cfg.RuntimeParams["application_name"]; v != tt.value {
				t.Errorf("pgconn reads application_name = %q from %q, want %q", v, got, tt.value)
			}
			if cfg.Host != "db" {
				t.Errorf("host = %q, want db", cfg.Host)
			}
		})
	}
}

func TestWithParamBadURL(t *testing.T) {
	_, err := WithParam("postgres://u:pw@db:notaport/app", "application_name", "x")
	if err == nil || !strings.Contains(err.Error(), "parse DSN URL") {
		t.Errorf("WithParam on a bad URL: error %v", err)
	}
}

// fakeRows serves rows from a slice, then nil; err (if set) comes after
// failAfter rows.
type fakeRows struct {
	rows      [][]any
	failAfter int
	err       error
	calls     int
}

func (f *fakeRows) FetchOne(context.Context) ([]any, error) {
	f.calls++
	if f.err != nil && f.calls > f.failAfter {
		return nil, f.err
	}
	if len(f.rows) == 0 {
		return nil, nil
	}
	r := f.rows[0]
	f.rows = f.rows[1:]
	return r, nil
}

func rowsOf(n int) [][]any {
	out := make([][]any, n)
	for i := range out {
		out[i] = []any{int64(i)}
	}
	return out
}

func TestFetchN(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name      string
		have, n   int
		want      int
		wantCalls int
	}{
		{"all of none", 0, -1, 0, 1},
		{"all", 5, -1, 5, 6},
		{"many fewer than there are", 5, 3, 3, 3},
		{"many exactly", 5, 5, 5, 5},
		{"many more than there are", 5, 8, 5, 6},
		{"zero", 5, 0, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeRows{rows: rowsOf(tt.have)}
			got, err := FetchN(ctx, f, tt.n)
			if err != nil {
				t.Fatalf("FetchN: %v", err)
			}
			if len(got) != tt.want {
				t.Errorf("FetchN(%d of %d) returned %d rows, want %d", tt.n, tt.have, len(got), tt.want)
			}
			for i, r := range got {
				if !reflect.DeepEqual(r, []any{int64(i)}) {
					t.Errorf("row %d = %v", i, r)
				}
			}
			if f.calls != tt.wantCalls {
				t.Errorf("FetchOne called %d times, want %d", f.calls, tt.wantCalls)
			}
		})
	}
}

func TestFetchNError(t *testing.T) {
	boom := errors.New("boom")
	f := &fakeRows{rows: rowsOf(5), failAfter: 2, err: boom}
	got, err := FetchN(context.Background(), f, -1)
	if !errors.Is(err, boom) {
		t.Errorf("FetchN error = %v, want boom", err)
	}
	if len(got) != 2 {
		t.Errorf("FetchN returned %d rows before the error, want 2", len(got))
	}
}
