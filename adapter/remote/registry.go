package remote

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/url"
	"os"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/pgwire-conformance/pgwire-conformance/adapter"
	"github.com/pgwire-conformance/pgwire-conformance/backends/java"
	"github.com/pgwire-conformance/pgwire-conformance/backends/node"
	"github.com/pgwire-conformance/pgwire-conformance/backends/python"
	"github.com/pgwire-conformance/pgwire-conformance/backends/rust"
	"github.com/pgwire-conformance/pgwire-conformance/containers"
	"github.com/pgwire-conformance/pgwire-conformance/protocol"
)

// Builtin is a backend the suite can build and start itself.
type Builtin struct {
	Build    containers.Build
	Source   fs.FS  // the backend's code, added to the build context
	Dir      string // where Source's files go in the context
	Manifest string // path of manifest.json inside Source
	Port     string // protocol port inside the container, e.g. "7687/tcp"
	Ready    string // log line printed once it listens
	// WebPorts are ports inside the container published for web apps
	// (webapp.start "ports"), used when the host cannot route to the
	// container's own address.
	WebPorts []int
}

// Builtins are the backends in this repository, by name.
var Builtins = map[string]Builtin{
	"python": {Build: containers.PythonBuild, Source: python.Source, Dir: "backend", Manifest: "backend/manifest.json",
		Port: "7687/tcp", Ready: "listening on", WebPorts: webPorts(8100, 16)},
	"node": {Build: containers.NodeBuild, Source: node.Source, Dir: "backend", Manifest: "backend/manifest.json",
		Port: "7687/tcp", Ready: "listening on", WebPorts: webPorts(8100, 16)},
	"java": {Build: containers.JavaBuild, Source: java.Source, Dir: "backend", Manifest: "backend/manifest.json",
		Port: "7687/tcp", Ready: "listening on"},
	"rust": {Build: containers.RustBuild, Source: rust.Source, Dir: "backend", Manifest: "backend/manifest.json",
		Port: "7687/tcp", Ready: "listening on"},
}

func webPorts(first, n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = first + i
	}
	return out
}

var (
	mu       sync.Mutex
	backends = map[string]*backend{}
	// handoff is what process 1 learnt and every process needs.
	handoff Handoff
)

// Handoff travels from Ginkgo process 1 to every process.
type Handoff struct {
	// Backends maps a backend's name to its host:port for this host.
	Backends map[string]string `json:"backends,omitempty"`
	// Rewrite maps the target's host-side host:port to the address
	// backends on the target's network use (alias:port).
	Rewrite map[string]string `json:"rewrite,omitempty"`
	Profile string            `json:"profile,omitempty"`
	// WebPorts maps a backend's name to its published web-app ports
	// (container port → host:port), set only when the host reaches the
	// backend through published ports rather than the container's address.
	WebPorts map[string]map[int]string `json:"web_ports,omitempty"`
}

func init() {
	// Every adapter of a backend is registered once any of them is
	// selected: FR-013 compares an adapter with another of its backend
	// (Info.Baseline), which must be there even when not selected. Only
	// the selected ones are certified (harness.Selected).
	registered := map[string]bool{}
	for _, name := range selectedNames(os.Getenv("PGWC_ADAPTERS"), os.Args) {
		be, ad, ok := strings.Cut(name, ":")
		if !ok || be == "" || ad == "" || strings.Contains(name, "://") {
			continue
		}
		if !registered[be] {
			registered[be] = true
			all, err := backendAdapters(be)
			if err != nil {
				fmt.Fprintf(os.Stderr, "pgwire-conformance: remote backend %s: %v\n", be, err)
				continue // the configuration then reports its adapters as unknown
			}
			for _, a := range all {
				if _, dup := adapter.Lookup(a.info.Name); !dup {
					adapter.Register(a)
				}
			}
		}
		if _, ok := adapter.Lookup(name); !ok {
			var names []string
			for _, n := range adapter.Names() {
				if strings.HasPrefix(n, be+":") {
					names = append(names, strings.TrimPrefix(n, be+":"))
				}
			}
			if len(names) > 0 {
				fmt.Fprintf(os.Stderr, "pgwire-conformance: remote adapter %s: backend %s serves no adapter %q (it serves %s)\n", name, be, ad, strings.Join(names, ", "))
			}
		}
	}
}

// selectedNames reads the adapter selection before flags are parsed: the
// environment and a -pgwc.adapters flag on the command line.
func selectedNames(env string, args []string) []string {
	list := env
	for i, a := range args {
		a = strings.TrimLeft(a, "-")
		if v, ok := strings.CutPrefix(a, "pgwc.adapters="); ok {
			list = v
		} else if a == "pgwc.adapters" && i+1 < len(args) {
			list = args[i+1]
		}
	}
	var out []string
	for _, p := range strings.Split(list, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// backendAdapters makes every adapter of backend be, with Info from the
// backend's manifest (builtins) or, for a backend named by
// PGWC_BACKEND_<BE>, from its describe answer.
func backendAdapters(be string) ([]*Adapter, error) {
	mu.Lock()
	b := backends[be]
	if b == nil {
		b = &backend{name: be}
		backends[be] = b
	}
	mu.Unlock()
	var entries []AdapterEntry
	language := be
	if bi, ok := Builtins[be]; ok {
		raw, err := fs.ReadFile(bi.Source, bi.Manifest)
		if err != nil {
			return nil, fmt.Errorf("read manifest: %w", err)
		}
		var m Describe
		if err := json.Unmarshal(raw, &m); err != nil {
			return nil, fmt.Errorf("manifest %s: %w", bi.Manifest, err)
		}
		entries, language = m.Adapters, m.Language
	} else if _, ok := externalAddress(be); ok {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		d, err := (&Adapter{b: b}).Described(ctx)
		if err != nil {
			return nil, err
		}
		entries, language = d.Adapters, d.Backend
	} else {
		return nil, fmt.Errorf("unknown backend %q: the suite builds %s; name another with PGWC_BACKEND_%s=tcp://host:port", be, strings.Join(builtinNames(), ", "), strings.ToUpper(be))
	}
	var out []*Adapter
	for _, e := range entries {
		info := adapter.Info{
			Name: be + ":" + e.Name, Driver: e.Driver, DriverVersion: e.DriverVersion, Language: language,
			Async: e.Async, Capabilities: append(append([]adapter.Capability(nil), e.Capabilities...), Remote),
		}
		if e.Baseline != "" {
			// The baseline is an adapter of the same backend.
			info.Baseline = be + ":" + e.Baseline
		}
		out = append(out, &Adapter{b: b, name: e.Name, info: info})
	}
	return out, nil
}

// BuiltinAdapterNames lists every adapter of the built-in backends
// (backend:adapter), registered or not: an expected-failure list may name
// them in a run that selects none of them.
func BuiltinAdapterNames() []string {
	var out []string
	for _, be := range builtinNames() {
		bi := Builtins[be]
		raw, err := fs.ReadFile(bi.Source, bi.Manifest)
		if err != nil {
			continue
		}
		var m Describe
		if json.Unmarshal(raw, &m) != nil {
			continue
		}
		for _, e := range m.Adapters {
			out = append(out, be+":"+e.Name)
		}
	}
	sort.Strings(out)
	return out
}

func builtinNames() []string {
	var out []string
	for n := range Builtins {
		out = append(out, n)
	}
	return out
}

// externalAddress is PGWC_BACKEND_<NAME>=tcp://host:port, a backend the
// user runs (a driver author iterating on their backend).
func externalAddress(be string) (string, bool) {
	v := os.Getenv("PGWC_BACKEND_" + strings.ToUpper(strings.ReplaceAll(be, "-", "_")))
	if v == "" {
		return "", false
	}
	return strings.TrimPrefix(v, "tcp://"), true
}

func addressOf(be string) (string, bool) {
	if a, ok := externalAddress(be); ok {
		return a, true
	}
	mu.Lock()
	defer mu.Unlock()
	a, ok := handoff.Backends[be]
	return a, ok
}

// webPortsOf returns the published web-app ports of backend be (container
// port → host:port), empty when its web apps are reached directly.
func webPortsOf(be string) map[int]string {
	mu.Lock()
	defer mu.Unlock()
	return handoff.WebPorts[be]
}

func profileName() string {
	mu.Lock()
	defer mu.Unlock()
	if handoff.Profile != "" {
		return handoff.Profile
	}
	return "postgres"
}

// backendDSN rewrites the target's host-side address in dsn to the one the
// backend reaches it at; any other address (a closed port a spec names on
// purpose) is left alone.
func backendDSN(dsn string) string {
	mu.Lock()
	rw := handoff.Rewrite
	mu.Unlock()
	u, err := url.Parse(dsn)
	if err != nil || u.Host == "" {
		return dsn
	}
	if to, ok := rw[u.Host]; ok {
		u.Host = to
		return u.String()
	}
	return dsn
}

// Selected returns the remote adapters among names (the run's selection).
func Selected(names []string) []*Adapter {
	var out []*Adapter
	for _, n := range names {
		if a, ok := adapter.Lookup(n); ok {
			if r, ok := a.(*Adapter); ok {
				out = append(out, r)
			}
		}
	}
	return out
}

// StartBackends (Ginkgo process 1) starts the built-in backends that the
// selected adapters need next to the target, on its network, so they are
// removed with it on every path; backends named by PGWC_BACKEND_* are only
// checked. It records their addresses for Encode.
func StartBackends(ctx context.Context, stack *containers.Stack, targetDSN, profile string, selected []string, baseImage string, timeout time.Duration, progress io.Writer) error {
	h := Handoff{Backends: map[string]string{}, Rewrite: map[string]string{}, Profile: profile, WebPorts: map[string]map[int]string{}}
	need := map[string]bool{}
	for _, a := range Selected(selected) {
		need[a.b.name] = true
	}
	if u, err := url.Parse(targetDSN); err == nil && stack != nil {
		if to, ok := stack.NetworkAddress(ctx, u.Host); ok {
			h.Rewrite[u.Host] = to
		}
	}
	for be := range need {
		if addr, ok := externalAddress(be); ok {
			fmt.Fprintf(progress, "backend %s: using the running backend at %s\n", be, addr)
			continue
		}
		bi, ok := Builtins[be]
		if !ok {
			return fmt.Errorf("backend %s: not built in; set PGWC_BACKEND_%s=tcp://host:port", be, strings.ToUpper(be))
		}
		if stack == nil {
			return fmt.Errorf("backend %s: the target is external, so the suite cannot start the backend next to it: run it yourself and set PGWC_BACKEND_%s=tcp://host:port", be, strings.ToUpper(be))
		}
		cli, err := containers.Docker(ctx)
		if err != nil {
			return err
		}
		tag, built, err := containers.EnsureBackend(ctx, cli, baseImage, bi.Build, bi.Source, bi.Dir)
		cli.Close()
		if err != nil {
			return fmt.Errorf("backend %s image: %w", be, err)
		}
		if built {
			fmt.Fprintf(progress, "built image %s\n", tag)
		}
		alias := "backend-" + be
		start := time.Now()
		var extra []string
		for _, p := range bi.WebPorts {
			extra = append(extra, fmt.Sprintf("%d/tcp", p))
		}
		// Pinned off the target's CPUs: FR-013 times remote adapters inside
		// the backend, which must not share a core with the server.
		cpus := stack.OtherCPUs(runtime.NumCPU())
		if err := stack.Add(ctx, containers.Service{Alias: alias, Image: tag, Port: bi.Port, ReadyLog: bi.Ready, ExtraPorts: extra, CPUs: cpus}, timeout); err != nil {
			return fmt.Errorf("backend %s: %w", be, err)
		}
		ep, err := stack.Endpoint(ctx, alias)
		if err != nil {
			return fmt.Errorf("backend %s: %w", be, err)
		}
		h.Backends[be] = net.JoinHostPort(ep.Host, ep.Port)
		if ep.Path != "container-ip" {
			// The host cannot route to the container: its web apps must
			// listen on ports published in advance.
			m := map[int]string{}
			for _, p := range bi.WebPorts {
				if a, err := stack.PublishedPort(ctx, alias, fmt.Sprintf("%d/tcp", p)); err == nil {
					m[p] = a
				}
			}
			h.WebPorts[be] = m
		}
		fmt.Fprintf(progress, "backend %s ready in %s at %s (%s, image %s, cpus %q)\n", be, time.Since(start).Round(time.Millisecond), h.Backends[be], ep.Path, tag, cpus)
	}
	mu.Lock()
	handoff = h
	mu.Unlock()
	// Fail here, once, rather than in every spec: every backend answers
	// hello and describe, and serves the selected adapters.
	for _, a := range Selected(selected) {
		cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		d, err := a.Described(cctx)
		cancel()
		if err != nil {
			return fmt.Errorf("backend %s does not answer: %w", a.b.name, err)
		}
		if d.Protocol != protocol.Version {
			return fmt.Errorf("backend %s speaks protocol %d, the suite %d", a.b.name, d.Protocol, protocol.Version)
		}
	}
	return nil
}

// Encode wraps the data process 1 hands the other processes (the target)
// with the backends' addresses.
func Encode(target []byte) []byte {
	mu.Lock()
	defer mu.Unlock()
	b, _ := json.Marshal(struct {
		Target json.RawMessage `json:"target"`
		Remote Handoff         `json:"remote"`
	}{target, handoff})
	return b
}

// Decode is Encode's inverse on every process: it installs the backends'
// addresses and returns the target's data.
func Decode(data []byte) ([]byte, error) {
	var w struct {
		Target json.RawMessage `json:"target"`
		Remote Handoff         `json:"remote"`
	}
	if err := json.Unmarshal(data, &w); err != nil || w.Target == nil {
		return nil, fmt.Errorf("decode the backends' handoff from process 1: %v", err)
	}
	mu.Lock()
	handoff = w.Remote
	mu.Unlock()
	return w.Target, nil
}
