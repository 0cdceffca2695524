package divergent_test

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/pgwire-conformance/pgwire-conformance/wiretap"
	"github.com/pgwire-conformance/pgwire-conformance/wiretap/divergent"
	"github.com/pgwire-conformance/pgwire-conformance/wiretap/internal/fakepg"
)

type env struct {
	srv *fakepg.Server
	tap *wiretap.Tap
}

func start(t *testing.T, h fakepg.Handler, names ...string) env {
	t.Helper()
	rw, err := divergent.New(names...)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := fakepg.Start(fakepg.Options{Handler: h})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	tap, err := wiretap.Start(wiretap.Options{Upstream: srv.Addr(), Name: t.Name(), Rewriter: rw})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tap.Close() })
	return env{srv, tap}
}

func (e env) connect(t *testing.T, ctx context.Context) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(ctx, fmt.Sprintf("postgres://u@%s/db?sslmode=disable", e.tap.Addr()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	return conn
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func count(xs []string, x string) int {
	n := 0
	for _, s := range xs {
		if s == x {
			n++
		}
	}
	return n
}

// probes detect each behaviour the way a conformance check would.
var probes = map[string]func(t *testing.T, ctx context.Context, e env) bool{
	divergent.ParamUnknown: func(t *testing.T, ctx context.Context, e env) bool {
		sd, err := e.connect(t, ctx).Prepare(ctx, "p", "SELECT $1::int8 + $2")
		if err != nil {
			t.Fatal(err)
		}
		return slices.Equal(sd.ParamOIDs, []uint32{divergent.OIDUnknown, divergent.OIDUnknown})
	},
	divergent.CommandTags: func(t *testing.T, ctx context.Context, e env) bool {
		tag, err := e.connect(t, ctx).Exec(ctx, "INSERT INTO t VALUES (1)")
		if err != nil {
			t.Fatal(err)
		}
		return tag.String() == "INSERT 0 0 0"
	},
	divergent.SQLState42000: func(t *testing.T, ctx context.Context, e env) bool {
		_, err := e.connect(t, ctx).Exec(ctx, "SELECT * FROM missing")
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Message != `relation "missing" does not exist` {
			t.Fatalf("error %v", err)
		}
		return pgErr.Code == "42000"
	},
	divergent.EmptyQuery: func(t *testing.T, ctx context.Context, e env) bool {
		short, cancel := context.WithTimeout(ctx, 150*time.Millisecond)
		defer cancel()
		_, err := e.connect(t, ctx).Exec(short, ";")
		if err != nil && !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("empty query: %v", err)
		}
		return err != nil
	},
	divergent.BinaryLeak: func(t *testing.T, ctx context.Context, e env) bool {
		conn := e.connect(t, ctx)
		if _, err := conn.PgConn().ExecParams(ctx, "SELECT 1", nil, nil, nil, []int16{1}).Close(); err != nil { // binary results
			t.Fatal(err)
		}
		rs, err := conn.PgConn().Exec(ctx, "SELECT 1").ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		return rs[0].FieldDescriptions[0].Format == pgtype.BinaryFormatCode
	},
	divergent.RollbackSwallowed: func(t *testing.T, ctx context.Context, e env) bool {
		before := count(e.srv.Seen(), "Q rollback")
		tx, err := e.connect(t, ctx).Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := tx.Rollback(ctx); err != nil {
			t.Fatal(err)
		}
		return count(e.srv.Seen(), "Q rollback") == before
	},
}

// Each behaviour can be switched on alone, and each probe sees exactly its own behaviour.
func TestEachBehaviourAloneIsDetected(t *testing.T) {
	configs := append([]string{""}, divergent.All()...)
	for _, on := range configs {
		t.Run("on="+on, func(t *testing.T) {
			var names []string
			if on != "" {
				names = []string{on}
			}
			e := start(t, fakepg.DefaultHandler, names...)
			ctx := testCtx(t)
			for name, probe := range probes {
				if got := probe(t, ctx, e); got != (name == on) {
					t.Errorf("probe %s: diverged=%v with %q enabled", name, got, on)
				}
			}
		})
	}
	if len(probes) != len(divergent.All()) {
		t.Fatalf("%d probes for %d behaviours", len(probes), len(divergent.All()))
	}
}

// What iris-pgwire users meet: pgx cannot encode a Go int for an "unknown" parameter.
func TestParamUnknown(t *testing.T) {
	e := start(t, fakepg.DefaultHandler, divergent.ParamUnknown)
	ctx := testCtx(t)
	conn := e.connect(t, ctx)
	_, err := conn.Exec(ctx, "INSERT INTO t VALUES ($1)", 1)
	if err == nil || !strings.Contains(err.Error(), "unknown (OID 705)") {
		t.Fatalf("int argument: %v, want an encode error for OID 705", err)
	}
	if _, err := conn.Exec(ctx, "INSERT INTO t VALUES ($1)", "1"); err != nil {
		t.Fatalf("string argument: %v", err)
	}
	if tr := strings.Join(e.tap.Transcript(0), "\n"); !strings.Contains(tr, "ParameterDescription [705] [rewritten]") {
		t.Errorf("transcript:\n%s", tr)
	}
}

func TestCommandTags(t *testing.T) {
	for in, want := range map[string]string{
		"INSERT 0 1": "INSERT 0 0 0", "INSERT 0 250": "INSERT 0 0 0", "UPDATE 3": "UPDATE 0 0", "DELETE 0": "DELETE 0 0",
		"CREATE TABLE": "CREATE 0", "CREATE INDEX": "CREATE 0", "DROP TABLE": "DROP 0",
		"SELECT 5": "SELECT 5", "COPY 100": "COPY 100", "BEGIN": "BEGIN", "ROLLBACK": "ROLLBACK",
	} {
		if got := divergent.IrisTag(in); got != want {
			t.Errorf("IrisTag(%q) = %q, want %q", in, got, want)
		}
	}
	e := start(t, fakepg.DefaultHandler, divergent.CommandTags)
	ctx := testCtx(t)
	conn := e.connect(t, ctx)
	for sql, want := range map[string]string{
		"UPDATE t SET a = 1": "UPDATE 0 0", "DELETE FROM t": "DELETE 0 0", "CREATE TABLE t (a int)": "CREATE 0",
		"DROP TABLE t": "DROP 0", "SELECT 1": "SELECT 1",
	} {
		tag, err := conn.Exec(ctx, sql)
		if err != nil || tag.String() != want {
			t.Errorf("%s: tag %q %v, want %q", sql, tag, err, want)
		}
		if tag.Update() && tag.RowsAffected() != 0 {
			t.Errorf("%s: rows affected %d, want 0 as a driver reading the last number sees it", sql, tag.RowsAffected())
		}
	}
}

func typesHandler(q fakepg.Query) fakepg.Result {
	if !strings.Contains(q.SQL, "types") {
		return fakepg.DefaultHandler(q)
	}
	num, _ := new(big.Int).SetString("12345", 10)
	return fakepg.Result{
		Cols: []fakepg.Col{{Name: "i2", OID: pgtype.Int2OID}, {Name: "i4", OID: pgtype.Int4OID}, {Name: "i8", OID: pgtype.Int8OID},
			{Name: "f4", OID: pgtype.Float4OID}, {Name: "f8", OID: pgtype.Float8OID}, {Name: "b", OID: pgtype.BoolOID},
			{Name: "t", OID: pgtype.TextOID}, {Name: "v", OID: pgtype.VarcharOID}, {Name: "n", OID: pgtype.NumericOID},
			{Name: "nul", OID: pgtype.Int4OID}},
		Rows: [][]any{{int16(-2), int32(7), int64(1) << 40, float32(1.5), 2.25, true, "héllo", "v", pgtype.Numeric{Int: num, Exp: -2, Valid: true}, nil}},
	}
}

func TestBinaryLeak(t *testing.T) {
	e := start(t, typesHandler, divergent.BinaryLeak)
	ctx := testCtx(t)
	conn := e.connect(t, ctx)

	// Text results asked at Bind: nothing leaks.
	if _, err := conn.PgConn().ExecParams(ctx, "SELECT 1", nil, nil, nil, nil).Close(); err != nil {
		t.Fatal(err)
	}
	rs, err := conn.PgConn().Exec(ctx, "SELECT types").ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if f := rs[0].FieldDescriptions[1]; f.Format != pgtype.TextFormatCode || string(rs[0].Rows[0][1]) != "7" {
		t.Fatalf("after a text Bind: format %d value %q", f.Format, rs[0].Rows[0][1])
	}

	// Binary results asked at Bind: the next simple query comes back in binary.
	if _, err := conn.PgConn().ExecParams(ctx, "SELECT 1", nil, nil, nil, []int16{1}).Close(); err != nil {
		t.Fatal(err)
	}
	rs, err = conn.PgConn().Exec(ctx, "SELECT types").ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range rs[0].FieldDescriptions {
		if f.Format != pgtype.BinaryFormatCode {
			t.Errorf("column %s: format %d, want binary", f.Name, f.Format)
		}
	}
	if v := rs[0].Rows[0][1]; string(v) != "\x00\x00\x00\x07" {
		t.Errorf("int4 7 sent as %q, want binary", v)
	}
	// The values are honest binary: a driver that follows the format codes decodes them all.
	var (
		i2   int16
		i4   int32
		i8   int64
		f4   float32
		f8   float64
		b    bool
		s, v string
		n    pgtype.Numeric
		nul  *int32
	)
	err = conn.QueryRow(ctx, "SELECT types", pgx.QueryExecModeSimpleProtocol).Scan(&i2, &i4, &i8, &f4, &f8, &b, &s, &v, &n, &nul)
	if err != nil {
		t.Fatal(err)
	}
	nf, _ := n.Float64Value()
	if i2 != -2 || i4 != 7 || i8 != 1<<40 || f4 != 1.5 || f8 != 2.25 || !b || s != "héllo" || v != "v" || nf.Float64 != 123.45 || nul != nil {
		t.Errorf("decoded %v %v %v %v %v %v %q %q %v %v", i2, i4, i8, f4, f8, b, s, v, nf.Float64, nul)
	}
	tr := strings.Join(e.tap.Transcript(0), "\n")
	if !strings.Contains(tr, "i4:23/bin") || !strings.Contains(tr, "[rewritten]") {
		t.Errorf("transcript:\n%s", tr)
	}
}

func TestRollbackSwallowed(t *testing.T) {
	e := start(t, fakepg.DefaultHandler, divergent.RollbackSwallowed)
	ctx := testCtx(t)
	conn := e.connect(t, ctx)
	status := func() byte {
		cs := e.tap.Conns()
		return cs[0].LastStatus
	}

	// Simple protocol, as pgx's Tx.Rollback sends it.
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "INSERT INTO t VALUES (1)"); err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if status() != 'I' {
		t.Errorf("client saw status %c after ROLLBACK, want I", status())
	}
	// The server is still in the transaction: the next statement reports 'T'.
	if _, err := conn.Exec(ctx, "SELECT 1"); err != nil {
		t.Fatal(err)
	}
	if status() != 'T' {
		t.Errorf("status %c after the swallowed ROLLBACK, want T (server still in its transaction)", status())
	}
	for _, sql := range []string{"rollback", "ROLLBACK;", " Rollback Work "} {
		if tag, err := conn.PgConn().Exec(ctx, sql).ReadAll(); err != nil || tag[0].CommandTag.String() != "ROLLBACK" {
			t.Errorf("%q: %v %v", sql, tag, err)
		}
	}

	// Extended protocol: unnamed (Parse/Bind/Describe/Execute/Sync) and a prepared statement.
	if tag, err := conn.PgConn().ExecParams(ctx, "ROLLBACK", nil, nil, nil, nil).Close(); err != nil || tag.String() != "ROLLBACK" {
		t.Errorf("extended ROLLBACK: %q %v", tag, err)
	}
	if _, err := conn.PgConn().Prepare(ctx, "rb", "ROLLBACK", nil); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if tag, err := conn.PgConn().ExecPrepared(ctx, "rb", nil, nil, nil).Close(); err != nil || tag.String() != "ROLLBACK" {
			t.Errorf("prepared ROLLBACK: %q %v", tag, err)
		}
	}
	// ROLLBACK TO SAVEPOINT is not a ROLLBACK.
	if _, err := conn.Exec(ctx, "ROLLBACK TO SAVEPOINT s"); err != nil {
		t.Fatal(err)
	}
	for _, s := range e.srv.Seen() {
		if u := strings.ToUpper(s); strings.Contains(u, "ROLLBACK") && !strings.Contains(u, "SAVEPOINT") {
			t.Errorf("server received %q", s)
		}
	}
	if !slices.Contains(e.srv.Seen(), "Q ROLLBACK TO SAVEPOINT s") {
		t.Error("ROLLBACK TO SAVEPOINT was not forwarded")
	}
	if err := conn.Ping(ctx); err != nil {
		t.Fatalf("connection unusable afterwards: %v", err)
	}
}

// The raw exchanges pgx does not make: Flush inside the group, and a group mixing statements.
func TestRollbackSwallowedExtendedRaw(t *testing.T) {
	e := start(t, fakepg.DefaultHandler, divergent.RollbackSwallowed)
	nc, err := net.DialTimeout("tcp", e.tap.Addr(), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	_ = nc.SetDeadline(time.Now().Add(5 * time.Second))
	fe := pgproto3.NewFrontend(nc, nc)
	send := func(ms ...pgproto3.FrontendMessage) {
		for _, m := range ms {
			fe.Send(m)
		}
		if err := fe.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	recv := func(n int) string {
		var got []string
		for range n {
			m, err := fe.Receive()
			if err != nil {
				t.Fatalf("after %v: %v", got, err)
			}
			s := fmt.Sprintf("%T", m)[len("*pgproto3."):]
			if cc, ok := m.(*pgproto3.CommandComplete); ok {
				s += " " + string(cc.CommandTag)
			}
			if z, ok := m.(*pgproto3.ReadyForQuery); ok {
				s += " " + string(z.TxStatus)
			}
			got = append(got, s)
		}
		return strings.Join(got, ", ")
	}
	send(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersion30, Parameters: map[string]string{"user": "u"}})
	for {
		m, err := fe.Receive()
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := m.(*pgproto3.ReadyForQuery); ok {
			break
		}
	}
	send(&pgproto3.Query{String: "BEGIN"})
	if got := recv(2); got != "CommandComplete BEGIN, ReadyForQuery T" {
		t.Fatal(got)
	}

	// Flush: the client waits for the statement description before sending the rest.
	send(&pgproto3.Parse{Name: "r", Query: "rollback"}, &pgproto3.Describe{ObjectType: 'S', Name: "r"}, &pgproto3.Flush{})
	if got := recv(3); got != "ParseComplete, ParameterDescription, NoData" {
		t.Fatalf("after Flush: %s", got)
	}
	send(&pgproto3.Bind{PreparedStatement: "r"}, &pgproto3.Execute{}, &pgproto3.Sync{})
	if got := recv(3); got != "BindComplete, CommandComplete ROLLBACK, ReadyForQuery I" {
		t.Fatalf("after Sync: %s", got)
	}

	// A group that mixes in another statement is relayed for real.
	send(&pgproto3.Parse{Query: "SELECT 1"}, &pgproto3.Bind{}, &pgproto3.Execute{},
		&pgproto3.Parse{Query: "ROLLBACK"}, &pgproto3.Bind{}, &pgproto3.Execute{}, &pgproto3.Sync{})
	if got := recv(8); got != "ParseComplete, BindComplete, DataRow, CommandComplete SELECT 1, ParseComplete, BindComplete, CommandComplete ROLLBACK, ReadyForQuery I" {
		t.Fatalf("mixed group: %s", got)
	}
	seen := e.srv.Seen()
	if count(seen, "P rollback") != 0 || count(seen, "P ROLLBACK") != 1 {
		t.Errorf("server saw %v", seen)
	}
}

func TestParseNames(t *testing.T) {
	if got := divergent.All(); len(got) != 6 || got[0] != divergent.ParamUnknown {
		t.Fatalf("All() = %v", got)
	}
	r, err := divergent.Parse(" command-tags, ,empty-query ")
	if err != nil || !slices.Equal(r.Names(), []string{divergent.CommandTags, divergent.EmptyQuery}) || !r.Enabled(divergent.EmptyQuery) || r.Enabled(divergent.BinaryLeak) {
		t.Fatalf("Parse: %v %v", r, err)
	}
	if r, err := divergent.Parse("all"); err != nil || !slices.Equal(r.Names(), divergent.All()) {
		t.Fatalf("Parse(all): %v %v", r, err)
	}
	_, err = divergent.Parse("command-tags,bogus")
	if err == nil || !strings.Contains(err.Error(), `"bogus"`) || !strings.Contains(err.Error(), divergent.RollbackSwallowed) {
		t.Fatalf("unknown name: %v", err)
	}
}
