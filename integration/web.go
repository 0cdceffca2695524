package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/pgwire-conformance/pgwire-conformance/adapter"
	"github.com/pgwire-conformance/pgwire-conformance/fixtures"
	"github.com/pgwire-conformance/pgwire-conformance/harness"
	"github.com/pgwire-conformance/pgwire-conformance/profile"
	"github.com/pgwire-conformance/pgwire-conformance/wiretap"
)

const (
	// poolMax is the engine's pool size; concurrent is the number of
	// requests in flight at once, well above it.
	poolMax    = 5
	concurrent = 50
	// The searched table: the seed's 128 dimensions, top 5.
	rows, dim, k = 200, 128, 5
	scoreTol     = 1e-5
	// httpTimeout bounds every HTTP call of the specs.
	httpTimeout = 15 * time.Second
	webTimeout  = SpecTimeout(90 * time.Second)
)

// web is one running App and a client for it.
type web struct {
	url    string
	client *http.Client
	app    string // the engine's application_name
	rows   []fixtures.Row
	obs    *harness.Observer
	tap    *wiretap.Tap // the engine's wire tap
}

// open seeds a vector table named after prefix through the observer and
// opens the adapter's engine with pool max 5. The returned web has its
// client but no url yet: the caller serves an app on the engine.
func open(ctx SpecContext, s *harness.Subject, prefix string) (w *web, e adapter.Engine, table string) {
	GinkgoHelper()
	p := harness.Profile()
	obs := harness.Observe(ctx)
	data := fixtures.Rows(rows, dim)
	table = harness.NewTable(ctx, obs, prefix, fixtures.VectorTableDDL(p, dim))
	if err := fixtures.Seed(ctx, obs, p, table, data); err != nil {
		harness.HarnessFail("observer could not seed %s: %v", table, err)
	}
	e, app := s.Open(ctx, poolMax)
	tr := &http.Transport{MaxIdleConnsPerHost: concurrent}
	DeferCleanup(tr.CloseIdleConnections)
	return &web{client: &http.Client{Timeout: httpTimeout, Transport: tr}, app: app, rows: data, obs: obs, tap: harness.Wire(e)}, e, table
}

// start seeds a vector table through the observer, opens the adapter's
// engine with pool max 5 and serves the App on 127.0.0.1.
func start(ctx SpecContext, s *harness.Subject) *web {
	GinkgoHelper()
	w, e, table := open(ctx, s, "web_vectors")
	srv := httptest.NewServer(NewApp(e, harness.Profile(), table)) // listens on 127.0.0.1:0
	DeferCleanup(srv.Close)                                        // before the engine closes
	w.url = srv.URL
	return w
}

// call makes one request and returns the status, content type and body.
func (w *web) call(ctx context.Context, method, path string, body any) (int, string, []byte, error) {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, "", nil, err
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, w.url+path, r)
	if err != nil {
		return 0, "", nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := w.client.Do(req)
	if err != nil {
		return 0, "", nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Content-Type"), b, err
}

// expectJSON makes a request and expects 200 with a JSON body.
func (w *web) expectJSON(ctx context.Context, method, path string, body any) []byte {
	GinkgoHelper()
	status, ctype, b, err := w.call(ctx, method, path, body)
	Expect(err).NotTo(HaveOccurred(), "%s %s", method, path)
	Expect(status).To(Equal(http.StatusOK), "%s %s answered %s", method, path, b)
	Expect(ctype).To(Equal("application/json"), "%s %s content type", method, path)
	return b
}

// checkSearch compares a /search answer with the ground truth.
func checkSearch(body []byte, want []fixtures.Hit) error {
	var got []fixtures.Hit
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&got); err != nil {
		return fmt.Errorf("decode %s: %w", body, err)
	}
	if fmt.Sprint(fixtures.IDs(got)) != fmt.Sprint(fixtures.IDs(want)) {
		return fmt.Errorf("ids %v, want %v (ground truth %v)", fixtures.IDs(got), fixtures.IDs(want), want)
	}
	for i := range want {
		if d := got[i].Score - want[i].Score; d > scoreTol || d < -scoreTol {
			return fmt.Errorf("rank %d (id %d): score %v, want %v ± %g", i+1, want[i].ID, got[i].Score, want[i].Score, scoreTol)
		}
	}
	return nil
}

// request is one of the mixed requests of the concurrency specs, with the
// check of its answer.
type request struct {
	method, path string
	body         any
	check        func([]byte) error
}

// mixed returns n requests cycling through /health, /test and /search,
// each search with its own query vector and ground truth; searchBody makes
// a search's request body from its query vector.
func (w *web) mixed(n int, searchBody func(q []float32) any) []request {
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
			out[i] = request{"POST", "/search", searchBody(q), func(b []byte) error { return checkSearch(b, want) }}
		}
	}
	return out
}

// appSearch is the body of the App's POST /search.
func appSearch(q []float32) any { return SearchRequest{Vector: q, K: k} }

// runAll sends every request at once and returns one error per failed request.
func (w *web) runAll(ctx context.Context, reqs []request) []error {
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	startLine := make(chan struct{})
	for i, r := range reqs {
		wg.Go(func() {
			defer GinkgoRecover()
			<-startLine
			status, ctype, b, err := w.call(ctx, r.method, r.path, r.body)
			switch {
			case err != nil:
			case status != http.StatusOK:
				err = fmt.Errorf("status %d: %s", status, b)
			case ctype != "application/json":
				err = fmt.Errorf("content type %q", ctype)
			default:
				err = r.check(b)
			}
			if err != nil {
				mu.Lock()
				errs = append(errs, fmt.Errorf("request %d %s %s: %w", i, r.method, r.path, err))
				mu.Unlock()
			}
		})
	}
	close(startLine)
	wg.Wait()
	return errs
}

// expectConcurrent sends reqs (the concurrency specs' 50) all at once and
// expects every one answered correctly, then the pool still serving.
func (w *web) expectConcurrent(ctx context.Context, reqs []request) {
	GinkgoHelper()
	began := time.Now()
	errs := w.runAll(ctx, reqs)
	GinkgoWriter.Printf("%d concurrent requests on pool max %d: %s\n", len(reqs), poolMax, time.Since(began))
	Expect(errs).To(BeEmpty(), "every request answers 200 with the right body")
	// The pool still serves after the burst: every connection came back.
	Expect(w.expectJSON(ctx, "GET", "/health", nil)).To(MatchJSON(`{"status":"ok","db":true}`))
}

// expectPoolBound sends reqs all at once and counts the engine's
// connections on the wire: never more than the pool maximum, and at least
// two in use at once (an app that serves one request at a time answers
// every request right and still fails this). Where the profile has a
// session view, the server's own count is a cross-check.
func (w *web) expectPoolBound(ctx context.Context, reqs []request) {
	GinkgoHelper()
	var finish func() harness.ConnectionPoll
	if harness.Profile().Has(profile.ConnectionView) {
		finish = harness.PollSessions(ctx, w.obs, w.app, nil)
	}
	win := w.tap.Watch()
	errs := w.runAll(ctx, reqs)
	st := win.Stop()
	GinkgoWriter.Printf("%d requests, pool max %d: at most %d connections open at once on the wire, %d request(s) sent\n", len(reqs), poolMax, st.PeakOpen, st.Requests)
	Expect(errs).To(BeEmpty(), "every request answers 200 with the right body")
	Expect(st.Requests).To(BeNumerically(">=", 1), "the app's queries cross the engine's wire tap (else it counts the wrong connections)")
	Expect(st.PeakOpen).To(BeNumerically("<=", poolMax), "connections open at once must not exceed the pool maximum")
	Expect(st.PeakOpen).To(BeNumerically(">=", 2), "with %d requests in flight the app must use more than one connection at once", len(reqs))
	if finish != nil {
		p := finish()
		Expect(p.Err).NotTo(HaveOccurred(), "observer counting the engine's server connections")
		Expect(p.Max).To(BeNumerically("<=", poolMax), "cross-check: the server's session view never saw more than the pool maximum")
	}
}

// expectConcurrentSleeps sends n requests to the app's slow endpoint (each
// a 0.2 s server-side sleep) at once: served concurrently on a pool of 5
// they take about 2 × 0.2 s; served one at a time, n × 0.2 s. The bar is
// half the serial time, timed by the harness.
func (w *web) expectConcurrentSleeps(ctx context.Context, n int) {
	GinkgoHelper()
	reqs := make([]request, n)
	for i := range reqs {
		reqs[i] = request{"GET", "/sleep", nil, func(b []byte) error {
			if !jsonEqual(b, `{"slept":true}`) {
				return fmt.Errorf("body %s, want {\"slept\":true}", b)
			}
			return nil
		}}
	}
	serial := time.Duration(float64(n) * SleepSeconds * float64(time.Second))
	start := time.Now()
	errs := w.runAll(ctx, reqs)
	elapsed := time.Since(start)
	GinkgoWriter.Printf("%d concurrent GET /sleep (%gs each) on pool max %d: %s (serial: %s)\n", n, SleepSeconds, poolMax, elapsed, serial)
	Expect(errs).To(BeEmpty(), "every request answers 200")
	Expect(elapsed).To(BeNumerically("<", serial/2),
		"%d requests that each sleep %gs on the server must overlap: %s is not far below the serial %s", n, SleepSeconds, elapsed, serial)
}

func jsonEqual(got []byte, want string) bool {
	var a, b any
	return json.Unmarshal(got, &a) == nil && json.Unmarshal([]byte(want), &b) == nil && reflect.DeepEqual(a, b)
}

var _ = harness.ForEachAdapter("Integration: web application", Label("http"), func(s *harness.Subject) {
	s.It("GET /health runs SELECT 1 on a per-request connection and answers status ok, db true", harness.Reqs("FR-014", "T019", "T020"), func(ctx SpecContext) {
		w := start(ctx, s)
		Expect(w.expectJSON(ctx, "GET", "/health", nil)).To(MatchJSON(`{"status":"ok","db":true}`))
	}, webTimeout)

	s.It("GET /test answers the value of SELECT 1", harness.Reqs("FR-014", "T008", "T020"), func(ctx SpecContext) {
		w := start(ctx, s)
		Expect(w.expectJSON(ctx, "GET", "/test", nil)).To(MatchJSON(`{"value":1}`))
	}, webTimeout)

	s.It("POST /search answers the 5 nearest rows by cosine similarity, as computed in Go", harness.Reqs("FR-014", "T009", "T020"), func(ctx SpecContext) {
		w := start(ctx, s)
		q := fixtures.Query(dim)
		body := w.expectJSON(ctx, "POST", "/search", SearchRequest{Vector: q, K: k})
		Expect(checkSearch(body, fixtures.TopK(w.rows, q, k))).To(Succeed())
		// A search with a row's own vector finds that row first, score 1.
		self := w.rows[41]
		var got []fixtures.Hit
		Expect(json.Unmarshal(w.expectJSON(ctx, "POST", "/search", SearchRequest{Vector: self.Embedding, K: 1}), &got)).To(Succeed())
		Expect(got).To(HaveLen(1))
		Expect(got[0].ID).To(Equal(self.ID), "searching with row %d's vector", self.ID)
		Expect(got[0].Score).To(BeNumerically("~", 1.0, 1e-6))
	}, webTimeout)

	s.It("serves 50 concurrent requests on a pool of 5, every answer correct", harness.Reqs("FR-014", "T008", "T009", "T019", "T020"), func(ctx SpecContext) {
		w := start(ctx, s)
		w.expectConcurrent(ctx, w.mixed(concurrent, appSearch))
	}, webTimeout)

	s.It("never holds more than 5 server connections while serving 50 concurrent requests, and uses several at once", harness.Reqs("FR-014", "FR-005", "T008", "T019", "T020"), func(ctx SpecContext) {
		w := start(ctx, s)
		w.expectPoolBound(ctx, w.mixed(concurrent, appSearch))
	}, webTimeout)

	s.It("serves 10 slow requests (a 0.2 s server sleep each) concurrently, far below the serial time", harness.Reqs("FR-014", "FR-008", "T008", "T019", "T020"), func(ctx SpecContext) {
		w := start(ctx, s)
		w.expectConcurrentSleeps(ctx, 10)
	}, webTimeout)
})
