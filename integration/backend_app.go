package integration

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/pgwire-conformance/pgwire-conformance/adapter"
	"github.com/pgwire-conformance/pgwire-conformance/adapter/remote"
	"github.com/pgwire-conformance/pgwire-conformance/fixtures"
	"github.com/pgwire-conformance/pgwire-conformance/harness"
)

// startBackendApp seeds a vector table through the observer, opens the
// adapter's engine with pool max 5 and has the backend serve its own web
// app (FastAPI on uvicorn for the Python backend) on that engine, its
// POST /search running the profile's search SQL on the seeded table. The
// SQL comes from the Go side, so the backend searches exactly the table
// the ground truth is computed for.
func startBackendApp(ctx SpecContext, s *harness.Subject) *web {
	GinkgoHelper()
	w, e, table := open(ctx, s, "app_vectors")
	// The transcript recorder wraps the engine; the web app is an optional
	// interface of the adapter's own engine.
	wa, ok := harness.Underlying(e).(remote.WebApp)
	Expect(ok).To(BeTrue(), "adapter %s declares %q but its engines do not implement remote.WebApp", s.Info.Name, adapter.WebApp)
	url, err := wa.StartWebApp(ctx, fixtures.SearchSQL(harness.Profile(), table, k), harness.Profile().Sleep(SleepSeconds))
	Expect(err).NotTo(HaveOccurred(), "webapp.start on %s", s.Info.Name)
	GinkgoWriter.Printf("backend web app of %s at %s\n", s.Info.Name, url)
	w.url = url
	// The app is up once it answers: webapp.start returns when uvicorn listens.
	Eventually(func() error {
		_, _, _, err := w.call(ctx, "GET", "/test", nil)
		return err
	}).WithContext(ctx).WithTimeout(10*time.Second).WithPolling(100*time.Millisecond).Should(Succeed(), "reach the backend's web app at %s", url)
	return w
}

// backendSearch is the body of the seed's POST /search: the query vector
// as a JSON array of floats.
func backendSearch(q []float32) any { return q }

// The backend group runs for adapters that ship their own web application
// (remote backends declaring webapp); Go adapters are n/a.
var _ = harness.ForEachAdapter("Integration: backend web application", Label("http"), func(s *harness.Subject) {
	s.It("GET /health and GET /test of the backend's own app answer the seed's exact bodies", harness.Reqs("FR-014", "T008", "T019", "T020"), func(ctx SpecContext) {
		w := startBackendApp(ctx, s)
		Expect(w.expectJSON(ctx, "GET", "/health", nil)).To(MatchJSON(`{"status":"ok","db":true}`))
		Expect(w.expectJSON(ctx, "GET", "/test", nil)).To(MatchJSON(`{"value":1}`))
	}, harness.Needs{adapter.WebApp}, webTimeout)

	s.It("POST /search of the backend's own app answers the 5 nearest rows, as computed in Go", harness.Reqs("FR-014", "T009", "T020"), func(ctx SpecContext) {
		w := startBackendApp(ctx, s)
		for _, q := range fixtures.Queries(3, dim) {
			body := w.expectJSON(ctx, "POST", "/search", q)
			Expect(checkSearch(body, fixtures.TopK(w.rows, q, k))).To(Succeed())
		}
		// A row's own vector finds that row first, score 1.
		self := w.rows[41]
		body := w.expectJSON(ctx, "POST", "/search", self.Embedding)
		Expect(checkSearch(body, fixtures.TopK(w.rows, self.Embedding, k))).To(Succeed())
	}, harness.Needs{adapter.WebApp}, webTimeout)

	s.It("the backend's own app serves 50 concurrent requests on a pool of 5, every answer correct", harness.Reqs("FR-014", "T008", "T009", "T019", "T020"), func(ctx SpecContext) {
		w := startBackendApp(ctx, s)
		w.expectConcurrent(ctx, w.mixed(concurrent, backendSearch))
	}, harness.Needs{adapter.WebApp}, webTimeout)

	s.It("the backend's own app never holds more than 5 server connections while serving 50 concurrent requests, and uses several at once", harness.Reqs("FR-014", "FR-005", "T008", "T019", "T020"), func(ctx SpecContext) {
		w := startBackendApp(ctx, s)
		w.expectPoolBound(ctx, w.mixed(concurrent, backendSearch))
	}, harness.Needs{adapter.WebApp}, webTimeout)

	s.It("the backend's own app serves 10 slow requests (a 0.2 s server sleep each) concurrently, far below the serial time", harness.Reqs("FR-014", "FR-008", "T008", "T019", "T020"), func(ctx SpecContext) {
		w := startBackendApp(ctx, s)
		w.expectConcurrentSleeps(ctx, 10)
	}, harness.Needs{adapter.WebApp}, webTimeout)
})
