package containers

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"

	"github.com/pgwire-conformance/pgwire-conformance/config"
)

// Service is one container of a stack: a target (PostgreSQL; IRIS and
// iris-pgwire; PgBouncer; PGlite) or a driver backend.
type Service struct {
	Alias string // name on the stack's network, e.g. "postgres", "iris"
	Image string
	Env   map[string]string
	Port  string // the port clients use, e.g. "5432/tcp" ("" = none)
	Cmd   []string
	// CPUs, when set, pins the container to these CPUs (docker --cpuset-cpus).
	CPUs string
	// ReadyLog, when set, is a log line the service prints once ready; the
	// port must accept connections as well.
	ReadyLog string
	// ExtraPorts are published too (when the stack publishes at all), for
	// services the container starts later (a backend's web app), e.g.
	// "8100/tcp"; see PublishedPort.
	ExtraPorts []string
}

// Stack is a set of services on one private network, started in order.
//
// Everything it creates carries the owner label and the stack's own label
// from the create request on, and Terminate removes by that label as well
// as by the IDs it learnt: a run interrupted while a create request was on
// its way leaves nothing behind.
//
// Ports: where this host routes to the containers' own addresses (a local
// engine whose network gateway is one of this host's addresses), nothing is
// published at all; otherwise the services' ports are published on
// 127.0.0.1 only (on a remote engine, on its interfaces: there is no other
// way to reach them).
type Stack struct {
	cli     *testcontainers.DockerClient
	id      string // LabelStack value
	netID   string
	netName string
	// direct: the host reaches containers at their own addresses, so no
	// port is published.
	direct bool
	// publishIP is the host address ports are published on when not
	// direct (invalid: every interface of a remote engine).
	publishIP netip.Addr
	// host is the address published ports are reached at from here.
	host     string
	services []Service
	running  map[string]string // alias → container ID, from the create on
}

// stackCreateTimeout bounds one create request, which runs detached from
// the caller's context: an interrupt must not cut it short, or the engine
// could finish creating a container after the stack gave up on it.
const stackCreateTimeout = 60 * time.Second

// Start brings up services in order on a new labelled network. Each must be
// ready within timeout. On any error (an interrupt included), what was
// started is removed again and the error carries the failing service's log
// tail.
func Start(ctx context.Context, cli *testcontainers.DockerClient, services []Service, timeout time.Duration) (*Stack, error) {
	s := newStack(cli)
	for _, svc := range services {
		if err := EnsurePresent(ctx, cli, svc.Image); err != nil {
			return nil, err
		}
	}
	if err := s.createNetwork(ctx); err != nil {
		s.Terminate(context.WithoutCancel(ctx))
		return nil, err
	}
	for _, svc := range services {
		s.services = append(s.services, svc)
		if err := s.start(ctx, svc, timeout); err != nil {
			tail := s.LogTail(context.WithoutCancel(ctx), svc.Alias, 15)
			s.Terminate(context.WithoutCancel(ctx))
			if tail != "" {
				return nil, fmt.Errorf("%w\n--- last log lines of %s ---\n%s", err, svc.Alias, tail)
			}
			return nil, err
		}
	}
	return s, nil
}

func newStack(cli *testcontainers.DockerClient) *Stack {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return &Stack{cli: cli, id: hex.EncodeToString(b), running: map[string]string{}}
}

// labels are the labels of everything this stack creates.
func (s *Stack) labels() map[string]string {
	l := Labels()
	l[LabelStack] = s.id
	return l
}

// ID is the stack's label value (LabelStack).
func (s *Stack) ID() string {
	if s == nil {
		return ""
	}
	return s.id
}

// Direct reports whether the host reaches the stack's containers at their
// own addresses (and so nothing is published).
func (s *Stack) Direct() bool { return s != nil && s.direct }

// createNetwork makes the stack's bridge network and decides how the host
// reaches its containers.
func (s *Stack) createNetwork(ctx context.Context) error {
	name := "pgwc-" + s.id
	res, err := s.cli.NetworkCreate(ctx, name, client.NetworkCreateOptions{Driver: "bridge", Labels: s.labels()})
	if err != nil {
		return fmt.Errorf("create network: %w", err)
	}
	s.netID, s.netName = res.ID, name
	ins, err := s.cli.NetworkInspect(ctx, res.ID, client.NetworkInspectOptions{})
	if err != nil {
		return fmt.Errorf("inspect network %s: %w", name, err)
	}
	var gateways []netip.Addr
	for _, c := range ins.Network.IPAM.Config {
		gateways = append(gateways, c.Gateway)
	}
	engine := s.cli.DaemonHost()
	s.direct, s.publishIP, s.host = routing(engine, gateways, localAddrs())
	return nil
}

// routing decides how this host reaches a stack's containers, from the
// engine's address, the network's gateways and this host's own addresses:
// directly when the engine is local and the network's gateway is one of
// this host's addresses (the bridge lives here); else through ports
// published on 127.0.0.1 (local engine) or on every interface of a remote
// engine, reached at its host name.
func routing(engine string, gateways []netip.Addr, local map[netip.Addr]bool) (direct bool, publishIP netip.Addr, host string) {
	if !LocalEngine(engine) {
		h := "localhost"
		if u, err := url.Parse(engine); err == nil && u.Hostname() != "" {
			h = u.Hostname()
		}
		return false, netip.Addr{}, h
	}
	for _, g := range gateways {
		if g.IsValid() && local[g.Unmap()] {
			return true, netip.Addr{}, ""
		}
	}
	lo := netip.MustParseAddr("127.0.0.1")
	return false, lo, lo.String()
}

// localAddrs are the addresses of this host's interfaces.
func localAddrs() map[netip.Addr]bool {
	out := map[netip.Addr]bool{}
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return out
	}
	for _, a := range addrs {
		if p, err := netip.ParsePrefix(a.String()); err == nil {
			out[p.Addr().Unmap()] = true
		}
	}
	return out
}

// portBindings are the bindings of a service's ports: none when the host
// reaches containers directly, else each on publishIP with an ephemeral
// host port.
func portBindings(ports []string, direct bool, publishIP netip.Addr) (network.PortSet, network.PortMap, error) {
	if direct {
		return nil, nil, nil
	}
	set, m := network.PortSet{}, network.PortMap{}
	for _, p := range ports {
		if p == "" {
			continue
		}
		port, err := network.ParsePort(p)
		if err != nil {
			return nil, nil, fmt.Errorf("port %q: %w", p, err)
		}
		set[port] = struct{}{}
		m[port] = []network.PortBinding{{HostIP: publishIP, HostPort: "0"}}
	}
	return set, m, nil
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

// start creates svc's container, starts it and waits until it is ready.
func (s *Stack) start(ctx context.Context, svc Service, timeout time.Duration) error {
	ports := append([]string{svc.Port}, svc.ExtraPorts...)
	exposed, bindings, err := portBindings(ports, s.direct, s.publishIP)
	if err != nil {
		return fmt.Errorf("start %s: %w", svc.Alias, err)
	}
	env := make([]string, 0, len(svc.Env))
	for k, v := range svc.Env {
		env = append(env, k+"="+v)
	}
	sort.Strings(env)
	opts := client.ContainerCreateOptions{
		Name: "pgwc-" + s.id + "-" + svc.Alias,
		Config: &container.Config{
			Image:        svc.Image,
			Env:          env,
			Cmd:          svc.Cmd,
			Labels:       s.labels(),
			ExposedPorts: exposed,
		},
		HostConfig: &container.HostConfig{
			PortBindings: bindings,
			Resources:    container.Resources{CpusetCpus: svc.CPUs},
		},
		NetworkingConfig: &network.NetworkingConfig{EndpointsConfig: map[string]*network.EndpointSettings{
			s.netName: {Aliases: []string{svc.Alias}},
		}},
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), stackCreateTimeout)
	res, err := s.cli.ContainerCreate(cctx, opts)
	cancel()
	if res.ID != "" {
		// Known from here on: Terminate removes it in any state.
		s.running[svc.Alias] = res.ID
	}
	if err != nil {
		return fmt.Errorf("create %s (%s): %s", svc.Alias, svc.Image, config.OneLine(err.Error()))
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("start %s: %w", svc.Alias, err)
	}
	if _, err := s.cli.ContainerStart(ctx, res.ID, client.ContainerStartOptions{}); err != nil {
		return fmt.Errorf("start %s (%s): %s", svc.Alias, svc.Image, config.OneLine(err.Error()))
	}
	if err := s.waitReady(ctx, svc, res.ID, timeout); err != nil {
		return fmt.Errorf("start %s (%s): %w", svc.Alias, svc.Image, err)
	}
	return nil
}

// waitReady waits for svc's ready log line (if any) and then for its port
// to accept a connection, failing at once when the container exits.
func (s *Stack) waitReady(ctx context.Context, svc Service, id string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if svc.ReadyLog != "" {
		if err := s.waitLog(ctx, id, svc.ReadyLog); err != nil {
			return err
		}
	}
	if svc.Port == "" {
		return nil
	}
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	var last error
	for {
		addr, err := s.address(ctx, svc, id)
		if err == nil {
			d := net.Dialer{Timeout: time.Second}
			var c net.Conn
			if c, err = d.DialContext(ctx, "tcp", addr); err == nil {
				c.Close()
				return nil
			}
		}
		last = err
		if err := s.exited(ctx, id); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("port %s not reachable within %s: %v (%w)", svc.Port, timeout, last, ctx.Err())
		case <-tick.C:
		}
	}
}

// waitLog follows the container's output until a line contains want; the
// stream ends (and this fails) when the container exits.
func (s *Stack) waitLog(ctx context.Context, id, want string) error {
	rc, err := s.cli.ContainerLogs(ctx, id, client.ContainerLogsOptions{ShowStdout: true, ShowStderr: true, Follow: true})
	if err != nil {
		return fmt.Errorf("follow log: %w", err)
	}
	defer rc.Close()
	pr, pw := io.Pipe()
	go func() {
		_, err := stdcopy.StdCopy(pw, pw, rc)
		pw.CloseWithError(err)
	}()
	defer pr.Close()
	sc := bufio.NewScanner(pr)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		if strings.Contains(sc.Text(), want) {
			return nil
		}
	}
	if ctx.Err() != nil {
		return fmt.Errorf("no log line %q: %w", want, ctx.Err())
	}
	if err := s.exited(context.WithoutCancel(ctx), id); err != nil {
		return err
	}
	return fmt.Errorf("log ended without the line %q", want)
}

// exited returns an error when the container is no longer running.
func (s *Stack) exited(ctx context.Context, id string) error {
	ins, err := s.cli.ContainerInspect(ctx, id, client.ContainerInspectOptions{})
	if err != nil {
		if cerrdefs.IsNotFound(err) {
			return errors.New("container is gone")
		}
		return nil // cannot tell; the caller's deadline decides
	}
	if st := ins.Container.State; st != nil && !st.Running && st.Status != "created" {
		return fmt.Errorf("container exited (status %s, exit code %d)", st.Status, st.ExitCode)
	}
	return nil
}

// address is host:port at which this host reaches svc's port.
func (s *Stack) address(ctx context.Context, svc Service, id string) (string, error) {
	ep, err := s.endpoint(ctx, svc, id)
	if err != nil {
		return "", err
	}
	return net.JoinHostPort(ep.Host, ep.Port), nil
}

// Endpoint is how the host reaches a service: the container's own address on
// its network where the host can route to it (lowest overhead, so driver
// differences are not hidden behind docker-proxy), else the published port.
type Endpoint struct {
	Host string `json:"host"`
	Port string `json:"port"`
	Path string `json:"path"` // "container-ip" or "published-port"
}

// Endpoint returns the address of a service for clients on this host.
func (s *Stack) Endpoint(ctx context.Context, alias string) (Endpoint, error) {
	id, ok := s.running[alias]
	if !ok {
		return Endpoint{}, fmt.Errorf("no service %q in the stack", alias)
	}
	return s.endpoint(ctx, s.service(alias), id)
}

func (s *Stack) service(alias string) Service {
	for _, x := range s.services {
		if x.Alias == alias {
			return x
		}
	}
	return Service{}
}

func (s *Stack) endpoint(ctx context.Context, svc Service, id string) (Endpoint, error) {
	port, _, _ := strings.Cut(svc.Port, "/")
	ins, err := s.cli.ContainerInspect(ctx, id, client.ContainerInspectOptions{})
	if err != nil {
		return Endpoint{}, fmt.Errorf("inspect %s: %w", svc.Alias, err)
	}
	if s.direct {
		ip, err := containerIP(ins.Container, s.netName)
		if err != nil {
			return Endpoint{}, fmt.Errorf("%s: %w", svc.Alias, err)
		}
		return Endpoint{Host: ip, Port: port, Path: "container-ip"}, nil
	}
	hp, err := publishedPort(ins.Container, svc.Port)
	if err != nil {
		return Endpoint{}, fmt.Errorf("%s: %w", svc.Alias, err)
	}
	return Endpoint{Host: s.host, Port: hp, Path: "published-port"}, nil
}

// ContainerIP is the address of a service on the stack's network.
func (s *Stack) ContainerIP(ctx context.Context, alias string) (string, error) {
	id, ok := s.running[alias]
	if !ok {
		return "", fmt.Errorf("no service %q in the stack", alias)
	}
	ins, err := s.cli.ContainerInspect(ctx, id, client.ContainerInspectOptions{})
	if err != nil {
		return "", fmt.Errorf("inspect %s: %w", alias, err)
	}
	return containerIP(ins.Container, s.netName)
}

func containerIP(c container.InspectResponse, netName string) (string, error) {
	if c.NetworkSettings != nil {
		if ep, ok := c.NetworkSettings.Networks[netName]; ok && ep != nil && ep.IPAddress.IsValid() {
			return ep.IPAddress.String(), nil
		}
	}
	return "", fmt.Errorf("no address on network %s yet", netName)
}

func publishedPort(c container.InspectResponse, port string) (string, error) {
	p, err := network.ParsePort(port)
	if err != nil {
		return "", fmt.Errorf("port %q: %w", port, err)
	}
	if c.NetworkSettings != nil {
		for _, b := range c.NetworkSettings.Ports[p] {
			if b.HostPort != "" && b.HostPort != "0" {
				return b.HostPort, nil
			}
		}
	}
	return "", fmt.Errorf("port %s is not published (yet)", port)
}

// PublishedPort is the host address (host:port) that port (e.g.
// "8100/tcp", one of the service's Port or ExtraPorts) is published at.
// A stack whose containers the host reaches directly publishes nothing.
func (s *Stack) PublishedPort(ctx context.Context, alias, port string) (string, error) {
	id, ok := s.running[alias]
	if !ok {
		return "", fmt.Errorf("no service %q in the stack", alias)
	}
	if s.direct {
		return "", fmt.Errorf("%s publishes no port: the host reaches it at its own address", alias)
	}
	ins, err := s.cli.ContainerInspect(ctx, id, client.ContainerInspectOptions{})
	if err != nil {
		return "", fmt.Errorf("inspect %s: %w", alias, err)
	}
	hp, err := publishedPort(ins.Container, port)
	if err != nil {
		return "", fmt.Errorf("%s: %w", alias, err)
	}
	return net.JoinHostPort(s.host, hp), nil
}

// ContainerIDs lists the full IDs of the running containers (nil for a nil
// stack), to tell their processes from the machine's others.
func (s *Stack) ContainerIDs() []string {
	if s == nil {
		return nil
	}
	var out []string
	for _, svc := range s.services {
		if id, ok := s.running[svc.Alias]; ok {
			out = append(out, id)
		}
	}
	return out
}

// ContainerNames lists the running containers as alias=id, for reports.
func (s *Stack) ContainerNames() []string {
	var out []string
	for _, svc := range s.services {
		if id, ok := s.running[svc.Alias]; ok {
			out = append(out, svc.Alias+"="+short(id))
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
	id, ok := s.running[alias]
	if !ok {
		return ""
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	rc, err := s.cli.ContainerLogs(ctx, id, client.ContainerLogsOptions{ShowStdout: true, ShowStderr: true, Tail: strconv.Itoa(n)})
	if err != nil {
		return ""
	}
	defer rc.Close()
	var b strings.Builder
	_, _ = stdcopy.StdCopy(&b, &b, rc)
	return strings.TrimRight(b.String(), "\n")
}

// Terminate removes every container (in whatever state) and the network:
// those it knows by ID, then whatever else carries the stack's label. It is
// safe to call twice and after a partial start.
func (s *Stack) Terminate(ctx context.Context) error {
	if s == nil || s.cli == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	var errs []error
	rm := func(id string) {
		_, err := s.cli.ContainerRemove(ctx, id, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true})
		if err != nil && !cerrdefs.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("remove container %s: %w", short(id), err))
		}
	}
	for i := len(s.services) - 1; i >= 0; i-- {
		alias := s.services[i].Alias
		if id, ok := s.running[alias]; ok {
			rm(id)
			delete(s.running, alias)
		}
	}
	f := client.Filters{}.Add("label", LabelStack+"="+s.id)
	if cs, err := s.cli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f}); err != nil {
		errs = append(errs, fmt.Errorf("list the stack's containers: %w", err))
	} else {
		for _, c := range cs.Items {
			rm(c.ID)
		}
	}
	if ns, err := s.cli.NetworkList(ctx, client.NetworkListOptions{Filters: f}); err != nil {
		errs = append(errs, fmt.Errorf("list the stack's networks: %w", err))
	} else {
		for _, n := range ns.Items {
			if _, err := s.cli.NetworkRemove(ctx, n.ID, client.NetworkRemoveOptions{}); err != nil && !cerrdefs.IsNotFound(err) {
				errs = append(errs, fmt.Errorf("remove network %s: %w", n.Name, err))
			}
		}
	}
	s.netID = ""
	return errors.Join(errs...)
}

func short(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

// Exec runs cmd in a service's container as user (e.g. "postgres"), with
// env added to the container's environment, and returns its output; a
// non-zero exit is an error carrying the output.
func (s *Stack) Exec(ctx context.Context, alias, user string, env, cmd []string) (string, error) {
	id, ok := s.running[alias]
	if !ok {
		return "", fmt.Errorf("no service %q in the stack", alias)
	}
	ex, err := s.cli.ExecCreate(ctx, id, client.ExecCreateOptions{User: user, Env: env, Cmd: cmd, AttachStdout: true, AttachStderr: true})
	if err != nil {
		return "", fmt.Errorf("exec in %s: %w", alias, err)
	}
	att, err := s.cli.ExecAttach(ctx, ex.ID, client.ExecAttachOptions{})
	if err != nil {
		return "", fmt.Errorf("exec in %s: %w", alias, err)
	}
	defer att.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = att.Conn.SetDeadline(dl)
	}
	var out strings.Builder
	if _, err := stdcopy.StdCopy(&out, &out, att.Reader); err != nil {
		return out.String(), fmt.Errorf("exec in %s: read output: %w", alias, err)
	}
	res, err := s.cli.ExecInspect(ctx, ex.ID, client.ExecInspectOptions{})
	if err != nil {
		return out.String(), fmt.Errorf("exec in %s: %w", alias, err)
	}
	if res.ExitCode != 0 {
		return out.String(), fmt.Errorf("exec in %s: %s exited with %d: %s", alias, cmd[0], res.ExitCode, config.OneLine(out.String()))
	}
	return out.String(), nil
}
