package wiretap

import (
	"context"
	"errors"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/pgwire-conformance/pgwire-conformance/wiretap/internal/fakepg"
)

func TestFaultLatency(t *testing.T) {
	_, tap := pair(t, fakepg.Options{}, Options{})
	ctx := testCtx(t)
	conn := connect(t, ctx, tap, "")
	const d = 60 * time.Millisecond
	tap.Faults().SetLatency(d)
	start := time.Now()
	var n int
	// Three round trips (prepare, execute, simple query): each waits d once, not once per message.
	if err := conn.QueryRow(ctx, "SELECT $1::int4", 1).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "SELECT 1"); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took < 3*d || took > 3*d+time.Second {
		t.Errorf("3 round trips with %v latency took %v", d, took)
	}
	tap.Faults().SetLatency(0)
	start = time.Now()
	if _, err := conn.Exec(ctx, "SELECT 1"); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took >= d {
		t.Errorf("latency off, yet a round trip took %v", took)
	}
}

func TestFaultResetAfterDataRows(t *testing.T) {
	rows := make([][]any, 10)
	for i := range rows {
		rows[i] = []any{int32(i)}
	}
	handler := func(q fakepg.Query) fakepg.Result {
		if strings.Contains(q.SQL, "ten") {
			return fakepg.Result{Cols: []fakepg.Col{{Name: "n", OID: pgtype.Int4OID}}, Rows: rows}
		}
		return fakepg.DefaultHandler(q)
	}
	_, tap := pair(t, fakepg.Options{Handler: handler}, Options{})
	ctx := testCtx(t)
	conn := connect(t, ctx, tap, "")
	tap.Faults().ResetAfterDataRows(3)

	// A result with too few rows does not fire it.
	if _, err := conn.Exec(ctx, "SELECT 1"); err != nil {
		t.Fatal(err)
	}
	got, err := countRows(ctx, conn, "SELECT ten")
	if got != 3 || err == nil {
		t.Fatalf("read %d rows, err %v; want 3 rows then an error", got, err)
	}
	if !errors.Is(err, syscall.ECONNRESET) {
		t.Logf("client error (not ECONNRESET, acceptable on a fast RST): %v", err)
	}
	eventually(t, "reset connection closed", func() bool { return tap.Stats().Open == 0 })
	ci := tap.Conns()[0]
	if !ci.Reset || tap.Stats().Resets != 1 || !strings.Contains(ci.End, "ResetAfterDataRows(3)") {
		t.Errorf("reset not recorded: %+v", ci)
	}
	if tr := strings.Join(tap.Transcript(4), "\n"); !strings.Contains(tr, "DataRow ×3") || !strings.Contains(tr, "TCP RST") {
		t.Errorf("transcript:\n%s", tr)
	}

	// One-shot: a new connection gets every row.
	conn2 := connect(t, ctx, tap, "")
	if got, err := countRows(ctx, conn2, "SELECT ten"); got != 10 || err != nil {
		t.Fatalf("after the reset fired: %d rows, %v", got, err)
	}
}

func countRows(ctx context.Context, conn *pgx.Conn, sql string) (int, error) {
	rows, err := conn.Query(ctx, sql, pgx.QueryExecModeSimpleProtocol)
	if err != nil {
		return 0, err
	}
	n := 0
	for rows.Next() {
		n++
	}
	return n, rows.Err()
}

func TestFaultBlackhole(t *testing.T) {
	srv, tap := pair(t, fakepg.Options{}, Options{})
	ctx := testCtx(t)
	conn := connect(t, ctx, tap, "")
	tap.Faults().Blackhole(true)

	// The server "stops answering": a query with a short deadline times out.
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	_, err := conn.Exec(short, "SELECT 1")
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("blackholed query: %v, want deadline exceeded", err)
	}

	// A second connection's query waits, unforwarded, and completes once the blackhole is off.
	tap.Faults().Blackhole(false)
	conn2 := connect(t, ctx, tap, "")
	tap.Faults().Blackhole(true)
	done := make(chan error, 1)
	go func() {
		var n int
		done <- conn2.QueryRow(ctx, "SELECT 2", pgx.QueryExecModeSimpleProtocol).Scan(&n)
	}()
	eventually(t, "query read by the tap", func() bool {
		return slices.ContainsFunc(tap.Records(), func(r Record) bool { return r.Summary() == `Query "SELECT 2"` })
	})
	if slices.Contains(srv.Seen(), "Q SELECT 2") {
		t.Fatal("query forwarded through the blackhole")
	}
	tap.Faults().Blackhole(false)
	if err := <-done; err != nil {
		t.Fatalf("query after the blackhole lifted: %v", err)
	}
}

func TestFaultRefuseNewAndCloseAll(t *testing.T) {
	srv, tap := pair(t, fakepg.Options{}, Options{})
	ctx := testCtx(t)
	conn := connect(t, ctx, tap, "")

	tap.Faults().RefuseNew(true)
	if _, err := pgx.Connect(ctx, dsn(tap, "")); err == nil {
		t.Fatal("connected while new connections are refused")
	}
	if err := conn.Ping(ctx); err != nil {
		t.Fatalf("existing connection hurt by RefuseNew: %v", err)
	}
	tap.Faults().RefuseNew(false)
	if s := tap.Stats(); s.Refused < 1 || s.Opened != 1 {
		t.Errorf("refused %d opened %d", s.Refused, s.Opened)
	}
	conn2 := connect(t, ctx, tap, "")

	tap.Faults().CloseAll()
	for i, c := range []*pgx.Conn{conn, conn2} {
		if err := c.Ping(ctx); err == nil {
			t.Errorf("connection %d survived CloseAll", i)
		}
	}
	eventually(t, "connections closed", func() bool { return tap.Stats().Open == 0 })
	for _, ci := range tap.Conns() {
		// (pgx follows a dead connection with a CancelRequest of its own.)
		if !ci.Cancel && ci.End != "closed by Faults.CloseAll" {
			t.Errorf("c%d ended %q", ci.ID, ci.End)
		}
	}
	// As after a restart, new connections work.
	if err := connect(t, ctx, tap, "").Ping(ctx); err != nil {
		t.Fatal(err)
	}
	if srv.Sessions() != 3 {
		t.Errorf("server saw %d sessions, want 3", srv.Sessions())
	}
}
