// Package adapter defines the client under test as a handful of small
// interfaces. Every method maps one-to-one onto a request of the remote
// backend protocol (values in, values out, no callbacks), so a driver in any
// language can stand behind them.
package adapter

import (
	"context"
	"errors"
	"time"
)

// Capability is something an adapter may or may not have. A spec that needs
// a capability the adapter lacks is reported as not applicable, not failed.
type Capability string

const (
	// Async: the adapter is the async variant of its driver (SQLAlchemy's
	// create_async_engine, psycopg's AsyncConnection).
	Async Capability = "async"
	// Introspects: the adapter reports the pool and connection classes it runs on.
	Introspects Capability = "introspection"
	// Dialect: the adapter has a dialect layer that resolves a URL to a variant (FR-003).
	Dialect Capability = "dialect"
	// ORM: the adapter has models and sessions (FR-011).
	ORM Capability = "orm"
	// WebApp: the adapter runs its own web application (FR-014 for backends).
	WebApp Capability = "webapp"
	// SyncMisuseProbe: the adapter can show what its async engine does when
	// called from sync code (EC-1).
	SyncMisuseProbe Capability = "probe:sync-misuse"
	// MissingAsyncDepProbe: the adapter can show its error when its async
	// dependency is missing (EC-4).
	MissingAsyncDepProbe Capability = "probe:missing-async-dependency"
	// TLS: the adapter's driver takes sslmode (require, verify-full) and
	// sslrootcert (a CA file) from the DSN, as libpq does.
	TLS Capability = "tls"
)

// Info describes an adapter for reports and capability checks.
type Info struct {
	Name          string       `json:"name"`
	Driver        string       `json:"driver"`
	DriverVersion string       `json:"driver_version"`
	Language      string       `json:"language"`
	Async         bool         `json:"async"`
	Capabilities  []Capability `json:"capabilities"`
	// Protocol is the query protocol the adapter runs its statements on:
	// "simple" or "extended" ("" when the adapter does not choose). Specs
	// get the label protocol:<Protocol>, so a run can select either.
	Protocol string `json:"protocol"`
	// Fixture marks an adapter that is broken on purpose (adapter/broken):
	// selectable by name to prove specs can fail, never certified by default.
	Fixture bool `json:"fixture,omitempty"`
	// Baseline names the adapter FR-013 compares this one with (another
	// adapter of the same backend, e.g. an async adapter's sync twin).
	// Empty means the raw pgx.Conn baseline (Go adapters); the adapter's
	// own name means it is the raw-driver baseline itself, so FR-013 does
	// not apply to it.
	Baseline string `json:"baseline,omitempty"`
}

// IsOwnBaseline reports whether the adapter is the raw-driver baseline
// other adapters are compared with (FR-013 does not apply to it).
func (i Info) IsOwnBaseline() bool { return i.Baseline != "" && i.Baseline == i.Name }

// Has reports whether the adapter declares c.
func (i Info) Has(c Capability) bool {
	for _, x := range i.Capabilities {
		if x == c {
			return true
		}
	}
	return false
}

// OpenOptions configure an engine (a pool of connections).
type OpenOptions struct {
	DSN string
	// PoolMax bounds the engine's connections; 0 means the adapter's default.
	PoolMax int
	// ApplicationName tags every server connection so an observer can count them.
	ApplicationName string
}

// Adapter opens engines for one driver.
type Adapter interface {
	Info() Info
	Open(ctx context.Context, opts OpenOptions) (Engine, error)
}

// Querier runs statements. Placeholders are $1, $2, … for every adapter.
type Querier interface {
	// Exec runs a statement and returns the rows it affected.
	Exec(ctx context.Context, sql string, args ...any) (int64, error)
	// ExecMany runs one statement once per parameter row, the way the driver
	// batches best, and returns the rows affected in total.
	ExecMany(ctx context.Context, sql string, rows [][]any) (int64, error)
	// Query opens a cursor over a result.
	Query(ctx context.Context, sql string, args ...any) (Rows, error)
}

// Engine is a pool of connections. Its Querier methods run in autocommit on
// a connection borrowed for the call.
type Engine interface {
	Querier
	Acquire(ctx context.Context) (Conn, error)
	Introspect(ctx context.Context) (Introspection, error)
	// Bench runs sql n times in a row on one connection and returns each
	// run's duration, measured next to the driver (inside a backend for
	// remote adapters) so no harness round trip enters the figures.
	Bench(ctx context.Context, sql string, n int) ([]time.Duration, error)
	Close(ctx context.Context) error
}

// Conn is one connection held out of the pool until Release.
type Conn interface {
	Querier
	Begin(ctx context.Context) (Tx, error)
	Release(ctx context.Context) error
}

// Tx is a transaction on a Conn.
type Tx interface {
	Querier
	Commit(ctx context.Context) error
	Rollback(ctx context.Context) error
}

// Column names a result column and its server type.
type Column struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

// Rows is a cursor. Values come back normalised (see Normalize).
type Rows interface {
	Columns() []Column
	// FetchOne returns the next row, or nil at the end.
	FetchOne(ctx context.Context) ([]any, error)
	// FetchMany returns up to n rows; fewer (or none) at the end.
	FetchMany(ctx context.Context, n int) ([][]any, error)
	FetchAll(ctx context.Context) ([][]any, error)
	Close(ctx context.Context) error
}

// Introspection is what an adapter reports about the machinery it runs on.
type Introspection struct {
	// Dialect is the resolved dialect class (SQLAlchemy), empty without one.
	Dialect string `json:"dialect,omitempty"`
	IsAsync bool   `json:"is_async"`
	// PoolClass and ConnectionClass name the types really in use.
	PoolClass       string `json:"pool_class"`
	ConnectionClass string `json:"connection_class"`
}

// streamKey marks a context whose Query results the caller reads in batches.
type streamKey struct{}

// Streaming marks ctx for a Query whose result the caller will read in
// batches, too large to hold: an adapter whose driver streams only when
// asked (a server-side cursor, a fetch size, a streaming call) uses that
// facility for it, as an application reading a large result would. Other
// queries take the driver's ordinary path. Adapters that always stream
// may ignore it.
func Streaming(ctx context.Context) context.Context {
	return context.WithValue(ctx, streamKey{}, true)
}

// IsStreaming reports whether ctx was marked by Streaming.
func IsStreaming(ctx context.Context) bool {
	v, _ := ctx.Value(streamKey{}).(bool)
	return v
}

// ErrNotSupported is returned by an operation the adapter cannot perform.
var ErrNotSupported = errors.New("not supported by this adapter")

// QueryAll runs a query and returns every row, closing the cursor; the
// first error of the query, the fetch or the close is returned.
func QueryAll(ctx context.Context, q Querier, sql string, args ...any) ([][]any, error) {
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	all, err := rows.FetchAll(ctx)
	if cerr := rows.Close(ctx); err == nil {
		err = cerr
	}
	return all, err
}

// Scalar runs a query that returns one row of one column and gives its value.
func Scalar(ctx context.Context, q Querier, sql string, args ...any) (any, error) {
	all, err := QueryAll(ctx, q, sql, args...)
	if err != nil {
		return nil, err
	}
	if len(all) != 1 || len(all[0]) != 1 {
		return nil, errors.New("scalar query did not return exactly one row of one column")
	}
	return all[0][0], nil
}
