// Package sqladapter certifies drivers through database/sql: pgx's stdlib
// driver and lib/pq. One adapter type; each driver supplies how to turn a
// DSN and application name into a connector.
package sqladapter

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/lib/pq"

	"github.com/pgwire-conformance/pgwire-conformance/adapter"
)

func init() {
	adapter.Register(&Adapter{
		Name:      "pgx-stdlib",
		Driver:    "database/sql + pgx/v5 stdlib",
		Module:    "github.com/jackc/pgx/v5",
		Protocol:  "extended",
		Connector: pgxConnector(""),
	})
	// The same over the simple protocol, chosen the way a user does: in the
	// DSN (default_query_exec_mode=simple_protocol).
	adapter.Register(&Adapter{
		Name:      "pgx-stdlib-simple",
		Driver:    "database/sql + pgx/v5 stdlib (default_query_exec_mode=simple_protocol)",
		Module:    "github.com/jackc/pgx/v5",
		Protocol:  "simple",
		Connector: pgxConnector("simple_protocol"),
	})
	// lib/pq sends a statement with parameters as Parse/Bind/Execute (the
	// extended protocol) and one without as a simple Query.
	adapter.Register(&Adapter{
		Name:     "pq",
		Driver:   "database/sql + lib/pq",
		Module:   "github.com/lib/pq",
		Protocol: "extended",
		Connector: func(dsn, app string) (driver.Connector, error) {
			if app != "" {
				var err error
				if dsn, err = adapter.WithParam(dsn, "application_name", app); err != nil {
					return nil, err
				}
			}
			return pq.NewConnector(dsn)
		},
	})
}

// pgxConnector connects through pgx's stdlib driver; a non-empty execMode
// is set as the DSN's default_query_exec_mode.
func pgxConnector(execMode string) func(dsn, app string) (driver.Connector, error) {
	return func(dsn, app string) (driver.Connector, error) {
		if execMode != "" {
			var err error
			if dsn, err = adapter.WithParam(dsn, "default_query_exec_mode", execMode); err != nil {
				return nil, err
			}
		}
		cfg, err := pgx.ParseConfig(dsn)
		if err != nil {
			return nil, err
		}
		if app != "" {
			cfg.RuntimeParams["application_name"] = app
		}
		return stdlib.GetConnector(*cfg), nil
	}
}

// Adapter opens *sql.DB pools over one driver.
type Adapter struct {
	Name, Driver, Module string
	// Protocol is reported in Info (see adapter.Info.Protocol).
	Protocol  string
	Connector func(dsn, applicationName string) (driver.Connector, error)
}

func (a *Adapter) Info() adapter.Info {
	return adapter.Info{
		Name:          a.Name,
		Driver:        a.Driver,
		DriverVersion: adapter.ModuleVersion(a.Module),
		Language:      "go",
		Async:         false,
		Capabilities:  []adapter.Capability{adapter.Introspects, adapter.TLS},
		Protocol:      a.Protocol,
	}
}

func (a *Adapter) Open(ctx context.Context, o adapter.OpenOptions) (adapter.Engine, error) {
	c, err := a.Connector(o.DSN, o.ApplicationName)
	if err != nil {
		return nil, fmt.Errorf("%s: parse DSN: %w", a.Name, err)
	}
	db := sql.OpenDB(c)
	if o.PoolMax > 0 {
		db.SetMaxOpenConns(o.PoolMax)
		db.SetMaxIdleConns(o.PoolMax)
	}
	// database/sql connects lazily; ping so a bad target fails at open, as a pool does.
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("%s: connect: %w", a.Name, err)
	}
	return &engine{queries: queries{db}, db: db}, nil
}

// querier is what *sql.DB, *sql.Conn and *sql.Tx share.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	PrepareContext(ctx context.Context, query string) (*sql.Stmt, error)
}

type queries struct{ q querier }

func (q queries) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	res, err := q.q.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// ExecMany runs the statement once per row the way the driver batches
// best. database/sql has no batch API: through pgx's stdlib driver the
// batch goes to the pgx.Conn underneath (sql.Conn.Raw, as pgx documents
// for pgx-only features), one pipelined round trip; otherwise — lib/pq,
// or inside a transaction, where database/sql gives no way down to the
// driver's connection — it prepares once and executes per row, one round
// trip each.
func (q queries) ExecMany(ctx context.Context, query string, rows [][]any) (int64, error) {
	if n, ok, err := pgxBatch(ctx, q.q, query, rows); ok {
		return n, err
	}
	st, err := q.q.PrepareContext(ctx, query)
	if err != nil {
		return 0, err
	}
	defer st.Close()
	var n int64
	for _, r := range rows {
		res, err := st.ExecContext(ctx, r...)
		if err != nil {
			return n, err
		}
		k, err := res.RowsAffected()
		if err != nil {
			return n, err
		}
		n += k
	}
	return n, nil
}

// pgxBatch sends rows as one pgx.Batch when q reaches a pgx stdlib
// connection outside a transaction; ok is false when it does not.
func pgxBatch(ctx context.Context, q querier, query string, rows [][]any) (n int64, ok bool, err error) {
	var c *sql.Conn
	switch x := q.(type) {
	case *sql.DB:
		if _, isPgx := x.Driver().(*stdlib.Driver); !isPgx {
			return 0, false, nil
		}
		if c, err = x.Conn(ctx); err != nil {
			return 0, true, err
		}
		defer c.Close()
	case *sql.Conn:
		c = x
	default:
		return 0, false, nil
	}
	err = c.Raw(func(dc any) error {
		pc, isPgx := dc.(*stdlib.Conn)
		if !isPgx {
			return errNotPgx
		}
		b := &pgx.Batch{}
		for _, r := range rows {
			b.Queue(query, r...)
		}
		br := pc.Conn().SendBatch(ctx, b)
		for range rows {
			tag, err := br.Exec()
			if err != nil {
				br.Close()
				return err
			}
			n += tag.RowsAffected()
		}
		return br.Close()
	})
	if errors.Is(err, errNotPgx) {
		return 0, false, nil
	}
	return n, true, err
}

var errNotPgx = errors.New("not a pgx stdlib connection")

func (q queries) Query(ctx context.Context, query string, args ...any) (adapter.Rows, error) {
	r, err := q.q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return newRows(r)
}

type engine struct {
	queries
	db *sql.DB
}

func (e *engine) Acquire(ctx context.Context) (adapter.Conn, error) {
	c, err := e.db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	return &conn{queries: queries{c}, c: c}, nil
}

func (e *engine) Introspect(ctx context.Context) (adapter.Introspection, error) {
	c, err := e.db.Conn(ctx)
	if err != nil {
		return adapter.Introspection{}, err
	}
	defer c.Close()
	var class string
	if err := c.Raw(func(dc any) error { class = fmt.Sprintf("%T", dc); return nil }); err != nil {
		return adapter.Introspection{}, err
	}
	return adapter.Introspection{PoolClass: fmt.Sprintf("%T", e.db), ConnectionClass: class}, nil
}

func (e *engine) Bench(ctx context.Context, query string, n int) ([]time.Duration, error) {
	c, err := e.db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	out := make([]time.Duration, 0, n)
	for i := 0; i < n; i++ {
		start := time.Now()
		r, err := c.QueryContext(ctx, query)
		if err != nil {
			return out, err
		}
		for r.Next() {
		}
		r.Close()
		if err := r.Err(); err != nil {
			return out, err
		}
		out = append(out, time.Since(start))
	}
	return out, nil
}

func (e *engine) Close(ctx context.Context) error { return e.db.Close() }

type conn struct {
	queries
	c *sql.Conn
}

func (c *conn) Begin(ctx context.Context) (adapter.Tx, error) {
	t, err := c.c.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	return &tx{queries: queries{t}, t: t}, nil
}

func (c *conn) Release(ctx context.Context) error { return c.c.Close() }

type tx struct {
	queries
	t *sql.Tx
}

func (t *tx) Commit(ctx context.Context) error   { return t.t.Commit() }
func (t *tx) Rollback(ctx context.Context) error { return t.t.Rollback() }

type rows struct {
	adapter.Fetcher
	r    *sql.Rows
	cols []adapter.Column
}

func newRows(r *sql.Rows) (*rows, error) {
	cts, err := r.ColumnTypes()
	if err != nil {
		r.Close()
		return nil, err
	}
	cols := make([]adapter.Column, len(cts))
	for i, ct := range cts {
		cols[i] = adapter.Column{Name: ct.Name(), Type: normaliseTypeName(ct.DatabaseTypeName())}
	}
	out := &rows{r: r, cols: cols}
	out.One = out.FetchOne
	return out, nil
}

func (r *rows) Columns() []adapter.Column { return r.cols }

func (r *rows) FetchOne(ctx context.Context) ([]any, error) {
	if !r.r.Next() {
		return nil, r.r.Err()
	}
	vals := make([]any, len(r.cols))
	ptrs := make([]any, len(vals))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := r.r.Scan(ptrs...); err != nil {
		return nil, err
	}
	for i := range vals {
		// database/sql drivers hand over the text form of types they do
		// not decode (lib/pq: name, vector, numeric, json) as []byte; the
		// adapter contract returns text as string and only bytea as bytes.
		if b, ok := vals[i].([]byte); ok && r.cols[i].Type != "bytea" {
			vals[i] = string(b)
		}
		vals[i] = adapter.Normalize(vals[i])
	}
	return vals, nil
}

func (r *rows) Close(ctx context.Context) error {
	if err := r.r.Close(); err != nil {
		return err
	}
	return r.r.Err()
}

// normaliseTypeName makes database/sql's upper-case names ("INT4") match the
// server's catalogue names that pgx reports ("int4").
func normaliseTypeName(s string) string { return strings.ToLower(s) }
