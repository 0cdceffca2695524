package harness

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/gomega"

	"github.com/pgwire-conformance/pgwire-conformance/adapter"
	"github.com/pgwire-conformance/pgwire-conformance/certs"
	"github.com/pgwire-conformance/pgwire-conformance/config"
	"github.com/pgwire-conformance/pgwire-conformance/report"
	"github.com/pgwire-conformance/pgwire-conformance/wiretap"
)

// Every engine a spec opens through the adapter under test reaches the
// target through a wire tap of its own: the evidence specs judge by —
// connections opened and open at peak, round trips, the messages of each
// query protocol, transaction status bytes — comes from the wire, so it
// holds on any server (iris-pgwire has no session view). The FR-013 timing
// path does not go through a tap (see harness/latency.go).

var taps struct {
	mu       sync.Mutex
	byEngine map[adapter.Engine]*wiretap.Tap
}

// tapHost is where taps listen: an address both this process and the
// backend containers on the target's network reach (the network's gateway
// on the host), else loopback.
func tapHost() string {
	if h := Target().TapHost; h != "" {
		return h
	}
	return "127.0.0.1"
}

// StartTap starts a wire tap in front of the target for the current spec
// and returns it with the DSN that reaches the target through it. When the
// spec fails, the tap's transcript (the protocol messages) is attached to
// its report; the tap closes when the spec ends.
func StartTap(name string, opts ...func(*wiretap.Options)) (*wiretap.Tap, string) {
	ginkgo.GinkgoHelper()
	dsn := Target().DSN
	u, err := url.Parse(dsn)
	if err != nil || u.Host == "" {
		HarnessFail("wire tap: the target DSN is not a URL with a host: %s", config.RedactDSN(dsn))
	}
	o := wiretap.Options{Upstream: u.Host, Listen: net.JoinHostPort(tapHost(), "0"), Name: name, DialTimeout: 10 * time.Second}
	for _, f := range opts {
		f(&o)
	}
	t, err := wiretap.Start(o)
	if err != nil {
		HarnessFail("wire tap %s: %v", name, err)
	}
	ginkgo.DeferCleanup(func() error {
		if ginkgo.CurrentSpecReport().Failed() {
			lines := t.Transcript(wireTranscriptLines)
			for i := range lines {
				lines[i] = config.Redact(lines[i])
			}
			ginkgo.AddReportEntry(report.WireEntry, lines, ginkgo.ReportEntryVisibilityFailureOrVerbose)
			var clients []string
			for _, c := range t.Conns() {
				if c.UpstreamLocal != "" {
					clients = append(clients, c.UpstreamLocal)
				}
			}
			NoteClients(clients...)
		}
		return t.Close()
	})
	via := *u
	via.Host = t.Addr()
	return t, via.String()
}

// wireTranscriptLines bounds the wire transcript attached to a failure.
const wireTranscriptLines = 120

// Wire is the tap in front of an engine the current spec opened with
// Subject.Open.
func Wire(e adapter.Engine) *wiretap.Tap {
	ginkgo.GinkgoHelper()
	taps.mu.Lock()
	defer taps.mu.Unlock()
	t, ok := taps.byEngine[e]
	if !ok {
		HarnessFail("no wire tap for this engine: open it with Subject.Open")
	}
	return t
}

func rememberTap(e adapter.Engine, t *wiretap.Tap) {
	taps.mu.Lock()
	defer taps.mu.Unlock()
	if taps.byEngine == nil {
		taps.byEngine = map[adapter.Engine]*wiretap.Tap{}
	}
	taps.byEngine[e] = t
	ginkgo.DeferCleanup(func() {
		taps.mu.Lock()
		defer taps.mu.Unlock()
		delete(taps.byEngine, e)
	})
}

// OpenTimeout bounds opening an engine and its first query: a driver that
// cannot reach the target fails its spec promptly with its own last error
// instead of waiting for the spec's whole timeout.
func OpenTimeout() time.Duration { return Config().ConnectTimeout }

// Open opens an engine through the adapter under test against the target,
// through a wire tap (Wire(e)), tagged with a unique application_name
// (returned) so an observer can find its server connections, and checks it
// answers SELECT 1 within OpenTimeout. Both steps are bounded by the
// harness's own clock, not only by the context handed to the driver: a
// driver that ignores its context (lib/pq waiting for an answer to its
// empty-query ping that iris-pgwire never sends) fails the spec within
// OpenTimeout, with its last error and the wire transcript, instead of
// holding it for its whole timeout. The engine is closed when the spec ends.
func (s *Subject) Open(ctx context.Context, poolMax int) (adapter.Engine, string) {
	ginkgo.GinkgoHelper()
	o, err := s.TryOpen(ctx, Opening{PoolMax: poolMax})
	// A Gomega failure, not ginkgo.Fail: a spec listed as an expected
	// failure (say, on a target whose divergence stops the driver from
	// connecting) catches it like any other failure of its body.
	gomega.Expect(err).To(noError{})
	return o.Engine, o.App
}

// noError matches a nil error; its failure is the error's message alone
// (the harness's errors are already redacted sentences, which Gomega's
// error dump would repeat).
type noError struct{}

func (noError) Match(actual any) (bool, error) { return actual == nil, nil }
func (noError) FailureMessage(actual any) string {
	if err, ok := actual.(error); ok {
		return err.Error()
	}
	return fmt.Sprint(actual)
}
func (noError) NegatedFailureMessage(any) string { return "expected an error" }

// Opening configures TryOpen.
type Opening struct {
	PoolMax int
	// DSNParams are added to the DSN the adapter opens with (sslmode=…).
	DSNParams map[string]string
	// TapTLS, when set, has the wire tap offer TLS with this configuration
	// (it terminates it: the tap still sees every message).
	TapTLS *tls.Config
	// RefuseTLS has the tap answer SSLRequest with 'N'.
	RefuseTLS bool
	// Refusal, when set, bounds an open the spec expects to fail (shorter
	// than OpenTimeout): the verdict is the wire's (nothing logged in),
	// and a pool that retries a refused connection until its own timeout
	// need not be waited for.
	Refusal time.Duration
}

// Opened is an engine TryOpen opened, its wire tap and application name.
// Tap is set even when opening failed (its record shows why).
type Opened struct {
	Engine adapter.Engine
	Tap    *wiretap.Tap
	App    string
}

// TryOpen is Open returning what went wrong instead of failing the spec:
// for specs where failing to connect is the expected answer.
func (s *Subject) TryOpen(ctx context.Context, o Opening) (Opened, error) {
	ginkgo.GinkgoHelper()
	// An open that must fail (Refusal) is attempted even so: it is bounded
	// anyway, and its verdict must not depend on the order specs ran in.
	if why, clients, hung := hungOpen(s.Info.Name); hung && o.Refusal == 0 {
		// The cause is the earlier spec's: so are the connections it met.
		// The spec fails even where a failed open is its expected answer:
		// nothing was attempted, so nothing was seen.
		NoteClients(clients...)
		gomega.Expect(errors.New(why)).To(noError{})
	}
	app := UniqueName("pgwc_" + sanitize(s.Info.Name))
	t, dsn := StartTap(app, func(to *wiretap.Options) { to.TLS = o.TapTLS })
	if o.RefuseTLS {
		t.Faults().RefuseTLS(true)
	}
	for k, v := range o.DSNParams {
		var err error
		if dsn, err = adapter.WithParam(dsn, k, v); err != nil {
			HarnessFail("DSN parameter %s: %v", k, err)
		}
	}
	out := Opened{Tap: t, App: app}
	bound := OpenTimeout()
	if o.Refusal > 0 && o.Refusal < bound {
		bound = o.Refusal
	}
	octx, cancel := context.WithTimeout(ctx, bound)
	defer cancel()
	var e adapter.Engine
	err, answered := Within(octx, bound+time.Second, func(ctx context.Context) error {
		var err error
		e, err = s.Adapter.Open(ctx, adapter.OpenOptions{DSN: dsn, PoolMax: o.PoolMax, ApplicationName: app})
		return err
	})
	if !answered {
		why := config.Redact(fmt.Sprintf("opening an engine of %s against %s (through a wire tap) did not return within %s: the driver does not honour its context", s.Info.Name, Target().RedactedDSN(), bound))
		rememberHungOpen(s.Info.Name, why, t)
		return out, errors.New(why)
	}
	if err != nil {
		return out, errors.New(config.Redact(fmt.Sprintf("open engine for %s against %s (through a wire tap) within %s: %v", s.Info.Name, Target().RedactedDSN(), bound, err)))
	}
	// Every call through the engine is recorded; a failed spec's report
	// shows the transcript (harness/transcript.go).
	e = transcribe(e)
	rememberTap(e, t)
	ginkgo.DeferCleanup(func(ctx context.Context) error {
		cctx, cancel := detach(ctx)
		defer cancel()
		err, answered := Within(cctx, Config().OpTimeout, e.Close)
		if !answered {
			return fmt.Errorf("closing the engine of %s did not return within %s", s.Info.Name, Config().OpTimeout)
		}
		return err
	})
	out.Engine = e
	err, answered = Within(octx, bound+time.Second, func(ctx context.Context) error {
		_, err := adapter.QueryAll(ctx, e, "SELECT 1")
		return err
	})
	switch {
	case !answered:
		why := config.Redact(fmt.Sprintf("the engine of %s did not answer SELECT 1 within %s of opening, and ignored its context", s.Info.Name, bound))
		rememberHungOpen(s.Info.Name, why, t)
		return out, errors.New(why)
	case err != nil:
		return out, errors.New(config.Redact(fmt.Sprintf("engine of %s could not run SELECT 1 within %s of opening: %v", s.Info.Name, bound, err)))
	}
	return out, nil
}

// Within runs f and waits at most bound for it, by the harness's own
// clock: answered is false when f had not returned by then (it goes on in
// the background until its own context or the spec ends, whichever a
// driver that ignores contexts notices first — the spec's wire tap closes
// its connections at the end).
func Within(ctx context.Context, bound time.Duration, f func(context.Context) error) (err error, answered bool) {
	done := make(chan error, 1)
	go func() {
		defer ginkgo.GinkgoRecover()
		done <- f(ctx)
	}()
	t := time.NewTimer(bound)
	defer t.Stop()
	select {
	case err = <-done:
		return err, true
	case <-t.C:
		return nil, false
	}
}

func sanitize(name string) string {
	b := []byte(name)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			b[i] = '_'
		}
	}
	return string(b)
}

// Sessions are a tap's client connections that carried a session (not a
// CancelRequest), oldest first; none when no tap was started (TryOpen
// refused at once for an adapter whose earlier open hung).
func Sessions(t *wiretap.Tap) []wiretap.ConnInfo {
	var out []wiretap.ConnInfo
	if t == nil {
		return nil
	}
	for _, c := range t.Conns() {
		if !c.Cancel {
			out = append(out, c)
		}
	}
	return out
}

// NoteClients records, for a failed spec, the addresses its connections
// came from as the target saw them (a tap's upstream side, or a wire
// spec's own socket): a report can then ask a target that records what it
// did per client (the divergent proxy) which of its divergences this spec
// met.
func NoteClients(addrs ...string) {
	if len(addrs) > 0 {
		ginkgo.AddReportEntry(report.ClientsEntry, addrs, ginkgo.ReportEntryVisibilityNever)
	}
}

// hung remembers, per adapter, an engine open that did not return (the
// driver ignored its context): every later spec of the adapter in this
// process fails at once with that cause instead of waiting again — a
// driver that cannot connect to a target costs one bounded wait per
// process, not its whole timeout per spec.
var hung = struct {
	sync.Mutex
	why     map[string]string
	clients map[string][]string
}{why: map[string]string{}, clients: map[string][]string{}}

func rememberHungOpen(adapterName, why string, t *wiretap.Tap) {
	hung.Lock()
	defer hung.Unlock()
	hung.why[adapterName] = why + " (in spec \"" + ginkgo.CurrentSpecReport().LeafNodeText + "\")"
	for _, c := range t.Conns() {
		if c.UpstreamLocal != "" {
			hung.clients[adapterName] = append(hung.clients[adapterName], c.UpstreamLocal)
		}
	}
}

func hungOpen(adapterName string) (why string, clients []string, ok bool) {
	hung.Lock()
	defer hung.Unlock()
	why, ok = hung.why[adapterName]
	if !ok {
		return "", nil, false
	}
	return "not attempted: earlier in this run " + why + "; every spec of " + adapterName + " that needs an engine fails with that cause", hung.clients[adapterName], true
}

// The wire taps' TLS: a CA made for the run (Target.TapCACert/Key), a
// certificate for the tap host made once per process from it, and the CA
// certificate in a file at the same path on this host and in every backend
// container, for a driver's sslrootcert.
var tapTLS struct {
	sync.Mutex
	cfg *tls.Config
	err error
}

// TapTLS is the TLS configuration a tap offers the driver under test: a
// certificate for the tap host, signed by the run's tap CA.
func TapTLS() *tls.Config {
	ginkgo.GinkgoHelper()
	tapTLS.Lock()
	defer tapTLS.Unlock()
	if tapTLS.cfg == nil && tapTLS.err == nil {
		t := Target()
		ca, err := certs.ParseCA([]byte(t.TapCACert), []byte(t.TapCAKey))
		if err == nil {
			tapTLS.cfg, err = ca.ServerConfig(tapHost(), time.Now())
		}
		tapTLS.err = err
	}
	if tapTLS.err != nil {
		HarnessFail("the wire taps' TLS certificate: %v", tapTLS.err)
	}
	return tapTLS.cfg
}

// TapCAFile is where the run's tap CA certificate is, on this host and in
// every backend container (process 1 writes and copies it).
func TapCAFile(caPEM string) string {
	sum := sha256.Sum256([]byte(caPEM))
	return filepath.Join(os.TempDir(), "pgwc-tap-ca-"+hex.EncodeToString(sum[:6])+".pem")
}

// WriteTapCA writes the tap CA certificate to TapCAFile on this host.
func WriteTapCA(caPEM string) (string, error) {
	p := TapCAFile(caPEM)
	return p, os.WriteFile(p, []byte(caPEM), 0o644)
}

// Acquire holds a connection of e for the rest of the spec (released when
// it ends). The driver's Acquire runs under Within: one that ignores its
// context fails the spec when OpTimeout passes instead of returning after
// the spec has ended, when no cleanup can be registered any more (Ginkgo
// ends the process for a DeferCleanup outside a running node).
func Acquire(ctx context.Context, e adapter.Engine) adapter.Conn {
	ginkgo.GinkgoHelper()
	var c adapter.Conn
	err, answered := Within(ctx, Config().OpTimeout, func(ctx context.Context) error {
		var err error
		c, err = e.Acquire(ctx)
		return err
	})
	if !answered {
		gomega.Expect(fmt.Errorf("acquiring a connection did not return within %s, and ignored its context", Config().OpTimeout)).To(noError{})
	}
	gomega.Expect(err).NotTo(gomega.HaveOccurred(), "acquire a connection")
	ginkgo.DeferCleanup(func(ctx context.Context) error { return c.Release(ctx) })
	return c
}
