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
	"github.com/pgwire-conformance/pgwire-conformance/config"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
)

// Labels every container and network of the suite carries.
const (
	LabelSuite = "io.pgwire-conformance.suite"
	LabelOwner = "io.pgwire-conformance.owner" // host:pid of the process that must remove it
)

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

// Docker connects to the engine the way testcontainers does (DOCKER_HOST,
// ~/.testcontainers.properties) and checks it answers within 10 s.
func Docker(ctx context.Context) (*testcontainers.DockerClient, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
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
		return r.c, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("%w within 10 s: run scripts/setup-docker.sh or start Docker", ErrNoDocker)
	}
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
// run left), and, inside a container talking to the local engine, mapped
// ports looked up on localhost rather than the container's gateway.
func DefaultEnv() {
	if os.Getenv("TESTCONTAINERS_RYUK_DISABLED") == "" {
		os.Setenv("TESTCONTAINERS_RYUK_DISABLED", "true")
	}
	if os.Getenv("TESTCONTAINERS_HOST_OVERRIDE") == "" && os.Getenv("DOCKER_HOST") == "" {
		if _, err := os.Stat("/.dockerenv"); err == nil {
			os.Setenv("TESTCONTAINERS_HOST_OVERRIDE", "localhost")
		}
	}
}
