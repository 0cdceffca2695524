package broken

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgwire-conformance/pgwire-conformance/adapter"
	"github.com/pgwire-conformance/pgwire-conformance/adapter/pgxadapter"
)

// The FR-013 self-test fixtures: adapters whose latency is known by
// construction, so a run with them selected shows the latency verdict
// gives the answer it must (docs/fr-013.md).
const (
	// SelfTestAAName is the raw pgx.Conn path, the Go adapters' FR-013
	// baseline itself, wrapped as an adapter: an A/A comparison. It must pass.
	SelfTestAAName = "selftest-aa"
	// SelfTestPlus5Name, SelfTestPlus10Name and SelfTestPlus25Name are the
	// same path made 5%, 10% and 25% slower. +25% must fail; +5% must pass
	// or be inconclusive; +10% sits on the threshold (calibration only).
	SelfTestPlus5Name  = "selftest-plus5"
	SelfTestPlus10Name = "selftest-plus10"
	SelfTestPlus25Name = "selftest-plus25"
	// SlowQueryName is pgx with Query and Exec 1 ms slower and Engine.Bench
	// untouched: FR-013 must time what applications run, and fail it.
	SlowQueryName = "broken-slowquery"
)

func init() {
	adapter.Register(RawConn(SelfTestAAName, 0))
	adapter.Register(RawConn(SelfTestPlus5Name, 0.05))
	adapter.Register(RawConn(SelfTestPlus10Name, 0.10))
	adapter.Register(RawConn(SelfTestPlus25Name, 0.25))
	adapter.Register(SlowQuery(pgxadapter.New("pgx", pgx.QueryExecModeCacheStatement), time.Millisecond))
}

// RawConn is one bare pgx.Conn as an adapter, doing exactly the work of
// the Go adapters' FR-013 baseline (harness.RawLoop): Query, rows.Values()
// for every row, Close; Exec. With slowdown > 0 every Query (at Close) and
// Exec also busy-waits slowdown times the median of its own recent round
// trips: its round trip is the baseline's, so the slowdown is relative
// (+25% stays +25% whether the server answers in 40 µs or 4 ms), and it
// spends CPU, as a slow driver does. Engine.Bench is the raw bench loop,
// untouched. Values are not normalised, and the engine is one connection
// for one caller at a time: a fixture for FR-013, not a certifiable driver.
func RawConn(name string, slowdown float64) adapter.Adapter {
	return &rawConn{name: name, slowdown: slowdown}
}

type rawConn struct {
	name     string
	slowdown float64
}

func (a *rawConn) Info() adapter.Info {
	how := "the raw pgx.Conn path (A/A)"
	if a.slowdown > 0 {
		how = fmt.Sprintf("the raw pgx.Conn path made %.0f%% slower by a busy-wait", 100*a.slowdown)
	}
	return adapter.Info{
		Name:          a.name,
		Driver:        "pgx/v5 pgx.Conn [fixture: " + how + "]",
		DriverVersion: adapter.ModuleVersion("github.com/jackc/pgx/v5"),
		Language:      "go",
		Protocol:      "extended",
		Fixture:       true,
	}
}

func (a *rawConn) Open(ctx context.Context, o adapter.OpenOptions) (adapter.Engine, error) {
	cfg, err := pgx.ParseConfig(o.DSN)
	if err != nil {
		return nil, fmt.Errorf("%s: parse DSN: %w", a.name, err)
	}
	if o.ApplicationName != "" {
		cfg.RuntimeParams["application_name"] = o.ApplicationName
	}
	c, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("%s: connect: %w", a.name, err)
	}
	return &rawEngine{c: c, pace: pace{factor: a.slowdown}}, nil
}

type rawEngine struct {
	c    *pgx.Conn
	pace pace
}

func (e *rawEngine) Exec(ctx context.Context, sql string, args ...any) (int64, error) {
	start := time.Now()
	tag, err := e.c.Exec(ctx, sql, args...)
	e.pace.after(time.Since(start))
	return tag.RowsAffected(), err
}

func (e *rawEngine) ExecMany(ctx context.Context, sql string, rows [][]any) (int64, error) {
	return pgxadapter.ExecBatch(ctx, e.c, sql, rows)
}

func (e *rawEngine) Query(ctx context.Context, sql string, args ...any) (adapter.Rows, error) {
	start := time.Now()
	r, err := e.c.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	out := &rawRows{r: r, start: start, pace: &e.pace}
	out.One = out.FetchOne
	return out, nil
}

func (e *rawEngine) Acquire(ctx context.Context) (adapter.Conn, error) {
	return nil, fmt.Errorf("acquire: %w (one bare connection)", adapter.ErrNotSupported)
}

func (e *rawEngine) Introspect(ctx context.Context) (adapter.Introspection, error) {
	return adapter.Introspection{PoolClass: "(none)", ConnectionClass: fmt.Sprintf("%T", e.c)}, nil
}

func (e *rawEngine) Bench(ctx context.Context, sql string, n int) ([]time.Duration, error) {
	return pgxadapter.BenchLoop(ctx, e.c, sql, n)
}

func (e *rawEngine) Close(ctx context.Context) error { return e.c.Close(ctx) }

type rawRows struct {
	adapter.Fetcher
	r     pgx.Rows
	start time.Time
	pace  *pace
}

func (r *rawRows) Columns() []adapter.Column {
	var cols []adapter.Column
	for _, fd := range r.r.FieldDescriptions() {
		cols = append(cols, adapter.Column{Name: fd.Name, Type: fmt.Sprintf("oid:%d", fd.DataTypeOID)})
	}
	return cols
}

func (r *rawRows) FetchOne(ctx context.Context) ([]any, error) {
	if !r.r.Next() {
		return nil, r.r.Err()
	}
	return r.r.Values()
}

// Close ends the query; the slowdown is paid here, once per query, in
// proportion to the query's own round trip.
func (r *rawRows) Close(ctx context.Context) error {
	r.r.Close()
	r.pace.after(time.Since(r.start))
	return r.r.Err()
}

// pace busy-waits factor times the median of the last round trips it saw.
// The median is refreshed every len(ring) round trips, so its cost (a sort
// of 16 durations) stays far below a microsecond per call; until the first
// refresh it waits nothing (the harness's warm-up covers that).
type pace struct {
	factor float64
	ring   [16]time.Duration
	n      int
	wait   time.Duration
}

func (p *pace) after(roundTrip time.Duration) {
	if p.factor <= 0 {
		return
	}
	p.ring[p.n%len(p.ring)] = roundTrip
	p.n++
	if p.n%len(p.ring) == 0 {
		s := p.ring
		slices.Sort(s[:])
		p.wait = time.Duration(p.factor * float64(s[len(s)/2]))
	}
	spin(p.wait)
}

// spin burns CPU for d: a slow driver's cost is work, and a sleep this
// short would last the timer's granularity (tens of µs) instead.
func spin(d time.Duration) {
	if d <= 0 {
		return
	}
	for start := time.Now(); time.Since(start) < d; {
	}
}

// SlowQuery wraps inner so that Query and Exec (on the engine, a held
// connection and a transaction) each take delay longer, while Engine.Bench
// is the inner adapter's, untouched: an adapter whose self-timed benchmark
// says nothing of what its users wait for. Breaks FR-013.
func SlowQuery(inner adapter.Adapter, delay time.Duration) adapter.Adapter {
	return &slowQuery{inner: inner, delay: delay}
}

type slowQuery struct {
	inner adapter.Adapter
	delay time.Duration
}

func (a *slowQuery) Info() adapter.Info {
	i := a.inner.Info()
	i.Name = SlowQueryName
	i.Driver += " [fixture: Query and Exec " + a.delay.String() + " slower, Engine.Bench untouched]"
	i.Fixture = true
	i.Capabilities = append([]adapter.Capability(nil), i.Capabilities...)
	return i
}

func (a *slowQuery) Open(ctx context.Context, o adapter.OpenOptions) (adapter.Engine, error) {
	e, err := a.inner.Open(ctx, o)
	if err != nil {
		return nil, err
	}
	return &slowEngine{Engine: e, delay: a.delay}, nil
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// slowQuerier delays a Querier's Query and Exec.
type slowQuerier struct {
	q     adapter.Querier
	delay time.Duration
}

func (s slowQuerier) Exec(ctx context.Context, sql string, args ...any) (int64, error) {
	if err := sleep(ctx, s.delay); err != nil {
		return 0, err
	}
	return s.q.Exec(ctx, sql, args...)
}

func (s slowQuerier) Query(ctx context.Context, sql string, args ...any) (adapter.Rows, error) {
	if err := sleep(ctx, s.delay); err != nil {
		return nil, err
	}
	return s.q.Query(ctx, sql, args...)
}

type slowEngine struct {
	adapter.Engine // Bench, ExecMany, Introspect, Close: untouched
	delay          time.Duration
}

func (e *slowEngine) Exec(ctx context.Context, sql string, args ...any) (int64, error) {
	return slowQuerier{e.Engine, e.delay}.Exec(ctx, sql, args...)
}

func (e *slowEngine) Query(ctx context.Context, sql string, args ...any) (adapter.Rows, error) {
	return slowQuerier{e.Engine, e.delay}.Query(ctx, sql, args...)
}

func (e *slowEngine) Acquire(ctx context.Context) (adapter.Conn, error) {
	c, err := e.Engine.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	return &slowConn{Conn: c, delay: e.delay}, nil
}

type slowConn struct {
	adapter.Conn
	delay time.Duration
}

func (c *slowConn) Exec(ctx context.Context, sql string, args ...any) (int64, error) {
	return slowQuerier{c.Conn, c.delay}.Exec(ctx, sql, args...)
}

func (c *slowConn) Query(ctx context.Context, sql string, args ...any) (adapter.Rows, error) {
	return slowQuerier{c.Conn, c.delay}.Query(ctx, sql, args...)
}

func (c *slowConn) Begin(ctx context.Context) (adapter.Tx, error) {
	t, err := c.Conn.Begin(ctx)
	if err != nil {
		return nil, err
	}
	return &slowTx{Tx: t, delay: c.delay}, nil
}

type slowTx struct {
	adapter.Tx
	delay time.Duration
}

func (t *slowTx) Exec(ctx context.Context, sql string, args ...any) (int64, error) {
	return slowQuerier{t.Tx, t.delay}.Exec(ctx, sql, args...)
}

func (t *slowTx) Query(ctx context.Context, sql string, args ...any) (adapter.Rows, error) {
	return slowQuerier{t.Tx, t.delay}.Query(ctx, sql, args...)
}
