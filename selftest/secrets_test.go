// Package selftest runs the suite itself, as a user would, against a target
// it then breaks, and checks what the suite made of it: no password in any
// output, the faults reported as harness errors naming their cause, not as
// driver failures, and every run ending within its bound. It needs Docker
// and takes a few minutes, so it runs only with PGWC_SELFTEST=1 (make
// secrets).
package selftest

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/wait"

	"github.com/pgwire-conformance/pgwire-conformance/config"
	"github.com/pgwire-conformance/pgwire-conformance/containers"
)

// secret is the target's password in every scenario: long and unusual, so
// finding it anywhere is a leak, not a coincidence.
const secret = "pgwcLeakCanary7b1e9d4c2a"

// runBound is how long one suite run may take, faults included.
const runBound = 6 * time.Minute

func TestNoSecretInAnyOutputWhateverHappensToTheTarget(t *testing.T) {
	if os.Getenv("PGWC_SELFTEST") == "" {
		t.Skip("set PGWC_SELFTEST=1 to run the suite against a target it then breaks (needs Docker, takes minutes)")
	}
	containers.DefaultEnv()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}

	t.Run("target killed mid-run", func(t *testing.T) {
		dsn, id := startTarget(t)
		out := runSuite(t, root, dsn, func() { docker(t, "kill", id) })
		expectNoSecret(t, out)
		expectHarnessErrors(t, out, "stopped answering")
	})
	t.Run("target paused mid-run", func(t *testing.T) {
		dsn, id := startTarget(t)
		out := runSuite(t, root, dsn, func() {
			docker(t, "pause", id)
			time.Sleep(8 * time.Second) // the fault itself: a stall longer than the monitor's 3 s bound
			docker(t, "unpause", id)
		})
		expectNoSecret(t, out)
		expectHarnessErrors(t, out, "stalled")
	})
	t.Run("wrong password", func(t *testing.T) {
		dsn, _ := startTarget(t)
		u, _ := url.Parse(dsn)
		u.User = url.UserPassword(u.User.Username(), secret+"-wrong")
		out := runSuite(t, root, u.String(), nil)
		expectNoSecret(t, out)
		if out.exit == 0 {
			t.Errorf("a run with a wrong password succeeded")
		}
		if said := out.stdout + out.stderr; !strings.Contains(said, "authentication failed") {
			t.Errorf("a wrong password should be reported as \"authentication failed\"; output:\n%s", tail(said, 30))
		}
	})
}

// runOutput is what a suite run left: its exit code, output streams and
// the files in its report directory.
type runOutput struct {
	exit           int
	stdout, stderr string
	files          map[string]string
	results        map[string]any
}

// runSuite runs the suite (two Go adapters, the specs that keep a target
// busy) against the external target dsn; fault, when set, runs once the
// first spec has started.
func runSuite(t *testing.T, root, dsn string, fault func()) runOutput {
	t.Helper()
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), runBound)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "tool", "ginkgo", "-v", "--label-filter=transactions || pool || errors || cursors",
		"--output-dir="+dir, "--json-report=ginkgo.json", "--junit-report=ginkgo-junit.xml", ".")
	cmd.Dir = root
	// A short connect timeout: after the fault every open waits for it
	// when the dead target's address answers nothing at all.
	cmd.Env = append(os.Environ(), "PGWC_PROVIDER=external", "PGWC_DSN="+dsn, "PGWC_ADAPTERS=pgx,pq",
		"PGWC_REPORT_DIR="+dir, "PGWC_EXPECTATIONS=", "PGWC_TARGET=", "PGWC_CONNECT_TIMEOUT=5s")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var errBuf strings.Builder
	cmd.Stderr = &errBuf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var outBuf strings.Builder
	started := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 1<<24)
		once := false
		for sc.Scan() {
			outBuf.WriteString(sc.Text() + "\n")
			if !once && strings.Contains(sc.Text(), "[It]") {
				once = true
				close(started)
			}
		}
	}()
	if fault != nil {
		select {
		case <-started:
			fault()
		case <-ctx.Done():
			t.Fatalf("no spec started within %s", runBound)
		}
	}
	err = cmd.Wait()
	if ctx.Err() != nil {
		t.Fatalf("the run did not end within %s", runBound)
	}
	out := runOutput{stdout: outBuf.String(), stderr: errBuf.String(), files: map[string]string{}}
	if ee, ok := err.(*exec.ExitError); ok {
		out.exit = ee.ExitCode()
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if b, err := os.ReadFile(filepath.Join(dir, e.Name())); err == nil {
			out.files[e.Name()] = string(b)
		}
	}
	if b, ok := out.files["results.json"]; ok {
		_ = json.Unmarshal([]byte(b), &out.results)
	}
	return out
}

func expectNoSecret(t *testing.T, out runOutput) {
	t.Helper()
	check := func(where, text string) {
		if n := strings.Count(text, secret); n > 0 {
			i := strings.Index(text, secret)
			t.Errorf("the password appears %d time(s) in %s, first near: %q", n, where, text[max(0, i-120):min(len(text), i+40)])
		}
	}
	check("stdout", out.stdout)
	check("stderr", out.stderr)
	for name, text := range out.files {
		check(name, text)
	}
	if len(out.files) == 0 && out.exit == 0 {
		t.Error("the run wrote no files")
	}
}

// expectHarnessErrors: the run's results name the fault (cause) among its
// harness errors, and no spec is charged to the driver as a plain failure
// for it.
func expectHarnessErrors(t *testing.T, out runOutput, cause string) {
	t.Helper()
	if out.results == nil {
		t.Fatalf("no results.json; stderr:\n%s", tail(out.stderr, 20))
	}
	b, _ := json.Marshal(out.results["harness_errors"])
	if !strings.Contains(string(b), cause) {
		t.Errorf("the run's harness errors do not name the fault (%q): %s", cause, b)
	}
	specs, _ := out.results["specs"].([]any)
	for _, s := range specs {
		m, _ := s.(map[string]any)
		if m["outcome"] == "failed" {
			t.Errorf("spec %v of %v charged to the driver: %v", m["id"], m["adapter"], m["message"])
		}
	}
}

// startTarget runs the reference image with the canary password and
// returns its DSN and container id; it is removed when the test ends.
func startTarget(t *testing.T) (string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cli, err := containers.Docker(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	image, _, err := containers.PostgresBuild.Ensure(ctx, cli, envOr("PGWC_BASE_IMAGE", "pgwire-conformance/base:trixie"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := testcontainers.GenericContainer(ctx, testcontainers.GenericContainerRequest{
		ContainerRequest: testcontainers.ContainerRequest{
			Image:        image,
			Env:          map[string]string{"POSTGRES_USER": "conformance", "POSTGRES_PASSWORD": secret, "POSTGRES_DB": "conformance"},
			ExposedPorts: []string{"5432/tcp"},
			Labels:       containers.Labels(),
			WaitingFor:   wait.ForListeningPort("5432/tcp").WithStartupTimeout(2 * time.Minute),
		},
		Started: true,
	})
	if c != nil {
		t.Cleanup(func() { _ = c.Terminate(context.Background()) })
	}
	if err != nil {
		t.Fatal(err)
	}
	ip, err := c.ContainerIP(ctx)
	if err != nil {
		t.Fatal(err)
	}
	dsn := (&url.URL{Scheme: "postgres", User: url.UserPassword("conformance", secret), Host: net.JoinHostPort(ip, "5432"),
		Path: "/conformance", RawQuery: "sslmode=disable"}).String()
	config.RegisterDSN(dsn)
	return dsn, c.GetContainerID()
}

func docker(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command("docker", args...).CombinedOutput(); err != nil {
		t.Fatalf("docker %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

var _ = io.Discard
var _ = fmt.Sprint
