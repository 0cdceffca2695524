package integration

import (
	"fmt"
	"net/http"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/pgwire-conformance/pgwire-conformance/adapter"
	"github.com/pgwire-conformance/pgwire-conformance/adapter/remote"
	"github.com/pgwire-conformance/pgwire-conformance/fixtures"
	"github.com/pgwire-conformance/pgwire-conformance/harness"
	"github.com/pgwire-conformance/pgwire-conformance/profile"
)

// startBackendApp seeds a vector table through the observer, opens the
// adapter's engine with pool max 5 and has the backend serve its own web
// app (FastAPI on uvicorn for the Python backend) on that engine, its
// POST /search running the profile's search SQL on the seeded table. The
// SQL comes from the Go side, so the backend searches exactly the table
// the ground truth is computed for.
func startBackendApp(ctx SpecContext, s *harness.Subject) *web {
	GinkgoHelper()
	p := harness.Profile()
	obs := harness.Observer(ctx)
	data := fixtures.Rows(rows, dim)
	table := harness.Table(ctx, obs, "app_vectors", fixtures.VectorTableDDL(p, dim))
	Expect(fixtures.Seed(ctx, obs, p, table, data)).To(Succeed(), "observer: seed %s", table)
	e, app := s.Open(ctx, poolMax)
	// The transcript recorder wraps the engine; the web app is an optional
	// interface of the adapter's own engine.
	wa, ok := harness.Underlying(e).(remote.WebApp)
	Expect(ok).To(BeTrue(), "adapter %s declares %q but its engines do not implement remote.WebApp", s.Info.Name, adapter.WebApp)
	url, err := wa.StartWebApp(ctx, fixtures.SearchSQL(p, table, k))
	Expect(err).NotTo(HaveOccurred(), "webapp.start on %s", s.Info.Name)
	GinkgoWriter.Printf("backend web app of %s at %s\n", s.Info.Name, url)
	tr := &http.Transport{MaxIdleConnsPerHost: concurrent}
	DeferCleanup(tr.CloseIdleConnections)
	w := &web{url: url, client: &http.Client{Timeout: httpTimeout, Transport: tr}, app: app, rows: data, obs: obs}
	// The app is up once it answers: webapp.start returns when uvicorn listens.
	Eventually(func() error {
		_, _, _, err := w.call(ctx, "GET", "/test", nil)
		return err
	}).WithContext(ctx).WithTimeout(10*time.Second).WithPolling(100*time.Millisecond).Should(Succeed(), "reach the backend's web app at %s", url)
	return w
}

// backendMixed returns n requests cycling through /health, /test and
// /search, each search with its own query vector (the seed's body: a JSON
// array of floats) and ground truth.
func (w *web) backendMixed(n int) []request {
	queries := fixtures.Queries(20, dim)
	matches := func(want string) func([]byte) error {
		return func(b []byte) error {
			if !jsonEqual(b, want) {
				return fmt.Errorf("body %s, want %s", b, want)
			}
			return nil
		}
	}
	out := make([]request, n)
	for i := range out {
		switch i % 3 {
		case 0:
			out[i] = request{"GET", "/health", nil, matches(`{"status":"ok","db":true}`)}
		case 1:
			out[i] = request{"GET", "/test", nil, matches(`{"value":1}`)}
		default:
			q := queries[(i/3)%len(queries)]
			want := fixtures.TopK(w.rows, q, k)
			out[i] = request{"POST", "/search", q, func(b []byte) error { return checkSearch(b, want) }}
		}
	}
	return out
}

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
		began := time.Now()
		errs := w.runAll(ctx, w.backendMixed(concurrent))
		GinkgoWriter.Printf("%d concurrent requests on pool max %d: %s\n", concurrent, poolMax, time.Since(began))
		Expect(errs).To(BeEmpty(), "every request answers 200 with the right body")
		// The pool still serves after the burst: every session gave its connection back.
		Expect(w.expectJSON(ctx, "GET", "/health", nil)).To(MatchJSON(`{"status":"ok","db":true}`))
	}, harness.Needs{adapter.WebApp}, webTimeout)

	s.It("the backend's own app never holds more than 5 server connections while serving 50 concurrent requests", harness.Reqs("FR-014", "T008", "T019", "T020"), func(ctx SpecContext) {
		w := startBackendApp(ctx, s)
		stop := make(chan struct{})
		polled := make(chan poll, 1)
		go func() {
			defer GinkgoRecover()
			polled <- pollConnections(ctx, w.obs, w.app, stop)
		}()
		errs := w.runAll(ctx, w.backendMixed(concurrent))
		close(stop)
		var p poll
		Eventually(polled).WithContext(ctx).WithTimeout(5 * time.Second).Should(Receive(&p))
		GinkgoWriter.Printf("%d requests, pool max %d: %d polls, at most %d server connections\n", concurrent, poolMax, p.polls, p.max)
		Expect(errs).To(BeEmpty(), "every request answers 200 with the right body")
		Expect(p.err).NotTo(HaveOccurred(), "observer counting the engine's server connections")
		Expect(p.max).To(BeNumerically(">=", 1), "the observer sees the engine's connections (else it counts the wrong ones)")
		Expect(p.max).To(BeNumerically("<=", poolMax), "server connections at once must not exceed the pool maximum")
	}, harness.Needs{adapter.WebApp}, webTimeout, harness.NeedsFeature{profile.ConnectionView})
})
