package wiretap

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/pgwire-conformance/pgwire-conformance/wiretap/internal/fakepg"
)

func TestRelaySimpleAndExtended(t *testing.T) {
	_, tap := pair(t, fakepg.Options{}, Options{})
	ctx := testCtx(t)
	conn := connect(t, ctx, tap, "")

	var n int
	if err := conn.QueryRow(ctx, "SELECT 1", pgx.QueryExecModeSimpleProtocol).Scan(&n); err != nil || n != 1 {
		t.Fatalf("simple SELECT 1: %d %v", n, err)
	}
	if err := conn.QueryRow(ctx, "SELECT $1::int4", 5).Scan(&n); err != nil || n != 1 {
		t.Fatalf("extended SELECT: %d %v", n, err)
	}
	_, err := conn.Exec(ctx, "SELECT * FROM missing")
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "42P01" {
		t.Fatalf("error relayed as %v, want 42P01", err)
	}

	s := tap.Stats()
	if s.FromClient["Query"] != 2 || s.FromClient["Parse"] != 1 || s.FromClient["Bind"] != 1 || s.FromClient["Sync"] != 2 {
		t.Errorf("client messages: %v", s.FromClient)
	}
	if s.ToClient["DataRow"] != 2 || s.ToClient["ParameterDescription"] != 1 || s.ToClient["ErrorResponse"] != 1 {
		t.Errorf("server messages: %v", s.ToClient)
	}
	if s.ErrorCodes["42P01"] != 1 || s.CommandTags["SELECT 1"] != 2 {
		t.Errorf("errors %v, tags %v", s.ErrorCodes, s.CommandTags)
	}
	if s.BytesFromClient == 0 || s.BytesFromClient != s.BytesToServer || s.BytesFromServer != s.BytesToClient {
		t.Errorf("bytes: from client %d to server %d, from server %d to client %d", s.BytesFromClient, s.BytesToServer, s.BytesFromServer, s.BytesToClient)
	}
	// Query, Prepare (Parse/Describe/Sync), Bind/Execute/Sync, Query: 4 requests, 4 round trips.
	if s.Requests != 4 || s.RoundTrips != 4 {
		t.Errorf("requests %d round trips %d, want 4 and 4", s.Requests, s.RoundTrips)
	}

	ci := lastConn(t, tap)
	if ci.Params["user"] != "alice" || ci.Params["database"] != "appdb" || ci.Params["application_name"] != "wiretap-test" {
		t.Errorf("startup params %v", ci.Params)
	}
	if ci.AuthMethod != "trust" || !ci.Authenticated || ci.ProtocolVersion != "3.0" || ci.TLS || ci.BackendPID == 0 {
		t.Errorf("conn info %+v", ci)
	}
	if ci.LastStatus != 'I' || ci.ReadyStatus['I'] != 5 || len(ci.Errors) != 1 || ci.Errors[0].Code != "42P01" {
		t.Errorf("statuses %v last %c errors %v", ci.ReadyStatus, ci.LastStatus, ci.Errors)
	}
	if !slices.Equal(ci.CommandTags, []string{"SELECT 1", "SELECT 1"}) {
		t.Errorf("tags %v", ci.CommandTags)
	}

	tr := strings.Join(tap.Transcript(0), "\n")
	t.Logf("transcript:\n%s", tr)
	for _, want := range []string{
		`c1 → StartupMessage application_name=wiretap-test database=appdb user=alice`,
		`c1 → Query "SELECT 1"`,
		`c1 ← RowDescription [?column?:23]`,
		`c1 ← DataRow ("1")`,
		`c1 ← CommandComplete "SELECT 1"`,
		`c1 ← ReadyForQuery I`,
		`c1 → Parse "stmtcache_`,
		`c1 ← DataRow (0x00000001)`,
		`c1 ← ErrorResponse 42P01 relation "missing" does not exist`,
	} {
		if !strings.Contains(tr, want) {
			t.Errorf("transcript lacks %q:\n%s", want, tr)
		}
	}
}

func TestRecordsBoundedAndDataRowsCollapsed(t *testing.T) {
	rows := make([][]any, 50)
	for i := range rows {
		rows[i] = []any{int32(i), "v"}
	}
	handler := func(q fakepg.Query) fakepg.Result {
		if strings.Contains(q.SQL, "many") {
			return fakepg.Result{Cols: []fakepg.Col{{Name: "n", OID: pgtype.Int4OID}, {Name: "s", OID: pgtype.TextOID}}, Rows: rows}
		}
		return fakepg.DefaultHandler(q)
	}
	_, tap := pair(t, fakepg.Options{Handler: handler}, Options{MaxRecords: 20})
	ctx := testCtx(t)
	conn := connect(t, ctx, tap, "")
	if _, err := conn.Exec(ctx, "SELECT many", pgx.QueryExecModeSimpleProtocol); err != nil {
		t.Fatal(err)
	}
	recs := tap.Records()
	if len(recs) > 20 {
		t.Fatalf("kept %d records, want at most 20", len(recs))
	}
	kept := 0
	for i, r := range recs {
		if i > 0 && r.Seq <= recs[i-1].Seq {
			t.Fatalf("records out of order: %d then %d", recs[i-1].Seq, r.Seq)
		}
		if r.Name == "DataRow" {
			kept += max(r.Count, 1)
		}
	}
	if kept != 50 {
		t.Errorf("the kept records stand for %d DataRows, want the run of 50 collapsed into them", kept)
	}
	if s := tap.Stats(); s.ToClient["DataRow"] != 50 {
		t.Errorf("counted %d DataRows, want 50 (counters must not be bounded)", s.ToClient["DataRow"])
	}
	tr := tap.Transcript(3)
	if len(tr) != 3 || !strings.Contains(tr[0], `← DataRow ×50, first ("0", "v")`) ||
		!strings.Contains(tr[1], `CommandComplete "SELECT 50"`) || !strings.Contains(tr[2], "ReadyForQuery I") {
		t.Errorf("transcript tail:\n%s", strings.Join(tr, "\n"))
	}
}

func TestSSLRequestAnsweredNo(t *testing.T) {
	_, tap := pair(t, fakepg.Options{}, Options{})
	ctx := testCtx(t)

	// sslmode=require must fail when the server says 'N'; nothing is sent in plain text.
	if _, err := pgx.Connect(ctx, strings.Replace(dsn(tap, ""), "sslmode=disable", "sslmode=require", 1)); err == nil {
		t.Fatal("sslmode=require connected to a server without TLS")
	}
	eventually(t, "refused connection closed", func() bool { return tap.Stats().Open == 0 })
	ci := lastConn(t, tap)
	if !ci.SSLRequested || !ci.TLSRefused || ci.PlaintextAfterRefusal || ci.TLS || ci.Params != nil {
		t.Errorf("require: %+v", ci)
	}

	// libpq's sslmode=prefer continues in plain text on the same connection after 'N'.
	rc := dialRaw(t, tap)
	rc.send(&pgproto3.SSLRequest{})
	b := make([]byte, 1)
	if _, err := rc.nc.Read(b); err != nil || b[0] != 'N' {
		t.Fatalf("SSLRequest answer %q %v, want N", b, err)
	}
	rc.send(&pgproto3.GSSEncRequest{})
	if _, err := rc.nc.Read(b); err != nil || b[0] != 'N' {
		t.Fatalf("GSSENCRequest answer %q %v, want N", b, err)
	}
	rc.startup()
	ci = lastConn(t, tap)
	if !ci.SSLRequested || !ci.GSSENCRequested || !ci.TLSRefused || !ci.PlaintextAfterRefusal || ci.Params["user"] != "raw" {
		t.Errorf("fallback: %+v", ci)
	}
	tr := strings.Join(tap.Transcript(0), "\n")
	if !strings.Contains(tr, "→ SSLRequest") || !strings.Contains(tr, "← SSLResponse N") {
		t.Errorf("transcript lacks the SSL negotiation:\n%s", tr)
	}
}

func TestTLSTermination(t *testing.T) {
	_, tap := pair(t, fakepg.Options{Auth: fakepg.SCRAM, SCRAMPlus: true}, Options{TLS: selfSignedTLS(t)})
	ctx := testCtx(t)
	for _, mode := range []string{"sslmode=require", "sslmode=require&sslnegotiation=direct"} {
		t.Run(mode, func(t *testing.T) {
			conn, err := pgx.Connect(ctx, strings.Replace(dsn(tap, ""), "sslmode=disable", mode, 1))
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close(ctx)
			var n int
			if err := conn.QueryRow(ctx, "SELECT 1").Scan(&n); err != nil || n != 1 {
				t.Fatalf("query over TLS: %v", err)
			}
			ci := lastConn(t, tap)
			if !ci.TLS || ci.TLSVersion != "TLS 1.3" || ci.TLSRefused {
				t.Errorf("TLS not recorded: %+v", ci)
			}
			if direct := strings.Contains(mode, "direct"); ci.DirectTLS != direct || ci.SSLRequested == direct {
				t.Errorf("direct=%v but DirectTLS=%v SSLRequested=%v", direct, ci.DirectTLS, ci.SSLRequested)
			}
			// Over TLS pgx binds SCRAM to the tap's certificate.
			if ci.AuthMethod != "SCRAM-SHA-256-PLUS" || !slices.Equal(ci.AuthOffered, []string{"SCRAM-SHA-256-PLUS", "SCRAM-SHA-256"}) {
				t.Errorf("auth %q offered %v", ci.AuthMethod, ci.AuthOffered)
			}
		})
	}
	if s := tap.Stats(); s.TLS != 2 {
		t.Errorf("TLS connections %d, want 2", s.TLS)
	}

	t.Run("RefuseTLS", func(t *testing.T) {
		tap.Faults().RefuseTLS(true)
		defer tap.Faults().RefuseTLS(false)
		_, err := pgx.Connect(ctx, strings.Replace(dsn(tap, ""), "sslmode=disable", "sslmode=require", 1))
		if err == nil {
			t.Fatal("sslmode=require connected although TLS was refused")
		}
		eventually(t, "refused connection closed", func() bool { return tap.Stats().Open == 0 })
		ci := lastConn(t, tap)
		if !ci.TLSRefused || ci.TLS || ci.PlaintextAfterRefusal {
			t.Errorf("%+v", ci)
		}
		// sslmode=prefer: pgx retries on a new connection without SSLRequest.
		conn, err := pgx.Connect(ctx, strings.Replace(dsn(tap, ""), "sslmode=disable", "sslmode=prefer", 1))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		cs := tap.Conns()
		refused, plain := cs[len(cs)-2], cs[len(cs)-1]
		if !refused.TLSRefused || refused.Params != nil || plain.SSLRequested || plain.TLS || plain.Params["user"] != "alice" {
			t.Errorf("prefer fallback: refused %+v\nplain %+v", refused, plain)
		}
	})
}

func TestAuthentication(t *testing.T) {
	for _, tc := range []struct{ auth, method string }{
		{fakepg.Cleartext, "cleartext"},
		{fakepg.MD5, "md5"},
		{fakepg.SCRAM, "SCRAM-SHA-256"},
	} {
		t.Run(tc.auth, func(t *testing.T) {
			_, tap := pair(t, fakepg.Options{Auth: tc.auth}, Options{})
			ctx := testCtx(t)
			conn := connect(t, ctx, tap, "")
			if err := conn.Ping(ctx); err != nil {
				t.Fatal(err)
			}
			ci := lastConn(t, tap)
			if ci.AuthMethod != tc.method || !ci.Authenticated {
				t.Errorf("method %q authenticated %v, want %q", ci.AuthMethod, ci.Authenticated, tc.method)
			}
			if tc.auth == fakepg.SCRAM && !slices.Equal(ci.AuthOffered, []string{"SCRAM-SHA-256"}) {
				t.Errorf("offered %v", ci.AuthOffered)
			}

			// A wrong password: the FATAL reaches the client and the records.
			bad := strings.Replace(dsn(tap, ""), testPassword, "wrong-pw", 1)
			_, err := pgx.Connect(ctx, bad)
			var pgErr *pgconn.PgError
			if !errors.As(err, &pgErr) || pgErr.Code != "28P01" {
				t.Fatalf("wrong password: %v, want 28P01", err)
			}
			eventually(t, "failed login closed", func() bool { return tap.Stats().Open == 1 })
			ci = lastConn(t, tap)
			if ci.Authenticated || len(ci.Errors) != 1 || ci.Errors[0].Severity != "FATAL" || ci.Errors[0].Code != "28P01" {
				t.Errorf("failed login: %+v", ci)
			}

			// No password, hash or SASL proof in records or transcripts.
			dump := strings.Join(tap.Transcript(0), "\n")
			for _, r := range tap.Records() {
				dump += fmt.Sprintf("\n%#v", r.Msg)
			}
			for _, secret := range []string{testPassword, "wrong-pw"} {
				if strings.Contains(dump, secret) {
					t.Errorf("records leak %q:\n%s", secret, dump)
				}
			}
			for _, secret := range []string{`md5[0-9a-f]{32}`, `[pr]=[A-Za-z0-9+/]{18,}`, `v=[A-Za-z0-9+/]{18,}`} {
				if m := regexp.MustCompile(secret).FindString(dump); m != "" {
					t.Errorf("records leak %q:\n%s", m, dump)
				}
			}
			if tc.auth != fakepg.SCRAM && !strings.Contains(dump, "PasswordMessage [redacted]") {
				t.Errorf("password message not shown redacted:\n%s", dump)
			}
			if tc.auth == fakepg.SCRAM && !regexp.MustCompile(`SASLInitialResponse SCRAM-SHA-256 \(\d+ bytes\)`).MatchString(dump) {
				t.Errorf("SASL exchange not summarized by length:\n%s", dump)
			}
		})
	}
}

func TestUpstreamDownIsReportedToClient(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	_ = ln.Close()
	tap, err := Start(Options{Upstream: dead, Name: "down"})
	if err != nil {
		t.Fatal(err)
	}
	defer tap.Close()
	_, err = pgx.Connect(testCtx(t), dsn(tap, ""))
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "08006" || !strings.Contains(pgErr.Message, "wiretap down: dial upstream "+dead) {
		t.Fatalf("connect with the upstream down: %v", err)
	}
	eventually(t, "connection closed", func() bool { return tap.Stats().Open == 0 })
	if ci := lastConn(t, tap); !strings.Contains(ci.End, "connection refused") || len(ci.Errors) != 1 {
		t.Errorf("%+v", ci)
	}
}

func TestCancelRequestForwarded(t *testing.T) {
	handler := func(q fakepg.Query) fakepg.Result {
		if strings.Contains(q.SQL, "pg_sleep") {
			return fakepg.Result{Block: true}
		}
		return fakepg.DefaultHandler(q)
	}
	srv, tap := pair(t, fakepg.Options{Handler: handler}, Options{})
	ctx := testCtx(t)
	conn := connect(t, ctx, tap, "")
	errc := make(chan error, 1)
	go func() {
		_, err := conn.Exec(ctx, "SELECT pg_sleep(60)")
		errc <- err
	}()
	eventually(t, "query reached the server", func() bool {
		return slices.Contains(srv.Seen(), "Q SELECT pg_sleep(60)")
	})
	if err := conn.PgConn().CancelRequest(ctx); err != nil {
		t.Fatal(err)
	}
	var pgErr *pgconn.PgError
	if err := <-errc; !errors.As(err, &pgErr) || pgErr.Code != "57014" {
		t.Fatalf("canceled query: %v, want 57014", err)
	}
	if srv.Cancels() != 1 || tap.Stats().CancelRequests != 1 {
		t.Errorf("cancels: server %d tap %d", srv.Cancels(), tap.Stats().CancelRequests)
	}
	cs := tap.Conns()
	session, cancel := cs[0], cs[1]
	if !cancel.Cancel || cancel.CancelTarget != session.BackendPID || cancel.Params != nil {
		t.Errorf("cancel connection %+v", cancel)
	}
	if session.CancelsAimed != 1 {
		t.Errorf("session saw %d cancels aimed at it", session.CancelsAimed)
	}
}

// A Rewriter's replies wait for the server's answers to what was forwarded before them.
func TestRewriterReplyKeepsPipelineOrder(t *testing.T) {
	// The server holds SELECT slow until LOCAL has reached the tap: an unordered reply would
	// overtake it.
	gate := make(chan struct{})
	slow := func(q fakepg.Query) fakepg.Result {
		if q.SQL == "SELECT slow" {
			<-gate
		}
		return fakepg.DefaultHandler(q)
	}
	_, tap := pair(t, fakepg.Options{Handler: slow}, Options{Rewriter: localAnswer{}})
	rc := dialRaw(t, tap)
	rc.startup()
	rc.send(&pgproto3.Query{String: "SELECT slow"}, &pgproto3.Query{String: "LOCAL"})
	eventually(t, "LOCAL seen by the tap", func() bool {
		return tap.Stats().FromClient["Query"] == 2
	})
	close(gate)
	got := strings.Join(append(rc.until("ReadyForQuery"), rc.until("ReadyForQuery")...), " | ")
	want := `RowDescription [?column?:23] | DataRow ("1") | CommandComplete "SELECT 1" | ReadyForQuery I | CommandComplete "LOCAL" | ReadyForQuery I`
	if got != want {
		t.Fatalf("client got\n%s\nwant\n%s", got, want)
	}
	s := tap.Stats()
	if s.Requests != 2 || s.RoundTrips != 1 {
		t.Errorf("requests %d round trips %d, want 2 and 1 (pipelined)", s.Requests, s.RoundTrips)
	}
	tr := strings.Join(tap.Transcript(0), "\n")
	if !strings.Contains(tr, `→ Query "LOCAL" [not forwarded]`) || !strings.Contains(tr, `← CommandComplete "LOCAL" [proxy reply]`) {
		t.Errorf("transcript:\n%s", tr)
	}
}

// localAnswer answers the simple query LOCAL itself and uppercases nothing else.
type localAnswer struct{}

func (localAnswer) FromClient(_ *ConnState, m pgproto3.FrontendMessage) ([]pgproto3.FrontendMessage, []pgproto3.BackendMessage) {
	if q, ok := m.(*pgproto3.Query); ok && q.String == "LOCAL" {
		return nil, []pgproto3.BackendMessage{&pgproto3.CommandComplete{CommandTag: []byte("LOCAL")}, &pgproto3.ReadyForQuery{TxStatus: 'I'}}
	}
	return []pgproto3.FrontendMessage{m}, nil
}

func (localAnswer) FromServer(_ *ConnState, m pgproto3.BackendMessage) []pgproto3.BackendMessage {
	return []pgproto3.BackendMessage{m}
}

func TestCloseLeavesNoGoroutines(t *testing.T) {
	srv, err := fakepg.Start(fakepg.Options{Handler: func(q fakepg.Query) fakepg.Result {
		if strings.Contains(q.SQL, "pg_sleep") {
			return fakepg.Result{Block: true}
		}
		return fakepg.DefaultHandler(q)
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	tap, err := Start(Options{Upstream: srv.Addr(), TLS: selfSignedTLS(t)})
	if err != nil {
		t.Fatal(err)
	}
	ctx := testCtx(t)
	// An idle session, a session in a query, one stuck before its StartupMessage, a blackholed
	// one and one waiting on latency.
	idle, err := pgx.Connect(ctx, dsn(tap, ""))
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close(ctx)
	busy, err := pgx.Connect(ctx, dsn(tap, ""))
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close(ctx)
	busyDone := make(chan error, 1)
	go func() { _, err := busy.Exec(ctx, "SELECT pg_sleep(60)"); busyDone <- err }()
	stuck, err := net.Dial("tcp", tap.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer stuck.Close()
	held, err := pgx.Connect(ctx, dsn(tap, ""))
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close(ctx)
	tap.Faults().SetLatency(2 * time.Second)
	tap.Faults().Blackhole(true)
	heldDone := make(chan error, 1)
	go func() { _, err := held.Exec(ctx, "SELECT 1"); heldDone <- err }()
	eventually(t, "all connections in place", func() bool {
		return srv.Sessions() == 3 && tap.Stats().Open == 4 && tap.Stats().FromClient["Query"] == 2
	})

	if err := tap.Close(); err != nil {
		t.Fatal(err)
	}
	if leaked := leakedGoroutines(); len(leaked) > 0 {
		t.Fatalf("%d tap goroutines left after Close:\n%s", len(leaked), strings.Join(leaked, "\n\n"))
	}
	if err := <-busyDone; err == nil {
		t.Error("query survived Close")
	}
	if err := <-heldDone; err == nil {
		t.Error("blackholed query survived Close")
	}
	if s := tap.Stats(); s.Open != 0 || s.Closed != 4 {
		t.Errorf("after Close: open %d closed %d", s.Open, s.Closed)
	}
	if _, err := pgx.Connect(ctx, dsn(tap, "connect_timeout=1")); err == nil {
		t.Error("connected to a closed tap")
	}
}

// recordingConn keeps every byte read from the connection.
type recordingConn struct {
	net.Conn
	read []byte
}

func (r *recordingConn) Read(p []byte) (int, error) {
	n, err := r.Conn.Read(p)
	r.read = append(r.read, p[:n]...)
	return n, err
}

// When the server ends the session (after Terminate), the tap ends the
// client's TLS session as PostgreSQL does: a close_notify alert before the
// socket closes, not a bare TCP end a driver may take for truncation.
func TestTLSSessionEndsWithCloseNotify(t *testing.T) {
	cfg := selfSignedTLS(t).Clone()
	cfg.MaxVersion = tls.VersionTLS12 // record types are visible in TLS 1.2
	_, tap := pair(t, fakepg.Options{}, Options{TLS: cfg})
	nc, err := net.DialTimeout("tcp", tap.Addr(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	_ = nc.SetDeadline(time.Now().Add(5 * time.Second))
	req, err := (&pgproto3.SSLRequest{}).Encode(nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := nc.Write(req); err != nil {
		t.Fatal(err)
	}
	answer := make([]byte, 1)
	if _, err := io.ReadFull(nc, answer); err != nil || answer[0] != 'S' {
		t.Fatalf("SSLRequest answered %q, %v", answer, err)
	}
	rec := &recordingConn{Conn: nc}
	tc := tls.Client(rec, &tls.Config{InsecureSkipVerify: true, MaxVersion: tls.VersionTLS12})
	fe := pgproto3.NewFrontend(tc, tc)
	fe.Send(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersionNumber, Parameters: map[string]string{"user": "alice", "database": "appdb"}})
	if err := fe.Flush(); err != nil {
		t.Fatal(err)
	}
	for {
		m, err := fe.Receive()
		if err != nil {
			t.Fatalf("before ReadyForQuery: %v", err)
		}
		if _, ok := m.(*pgproto3.ReadyForQuery); ok {
			break
		}
	}
	fe.Send(&pgproto3.Terminate{})
	if err := fe.Flush(); err != nil {
		t.Fatal(err)
	}
	if _, err := tc.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("after Terminate: %v, want io.EOF", err)
	}
	// Walk the TLS records the client read: the last must be an alert (21).
	last := byte(0)
	for b := rec.read; len(b) >= 5; {
		n := 5 + (int(b[3])<<8 | int(b[4]))
		if n > len(b) {
			break
		}
		last, b = b[0], b[n:]
	}
	if last != 21 {
		t.Errorf("the last TLS record from the tap has type %d, want 21 (alert: close_notify)", last)
	}
}
