// Package target starts (or reaches) the server under test: the reference
// PostgreSQL 17 + pgvector container, the same behind PgBouncer (gateway),
// PGlite behind pglite-socket, IRIS behind iris-pgwire, or an external
// server named by a DSN.
package target

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgwire-conformance/pgwire-conformance/config"
	"github.com/pgwire-conformance/pgwire-conformance/containers"
)

// Target is what every spec process needs to know about the server. It is
// passed from Ginkgo process 1 to the others as JSON; it holds the password,
// so print only Redacted().
type Target struct {
	Provider      string   `json:"provider"`
	Profile       string   `json:"profile"`
	DSN           string   `json:"dsn"`
	Path          string   `json:"path"` // how the host reaches it: container-ip, published-port, external
	ServerVersion string   `json:"server_version"`
	Images        []string `json:"images,omitempty"`
	Containers    []string `json:"containers,omitempty"`
	// CPUs is the cpuset the target's containers are pinned to ("" = none).
	CPUs string `json:"cpus,omitempty"`
	// Name is the target (config.TargetName): reference, gateway, pglite,
	// divergent, iris or external.
	Name string `json:"name,omitempty"`
	// Implementation names the wire server and what stands behind it, for
	// reports (e.g. "PgBouncer 1.24.1 → PostgreSQL 17.12").
	Implementation string `json:"implementation,omitempty"`
	// CACert is the PEM of the CA the target's TLS certificate chains to,
	// made at start ("" when the target offers no TLS).
	CACert string `json:"ca_cert,omitempty"`
	// TapCA is the CA the wire taps' TLS certificates chain to (PEM; made
	// by process 1 for the run). The key never leaves the suite's own
	// processes.
	TapCACert string `json:"tap_ca_cert,omitempty"`
	TapCAKey  string `json:"tap_ca_key,omitempty"`
	// TapHost is the address wire taps listen on: one this host and the
	// backend containers on the target's network both reach ("" = loopback).
	TapHost string `json:"tap_host,omitempty"`
	// Logins are extra logins, one per authentication method the target
	// offers (the wire specs try each); passwords are secrets.
	Logins []Login `json:"logins,omitempty"`
}

// Login is a user the target authenticates with one method.
type Login struct {
	User     string `json:"user"`
	Password string `json:"password"`
	// Method is pg_hba's name for it: scram-sha-256, md5, password, trust.
	Method string `json:"method"`
}

// RedactedDSN is the DSN without its password.
func (t Target) RedactedDSN() string { return config.RedactDSN(t.DSN) }

// Running is a started target; Stop removes what Start created.
type Running struct {
	Target
	stack *containers.Stack
	// services are the target's own containers (not backends), for logs.
	services []string
	// unwrap stops what a Wrapper added (the divergent proxy).
	unwrap func(context.Context) error
}

// Stop removes the target's containers and network (nothing for external),
// after stopping a wrapper's proxy.
func (r *Running) Stop(ctx context.Context) error {
	if r == nil {
		return nil
	}
	var errs []error
	if r.unwrap != nil {
		errs = append(errs, r.unwrap(ctx))
		r.unwrap = nil
	}
	if r.stack != nil {
		errs = append(errs, r.stack.Terminate(ctx))
	}
	return errors.Join(errs...)
}

// Stack is the target's container stack (nil for an external target), so
// driver backends can start next to it on its network and go with it.
func (r *Running) Stack() *containers.Stack {
	if r == nil {
		return nil
	}
	return r.stack
}

// LogTail returns the last lines of every container's log, for harness errors.
func (r *Running) LogTail(ctx context.Context, n int) map[string]string {
	out := map[string]string{}
	if r == nil || r.stack == nil {
		return out
	}
	for _, s := range r.services {
		out[s] = r.stack.LogTail(ctx, s, n)
	}
	return out
}

// Wrapper turns a started target into the one named: it runs once the
// inner target answers queries and may change the DSN, Path and
// Implementation (the divergent target: the reference behind the proxy of
// package wiretap/divergent, which registers itself). stop, if not nil,
// runs first on Stop.
type Wrapper func(ctx context.Context, r *Running) (stop func(context.Context) error, err error)

var wrappers = map[string]Wrapper{}

// RegisterWrapper installs the Wrapper of target name; call it from an
// init function, before Start.
func RegisterWrapper(name string, w Wrapper) { wrappers[name] = w }

// Start reaches or starts the target cfg describes and waits until it
// answers a query (and offers the TLS and logins it should). progress gets
// one line per step, with its time.
func Start(ctx context.Context, cfg config.Config, progress io.Writer) (*Running, error) {
	name := cfg.TargetName()
	if cfg.Provider == "external" {
		return startExternal(ctx, cfg, name)
	}
	if name == "divergent" && wrappers[name] == nil {
		// Fail before any container starts.
		return nil, errors.New("target divergent: no proxy is registered (target.RegisterWrapper); the suite must import package wiretap/divergent")
	}

	cli, err := containers.Docker(ctx)
	if err != nil {
		return nil, err
	}
	if n, err := containers.Sweep(ctx, cli); err != nil {
		return nil, err
	} else if n > 0 {
		fmt.Fprintf(progress, "swept %d container(s)/network(s) left by an earlier run\n", n)
	}

	begin := time.Now()
	p, err := plan(ctx, cfg, cli, progress)
	if err != nil {
		return nil, err
	}
	imagesDone := time.Now()
	stack, err := containers.Start(ctx, cli, p.services, cfg.StartTimeout)
	if err != nil {
		return nil, fmt.Errorf("start %s target: %w", name, err)
	}
	r := &Running{stack: stack, Target: Target{Provider: "container", Profile: cfg.Profile, Name: name, Containers: stack.ContainerNames(), CPUs: TargetCPUs(cfg.TargetCPUs)}}
	for _, s := range p.services {
		r.Images = append(r.Images, s.Image)
		r.services = append(r.services, s.Alias)
	}
	fail := func(err error) (*Running, error) {
		tails := ""
		for _, s := range r.services {
			if t := stack.LogTail(context.WithoutCancel(ctx), s, 15); t != "" {
				tails += fmt.Sprintf("\n--- last log lines of %s ---\n%s", s, t)
			}
		}
		stack.Terminate(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("%s target: %w%s", name, err, tails)
	}
	ep, err := stack.Endpoint(ctx, p.service)
	if err != nil {
		return fail(err)
	}
	r.Path = ep.Path
	r.DSN = (&url.URL{
		Scheme:   "postgres",
		User:     url.UserPassword(p.main.User, p.main.Password),
		Host:     net.JoinHostPort(ep.Host, ep.Port),
		Path:     "/" + p.database,
		RawQuery: url.Values{"sslmode": {"disable"}}.Encode(),
	}).String()
	config.RegisterDSN(r.DSN)
	v, err := waitForSQL(ctx, r.DSN, cfg.StartTimeout-time.Since(imagesDone))
	if err != nil {
		return fail(fmt.Errorf("never answered a query: %w", err))
	}
	r.ServerVersion = v
	answered := time.Now()
	// The main login's method is what the server asks for, not assumed.
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	p.main.Method, err = authMethod(cctx, net.JoinHostPort(ep.Host, ep.Port), p.main.User, p.database)
	cancel()
	if err != nil {
		return fail(fmt.Errorf("main login: %w", err))
	}
	r.Logins = []Login{p.main}
	if p.after != nil {
		if err := p.after(ctx, r); err != nil {
			return fail(err)
		}
	}
	if w := wrappers[name]; w != nil {
		stop, err := w(ctx, r)
		if err != nil {
			return fail(fmt.Errorf("wrap: %w", err))
		}
		r.unwrap = stop
	}
	fmt.Fprintf(progress, "%s target ready in %s (images %s, start %s, set-up %s) via %s (%s): %s\n", name,
		time.Since(begin).Round(time.Millisecond), imagesDone.Sub(begin).Round(time.Millisecond),
		answered.Sub(imagesDone).Round(time.Millisecond), time.Since(answered).Round(time.Millisecond),
		r.Path, r.RedactedDSN(), r.Implementation)
	return r, nil
}

// startExternal reaches a server the user runs. A DSN without sslmode gets
// one made explicit from what the server offers (see explicitSSLMode).
func startExternal(ctx context.Context, cfg config.Config, name string) (*Running, error) {
	t := Target{Provider: "external", Profile: cfg.Profile, Name: name, DSN: cfg.DSN, Path: "external"}
	config.RegisterDSN(cfg.DSN)
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	dsn, err := explicitSSLMode(pctx, cfg.DSN)
	cancel()
	if err != nil {
		return nil, fmt.Errorf("external target %s: ask whether it offers TLS: %s", hostPort(cfg.DSN), config.OneLine(config.RedactText(err.Error(), cfg.DSN)))
	}
	t.DSN = dsn
	v, err := waitForSQL(ctx, t.DSN, 15*time.Second)
	if err != nil {
		return nil, fmt.Errorf("external target %s: %w", hostPort(cfg.DSN), err)
	}
	t.ServerVersion = v
	t.Implementation = v
	return &Running{Target: t}, nil
}

// targetPlan is how one target is started: its containers, the one clients
// connect to, the main login, and what to do once it answers.
type targetPlan struct {
	services []containers.Service
	service  string
	main     Login
	database string
	after    func(ctx context.Context, r *Running) error
}

// plan returns the containers of cfg's target, building local images that
// are missing.
func plan(ctx context.Context, cfg config.Config, cli containersClient, progress io.Writer) (targetPlan, error) {
	cpus := TargetCPUs(cfg.TargetCPUs)
	switch name := cfg.TargetName(); name {
	case "reference", "divergent":
		// divergent: the reference, wrapped once it answers (see Wrapper).
		pg, err := postgresService(ctx, cfg, cli, progress)
		if err != nil {
			return targetPlan{}, err
		}
		main := Login{User: "conformance", Password: pg.Env["POSTGRES_PASSWORD"]}
		return targetPlan{services: []containers.Service{pg}, service: "postgres", main: main, database: "conformance",
			after: func(ctx context.Context, r *Running) error { return setUpReference(ctx, r, "postgres") }}, nil
	case "gateway":
		return gatewayPlan(ctx, cfg, cli, progress)
	case "pglite":
		return pglitePlan(ctx, cfg, cli, progress)
	case "iris":
		// IRIS (embedded Python off) plus iris-pgwire in its own container,
		// talking to IRIS over the superserver port on the stack's network.
		main := Login{User: "_SYSTEM", Password: "SYS"}
		db := "USER"
		if err := containers.EnsurePresent(ctx, cli, cfg.IRISImage); err != nil {
			return targetPlan{}, err
		}
		pgwireImage, err := imageOrBuild(ctx, cli, cfg.PGWireImage, containers.PGWireBuild, cfg.BaseImage, progress)
		if err != nil {
			return targetPlan{}, err
		}
		return targetPlan{services: []containers.Service{
			{
				Alias:    "iris",
				Image:    cfg.IRISImage,
				CPUs:     cpus,
				Port:     "1972/tcp",
				ReadyLog: "Enabling logons",
				Env: map[string]string{
					"ISC_DEFAULT_PASSWORD": main.Password,
					"IRISNAMESPACE":        db,
				},
			},
			{
				Alias:    "pgwire",
				Image:    pgwireImage,
				CPUs:     cpus,
				Port:     "5432/tcp",
				ReadyLog: "PGWire server started",
				Env: map[string]string{
					"IRIS_HOST":      "iris",
					"IRIS_PORT":      "1972",
					"IRIS_USERNAME":  main.User,
					"IRIS_PASSWORD":  main.Password,
					"IRIS_NAMESPACE": db,
					"PGWIRE_HOST":    "0.0.0.0",
					"PGWIRE_PORT":    "5432",
				},
			},
		}, service: "pgwire", main: main, database: db,
			after: func(ctx context.Context, r *Running) error {
				r.Implementation = "iris-pgwire → " + r.ServerVersion
				return nil
			}}, nil
	default:
		return targetPlan{}, fmt.Errorf("unknown target %q", name)
	}
}

// postgresService is the reference PostgreSQL container, with a password
// made (and registered as a secret) for this run.
func postgresService(ctx context.Context, cfg config.Config, cli containersClient, progress io.Writer) (containers.Service, error) {
	image, err := imageOrBuild(ctx, cli, cfg.PostgresImage, containers.PostgresBuild, cfg.BaseImage, progress)
	if err != nil {
		return containers.Service{}, err
	}
	pw := randomPassword()
	config.RegisterSecret(pw)
	return containers.Service{
		Alias: "postgres",
		Image: image,
		CPUs:  TargetCPUs(cfg.TargetCPUs),
		Port:  "5432/tcp",
		Env: map[string]string{
			"POSTGRES_USER":     "conformance",
			"POSTGRES_PASSWORD": pw,
			"POSTGRES_DB":       "conformance",
		},
	}, nil
}

// setUpReference gives the reference PostgreSQL its TLS certificate (for
// the address the suite reaches it at, the container's address, its alias
// and localhost) and its extra logins, and checks both are in force.
func setUpReference(ctx context.Context, r *Running, alias string) error {
	u, err := url.Parse(r.DSN)
	if err != nil {
		return err
	}
	ips := []net.IP{net.IPv4(127, 0, 0, 1)}
	if ip, err := r.stack.ContainerIP(ctx, alias); err == nil {
		ips = append(ips, net.ParseIP(ip))
	}
	if ip := net.ParseIP(u.Hostname()); ip != nil && !ip.IsLoopback() {
		ips = append(ips, ip)
	}
	tls, err := makeServerTLS([]string{alias, "localhost"}, ips, time.Now())
	if err != nil {
		return err
	}
	logins := extraLogins()
	writeTLS := func(ctx context.Context, certPath, keyPath string) error {
		// As the server's user, umask 077: the key ends up 0600, its own.
		_, err := r.stack.Exec(ctx, alias, "postgres",
			[]string{"PGWC_TLS_CERT=" + string(tls.CertPEM), "PGWC_TLS_KEY=" + string(tls.KeyPEM)},
			[]string{"sh", "-c", `umask 077 && printf '%s' "$PGWC_TLS_CERT" >"$1" && printf '%s' "$PGWC_TLS_KEY" >"$2"`, "sh", certPath, keyPath})
		return err
	}
	if err := provision(ctx, r.DSN, setup{logins: logins, hba: true, tls: &tls, writeTLS: writeTLS}); err != nil {
		return fmt.Errorf("set up TLS and logins: %w", err)
	}
	all := append([]Login{r.Logins[0]}, logins...)
	if err := awaitProvisioned(ctx, r.DSN, all, tls.CAPEM, 30*time.Second); err != nil {
		return fmt.Errorf("TLS and logins: %w", err)
	}
	r.Logins = all
	r.CACert = string(tls.CAPEM)
	impl, err := postgresImplementation(ctx, r.DSN)
	if err != nil {
		return err
	}
	r.Implementation = impl
	return nil
}

// postgresImplementation names a PostgreSQL server and its pgvector, as the
// server reports them.
func postgresImplementation(ctx context.Context, dsn string) (string, error) {
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return "", err
	}
	defer c.Close(context.WithoutCancel(ctx))
	var v, vec string
	err = c.QueryRow(ctx, "SELECT current_setting('server_version'), coalesce((SELECT default_version FROM pg_available_extensions WHERE name = 'vector'), '')").Scan(&v, &vec)
	if err != nil {
		return "", fmt.Errorf("server version: %w", err)
	}
	impl := "PostgreSQL " + v
	if vec != "" {
		impl += " + pgvector " + vec
	}
	return impl, nil
}

// imageOrBuild returns the image the user named, or else the local build's
// content-addressed tag, building it when missing.
func imageOrBuild(ctx context.Context, cli containersClient, named string, b containers.Build, base string, progress io.Writer) (string, error) {
	if named != "" {
		return named, nil
	}
	start := time.Now()
	tag, built, err := b.Ensure(ctx, cli, base)
	if err != nil {
		return "", err
	}
	if built {
		fmt.Fprintf(progress, "built image %s in %s\n", tag, time.Since(start).Round(time.Millisecond))
	}
	return tag, nil
}

// waitForSQL polls until the server answers SELECT version(), or the
// deadline passes; an authentication error ends it at once.
func waitForSQL(ctx context.Context, dsn string, within time.Duration) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, within)
	defer cancel()
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	var last error
	for {
		v, err := serverVersion(ctx, dsn)
		if err == nil {
			return v, nil
		}
		last = err
		if isAuthError(err) {
			return "", errors.New(config.RedactText(err.Error(), dsn))
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("no answer within %s: %s", within.Round(time.Second), config.RedactText(last.Error(), dsn))
		case <-tick.C:
		}
	}
}

func serverVersion(ctx context.Context, dsn string) (string, error) {
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	c, err := pgx.Connect(cctx, dsn)
	if err != nil {
		return "", err
	}
	defer c.Close(context.WithoutCancel(ctx))
	var v string
	err = c.QueryRow(cctx, "SELECT version()").Scan(&v)
	return v, err
}

func randomPassword() string {
	b := make([]byte, 12)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func hostPort(dsn string) string {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return config.RedactDSN(dsn)
	}
	return net.JoinHostPort(cfg.Host, fmt.Sprint(cfg.Port))
}

// TargetCPUs resolves the target-cpus setting to a docker cpuset ("" for
// none). Pinning the server away from the client's CPU removes a ±10% bias
// a single connection otherwise carries (whether its server backend shares
// the client's core), which would swamp FR-013's 10% threshold.
func TargetCPUs(setting string) string {
	switch setting {
	case "none", "":
		return ""
	case "auto":
		if n := runtime.NumCPU(); n >= 2 {
			return strconv.Itoa(n - 1)
		}
		return ""
	}
	return setting
}

// RunSetup runs a profile's setup statements once, before any spec.
func RunSetup(ctx context.Context, dsn string, stmts []string) error {
	if len(stmts) == 0 {
		return nil
	}
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return fmt.Errorf("setup: connect to %s: %s", config.RedactDSN(dsn), config.RedactText(err.Error(), dsn))
	}
	defer c.Close(context.WithoutCancel(ctx))
	for _, s := range stmts {
		if _, err := c.Exec(ctx, s); err != nil {
			return fmt.Errorf("setup: %s: %w", s, err)
		}
	}
	return nil
}

// versionLines reads "pgwc-version NAME VERSION" lines an image prints at
// start (the PGlite image) into NAME → VERSION.
func versionLines(log string) map[string]string {
	out := map[string]string{}
	for _, l := range strings.Split(log, "\n") {
		f := strings.Fields(l)
		if len(f) == 3 && f[0] == "pgwc-version" {
			out[f[1]] = f[2]
		}
	}
	return out
}
