package containers

import (
	"context"
	"errors"
	"fmt"
	"github.com/pgwire-conformance/pgwire-conformance/config"
	"io"
	"net"
	"strings"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/network"
	"github.com/testcontainers/testcontainers-go/wait"
)

// Service is one container of a stack: a target (PostgreSQL; IRIS and
// iris-pgwire) or, later, a driver backend.
type Service struct {
	Alias string // name on the stack's network, e.g. "postgres", "iris"
	Image string
	Env   map[string]string
	Port  string // the port clients use, e.g. "5432/tcp"
	Cmd   []string
	// CPUs, when set, pins the container to these CPUs (docker --cpuset-cpus).
	CPUs string
	// ReadyLog, when set, is a log line the service prints once ready; the
	// port must accept connections as well.
	ReadyLog string
	// ExtraPorts are published too, for services the container starts
	// later (a backend's web app), e.g. "8100/tcp"; see PublishedPort.
	ExtraPorts []string
}

// Stack is a set of services on one private network, started in order.
type Stack struct {
	cli      *testcontainers.DockerClient
	net      *testcontainers.DockerNetwork
	services []Service
	running  map[string]*testcontainers.DockerContainer
}

// Start brings up services in order on a new labelled network. Each must be
// ready within timeout. On any error, what was started is removed again and
// the error carries the failing service's log tail.
func Start(ctx context.Context, cli *testcontainers.DockerClient, services []Service, timeout time.Duration) (*Stack, error) {
	s := &Stack{cli: cli, services: services, running: map[string]*testcontainers.DockerContainer{}}
	for _, svc := range services {
		if err := EnsurePresent(ctx, cli, svc.Image); err != nil {
			return nil, err
		}
	}
	nw, err := network.New(ctx, network.WithLabels(Labels()))
	if err != nil {
		return nil, fmt.Errorf("create network: %w", err)
	}
	s.net = nw
	for _, svc := range services {
		if err := s.start(ctx, svc, timeout); err != nil {
			tail := s.LogTail(ctx, svc.Alias, 15)
			s.Terminate(context.WithoutCancel(ctx))
			if tail != "" {
				return nil, fmt.Errorf("%w\n--- last log lines of %s ---\n%s", err, svc.Alias, tail)
			}
			return nil, err
		}
	}
	return s, nil
}

// EnsurePresent fails fast, with advice, when an image is neither local nor
// pullable (machines without a registry fail the pull at once).
func EnsurePresent(ctx context.Context, cli *testcontainers.DockerClient, image string) error {
	ok, _, err := ImageExists(ctx, cli, image)
	if err != nil || ok {
		return err
	}
	pctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	res, err := cli.ImagePull(pctx, image, client.ImagePullOptions{})
	if err == nil {
		err = res.Wait(pctx)
	}
	if err != nil {
		return fmt.Errorf("image %s is not on this machine and could not be pulled (%s): build or load it, or name another with its PGWC_*_IMAGE setting", image, config.OneLine(err.Error()))
	}
	return nil
}

func (s *Stack) start(ctx context.Context, svc Service, timeout time.Duration) error {
	waits := []wait.Strategy{wait.ForListeningPort(svc.Port).WithStartupTimeout(timeout)}
	if svc.ReadyLog != "" {
		waits = append(waits, wait.ForLog(svc.ReadyLog).WithStartupTimeout(timeout))
	}
	req := testcontainers.GenericContainerRequest{
		ContainerRequest: testcontainers.ContainerRequest{
			Image:          svc.Image,
			Env:            svc.Env,
			ExposedPorts:   append([]string{svc.Port}, svc.ExtraPorts...),
			Cmd:            svc.Cmd,
			Labels:         Labels(),
			Networks:       []string{s.net.Name},
			NetworkAliases: map[string][]string{s.net.Name: {svc.Alias}},
			WaitingFor:     wait.ForAll(waits...).WithDeadline(timeout),
			HostConfigModifier: func(hc *container.HostConfig) {
				hc.CpusetCpus = svc.CPUs
			},
		},
		Started: true,
	}
	c, err := testcontainers.GenericContainer(ctx, req)
	if dc, ok := c.(*testcontainers.DockerContainer); ok && dc != nil {
		// Keep even a container that failed to become ready: Terminate removes it.
		s.running[svc.Alias] = dc
	}
	if err != nil {
		return fmt.Errorf("start %s (%s): %s", svc.Alias, svc.Image, config.OneLine(err.Error()))
	}
	return nil
}

// Endpoint is how the host reaches a service: the container's own address on
// its network where the host can route to it (lowest overhead, so driver
// differences are not hidden behind docker-proxy), else the published port.
type Endpoint struct {
	Host string `json:"host"`
	Port string `json:"port"`
	Path string `json:"path"` // "container-ip" or "published-port"
}

// Endpoint returns the best address of a service for clients on this host.
func (s *Stack) Endpoint(ctx context.Context, alias string) (Endpoint, error) {
	c, ok := s.running[alias]
	if !ok {
		return Endpoint{}, fmt.Errorf("no service %q in the stack", alias)
	}
	var svc Service
	for _, x := range s.services {
		if x.Alias == alias {
			svc = x
		}
	}
	port, _, _ := strings.Cut(svc.Port, "/")
	if ip, err := c.ContainerIP(ctx); err == nil && ip != "" {
		d := net.Dialer{Timeout: 2 * time.Second}
		if conn, err := d.DialContext(ctx, "tcp", net.JoinHostPort(ip, port)); err == nil {
			conn.Close()
			return Endpoint{Host: ip, Port: port, Path: "container-ip"}, nil
		}
	}
	host, err := c.Host(ctx)
	if err != nil {
		return Endpoint{}, fmt.Errorf("host of %s: %w", alias, err)
	}
	mp, err := c.MappedPort(ctx, svc.Port)
	if err != nil {
		return Endpoint{}, fmt.Errorf("mapped port of %s: %w", alias, err)
	}
	return Endpoint{Host: host, Port: mp.Port(), Path: "published-port"}, nil
}

// PublishedPort is the host address (host:port) that port (e.g.
// "8100/tcp", one of the service's Port or ExtraPorts) is published at.
func (s *Stack) PublishedPort(ctx context.Context, alias, port string) (string, error) {
	c, ok := s.running[alias]
	if !ok {
		return "", fmt.Errorf("no service %q in the stack", alias)
	}
	host, err := c.Host(ctx)
	if err != nil {
		return "", fmt.Errorf("host of %s: %w", alias, err)
	}
	mp, err := c.MappedPort(ctx, port)
	if err != nil {
		return "", fmt.Errorf("mapped port %s of %s: %w", port, alias, err)
	}
	return net.JoinHostPort(host, mp.Port()), nil
}

// ContainerNames lists the running containers as alias=id, for reports.
func (s *Stack) ContainerNames() []string {
	var out []string
	for _, svc := range s.services {
		if c, ok := s.running[svc.Alias]; ok {
			out = append(out, svc.Alias+"="+c.GetContainerID()[:12])
		}
	}
	return out
}

// Images lists the images of the running services (target and backends),
// for reports.
func (s *Stack) Images() []string {
	var out []string
	for _, svc := range s.services {
		if _, ok := s.running[svc.Alias]; ok {
			out = append(out, svc.Image)
		}
	}
	return out
}

// LogTail returns the last n lines a service logged ("" if unknown).
func (s *Stack) LogTail(ctx context.Context, alias string, n int) string {
	c, ok := s.running[alias]
	if !ok {
		return ""
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	rc, err := c.Logs(ctx)
	if err != nil {
		return ""
	}
	defer rc.Close()
	b, _ := io.ReadAll(rc)
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// Terminate removes every container and the network. It is safe to call
// twice and after a partial start.
func (s *Stack) Terminate(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	var errs []error
	for i := len(s.services) - 1; i >= 0; i-- {
		alias := s.services[i].Alias
		if c, ok := s.running[alias]; ok {
			if err := c.Terminate(ctx, testcontainers.StopTimeout(5*time.Second)); err != nil {
				errs = append(errs, fmt.Errorf("remove %s: %w", alias, err))
			}
			delete(s.running, alias)
		}
	}
	if s.net != nil {
		if err := s.net.Remove(ctx); err != nil {
			errs = append(errs, fmt.Errorf("remove network %s: %w", s.net.Name, err))
		}
		s.net = nil
	}
	return errors.Join(errs...)
}
