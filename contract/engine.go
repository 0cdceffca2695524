package contract

import (
	"context"
	"net/url"
	"time"

	"github.com/jackc/pgx/v5"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/pgwire-conformance/pgwire-conformance/adapter"
	"github.com/pgwire-conformance/pgwire-conformance/harness"
)

var _ = harness.ForEachAdapter("Contract: engine creation", Label("contract"), func(s *harness.Subject) {
	s.It("opens an engine from the target URL, and dispose closes its server connections", harness.Reqs("FR-001", "T004", "T018"), func(ctx SpecContext) {
		obs := harness.Observer(ctx)
		e, app := s.Open(ctx, 3)

		Expect(adapter.Scalar(ctx, e, "SELECT 1")).To(BeEquivalentTo(1))
		Expect(harness.ServerConnections(ctx, obs, app)).To(BeNumerically(">=", 1),
			"the server should see the engine's connection tagged application_name=%s", app)

		Expect(e.Close(ctx)).To(Succeed())
		Eventually(func(ctx context.Context) (int, error) {
			return harness.ServerConnections(ctx, obs, app)
		}).WithContext(ctx).WithTimeout(10*time.Second).WithPolling(50*time.Millisecond).Should(BeZero(),
			"after dispose the server should see none of the engine's connections")
	})

	s.It("connects as the URL's user, to its database and port (create_connect_args)", harness.Reqs("FR-001", "T015"), func(ctx SpecContext) {
		obs := harness.Observer(ctx)
		e, app := s.Open(ctx, 1)
		want, err := pgx.ParseConfig(harness.Target().DSN)
		Expect(err).NotTo(HaveOccurred())

		rows, err := e.Query(ctx, "SELECT current_user::text, current_database()::text, inet_server_port(), current_setting('application_name')")
		Expect(err).NotTo(HaveOccurred())
		got, err := rows.FetchAll(ctx)
		Expect(err).NotTo(HaveOccurred())
		Expect(rows.Close(ctx)).To(Succeed())
		Expect(got).To(HaveLen(1))

		var serverPort int64
		Expect(obs.QueryRow(ctx, "SELECT inet_server_port()").Scan(&serverPort)).To(Succeed())
		Expect(got[0]).To(Equal([]any{want.User, want.Database, serverPort, app}),
			"user, database, server port and application_name the server sees for %s", redactedURLUser(harness.Target().DSN))
	})
})

func redactedURLUser(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil || u.User == nil {
		return "(DSN)"
	}
	return u.User.Username() + "@" + u.Host + u.Path
}
