package target

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"encoding/pem"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/pgwire-conformance/pgwire-conformance/certs"
)

func TestMakeServerTLSVerifies(t *testing.T) {
	now := time.Now()
	ip := net.ParseIP("172.18.0.2")
	st, err := makeServerTLS([]string{"postgres", "localhost"}, []net.IP{net.IPv4(127, 0, 0, 1), ip}, now)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(st.CertPEM)
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	pub, ok := cert.PublicKey.(*ecdsa.PublicKey)
	if !ok || pub.Curve != elliptic.P256() {
		t.Errorf("server key is %T, want ECDSA P-256", cert.PublicKey)
	}
	if life := cert.NotAfter.Sub(now); life > certs.Lifetime || life < certs.Lifetime-time.Minute {
		t.Errorf("certificate lives %s, want about %s", life, certs.Lifetime)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(st.CAPEM)
	for _, name := range []string{"postgres", "localhost", "127.0.0.1", "172.18.0.2"} {
		if _, err := cert.Verify(x509.VerifyOptions{Roots: pool, DNSName: name, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err != nil {
			t.Errorf("verify for %s: %v", name, err)
		}
	}
	// The check can fail: another name, or another CA.
	if _, err := cert.Verify(x509.VerifyOptions{Roots: pool, DNSName: "172.18.0.3"}); err == nil {
		t.Error("certificate verified for an address it does not name")
	}
	other, _ := makeServerTLS([]string{"postgres"}, nil, now)
	otherPool := x509.NewCertPool()
	otherPool.AppendCertsFromPEM(other.CAPEM)
	if _, err := cert.Verify(x509.VerifyOptions{Roots: otherPool, DNSName: "postgres"}); err == nil {
		t.Error("certificate verified against another run's CA")
	}
	// The key is PKCS#8 PEM that matches the certificate (what the server loads).
	if _, err := tls.X509KeyPair(st.CertPEM, st.KeyPEM); err != nil {
		t.Errorf("key pair: %v", err)
	}
	if _, err := makeServerTLS(nil, nil, now); err == nil {
		t.Error("a certificate for nothing was made")
	}
}

// TestVerifyConfigHandshake runs a real TLS handshake with the generated
// pair: verify-full succeeds for a certified address and fails otherwise.
func TestVerifyConfigHandshake(t *testing.T) {
	st, err := makeServerTLS([]string{"postgres"}, []net.IP{net.IPv4(127, 0, 0, 1)}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	pair, err := tls.X509KeyPair(st.CertPEM, st.KeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{pair}})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			_ = c.(*tls.Conn).Handshake()
			c.Close()
		}
	}()
	for _, c := range []struct {
		host string
		ok   bool
	}{{"127.0.0.1", true}, {"postgres", true}, {"elsewhere", false}} {
		cfg, err := certs.ClientConfig(st.CAPEM, c.host)
		if err != nil {
			t.Fatal(err)
		}
		conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", ln.Addr().String(), cfg)
		if err == nil {
			conn.Close()
		}
		if (err == nil) != c.ok {
			t.Errorf("handshake as %s: err = %v, want ok=%v", c.host, err, c.ok)
		}
	}
	if _, err := certs.ClientConfig([]byte("not PEM"), "x"); err == nil {
		t.Error("ClientConfig accepted a PEM without a certificate")
	}
}

func TestHBAWithLogins(t *testing.T) {
	old := "local all all trust\nhost all all all scram-sha-256\n"
	got := hbaWithLogins(old, []Login{{User: "conformance_md5", Method: "md5"}, {User: "conformance_password", Method: "password"}})
	lines := strings.Split(strings.TrimSpace(got), "\n")
	want := []string{
		"host all conformance_md5 all md5",
		"host all conformance_password all password",
		"local all all trust",
		"host all all all scram-sha-256",
	}
	if len(lines) != len(want)+1 || !strings.HasPrefix(lines[0], "#") {
		t.Fatalf("hba = %q", got)
	}
	for i, w := range want {
		if lines[i+1] != w {
			t.Errorf("line %d = %q, want %q (the logins' lines must come before the catch-all)", i+1, lines[i+1], w)
		}
	}
}

func TestBouncerFiles(t *testing.T) {
	logins := []Login{{User: "conformance", Password: "s3cret"}, {User: "conformance_md5", Password: "pw2", Method: "md5"}}
	if got := bouncerUserlist(logins); got != "\"conformance\" \"s3cret\"\n\"conformance_md5\" \"pw2\"\n" {
		t.Errorf("userlist = %q", got)
	}
	hba := bouncerHBA(logins[1:])
	i, j := strings.Index(hba, "conformance_md5 0.0.0.0/0 md5"), strings.Index(hba, "all 0.0.0.0/0 scram-sha-256")
	if i < 0 || j < 0 || i > j {
		t.Errorf("hba = %q: want the md5 login's line before the SCRAM catch-all", hba)
	}
}

func TestSSLModeInDSN(t *testing.T) {
	for _, c := range []struct{ dsn, want string }{
		{"postgres://u:p@h:5432/db", "postgres://u:p@h:5432/db?sslmode=disable"},
		{"postgres://u:p@h:5432/db?application_name=x", "postgres://u:p@h:5432/db?application_name=x&sslmode=disable"},
		{"host=h user=u dbname=db", "host=h user=u dbname=db sslmode=disable"},
	} {
		if hasSSLMode(c.dsn) {
			t.Errorf("hasSSLMode(%q) = true", c.dsn)
		}
		got := withSSLMode(c.dsn, "disable")
		if got != c.want {
			t.Errorf("withSSLMode(%q) = %q, want %q", c.dsn, got, c.want)
		}
		if !hasSSLMode(got) {
			t.Errorf("hasSSLMode(%q) = false", got)
		}
	}
}

// fakeSSLServer answers one SSLRequest with answer.
func fakeSSLServer(t *testing.T, answer byte) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		b := make([]byte, 8)
		if _, err := io.ReadFull(c, b); err != nil || binary.BigEndian.Uint32(b[4:]) != sslRequestCode {
			return
		}
		c.Write([]byte{answer})
	}()
	return ln.Addr().String()
}

func TestOffersTLS(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if ok, err := offersTLS(ctx, fakeSSLServer(t, 'S')); err != nil || !ok {
		t.Errorf("S: %v %v", ok, err)
	}
	if ok, err := offersTLS(ctx, fakeSSLServer(t, 'N')); err != nil || ok {
		t.Errorf("N: %v %v", ok, err)
	}
	if _, err := offersTLS(ctx, fakeSSLServer(t, 'E')); err == nil {
		t.Error("E: no error")
	}
	// explicitSSLMode follows the answer.
	t.Setenv("PGSSLMODE", "")
	addr := fakeSSLServer(t, 'N')
	dsn := "postgres://u:p@" + addr + "/db"
	got, err := explicitSSLMode(ctx, dsn)
	if err != nil || got != dsn+"?sslmode=disable" {
		t.Errorf("explicitSSLMode = %q, %v", got, err)
	}
	addr = fakeSSLServer(t, 'S')
	dsn = "postgres://u:p@" + addr + "/db"
	if got, err := explicitSSLMode(ctx, dsn); err != nil || got != dsn+"?sslmode=prefer" {
		t.Errorf("explicitSSLMode = %q, %v", got, err)
	}
	// An explicit choice is left alone (no probe: nothing listens).
	if got, err := explicitSSLMode(ctx, "postgres://u@127.0.0.1:1/db?sslmode=require"); err != nil || !strings.HasSuffix(got, "sslmode=require") {
		t.Errorf("explicit sslmode changed: %q, %v", got, err)
	}
}

// fakeAuthServer answers a startup message with msg.
func fakeAuthServer(t *testing.T, msg pgproto3.BackendMessage) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		be := pgproto3.NewBackend(c, c)
		if _, err := be.ReceiveStartupMessage(); err != nil {
			return
		}
		be.Send(msg)
		be.Flush()
	}()
	return ln.Addr().String()
}

func TestAuthMethod(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, c := range []struct {
		msg  pgproto3.BackendMessage
		want string
	}{
		{&pgproto3.AuthenticationOk{}, "trust"},
		{&pgproto3.AuthenticationCleartextPassword{}, "password"},
		{&pgproto3.AuthenticationMD5Password{Salt: [4]byte{1, 2, 3, 4}}, "md5"},
		{&pgproto3.AuthenticationSASL{AuthMechanisms: []string{"SCRAM-SHA-256-PLUS", "SCRAM-SHA-256"}}, "scram-sha-256"},
	} {
		got, err := authMethod(ctx, fakeAuthServer(t, c.msg), "u", "db")
		if err != nil || got != c.want {
			t.Errorf("%T: %q, %v; want %q", c.msg, got, err, c.want)
		}
	}
	_, err := authMethod(ctx, fakeAuthServer(t, &pgproto3.ErrorResponse{Severity: "FATAL", Code: "28000", Message: "no pg_hba.conf entry"}), "u", "db")
	if err == nil || !strings.Contains(err.Error(), "28000") {
		t.Errorf("error response: %v", err)
	}
}

func TestCheckCPUs(t *testing.T) {
	if err := checkCPUs("1", 2); err != nil {
		t.Errorf("CPU 1 of 2: %v", err)
	}
	if err := checkCPUs("none", 1); err != nil {
		t.Errorf("none: %v", err)
	}
	err := checkCPUs("3,5-6", 4)
	if err == nil || !strings.Contains(err.Error(), "CPU 5,6") || strings.Contains(err.Error(), "\n") {
		t.Errorf("3,5-6 of 4: %v", err)
	}
}

func TestExternalBackends(t *testing.T) {
	env := map[string]string{"PGWC_BACKEND_NODE_PG": "tcp://h:1"}
	errs := externalBackends([]string{"pgx", "python:psycopg-sync", "python:asyncpg", "node-pg:pg"}, func(k string) string { return env[k] })
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "PGWC_BACKEND_PYTHON") {
		t.Errorf("errors = %v, want one naming PGWC_BACKEND_PYTHON", errs)
	}
}

func TestPGliteImplementation(t *testing.T) {
	v := versionLines("pgwc-version @electric-sql/pglite-socket 0.2.17\nother line\npgwc-version @electric-sql/pglite 0.5.14\npgwc-version @electric-sql/pglite-pgvector 0.0.15\npgwc-version node 20.19.2\n")
	got := pgliteImplementation(v, "PostgreSQL 18.6 (PGlite 0.5.14) on wasm32-unknown-emscripten")
	want := "pglite-socket 0.2.17 → PGlite 0.5.14 (PostgreSQL 18.6, WASM in Node.js 20.19.2) + pglite-pgvector 0.0.15"
	if got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}

func TestAuthFailed(t *testing.T) {
	if isAuthError(errors.New("28P01")) {
		t.Error("a plain error counted as an authentication failure")
	}
}

// Only PGlite serves every client from one session: making another target's
// specs Serial would slow every run for nothing, and missing PGlite's would
// make its verdicts depend on spec order.
func TestSharesOneSession(t *testing.T) {
	for name, want := range map[string]bool{"pglite": true, "reference": false, "gateway": false, "divergent": false, "iris": false, "external": false} {
		if got := SharesOneSession(name); got != want {
			t.Errorf("SharesOneSession(%q) = %v, want %v", name, got, want)
		}
	}
}
