package containers

import (
	"context"
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
)

// These tests need a Docker engine and the base image; they run only with
// PGWC_DOCKER_TESTS=1 (make unit stays Docker-free).
func dockerForTest(t *testing.T) (*testcontainers.DockerClient, string) {
	t.Helper()
	if os.Getenv("PGWC_DOCKER_TESTS") != "1" {
		t.Skip("set PGWC_DOCKER_TESTS=1 to run tests against the Docker engine")
	}
	DefaultEnv()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cli, err := Docker(ctx)
	if err != nil {
		t.Fatal(err)
	}
	base := "pgwire-conformance/base:trixie"
	if ok, _, err := ImageExists(ctx, cli, base); err != nil || !ok {
		t.Skipf("base image %s missing (%v)", base, err)
	}
	return cli, base
}

// leftovers counts what carries the stack's label, in any state.
func leftovers(t *testing.T, cli *testcontainers.DockerClient, id string) int {
	t.Helper()
	ctx := context.Background()
	f := client.Filters{}.Add("label", LabelStack+"="+id)
	cs, err := cli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f})
	if err != nil {
		t.Fatal(err)
	}
	ns, err := cli.NetworkList(ctx, client.NetworkListOptions{Filters: f})
	if err != nil {
		t.Fatal(err)
	}
	return len(cs.Items) + len(ns.Items)
}

func TestStackRemovesEverythingItCreated(t *testing.T) {
	cli, base := dockerForTest(t)
	ctx := context.Background()
	s, err := Start(ctx, cli, []Service{{Alias: "one", Image: base, Cmd: []string{"sleep", "300"}}}, 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	// A container the stack never heard of, left in Created state (a create
	// whose answer an interrupt cut off), carries the stack's label.
	res, err := cli.ContainerCreate(ctx, client.ContainerCreateOptions{Config: &container.Config{Image: base, Cmd: []string{"true"}, Labels: s.labels()}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.ContainerRemove(context.Background(), res.ID, client.ContainerRemoveOptions{Force: true}) })
	if n := leftovers(t, cli, s.ID()); n != 3 {
		t.Fatalf("before Terminate: %d objects with the stack's label, want 3", n)
	}
	if err := s.Terminate(ctx); err != nil {
		t.Fatal(err)
	}
	if n := leftovers(t, cli, s.ID()); n != 0 {
		t.Errorf("after Terminate: %d objects left", n)
	}
}

func TestStackPublishesOnLoopbackOnly(t *testing.T) {
	cli, base := dockerForTest(t)
	ctx := context.Background()
	s := newStack(cli)
	t.Cleanup(func() { s.Terminate(context.Background()) })
	if err := s.createNetwork(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("this host reaches containers directly: %v", s.direct)
	check := func(alias string, wantPublished bool) {
		t.Helper()
		ins, err := cli.ContainerInspect(ctx, s.running[alias], client.ContainerInspectOptions{})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for p, bs := range ins.Container.NetworkSettings.Ports {
			for _, b := range bs {
				n++
				if b.HostIP.String() != "127.0.0.1" {
					t.Errorf("%s: %v published on %v, want 127.0.0.1 only", alias, p, b.HostIP)
				}
			}
		}
		if (n > 0) != wantPublished {
			t.Errorf("%s: %d bindings, want published=%v", alias, n, wantPublished)
		}
	}
	// As the host routes to the bridge: nothing published.
	s.direct = true
	svc := Service{Alias: "direct", Image: base, Cmd: []string{"sleep", "300"}, ExtraPorts: []string{"8100/tcp"}}
	s.services = append(s.services, svc)
	if err := s.start(ctx, svc, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	check("direct", false)
	// As a host that cannot route to it: 127.0.0.1 only (port 5432 is
	// reachable through docker-proxy even with nothing listening).
	s.direct, s.publishIP, s.host = false, netip.MustParseAddr("127.0.0.1"), "127.0.0.1"
	svc = Service{Alias: "published", Image: base, Cmd: []string{"sleep", "300"}, Port: "5432/tcp", ExtraPorts: []string{"8100/tcp"}}
	s.services = append(s.services, svc)
	if err := s.start(ctx, svc, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	check("published", true)
	if ep, err := s.Endpoint(ctx, "published"); err != nil || ep.Host != "127.0.0.1" || ep.Path != "published-port" {
		t.Errorf("endpoint %+v, %v", ep, err)
	}
}

func TestStackInterruptedWhileWaiting(t *testing.T) {
	cli, base := dockerForTest(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	// The ready line never comes: the wait is cut off by the context, as by
	// Ctrl-C, and Start removes what it made.
	_, err := Start(ctx, cli, []Service{{Alias: "never", Image: base, Cmd: []string{"sleep", "300"}, ReadyLog: "never printed"}}, time.Minute)
	if err == nil {
		t.Fatal("Start succeeded")
	}
	f := client.Filters{}.Add("label", LabelOwner+"="+Owner())
	cs, err := cli.ContainerList(context.Background(), client.ContainerListOptions{All: true, Filters: f})
	if err != nil {
		t.Fatal(err)
	}
	if len(cs.Items) != 0 {
		t.Errorf("%d container(s) left after an interrupted start", len(cs.Items))
	}
}

func TestStackFailsFastWhenTheServiceExits(t *testing.T) {
	cli, base := dockerForTest(t)
	start := time.Now()
	_, err := Start(context.Background(), cli, []Service{{Alias: "dies", Image: base, Cmd: []string{"sh", "-c", "echo bye; exit 3"}, ReadyLog: "never printed"}}, time.Minute)
	if err == nil {
		t.Fatal("Start succeeded")
	}
	if time.Since(start) > 20*time.Second {
		t.Errorf("took %s to notice the exit", time.Since(start))
	}
	t.Logf("error: %v", err)
}
