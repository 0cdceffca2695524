package wire

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"regexp"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/pgwire-conformance/pgwire-conformance/harness"
	"github.com/pgwire-conformance/pgwire-conformance/target"
)

// startupTimeout bounds each start-up spec: a few round trips.
const startupTimeout = SpecTimeout(30 * time.Second)

// authMethods are the password methods a target may offer (target.Login).
var authMethods = []string{"scram-sha-256", "md5", "password"}

// serverVersion is what drivers parse out of server_version: a major
// version first ("17.6", "16.0 (InterSystems IRIS)").
var serverVersion = regexp.MustCompile(`^[0-9]+(\.[0-9]+)*`)

var _ = harness.ForTarget("Wire: start-up", Label("wire"), func(s *harness.Subject) {
	s.It("starts a session: authentication, the ParameterStatus set drivers rely on, BackendKeyData, ReadyForQuery idle", harness.Reqs("FR-001", "COMPAT"), func(ctx SpecContext) {
		checks(secStartup)
		c := Dial(ctx)
		res := c.LogIn(ctx, Target().Login, map[string]string{"client_encoding": "UTF8"})
		Expect(res.Error).To(BeNil(), "the DSN's own login must start a session: %v", res.Error)

		By("the flow after authentication: AuthenticationOk, ParameterStatus…, BackendKeyData, ReadyForQuery 'I'")
		flow := Flow(res.Messages)
		Expect(flow).To(ContainElement("AuthenticationOk"))
		Expect(flow[len(flow)-2:]).To(Equal([]string{"BackendKeyData", "ReadyForQuery"}), "the start-up ends with BackendKeyData then ReadyForQuery: %v", Names(res.Messages))
		Expect(Status(res.Messages)).To(Equal("I"))
		Expect(c.PID).NotTo(BeZero(), "BackendKeyData carries the process id CancelRequest needs")

		By("the ParameterStatus values pgx, psycopg and JDBC check at start-up")
		soft := harness.NewSoft()
		soft.Expect(c.Params).To(HaveKeyWithValue("server_version", MatchRegexp(serverVersion.String())), "server_version starts with a version number")
		soft.Expect(c.Params).To(HaveKeyWithValue("server_encoding", "UTF8"))
		soft.Expect(c.Params).To(HaveKeyWithValue("client_encoding", "UTF8"), "the client_encoding the start-up asked for")
		soft.Expect(c.Params).To(HaveKeyWithValue("DateStyle", HavePrefix("ISO")), "drivers parse dates in ISO style")
		soft.Expect(c.Params).To(HaveKeyWithValue("integer_datetimes", "on"), "binary timestamps are 64-bit integers")
		soft.Expect(c.Params).To(HaveKeyWithValue("standard_conforming_strings", "on"), "drivers escape literals assuming it")
		soft.Verify()
		GinkgoWriter.Printf("ParameterStatus: %v\n", c.Params)

		Expect(Text(c.Query(ctx, "SELECT 1"))).To(Equal([][]string{{"1"}}), "the session answers a query")
	}, startupTimeout)

	s.It("answers SSLRequest as the target offers TLS, with 'S' completing a handshake verified against its CA", harness.Reqs("FR-001"), func(ctx SpecContext) {
		checks(secSSL)
		ep := Target()
		c := Dial(ctx)
		answer := c.RequestSSL(ctx)
		ca := harness.Target().CACert
		if ca == "" {
			Expect(string(answer)).To(Equal("N"), "the target offers no TLS (no CA certificate), so SSLRequest must be declined with 'N'")
		} else {
			Expect(string(answer)).To(Equal("S"), "the target offers TLS (it has a CA certificate), so SSLRequest must be accepted with 'S'")
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM([]byte(ca)) {
				harness.HarnessFail("the target's CA certificate is not PEM")
			}
			err := c.StartTLS(ctx, &tls.Config{RootCAs: pool, ServerName: ep.Host, MinVersion: tls.VersionTLS12})
			Expect(err).NotTo(HaveOccurred(), "TLS handshake, the server certificate verified against the target's CA for %s", ep.Host)
		}
		By("the session starts over the connection as negotiated")
		res := c.LogIn(ctx, ep.Login, nil)
		Expect(res.Error).To(BeNil(), "start-up after the SSLRequest answer: %v", res.Error)
		Expect(Text(c.Query(ctx, "SELECT 1"))).To(Equal([][]string{{"1"}}))
	}, startupTimeout)

	for _, method := range authMethods {
		s.It(fmt.Sprintf("authenticates with %s: asks for exactly %s, accepts the password, refuses a wrong one with 28P01", method, method),
			harness.Reqs("FR-001", "FR-009"), func(ctx SpecContext) {
				checks(secStartup)
				l, ok := loginFor(method)
				if !ok {
					Skip(fmt.Sprintf("%sthe target offers no %s login (target %s)", harness.NotApplicable, method, harness.Target().Name))
				}
				db := Target().Login.Database
				c := Dial(ctx)
				res := c.LogIn(ctx, Login{User: l.User, Password: l.Password, Database: db}, nil)
				Expect(Method(res.Asked)).To(Equal(method), "the server must ask user %s for %s; it sent %v", l.User, method, Names(res.Messages))
				Expect(res.Error).To(BeNil(), "the right password must be accepted: %v", res.Error)
				Expect(Status(res.Messages)).To(Equal("I"))

				refusesWrongPassword(ctx, Login{User: l.User, Password: "wrong-" + harness.UniqueName("pw"), Database: db}, method)
			}, startupTimeout)
	}

	s.It("refuses a wrong password for the DSN's own user with 28P01", harness.Reqs("FR-001", "FR-009", "COMPAT"), func(ctx SpecContext) {
		checks(secStartup)
		l := Target().Login
		l.Password = "wrong-" + harness.UniqueName("pw")
		refusesWrongPassword(ctx, l, "")
	}, startupTimeout)
})

// refusesWrongPassword starts a session with a wrong password: the server
// must ask for a password (method, if given) and end the start-up with
// 28P01, without echoing the password, then close the connection.
func refusesWrongPassword(ctx SpecContext, l Login, method string) {
	GinkgoHelper()
	c := Dial(ctx)
	res := c.LogIn(ctx, l, nil)
	Expect(res.Asked).NotTo(BeAssignableToTypeOf(&pgproto3.AuthenticationOk{}), "the server asked user %s for no password at all: any password is accepted", l.User)
	if method != "" {
		Expect(Method(res.Asked)).To(Equal(method), "the server must ask for %s", method)
	}
	Expect(res.Error).NotTo(BeNil(), "a wrong password must be refused; the server sent %v", Names(res.Messages))
	Expect(res.Error.Code).To(Equal("28P01"), "SQLSTATE invalid_password: %s %s", res.Error.Code, res.Error.Message)
	Expect(res.Error.Message).NotTo(ContainSubstring(l.Password), "the error must not echo the password")
	c.ExpectClosed(ctx)
}

// loginFor returns the target's login for an authentication method.
func loginFor(method string) (target.Login, bool) {
	for _, l := range harness.Target().Logins {
		if l.Method == method {
			return l, true
		}
	}
	return target.Login{}, false
}
