package wire_test

// TestSpecsCatchTheirDivergence proves that each wire spec (and each spec
// of compat/divergences.go) can fail: it runs them against the reference
// PostgreSQL behind a wire tap that reproduces, for one spec at a time, the
// behaviour that spec exists to catch — iris-pgwire's divergences
// (wiretap/divergent and the faults below) — or against a fake server for
// what happens before a tap may rewrite (start-up, authentication). Every
// such spec is listed as an expected failure for that run: it must fail
// (through Gomega, as a divergent server fails it in a real run), and a
// pass fails this test as an unexpected pass. A spec listed for no fault
// must pass (the tap relays everything else unchanged).
//
// It starts the reference target in Docker: PGWC_DOCKER_TESTS=1.

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"
	. "github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/types"
	. "github.com/onsi/gomega"

	_ "github.com/pgwire-conformance/pgwire-conformance/adapter/pgxadapter"
	_ "github.com/pgwire-conformance/pgwire-conformance/compat"
	"github.com/pgwire-conformance/pgwire-conformance/config"
	"github.com/pgwire-conformance/pgwire-conformance/containers"
	"github.com/pgwire-conformance/pgwire-conformance/expectations"
	"github.com/pgwire-conformance/pgwire-conformance/harness"
	"github.com/pgwire-conformance/pgwire-conformance/target"
	_ "github.com/pgwire-conformance/pgwire-conformance/wire"
	"github.com/pgwire-conformance/pgwire-conformance/wiretap"
	"github.com/pgwire-conformance/pgwire-conformance/wiretap/divergent"
)

// fault is what one spec runs against.
type fault struct {
	why string
	// rw rewrites the spec's own connections (not the observer's).
	rw wiretap.Rewriter
	// fake, when set, is a fake server the spec's target points at instead.
	fake string
	// adapters the spec is expected to fail for ("server" for wire specs);
	// a compat spec passes for the others.
	adapters []string
	// mustSay are words the failure must hold: each check of a spec that
	// gathers its checks (harness.Soft) is seen to fail.
	mustSay []string
}

var server = []string{harness.ServerAdapter}

// faults maps spec ID → the divergence it must catch.
func faults() map[string]fault {
	div := func(names ...string) wiretap.Rewriter {
		r, err := divergent.New(names...)
		if err != nil {
			panic(err)
		}
		return r
	}
	return map[string]fault{
		"Wire: start-up / starts a session: authentication, the ParameterStatus set drivers rely on, BackendKeyData, ReadyForQuery idle": {
			why: "a server that sends no integer_datetimes or standard_conforming_strings", fake: fakeFewParams, adapters: server},
		"Wire: start-up / answers SSLRequest as the target offers TLS, with 'S' completing a handshake verified against its CA": {
			why: "a proxy that declines TLS ('N') although the target has a CA", adapters: server},
		"Wire: start-up / authenticates with scram-sha-256: asks for exactly scram-sha-256, accepts the password, refuses a wrong one with 28P01": {
			why: "a server that trusts everyone (iris-pgwire 1.0.1's default)", fake: fakeTrust, adapters: server},
		"Wire: start-up / authenticates with md5: asks for exactly md5, accepts the password, refuses a wrong one with 28P01": {
			why: "a server that trusts everyone", fake: fakeTrust, adapters: server},
		"Wire: start-up / authenticates with password: asks for exactly password, accepts the password, refuses a wrong one with 28P01": {
			why: "a server that trusts everyone", fake: fakeTrust, adapters: server},
		"Wire: start-up / refuses a wrong password for the DSN's own user with 28P01": {
			why: "a server that accepts any password", fake: fakeAnyPassword, adapters: server},

		"Wire: simple query / answers a Query of several statements with one result each, then one ReadyForQuery, as one transaction": {
			why: "statements split at ';' and run one by one (iris-pgwire)", rw: splitAtSemicolons(), adapters: server},
		"Wire: simple query / answers an empty Query with EmptyQueryResponse and ReadyForQuery, promptly": {
			why: "the empty query never answered", rw: div(divergent.EmptyQuery), adapters: server},
		"Wire: simple query / writes the exact command tag of each statement": {
			why: "iris-pgwire's command tags", rw: div(divergent.CommandTags), adapters: server},
		"Wire: simple query / returns a row over 1 MB whole, and takes one as Bind parameters": {
			why: "DataRow values cut at 500 000 bytes", rw: &rewriter{fromServer: truncateValues}, adapters: server},
		"Wire: simple query / sends a NoticeResponse for DROP TABLE IF EXISTS of a missing table, and completes it": {
			why: "notices dropped", rw: &rewriter{fromServer: drop[*pgproto3.NoticeResponse]}, adapters: server},
		"Wire: termination / closes the connection on Terminate": {
			why: "Terminate ignored", rw: &rewriter{fromClient: swallow[*pgproto3.Terminate]}, adapters: server},

		"Wire: extended query / describes untyped parameters with the type their context gives them, not unknown (705)": {
			why: "parameters described as unknown (705)", rw: div(divergent.ParamUnknown), adapters: server},
		"Wire: extended query / returns results in the formats Bind asks for, and text again to the next simple Query": {
			why: "the last Bind's result formats reused by a simple Query", rw: div(divergent.BinaryLeak), adapters: server},
		"Wire: extended query / suspends a portal at Execute's row limit with PortalSuspended and resumes it": {
			why: "Execute's row limit ignored", rw: &rewriter{fromClient: ignoreRowLimit}, adapters: server},
		"Wire: extended query / executes nothing on Describe of a statement or a portal": {
			why: "Describe runs the statement with NULL parameters (iris-pgwire: SELECTs; its docs: DML too)", rw: describeExecutes(), adapters: server,
			mustSay: []string{"inserts a row of NULLs", "to describe it sleeps"}},
		"Wire: extended query / closes statements and portals: CloseComplete, then 26000 and 34000 on reuse": {
			why: "Close answered but not done", rw: &rewriter{fromClient: closeNothing}, adapters: server},
		"Wire: extended query / skips the rest of a pipeline after an error until Sync, rolls the group back, and recovers": {
			why: "every Execute committed on its own, no skipping after an error", rw: syncAfterEachExecute(), adapters: server},

		"Wire: transactions / reports I, T and E in ReadyForQuery and refuses statements in a failed transaction with 25P02": {
			why: "ReadyForQuery always 'I'", rw: &rewriter{fromServer: alwaysIdle}, adapters: server},
		"Wire: transactions / answers COMMIT of a failed transaction with the ROLLBACK tag and commits nothing": {
			why: "COMMIT of a failed transaction tagged COMMIT", rw: &rewriter{fromServer: rollbackTaggedCommit}, adapters: server},

		"Wire: COPY / copies rows in from STDIN in text and CSV format": {
			why: "COPY data dropped", rw: &rewriter{fromClient: swallow[*pgproto3.CopyData]}, adapters: server},
		"Wire: COPY / copies rows in from STDIN in binary format, as pgx's CopyFrom sends them": {
			why: "COPY data dropped", rw: &rewriter{fromClient: swallow[*pgproto3.CopyData]}, adapters: server},

		"Wire: cancel / cancels a running statement on CancelRequest with 57014, and the session goes on": {
			why: "a server that never acts on CancelRequest", fake: fakeNoCancel, adapters: server},

		"Wire: statements / keeps a string literal holding ';' and SQL as data, in a simple Query, in Parse and as a parameter": {
			why: "statements split at ';' inside literals (iris-pgwire)", rw: splitAtSemicolons(), adapters: server},
		"Wire: statements / surfaces the specific SQLSTATE of each error: 42P01, 42601, 23505, through both protocols": {
			why: "every SQLSTATE 42000 (iris-pgwire)", rw: div(divergent.SQLState42000), adapters: server},
		"Wire: statements / honours SET statement_timeout: a long statement ends with 57014": {
			why: "SET statement_timeout accepted and ignored (iris-pgwire)", rw: &rewriter{fromClient: ignoreStatementTimeout}, adapters: server},
		"Wire: statements / returns the rows of INSERT … RETURNING, in a simple Query and through Execute": {
			why: "RETURNING rows dropped (iris-pgwire)", rw: &rewriter{fromServer: drop[*pgproto3.DataRow]}, adapters: server},
		"Wire: statements / types NUMERIC results as numeric (OID 1700), exact": {
			why: "NUMERIC sent as float8 (iris-pgwire)", rw: numericAsFloat8(), adapters: server},

		"Compat: SQL text and result types / keeps a string literal holding ';' and SQL as data, as a parameter and as a literal": {
			why: "simple-protocol statements split at ';' inside literals (iris-pgwire): pgx-simple, and pgx too, whose Exec without arguments goes by simple Query",
			rw:  splitAtSemicolons(), adapters: []string{"pgx", "pgx-simple"}},
		"Compat: SQL text and result types / runs PostgreSQL casts with and without spaces around the cast operator, and CAST … AS BIGINT": {
			why: "casts with a space before :: not translated (iris-pgwire)", rw: castNotTranslated(), adapters: []string{"pgx", "pgx-simple"}},
		"Compat: SQL text and result types / returns NUMERIC results typed numeric and exact": {
			why: "NUMERIC sent as float8 (iris-pgwire)", rw: numericAsFloat8(), adapters: []string{"pgx", "pgx-simple"}},
	}
}

var proof struct {
	mu       sync.Mutex
	results  map[string]string // spec (adapter / id) → outcome line
	problems []string
}

func TestSpecsCatchTheirDivergence(t *testing.T) {
	if os.Getenv("PGWC_DOCKER_TESTS") != "1" {
		t.Skip("set PGWC_DOCKER_TESTS=1 to start the reference target in Docker")
	}
	containers.DefaultEnv()
	cfg := config.Defaults()
	cfg.Adapters = []string{"pgx", "pgx-simple"}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	if err := target.Preflight(ctx, cfg); err != nil {
		t.Fatalf("preflight: %v", err)
	}
	var progress strings.Builder
	r, err := target.Start(ctx, cfg, &progress)
	if err != nil {
		t.Fatalf("start the reference: %v\n%s", err, progress.String())
	}
	defer func() {
		if err := r.Stop(context.Background()); err != nil {
			t.Errorf("stop the reference: %v", err)
		}
	}()
	u, err := url.Parse(r.DSN)
	if err != nil {
		t.Fatal(err)
	}

	sw := &switchable{}
	tap, err := wiretap.Start(wiretap.Options{Upstream: u.Host, Name: "faults", Rewriter: sw})
	if err != nil {
		t.Fatal(err)
	}
	defer tap.Close()
	fs := faults()

	proxied := r.Target
	via := *u
	via.Host = tap.Addr()
	proxied.DSN = via.String()
	config.RegisterDSN(proxied.DSN)
	fakes := map[string]target.Target{}
	for _, mode := range []string{fakeFewParams, fakeTrust, fakeAnyPassword, fakeNoCancel} {
		addr, stop := startFake(t, mode)
		defer stop()
		ft := proxied
		fu := via
		fu.Host = addr
		ft.DSN = fu.String()
		fakes[mode] = ft
	}

	list := expectations.List{}
	for id, f := range fs {
		for _, a := range f.adapters {
			if list[a] == nil {
				list[a] = map[string]expectations.Expectation{}
			}
			list[a][id] = expectations.Expectation{Reason: f.why}
		}
	}
	harness.Configure(cfg)
	harness.SetTarget(proxied)
	harness.SetExpectations(list)
	proof.results = map[string]string{}

	BeforeEach(func() {
		spec := CurrentSpecReport()
		id := expectations.SpecID(groupOf(spec), spec.LeafNodeText)
		f, ok := fs[id]
		if !ok {
			proof.mu.Lock()
			proof.problems = append(proof.problems, "no fault proves this spec can fail: "+id)
			proof.mu.Unlock()
		}
		tap.Faults().Clear()
		sw.set(f.rw)
		if f.fake != "" {
			harness.SetTarget(fakes[f.fake])
		}
		DeferCleanup(func() {
			sw.set(nil)
			tap.Faults().Clear()
			harness.SetTarget(proxied)
		})
	})
	ReportAfterEach(func(spec SpecReport) {
		id := expectations.SpecID(groupOf(spec), spec.LeafNodeText)
		a := harness.AdapterOf(spec.Labels())
		_, listed := list.Lookup(a, id)
		if spec.State == types.SpecStateSkipped && spec.Failure.Message == "" {
			return // not focused: did not run
		}
		msg := config.OneLine(spec.Failure.Message)
		line := fmt.Sprintf("%s / %s: %s — %s", a, id, spec.State, msg)
		ok := spec.State == types.SpecStatePassed && !listed ||
			spec.State == types.SpecStateSkipped && listed && strings.HasPrefix(spec.Failure.Message, harness.ExpectedFailure)
		for _, w := range fs[id].mustSay {
			if !strings.Contains(spec.Failure.Message, w) {
				ok, line = false, line+" [does not say "+strconv.Quote(w)+"]"
			}
		}
		proof.mu.Lock()
		defer proof.mu.Unlock()
		proof.results[a+" / "+id] = line
		if !ok {
			proof.problems = append(proof.problems, line)
		}
	})

	RegisterFailHandler(Fail)
	suiteCfg, reporterCfg := GinkgoConfiguration()
	suiteCfg.FocusFiles = []string{`wire/[a-z]+\.go`, `compat/divergences\.go`}
	suiteCfg.Timeout = 8 * time.Minute
	RunSpecs(t, "wire and divergence specs against their divergences", suiteCfg, reporterCfg)

	for _, l := range proof.results {
		t.Log(l)
	}
	for id, f := range fs {
		for _, a := range f.adapters {
			if _, ran := proof.results[a+" / "+id]; !ran {
				t.Errorf("never ran: %s / %s", a, id)
			}
		}
	}
	for _, p := range proof.problems {
		t.Error(p)
	}
}

// groupOf is the spec's group: the text of its outermost container.
func groupOf(r SpecReport) string {
	if len(r.ContainerHierarchyTexts) == 0 {
		return ""
	}
	return r.ContainerHierarchyTexts[0]
}

// switchable is the tap's Rewriter: the current spec's fault, applied to
// every connection but the observer's (its reads check what the server
// did and must not be rewritten).
type switchable struct {
	mu  sync.Mutex
	cur wiretap.Rewriter
}

func (s *switchable) set(r wiretap.Rewriter) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cur = r
}

func (s *switchable) get(c *wiretap.ConnState) wiretap.Rewriter {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.Params["application_name"] == "pgwc_observer" {
		return nil
	}
	// A connection keeps the fault it started with, so a switch between
	// specs never hands a rewriter a conversation it saw only half of.
	if r, ok := c.Scratch["fault"]; ok {
		rw, _ := r.(wiretap.Rewriter)
		return rw
	}
	c.Scratch["fault"] = s.cur
	return s.cur
}

func (s *switchable) FromClient(c *wiretap.ConnState, m pgproto3.FrontendMessage) ([]pgproto3.FrontendMessage, []pgproto3.BackendMessage) {
	if r := s.get(c); r != nil {
		return r.FromClient(c, m)
	}
	return []pgproto3.FrontendMessage{m}, nil
}

func (s *switchable) FromServer(c *wiretap.ConnState, m pgproto3.BackendMessage) []pgproto3.BackendMessage {
	if r := s.get(c); r != nil {
		return r.FromServer(c, m)
	}
	return []pgproto3.BackendMessage{m}
}

// rewriter is a Rewriter from two functions (nil: relay).
type rewriter struct {
	fromClient func(c *wiretap.ConnState, m pgproto3.FrontendMessage) ([]pgproto3.FrontendMessage, []pgproto3.BackendMessage)
	fromServer func(c *wiretap.ConnState, m pgproto3.BackendMessage) []pgproto3.BackendMessage
}

func (r *rewriter) FromClient(c *wiretap.ConnState, m pgproto3.FrontendMessage) ([]pgproto3.FrontendMessage, []pgproto3.BackendMessage) {
	if r.fromClient == nil {
		return []pgproto3.FrontendMessage{m}, nil
	}
	return r.fromClient(c, m)
}

func (r *rewriter) FromServer(c *wiretap.ConnState, m pgproto3.BackendMessage) []pgproto3.BackendMessage {
	if r.fromServer == nil {
		return []pgproto3.BackendMessage{m}
	}
	return r.fromServer(c, m)
}

func relay(m pgproto3.FrontendMessage) ([]pgproto3.FrontendMessage, []pgproto3.BackendMessage) {
	return []pgproto3.FrontendMessage{m}, nil
}

func drop[T pgproto3.BackendMessage](_ *wiretap.ConnState, m pgproto3.BackendMessage) []pgproto3.BackendMessage {
	if _, ok := m.(T); ok {
		return nil
	}
	return []pgproto3.BackendMessage{m}
}

func swallow[T pgproto3.FrontendMessage](_ *wiretap.ConnState, m pgproto3.FrontendMessage) ([]pgproto3.FrontendMessage, []pgproto3.BackendMessage) {
	if _, ok := m.(T); ok {
		return nil, nil
	}
	return relay(m)
}

func truncateValues(_ *wiretap.ConnState, m pgproto3.BackendMessage) []pgproto3.BackendMessage {
	if r, ok := m.(*pgproto3.DataRow); ok {
		out := &pgproto3.DataRow{}
		for _, v := range r.Values {
			if len(v) > 500000 {
				v = v[:500000]
			}
			out.Values = append(out.Values, v)
		}
		return []pgproto3.BackendMessage{out}
	}
	return []pgproto3.BackendMessage{m}
}

func ignoreRowLimit(_ *wiretap.ConnState, m pgproto3.FrontendMessage) ([]pgproto3.FrontendMessage, []pgproto3.BackendMessage) {
	if e, ok := m.(*pgproto3.Execute); ok && e.MaxRows > 0 {
		return []pgproto3.FrontendMessage{&pgproto3.Execute{Portal: e.Portal}}, nil
	}
	return relay(m)
}

func closeNothing(_ *wiretap.ConnState, m pgproto3.FrontendMessage) ([]pgproto3.FrontendMessage, []pgproto3.BackendMessage) {
	if _, ok := m.(*pgproto3.Close); ok {
		return nil, []pgproto3.BackendMessage{&pgproto3.CloseComplete{}}
	}
	return relay(m)
}

func alwaysIdle(_ *wiretap.ConnState, m pgproto3.BackendMessage) []pgproto3.BackendMessage {
	if _, ok := m.(*pgproto3.ReadyForQuery); ok {
		return []pgproto3.BackendMessage{&pgproto3.ReadyForQuery{TxStatus: 'I'}}
	}
	return []pgproto3.BackendMessage{m}
}

func rollbackTaggedCommit(_ *wiretap.ConnState, m pgproto3.BackendMessage) []pgproto3.BackendMessage {
	if cc, ok := m.(*pgproto3.CommandComplete); ok && string(cc.CommandTag) == "ROLLBACK" {
		return []pgproto3.BackendMessage{&pgproto3.CommandComplete{CommandTag: []byte("COMMIT")}}
	}
	return []pgproto3.BackendMessage{m}
}

var setStatementTimeout = regexp.MustCompile(`(?i)^\s*SET\s+statement_timeout\b`)

func ignoreStatementTimeout(_ *wiretap.ConnState, m pgproto3.FrontendMessage) ([]pgproto3.FrontendMessage, []pgproto3.BackendMessage) {
	if q, ok := m.(*pgproto3.Query); ok && setStatementTimeout.MatchString(q.String) {
		return nil, []pgproto3.BackendMessage{&pgproto3.CommandComplete{CommandTag: []byte("SET")}, &pgproto3.ReadyForQuery{TxStatus: 'I'}}
	}
	return relay(m)
}

// counters is per-connection bookkeeping of the stateful faults.
type counters struct {
	rfqs []bool         // per request awaiting ReadyForQuery: answer dropped?
	skip map[string]int // messages to drop, by kind
}

func countersOf(c *wiretap.ConnState) *counters {
	if k, ok := c.Scratch["counters"].(*counters); ok {
		return k
	}
	k := &counters{skip: map[string]int{}}
	c.Scratch["counters"] = k
	return k
}

// dropCounted drops the ReadyForQuery of injected requests.
func dropCounted(c *wiretap.ConnState, m pgproto3.BackendMessage) []pgproto3.BackendMessage {
	k := countersOf(c)
	if _, ok := m.(*pgproto3.ReadyForQuery); ok && len(k.rfqs) > 0 {
		injected := k.rfqs[0]
		k.rfqs = k.rfqs[1:]
		if injected {
			return nil
		}
	}
	return []pgproto3.BackendMessage{m}
}

// splitAtSemicolons runs a simple Query as one Query per ';'-separated
// piece, literals or not, as iris-pgwire does; the client gets one
// ReadyForQuery at the end.
func splitAtSemicolons() wiretap.Rewriter {
	return &rewriter{
		fromClient: func(c *wiretap.ConnState, m pgproto3.FrontendMessage) ([]pgproto3.FrontendMessage, []pgproto3.BackendMessage) {
			k := countersOf(c)
			q, ok := m.(*pgproto3.Query)
			if !ok {
				if isRequest(m) {
					k.rfqs = append(k.rfqs, false)
				}
				return relay(m)
			}
			var out []pgproto3.FrontendMessage
			for _, p := range strings.Split(q.String, ";") {
				if strings.TrimSpace(p) != "" {
					out = append(out, &pgproto3.Query{String: p})
				}
			}
			if len(out) == 0 {
				out = []pgproto3.FrontendMessage{m}
			}
			for i := range out {
				k.rfqs = append(k.rfqs, i < len(out)-1)
			}
			return out, nil
		},
		fromServer: dropCounted,
	}
}

// syncAfterEachExecute ends every Execute with a Sync of its own, so each
// statement commits alone and an error skips nothing after it.
func syncAfterEachExecute() wiretap.Rewriter {
	return &rewriter{
		fromClient: func(c *wiretap.ConnState, m pgproto3.FrontendMessage) ([]pgproto3.FrontendMessage, []pgproto3.BackendMessage) {
			k := countersOf(c)
			if _, ok := m.(*pgproto3.Execute); ok {
				k.rfqs = append(k.rfqs, true)
				return []pgproto3.FrontendMessage{m, &pgproto3.Sync{}}, nil
			}
			if isRequest(m) {
				k.rfqs = append(k.rfqs, false)
			}
			return relay(m)
		},
		fromServer: dropCounted,
	}
}

var paramRef = regexp.MustCompile(`\$([0-9]+)`)

// describeExecutes runs a statement with NULL parameters before answering
// its Describe, as iris-pgwire does for a SELECT to find its columns (its
// docs say DML too).
func describeExecutes() wiretap.Rewriter {
	return &rewriter{
		fromClient: func(c *wiretap.ConnState, m pgproto3.FrontendMessage) ([]pgproto3.FrontendMessage, []pgproto3.BackendMessage) {
			d, ok := m.(*pgproto3.Describe)
			if !ok || d.ObjectType != 'S' {
				return relay(m)
			}
			sql := c.Statements[d.Name]
			n := 0
			for _, ref := range paramRef.FindAllStringSubmatch(sql, -1) {
				var i int
				fmt.Sscan(ref[1], &i)
				n = max(n, i)
			}
			k := countersOf(c)
			k.skip["bind"]++
			k.skip["result"]++
			return []pgproto3.FrontendMessage{&pgproto3.Bind{PreparedStatement: d.Name, Parameters: make([][]byte, n)}, &pgproto3.Execute{}, m}, nil
		},
		fromServer: func(c *wiretap.ConnState, m pgproto3.BackendMessage) []pgproto3.BackendMessage {
			k := countersOf(c)
			switch m.(type) {
			case *pgproto3.BindComplete:
				if k.skip["bind"] > 0 {
					k.skip["bind"]--
					return nil
				}
			case *pgproto3.DataRow:
				if k.skip["result"] > 0 {
					return nil
				}
			case *pgproto3.CommandComplete:
				if k.skip["result"] > 0 {
					k.skip["result"]--
					return nil
				}
			}
			return []pgproto3.BackendMessage{m}
		},
	}
}

var selectV = regexp.MustCompile(`\bSELECT v\b`)

// numericAsFloat8 makes the server send the spec's numeric column v as
// float8, as iris-pgwire sends NUMERIC.
func numericAsFloat8() wiretap.Rewriter {
	return sqlRewriter(func(sql string) string { return selectV.ReplaceAllString(sql, "SELECT CAST(v AS float8) AS v") })
}

var spacedCast = regexp.MustCompile(`\s+::`)

// castNotTranslated breaks a cast with a space before :: the way an
// untranslated cast fails on IRIS: as a syntax error.
func castNotTranslated() wiretap.Rewriter {
	return sqlRewriter(func(sql string) string { return spacedCast.ReplaceAllString(sql, " :::") })
}

// sqlRewriter rewrites the SQL of Query and Parse.
func sqlRewriter(f func(string) string) wiretap.Rewriter {
	return &rewriter{fromClient: func(_ *wiretap.ConnState, m pgproto3.FrontendMessage) ([]pgproto3.FrontendMessage, []pgproto3.BackendMessage) {
		switch x := m.(type) {
		case *pgproto3.Query:
			return []pgproto3.FrontendMessage{&pgproto3.Query{String: f(x.String)}}, nil
		case *pgproto3.Parse:
			p := *x
			p.Query = f(x.Query)
			return []pgproto3.FrontendMessage{&p}, nil
		}
		return relay(m)
	}}
}

func isRequest(m pgproto3.FrontendMessage) bool {
	switch m.(type) {
	case *pgproto3.Query, *pgproto3.Sync, *pgproto3.FunctionCall:
		return true
	}
	return false
}

// Fake servers, for what a tap cannot rewrite: the start-up.
const (
	fakeFewParams   = "few-params"   // trusts, and omits integer_datetimes and standard_conforming_strings
	fakeTrust       = "trust"        // asks for no password
	fakeAnyPassword = "any-password" // asks for a cleartext password and accepts any
	fakeNoCancel    = "no-cancel"    // trusts, and sleeps through pg_sleep whatever CancelRequest says
)

func startFake(t *testing.T, mode string) (addr string, stop func()) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	done := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer nc.Close()
				_ = nc.SetDeadline(time.Now().Add(time.Minute))
				if err := fakeSession(nc, mode, done); err != nil && !errors.Is(err, net.ErrClosed) {
					t.Logf("fake %s: %v", mode, err)
				}
			}()
		}
	}()
	return ln.Addr().String(), func() { close(done); ln.Close(); wg.Wait() }
}

func fakeSession(nc net.Conn, mode string, done <-chan struct{}) error {
	be := pgproto3.NewBackend(nc, nc)
	m, err := be.ReceiveStartupMessage()
	if err != nil {
		return err
	}
	if _, ok := m.(*pgproto3.SSLRequest); ok {
		if _, err := nc.Write([]byte("N")); err != nil {
			return err
		}
		if m, err = be.ReceiveStartupMessage(); err != nil {
			return err
		}
	}
	if _, ok := m.(*pgproto3.CancelRequest); ok {
		return nil // closed unanswered, and nothing cancelled
	}
	if _, ok := m.(*pgproto3.StartupMessage); !ok {
		return fmt.Errorf("unexpected %T", m)
	}
	if mode == fakeAnyPassword {
		be.Send(&pgproto3.AuthenticationCleartextPassword{})
		if err := be.Flush(); err != nil {
			return err
		}
		be.SetAuthType(pgproto3.AuthTypeCleartextPassword)
		if _, err := be.Receive(); err != nil {
			return err
		}
	}
	be.Send(&pgproto3.AuthenticationOk{})
	params := map[string]string{"server_version": "16.0 (InterSystems IRIS)", "server_encoding": "UTF8", "client_encoding": "UTF8", "DateStyle": "ISO, MDY"}
	if mode != fakeFewParams {
		params["integer_datetimes"], params["standard_conforming_strings"] = "on", "on"
	}
	for k, v := range params {
		be.Send(&pgproto3.ParameterStatus{Name: k, Value: v})
	}
	be.Send(&pgproto3.BackendKeyData{ProcessID: 4242, SecretKey: []byte{1, 2, 3, 4}})
	be.Send(&pgproto3.ReadyForQuery{TxStatus: 'I'})
	if err := be.Flush(); err != nil {
		return err
	}
	for {
		m, err := be.Receive()
		if err != nil {
			return nil
		}
		switch m := m.(type) {
		case *pgproto3.Terminate:
			return nil
		case *pgproto3.Query:
			if mode == fakeNoCancel && strings.Contains(m.String, "pg_sleep") {
				// The statement: it runs its full 10 s (or until the test ends).
				select {
				case <-time.After(10 * time.Second):
				case <-done:
					return nil
				}
				be.Send(&pgproto3.RowDescription{Fields: []pgproto3.FieldDescription{{Name: []byte("pg_sleep"), DataTypeOID: 2278}}})
				be.Send(&pgproto3.DataRow{Values: [][]byte{{}}})
				be.Send(&pgproto3.CommandComplete{CommandTag: []byte("SELECT 1")})
				be.Send(&pgproto3.ReadyForQuery{TxStatus: 'I'})
				if err := be.Flush(); err != nil {
					return err
				}
				continue
			}
			be.Send(&pgproto3.ErrorResponse{Severity: "ERROR", Code: "0A000", Message: "fake server: no queries"})
			be.Send(&pgproto3.ReadyForQuery{TxStatus: 'I'})
			if err := be.Flush(); err != nil {
				return err
			}
		case *pgproto3.Sync:
			be.Send(&pgproto3.ErrorResponse{Severity: "ERROR", Code: "0A000", Message: "fake server: no queries"})
			be.Send(&pgproto3.ReadyForQuery{TxStatus: 'I'})
			if err := be.Flush(); err != nil {
				return err
			}
		}
	}
}
