// Package broken holds adapters that are broken on purpose. Each wraps a real
// adapter (pgx through pgxpool) and breaks exactly one thing, so a run with
// it selected shows which specs catch that bug: the proof that the suite can
// fail. They register as fixtures (adapter.Info.Fixture): selectable by name
// (PGWC_ADAPTERS=pgx,broken-norollback) but never in the default selection.
package broken

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/jackc/pgx/v5"

	"github.com/pgwire-conformance/pgwire-conformance/adapter"
	"github.com/pgwire-conformance/pgwire-conformance/adapter/pgxadapter"
)

// Names of the registered fixtures, and what each one breaks.
const (
	NoRollbackName         = "broken-norollback"
	DropsExecManyRowsName  = "broken-execmany"
	LyingIntrospectionName = "broken-introspection"
)

func init() {
	base := pgxadapter.New("pgx", pgx.QueryExecModeCacheStatement)
	for _, f := range []*Adapter{
		ExecManyLoop(base), NoopRollback(base), RollbackKeepsAborted(base), IgnoresContext(base),
		ZeroRowCounts(base), Serial(base), UnboundedPool(base),
		LiesAboutProtocol(pgxadapter.New("pgx-simple", pgx.QueryExecModeSimpleProtocol)),
		TLSFallback(base), TLSNoVerify(base), ReadsWhole(base),
	} {
		adapter.Register(f)
	}
	adapter.Register(NoRollback(base))
	adapter.Register(DropsExecManyRows(base))
	adapter.Register(LyingIntrospection(base))
}

// Adapter is a real adapter with one behaviour broken.
type Adapter struct {
	name   string
	breaks string // the requirement it breaks, for reports
	how    string
	inner  adapter.Adapter
	h      hooks
}

// hooks are the broken behaviours; a nil hook passes through.
type hooks struct {
	rollback   func(ctx context.Context, tx adapter.Tx) error
	execMany   func(ctx context.Context, q adapter.Querier, sql string, rows [][]any) (int64, error)
	introspect func(in adapter.Introspection) adapter.Introspection
	// exec replaces Exec; query replaces Query (both get the real querier).
	exec  func(ctx context.Context, q adapter.Querier, sql string, args ...any) (int64, error)
	query func(ctx context.Context, q adapter.Querier, sql string, args ...any) (adapter.Rows, error)
	// serial, when set, lets one caller at a time use the engine: Acquire
	// holds it until Release, a statement on the engine for its duration.
	// A waiting caller still gives up when its context ends, as a pool's
	// waiters do.
	serial chan struct{}
	// info edits the declared Info (a fixture that lies about itself).
	info func(adapter.Info) adapter.Info
	// open edits the options the inner adapter opens with.
	open func(adapter.OpenOptions) adapter.OpenOptions
	// failed is set by a failed statement inside a transaction (for
	// rollback hooks that behave differently after an error).
	failed atomic.Bool
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

// ExecManyLoop: ExecMany sends one statement per row, one round trip each —
// every row arrives, in well under the seed's 10 s, so only the wire shows
// it. Breaks FR-007 ("efficient bulk insert", evidence of batching).
func ExecManyLoop(inner adapter.Adapter) *Adapter {
	return &Adapter{name: "broken-execmany-loop", breaks: "FR-007", how: "ExecMany loops Exec per row", inner: inner, h: hooks{
		execMany: func(ctx context.Context, q adapter.Querier, sql string, rows [][]any) (int64, error) {
			var n int64
			for _, r := range rows {
				k, err := q.Exec(ctx, sql, r...)
				if err != nil {
					return n, err
				}
				n += k
			}
			return n, nil
		},
	}}
}

// NoopRollback: Rollback does nothing and returns nil. The transaction stays
// open on its connection (a pool may later discard it, which hides the
// bug from an observer that only counts rows). Breaks FR-006 / EC-5.
func NoopRollback(inner adapter.Adapter) *Adapter {
	return &Adapter{name: "broken-noop-rollback", breaks: "FR-006", how: "Rollback does nothing", inner: inner, h: hooks{
		rollback: func(ctx context.Context, tx adapter.Tx) error { return nil },
	}}
}

// RollbackKeepsAborted: after a statement failed inside a transaction,
// Rollback does nothing, leaving the session in its aborted transaction;
// otherwise it rolls back. Breaks FR-006 / EC-5.
func RollbackKeepsAborted(inner adapter.Adapter) *Adapter {
	a := &Adapter{name: "broken-rollback-aborted", breaks: "FR-006", how: "Rollback after a failed statement does nothing", inner: inner}
	a.h.rollback = func(ctx context.Context, tx adapter.Tx) error {
		if a.h.failed.Swap(false) {
			return nil
		}
		return tx.Rollback(ctx)
	}
	return a
}

// IgnoresContext: Query and Exec run under a context of their own, so a
// caller's deadline or cancel never stops a running statement. Breaks
// FR-009 (nothing hangs) / FR-008.
func IgnoresContext(inner adapter.Adapter) *Adapter {
	detached := func(ctx context.Context) context.Context { return context.WithoutCancel(ctx) }
	return &Adapter{name: "broken-ctx-ignored", breaks: "FR-009", how: "Query and Exec ignore their context", inner: inner, h: hooks{
		exec: func(ctx context.Context, q adapter.Querier, sql string, args ...any) (int64, error) {
			return q.Exec(detached(ctx), sql, args...)
		},
		query: func(ctx context.Context, q adapter.Querier, sql string, args ...any) (adapter.Rows, error) {
			return q.Query(detached(ctx), sql, args...)
		},
	}}
}

// ReadsWhole: Query reads the whole result into memory before it returns
// and hands out rows from there — every row right, in order, closed early
// or not. Breaks FR-012 (streaming in bounded memory).
func ReadsWhole(inner adapter.Adapter) *Adapter {
	return &Adapter{name: "broken-buffered", breaks: "FR-012", how: "Query reads the whole result before it returns", inner: inner, h: hooks{
		query: func(ctx context.Context, q adapter.Querier, sql string, args ...any) (adapter.Rows, error) {
			rows, err := q.Query(ctx, sql, args...)
			if err != nil {
				return nil, err
			}
			all, err := rows.FetchAll(ctx)
			if cerr := rows.Close(ctx); err == nil {
				err = cerr
			}
			if err != nil {
				return nil, err
			}
			return &inMemory{cols: rows.Columns(), rows: all}, nil
		},
	}}
}

// inMemory is a cursor over rows already read.
type inMemory struct {
	cols []adapter.Column
	rows [][]any
}

func (m *inMemory) Columns() []adapter.Column { return m.cols }

func (m *inMemory) FetchOne(ctx context.Context) ([]any, error) {
	r, err := m.FetchMany(ctx, 1)
	if len(r) == 0 {
		return nil, err
	}
	return r[0], err
}

func (m *inMemory) FetchMany(_ context.Context, n int) ([][]any, error) {
	n = min(n, len(m.rows))
	out := m.rows[:n:n]
	m.rows = m.rows[n:]
	return out, nil
}

func (m *inMemory) FetchAll(ctx context.Context) ([][]any, error) {
	return m.FetchMany(ctx, len(m.rows))
}

func (m *inMemory) Close(context.Context) error { m.rows = nil; return nil }

// ZeroRowCounts: Exec reports 0 rows affected for UPDATE and DELETE (a
// driver reading the wrong field of the command tag). Breaks FR-002.
func ZeroRowCounts(inner adapter.Adapter) *Adapter {
	return &Adapter{name: "broken-rowcount", breaks: "FR-002", how: "Exec reports 0 rows for UPDATE and DELETE", inner: inner, h: hooks{
		exec: func(ctx context.Context, q adapter.Querier, sql string, args ...any) (int64, error) {
			n, err := q.Exec(ctx, sql, args...)
			verb := strings.ToUpper(strings.Fields(sql + " x")[0])
			if verb == "UPDATE" || verb == "DELETE" {
				n = 0
			}
			return n, err
		},
	}}
}

// Serial: the engine serves one caller at a time (a web app or pool that
// serialises every request): every answer is still right. Breaks FR-008
// (non-blocking), FR-005 and FR-014 (concurrent requests).
func Serial(inner adapter.Adapter) *Adapter {
	return &Adapter{name: "broken-serial", breaks: "FR-014", how: "one caller at a time", inner: inner, h: hooks{serial: make(chan struct{}, 1)}}
}

// UnboundedPool: the engine ignores the pool maximum it was asked for and
// opens up to 50 connections. Breaks FR-005 / EC-2.
func UnboundedPool(inner adapter.Adapter) *Adapter {
	return &Adapter{name: "broken-pool-unbounded", breaks: "FR-005", how: "ignores the pool maximum", inner: inner, h: hooks{
		open: func(o adapter.OpenOptions) adapter.OpenOptions { o.PoolMax = 50; return o },
	}}
}

// LiesAboutProtocol: runs on the simple query protocol but declares the
// extended one (protocol:extended specs would certify the wrong thing).
// Breaks COMPAT (the protocol label).
func LiesAboutProtocol(inner adapter.Adapter) *Adapter {
	return &Adapter{name: "broken-protocol-label", breaks: "COMPAT", how: "declares extended, runs simple", inner: inner, h: hooks{
		info: func(i adapter.Info) adapter.Info { i.Protocol = "extended"; return i },
	}}
}

// TLSFallback: asked for sslmode=require, the driver connects with
// sslmode=prefer, so it goes on in plain text when the server refuses TLS
// (the application believes its traffic is encrypted). Breaks FR-009/T015.
func TLSFallback(inner adapter.Adapter) *Adapter {
	return &Adapter{name: "broken-tls-fallback", breaks: "T015", how: "sslmode=require weakened to prefer", inner: inner, h: hooks{
		open: func(o adapter.OpenOptions) adapter.OpenOptions {
			o.DSN = replaceParam(o.DSN, "sslmode", "require", "prefer")
			return o
		},
	}}
}

// TLSNoVerify: asked for sslmode=verify-full, the driver connects with
// sslmode=require: TLS without checking whose certificate it is. Breaks
// FR-009/T015.
func TLSNoVerify(inner adapter.Adapter) *Adapter {
	return &Adapter{name: "broken-tls-noverify", breaks: "T015", how: "sslmode=verify-full weakened to require", inner: inner, h: hooks{
		open: func(o adapter.OpenOptions) adapter.OpenOptions {
			o.DSN = replaceParam(o.DSN, "sslmode", "verify-full", "require")
			return o
		},
	}}
}

// replaceParam turns key=from into key=to in a URL DSN's query.
func replaceParam(dsn, key, from, to string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return dsn
	}
	q := u.Query()
	if q.Get(key) == from {
		q.Set(key, to)
		u.RawQuery = q.Encode()
	}
	return u.String()
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
	if a.h.info != nil {
		i = a.h.info(i)
	}
	return i
}

// Open opens the inner adapter's engine and wraps it.
func (a *Adapter) Open(ctx context.Context, o adapter.OpenOptions) (adapter.Engine, error) {
	if a.h.open != nil {
		o = a.h.open(o)
	}
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
	if q.h.exec != nil {
		return q.h.exec(ctx, q.q, sql, args...)
	}
	return q.q.Exec(ctx, sql, args...)
}

func (q querier) ExecMany(ctx context.Context, sql string, rows [][]any) (int64, error) {
	if q.h.execMany != nil {
		return q.h.execMany(ctx, q.q, sql, rows)
	}
	return q.q.ExecMany(ctx, sql, rows)
}

func (q querier) Query(ctx context.Context, sql string, args ...any) (adapter.Rows, error) {
	if q.h.query != nil {
		return q.h.query(ctx, q.q, sql, args...)
	}
	return q.q.Query(ctx, sql, args...)
}

type engine struct {
	adapter.Engine
	h *hooks
}

func (e *engine) Exec(ctx context.Context, sql string, args ...any) (int64, error) {
	unlock, err := e.h.lock(ctx)
	if err != nil {
		return 0, err
	}
	defer unlock()
	return querier{e.Engine, e.h}.Exec(ctx, sql, args...)
}

func (e *engine) ExecMany(ctx context.Context, sql string, rows [][]any) (int64, error) {
	unlock, err := e.h.lock(ctx)
	if err != nil {
		return 0, err
	}
	defer unlock()
	return querier{e.Engine, e.h}.ExecMany(ctx, sql, rows)
}

// Query on a serial engine holds the lock until the cursor closes.
func (e *engine) Query(ctx context.Context, sql string, args ...any) (adapter.Rows, error) {
	unlock, err := e.h.lock(ctx)
	if err != nil {
		return nil, err
	}
	r, err := querier{e.Engine, e.h}.Query(ctx, sql, args...)
	if err != nil {
		unlock()
		return nil, err
	}
	return &rows{Rows: r, unlock: unlock}, nil
}

func (e *engine) Acquire(ctx context.Context) (adapter.Conn, error) {
	unlock, err := e.h.lock(ctx)
	if err != nil {
		return nil, err
	}
	c, err := e.Engine.Acquire(ctx)
	if err != nil {
		unlock()
		return nil, err
	}
	return &conn{Conn: c, h: e.h, unlock: unlock}, nil
}

// lock takes the serial fixture's lock (a no-op for the others), or gives
// up when ctx ends, and returns its release, safe to call once.
func (h *hooks) lock(ctx context.Context) (func(), error) {
	if h.serial == nil {
		return func() {}, nil
	}
	select {
	case h.serial <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("waiting for the engine's one caller to finish: %w", context.Cause(ctx))
	}
	var once sync.Once
	return func() { once.Do(func() { <-h.serial }) }, nil
}

// rows releases the serial lock when the cursor closes.
type rows struct {
	adapter.Rows
	unlock func()
}

func (r *rows) Close(ctx context.Context) error {
	defer r.unlock()
	return r.Rows.Close(ctx)
}

func (e *engine) Introspect(ctx context.Context) (adapter.Introspection, error) {
	in, err := e.Engine.Introspect(ctx)
	if err == nil && e.h.introspect != nil {
		in = e.h.introspect(in)
	}
	return in, err
}

type conn struct {
	adapter.Conn
	h      *hooks
	unlock func()
}

func (c *conn) Release(ctx context.Context) error {
	if c.unlock != nil {
		defer c.unlock()
	}
	return c.Conn.Release(ctx)
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
	n, err := querier{t.Tx, t.h}.Exec(ctx, sql, args...)
	if err != nil {
		t.h.failed.Store(true)
	}
	return n, err
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
