// Package broken holds adapters that are broken on purpose. Each wraps a real
// adapter (pgx through pgxpool) and breaks exactly one thing, so a run with
// it selected shows which specs catch that bug: the proof that the suite can
// fail. They register as fixtures (adapter.Info.Fixture): selectable by name
// (PGWC_ADAPTERS=pgx,broken-norollback) but never in the default selection.
package broken

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgwire-conformance/pgwire-conformance/adapter"
	"github.com/pgwire-conformance/pgwire-conformance/adapter/pgxadapter"
)

// Names of the registered fixtures, and what each one breaks.
const (
	NoRollbackName         = "broken-norollback"
	DropsExecManyRowsName  = "broken-execmany"
	LyingIntrospectionName = "broken-introspection"
	SlowQueriesName        = "broken-slow"
)

func init() {
	base := pgxadapter.New("pgx", pgx.QueryExecModeCacheStatement)
	adapter.Register(NoRollback(base))
	adapter.Register(DropsExecManyRows(base))
	adapter.Register(LyingIntrospection(base))
	adapter.Register(SlowQueries(base, time.Millisecond))
}

// Adapter is a real adapter with one behaviour broken.
type Adapter struct {
	name   string
	breaks string // the requirement it breaks, for reports
	how    string
	inner  adapter.Adapter
	h      hooks
}

// hooks are the broken behaviours; a nil hook (zero delay) passes through.
type hooks struct {
	rollback   func(ctx context.Context, tx adapter.Tx) error
	execMany   func(ctx context.Context, q adapter.Querier, sql string, rows [][]any) (int64, error)
	introspect func(in adapter.Introspection) adapter.Introspection
	delay      time.Duration
}

// NoRollback: Rollback silently commits (the worst case: the caller believes
// its writes were discarded). Breaks FR-006 / EC-5.
func NoRollback(inner adapter.Adapter) *Adapter {
	return &Adapter{name: NoRollbackName, breaks: "FR-006", how: "Rollback commits", inner: inner, h: hooks{
		rollback: func(ctx context.Context, tx adapter.Tx) error { return tx.Commit(ctx) },
	}}
}

// DropsExecManyRows: ExecMany skips the last parameter row yet reports every
// row as affected, so only the server's view shows the loss. Breaks FR-007.
func DropsExecManyRows(inner adapter.Adapter) *Adapter {
	return &Adapter{name: DropsExecManyRowsName, breaks: "FR-007", how: "ExecMany skips the last row", inner: inner, h: hooks{
		execMany: func(ctx context.Context, q adapter.Querier, sql string, rows [][]any) (int64, error) {
			if len(rows) == 0 {
				return q.ExecMany(ctx, sql, rows)
			}
			n, err := q.ExecMany(ctx, sql, rows[:len(rows)-1])
			if err != nil {
				return n, err
			}
			return n + 1, nil // claims the dropped row too
		},
	}}
}

// LyingIntrospection: Introspect claims the opposite async mode to the one
// the adapter declares and runs on, and a pool class it does not use.
// Breaks the introspection contract (FR-005 / FR-008, T003, T013, T014).
func LyingIntrospection(inner adapter.Adapter) *Adapter {
	return &Adapter{name: LyingIntrospectionName, breaks: "FR-005/FR-008 introspection", how: "Introspect lies about async mode and pool class", inner: inner, h: hooks{
		introspect: func(in adapter.Introspection) adapter.Introspection {
			in.IsAsync = !in.IsAsync
			in.PoolClass = "AsyncAdaptedQueuePool"
			return in
		},
	}}
}

// SlowQueries adds delay before every statement (Exec, ExecMany, Query and
// each Bench iteration): 1 ms over a ~100 µs round trip. Breaks FR-013.
func SlowQueries(inner adapter.Adapter, delay time.Duration) *Adapter {
	return &Adapter{name: SlowQueriesName, breaks: "FR-013", how: "adds " + delay.String() + " per query", inner: inner, h: hooks{delay: delay}}
}

// Breaks names the requirement this fixture breaks.
func (a *Adapter) Breaks() string { return a.breaks }

// Info is the inner adapter's, renamed and marked as a fixture.
func (a *Adapter) Info() adapter.Info {
	i := a.inner.Info()
	i.Name = a.name
	i.Driver += " [fixture: " + a.how + "]"
	i.Fixture = true
	i.Capabilities = append([]adapter.Capability(nil), i.Capabilities...)
	return i
}

// Open opens the inner adapter's engine and wraps it.
func (a *Adapter) Open(ctx context.Context, o adapter.OpenOptions) (adapter.Engine, error) {
	e, err := a.inner.Open(ctx, o)
	if err != nil {
		return nil, err
	}
	return &engine{Engine: e, h: &a.h}, nil
}

// querier applies the hooks to one Querier.
type querier struct {
	q adapter.Querier
	h *hooks
}

func (q querier) Exec(ctx context.Context, sql string, args ...any) (int64, error) {
	if err := q.h.wait(ctx); err != nil {
		return 0, err
	}
	return q.q.Exec(ctx, sql, args...)
}

func (q querier) ExecMany(ctx context.Context, sql string, rows [][]any) (int64, error) {
	if err := q.h.wait(ctx); err != nil {
		return 0, err
	}
	if q.h.execMany != nil {
		return q.h.execMany(ctx, q.q, sql, rows)
	}
	return q.q.ExecMany(ctx, sql, rows)
}

func (q querier) Query(ctx context.Context, sql string, args ...any) (adapter.Rows, error) {
	if err := q.h.wait(ctx); err != nil {
		return nil, err
	}
	return q.q.Query(ctx, sql, args...)
}

func (h *hooks) wait(ctx context.Context) error {
	if h.delay <= 0 {
		return nil
	}
	t := time.NewTimer(h.delay)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

type engine struct {
	adapter.Engine
	h *hooks
}

func (e *engine) Exec(ctx context.Context, sql string, args ...any) (int64, error) {
	return querier{e.Engine, e.h}.Exec(ctx, sql, args...)
}

func (e *engine) ExecMany(ctx context.Context, sql string, rows [][]any) (int64, error) {
	return querier{e.Engine, e.h}.ExecMany(ctx, sql, rows)
}

func (e *engine) Query(ctx context.Context, sql string, args ...any) (adapter.Rows, error) {
	return querier{e.Engine, e.h}.Query(ctx, sql, args...)
}

func (e *engine) Acquire(ctx context.Context) (adapter.Conn, error) {
	c, err := e.Engine.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	return &conn{Conn: c, h: e.h}, nil
}

func (e *engine) Introspect(ctx context.Context) (adapter.Introspection, error) {
	in, err := e.Engine.Introspect(ctx)
	if err == nil && e.h.introspect != nil {
		in = e.h.introspect(in)
	}
	return in, err
}

// Bench with a delay times each run itself, delay included, one inner run
// at a time: the figures are real wall-clock times of a slow driver.
func (e *engine) Bench(ctx context.Context, sql string, n int) ([]time.Duration, error) {
	if e.h.delay <= 0 {
		return e.Engine.Bench(ctx, sql, n)
	}
	out := make([]time.Duration, 0, n)
	for i := 0; i < n; i++ {
		start := time.Now()
		if err := e.h.wait(ctx); err != nil {
			return out, err
		}
		if _, err := e.Engine.Bench(ctx, sql, 1); err != nil {
			return out, err
		}
		out = append(out, time.Since(start))
	}
	return out, nil
}

type conn struct {
	adapter.Conn
	h *hooks
}

func (c *conn) Exec(ctx context.Context, sql string, args ...any) (int64, error) {
	return querier{c.Conn, c.h}.Exec(ctx, sql, args...)
}

func (c *conn) ExecMany(ctx context.Context, sql string, rows [][]any) (int64, error) {
	return querier{c.Conn, c.h}.ExecMany(ctx, sql, rows)
}

func (c *conn) Query(ctx context.Context, sql string, args ...any) (adapter.Rows, error) {
	return querier{c.Conn, c.h}.Query(ctx, sql, args...)
}

func (c *conn) Begin(ctx context.Context) (adapter.Tx, error) {
	t, err := c.Conn.Begin(ctx)
	if err != nil {
		return nil, err
	}
	return &tx{Tx: t, h: c.h}, nil
}

type tx struct {
	adapter.Tx
	h *hooks
}

func (t *tx) Exec(ctx context.Context, sql string, args ...any) (int64, error) {
	return querier{t.Tx, t.h}.Exec(ctx, sql, args...)
}

func (t *tx) ExecMany(ctx context.Context, sql string, rows [][]any) (int64, error) {
	return querier{t.Tx, t.h}.ExecMany(ctx, sql, rows)
}

func (t *tx) Query(ctx context.Context, sql string, args ...any) (adapter.Rows, error) {
	return querier{t.Tx, t.h}.Query(ctx, sql, args...)
}

func (t *tx) Rollback(ctx context.Context) error {
	if t.h.rollback != nil {
		return t.h.rollback(ctx, t.Tx)
	}
	return t.Tx.Rollback(ctx)
}
