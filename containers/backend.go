package containers

import (
	"context"
	"fmt"
	"io/fs"
	"net"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
)

// EnsureBackend is Build.Ensure for a driver backend whose source lives
// outside images/: the files of src (an embedded backend package) are added
// to the build context under dir (e.g. "backend"), and they enter the
// content-addressed tag, so a change to the backend's code makes a new
// image and an unchanged one is reused without building.
func EnsureBackend(ctx context.Context, cli *testcontainers.DockerClient, base string, b Build, src fs.FS, dir string) (tag string, built bool, err error) {
	var files []file
	err = fs.WalkDir(src, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(src, p)
		if err != nil {
			return err
		}
		name := p
		if rest, ok := strings.CutPrefix(p, dir+"/"); ok {
			name = rest
		}
		files = append(files, file{name: path.Join(dir, name), data: data, mode: 0o644})
		return nil
	})
	if err != nil {
		return "", false, fmt.Errorf("read backend source for %s: %w", b.Repo, err)
	}
	return b.ensure(ctx, cli, base, files)
}

// Add starts one more service on the stack's network (a driver backend
// next to the target). Terminate removes it with the rest, on every path;
// on error it is removed at once and the error carries its log tail.
func (s *Stack) Add(ctx context.Context, svc Service, timeout time.Duration) error {
	if s == nil || s.netID == "" {
		return fmt.Errorf("add %s: the stack is not running", svc.Alias)
	}
	if _, dup := s.running[svc.Alias]; dup {
		return fmt.Errorf("add %s: a service of that name is already running", svc.Alias)
	}
	if err := EnsurePresent(ctx, s.cli, svc.Image); err != nil {
		return err
	}
	s.services = append(s.services, svc)
	if err := s.start(ctx, svc, timeout); err != nil {
		tail := s.LogTail(context.WithoutCancel(ctx), svc.Alias, 15)
		if id, ok := s.running[svc.Alias]; ok {
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
			_, _ = s.cli.ContainerRemove(rctx, id, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true})
			cancel()
			delete(s.running, svc.Alias)
		}
		if tail != "" {
			return fmt.Errorf("%w\n--- last log lines of %s ---\n%s", err, svc.Alias, tail)
		}
		return err
	}
	return nil
}

// NetworkAddress maps an address the host uses for one of the stack's
// services (its container IP or published port, as Endpoint gives) to the
// address other containers on the stack's network use: alias:port.
func (s *Stack) NetworkAddress(ctx context.Context, hostPort string) (string, bool) {
	if s == nil {
		return "", false
	}
	for _, svc := range s.services {
		ep, err := s.Endpoint(ctx, svc.Alias)
		if err != nil {
			continue
		}
		if net.JoinHostPort(ep.Host, ep.Port) == hostPort {
			port, _, _ := strings.Cut(svc.Port, "/")
			return net.JoinHostPort(svc.Alias, port), true
		}
	}
	return "", false
}

// OtherCPUs is the docker cpuset of the CPUs 0..n-1 that none of the
// stack's services (the target's containers) is pinned to. A driver
// backend runs there, so it never shares a core with the server: the same
// reasoning as harness.PinAwayFrom for the Go adapters' timing loop, since
// a remote adapter's FR-013 figures are timed inside its backend. "" when
// nothing is pinned or no CPU is left (the backend then floats).
func (s *Stack) OtherCPUs(n int) string {
	if s == nil {
		return ""
	}
	var sets []string
	for _, svc := range s.services {
		if svc.CPUs != "" {
			sets = append(sets, svc.CPUs)
		}
	}
	return ComplementCPUs(strings.Join(sets, ","), n)
}

// ComplementCPUs returns the CPUs 0..n-1 not in cpuset (docker syntax:
// "1", "2-3", "0,2-3") as a cpuset; "" when cpuset names none of them or
// all of them.
func ComplementCPUs(cpuset string, n int) string {
	taken := ParseCPUSet(cpuset)
	var free []string
	pinned := false
	for c := 0; c < n; c++ {
		if taken[c] {
			pinned = true
		} else {
			free = append(free, strconv.Itoa(c))
		}
	}
	if !pinned || len(free) == 0 {
		return ""
	}
	return strings.Join(free, ",")
}

// ParseCPUSet reads a docker cpuset ("1", "2-3", "0,2-3") into the set of
// CPUs it names; parts that are not numbers or ranges are ignored.
func ParseCPUSet(cpuset string) map[int]bool {
	out := map[int]bool{}
	for _, part := range strings.Split(cpuset, ",") {
		lo, hi, isRange := strings.Cut(strings.TrimSpace(part), "-")
		a, err := strconv.Atoi(lo)
		if err != nil {
			continue
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil {
				continue
			}
		}
		for c := a; c <= b; c++ {
			out[c] = true
		}
	}
	return out
}
