// Package containers builds the suite's images locally and runs targets
// (and, later, driver backends) as labelled containers on a private network.
// It never leaves anything behind: every container and network carries an
// owner label, is removed on every exit path, and a later run sweeps what a
// killed run could not.
package containers

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"

	"github.com/pgwire-conformance/pgwire-conformance/config"
)

// Labels every container and network of the suite carries.
const (
	LabelSuite = "io.pgwire-conformance.suite"
	LabelOwner = "io.pgwire-conformance.owner" // host:pid of the process that must remove it
	// LabelStack names the stack a container or network belongs to, so a
	// stack removes by label what it created even when it never learnt the
	// ID (a create request interrupted before its answer arrived).
	LabelStack = "io.pgwire-conformance.stack"
)

// engineAnswerTimeout bounds the first contact with the engine: a named
// engine that does not answer fails the run in seconds, not at the start
// timeout.
const engineAnswerTimeout = 5 * time.Second

// ErrNoDocker means no Docker engine answered.
var ErrNoDocker = errors.New("no Docker engine answers")

// Owner is this process's owner label value.
func Owner() string {
	host, _ := os.Hostname()
	return host + ":" + strconv.Itoa(os.Getpid())
}

// Labels returns the labels for a new container or network of this process.
func Labels() map[string]string {
	return map[string]string{LabelSuite: "true", LabelOwner: Owner()}
}

// Docker connects to the engine and checks it answers within seconds.
// DOCKER_HOST, when set, names the one engine to use: it must answer, and
// there is no fallback to another engine (testcontainers alone would try
// the local socket next, so a mistyped DOCKER_HOST silently ran against
// whatever engine happened to be local). Unset, testcontainers' discovery
// applies (~/.testcontainers.properties, the docker context, the socket).
func Docker(ctx context.Context) (*testcontainers.DockerClient, error) {
	named := os.Getenv("DOCKER_HOST")
	if named != "" {
		if err := pingEngine(ctx, named); err != nil {
			return nil, err
		}
	}
	ctx, cancel := context.WithTimeout(ctx, 2*engineAnswerTimeout)
	defer cancel()
	type result struct {
		c   *testcontainers.DockerClient
		err error
	}
	ch := make(chan result, 1)
	// The client's constructor may block on a dead socket; keep our deadline.
	go func() {
		c, err := testcontainers.NewDockerClientWithOpts(ctx)
		ch <- result{c, err}
	}()
	select {
	case r := <-ch:
		if r.err != nil {
			return nil, fmt.Errorf("%w (%s): run scripts/setup-docker.sh or start Docker", ErrNoDocker, config.OneLine(r.err.Error()))
		}
		if named != "" && r.c.DaemonHost() != named {
			h := r.c.DaemonHost()
			r.c.Close()
			return nil, fmt.Errorf("DOCKER_HOST names %s but testcontainers chose %s (tc.host in ~/.testcontainers.properties?): remove one of them", named, h)
		}
		return r.c, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("%w within %s: run scripts/setup-docker.sh or start Docker", ErrNoDocker, 2*engineAnswerTimeout)
	}
}

// pingEngine checks that the engine host names answers, within
// engineAnswerTimeout, with the DOCKER_* settings (TLS) of the environment.
func pingEngine(ctx context.Context, host string) error {
	ctx, cancel := context.WithTimeout(ctx, engineAnswerTimeout)
	defer cancel()
	cli, err := client.New(client.FromEnv, client.WithHost(host))
	if err != nil {
		return fmt.Errorf("%w: DOCKER_HOST=%s is not an engine address: %s", ErrNoDocker, host, config.OneLine(err.Error()))
	}
	defer cli.Close()
	if _, err := cli.Ping(ctx, client.PingOptions{}); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("%w: the engine DOCKER_HOST=%s names gave no answer within %s", ErrNoDocker, host, engineAnswerTimeout)
		}
		return fmt.Errorf("%w: the engine DOCKER_HOST=%s names: %s", ErrNoDocker, host, config.OneLine(err.Error()))
	}
	return nil
}

// LocalEngine reports whether the engine at host (a DOCKER_HOST value; ""
// for the default socket) runs on this machine: a unix socket or named
// pipe, or TCP to a loopback address. Ports of a local engine's containers
// are published on 127.0.0.1 only; a remote engine's must be published on
// its own interfaces, or this machine could not reach them.
func LocalEngine(host string) bool {
	if host == "" {
		return true
	}
	u, err := url.Parse(host)
	if err != nil {
		return false
	}
	switch u.Scheme {
	case "unix", "npipe":
		return true
	case "tcp", "http", "https":
		h := u.Hostname()
		if h == "localhost" {
			return true
		}
		ip := net.ParseIP(h)
		return ip != nil && ip.IsLoopback()
	}
	return false
}

// Sweep removes the suite's containers and networks whose owner process on
// this host is gone (a run killed with SIGKILL, a crashed CI job). Those of
// live runs, and of other hosts sharing the engine, are left alone.
func Sweep(ctx context.Context, cli *testcontainers.DockerClient) (removed int, err error) {
	f := client.Filters{}.Add("label", LabelSuite+"=true")
	cs, err := cli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f})
	if err != nil {
		return 0, fmt.Errorf("sweep: list containers: %w", err)
	}
	for _, c := range cs.Items {
		if ownerAlive(c.Labels[LabelOwner]) {
			continue
		}
		if _, err := cli.ContainerRemove(ctx, c.ID, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true}); err != nil {
			return removed, fmt.Errorf("sweep: remove container %s: %w", c.ID[:12], err)
		}
		removed++
	}
	ns, err := cli.NetworkList(ctx, client.NetworkListOptions{Filters: f})
	if err != nil {
		return removed, fmt.Errorf("sweep: list networks: %w", err)
	}
	for _, n := range ns.Items {
		if ownerAlive(n.Labels[LabelOwner]) {
			continue
		}
		if _, err := cli.NetworkRemove(ctx, n.ID, client.NetworkRemoveOptions{}); err != nil {
			return removed, fmt.Errorf("sweep: remove network %s: %w", n.Name, err)
		}
		removed++
	}
	return removed, nil
}

// ownerAlive reports whether host:pid names a live process of this host.
// Another host's owner counts as alive: we cannot tell, so we do not touch.
func ownerAlive(owner string) bool {
	host, pidStr, ok := strings.Cut(owner, ":")
	me, _ := os.Hostname()
	if !ok {
		return false // no owner: nobody will remove it but a sweep
	}
	if host != me {
		return true
	}
	pid, err := strconv.Atoi(pidStr)
	if err != nil || pid <= 0 {
		return false
	}
	if pid == os.Getpid() {
		return true
	}
	err = syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// DefaultEnv sets the testcontainers settings this suite relies on, unless
// the user set them: Ryuk off (its image cannot be pulled on offline
// machines, and the suite removes what it starts and sweeps what a killed
// run left), and, for a local engine (the default socket or a DOCKER_HOST
// naming one), published ports looked up on 127.0.0.1, where the suite
// publishes them. Without that, testcontainers inside a container
// (/.dockerenv) looks them up on the default route's gateway, which need
// not be the engine at all: every start then waited for the whole start
// timeout and failed with an i/o timeout on that address.
func DefaultEnv() {
	if os.Getenv("TESTCONTAINERS_RYUK_DISABLED") == "" {
		os.Setenv("TESTCONTAINERS_RYUK_DISABLED", "true")
	}
	if os.Getenv("TESTCONTAINERS_HOST_OVERRIDE") == "" && LocalEngine(os.Getenv("DOCKER_HOST")) {
		os.Setenv("TESTCONTAINERS_HOST_OVERRIDE", "127.0.0.1")
	}
}
