// Package target starts (or reaches) the server under test: the reference
// PostgreSQL 17 + pgvector container, IRIS behind iris-pgwire, or an
// external server named by a DSN.
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
}

// RedactedDSN is the DSN without its password.
func (t Target) RedactedDSN() string { return config.RedactDSN(t.DSN) }

// Running is a started target; Stop removes what Start created.
type Running struct {
	Target
	stack *containers.Stack
}

// Stop removes the target's containers and network (nothing for external).
func (r *Running) Stop(ctx context.Context) error {
	if r == nil || r.stack == nil {
		return nil
	}
	return r.stack.Terminate(ctx)
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
	for _, s := range r.services() {
		out[s] = r.stack.LogTail(ctx, s, n)
	}
	return out
}

func (r *Running) services() []string {
	if r.Profile == "iris" {
		return []string{"iris", "pgwire"}
	}
	return []string{"postgres"}
}

// Start reaches or starts the target cfg describes and waits until it
// answers a query. progress gets one line per step.
func Start(ctx context.Context, cfg config.Config, progress io.Writer) (*Running, error) {
	if cfg.Provider == "external" {
		t := Target{Provider: "external", Profile: cfg.Profile, DSN: cfg.DSN, Path: "external"}
		v, err := waitForSQL(ctx, cfg.DSN, 15*time.Second)
		if err != nil {
			return nil, fmt.Errorf("external target %s: %w", hostPort(cfg.DSN), err)
		}
		t.ServerVersion = v
		return &Running{Target: t}, nil
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

	services, login, err := Services(ctx, cfg, cli, progress)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	stack, err := containers.Start(ctx, cli, services, cfg.StartTimeout)
	if err != nil {
		return nil, fmt.Errorf("start %s target: %w", cfg.Profile, err)
	}
	r := &Running{stack: stack, Target: Target{Provider: "container", Profile: cfg.Profile, Containers: stack.ContainerNames(), CPUs: TargetCPUs(cfg.TargetCPUs)}}
	for _, s := range services {
		r.Images = append(r.Images, s.Image)
	}
	ep, err := stack.Endpoint(ctx, login.service)
	if err != nil {
		stack.Terminate(context.WithoutCancel(ctx))
		return nil, err
	}
	r.Path = ep.Path
	r.DSN = (&url.URL{
		Scheme:   "postgres",
		User:     url.UserPassword(login.user, login.password),
		Host:     net.JoinHostPort(ep.Host, ep.Port),
		Path:     "/" + login.database,
		RawQuery: url.Values{"sslmode": {"disable"}}.Encode(),
	}).String()
	v, err := waitForSQL(ctx, r.DSN, cfg.StartTimeout-time.Since(start))
	if err != nil {
		tail := stack.LogTail(ctx, login.service, 15)
		stack.Terminate(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("%s target never answered a query: %w\n--- last log lines ---\n%s", cfg.Profile, err, tail)
	}
	r.ServerVersion = v
	fmt.Fprintf(progress, "%s target ready in %s via %s (%s)\n", cfg.Profile, time.Since(start).Round(time.Millisecond), r.Path, r.RedactedDSN())
	return r, nil
}

// login is who the suite connects as, and to which service.
type login struct {
	service, user, password, database string
}

// Services returns the containers of cfg's profile, building local images
// that are missing.
func Services(ctx context.Context, cfg config.Config, cli containersClient, progress io.Writer) ([]containers.Service, login, error) {
	switch cfg.Profile {
	case "postgres":
		image, err := imageOrBuild(ctx, cli, cfg.PostgresImage, containers.PostgresBuild, cfg.BaseImage, progress)
		if err != nil {
			return nil, login{}, err
		}
		l := login{service: "postgres", user: "conformance", password: randomPassword(), database: "conformance"}
		return []containers.Service{{
			Alias: "postgres",
			Image: image,
			CPUs:  TargetCPUs(cfg.TargetCPUs),
			Port:  "5432/tcp",
			Env: map[string]string{
				"POSTGRES_USER":     l.user,
				"POSTGRES_PASSWORD": l.password,
				"POSTGRES_DB":       l.database,
			},
		}}, l, nil
	case "iris":
		// IRIS (embedded Python off) plus iris-pgwire in its own container,
		// talking to IRIS over the superserver port on the stack's network.
		l := login{service: "pgwire", user: "_SYSTEM", password: "SYS", database: "USER"}
		if err := containers.EnsurePresent(ctx, cli, cfg.IRISImage); err != nil {
			return nil, login{}, err
		}
		pgwireImage, err := imageOrBuild(ctx, cli, cfg.PGWireImage, containers.PGWireBuild, cfg.BaseImage, progress)
		if err != nil {
			return nil, login{}, err
		}
		return []containers.Service{
			{
				Alias:    "iris",
				Image:    cfg.IRISImage,
				CPUs:     TargetCPUs(cfg.TargetCPUs),
				Port:     "1972/tcp",
				ReadyLog: "Enabling logons",
				Env: map[string]string{
					"ISC_DEFAULT_PASSWORD": l.password,
					"IRISNAMESPACE":        l.database,
				},
			},
			{
				Alias:    "pgwire",
				Image:    pgwireImage,
				CPUs:     TargetCPUs(cfg.TargetCPUs),
				Port:     "5432/tcp",
				ReadyLog: "PGWire server started",
				Env: map[string]string{
					"IRIS_HOST":      "iris",
					"IRIS_PORT":      "1972",
					"IRIS_USERNAME":  l.user,
					"IRIS_PASSWORD":  l.password,
					"IRIS_NAMESPACE": l.database,
					"PGWIRE_HOST":    "0.0.0.0",
					"PGWIRE_PORT":    "5432",
				},
			},
		}, l, nil
	}
	return nil, login{}, fmt.Errorf("unknown profile %q", cfg.Profile)
}

// imageOrBuild returns the image the user named, or else the local build's
// content-addressed tag, building it when missing.
func imageOrBuild(ctx context.Context, cli containersClient, named string, b containers.Build, base string, progress io.Writer) (string, error) {
	if named != "" {
		return named, nil
	}
	tag, built, err := b.Ensure(ctx, cli, base)
	if err != nil {
		return "", err
	}
	if built {
		fmt.Fprintf(progress, "built image %s\n", tag)
	}
	return tag, nil
}

// waitForSQL polls until the server answers SELECT version(), or the
// deadline passes; an authentication error ends it at once.
func waitForSQL(ctx context.Context, dsn string, within time.Duration) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, within)
	defer cancel()
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
		case <-time.After(250 * time.Millisecond):
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

// Preflight checks, in seconds, what Start would otherwise find out late:
// the Docker engine answers and the images are there or can be made; an
// external target answers a query. Its error is one line meant for the user.
func Preflight(ctx context.Context, cfg config.Config) error {
	if cfg.Provider == "external" {
		_, err := waitForSQL(ctx, cfg.DSN, 15*time.Second)
		if err != nil {
			return fmt.Errorf("external target %s is unreachable: %s", hostPort(cfg.DSN), config.OneLine(err.Error()))
		}
		return nil
	}
	cli, err := containers.Docker(ctx)
	if err != nil {
		return err
	}
	defer cli.Close()
	var images []string
	switch {
	case cfg.Profile == "iris":
		// The iris-pgwire image is built by Start when not named.
		images = []string{cfg.IRISImage}
		if cfg.PGWireImage != "" {
			images = append(images, cfg.PGWireImage)
		}
	case cfg.PostgresImage != "":
		images = []string{cfg.PostgresImage}
	default:
		ok, _, err := containers.ImageExists(ctx, cli, cfg.BaseImage)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("base image %s is missing, so the PostgreSQL image cannot be built: run `make images` (scripts/build-base.sh) first", cfg.BaseImage)
		}
	}
	for _, im := range images {
		if err := containers.EnsurePresent(ctx, cli, im); err != nil {
			return err
		}
	}
	return nil
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
