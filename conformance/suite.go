package conformance

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/gomega"

	"github.com/pgwire-conformance/pgwire-conformance/adapter/remote"
	"github.com/pgwire-conformance/pgwire-conformance/certs"
	"github.com/pgwire-conformance/pgwire-conformance/config"
	"github.com/pgwire-conformance/pgwire-conformance/containers"
	"github.com/pgwire-conformance/pgwire-conformance/harness"
	"github.com/pgwire-conformance/pgwire-conformance/health"
	"github.com/pgwire-conformance/pgwire-conformance/interference"
	"github.com/pgwire-conformance/pgwire-conformance/protocol"
	"github.com/pgwire-conformance/pgwire-conformance/report"
	"github.com/pgwire-conformance/pgwire-conformance/target"
)

// Process 1's own: the running target and the health monitor.
var (
	running *target.Running
	monitor *health.Monitor
	// outages are the monitor's findings, kept for the report after it stops.
	outages []health.Outage
)

// Health probing: every half second; a probe that takes longer than
// stallBound counts as an outage (a paused container, a hung server).
const (
	probeEvery = 500 * time.Millisecond
	stallBound = 3 * time.Second
)

// stallBoundOf is the stall bound of a target. PGlite serves every client
// from one backend, so a spec that holds a transaction or sleeps holds the
// probe's query too: only a much longer silence says it stopped answering.
func stallBoundOf(target string) time.Duration {
	if target == "pglite" {
		return 30 * time.Second
	}
	return stallBound
}

func registerSuiteNodes() {
	ginkgo.SynchronizedBeforeSuite(startTarget, receiveTarget, ginkgo.NodeTimeout(10*time.Minute))
	ginkgo.SynchronizedAfterSuite(func() {}, stopTarget, ginkgo.NodeTimeout(2*time.Minute))
	ginkgo.ReportAfterSuite("certification report", func(r ginkgo.Report) {
		writeReport(r)
		// Also here: after a second interrupt Ginkgo skips cleanup nodes
		// but still runs this one, and nothing may be left behind.
		if ginkgo.GinkgoParallelProcess() == 1 && !r.SuiteConfig.DryRun {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			_ = containers.RemoveOwned(ctx)
		}
	})
}

// startTarget runs on process 1: start (or reach) the target and the
// backends, start the health monitor, and hand the target to every process.
func startTarget(ctx ginkgo.SpecContext) []byte {
	gomega.Expect(harness.TreeErrors()).To(gomega.BeEmpty(), "the spec tree names unknown requirements or labels")
	cfg := harness.Config()
	// Whatever happens from here (Ctrl-C during an image build, a container
	// create, a readiness wait), this process's containers and networks go
	// when the suite ends: the sweep finds them by their owner label.
	ginkgo.DeferCleanup(func(ctx context.Context) error {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		return containers.RemoveOwned(cctx)
	})
	r, err := target.Start(ctx, cfg, ginkgo.GinkgoWriter)
	if err != nil {
		harness.HarnessFail("start the %s target: %v", cfg.TargetName(), err)
	}
	running = r
	registerTargetSecrets(r.Target)
	// Wire taps listen where both this host and the backend containers
	// reach them: the target network's gateway when the host routes to
	// the containers, else loopback.
	if st := r.Stack(); st != nil && r.Path == "container-ip" {
		gw, err := st.Gateway(ctx)
		if err != nil {
			harness.HarnessFail("wire taps: %v", err)
		}
		r.TapHost = gw
	}
	if err := target.RunSetup(ctx, r.DSN, harness.Profile().Setup); err != nil {
		harness.HarnessFail("profile %s setup: %v%s", cfg.Profile, err, logTail(ctx, r))
	}
	if err := remote.StartBackends(ctx, r.Stack(), r.DSN, cfg.Profile, cfg.Adapters, cfg.BaseImage, cfg.StartTimeout, ginkgo.GinkgoWriter); err != nil {
		harness.HarnessFail("start driver backends: %v", err)
	}
	if st := r.Stack(); st != nil {
		r.Images, r.Containers = st.Images(), st.ContainerNames()
	}
	// The wire taps' CA: the taps terminate TLS for the TLS specs, and the
	// drivers find its certificate at the same path here and in every
	// backend container.
	ca, err := certs.NewCA("pgwire-conformance wire taps", time.Now())
	if err != nil {
		harness.HarnessFail("the wire taps' CA: %v", err)
	}
	r.TapCACert, r.TapCAKey = string(ca.CertPEM), string(ca.KeyPEM)
	caFile, err := harness.WriteTapCA(r.TapCACert)
	if err != nil {
		harness.HarnessFail("write the wire taps' CA certificate: %v", err)
	}
	ginkgo.DeferCleanup(os.Remove, caFile)
	if err := r.Stack().CopyFile(ctx, "backend-", caFile, ca.CertPEM); err != nil {
		harness.HarnessFail("give the backends the wire taps' CA certificate: %v", err)
	}
	monitor = health.Start(probes(r.Target, cfg.Adapters), probeEvery, stallBoundOf(cfg.TargetName()))
	harness.SetIsolator(isolateBackends(cfg.Adapters))
	// Timing rounds judge every other process's CPU as interference.
	self := os.Getpid()
	harness.SetOurs(func() interference.Ours { return interference.InContainers(self, r.Stack().ContainerIDs()) })
	return remote.Encode(harness.EncodeTarget(r.Target))
}

func receiveTarget(ctx ginkgo.SpecContext, data []byte) {
	data, err := remote.Decode(data)
	gomega.Expect(err).NotTo(gomega.HaveOccurred())
	t, err := harness.DecodeTarget(data)
	gomega.Expect(err).NotTo(gomega.HaveOccurred())
	registerTargetSecrets(t)
	harness.SetTarget(t)
}

// registerTargetSecrets makes every output of this process mask the
// target's passwords.
func registerTargetSecrets(t target.Target) {
	config.RegisterDSN(t.DSN)
	config.RegisterSecret(t.TapCAKey)
	for _, l := range t.Logins {
		config.RegisterSecret(l.Password)
	}
}

func stopTarget(ctx ginkgo.SpecContext) {
	outages = monitor.Stop()
	monitor = nil
	if running != nil {
		gomega.Expect(running.Stop(ctx)).To(gomega.Succeed(), "remove the target's containers")
		running = nil
	}
}

// isolateBackends stills (docker pause) every backend but one while a
// timing spec measures, holding the health monitor's probes of the stilled
// ones (a pause on purpose is no outage).
func isolateBackends(adapters []string) func(ctx context.Context, keep string) func() {
	var all []string
	seen := map[string]bool{}
	for _, a := range remote.Selected(adapters) {
		if !seen[a.Backend()] {
			seen[a.Backend()] = true
			all = append(all, a.Backend())
		}
	}
	return func(ctx context.Context, keep string) func() {
		if running == nil || running.Stack() == nil || len(all) == 0 {
			return func() {}
		}
		var held []string
		for _, b := range all {
			if b != keep {
				held = append(held, "backend "+b)
			}
		}
		release := monitor.Hold(held...)
		thaw, err := running.Stack().Freeze(ctx, "backend-", "backend-"+keep)
		if err != nil {
			release()
			fmt.Fprintf(ginkgo.GinkgoWriter, "could not still the other backends for the measurement: %v\n", err)
			return func() {}
		}
		return func() {
			cctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if err := thaw(cctx); err != nil {
				fmt.Fprintf(ginkgo.GinkgoWriter, "could not resume the backends: %v\n", err)
			}
			release()
		}
	}
}

// probes are the monitor's: the target (a query on a connection of its
// own) and every backend the selected adapters need (an echo).
func probes(t target.Target, adapters []string) []health.Probe {
	out := []health.Probe{{Name: "target " + t.Name, Ping: targetPing(t)}}
	seen := map[string]bool{}
	for _, a := range remote.Selected(adapters) {
		if seen[a.Backend()] {
			continue
		}
		seen[a.Backend()] = true
		out = append(out, health.Probe{Name: "backend " + a.Backend(), Ping: backendPing(a)})
	}
	return out
}

func targetPing(t target.Target) func(ctx context.Context) error {
	var obs *harness.Observer
	return func(ctx context.Context) error {
		if obs == nil {
			o, err := harness.DialObserver(ctx, t.DSN, harness.Profile())
			if err != nil {
				return fmt.Errorf("connect: %s", config.Redact(err.Error()))
			}
			obs = o
		}
		var err error
		if target.SharesOneSession(t.Name) {
			err = obs.SyncRoundTrip(ctx)
		} else {
			_, err = obs.TryInt(ctx, "SELECT 1")
		}
		if err != nil {
			obs.Close(context.WithoutCancel(ctx))
			obs = nil
			return err
		}
		return nil
	}
}

func backendPing(a *remote.Adapter) func(ctx context.Context) error {
	var c *protocol.Client
	return func(ctx context.Context) error {
		if c == nil || c.Err() != nil {
			nc, err := a.Dial(ctx)
			if err != nil {
				return err
			}
			if err := nc.Call(ctx, "hello", map[string]any{"protocol": protocol.Version, "client": "pgwire-conformance health"}, nil); err != nil {
				nc.Close()
				return err
			}
			c = nc
		}
		return c.Call(ctx, "echo", map[string]any{"value": 1}, nil)
	}
}

// logTail is the target's container log tail, appended to a harness error.
func logTail(ctx context.Context, r *target.Running) string {
	tails := r.LogTail(context.WithoutCancel(ctx), 20)
	if len(tails) == 0 {
		return ""
	}
	keys := make([]string, 0, len(tails))
	for k := range tails {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString("\n" + report.LogTailMarker + " ---\n")
	for _, k := range keys {
		fmt.Fprintf(&b, "[%s]\n%s\n", k, strings.TrimRight(tails[k], "\n"))
	}
	return b.String()
}
