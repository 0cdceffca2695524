// Package remote is the adapter for drivers in other languages: it speaks
// the backend protocol (PROTOCOL.md, package protocol) to a backend process
// that maps it onto its driver, in the manner of Neo4j TestKit. An adapter
// is named BACKEND:ADAPTER, e.g. python:sqlalchemy-async, and is registered
// only when the run's adapter selection names it, so the default selection
// stays the in-process Go adapters.
package remote

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pgwire-conformance/pgwire-conformance/adapter"
	"github.com/pgwire-conformance/pgwire-conformance/protocol"
)

// Remote is the capability only remote adapters declare; the protocol
// checklist specs need it.
const Remote adapter.Capability = "remote"

// backend is one backend process as this test process reaches it: one TCP
// connection, shared by every adapter it serves and multiplexed by id.
type backend struct {
	name string // "python"

	mu       sync.Mutex
	client   *protocol.Client
	describe Describe
	err      error
}

// Describe is the backend's answer to describe (protocol.DescribeResult,
// with capabilities typed for the adapter registry).
type Describe struct {
	Backend  string         `json:"backend"`
	Protocol int            `json:"protocol"`
	Language string         `json:"language"`
	Adapters []AdapterEntry `json:"adapters"`
}

// AdapterEntry is one adapter a backend serves (describe, manifest.json).
type AdapterEntry struct {
	Name          string               `json:"name"`
	Driver        string               `json:"driver"`
	DriverVersion string               `json:"driver_version"`
	Async         bool                 `json:"async"`
	Capabilities  []adapter.Capability `json:"capabilities"`
	// Baseline is the adapter of the same backend FR-013 compares this one
	// with; its own name for the raw driver the others are measured against.
	Baseline string `json:"baseline,omitempty"`
}

func describeFrom(d protocol.DescribeResult) Describe {
	out := Describe{Backend: d.Backend, Protocol: d.Protocol, Language: d.Language}
	for _, e := range d.Adapters {
		caps := make([]adapter.Capability, len(e.Capabilities))
		for i, c := range e.Capabilities {
			caps[i] = adapter.Capability(c)
		}
		out.Adapters = append(out.Adapters, AdapterEntry{Name: e.Name, Driver: e.Driver, DriverVersion: e.DriverVersion,
			Async: e.Async, Capabilities: caps, Baseline: e.Baseline})
	}
	return out
}

// Hello is the backend's answer to hello.
type Hello = protocol.HelloResult

// conn dials the backend on first use and says hello.
func (b *backend) conn(ctx context.Context) (*protocol.Client, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.client != nil {
		if err := b.client.Err(); err != nil {
			return nil, fmt.Errorf("backend %s at %s is gone: %w", b.name, b.client.Addr(), err)
		}
		return b.client, nil
	}
	addr, ok := addressOf(b.name)
	if !ok {
		return nil, fmt.Errorf("backend %s: no address: it was not started (the suite's SynchronizedBeforeSuite starts it) and PGWC_BACKEND_%s is not set", b.name, strings.ToUpper(b.name))
	}
	label := b.name + " at " + addr
	c, err := protocol.Dial(ctx, label, addr)
	if err != nil {
		return nil, err
	}
	var h Hello
	if err := c.Call(ctx, protocol.MethodHello, protocol.HelloParams{Protocol: protocol.Version, Client: "pgwire-conformance"}, &h); err != nil {
		c.Close()
		return nil, err
	}
	var d protocol.DescribeResult
	if err := c.Call(ctx, protocol.MethodDescribe, nil, &d); err != nil {
		c.Close()
		return nil, err
	}
	b.client, b.describe = c, describeFrom(d)
	return c, nil
}

// call runs one request on the backend.
func (b *backend) call(ctx context.Context, method string, params, result any) error {
	c, err := b.conn(ctx)
	if err != nil {
		return err
	}
	return c.Call(ctx, method, params, result)
}

// host is the backend's host, for URLs of services it runs (its web app).
func (b *backend) host() string {
	addr, _ := addressOf(b.name)
	h, _, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	return h
}

// Adapter is one adapter of a backend.
type Adapter struct {
	b    *backend
	name string // adapter name inside the backend, e.g. sqlalchemy-async
	info adapter.Info
}

// Info is the declared (manifest) information, completed with the driver's
// version once the backend has been reached.
func (a *Adapter) Info() adapter.Info {
	info := a.info
	a.b.mu.Lock()
	defer a.b.mu.Unlock()
	for _, e := range a.b.describe.Adapters {
		if e.Name == a.name {
			info.DriverVersion = e.DriverVersion
		}
	}
	if a.b.describe.Language != "" {
		info.Language = a.b.describe.Language
	}
	return info
}

// Backend is the backend's name; BackendAdapter the adapter's name inside it.
func (a *Adapter) Backend() string        { return a.b.name }
func (a *Adapter) BackendAdapter() string { return a.name }

// Address is the backend's host:port as this process reaches it.
func (a *Adapter) Address() (string, bool) { return addressOf(a.b.name) }

// Dial opens a fresh protocol connection to the backend, before hello: for
// the protocol checklist. The caller closes it.
func (a *Adapter) Dial(ctx context.Context) (*protocol.Client, error) {
	addr, ok := addressOf(a.b.name)
	if !ok {
		return nil, fmt.Errorf("backend %s has no address", a.b.name)
	}
	return protocol.Dial(ctx, a.b.name+" at "+addr, addr)
}

// Call sends a raw request to the adapter's backend: for the protocol specs.
func (a *Adapter) Call(ctx context.Context, method string, params, result any) error {
	return a.b.call(ctx, method, params, result)
}

// Described returns the backend's describe answer (after the first call).
func (a *Adapter) Described(ctx context.Context) (Describe, error) {
	if _, err := a.b.conn(ctx); err != nil {
		return Describe{}, err
	}
	a.b.mu.Lock()
	defer a.b.mu.Unlock()
	return a.b.describe, nil
}

// Open opens an engine in the backend.
func (a *Adapter) Open(ctx context.Context, o adapter.OpenOptions) (adapter.Engine, error) {
	var r protocol.EngineResult
	err := a.b.call(ctx, protocol.MethodEngineOpen, protocol.EngineOpenParams{
		Adapter: a.name, DSN: backendDSN(o.DSN), PoolMax: o.PoolMax,
		ApplicationName: o.ApplicationName, Profile: profileName(),
	}, &r)
	if err != nil {
		return nil, err
	}
	return &engine{querier: querier{b: a.b, id: r.Engine}}, nil
}

// ProbeResult is what a driver raised when provoked (EC-1, EC-4).
type ProbeResult = protocol.ProbeResult

func (a *Adapter) probeParams(dsn string) protocol.ProbeParams {
	return protocol.ProbeParams{Adapter: a.name, DSN: backendDSN(dsn), Profile: profileName()}
}

// ProbeSyncMisuse asks the backend what its async engine does when used
// from sync code (EC-1; capability probe:sync-misuse).
func (a *Adapter) ProbeSyncMisuse(ctx context.Context, dsn string) (ProbeResult, error) {
	var r ProbeResult
	err := a.b.call(ctx, protocol.MethodProbeSyncMisuse, a.probeParams(dsn), &r)
	return r, err
}

// ProbeMissingAsyncDependency asks the backend what the driver says when its
// async dependency is missing (EC-4; capability probe:missing-async-dependency).
func (a *Adapter) ProbeMissingAsyncDependency(ctx context.Context, dsn string) (ProbeResult, error) {
	var r ProbeResult
	err := a.b.call(ctx, protocol.MethodProbeMissingAsyncDependency, a.probeParams(dsn), &r)
	return r, err
}

// Memory is the backend process's resident set size now and its peak since
// the last reset (process.memory); resetPeak starts a new peak period after
// the reading. A backend that cannot measure answers with category
// unsupported: protocol.IsCategory(err, protocol.CategoryUnsupported).
func (a *Adapter) Memory(ctx context.Context, resetPeak bool) (protocol.MemoryResult, error) {
	var r protocol.MemoryResult
	err := a.b.call(ctx, protocol.MethodProcessMemory, protocol.MemoryParams{ResetPeak: resetPeak}, &r)
	return r, err
}

// WebApp is implemented by engines of adapters with capability webapp.
type WebApp interface {
	// StartWebApp serves the backend's web app on this engine and returns
	// its base URL (http://host:port). searchSQL is the statement behind
	// POST /search, with $1 the query vector in text form; sleepSQL the
	// one behind GET /sleep (a server-side sleep).
	StartWebApp(ctx context.Context, searchSQL, sleepSQL string) (string, error)
}

// ORM is implemented by engines of adapters with capability orm (FR-011).
type ORM interface {
	// RunORM has the backend map its ORM's model onto table (columns id
	// BIGINT PRIMARY KEY, name TEXT, score DOUBLE PRECISION) and run ops in
	// one session, in order; it returns one result per op (PROTOCOL.md,
	// orm.run).
	RunORM(ctx context.Context, table string, ops []ORMOp) ([]ORMResult, error)
}

// ORMRow is one row of an ORM spec's table, as the model's attributes.
type ORMRow = protocol.ORMRow

// ORMOp is one step of orm.run (protocol.ORMOp).
type ORMOp = protocol.ORMOp

// ORMResult is what the session read at one step (protocol.ORMResult).
type ORMResult = protocol.ORMResult

type querier struct {
	b  *backend
	id string
}

func encodeArgs(args []any) ([]json.RawMessage, error) {
	out := make([]json.RawMessage, len(args))
	for i, a := range args {
		v, err := protocol.EncodeValue(a)
		if err != nil {
			return nil, fmt.Errorf("parameter $%d: %w", i+1, err)
		}
		out[i] = v
	}
	return out, nil
}

func (q querier) Exec(ctx context.Context, sql string, args ...any) (int64, error) {
	params, err := encodeArgs(args)
	if err != nil {
		return 0, err
	}
	var r protocol.RowCountResult
	err = q.b.call(ctx, protocol.MethodExecute, protocol.ExecuteParams{On: q.id, SQL: sql, Params: params}, &r)
	return r.RowCount, err
}

func (q querier) ExecMany(ctx context.Context, sql string, rows [][]any) (int64, error) {
	enc := make([][]json.RawMessage, len(rows))
	for i, row := range rows {
		p, err := encodeArgs(row)
		if err != nil {
			return 0, fmt.Errorf("row %d: %w", i, err)
		}
		enc[i] = p
	}
	var r protocol.RowCountResult
	err := q.b.call(ctx, protocol.MethodExecuteMany, protocol.ExecuteManyParams{On: q.id, SQL: sql, Rows: enc}, &r)
	return r.RowCount, err
}

func (q querier) Query(ctx context.Context, sql string, args ...any) (adapter.Rows, error) {
	params, err := encodeArgs(args)
	if err != nil {
		return nil, err
	}
	var r protocol.QueryResult
	if err := q.b.call(ctx, protocol.MethodQuery, protocol.QueryParams{On: q.id, SQL: sql, Params: params, Stream: adapter.IsStreaming(ctx)}, &r); err != nil {
		return nil, err
	}
	cols := make([]adapter.Column, len(r.Columns))
	for i, c := range r.Columns {
		cols[i] = adapter.Column{Name: c.Name, Type: c.Type}
	}
	return &rows{b: q.b, id: r.Cursor, cols: cols}, nil
}

type engine struct {
	querier
	closed atomic.Bool
}

func (e *engine) Acquire(ctx context.Context) (adapter.Conn, error) {
	var r protocol.ConnResult
	if err := e.b.call(ctx, protocol.MethodConnAcquire, protocol.EngineParams{Engine: e.id}, &r); err != nil {
		return nil, err
	}
	return &conn{querier{b: e.b, id: r.Conn}}, nil
}

func (e *engine) Introspect(ctx context.Context) (adapter.Introspection, error) {
	var in protocol.IntrospectResult
	err := e.b.call(ctx, protocol.MethodEngineIntrospect, protocol.EngineParams{Engine: e.id}, &in)
	return adapter.Introspection{Dialect: in.Dialect, IsAsync: in.IsAsync, PoolClass: in.PoolClass, ConnectionClass: in.ConnectionClass}, err
}

func (e *engine) Bench(ctx context.Context, sql string, n int) ([]time.Duration, error) {
	var r protocol.BenchResult
	if err := e.b.call(ctx, protocol.MethodEngineBench, protocol.BenchParams{Engine: e.id, SQL: sql, N: n}, &r); err != nil {
		return nil, err
	}
	if len(r.DurationsNS) != n {
		return nil, fmt.Errorf("backend %s: engine.bench returned %d durations for n=%d", e.b.name, len(r.DurationsNS), n)
	}
	out := make([]time.Duration, n)
	for i, d := range r.DurationsNS {
		out[i] = time.Duration(d)
	}
	return out, nil
}

// Close disposes of the engine; a second Close is a no-op, as for the Go
// adapters' pools.
func (e *engine) Close(ctx context.Context) error {
	if e.closed.Swap(true) {
		return nil
	}
	return e.b.call(ctx, protocol.MethodEngineClose, protocol.EngineParams{Engine: e.id}, nil)
}

func (e *engine) StartWebApp(ctx context.Context, searchSQL, sleepSQL string) (string, error) {
	var r protocol.PortResult
	params := protocol.WebAppStartParams{Engine: e.id, SearchSQL: searchSQL, SleepSQL: sleepSQL}
	// Where the host cannot route to the backend's container, the app must
	// listen on one of the ports published in advance.
	published := webPortsOf(e.b.name)
	if len(published) > 0 {
		ports := make([]int, 0, len(published))
		for p := range published {
			ports = append(ports, p)
		}
		sort.Ints(ports)
		params.Ports = ports
	}
	if err := e.b.call(ctx, protocol.MethodWebAppStart, params, &r); err != nil {
		return "", err
	}
	if len(published) > 0 {
		addr, ok := published[r.Port]
		if !ok {
			return "", fmt.Errorf("backend %s: webapp.start listens on port %d, not one of the published ports it was given", e.b.name, r.Port)
		}
		return "http://" + addr, nil
	}
	return "http://" + net.JoinHostPort(e.b.host(), fmt.Sprint(r.Port)), nil
}

func (e *engine) RunORM(ctx context.Context, table string, ops []ORMOp) ([]ORMResult, error) {
	var r protocol.ORMRunResult
	if err := e.b.call(ctx, protocol.MethodORMRun, protocol.ORMRunParams{Engine: e.id, Table: table, Ops: ops}, &r); err != nil {
		return nil, err
	}
	if len(r.Results) != len(ops) {
		return r.Results, fmt.Errorf("backend %s: orm.run returned %d results for %d ops", e.b.name, len(r.Results), len(ops))
	}
	return r.Results, nil
}

type conn struct{ querier }

func (c *conn) Begin(ctx context.Context) (adapter.Tx, error) {
	var r protocol.TxResult
	if err := c.b.call(ctx, protocol.MethodTxBegin, protocol.ConnParams{Conn: c.id}, &r); err != nil {
		return nil, err
	}
	return &tx{querier{b: c.b, id: r.Tx}}, nil
}

func (c *conn) Release(ctx context.Context) error {
	return c.b.call(ctx, protocol.MethodConnRelease, protocol.ConnParams{Conn: c.id}, nil)
}

type tx struct{ querier }

func (t *tx) Commit(ctx context.Context) error {
	return t.b.call(ctx, protocol.MethodTxCommit, protocol.TxParams{Tx: t.id}, nil)
}

func (t *tx) Rollback(ctx context.Context) error {
	return t.b.call(ctx, protocol.MethodTxRollback, protocol.TxParams{Tx: t.id}, nil)
}

type rows struct {
	b    *backend
	id   string
	cols []adapter.Column
}

func (r *rows) Columns() []adapter.Column { return r.cols }

func (r *rows) FetchOne(ctx context.Context) ([]any, error) {
	var res protocol.FetchOneResult
	if err := r.b.call(ctx, protocol.MethodCursorFetchOne, protocol.CursorParams{Cursor: r.id}, &res); err != nil {
		return nil, err
	}
	if res.Row == nil {
		return nil, nil
	}
	return decodeRow(res.Row)
}

func (r *rows) FetchMany(ctx context.Context, n int) ([][]any, error) {
	return r.fetch(ctx, protocol.MethodCursorFetchMany, protocol.FetchManyParams{Cursor: r.id, N: n})
}

func (r *rows) FetchAll(ctx context.Context) ([][]any, error) {
	return r.fetch(ctx, protocol.MethodCursorFetchAll, protocol.CursorParams{Cursor: r.id})
}

func (r *rows) fetch(ctx context.Context, method string, params any) ([][]any, error) {
	var res protocol.RowsResult
	if err := r.b.call(ctx, method, params, &res); err != nil {
		return nil, err
	}
	out := make([][]any, 0, len(res.Rows))
	for _, row := range res.Rows {
		vals, err := decodeRow(row)
		if err != nil {
			return out, err
		}
		out = append(out, vals)
	}
	return out, nil
}

func (r *rows) Close(ctx context.Context) error {
	return r.b.call(ctx, protocol.MethodCursorClose, protocol.CursorParams{Cursor: r.id}, nil)
}
