package broken

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pgwire-conformance/pgwire-conformance/adapter"
)

// fake is an in-memory adapter: a "server" that logs what reaches it, with
// transactions that buffer their statements until Commit.
type fake struct {
	mu        sync.Mutex
	log       []string // what the server did, in order
	committed []string // statements that took effect
	execMany  [][][]any
	result    [][]any // what a query returns, one row per fetch (nil: queries fail)
}

func (f *fake) record(s string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.log = append(f.log, s)
}

func (f *fake) Info() adapter.Info {
	return adapter.Info{Name: "fake", Driver: "fake", Language: "go", Capabilities: []adapter.Capability{adapter.Introspects}}
}

func (f *fake) Open(ctx context.Context, o adapter.OpenOptions) (adapter.Engine, error) {
	return &fakeEngine{f: f}, nil
}

type fakeQ struct {
	f       *fake
	pending *[]string // nil: autocommit
}

func (q fakeQ) Exec(ctx context.Context, sql string, args ...any) (int64, error) {
	q.f.record("exec " + sql)
	if sql == "FAIL" {
		return 0, errors.New("the statement failed")
	}
	if q.pending != nil {
		*q.pending = append(*q.pending, sql)
	} else {
		q.f.mu.Lock()
		q.f.committed = append(q.f.committed, sql)
		q.f.mu.Unlock()
	}
	return 1, nil
}

func (q fakeQ) ExecMany(ctx context.Context, sql string, rows [][]any) (int64, error) {
	q.f.mu.Lock()
	q.f.execMany = append(q.f.execMany, rows)
	q.f.mu.Unlock()
	return int64(len(rows)), nil
}

func (q fakeQ) Query(ctx context.Context, sql string, args ...any) (adapter.Rows, error) {
	q.f.record("query " + sql)
	if q.f.result == nil {
		return nil, errors.New("fake has no rows")
	}
	return &fakeRows{f: q.f, rows: q.f.result}, nil
}

// fakeRows streams: the "server" logs every row it sends, when it is fetched.
type fakeRows struct {
	f    *fake
	rows [][]any
}

func (r *fakeRows) Columns() []adapter.Column { return []adapter.Column{{Name: "n", Type: "int8"}} }

func (r *fakeRows) FetchOne(ctx context.Context) ([]any, error) {
	if len(r.rows) == 0 {
		return nil, nil
	}
	row := r.rows[0]
	r.rows = r.rows[1:]
	r.f.record(fmt.Sprintf("send row %v", row[0]))
	return row, nil
}

func (r *fakeRows) FetchMany(ctx context.Context, n int) ([][]any, error) {
	var out [][]any
	for len(out) < n {
		row, _ := r.FetchOne(ctx)
		if row == nil {
			break
		}
		out = append(out, row)
	}
	return out, nil
}

func (r *fakeRows) FetchAll(ctx context.Context) ([][]any, error) {
	return r.FetchMany(ctx, len(r.rows))
}

func (r *fakeRows) Close(context.Context) error { r.f.record("close"); return nil }

type fakeEngine struct {
	fakeQ
	f *fake
}

func (e *fakeEngine) Exec(ctx context.Context, sql string, args ...any) (int64, error) {
	return fakeQ{f: e.f}.Exec(ctx, sql, args...)
}

func (e *fakeEngine) ExecMany(ctx context.Context, sql string, rows [][]any) (int64, error) {
	return fakeQ{f: e.f}.ExecMany(ctx, sql, rows)
}

func (e *fakeEngine) Query(ctx context.Context, sql string, args ...any) (adapter.Rows, error) {
	return fakeQ{f: e.f}.Query(ctx, sql, args...)
}

func (e *fakeEngine) Acquire(ctx context.Context) (adapter.Conn, error) {
	return &fakeConn{fakeQ: fakeQ{f: e.f}}, nil
}

func (e *fakeEngine) Introspect(ctx context.Context) (adapter.Introspection, error) {
	return adapter.Introspection{IsAsync: false, PoolClass: "*pgxpool.Pool", ConnectionClass: "*pgx.Conn"}, nil
}

func (e *fakeEngine) Bench(ctx context.Context, sql string, n int) ([]time.Duration, error) {
	out := make([]time.Duration, n)
	for i := range out {
		e.f.record("bench " + sql)
		out[i] = time.Microsecond
	}
	return out, nil
}

func (e *fakeEngine) Close(ctx context.Context) error { return nil }

type fakeConn struct{ fakeQ }

func (c *fakeConn) Begin(ctx context.Context) (adapter.Tx, error) {
	c.f.record("begin")
	t := &fakeTx{}
	t.fakeQ = fakeQ{f: c.f, pending: &t.pending}
	return t, nil
}

func (c *fakeConn) Release(ctx context.Context) error { return nil }

type fakeTx struct {
	fakeQ
	pending []string
	done    bool
}

func (t *fakeTx) Commit(ctx context.Context) error {
	if t.done {
		return errors.New("tx is closed")
	}
	t.done = true
	t.f.record("commit")
	t.f.mu.Lock()
	t.f.committed = append(t.f.committed, t.pending...)
	t.f.mu.Unlock()
	return nil
}

func (t *fakeTx) Rollback(ctx context.Context) error {
	if t.done {
		return errors.New("tx is closed")
	}
	t.done = true
	t.f.record("rollback")
	return nil
}

func TestNoRollbackCommits(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		name          string
		wrap          func(adapter.Adapter) adapter.Adapter
		wantCommitted bool
	}{
		{"control: the fake discards on rollback", func(a adapter.Adapter) adapter.Adapter { return a }, false},
		{"broken-norollback commits", func(a adapter.Adapter) adapter.Adapter { return NoRollback(a) }, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := &fake{}
			e, _ := tt.wrap(f).Open(ctx, adapter.OpenOptions{})
			c, _ := e.Acquire(ctx)
			tx, _ := c.Begin(ctx)
			if _, err := tx.Exec(ctx, "INSERT doomed"); err != nil {
				t.Fatal(err)
			}
			if err := tx.Rollback(ctx); err != nil {
				t.Fatalf("Rollback: %v (a silent breakage must report success)", err)
			}
			got := len(f.committed) == 1 && f.committed[0] == "INSERT doomed"
			if got != tt.wantCommitted {
				t.Errorf("committed %q after Rollback; want committed=%v (server log %q)", f.committed, tt.wantCommitted, f.log)
			}
			// Commit still commits, and the engine's autocommit path is untouched.
			tx2, _ := c.Begin(ctx)
			tx2.Exec(ctx, "INSERT kept")
			if err := tx2.Commit(ctx); err != nil {
				t.Fatal(err)
			}
			if f.committed[len(f.committed)-1] != "INSERT kept" {
				t.Errorf("Commit did not commit: %q", f.committed)
			}
		})
	}
}

func TestDropsExecManyRows(t *testing.T) {
	ctx := context.Background()
	f := &fake{}
	e, _ := DropsExecManyRows(f).Open(ctx, adapter.OpenOptions{})
	rows := [][]any{{1}, {2}, {3}}
	n, err := e.ExecMany(ctx, "INSERT", rows)
	if err != nil {
		t.Fatal(err)
	}
	if n != 3 {
		t.Errorf("reported %d rows affected, want the lie 3", n)
	}
	if len(f.execMany) != 1 || len(f.execMany[0]) != 2 || f.execMany[0][1][0] != 2 {
		t.Errorf("server got %v, want the first two rows only", f.execMany)
	}
	// Through a connection and a transaction too.
	c, _ := e.Acquire(ctx)
	tx, _ := c.Begin(ctx)
	for _, q := range []adapter.Querier{c, tx} {
		if _, err := q.ExecMany(ctx, "INSERT", rows); err != nil {
			t.Fatal(err)
		}
	}
	if len(f.execMany) != 3 || len(f.execMany[1]) != 2 || len(f.execMany[2]) != 2 {
		t.Errorf("conn/tx ExecMany not broken: %v", f.execMany)
	}
	// Exec is untouched.
	if _, err := e.Exec(ctx, "INSERT one"); err != nil || len(f.committed) != 1 {
		t.Errorf("Exec changed: %v %q", err, f.committed)
	}
}

func TestLyingIntrospection(t *testing.T) {
	ctx := context.Background()
	a := LyingIntrospection(&fake{})
	e, _ := a.Open(ctx, adapter.OpenOptions{})
	in, err := e.Introspect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if in.IsAsync == a.Info().Async {
		t.Errorf("introspection agrees with the declared async=%v; it must lie", a.Info().Async)
	}
	if in.PoolClass == "*pgxpool.Pool" {
		t.Error("pool class is the real one")
	}
}

func TestRegisteredAsFixtures(t *testing.T) {
	for _, name := range []string{NoRollbackName, DropsExecManyRowsName, LyingIntrospectionName} {
		a, ok := adapter.Lookup(name)
		if !ok {
			t.Errorf("%s is not registered", name)
			continue
		}
		i := a.Info()
		if i.Name != name || !i.Fixture {
			t.Errorf("%s: Info name %q fixture %v", name, i.Name, i.Fixture)
		}
		if !strings.Contains(i.Driver, "fixture") {
			t.Errorf("%s: driver %q does not say it is a fixture", name, i.Driver)
		}
	}
	if a, ok := adapter.Lookup("pgx"); ok && a.Info().Fixture {
		t.Error("pgx is marked as a fixture")
	}
}
