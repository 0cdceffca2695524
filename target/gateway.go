package target

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgwire-conformance/pgwire-conformance/config"
	"github.com/pgwire-conformance/pgwire-conformance/containers"
)

// pgbouncerPort is where PgBouncer listens inside its container.
const pgbouncerPort = "6432"

// gatewayPlan is the reference PostgreSQL behind PgBouncer in transaction
// pooling mode, both on the stack's private network; clients reach only
// PgBouncer. PgBouncer checks the logins itself (an auth_file with the
// run's passwords, written inside its container at start) with the method
// of each login (auth_type hba) and logs in to PostgreSQL with the same
// password.
func gatewayPlan(ctx context.Context, cfg config.Config, cli containersClient, progress io.Writer) (targetPlan, error) {
	pg, err := postgresService(ctx, cfg, cli, progress)
	if err != nil {
		return targetPlan{}, err
	}
	image, err := imageOrBuild(ctx, cli, "", containers.PgBouncerBuild, cfg.BaseImage, progress)
	if err != nil {
		return targetPlan{}, err
	}
	main := Login{User: "conformance", Password: pg.Env["POSTGRES_PASSWORD"]}
	extra := extraLogins()
	bouncer := containers.Service{
		Alias:    "pgbouncer",
		Image:    image,
		CPUs:     TargetCPUs(cfg.TargetCPUs),
		Port:     pgbouncerPort + "/tcp",
		ReadyLog: "process up: PgBouncer",
		Env: map[string]string{
			"PGBOUNCER_SERVER_HOST": pg.Alias,
			"PGBOUNCER_SERVER_PORT": "5432",
			"PGBOUNCER_USERLIST":    bouncerUserlist(append([]Login{main}, extra...)),
			"PGBOUNCER_HBA":         bouncerHBA(extra),
			"PGBOUNCER_ADMIN_USERS": main.User,
		},
	}
	return targetPlan{
		services: []containers.Service{pg, bouncer},
		service:  "pgbouncer",
		main:     main,
		database: "conformance",
		after: func(ctx context.Context, r *Running) error {
			// Through PgBouncer: the roles exist on PostgreSQL with SCRAM
			// passwords; PgBouncer applies each login's method.
			if err := provision(ctx, r.DSN, setup{logins: extra}); err != nil {
				return fmt.Errorf("create the logins: %w", err)
			}
			all := append([]Login{r.Logins[0]}, extra...)
			if err := awaitProvisioned(ctx, r.DSN, all, nil, 30*time.Second); err != nil {
				return fmt.Errorf("logins: %w", err)
			}
			r.Logins = all
			impl, err := gatewayImplementation(ctx, r.DSN)
			if err != nil {
				return err
			}
			r.Implementation = impl
			return nil
		},
	}, nil
}

// bouncerUserlist is PgBouncer's auth_file: plain passwords, so that it
// can answer md5, password and SCRAM, and log in to the server.
func bouncerUserlist(logins []Login) string {
	var b strings.Builder
	for _, l := range logins {
		fmt.Fprintf(&b, "%q %q\n", l.User, l.Password)
	}
	return b.String()
}

// bouncerHBA is PgBouncer's auth_hba_file: each extra login with its
// method, everyone else SCRAM.
func bouncerHBA(extra []Login) string {
	var b strings.Builder
	for _, l := range extra {
		for _, addr := range []string{"0.0.0.0/0", "::/0"} {
			fmt.Fprintf(&b, "host all %s %s %s\n", l.User, addr, l.Method)
		}
	}
	b.WriteString("host all all 0.0.0.0/0 scram-sha-256\nhost all all ::/0 scram-sha-256\n")
	return b.String()
}

// gatewayImplementation names PgBouncer (SHOW VERSION on its admin console)
// and the PostgreSQL behind it.
func gatewayImplementation(ctx context.Context, dsn string) (string, error) {
	behind, err := postgresImplementation(ctx, dsn)
	if err != nil {
		return "", err
	}
	u, err := url.Parse(dsn)
	if err != nil {
		return "", err
	}
	u.Path = "/pgbouncer"
	cfg, err := pgx.ParseConfig(u.String())
	if err != nil {
		return "", err
	}
	// The admin console speaks only the simple query protocol.
	cfg.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	c, err := pgx.ConnectConfig(cctx, cfg)
	if err != nil {
		return "", fmt.Errorf("PgBouncer admin console: %s", config.RedactText(err.Error(), dsn))
	}
	defer c.Close(context.WithoutCancel(ctx))
	var v string
	if err := c.QueryRow(cctx, "SHOW VERSION").Scan(&v); err != nil {
		return "", fmt.Errorf("PgBouncer SHOW VERSION: %w", err)
	}
	return v + " (transaction pooling) → " + behind, nil
}
