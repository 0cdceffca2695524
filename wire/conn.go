package wire

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/gomega"

	"github.com/pgwire-conformance/pgwire-conformance/config"
	"github.com/pgwire-conformance/pgwire-conformance/harness"
	"github.com/pgwire-conformance/pgwire-conformance/report"
	"github.com/pgwire-conformance/pgwire-conformance/wiretap"
)

// AnswerWithin bounds the wait for each message the server owes: a server
// that does not answer fails the spec this promptly, not at the spec's
// timeout. A statement that runs long on purpose (a sleep being cancelled)
// is given a context of its own.
const AnswerWithin = 10 * time.Second

// Conn is one connection to the target at message level: what is sent and
// received goes into the spec's transcript, and every read and write runs
// under the caller's context and AnswerWithin.
type Conn struct {
	id  int
	raw net.Conn // the TCP connection (deadlines are set here)
	nc  net.Conn // raw, or TLS over it
	fe  *pgproto3.Frontend
	log *transcript

	// PID and SecretKey are the BackendKeyData of the session (for
	// CancelRequest); Params the ParameterStatus values the server sent.
	PID       uint32
	SecretKey []byte
	Params    map[string]string

	mu       sync.Mutex
	closed   bool
	lastSent string
	bound    time.Duration // the wait of the last read
	unwatch  func() bool
}

// Endpoint is where the target listens and who the suite logs in as, read
// from the target's DSN.
type Endpoint struct {
	Host, Port string
	Login      Login
}

// Address is host:port.
func (e Endpoint) Address() string { return net.JoinHostPort(e.Host, e.Port) }

// Login is who a start-up logs in as.
type Login struct {
	User, Password, Database string
}

// Target returns the target's endpoint and main login, from its DSN.
func Target() Endpoint {
	ginkgo.GinkgoHelper()
	dsn := harness.Target().DSN
	cfg, err := pgconn.ParseConfig(dsn)
	if err != nil {
		harness.HarnessFail("the target DSN %s does not parse: %v", config.RedactDSN(dsn), err)
	}
	return Endpoint{Host: cfg.Host, Port: strconv.Itoa(int(cfg.Port)),
		Login: Login{User: cfg.User, Password: cfg.Password, Database: cfg.Database}}
}

// Connect opens a logged-in connection to the target the way a driver does
// (pgconn: TLS, authentication and start-up as the DSN says) and takes over
// its socket: for specs whose subject comes after the start-up. It is
// closed when the spec ends.
func Connect(ctx context.Context) *Conn {
	ginkgo.GinkgoHelper()
	dsn := harness.Target().DSN
	cfg, err := pgconn.ParseConfig(dsn)
	if err != nil {
		harness.HarnessFail("the target DSN %s does not parse: %v", config.RedactDSN(dsn), err)
	}
	cfg.RuntimeParams["application_name"] = "pgwc_wire"
	cctx, cancel := context.WithTimeout(ctx, AnswerWithin)
	defer cancel()
	pc, err := pgconn.ConnectConfig(cctx, cfg)
	gomega.Expect(err).NotTo(gomega.HaveOccurred(), "connect to the target %s within %s", config.RedactDSN(dsn), AnswerWithin)
	hc, err := pc.Hijack()
	if err != nil {
		harness.HarnessFail("take over the pgconn connection: %v", err)
	}
	c := newConn(ctx, hc.Conn, hc.Frontend)
	c.PID, c.SecretKey, c.Params = hc.PID, hc.SecretKey, hc.ParameterStatuses
	c.log.note(c.id, fmt.Sprintf("start-up done by pgconn as %s (pid %d, status %c)", cfg.User, hc.PID, hc.TxStatus))
	return c
}

// Dial opens a TCP connection to the target and sends nothing: for specs
// whose subject is the start-up itself. It is closed when the spec ends.
func Dial(ctx context.Context) *Conn {
	ginkgo.GinkgoHelper()
	ep := Target()
	d := net.Dialer{Timeout: AnswerWithin}
	nc, err := d.DialContext(ctx, "tcp", ep.Address())
	gomega.Expect(err).NotTo(gomega.HaveOccurred(), "TCP connect to the target at %s", ep.Address())
	c := newConn(ctx, nc, pgproto3.NewFrontend(nc, nc))
	c.log.note(c.id, "TCP connected to "+ep.Address())
	return c
}

func newConn(ctx context.Context, nc net.Conn, fe *pgproto3.Frontend) *Conn {
	t := specTranscript()
	c := &Conn{id: t.nextConn(), raw: nc, nc: nc, fe: fe, log: t, Params: map[string]string{}}
	// A cancelled spec (timeout, interrupt) unblocks any read or write at once.
	c.unwatch = context.AfterFunc(ctx, func() { _ = nc.SetDeadline(time.Unix(1, 0)) })
	ginkgo.DeferCleanup(c.Close)
	// Where this connection came from, as the target sees it: a failure is
	// attributed to what the target did on it (the divergent proxy).
	local := nc.LocalAddr().String()
	ginkgo.DeferCleanup(func() {
		if ginkgo.CurrentSpecReport().Failed() {
			harness.NoteClients(local)
		}
	})
	return c
}

// Close sends Terminate (best effort) and closes the socket; a second call
// does nothing.
func (c *Conn) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil
	}
	c.closed = true
	c.unwatch()
	_ = c.raw.SetDeadline(time.Now().Add(time.Second))
	if b, err := (&pgproto3.Terminate{}).Encode(nil); err == nil {
		_, _ = c.nc.Write(b)
	}
	// The server may have closed first (Terminate, a failed start-up):
	// nothing to report.
	_ = c.nc.Close()
	return nil
}

// deadline is the earlier of the context's deadline and AnswerWithin from now.
func deadline(ctx context.Context) time.Time {
	d := time.Now().Add(AnswerWithin)
	if cd, ok := ctx.Deadline(); ok && cd.Before(d) {
		return cd
	}
	return d
}

// Send writes messages (one flush), failing the spec if the write fails.
func (c *Conn) Send(ctx context.Context, msgs ...pgproto3.FrontendMessage) {
	ginkgo.GinkgoHelper()
	gomega.Expect(c.send(ctx, msgs...)).To(gomega.Succeed(), "send %s", c.lastSent)
}

func (c *Conn) send(ctx context.Context, msgs ...pgproto3.FrontendMessage) error {
	var names []string
	for _, m := range msgs {
		c.fe.Send(m)
		c.log.add(c.id, wiretap.ToServer, m)
		names = append(names, summary(wiretap.ToServer, m))
	}
	c.lastSent = strings.Join(names, ", ")
	if err := c.raw.SetWriteDeadline(deadline(ctx)); err != nil {
		return err
	}
	if err := c.fe.Flush(); err != nil {
		c.log.note(c.id, "send failed: "+err.Error())
		return err
	}
	return nil
}

// Receive reads one message. A read that fails or times out fails the spec,
// naming what was last sent and what came back.
func (c *Conn) Receive(ctx context.Context) pgproto3.BackendMessage {
	ginkgo.GinkgoHelper()
	m, err := c.receive(ctx)
	gomega.Expect(err).NotTo(gomega.HaveOccurred(), "%s", c.noAnswer("a message", nil))
	return m
}

func (c *Conn) receive(ctx context.Context) (pgproto3.BackendMessage, error) {
	d := deadline(ctx)
	c.bound = time.Until(d).Round(time.Millisecond)
	if err := c.raw.SetReadDeadline(d); err != nil {
		return nil, err
	}
	m, err := c.fe.Receive()
	if err != nil {
		c.log.note(c.id, "receive: "+err.Error())
		return nil, err
	}
	// The frontend reuses its buffers on the next Receive: keep a copy.
	m, err = clone(m)
	if err != nil {
		return nil, err
	}
	c.log.add(c.id, wiretap.ToClient, m)
	return m, nil
}

// Until reads messages up to and including the first for which stop is
// true. A server that stops answering first fails the spec, naming what
// was awaited, what was sent last and what came back.
func (c *Conn) Until(ctx context.Context, what string, stop func(pgproto3.BackendMessage) bool) []pgproto3.BackendMessage {
	ginkgo.GinkgoHelper()
	var got []pgproto3.BackendMessage
	for {
		m, err := c.receive(ctx)
		gomega.Expect(err).NotTo(gomega.HaveOccurred(), "%s", c.noAnswer(what, got))
		got = append(got, m)
		if stop(m) {
			return got
		}
	}
}

// UntilReady reads up to and including ReadyForQuery.
func (c *Conn) UntilReady(ctx context.Context) []pgproto3.BackendMessage {
	ginkgo.GinkgoHelper()
	return c.Until(ctx, "ReadyForQuery", is[*pgproto3.ReadyForQuery])
}

// Query sends a simple Query and reads its answer up to ReadyForQuery.
func (c *Conn) Query(ctx context.Context, sql string) []pgproto3.BackendMessage {
	ginkgo.GinkgoHelper()
	c.Send(ctx, &pgproto3.Query{String: sql})
	return c.UntilReady(ctx)
}

// Sync sends msgs followed by Sync and reads up to ReadyForQuery.
func (c *Conn) Sync(ctx context.Context, msgs ...pgproto3.FrontendMessage) []pgproto3.BackendMessage {
	ginkgo.GinkgoHelper()
	c.Send(ctx, append(msgs, &pgproto3.Sync{})...)
	return c.UntilReady(ctx)
}

// ExpectClosed waits for the server to close the connection, failing the
// spec if a message arrives instead or nothing happens within the deadline.
func (c *Conn) ExpectClosed(ctx context.Context) {
	ginkgo.GinkgoHelper()
	m, err := c.receive(ctx)
	gomega.Expect(err).To(gomega.HaveOccurred(), "after %s the server must close the connection; it sent %s", c.lastSent, summary(wiretap.ToClient, m))
	gomega.Expect(isClosed(err)).To(gomega.BeTrue(), "after %s the server must close the connection (waited up to %s); the read ended with: %v", c.lastSent, c.bound, err)
}

// isClosed tells an orderly close or reset by the peer from a timeout.
func isClosed(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, net.ErrClosed)
}

// noAnswer describes a read that failed while waiting for what.
func (c *Conn) noAnswer(what string, got []pgproto3.BackendMessage) string {
	return fmt.Sprintf("no %s from the server after %s (waited up to %s); received before: [%s]; the transcript is attached",
		what, c.lastSent, c.bound, strings.Join(Names(got), " "))
}

// StartTLS runs a TLS handshake over the connection (after the server
// answered SSLRequest with 'S'); later messages go over TLS.
func (c *Conn) StartTLS(ctx context.Context, cfg *tls.Config) error {
	tc := tls.Client(c.raw, cfg)
	hctx, cancel := context.WithDeadline(ctx, deadline(ctx))
	defer cancel()
	if err := tc.HandshakeContext(hctx); err != nil {
		c.log.note(c.id, "TLS handshake failed: "+err.Error())
		return err
	}
	st := tc.ConnectionState()
	c.log.note(c.id, fmt.Sprintf("TLS %s established, server certificate %q", tls.VersionName(st.Version), st.PeerCertificates[0].Subject.CommonName))
	c.nc = tc
	c.fe = pgproto3.NewFrontend(tc, tc)
	return nil
}

// RequestSSL sends SSLRequest and returns the server's one-byte answer.
func (c *Conn) RequestSSL(ctx context.Context) byte {
	ginkgo.GinkgoHelper()
	b, err := (&pgproto3.SSLRequest{}).Encode(nil)
	if err != nil {
		harness.HarnessFail("encode SSLRequest: %v", err)
	}
	c.log.note(c.id, "→ SSLRequest")
	c.lastSent = "SSLRequest"
	gomega.Expect(c.raw.SetDeadline(deadline(ctx))).To(gomega.Succeed())
	_, err = c.raw.Write(b)
	gomega.Expect(err).NotTo(gomega.HaveOccurred(), "send SSLRequest")
	one := make([]byte, 1)
	_, err = io.ReadFull(c.raw, one)
	gomega.Expect(err).NotTo(gomega.HaveOccurred(), "the server must answer SSLRequest with one byte ('S' or 'N') within %s", AnswerWithin)
	c.log.note(c.id, fmt.Sprintf("← SSLRequest answer %q", one[0]))
	return one[0]
}

// clone copies a message the frontend decoded into its reused buffers.
func clone(m pgproto3.BackendMessage) (pgproto3.BackendMessage, error) {
	b, err := m.Encode(nil)
	if err != nil {
		return nil, fmt.Errorf("re-encode %T: %w", m, err)
	}
	n, ok := reflect.New(reflect.TypeOf(m).Elem()).Interface().(pgproto3.BackendMessage)
	if !ok {
		return nil, fmt.Errorf("cannot copy %T", m)
	}
	if err := n.Decode(b[5:]); err != nil {
		return nil, fmt.Errorf("copy %T: %w", m, err)
	}
	return n, nil
}

// transcript is the current spec's record of messages, on every
// connection it opened. Ginkgo runs one spec at a time per process.
type transcript struct {
	key     string
	mu      sync.Mutex
	lines   []string
	dropped int
	conns   int
}

// transcriptMax bounds the kept lines (the first ones go); a transcript
// must show what happened without holding a bulk result.
const transcriptMax = 300

var (
	tmu     sync.Mutex
	current *transcript
)

func specTranscript() *transcript {
	r := ginkgo.CurrentSpecReport()
	key := r.FullText() + "\x00" + r.StartTime.String()
	tmu.Lock()
	defer tmu.Unlock()
	if current != nil && current.key == key {
		return current
	}
	t := &transcript{key: key}
	current = t
	ginkgo.DeferCleanup(func() {
		if ginkgo.CurrentSpecReport().Failed() {
			ginkgo.AddReportEntry(report.WireEntry, t.snapshot(), ginkgo.ReportEntryVisibilityFailureOrVerbose)
		}
	})
	return t
}

func (t *transcript) nextConn() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.conns++
	return t.conns
}

func (t *transcript) add(conn int, dir wiretap.Direction, m pgproto3.Message) {
	t.line(fmt.Sprintf("%s c%d %s %s", time.Now().Format("15:04:05.000"), conn, dir, summary(dir, m)))
}

func (t *transcript) note(conn int, text string) {
	t.line(fmt.Sprintf("%s c%d %s", time.Now().Format("15:04:05.000"), conn, text))
}

func (t *transcript) line(s string) {
	s = config.Redact(s)
	t.mu.Lock()
	defer t.mu.Unlock()
	// Runs of DataRows collapse into one line: a result of a thousand rows
	// must not push the statement that made it out of the transcript.
	if n := len(t.lines); n > 0 && strings.Contains(s, " ← DataRow ") && strings.Contains(t.lines[n-1], " ← DataRow ") {
		if strings.HasSuffix(t.lines[n-1], " …more DataRows") {
			return
		}
		t.lines[n-1] += " …more DataRows"
		return
	}
	t.lines = append(t.lines, s)
	if len(t.lines) > transcriptMax {
		t.lines = t.lines[1:]
		t.dropped++
	}
}

func (t *transcript) snapshot() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := append([]string(nil), t.lines...)
	if t.dropped > 0 {
		out = append([]string{fmt.Sprintf("… %d earlier lines dropped", t.dropped)}, out...)
	}
	return out
}

// summary is a message in one line, as wiretap's transcripts write it
// (passwords and SASL data never appear).
func summary(dir wiretap.Direction, m pgproto3.Message) string {
	if m == nil {
		return "nothing"
	}
	switch m.(type) {
	case *pgproto3.PasswordMessage, *pgproto3.SASLInitialResponse, *pgproto3.SASLResponse:
		return Name(m) + " [redacted]"
	}
	return wiretap.Record{Dir: dir, Name: Name(m), Msg: m}.Summary()
}
