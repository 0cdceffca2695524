// Package pgxadapter certifies pgx v5 through its native pool, pgxpool.
package pgxadapter

import (
	"context"
	"database/sql/driver"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pgwire-conformance/pgwire-conformance/adapter"
)

const modulePath = "github.com/jackc/pgx/v5"

func init() {
	adapter.Register(New("pgx", pgx.QueryExecModeCacheStatement))
	adapter.Register(New("pgx-simple", pgx.QueryExecModeSimpleProtocol))
}

// Adapter opens pgxpool pools that run queries in one pgx exec mode.
type Adapter struct {
	name string
	mode pgx.QueryExecMode
}

// New returns a pgxpool adapter; mode picks the wire protocol (simple or a
// flavour of extended), since a PGWire server can break on either.
func New(name string, mode pgx.QueryExecMode) *Adapter {
	return &Adapter{name: name, mode: mode}
}

// Mode reports the exec mode, for protocol labels.
func (a *Adapter) Mode() pgx.QueryExecMode { return a.mode }

// Protocol names the wire protocol of an exec mode: every mode but
// QueryExecModeSimpleProtocol runs on the extended protocol.
func Protocol(mode pgx.QueryExecMode) string {
	if mode == pgx.QueryExecModeSimpleProtocol {
		return "simple"
	}
	return "extended"
}

func (a *Adapter) Info() adapter.Info {
	return adapter.Info{
		Name:          a.name,
		Driver:        "pgx/v5 pgxpool (" + a.mode.String() + ")",
		DriverVersion: adapter.ModuleVersion(modulePath),
		Language:      "go",
		Async:         false,
		Capabilities:  []adapter.Capability{adapter.Introspects, adapter.TLS},
		Protocol:      Protocol(a.mode),
	}
}

func (a *Adapter) Open(ctx context.Context, o adapter.OpenOptions) (adapter.Engine, error) {
	cfg, err := pgxpool.ParseConfig(o.DSN)
	if err != nil {
		return nil, fmt.Errorf("pgx: parse DSN: %w", err)
	}
	cfg.ConnConfig.DefaultQueryExecMode = a.mode
	if o.ApplicationName != "" {
		cfg.ConnConfig.RuntimeParams["application_name"] = o.ApplicationName
	}
	if o.PoolMax > 0 {
		cfg.MaxConns = int32(o.PoolMax)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("pgx: open pool: %w", err)
	}
	return &engine{pool: pool}, nil
}

// querier is what pgxpool.Pool, pgxpool.Conn, pgx.Conn and pgx.Tx share.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

type queries struct{ q querier }

func (q queries) Exec(ctx context.Context, sql string, args ...any) (int64, error) {
	tag, err := q.q.Exec(ctx, sql, args...)
	return tag.RowsAffected(), err
}

// ExecMany queues every row in one pgx.Batch: one round trip for all of them.
func (q queries) ExecMany(ctx context.Context, sql string, rows [][]any) (int64, error) {
	return ExecBatch(ctx, q.q, sql, rows)
}

// ExecBatch runs sql once per row in one pgx.Batch on q (a pool, a
// connection or a transaction) and adds up the rows affected.
func ExecBatch(ctx context.Context, q interface {
	SendBatch(context.Context, *pgx.Batch) pgx.BatchResults
}, sql string, rows [][]any) (int64, error) {
	b := &pgx.Batch{}
	for _, r := range rows {
		b.Queue(sql, r...)
	}
	br := q.SendBatch(ctx, b)
	var n int64
	for range rows {
		tag, err := br.Exec()
		if err != nil {
			br.Close()
			return n, err
		}
		n += tag.RowsAffected()
	}
	return n, br.Close()
}

func (q queries) Query(ctx context.Context, sql string, args ...any) (adapter.Rows, error) {
	r, err := q.q.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	return newRows(r), nil
}

type engine struct {
	pool *pgxpool.Pool
}

func (e *engine) Exec(ctx context.Context, sql string, args ...any) (int64, error) {
	return queries{e.pool}.Exec(ctx, sql, args...)
}

func (e *engine) ExecMany(ctx context.Context, sql string, rows [][]any) (int64, error) {
	return queries{e.pool}.ExecMany(ctx, sql, rows)
}

func (e *engine) Query(ctx context.Context, sql string, args ...any) (adapter.Rows, error) {
	return queries{e.pool}.Query(ctx, sql, args...)
}

func (e *engine) Acquire(ctx context.Context) (adapter.Conn, error) {
	c, err := e.pool.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	return &conn{queries: queries{c}, c: c}, nil
}

func (e *engine) Introspect(ctx context.Context) (adapter.Introspection, error) {
	c, err := e.pool.Acquire(ctx)
	if err != nil {
		return adapter.Introspection{}, err
	}
	defer c.Release()
	return adapter.Introspection{
		PoolClass:       fmt.Sprintf("%T", e.pool),
		ConnectionClass: fmt.Sprintf("%T", c.Conn()),
	}, nil
}

func (e *engine) Bench(ctx context.Context, sql string, n int) ([]time.Duration, error) {
	c, err := e.pool.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	defer c.Release()
	return BenchLoop(ctx, c, sql, n)
}

func (e *engine) Close(ctx context.Context) error {
	e.pool.Close()
	return nil
}

// BenchLoop runs sql n times on q, reading every row, and times each run.
// The FR-013 baseline (a bare pgx.Conn) uses it too, so both sides of the
// comparison are measured by the same loop.
func BenchLoop(ctx context.Context, q interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}, sql string, n int) ([]time.Duration, error) {
	out := make([]time.Duration, 0, n)
	for i := 0; i < n; i++ {
		start := time.Now()
		rows, err := q.Query(ctx, sql)
		if err != nil {
			return out, err
		}
		for rows.Next() {
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return out, err
		}
		out = append(out, time.Since(start))
	}
	return out, nil
}

type conn struct {
	queries
	c *pgxpool.Conn
}

func (c *conn) Begin(ctx context.Context) (adapter.Tx, error) {
	t, err := c.c.Begin(ctx)
	if err != nil {
		return nil, err
	}
	return &tx{queries: queries{t}, t: t}, nil
}

func (c *conn) Release(ctx context.Context) error {
	c.c.Release()
	return nil
}

type tx struct {
	queries
	t pgx.Tx
}

func (t *tx) Commit(ctx context.Context) error   { return t.t.Commit(ctx) }
func (t *tx) Rollback(ctx context.Context) error { return t.t.Rollback(ctx) }

type rows struct {
	adapter.Fetcher
	r    pgx.Rows
	cols []adapter.Column
}

func newRows(r pgx.Rows) *rows {
	m := r.Conn().TypeMap()
	fds := r.FieldDescriptions()
	cols := make([]adapter.Column, len(fds))
	for i, fd := range fds {
		typ := fmt.Sprintf("oid:%d", fd.DataTypeOID)
		if t, ok := m.TypeForOID(fd.DataTypeOID); ok {
			typ = t.Name
		}
		cols[i] = adapter.Column{Name: fd.Name, Type: typ}
	}
	out := &rows{r: r, cols: cols}
	out.One = out.FetchOne
	return out
}

func (r *rows) Columns() []adapter.Column { return r.cols }

func (r *rows) FetchOne(ctx context.Context) ([]any, error) {
	if !r.r.Next() {
		return nil, r.r.Err()
	}
	vals, err := r.r.Values()
	if err != nil {
		return nil, err
	}
	raw := r.r.RawValues()
	for i, fd := range r.r.FieldDescriptions() {
		vals[i] = adapter.Normalize(textForm(vals[i], fd, raw[i]))
	}
	return vals, nil
}

// textForm gives the text form of the values pgx decodes into types of its
// own, as adapter.Normalize promises (numeric, json, vector in text form).
// pgx decodes json and jsonb into Go maps, slices and scalars (json null
// and SQL NULL alike into nil), so those columns are read from the wire
// instead: the server's JSON text, after jsonb's binary version byte.
// numeric (and pgx's other pgtype structs) give their text form through
// driver.Valuer.
func textForm(v any, fd pgconn.FieldDescription, raw []byte) any {
	switch fd.DataTypeOID {
	case pgtype.JSONOID, pgtype.JSONBOID:
		if raw == nil {
			return nil
		}
		if fd.DataTypeOID == pgtype.JSONBOID && fd.Format == pgx.BinaryFormatCode && len(raw) > 0 && raw[0] == 1 {
			raw = raw[1:]
		}
		return string(raw)
	}
	if x, ok := v.(driver.Valuer); ok {
		if tv, err := x.Value(); err == nil {
			return tv
		}
	}
	return v
}

func (r *rows) Close(ctx context.Context) error {
	r.r.Close()
	return r.r.Err()
}
