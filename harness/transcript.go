package harness

import (
	"context"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/onsi/ginkgo/v2"

	"github.com/pgwire-conformance/pgwire-conformance/adapter"
	"github.com/pgwire-conformance/pgwire-conformance/config"
	"github.com/pgwire-conformance/pgwire-conformance/report"
)

// Limits of a transcript: it must show what was sent and received without
// holding a streamed result or a bulk insert in memory.
const (
	transcriptMaxEvents = 500 // the latest calls are kept
	transcriptMaxRows   = 5   // rows kept per query, parameter rows per exec_many
	transcriptMaxValue  = 200 // characters kept per value
	// transcriptTail is how many lines Ginkgo's own output shows of a
	// failed spec's transcript (results.json keeps it whole).
	transcriptTail = 20
)

// transcript records the adapter calls of the current spec. Ginkgo runs one
// spec at a time per process, so one transcript per process suffices; a
// spec's first Open starts it and registers its attachment on failure.
type transcript struct {
	key     string
	mu      sync.Mutex
	events  []*report.Event
	dropped int
	engines int
}

var (
	tmu     sync.Mutex
	current *transcript
)

// specTranscript returns the current spec's transcript, starting one (and
// the cleanup that attaches it to a failed spec's report) on first use.
func specTranscript() *transcript {
	r := ginkgo.CurrentSpecReport()
	key := r.FullText() + "\x00" + r.StartTime.String() + "\x00" + r.LeafNodeLocation.String()
	tmu.Lock()
	defer tmu.Unlock()
	if current != nil && current.key == key {
		return current
	}
	t := &transcript{key: key}
	current = t
	ginkgo.DeferCleanup(func() {
		if ginkgo.CurrentSpecReport().Failed() {
			ginkgo.AddReportEntry(report.TranscriptEntry, t.snapshot(), ginkgo.ReportEntryVisibilityFailureOrVerbose)
		}
	})
	return t
}

// transcriptValue is the report entry's value: the transcript, printed as
// its last lines when Ginkgo shows the entry.
type transcriptValue report.Transcript

func (v transcriptValue) String() string {
	lines := report.Transcript(v).Lines()
	if len(lines) > transcriptTail {
		lines = append([]string{fmt.Sprintf("… %d earlier lines in results.json", len(lines)-transcriptTail)}, lines[len(lines)-transcriptTail:]...)
	}
	return "\n" + strings.Join(lines, "\n")
}

func (t *transcript) snapshot() transcriptValue {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := report.Transcript{Dropped: t.dropped, Events: make([]report.Event, len(t.events))}
	for i, e := range t.events {
		out.Events[i] = *e
		out.Events[i].Args = append([]string(nil), e.Args...)
		out.Events[i].Rows = append([][]string(nil), e.Rows...)
	}
	return transcriptValue(out)
}

// start records the beginning of a call; finish completes it.
func (t *transcript) start(scope, op, sql string) *report.Event {
	e := &report.Event{At: time.Now(), Scope: scope, Op: op, SQL: truncate(sql), InProgress: true}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.events = append(t.events, e)
	if len(t.events) > transcriptMaxEvents {
		n := len(t.events) - transcriptMaxEvents
		t.dropped += n
		t.events = append(t.events[:0:0], t.events[n:]...)
	}
	return e
}

func (t *transcript) finish(e *report.Event, err error, set func(e *report.Event)) {
	d := time.Since(e.At)
	t.mu.Lock()
	defer t.mu.Unlock()
	e.Duration = d
	e.InProgress = false
	if err != nil {
		e.Error = redact(err.Error())
	}
	if set != nil {
		set(e)
	}
}

func (t *transcript) nextEngine() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.engines++
	return "e" + strconv.Itoa(t.engines)
}

// Transcribe wraps an engine so every call through it (and through its
// connections, transactions and cursors) lands in the current spec's
// transcript. Subject.Open applies it; the FR-013 latency path
// (Subject.Side) does not, so measurements are untouched.
func transcribe(e adapter.Engine) adapter.Engine {
	t := specTranscript()
	return &tEngine{tQuerier: tQuerier{t: t, scope: t.nextEngine(), q: e}, e: e}
}

type tQuerier struct {
	t     *transcript
	scope string
	q     adapter.Querier
}

func (q tQuerier) Exec(ctx context.Context, sql string, args ...any) (int64, error) {
	ev := q.t.start(q.scope, "exec", sql)
	ev.Args = values(args)
	n, err := q.q.Exec(ctx, sql, args...)
	q.t.finish(ev, err, func(e *report.Event) {
		if err == nil {
			e.Affected = &n
		}
	})
	return n, err
}

func (q tQuerier) ExecMany(ctx context.Context, sql string, rows [][]any) (int64, error) {
	ev := q.t.start(q.scope, "exec_many", sql)
	ev.Batch = len(rows)
	for i := 0; i < len(rows) && i < transcriptMaxRows; i++ {
		ev.ParamRows = append(ev.ParamRows, values(rows[i]))
	}
	n, err := q.q.ExecMany(ctx, sql, rows)
	q.t.finish(ev, err, func(e *report.Event) {
		if err == nil {
			e.Affected = &n
		}
	})
	return n, err
}

func (q tQuerier) Query(ctx context.Context, sql string, args ...any) (adapter.Rows, error) {
	ev := q.t.start(q.scope, "query", sql)
	ev.Args = values(args)
	r, err := q.q.Query(ctx, sql, args...)
	q.t.finish(ev, err, nil)
	if err != nil {
		return nil, err
	}
	return &tRows{Rows: r, t: q.t, ev: ev}, nil
}

// call records a call without SQL (begin, commit, …).
func (q tQuerier) call(op string, f func() error) error {
	ev := q.t.start(q.scope, op, "")
	err := f()
	q.t.finish(ev, err, nil)
	return err
}

type tEngine struct {
	tQuerier
	e     adapter.Engine
	conns int
	mu    sync.Mutex
}

// Unwrap returns the adapter's own engine behind the transcript recorder.
func (e *tEngine) Unwrap() adapter.Engine { return e.e }

// Underlying returns the adapter's own engine behind an engine Subject.Open
// returned, for the optional interfaces of an adapter's engines (e.g.
// remote.WebApp, remote.ORM) that the transcript recorder does not forward.
// Calls made through it are not transcribed. Any other engine is returned
// as is.
func Underlying(e adapter.Engine) adapter.Engine {
	for {
		u, ok := e.(interface{ Unwrap() adapter.Engine })
		if !ok {
			return e
		}
		e = u.Unwrap()
	}
}

func (e *tEngine) Acquire(ctx context.Context) (adapter.Conn, error) {
	e.mu.Lock()
	e.conns++
	scope := e.scope + ".c" + strconv.Itoa(e.conns)
	e.mu.Unlock()
	var c adapter.Conn
	err := tQuerier{t: e.t, scope: scope}.call("acquire", func() (err error) {
		c, err = e.e.Acquire(ctx)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &tConn{tQuerier: tQuerier{t: e.t, scope: scope, q: c}, c: c}, nil
}

func (e *tEngine) Introspect(ctx context.Context) (adapter.Introspection, error) {
	var in adapter.Introspection
	ev := e.t.start(e.scope, "introspect", "")
	in, err := e.e.Introspect(ctx)
	e.t.finish(ev, err, func(ev *report.Event) {
		if err == nil {
			ev.Rows = [][]string{{fmt.Sprintf("%+v", in)}}
		}
	})
	return in, err
}

func (e *tEngine) Bench(ctx context.Context, sql string, n int) ([]time.Duration, error) {
	ev := e.t.start(e.scope, "bench", sql)
	ev.Args = []string{"n=" + strconv.Itoa(n)}
	d, err := e.e.Bench(ctx, sql, n)
	e.t.finish(ev, err, nil)
	return d, err
}

func (e *tEngine) Close(ctx context.Context) error {
	return e.call("close", func() error { return e.e.Close(ctx) })
}

type tConn struct {
	tQuerier
	c   adapter.Conn
	txs int
}

func (c *tConn) Begin(ctx context.Context) (adapter.Tx, error) {
	c.txs++
	scope := c.scope + ".tx" + strconv.Itoa(c.txs)
	var tx adapter.Tx
	err := tQuerier{t: c.t, scope: scope}.call("begin", func() (err error) {
		tx, err = c.c.Begin(ctx)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &tTx{tQuerier: tQuerier{t: c.t, scope: scope, q: tx}, tx: tx}, nil
}

func (c *tConn) Release(ctx context.Context) error {
	return c.call("release", func() error { return c.c.Release(ctx) })
}

type tTx struct {
	tQuerier
	tx adapter.Tx
}

func (t *tTx) Commit(ctx context.Context) error {
	return t.call("commit", func() error { return t.tx.Commit(ctx) })
}

func (t *tTx) Rollback(ctx context.Context) error {
	return t.call("rollback", func() error { return t.tx.Rollback(ctx) })
}

// tRows counts the rows fetched and keeps the first few in the query's event.
type tRows struct {
	adapter.Rows
	t  *transcript
	ev *report.Event
}

func (r *tRows) saw(rows [][]any, err error) {
	r.t.mu.Lock()
	defer r.t.mu.Unlock()
	r.ev.Fetched += len(rows)
	for _, row := range rows {
		if len(r.ev.Rows) >= transcriptMaxRows {
			break
		}
		r.ev.Rows = append(r.ev.Rows, values(row))
	}
	if err != nil && r.ev.Error == "" {
		r.ev.Error = "fetch: " + redact(err.Error())
	}
}

func (r *tRows) FetchOne(ctx context.Context) ([]any, error) {
	row, err := r.Rows.FetchOne(ctx)
	if row != nil {
		r.saw([][]any{row}, err)
	} else {
		r.saw(nil, err)
	}
	return row, err
}

func (r *tRows) FetchMany(ctx context.Context, n int) ([][]any, error) {
	rows, err := r.Rows.FetchMany(ctx, n)
	r.saw(rows, err)
	return rows, err
}

func (r *tRows) FetchAll(ctx context.Context) ([][]any, error) {
	rows, err := r.Rows.FetchAll(ctx)
	r.saw(rows, err)
	return rows, err
}

// values renders parameters or row values for a transcript: strings quoted,
// long values truncated, bytes in hex, any password of the target's DSN
// masked.
func values(vs []any) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = value(v)
	}
	return out
}

func value(v any) string {
	var s string
	switch x := v.(type) {
	case nil:
		return "NULL"
	case string:
		return strconv.Quote(truncate(redact(x)))
	case []byte:
		if len(x) > transcriptMaxValue/2 {
			return `'\x` + hex.EncodeToString(x[:transcriptMaxValue/2]) + fmt.Sprintf("…' (%d bytes)", len(x))
		}
		return `'\x` + hex.EncodeToString(x) + `'`
	case time.Time:
		s = x.Format(time.RFC3339Nano)
	case fmt.Stringer:
		s = x.String()
	default:
		s = fmt.Sprintf("%v", x)
	}
	return truncate(redact(s))
}

func truncate(s string) string {
	r := []rune(s)
	if len(r) <= transcriptMaxValue {
		return s
	}
	return string(r[:transcriptMaxValue]) + fmt.Sprintf("…(%d chars)", len(r))
}

func redact(s string) string {
	if t, ok := TargetIfSet(); ok {
		return config.RedactText(s, t.DSN)
	}
	return s
}
