package harness

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/onsi/ginkgo/v2"

	"github.com/pgwire-conformance/pgwire-conformance/config"
	"github.com/pgwire-conformance/pgwire-conformance/profile"
	"github.com/pgwire-conformance/pgwire-conformance/report"
	"github.com/pgwire-conformance/pgwire-conformance/sqltext"
)

// Observer is the independent connection specs verify through: raw pgx,
// not the adapter under test. It works on any PGWire server because it
// relies on nothing a server may describe differently: it sends only the
// simple protocol with values written into the text as literals (no
// parameters, so no parameter typing), reads every value as text and never
// reads command tags. When it cannot do its job, the spec ends as a harness
// error naming what the observer could not do — never as the adapter's
// failure.
type Observer struct {
	c *pgx.Conn
	p profile.Profile
}

// Observe opens the spec's observer; it is closed when the spec ends.
func Observe(ctx context.Context) *Observer {
	ginkgo.GinkgoHelper()
	o, err := DialObserver(ctx, Target().DSN, Profile())
	if err != nil {
		HarnessFail("observer could not connect to %s: %v", Target().RedactedDSN(), err)
	}
	ginkgo.DeferCleanup(func(ctx context.Context) error {
		cctx, cancel := detach(ctx)
		defer cancel()
		return o.Close(cctx)
	})
	return o
}

// DialObserver connects an observer to dsn outside a spec (setup, probes).
func DialObserver(ctx context.Context, dsn string, p profile.Profile) (*Observer, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, err
	}
	cfg.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol
	cfg.RuntimeParams["application_name"] = "pgwc_observer"
	c, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return &Observer{c: c, p: p}, nil
}

// SyncRoundTrip sends a lone Sync and reads the ReadyForQuery it answers: a
// round trip through the server that runs and replaces nothing. A health
// probe on a shared session (PGlite) must not run a query: a simple Query
// destroys the unnamed prepared statement another client may be between
// Parse and Bind of (lib/pq then fails with 26000).
func (o *Observer) SyncRoundTrip(ctx context.Context) error {
	p := o.c.PgConn().StartPipeline(ctx)
	if err := p.Sync(); err != nil {
		return errors.Join(err, p.Close())
	}
	for {
		r, err := p.GetResults()
		if err != nil {
			return errors.Join(err, p.Close())
		}
		switch r.(type) {
		case *pgconn.PipelineSync:
			return p.Close()
		case nil:
			return errors.Join(errors.New("no ReadyForQuery answered the Sync"), p.Close())
		}
	}
}

// Close closes the observer's connection.
func (o *Observer) Close(ctx context.Context) error { return o.c.Close(ctx) }

// Conn is the raw connection, for checks only a PostgreSQL server can
// answer (pg_stat_activity): the spec must declare the profile feature it
// relies on.
func (o *Observer) Conn() *pgx.Conn { return o.c }

// HarnessFail ends the spec as a harness error: the suite (its observer,
// target or backend) broke, not the driver. It bypasses the expected-failure
// interception, which only catches the adapter's assertions.
func HarnessFail(format string, args ...any) {
	ginkgo.Fail(config.Redact(report.HarnessErrorPrefix+" "+fmt.Sprintf(format, args...)), 1)
}

func (o *Observer) text(sql string, args []any) (string, error) {
	if len(args) == 0 {
		return sql, nil
	}
	return sqltext.Interpolate(sql, o.p.Literal, args...)
}

// TryExec runs a statement (or several, separated by ';') and returns its
// error: for specs that expect it may fail.
func (o *Observer) TryExec(ctx context.Context, sql string, args ...any) error {
	q, err := o.text(sql, args)
	if err != nil {
		return fmt.Errorf("observer: %w", err)
	}
	_, err = o.c.Exec(ctx, q)
	return err
}

// Exec runs a statement; a failure is a harness error.
func (o *Observer) Exec(ctx context.Context, sql string, args ...any) {
	ginkgo.GinkgoHelper()
	if err := o.TryExec(ctx, sql, args...); err != nil {
		HarnessFail("observer could not run %s: %v", clip(sql), err)
	}
}

// TryRows runs a query and returns every value as text (nil for NULL).
func (o *Observer) TryRows(ctx context.Context, sql string, args ...any) ([][]*string, error) {
	q, err := o.text(sql, args)
	if err != nil {
		return nil, fmt.Errorf("observer: %w", err)
	}
	rows, err := o.c.Query(ctx, q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for _, fd := range rows.FieldDescriptions() {
		if fd.Format != pgx.TextFormatCode {
			return nil, fmt.Errorf("the server answered a simple query with column %q in binary format (code %d)", fd.Name, fd.Format)
		}
	}
	var out [][]*string
	for rows.Next() {
		raw := rows.RawValues()
		row := make([]*string, len(raw))
		for i, b := range raw {
			if b != nil {
				s := string(b)
				row[i] = &s
			}
		}
		out = append(out, row)
	}
	return out, rows.Err()
}

// Rows runs a query and returns every value as text; a failure is a
// harness error.
func (o *Observer) Rows(ctx context.Context, sql string, args ...any) [][]*string {
	ginkgo.GinkgoHelper()
	rows, err := o.TryRows(ctx, sql, args...)
	if err != nil {
		HarnessFail("observer could not read %s: %v", clip(sql), err)
	}
	return rows
}

// TryText runs a one-value query; nil means SQL NULL.
func (o *Observer) TryText(ctx context.Context, sql string, args ...any) (*string, error) {
	rows, err := o.TryRows(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	if len(rows) != 1 || len(rows[0]) != 1 {
		return nil, fmt.Errorf("%s returned %d row(s), want one row of one column", clip(sql), len(rows))
	}
	return rows[0][0], nil
}

// TryInt runs a one-value integer query (a count, an id).
func (o *Observer) TryInt(ctx context.Context, sql string, args ...any) (int64, error) {
	t, err := o.TryText(ctx, sql, args...)
	if err != nil {
		return 0, err
	}
	if t == nil {
		return 0, fmt.Errorf("%s returned NULL, want an integer", clip(sql))
	}
	return ParseInt(*t)
}

// Int is TryInt whose failure is a harness error.
func (o *Observer) Int(ctx context.Context, sql string, args ...any) int64 {
	ginkgo.GinkgoHelper()
	n, err := o.TryInt(ctx, sql, args...)
	if err != nil {
		HarnessFail("observer could not read %s: %v", clip(sql), err)
	}
	return n
}

// Text is TryText whose failure is a harness error.
func (o *Observer) Text(ctx context.Context, sql string, args ...any) *string {
	ginkgo.GinkgoHelper()
	t, err := o.TryText(ctx, sql, args...)
	if err != nil {
		HarnessFail("observer could not read %s: %v", clip(sql), err)
	}
	return t
}

// Now is the server's clock as the observer reads it.
func (o *Observer) Now(ctx context.Context) time.Time {
	ginkgo.GinkgoHelper()
	t := o.Text(ctx, o.p.Now())
	if t == nil {
		HarnessFail("observer: %s returned NULL", o.p.Now())
	}
	at, err := ParseTime(*t)
	if err != nil {
		HarnessFail("observer could not read the server clock: %v", err)
	}
	return at
}

// Count is the number of rows in table.
func (o *Observer) Count(ctx context.Context, table string) int64 {
	ginkgo.GinkgoHelper()
	return o.Int(ctx, "SELECT count(*) FROM "+table)
}

// Notes reads a table of (id, note) rows, note by id.
func (o *Observer) Notes(ctx context.Context, table string) map[int64]string {
	ginkgo.GinkgoHelper()
	out := map[int64]string{}
	for _, r := range o.Rows(ctx, "SELECT id, note FROM "+table) {
		if len(r) != 2 || r[0] == nil || r[1] == nil {
			HarnessFail("observer: %s holds a row that is not (id, note): %v", table, r)
		}
		id, err := ParseInt(*r[0])
		if err != nil {
			HarnessFail("observer: %s: %v", table, err)
		}
		out[id] = *r[1]
	}
	return out
}

// ParseInt reads an integer the way servers write one in text ("42",
// "42.0" from a server that sends counts as floats).
func ParseInt(s string) (int64, error) {
	s = strings.TrimSpace(s)
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, nil
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && f == float64(int64(f)) {
		return int64(f), nil
	}
	return 0, fmt.Errorf("%q is not an integer", s)
}

// timeLayouts are the text forms servers give a timestamp: PostgreSQL's
// timestamptz ("2026-01-02 03:04:05.123456+00"), with a full offset, and
// IRIS's zone-less TIMESTAMP (read as UTC).
var timeLayouts = []string{
	"2006-01-02 15:04:05.999999999-07",
	"2006-01-02 15:04:05.999999999-07:00",
	"2006-01-02 15:04:05.999999999-07:00:00",
	time.RFC3339Nano,
	"2006-01-02 15:04:05.999999999",
}

// ParseTime reads a timestamp in any of the text forms servers use.
func ParseTime(s string) (time.Time, error) {
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, strings.TrimSpace(s)); err == nil {
			return t, nil
		}
	}
	return time.Time{}, errors.New("not a timestamp: " + strconv.Quote(s))
}

// NewTable creates a table owned by the current spec through the observer,
// its columns written with the profile's {type} tokens (profile.DDL), and
// drops it when the spec ends.
func NewTable(ctx context.Context, o *Observer, prefix, columns string) string {
	ginkgo.GinkgoHelper()
	name := UniqueName(prefix)
	o.Exec(ctx, fmt.Sprintf("CREATE TABLE %s (%s)", name, Profile().DDL(columns)))
	DropAtEnd(name)
	return name
}

// DropAtEnd drops table name when the spec ends, on a fresh observer
// connection (the spec's own may be closed or broken by then).
func DropAtEnd(name string) {
	ginkgo.DeferCleanup(func(ctx context.Context) error {
		cctx, cancel := detach(ctx)
		defer cancel()
		o, err := DialObserver(cctx, Target().DSN, Profile())
		if err != nil {
			return fmt.Errorf("drop %s: %s", name, config.Redact(err.Error()))
		}
		defer o.Close(cctx)
		return o.TryExec(cctx, "DROP TABLE IF EXISTS "+name)
	})
}

func clip(sql string) string {
	sql = config.OneLine(sql)
	if len(sql) > 120 {
		sql = sql[:120] + "…"
	}
	return strconv.Quote(sql)
}

// TrySessions counts the target's sessions tagged application_name app, as
// the profile lets the observer see them (profile.ConnectionView).
func (o *Observer) TrySessions(ctx context.Context, app string) (int, error) {
	q := o.p.ConnectionsSQL()
	if q == "" {
		return 0, fmt.Errorf("profile %s has no session view (specs using it need NeedsFeature{profile.ConnectionView})", o.p.Name)
	}
	n, err := o.TryInt(ctx, q, app)
	return int(n), err
}
