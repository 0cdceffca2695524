package target

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgwire-conformance/pgwire-conformance/certs"
)

// sslRequestCode is the SSLRequest message's request code (1234.5679).
const sslRequestCode = 80877103

// offersTLS asks the server at addr (host:port) whether it speaks TLS: it
// sends SSLRequest and reads the one-byte answer, 'S' (yes) or 'N' (no).
func offersTLS(ctx context.Context, addr string) (bool, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return false, err
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	msg := make([]byte, 8)
	binary.BigEndian.PutUint32(msg[0:4], 8)
	binary.BigEndian.PutUint32(msg[4:8], sslRequestCode)
	if _, err := conn.Write(msg); err != nil {
		return false, fmt.Errorf("send SSLRequest: %w", err)
	}
	b := make([]byte, 1)
	if _, err := io.ReadFull(conn, b); err != nil {
		return false, fmt.Errorf("read the answer to SSLRequest: %w", err)
	}
	switch b[0] {
	case 'S':
		return true, nil
	case 'N':
		return false, nil
	}
	return false, fmt.Errorf("answer %q to SSLRequest is neither S nor N", b[0])
}

// hasSSLMode reports whether dsn (URL or keyword/value) sets sslmode.
func hasSSLMode(dsn string) bool {
	if u, err := url.Parse(dsn); err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		return u.Query().Has("sslmode")
	}
	for _, f := range strings.Fields(dsn) {
		if k, _, ok := strings.Cut(f, "="); ok && strings.TrimSpace(k) == "sslmode" {
			return true
		}
	}
	return false
}

// withSSLMode returns dsn with sslmode=mode added (URL or keyword/value).
func withSSLMode(dsn, mode string) string {
	if u, err := url.Parse(dsn); err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		q := u.Query()
		q.Set("sslmode", mode)
		u.RawQuery = q.Encode()
		return u.String()
	}
	return strings.TrimSpace(dsn) + " sslmode=" + mode
}

// explicitSSLMode makes an external DSN's TLS choice explicit when it has
// none: drivers differ in their default (lib/pq requires TLS, pgx and libpq
// prefer it), so against a server without TLS lib/pq would fail for a
// reason that is not the driver's. The server is asked (SSLRequest): no
// TLS → sslmode=disable; TLS → sslmode=prefer, libpq's default. A DSN that
// sets sslmode, or a PGSSLMODE in the environment, is the user's choice
// and left alone.
func explicitSSLMode(ctx context.Context, dsn string) (string, error) {
	if hasSSLMode(dsn) || os.Getenv("PGSSLMODE") != "" {
		return dsn, nil
	}
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return dsn, err
	}
	if strings.HasPrefix(cfg.Host, "/") {
		return dsn, nil // a unix socket: TLS does not apply
	}
	tls, err := offersTLS(ctx, net.JoinHostPort(cfg.Host, fmt.Sprint(cfg.Port)))
	if err != nil {
		return dsn, err
	}
	if tls {
		return withSSLMode(dsn, "prefer"), nil
	}
	return withSSLMode(dsn, "disable"), nil
}

// loginDSN is dsn with another user and password.
func loginDSN(dsn string, l Login) (string, error) {
	u, err := url.Parse(dsn)
	if err != nil || u.Scheme == "" {
		return "", fmt.Errorf("not a URL DSN")
	}
	u.User = url.UserPassword(l.User, l.Password)
	return u.String(), nil
}

// connectTLS connects to dsn's server over TLS verified against caPEM for
// the DSN's host, as sslmode=verify-full with sslrootcert would.
func connectTLS(ctx context.Context, dsn string, caPEM []byte) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, err
	}
	tc, err := certs.ClientConfig(caPEM, cfg.Host)
	if err != nil {
		return nil, err
	}
	cfg.TLSConfig = tc
	cfg.Fallbacks = nil // no plaintext retry: TLS or nothing
	return pgx.ConnectConfig(ctx, cfg)
}

// authFailed reports whether err is the server refusing the login.
func authFailed(err error) (*pgconn.PgError, bool) {
	pe, ok := pgError(err)
	return pe, ok && (pe.Code == "28P01" || pe.Code == "28000")
}
