package conformance

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/onsi/ginkgo/v2"

	"github.com/pgwire-conformance/pgwire-conformance/harness"
	"github.com/pgwire-conformance/pgwire-conformance/report"
	"github.com/pgwire-conformance/pgwire-conformance/target"
	"github.com/pgwire-conformance/pgwire-conformance/wiretap"
	"github.com/pgwire-conformance/pgwire-conformance/wiretap/divergent"
)

// The divergent target: the reference server behind a proxy (a wire tap
// with package divergent's rewriter) that behaves like iris-pgwire 1.0.1 at
// the protocol level — untyped parameters described as unknown (705),
// command tags like INSERT 0 0 0, every SQLSTATE 42000, the empty query
// unanswered, binary result formats leaking into the next simple query,
// ROLLBACK answered but not forwarded. It proves in CI that the suite stays
// correct on a server that is not PostgreSQL, and that each divergence
// fails the specs that should catch it: the proxy reports which behaviour
// it applied to which client connection, and the report names, for every
// failed spec, the divergences its connections met.
//
// The proxy runs in a process of its own (this test binary, started again
// in proxy mode): in Ginkgo's process 1 it would put the traffic of every
// process into the heap that the streaming specs of process 1 measure.
// It listens on the target network's gateway, so the backends reach it.
func init() { target.RegisterWrapper("divergent", wrapDivergent) }

// proxyEnv asks this binary to serve the divergent proxy instead of the
// suite (see runProxyIfAsked).
const proxyEnv = "PGWC_INTERNAL_DIVERGENT_PROXY"

type proxySpec struct {
	Upstream    string `json:"upstream"`
	Listen      string `json:"listen"`
	Divergences string `json:"divergences"`
}

// proxyLine is one line the proxy process writes: first where it
// listens, then each (client, behaviour) the first time it fires.
type proxyLine struct {
	Listening string `json:"listening,omitempty"`
	Client    string `json:"client,omitempty"`
	Behaviour string `json:"behaviour,omitempty"`
	Error     string `json:"error,omitempty"`
}

// fired maps a client (clientKey) to the behaviours the proxy applied on
// its connection; filled in process 1 while the run goes.
var fired = struct {
	sync.Mutex
	byClient map[string][]string
}{byClient: map[string][]string{}}

// runProxyIfAsked serves the proxy until its parent closes stdin, then
// exits; it returns at once when this process is not the proxy.
func runProxyIfAsked() {
	raw := os.Getenv(proxyEnv)
	if raw == "" {
		return
	}
	out := json.NewEncoder(os.Stdout)
	var mu sync.Mutex
	write := func(l proxyLine) {
		mu.Lock()
		defer mu.Unlock()
		_ = out.Encode(l)
	}
	fail := func(err error) {
		write(proxyLine{Error: err.Error()})
		os.Exit(1)
	}
	var p proxySpec
	if err := json.Unmarshal([]byte(raw), &p); err != nil {
		fail(fmt.Errorf("%s: %w", proxyEnv, err))
	}
	rw, err := divergent.Parse(p.Divergences)
	if err != nil {
		fail(err)
	}
	seen := map[[2]string]bool{}
	var seenMu sync.Mutex
	rw.OnFire = func(client, behaviour string) {
		seenMu.Lock()
		first := !seen[[2]string{client, behaviour}]
		seen[[2]string{client, behaviour}] = true
		seenMu.Unlock()
		if first {
			write(proxyLine{Client: client, Behaviour: behaviour})
		}
	}
	tap, err := wiretap.Start(wiretap.Options{Upstream: p.Upstream, Listen: p.Listen, Name: "divergent", Rewriter: rw, MaxRecords: 1})
	if err != nil {
		fail(err)
	}
	write(proxyLine{Listening: tap.Addr()})
	_, _ = io.Copy(io.Discard, os.Stdin) // until the suite's process 1 goes
	_ = tap.Close()
	os.Exit(0)
}

func wrapDivergent(ctx context.Context, r *target.Running) (func(context.Context) error, error) {
	names := harness.Config().Divergences
	rw, err := divergent.Parse(names)
	if err != nil {
		return nil, err
	}
	u, err := url.Parse(r.DSN)
	if err != nil {
		return nil, fmt.Errorf("divergent proxy: target DSN: %w", err)
	}
	host := "127.0.0.1"
	if st := r.Stack(); st != nil && r.Path == "container-ip" {
		if host, err = st.Gateway(ctx); err != nil {
			return nil, fmt.Errorf("divergent proxy: %w", err)
		}
	}
	spec, _ := json.Marshal(proxySpec{Upstream: u.Host, Listen: net.JoinHostPort(host, "0"), Divergences: names})
	cmd := exec.Command(os.Args[0], "-test.run=^"+regexp.QuoteMeta(state.test)+"$", "-test.timeout=0")
	cmd.Env = append(os.Environ(), proxyEnv+"="+string(spec))
	cmd.Stderr = ginkgo.GinkgoWriter
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("divergent proxy: start %s: %w", os.Args[0], err)
	}
	stop := func(context.Context) error {
		stdin.Close()
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			return err
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			return errors.New("divergent proxy did not stop within 10 s: killed")
		}
	}
	listening := make(chan proxyLine, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		first := true
		for sc.Scan() {
			var l proxyLine
			if json.Unmarshal(sc.Bytes(), &l) != nil {
				continue
			}
			if first {
				first = false
				listening <- l
				continue
			}
			fired.Lock()
			k := clientKey(l.Client)
			if !slices.Contains(fired.byClient[k], l.Behaviour) {
				fired.byClient[k] = append(fired.byClient[k], l.Behaviour)
			}
			fired.Unlock()
		}
		if first {
			listening <- proxyLine{Error: "the proxy process ended before it listened"}
		}
	}()
	select {
	case l := <-listening:
		if l.Listening == "" {
			_ = stop(ctx)
			return nil, fmt.Errorf("divergent proxy: %s", l.Error)
		}
		u.Host = l.Listening
	case <-time.After(30 * time.Second):
		_ = stop(ctx)
		return nil, errors.New("divergent proxy: not listening within 30 s")
	}
	r.DSN = u.String()
	// iris-pgwire 1.0.1 offers no TLS by default (PGWIRE_SSL_ENABLED is
	// off), nor does the proxy: the reference's certificate is not the
	// target's.
	r.CACert = ""
	r.Implementation = fmt.Sprintf("divergent proxy (iris-pgwire 1.0.1 behaviours: %s) → %s", strings.Join(rw.Names(), ", "), r.ServerVersion)
	return stop, nil
}

// attributeDivergences names, for each judged spec of a run against the
// divergent target, the injected behaviours its connections met, as the
// proxy reported them: every failure there must be one of these.
func attributeDivergences(run *report.Run) {
	fired.Lock()
	defer fired.Unlock()

	for i := range run.Specs {
		s := &run.Specs[i]
		var met []string
		for _, c := range s.Clients {
			for _, b := range fired.byClient[clientKey(c)] {
				if !slices.Contains(met, b) {
					met = append(met, b)
				}
			}
		}
		slices.Sort(met)
		s.Divergences = met
		switch s.Outcome {
		case report.Failed, report.ExpectedFail, report.Inconclusive, report.HarnessError:
			if len(met) > 0 {
				s.Message = "[divergence: " + strings.Join(met, ", ") + "] " + s.Message
			} else {
				s.Message = "[no injected divergence reached this spec's connections] " + s.Message
			}
		}
	}
}

// clientKey is the part of a client address both ends agree on: the port.
// The proxy and the specs' connections run on one host, so a port names
// one connection at a time, while the address the proxy sees for it may be
// translated (a bridge, a NAT) from the one the client dialled from.
func clientKey(addr string) string {
	if _, port, err := net.SplitHostPort(addr); err == nil {
		return port
	}
	return addr
}
