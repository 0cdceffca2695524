package target

import (
	"context"
	"fmt"
	"net"
	"path"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/pgwire-conformance/pgwire-conformance/config"
)

// extraLogins are the logins a suite-started PostgreSQL gets besides the
// main user (SCRAM): one per other password method the wire specs try.
// Their passwords are made here and registered as secrets at once.
func extraLogins() []Login {
	out := []Login{
		{User: "conformance_md5", Password: randomPassword(), Method: "md5"},
		{User: "conformance_password", Password: randomPassword(), Method: "password"},
	}
	for _, l := range out {
		config.RegisterSecret(l.Password)
	}
	return out
}

// setup is what provision does to a PostgreSQL server the suite started,
// once it answers: done over SQL as its superuser rather than by the
// image's entrypoint, because the server certificate must name the
// container's address, which Docker hands out only at start; and so it
// works the same with the official postgres image (PGWC_POSTGRES_IMAGE).
type setup struct {
	// logins are created as roles (LOGIN, all rights on schema public).
	logins []Login
	// hba puts a pg_hba.conf line per login, with its method, before the
	// catch-all SCRAM line, and stores an md5 login's password as md5
	// (scram-sha-256 cannot check an md5-stored password). Without it (the
	// gateway, where PgBouncer applies the methods) every password is
	// stored as SCRAM.
	hba bool
	// tls, when set, is installed as the server's certificate and key, and
	// ssl turned on. Clients that do not ask for TLS still get in: the
	// lines are "host", which match both.
	tls *serverTLS
	// writeTLS writes tls's certificate and key to those paths on the
	// server, the key readable by the server's user only (PostgreSQL
	// refuses a key file others may read). Server-side SQL cannot: its
	// file writers (lo_export, COPY TO) leave files world-readable.
	writeTLS func(ctx context.Context, certPath, keyPath string) error
}

// provision applies s to the server dsn names (as its superuser) and
// reloads its configuration; awaitProvisioned then checks the result.
func provision(ctx context.Context, dsn string, s setup) error {
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return fmt.Errorf("connect as the superuser: %w", err)
	}
	defer c.Close(context.WithoutCancel(ctx))
	for _, l := range s.logins {
		enc := "scram-sha-256"
		if s.hba && l.Method == "md5" {
			enc = "md5"
		}
		// One transaction, so that SET LOCAL and CREATE ROLE share a server
		// session even through a transaction-pooling PgBouncer.
		err := pgx.BeginFunc(ctx, c, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, "SELECT set_config('password_encryption', $1, true)", enc); err != nil {
				return err
			}
			for _, q := range []string{
				"SELECT format('CREATE ROLE %I LOGIN PASSWORD %L', $1::text, $2::text)",
				"SELECT format('GRANT ALL ON SCHEMA public TO %I', $1::text, $2::text)",
			} {
				var stmt string
				if err := tx.QueryRow(ctx, q, l.User, l.Password).Scan(&stmt); err != nil {
					return err
				}
				if _, err := tx.Exec(ctx, stmt); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("create login %s (%s): %w", l.User, l.Method, err)
		}
	}
	if s.hba && len(s.logins) > 0 {
		var file, old string
		if err := c.QueryRow(ctx, "SELECT current_setting('hba_file'), pg_read_file(current_setting('hba_file'))").Scan(&file, &old); err != nil {
			return fmt.Errorf("read pg_hba.conf: %w", err)
		}
		if err := writeServerFile(ctx, c, file, []byte(hbaWithLogins(old, s.logins))); err != nil {
			return fmt.Errorf("write pg_hba.conf: %w", err)
		}
		var bad string
		err := c.QueryRow(ctx, "SELECT coalesce(string_agg(line_number || ': ' || error, '; '), '') FROM pg_hba_file_rules WHERE error IS NOT NULL").Scan(&bad)
		if err != nil {
			return fmt.Errorf("check pg_hba.conf: %w", err)
		}
		if bad != "" {
			return fmt.Errorf("pg_hba.conf has errors: %s", bad)
		}
	}
	if s.tls != nil {
		var dir string
		if err := c.QueryRow(ctx, "SELECT current_setting('data_directory')").Scan(&dir); err != nil {
			return fmt.Errorf("data directory: %w", err)
		}
		crt, key := path.Join(dir, "pgwc-server.crt"), path.Join(dir, "pgwc-server.key")
		if s.writeTLS == nil {
			return fmt.Errorf("no way to write the server's key file")
		}
		if err := s.writeTLS(ctx, crt, key); err != nil {
			return fmt.Errorf("write the server certificate and key: %w", err)
		}
		for _, kv := range [][2]string{{"ssl_cert_file", crt}, {"ssl_key_file", key}, {"ssl", "on"}} {
			var stmt string
			if err := c.QueryRow(ctx, "SELECT format('ALTER SYSTEM SET %I = %L', $1::text, $2::text)", kv[0], kv[1]).Scan(&stmt); err != nil {
				return err
			}
			if _, err := c.Exec(ctx, stmt); err != nil {
				return fmt.Errorf("%s: %w", stmt, err)
			}
		}
	}
	if _, err := c.Exec(ctx, "SELECT pg_reload_conf()"); err != nil {
		return fmt.Errorf("reload the configuration: %w", err)
	}
	return nil
}

// hbaWithLogins puts one line per login, with its method, before the lines
// of pg_hba.conf (the first matching line wins).
func hbaWithLogins(old string, logins []Login) string {
	var b strings.Builder
	b.WriteString("# pgwire-conformance: one login per password method (added at start)\n")
	for _, l := range logins {
		fmt.Fprintf(&b, "host all %s all %s\n", l.User, l.Method)
	}
	b.WriteString(old)
	return b.String()
}

// writeServerFile writes data to a file on the database server, through a
// large object (superuser only).
func writeServerFile(ctx context.Context, c *pgx.Conn, file string, data []byte) error {
	var oid uint32
	if err := c.QueryRow(ctx, "SELECT lo_from_bytea(0, $1)", data).Scan(&oid); err != nil {
		return err
	}
	_, err := c.Exec(ctx, "SELECT lo_export($1, $2)", oid, file)
	if _, uerr := c.Exec(ctx, "SELECT lo_unlink($1)", oid); err == nil && uerr != nil {
		err = uerr
	}
	return err
}

// awaitProvisioned waits (the reload is asynchronous) until the server at
// dsn offers what provision set up: TLS verified against the CA for the
// DSN's host, and each login authenticated with its own method.
func awaitProvisioned(ctx context.Context, dsn string, logins []Login, caPEM []byte, within time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, within)
	defer cancel()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		err := checkProvisioned(ctx, dsn, logins, caPEM)
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("not in force within %s: %s", within, config.RedactText(err.Error(), dsn))
		case <-tick.C:
		}
	}
}

func checkProvisioned(ctx context.Context, dsn string, logins []Login, caPEM []byte) error {
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if caPEM != nil {
		c, err := connectTLS(cctx, dsn, caPEM)
		if err != nil {
			return fmt.Errorf("TLS (verify-full): %w", err)
		}
		var on bool
		err = c.QueryRow(cctx, "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").Scan(&on)
		c.Close(context.WithoutCancel(ctx))
		if err != nil || !on {
			return fmt.Errorf("TLS: the session is not encrypted (%v)", err)
		}
	}
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return err
	}
	addr := net.JoinHostPort(cfg.Host, fmt.Sprint(cfg.Port))
	for _, l := range logins {
		m, err := authMethod(cctx, addr, l.User, cfg.Database)
		if err != nil {
			return fmt.Errorf("login %s: %w", l.User, err)
		}
		if m != l.Method {
			return fmt.Errorf("login %s: the server asks for %s, not %s", l.User, m, l.Method)
		}
		ldsn, err := loginDSN(dsn, l)
		if err != nil {
			return err
		}
		c, err := pgx.Connect(cctx, ldsn)
		if err != nil {
			return fmt.Errorf("login %s (%s): %w", l.User, l.Method, err)
		}
		var who string
		err = c.QueryRow(cctx, "SELECT current_user").Scan(&who)
		c.Close(context.WithoutCancel(ctx))
		if err != nil {
			return fmt.Errorf("login %s (%s): %w", l.User, l.Method, err)
		}
		if who != l.User {
			return fmt.Errorf("login %s (%s): the session runs as %q", l.User, l.Method, who)
		}
	}
	return nil
}

// authMethod starts a session for user on the server at addr (plaintext)
// and names the authentication the server asks for, in pg_hba's words:
// trust (no request), password, md5, scram-sha-256.
func authMethod(ctx context.Context, addr, user, database string) (string, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	fe := pgproto3.NewFrontend(conn, conn)
	fe.Send(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersion30, Parameters: map[string]string{"user": user, "database": database}})
	if err := fe.Flush(); err != nil {
		return "", fmt.Errorf("send startup: %w", err)
	}
	msg, err := fe.Receive()
	if err != nil {
		return "", fmt.Errorf("read the authentication request: %w", err)
	}
	switch m := msg.(type) {
	case *pgproto3.AuthenticationOk:
		return "trust", nil
	case *pgproto3.AuthenticationCleartextPassword:
		return "password", nil
	case *pgproto3.AuthenticationMD5Password:
		return "md5", nil
	case *pgproto3.AuthenticationSASL:
		for _, mech := range m.AuthMechanisms {
			if mech == "SCRAM-SHA-256" {
				return "scram-sha-256", nil
			}
		}
		return "sasl " + strings.Join(m.AuthMechanisms, ","), nil
	case *pgproto3.ErrorResponse:
		return "", fmt.Errorf("server refused the startup: %s (SQLSTATE %s)", m.Message, m.Code)
	}
	return "", fmt.Errorf("unexpected %T in answer to the startup", msg)
}
