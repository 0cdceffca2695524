package contract

import (
	"crypto/tls"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/pgwire-conformance/pgwire-conformance/adapter"
	"github.com/pgwire-conformance/pgwire-conformance/certs"
	"github.com/pgwire-conformance/pgwire-conformance/harness"
)

// TLS and authentication, as the driver does them, seen on the wire. The
// engine's wire tap terminates TLS with a certificate from the run's tap
// CA (so it still sees every message, SCRAM's included) and speaks plain
// TCP to the target: these specs certify the driver's TLS, on any target.
var _ = harness.ForEachAdapter("Contract: TLS and authentication", Label("contract", "tls"), func(s *harness.Subject) {
	s.It("connects over TLS when the DSN asks for it (sslmode=require), and authenticates as the target asks", harness.Reqs("FR-001", "FR-009", "T015"), func(ctx SpecContext) {
		o, err := s.TryOpen(ctx, harness.Opening{PoolMax: 2, TapTLS: harness.TapTLS(), DSNParams: map[string]string{"sslmode": "require"}})
		Expect(err).NotTo(HaveOccurred(), "open an engine with sslmode=require against a server that offers TLS")
		Expect(adapter.Scalar(ctx, o.Engine, "SELECT 1")).To(BeEquivalentTo(1))
		sessions := harness.Sessions(o.Tap)
		Expect(sessions).NotTo(BeEmpty())
		want := mainLoginMechanism()
		for _, c := range sessions {
			Expect(c.TLS).To(BeTrue(), "connection c%d of the engine ran without TLS although the DSN asked for it", c.ID)
			if want != "" {
				Expect(c.AuthMethod).To(Equal(want), "connection c%d authenticated with %q; the target asks for %s", c.ID, c.AuthMethod, want)
			}
		}
		GinkgoWriter.Printf("%s: %d connection(s), TLS %s, authentication %s\n", s.Info.Name, len(sessions), sessions[0].TLSVersion, sessions[0].AuthMethod)
	}, harness.Needs{adapter.TLS}, SpecTimeout(60*time.Second))

	s.It("verifies the server certificate with sslmode=verify-full, and refuses one its root certificate did not sign", harness.Reqs("FR-001", "FR-009", "T015"), func(ctx SpecContext) {
		verify := map[string]string{"sslmode": "verify-full", "sslrootcert": harness.TapCAFile(harness.Target().TapCACert)}
		o, err := s.TryOpen(ctx, harness.Opening{PoolMax: 1, TapTLS: harness.TapTLS(), DSNParams: verify})
		Expect(err).NotTo(HaveOccurred(), "open an engine with sslmode=verify-full and the certificate's CA as sslrootcert")
		Expect(harness.Sessions(o.Tap)[0].TLS).To(BeTrue())

		host := strings.Split(o.Tap.Addr(), ":")[0]
		other, err := certs.NewCA("an untrusted CA", time.Now())
		Expect(err).NotTo(HaveOccurred())
		forged, err := other.ServerConfig(host, time.Now())
		Expect(err).NotTo(HaveOccurred())
		trusted, err := certs.ParseCA([]byte(harness.Target().TapCACert), []byte(harness.Target().TapCAKey))
		Expect(err).NotTo(HaveOccurred())
		misnamed, err := trusted.ServerConfig("not-this-host.invalid", time.Now())
		Expect(err).NotTo(HaveOccurred())
		for _, c := range []struct {
			what string
			cfg  *tls.Config
		}{
			{"a certificate from another CA, for this host (no verification at all would accept it)", forged},
			{"a certificate from the trusted CA for another host name (verify-ca instead of verify-full would accept it)", misnamed},
		} {
			By(c.what + " is refused")
			bad, err := s.TryOpen(ctx, harness.Opening{PoolMax: 1, TapTLS: c.cfg, DSNParams: verify, Refusal: refusalBound})
			Expect(err).To(HaveOccurred(), "with sslmode=verify-full the driver must refuse %s", c.what)
			for _, conn := range harness.Sessions(bad.Tap) {
				Expect(conn.Authenticated).To(BeFalse(), "connection c%d logged in to a server presenting %s", conn.ID, c.what)
			}
		}
	}, harness.Needs{adapter.TLS}, SpecTimeout(60*time.Second))

	s.It("never falls back to plain text when the DSN requires TLS and the server refuses it", harness.Reqs("FR-001", "FR-009", "T015"), func(ctx SpecContext) {
		o, err := s.TryOpen(ctx, harness.Opening{PoolMax: 1, TapTLS: harness.TapTLS(), RefuseTLS: true, DSNParams: map[string]string{"sslmode": "require"}, Refusal: refusalBound})
		for _, c := range harness.Sessions(o.Tap) {
			Expect(c.PlaintextAfterRefusal).To(BeFalse(), "connection c%d went on in plain text after the server refused TLS", c.ID)
			Expect(c.Authenticated && !c.TLS).To(BeFalse(), "connection c%d logged in without TLS although the DSN requires it", c.ID)
		}
		Expect(err).To(HaveOccurred(), "with sslmode=require and a server that refuses TLS, opening an engine (and its first query) must fail")
		GinkgoWriter.Printf("%s: %v\n", s.Info.Name, err)
	}, harness.Needs{adapter.TLS}, SpecTimeout(60*time.Second))
})

// refusalBound bounds an open that must fail: a driver refuses a bad
// certificate or a refused SSLRequest in milliseconds; a pool that keeps
// retrying is not waited for (the wire shows nothing logged in either way).
const refusalBound = 5 * time.Second

// mainLoginMechanism is the mechanism the driver must use with the
// target's main login, as the wire names it ("" when the target's method
// is not one a driver chooses).
func mainLoginMechanism() string {
	for _, l := range harness.Target().Logins {
		if l.Method == "scram-sha-256" {
			return "SCRAM-SHA-256"
		}
		return ""
	}
	return ""
}
