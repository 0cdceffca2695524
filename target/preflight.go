package target

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/moby/moby/client"

	"github.com/pgwire-conformance/pgwire-conformance/config"
	"github.com/pgwire-conformance/pgwire-conformance/containers"
)

// Preflight checks, in seconds and before any container starts, what Start
// would otherwise find out late: the Docker engine answers, the images are
// there or can be made, target-cpus names CPUs the engine has; an external
// target answers a query with the DSN's login, and every selected remote
// adapter's backend can be reached. Each problem is one line of the error.
func Preflight(ctx context.Context, cfg config.Config) error {
	if cfg.Provider == "external" {
		problems := externalBackends(cfg.Adapters, os.Getenv)
		if err := preflightExternal(ctx, cfg.DSN); err != nil {
			problems = append(problems, err)
		}
		return errors.Join(problems...)
	}
	name := cfg.TargetName()
	var problems []error
	if name == "divergent" && wrappers[name] == nil {
		problems = append(problems, errors.New("target divergent: no proxy is registered (target.RegisterWrapper); the suite must import package wiretap/divergent"))
	}
	cli, err := containers.Docker(ctx)
	if err != nil {
		return errors.Join(append(problems, err)...) // nothing else can be checked
	}
	defer cli.Close()
	info, err := cli.Info(ctx, client.InfoOptions{})
	if err != nil {
		return errors.Join(append(problems, fmt.Errorf("docker info: %s", config.OneLine(err.Error())))...)
	}
	if err := checkCPUs(cfg.TargetCPUs, info.Info.NCPU); err != nil {
		problems = append(problems, err)
	}
	var images []string
	needBase := false
	switch name {
	case "iris":
		// The iris-pgwire image is built by Start when not named.
		images = []string{cfg.IRISImage}
		if cfg.PGWireImage != "" {
			images = append(images, cfg.PGWireImage)
		} else {
			needBase = true
		}
	case "reference", "divergent", "gateway":
		if cfg.PostgresImage != "" {
			images = []string{cfg.PostgresImage}
		} else {
			needBase = true
		}
		needBase = needBase || name == "gateway" // PgBouncer's image
	case "pglite":
		needBase = true
	}
	if needBase {
		ok, _, err := containers.ImageExists(ctx, cli, cfg.BaseImage)
		switch {
		case err != nil:
			problems = append(problems, err)
		case !ok:
			problems = append(problems, fmt.Errorf("base image %s is missing, so the %s target's images cannot be built: run `make images` (scripts/build-base.sh) first", cfg.BaseImage, name))
		}
	}
	for _, im := range images {
		if err := containers.EnsurePresent(ctx, cli, im); err != nil {
			problems = append(problems, err)
		}
	}
	return errors.Join(problems...)
}

// checkCPUs fails when target-cpus names a CPU the engine does not have
// (docker would refuse the container only when it starts).
func checkCPUs(setting string, engineCPUs int) error {
	set := TargetCPUs(setting)
	if set == "" || engineCPUs <= 0 {
		return nil
	}
	var missing []int
	for c := range containers.ParseCPUSet(set) {
		if c >= engineCPUs {
			missing = append(missing, c)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	sort.Ints(missing)
	var names []string
	for _, c := range missing {
		names = append(names, fmt.Sprint(c))
	}
	return fmt.Errorf("target-cpus %q names CPU %s, but the Docker engine has CPUs 0-%d: set PGWC_TARGET_CPUS to auto, none or CPUs it has", setting, strings.Join(names, ","), engineCPUs-1)
}

// externalBackends: with an external target, the suite cannot start a
// remote adapter's backend next to it (it starts backends on the target's
// container network), so each such backend must be one the user runs and
// names with PGWC_BACKEND_<NAME>.
func externalBackends(adapters []string, getenv func(string) string) []error {
	var out []error
	seen := map[string]bool{}
	for _, a := range adapters {
		be, _, ok := strings.Cut(a, ":")
		if !ok || be == "" || seen[be] {
			continue
		}
		seen[be] = true
		env := "PGWC_BACKEND_" + strings.ToUpper(strings.ReplaceAll(be, "-", "_"))
		if getenv(env) == "" {
			out = append(out, fmt.Errorf("adapter %s needs backend %s, which the suite starts only next to a container target: run it yourself and set %s=tcp://host:port, or drop the adapter", a, be, env))
		}
	}
	return out
}

// preflightExternal tries one session with the external DSN and says in
// one line what stopped it: the server is unreachable, it refused the
// login (authentication failed), it offers no TLS the DSN demands, or it
// refused the session for another reason.
func preflightExternal(ctx context.Context, dsn string) error {
	where := hostPort(dsn)
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	clean := func(err error) string { return config.OneLine(config.RedactText(err.Error(), dsn)) }
	explicit, err := explicitSSLMode(ctx, dsn)
	if err != nil {
		return fmt.Errorf("external target %s is unreachable: %s", where, clean(err))
	}
	c, err := pgx.Connect(ctx, explicit)
	if err == nil {
		var v string
		err = c.QueryRow(ctx, "SELECT version()").Scan(&v)
		c.Close(context.WithoutCancel(ctx))
	}
	if err == nil {
		return nil
	}
	if pe, ok := authFailed(err); ok {
		user := ""
		if cfg, perr := pgx.ParseConfig(dsn); perr == nil {
			user = cfg.User
		}
		return fmt.Errorf("external target %s: authentication failed for user %q (%s): check the DSN's user and password", where, user, config.RedactText(pe.Message, dsn))
	}
	if pe, ok := pgError(err); ok {
		return fmt.Errorf("external target %s refused the session: %s (SQLSTATE %s)", where, config.RedactText(pe.Message, dsn), pe.Code)
	}
	if strings.Contains(err.Error(), "server refused TLS connection") {
		return fmt.Errorf("external target %s offers no TLS, but the DSN asks for it (sslmode): set sslmode=disable or enable TLS on the server", where)
	}
	return fmt.Errorf("external target %s is unreachable: %s", where, clean(err))
}
