package target

import (
	"bytes"
	"context"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/moby/moby/client"

	"github.com/pgwire-conformance/pgwire-conformance/config"
	"github.com/pgwire-conformance/pgwire-conformance/containers"
)

// startForTest starts a target the way the suite does; it needs a Docker
// engine and the base image, and runs only with PGWC_DOCKER_TESTS=1.
func startForTest(t *testing.T, name string) *Running {
	t.Helper()
	if os.Getenv("PGWC_DOCKER_TESTS") != "1" {
		t.Skip("set PGWC_DOCKER_TESTS=1 to start targets in Docker")
	}
	containers.DefaultEnv()
	cfg := config.Defaults()
	cfg.Target = name
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	if err := Preflight(ctx, cfg); err != nil {
		t.Fatalf("preflight: %v", err)
	}
	var progress bytes.Buffer
	r, err := Start(ctx, cfg, &progress)
	t.Logf("progress:\n%s", progress.String())
	if err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	t.Cleanup(func() {
		id := r.Stack().ID()
		if err := r.Stop(context.Background()); err != nil {
			t.Errorf("stop: %v", err)
		}
		cli, err := containers.Docker(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		f := client.Filters{}.Add("label", containers.LabelStack+"="+id)
		cs, _ := cli.ContainerList(context.Background(), client.ContainerListOptions{All: true, Filters: f})
		if len(cs.Items) != 0 {
			t.Errorf("%d container(s) left after Stop", len(cs.Items))
		}
	})
	t.Logf("%s: %s via %s; logins %v", name, r.Implementation, r.Path, methods(r.Logins))
	return r
}

func methods(ls []Login) []string {
	var out []string
	for _, l := range ls {
		out = append(out, l.User+"="+l.Method)
	}
	return out
}

// verifyFullDSN is dsn with sslmode=verify-full against the CA in caFile.
func verifyFullDSN(t *testing.T, dsn, caFile string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("sslmode", "verify-full")
	q.Set("sslrootcert", caFile)
	u.RawQuery = q.Encode()
	return u.String()
}

func TestStartReferenceOffersTLSAndLogins(t *testing.T) {
	r := startForTest(t, "reference")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if r.CACert == "" {
		t.Fatal("no CA certificate")
	}
	dir := t.TempDir()
	caFile := filepath.Join(dir, "ca.pem")
	os.WriteFile(caFile, []byte(r.CACert), 0o600)
	c, err := pgx.Connect(ctx, verifyFullDSN(t, r.DSN, caFile))
	if err != nil {
		t.Fatalf("verify-full: %v", err)
	}
	var ssl bool
	var version string
	if err := c.QueryRow(ctx, "SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()").Scan(&ssl, &version); err != nil || !ssl {
		t.Errorf("pg_stat_ssl: ssl=%v %v", ssl, err)
	}
	t.Logf("TLS %s with sslmode=verify-full", version)
	c.Close(ctx)
	// The check can fail: another CA does not verify the server.
	other, _ := makeServerTLS([]string{"postgres"}, nil, time.Now())
	otherFile := filepath.Join(dir, "other.pem")
	os.WriteFile(otherFile, other.CAPEM, 0o600)
	if c, err := pgx.Connect(ctx, verifyFullDSN(t, r.DSN, otherFile)); err == nil {
		c.Close(ctx)
		t.Error("verify-full passed with another CA")
	}
	// Plaintext clients still get in (the suite's DSN is sslmode=disable).
	if !strings.Contains(r.DSN, "sslmode=disable") {
		t.Errorf("DSN %s is not sslmode=disable", r.RedactedDSN())
	}
	want := map[string]bool{"scram-sha-256": true, "md5": true, "password": true}
	for _, l := range r.Logins {
		delete(want, l.Method)
		ldsn, _ := loginDSN(r.DSN, l)
		c, err := pgx.Connect(ctx, ldsn)
		if err != nil {
			t.Errorf("login %s (%s): %v", l.User, l.Method, err)
			continue
		}
		c.Close(ctx)
		bad := l
		bad.Password += "x"
		bdsn, _ := loginDSN(r.DSN, bad)
		if c, err := pgx.Connect(ctx, bdsn); err == nil || !isAuthError(err) {
			if c != nil {
				c.Close(ctx)
			}
			t.Errorf("login %s with a wrong password: %v, want an authentication error", l.User, err)
		}
	}
	if len(want) > 0 {
		t.Errorf("methods not offered: %v", want)
	}
}

func TestStartGateway(t *testing.T) {
	r := startForTest(t, "gateway")
	if !strings.HasPrefix(r.Implementation, "PgBouncer 1.24") || !strings.Contains(r.Implementation, "PostgreSQL 17") {
		t.Errorf("implementation %q", r.Implementation)
	}
	if len(r.Logins) != 3 {
		t.Errorf("logins %v", methods(r.Logins))
	}
	// Transaction pooling with a reset after every transaction: a SET is
	// lost by the next statement, every time (not at random), while the
	// extended protocol's prepared statements keep working.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := pgx.Connect(ctx, r.DSN)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	for i := 0; i < 5; i++ {
		if _, err := c.Exec(ctx, "SET statement_timeout = '123ms'"); err != nil {
			t.Fatal(err)
		}
		var v string
		if err := c.QueryRow(ctx, "SELECT current_setting('statement_timeout') WHERE $1::int = 1", 1).Scan(&v); err != nil {
			t.Fatal(err)
		}
		if v != "0" {
			t.Errorf("statement_timeout = %q after the SET's transaction, want the default 0", v)
		}
	}
	if tail := r.Stack().LogTail(ctx, "pgbouncer", 50); strings.Contains(tail, "ERROR") || strings.Contains(tail, "WARNING") {
		t.Errorf("PgBouncer logged a problem:\n%s", tail)
	}
}

func TestStartPGlite(t *testing.T) {
	r := startForTest(t, "pglite")
	if !strings.Contains(r.Implementation, "PGlite 0.5.14") || !strings.Contains(r.Implementation, "pglite-socket 0.2.17") {
		t.Errorf("implementation %q", r.Implementation)
	}
}
