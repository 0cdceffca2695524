package integration

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pgwire-conformance/pgwire-conformance/adapter"
	"github.com/pgwire-conformance/pgwire-conformance/profile"
)

// fakeEngine answers SELECT 1 and a two-row search, and counts the
// connections handed out and given back.
type fakeEngine struct {
	acquired, released atomic.Int64
	acquireErr         error
	lastSQL            atomic.Value
}

func (f *fakeEngine) Exec(context.Context, string, ...any) (int64, error) { return 0, nil }
func (f *fakeEngine) ExecMany(context.Context, string, [][]any) (int64, error) {
	return 0, nil
}
func (f *fakeEngine) Query(ctx context.Context, sql string, args ...any) (adapter.Rows, error) {
	f.lastSQL.Store(sql)
	if strings.HasPrefix(sql, "SELECT 1") {
		return &fakeRows{rows: [][]any{{int64(1)}}}, nil
	}
	return &fakeRows{rows: [][]any{{int64(7), 0.5}, {int64(3), "0.25"}}}, nil
}
func (f *fakeEngine) Acquire(context.Context) (adapter.Conn, error) {
	if f.acquireErr != nil {
		return nil, f.acquireErr
	}
	f.acquired.Add(1)
	return fakeConn{f}, nil
}
func (f *fakeEngine) Introspect(context.Context) (adapter.Introspection, error) {
	return adapter.Introspection{}, nil
}
func (f *fakeEngine) Bench(context.Context, string, int) ([]time.Duration, error) { return nil, nil }
func (f *fakeEngine) Close(context.Context) error                                 { return nil }

type fakeConn struct{ *fakeEngine }

func (c fakeConn) Begin(context.Context) (adapter.Tx, error) { return nil, adapter.ErrNotSupported }
func (c fakeConn) Release(context.Context) error {
	c.released.Add(1)
	return nil
}

type fakeRows struct{ rows [][]any }

func (r *fakeRows) Columns() []adapter.Column { return nil }
func (r *fakeRows) FetchOne(ctx context.Context) ([]any, error) {
	if len(r.rows) == 0 {
		return nil, nil
	}
	row := r.rows[0]
	r.rows = r.rows[1:]
	return row, nil
}
func (r *fakeRows) FetchMany(ctx context.Context, n int) ([][]any, error) {
	return adapter.FetchN(ctx, r, n)
}
func (r *fakeRows) FetchAll(ctx context.Context) ([][]any, error) { return adapter.FetchN(ctx, r, -1) }
func (r *fakeRows) Close(context.Context) error                   { return nil }

func do(t *testing.T, h http.Handler, method, path, body string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, path, strings.NewReader(body)))
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("%s %s: content type %q", method, path, ct)
	}
	return rec.Code, strings.TrimSpace(rec.Body.String())
}

func TestAppEndpoints(t *testing.T) {
	f := &fakeEngine{}
	h := NewApp(f, profile.IRIS, "vecs")
	cases := []struct {
		method, path, body string
		status             int
		want               string
	}{
		{"GET", "/health", "", 200, `{"db":true,"status":"ok"}`},
		{"GET", "/test", "", 200, `{"value":1}`},
		{"POST", "/search", `{"vector":[1,0.5,-2],"k":2}`, 200, `[{"id":7,"score":0.5},{"id":3,"score":0.25}]`},
		{"POST", "/search", `{"vector":[],"k":2}`, 400, ``},
		{"POST", "/search", `{"vector":[1],"k":0}`, 400, ``},
		{"POST", "/search", `{"vector":[1],"k":101}`, 400, ``},
		{"POST", "/search", `{"vector":[1],"k":1,"extra":1}`, 400, ``},
		{"POST", "/search", `not json`, 400, ``},
	}
	for _, c := range cases {
		status, body := do(t, h, c.method, c.path, c.body)
		if status != c.status || c.want != "" && body != c.want {
			t.Errorf("%s %s %s = %d %s, want %d %s", c.method, c.path, c.body, status, body, c.status, c.want)
		}
	}
	if got := do2(h, "GET", "/search"); got != http.StatusMethodNotAllowed {
		t.Errorf("GET /search = %d, want 405", got)
	}
	// The last query was the valid search (k 2), in the profile's SQL.
	if sql, _ := f.lastSQL.Load().(string); sql != "SELECT id, VECTOR_COSINE(embedding, TO_VECTOR($1, FLOAT)) AS score FROM vecs ORDER BY score DESC, id LIMIT 2" {
		t.Errorf("search SQL %q", sql)
	}
	if a, r := f.acquired.Load(), f.released.Load(); a != int64(len(cases)) || r != a {
		t.Errorf("acquired %d, released %d connections for %d requests: one per request, each given back", a, r, len(cases))
	}
}

func do2(h http.Handler, method, path string) int {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
	return rec.Code
}

func TestAppWithoutConnection(t *testing.T) {
	h := NewApp(&fakeEngine{acquireErr: errors.New("pool closed")}, profile.Postgres, "vecs")
	if status, body := do(t, h, "GET", "/health", ""); status != http.StatusServiceUnavailable || !strings.Contains(body, "pool closed") {
		t.Errorf("GET /health without a connection = %d %s, want 503 naming the cause", status, body)
	}
}
