package containers

import (
	"net/netip"
	"testing"

	"github.com/moby/moby/api/types/network"
)

func TestLocalEngine(t *testing.T) {
	for host, want := range map[string]bool{
		"":                            true,
		"unix:///var/run/docker.sock": true,
		"npipe:////./pipe/docker":     true,
		"tcp://127.0.0.1:2375":        true,
		"tcp://localhost:2375":        true,
		"tcp://[::1]:2375":            true,
		"tcp://192.0.2.10:2376":       false,
		"tcp://docker.example:2376":   false,
		"ssh://me@host":               false,
	} {
		if got := LocalEngine(host); got != want {
			t.Errorf("LocalEngine(%q) = %v, want %v", host, got, want)
		}
	}
}

func TestRouting(t *testing.T) {
	gw := netip.MustParseAddr("172.20.0.1")
	local := map[netip.Addr]bool{netip.MustParseAddr("127.0.0.1"): true, gw: true}
	// Local engine, bridge on this host: direct, nothing published.
	if direct, ip, _ := routing("unix:///var/run/docker.sock", []netip.Addr{gw}, local); !direct || ip.IsValid() {
		t.Errorf("local bridge: direct=%v ip=%v", direct, ip)
	}
	// Local engine whose bridge is elsewhere (a VM): publish on 127.0.0.1.
	direct, ip, host := routing("", []netip.Addr{netip.MustParseAddr("172.21.0.1")}, local)
	if direct || ip.String() != "127.0.0.1" || host != "127.0.0.1" {
		t.Errorf("local engine, remote bridge: direct=%v ip=%v host=%q", direct, ip, host)
	}
	// Remote engine: every interface of the engine, reached at its name.
	direct, ip, host = routing("tcp://docker.example:2376", []netip.Addr{gw}, local)
	if direct || ip.IsValid() || host != "docker.example" {
		t.Errorf("remote engine: direct=%v ip=%v host=%q", direct, ip, host)
	}
}

func TestPortBindings(t *testing.T) {
	lo := netip.MustParseAddr("127.0.0.1")
	set, m, err := portBindings([]string{"5432/tcp", "", "8100/tcp"}, false, lo)
	if err != nil {
		t.Fatal(err)
	}
	if len(set) != 2 || len(m) != 2 {
		t.Fatalf("set %v map %v", set, m)
	}
	for p, b := range m {
		if len(b) != 1 || b[0].HostIP != lo || b[0].HostPort != "0" {
			t.Errorf("%v bound %v, want 127.0.0.1 with an ephemeral port", p, b)
		}
	}
	if _, ok := m[network.MustParsePort("5432/tcp")]; !ok {
		t.Error("5432/tcp not bound")
	}
	set, m, err = portBindings([]string{"5432/tcp"}, true, lo)
	if err != nil || len(set) != 0 || len(m) != 0 {
		t.Errorf("direct: set %v map %v err %v, want nothing published", set, m, err)
	}
	if _, _, err := portBindings([]string{"nope"}, false, lo); err == nil {
		t.Error("a malformed port was accepted")
	}
}
