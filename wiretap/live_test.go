package wiretap_test

import (
	"context"
	"errors"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/pgwire-conformance/pgwire-conformance/wiretap"
	"github.com/pgwire-conformance/pgwire-conformance/wiretap/divergent"
)

// TestLivePostgres runs pgx through the tap against a real server, e.g. the reference
// container: PGWC_TEST_DSN=postgres://postgres:postgres@127.0.0.1:5432/postgres?sslmode=disable
func TestLivePostgres(t *testing.T) {
	dsn := os.Getenv("PGWC_TEST_DSN")
	if dsn == "" {
		t.Skip("PGWC_TEST_DSN not set")
	}
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		t.Fatalf("PGWC_TEST_DSN: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	through := func(t *testing.T, rw wiretap.Rewriter) (*wiretap.Tap, func() *pgx.Conn) {
		tap, err := wiretap.Start(wiretap.Options{Upstream: net.JoinHostPort(cfg.Host, strconv.Itoa(int(cfg.Port))), Name: "live", Rewriter: rw})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = tap.Close() })
		host, port, _ := net.SplitHostPort(tap.Addr())
		p, _ := strconv.Atoi(port)
		return tap, func() *pgx.Conn {
			c := cfg.Copy()
			c.Host, c.Port, c.TLSConfig, c.Fallbacks = host, uint16(p), nil, nil
			conn, err := pgx.ConnectConfig(ctx, c)
			if err != nil {
				t.Fatalf("connect through the tap: %v", err)
			}
			t.Cleanup(func() { _ = conn.Close(context.Background()) })
			return conn
		}
	}

	t.Run("relay", func(t *testing.T) {
		tap, connect := through(t, nil)
		conn := connect()
		if _, err := conn.Exec(ctx, "CREATE TEMP TABLE wt (n int8)"); err != nil {
			t.Fatal(err)
		}
		loop := tap.Watch()
		for i := range 10 {
			if _, err := conn.Exec(ctx, "INSERT INTO wt VALUES ($1)", i); err != nil {
				t.Fatal(err)
			}
		}
		ls := loop.Stop()
		batch := tap.Watch()
		b := &pgx.Batch{}
		for i := range 10 {
			b.Queue("INSERT INTO wt VALUES ($1)", i)
		}
		if err := conn.SendBatch(ctx, b).Close(); err != nil {
			t.Fatal(err)
		}
		bs := batch.Stop()
		cp := tap.Watch()
		rows := [][]any{{int64(1)}, {int64(2)}, {int64(3)}}
		if _, err := conn.CopyFrom(ctx, pgx.Identifier{"wt"}, []string{"n"}, pgx.CopyFromRows(rows)); err != nil {
			t.Fatal(err)
		}
		cs := cp.Stop()
		t.Logf("round trips: loop %d, batch %d, copy %d", ls.RoundTrips, bs.RoundTrips, cs.RoundTrips)
		if ls.RoundTrips < 10 || bs.RoundTrips > 2 || cs.RoundTrips > 2 || cs.CommandTags["COPY 3"] != 1 || ls.CommandTags["INSERT 0 1"] != 10 {
			t.Errorf("loop %+v\nbatch %+v\ncopy %+v", ls, bs, cs)
		}

		_, err := conn.Exec(ctx, "SELECT * FROM wiretap_missing_table")
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != "42P01" || tap.Stats().ErrorCodes["42P01"] != 1 {
			t.Errorf("missing table: %v", err)
		}

		errc := make(chan error, 1)
		go func() { _, err := conn.Exec(ctx, "SELECT pg_sleep(10)"); errc <- err }()
		// A cancel that arrives before the statement runs is a no-op: wait until the server runs it.
		direct, err := pgx.ConnectConfig(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer direct.Close(ctx)
		for running := 0; running == 0; {
			if err := direct.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query = 'SELECT pg_sleep(10)'`).Scan(&running); err != nil {
				t.Fatal(err)
			}
		}
		if err := conn.PgConn().CancelRequest(ctx); err != nil {
			t.Fatal(err)
		}
		if err := <-errc; !errors.As(err, &pgErr) || pgErr.Code != "57014" {
			t.Errorf("canceled statement: %v", err)
		}
		ci := tap.Conns()[0]
		if tap.Stats().CancelRequests != 1 || ci.CancelsAimed != 1 || !ci.Authenticated || ci.AuthMethod == "" {
			t.Errorf("conn %+v", ci)
		}
		t.Logf("auth method %s, last lines:\n%s", ci.AuthMethod, strings.Join(tap.Transcript(8), "\n"))
	})

	t.Run("divergent", func(t *testing.T) {
		rw, err := divergent.Parse("all")
		if err != nil {
			t.Fatal(err)
		}
		tap, connect := through(t, rw)
		conn := connect()
		tag, err := conn.Exec(ctx, "CREATE TEMP TABLE wt (n int8)")
		if err != nil || tag.String() != "CREATE 0" {
			t.Errorf("CREATE: %q %v", tag, err)
		}
		sd, err := conn.Prepare(ctx, "p", "SELECT $1::int4")
		if err != nil || len(sd.ParamOIDs) != 1 || sd.ParamOIDs[0] != divergent.OIDUnknown {
			t.Errorf("ParameterDescription %v %v", sd, err)
		}
		_, err = conn.Exec(ctx, "SELECT * FROM wiretap_missing_table")
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != "42000" || !strings.Contains(pgErr.Message, "does not exist") {
			t.Errorf("missing table: %v", err)
		}
		if _, err := conn.PgConn().ExecParams(ctx, "SELECT 1", nil, nil, nil, []int16{1}).Close(); err != nil {
			t.Fatal(err)
		}
		rs, err := conn.PgConn().Exec(ctx, "SELECT 7::int4, 'x'::text").ReadAll()
		if err != nil || rs[0].FieldDescriptions[0].Format != pgtype.BinaryFormatCode || string(rs[0].Rows[0][0]) != "\x00\x00\x00\x07" {
			t.Errorf("binary leak: %+v %v", rs, err)
		}
		// ROLLBACK is answered by the tap: the INSERT stays visible in the still-open transaction.
		tx, err := conn.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if tag, err := tx.Exec(ctx, "INSERT INTO wt VALUES (1)"); err != nil || tag.String() != "INSERT 0 0 0" {
			t.Errorf("INSERT: %q %v", tag, err)
		}
		if err := tx.Rollback(ctx); err != nil {
			t.Fatal(err)
		}
		var n int64
		if err := conn.QueryRow(ctx, "SELECT count(*) FROM wt", pgx.QueryExecModeSimpleProtocol).Scan(&n); err != nil || n != 1 {
			t.Errorf("after the swallowed ROLLBACK: %d rows, %v; want 1", n, err)
		}
		if st := tap.Conns()[0].LastStatus; st != 'T' {
			t.Errorf("server status %c, want T", st)
		}
		// The extended protocol's ROLLBACK is answered by the tap too.
		if tag, err := conn.PgConn().ExecParams(ctx, "ROLLBACK", nil, nil, nil, nil).Close(); err != nil || tag.String() != "ROLLBACK" {
			t.Errorf("extended ROLLBACK: %q %v", tag, err)
		}
		if err := conn.QueryRow(ctx, "SELECT count(*) FROM wt", pgx.QueryExecModeSimpleProtocol).Scan(&n); err != nil || n != 1 {
			t.Errorf("after the swallowed extended ROLLBACK: %d rows, %v; want 1", n, err)
		}
		short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		defer cancel()
		if _, err := connect().Exec(short, ";"); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("empty query: %v, want a timeout", err)
		}
	})
}
