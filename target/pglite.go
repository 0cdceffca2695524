package target

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/pgwire-conformance/pgwire-conformance/config"
	"github.com/pgwire-conformance/pgwire-conformance/containers"
)

// pgliteMaxConnections is pglite-socket's --max-connections. Every
// connection shares PGlite's one backend (a queue keeps a transaction's
// statements together), so this is how many clients may be connected, not
// how many run at once; the suite's parallel processes and observer
// connections need more than its default of 1.
const pgliteMaxConnections = 64

// pglitePlan is PGlite (PostgreSQL in WASM) behind pglite-socket, with
// pgvector. It accepts any user and password, offers no TLS and ignores
// CancelRequest; COPY FROM STDIN leaves it unable to accept connections.
func pglitePlan(ctx context.Context, cfg config.Config, cli containersClient, progress io.Writer) (targetPlan, error) {
	image, err := imageOrBuild(ctx, cli, "", containers.PGliteBuild, cfg.BaseImage, progress)
	if err != nil {
		return targetPlan{}, err
	}
	// PGlite checks no password; the suite still sends one, so drivers
	// that insist on a password have it.
	main := Login{User: "postgres", Password: randomPassword()}
	config.RegisterSecret(main.Password)
	svc := containers.Service{
		Alias:    "pglite",
		Image:    image,
		CPUs:     TargetCPUs(cfg.TargetCPUs),
		Port:     "5432/tcp",
		ReadyLog: "PGLiteSocketServer listening on",
		Env:      map[string]string{"PGLITE_MAX_CONNECTIONS": strconv.Itoa(pgliteMaxConnections)},
	}
	return targetPlan{
		services: []containers.Service{svc},
		service:  svc.Alias,
		main:     main,
		database: "postgres",
		after: func(ctx context.Context, r *Running) error {
			v := versionLines(r.stack.LogTail(ctx, svc.Alias, 200))
			r.Implementation = pgliteImplementation(v, r.ServerVersion)
			return nil
		},
	}, nil
}

// pgliteImplementation names pglite-socket, PGlite and the PostgreSQL it
// embeds, from the versions the image printed and version().
func pgliteImplementation(v map[string]string, serverVersion string) string {
	pg := serverVersion
	if f := strings.Fields(serverVersion); len(f) >= 2 && f[0] == "PostgreSQL" {
		pg = "PostgreSQL " + f[1]
	}
	s := fmt.Sprintf("pglite-socket %s → PGlite %s (%s, WASM in Node.js %s)",
		orUnknown(v["@electric-sql/pglite-socket"]), orUnknown(v["@electric-sql/pglite"]), pg, orUnknown(v["node"]))
	if pv := v["@electric-sql/pglite-pgvector"]; pv != "" {
		s += " + pglite-pgvector " + pv
	}
	return s
}

func orUnknown(s string) string {
	if s == "" {
		return "(version unknown)"
	}
	return s
}

// SharesOneSession reports whether the named target serves every client
// from one backend session, as PGlite behind pglite-socket does: prepared
// statements, settings and temporary tables of one client are every
// client's, and one client's transaction holds all the others.
func SharesOneSession(name string) bool { return name == "pglite" }

// SessionResetSQL returns the shared session to a fresh one's state:
// settings, prepared statements, portals, temporary tables, LISTENs and
// advisory locks. It cannot run inside a transaction block, so it also
// proves no earlier client left one open.
const SessionResetSQL = "DISCARD ALL"
