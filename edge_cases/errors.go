package edge_cases

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/pgwire-conformance/pgwire-conformance/adapter"
	"github.com/pgwire-conformance/pgwire-conformance/harness"
)

// errTimeout bounds each error spec; each should end within seconds.
const errTimeout = SpecTimeout(30 * time.Second)

var _ = harness.ForEachAdapter("Edge cases: errors", Label("errors"), func(s *harness.Subject) {
	s.It("surfaces SQLSTATE 42P01 for an undefined table, naming it", harness.Reqs("FR-009", "T029", "T032"), func(ctx SpecContext) {
		e, _ := s.Open(ctx, 1)
		missing := harness.UniqueName("no_such_table")

		err := runQuery(ctx, e, "SELECT * FROM "+missing)
		Expect(err).To(HaveOccurred(), "selecting from a table that does not exist must fail")
		Expect(adapter.SQLState(err)).To(Equal("42P01"), "SQLSTATE (undefined_table) of: %v", err)
		Expect(err.Error()).To(ContainSubstring(missing), "the message should name the missing table")
		Expect(adapter.Scalar(ctx, e, "SELECT 1")).To(BeEquivalentTo(1), "the engine stays usable after the error")
	}, errTimeout)

	s.It("surfaces SQLSTATE 23505 for a unique violation", harness.Reqs("FR-009", "T029", "T032"), func(ctx SpecContext) {
		obs := harness.Observe(ctx)
		table := harness.NewTable(ctx, obs, "err_unique", "id {bigint} PRIMARY KEY")
		e, _ := s.Open(ctx, 1)
		insert := fmt.Sprintf("INSERT INTO %s (id) VALUES ($1)", table)

		harness.Write(ctx, e, 1, insert, int64(7))
		_, err := e.Exec(ctx, insert, int64(7))
		Expect(err).To(HaveOccurred(), "inserting the same primary key twice must fail")
		Expect(adapter.SQLState(err)).To(Equal("23505"), "SQLSTATE (unique_violation) of: %v", err)

		Expect(obs.Count(ctx, table)).To(Equal(int64(1)), "the observer sees only the first row")
		Expect(adapter.Scalar(ctx, e, "SELECT 1")).To(BeEquivalentTo(1), "the engine stays usable after the error")
	}, errTimeout)

	s.It("surfaces SQLSTATE 42601 for a syntax error", harness.Reqs("FR-009", "T029", "T032"), func(ctx SpecContext) {
		e, _ := s.Open(ctx, 1)

		err := runQuery(ctx, e, "SELEC 1")
		Expect(err).To(HaveOccurred(), "a misspelt keyword must fail")
		Expect(adapter.SQLState(err)).To(Equal("42601"), "SQLSTATE (syntax_error) of: %v", err)
		Expect(err.Error()).To(ContainSubstring("SELEC"), "the message should quote the offending token")
		Expect(adapter.Scalar(ctx, e, "SELECT 1")).To(BeEquivalentTo(1), "the engine stays usable after the error")
	}, errTimeout)

	// A pool may connect lazily (pgxpool, SQLAlchemy's create_engine): the
	// refusal then surfaces at the first query instead of at Open. Either is
	// fine; what is certified is that it surfaces promptly and says where.
	s.It("reports a refused connection promptly, naming host and port", harness.Reqs("FR-009", "T029", "T032"), func(ctx SpecContext) {
		port := closedPort()
		u, err := url.Parse(harness.Target().DSN)
		Expect(err).NotTo(HaveOccurred(), "the target DSN is a URL")
		u.Host = net.JoinHostPort("127.0.0.1", port)
		q := u.Query()
		q.Set("connect_timeout", "5")
		u.RawQuery = q.Encode()

		start := time.Now()
		err = openAndQuery(ctx, s, u.String(), 10*time.Second)
		elapsed := time.Since(start)
		Expect(err).To(HaveOccurred(), "nothing listens on 127.0.0.1:%s", port)
		Expect(elapsed).To(BeNumerically("<", 10*time.Second), "a refused connection must be reported within 10 s")
		Expect(err.Error()).To(And(ContainSubstring("127.0.0.1"), ContainSubstring(port)),
			"the error must name the host and port it could not reach")
	}, errTimeout)

	s.It("reports a wrong password as an authentication failure, without echoing it", harness.Reqs("FR-009", "T029", "T032"), func(ctx SpecContext) {
		u, err := url.Parse(harness.Target().DSN)
		Expect(err).NotTo(HaveOccurred(), "the target DSN is a URL")
		Expect(u.User).NotTo(BeNil(), "the target DSN names a user")
		wrong := "wrong-" + harness.UniqueName("pw")
		u.User = url.UserPassword(u.User.Username(), wrong)

		err = openAndQuery(ctx, s, u.String(), 10*time.Second)
		Expect(err).To(HaveOccurred(), "connecting with a wrong password must fail")
		Expect(err).To(Or(
			WithTransform(adapter.SQLState, Equal("28P01")),
			MatchError(ContainSubstring("password authentication failed")),
		), "SQLSTATE 28P01 (invalid_password) or a message saying so")
		Expect(err.Error()).NotTo(ContainSubstring(wrong), "the error must not echo the password")
	}, errTimeout)

	s.It("honours statement_timeout with SQLSTATE 57014", harness.Reqs("FR-009", "T029", "T032"), func(ctx SpecContext) {
		e, _ := s.Open(ctx, 1)
		c := harness.Acquire(ctx, e)
		_, err := c.Exec(ctx, "SET statement_timeout = '200ms'")
		Expect(err).NotTo(HaveOccurred())

		// The guard only keeps a broken driver from hanging the spec; it is
		// longer than the bar so a cancel by the guard cannot pass as the
		// server's timeout.
		guard, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		start := time.Now()
		err = runQuery(guard, c, harness.Profile().Sleep(5))
		elapsed := time.Since(start)
		Expect(err).To(HaveOccurred(), "a 5 s server sleep must be cancelled by statement_timeout=200ms")
		Expect(elapsed).To(BeNumerically("<", 3*time.Second), "the timeout must end the statement well before the sleep would")
		Expect(adapter.SQLState(err)).To(Equal("57014"), "SQLSTATE (query_canceled) of: %v", err)
		Expect(err.Error()).To(ContainSubstring("statement timeout"), "the message should say it was the statement timeout")

		Expect(adapter.Scalar(ctx, c, "SELECT 1")).To(BeEquivalentTo(1), "the connection stays usable after the timeout")
	}, errTimeout)
})

// runQuery runs sql through q and reads its whole result, returning the
// first error: a driver may report a server error at Query or while reading.
func runQuery(ctx context.Context, q adapter.Querier, sql string, args ...any) error {
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		return err
	}
	_, err = rows.FetchAll(ctx)
	if cerr := rows.Close(ctx); err == nil {
		err = cerr
	}
	return err
}

// openAndQuery opens an engine on dsn through the adapter under test and, if
// the open succeeded (a lazy pool), runs SELECT 1 on it; it returns the first
// error, all within limit.
func openAndQuery(ctx context.Context, s *harness.Subject, dsn string, limit time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	e, err := s.Adapter.Open(ctx, adapter.OpenOptions{DSN: dsn, PoolMax: 1, ApplicationName: harness.UniqueName("pgwc_err")})
	if err != nil {
		GinkgoWriter.Printf("%s: Open failed: %v\n", s.Info.Name, err)
		return err
	}
	defer e.Close(context.WithoutCancel(ctx))
	err = runQuery(ctx, e, "SELECT 1")
	GinkgoWriter.Printf("%s: Open succeeded (lazy pool); first query: %v\n", s.Info.Name, err)
	return err
}

// closedPort returns a local TCP port nothing listens on: one the kernel
// just handed out and that was closed again.
func closedPort() string {
	GinkgoHelper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	Expect(err).NotTo(HaveOccurred())
	port := l.Addr().(*net.TCPAddr).Port
	Expect(l.Close()).To(Succeed())
	return strconv.Itoa(port)
}
