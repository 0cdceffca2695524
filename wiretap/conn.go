package wiretap

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"
)

const (
	bufSize  = 32 << 10
	queueLen = 1024 // server→client messages read ahead of the client; beyond it TCP pushes back
)

// conn is one client connection and its upstream connection. Its goroutines: run (startup,
// then client→server), serverReader (upstream → queue) and clientWriter (queue → client), so
// that latency, blackholing and resets act on whole messages without stalling reads.
type conn struct {
	t      *Tap
	id     int
	raw    net.Conn // the accepted TCP connection
	client net.Conn // raw, or TLS over raw; written only by run before the relay starts
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}
	once   sync.Once
	wg     sync.WaitGroup // serverReader and clientWriter

	upMu     sync.Mutex
	upstream net.Conn

	ready    atomic.Bool   // the client has received the ReadyForQuery that ends startup
	authType atomic.Uint32 // last Authentication request code: decides what a 'p' message is

	out chan outItem

	// Guarded by t.mu.
	info        ConnInfo
	outstanding int // Query/Sync/FunctionCall sent minus ReadyForQuery received

	rwMu  sync.Mutex // serializes Rewriter calls for this connection
	state *ConnState

	// emitMu orders everything queued for the client; it also guards the reply barrier.
	emitMu  sync.Mutex
	fwdReqs uint64 // requests forwarded upstream after startup
	upRFQs  uint64 // ReadyForQuery read from upstream after startup
	pending []pendingReply
}

type outItem struct {
	at   time.Time // when the tap read it (latency counts from here)
	raw  []byte
	msg  pgproto3.BackendMessage // nil when undecodable
	name string
	note string
	eof  bool  // the upstream ended; err says how
	err  error // with eof
}

type pendingReply struct {
	after uint64 // deliver once upRFQs reaches this
	items []outItem
}

func newConn(t *Tap, id int, nc net.Conn) *conn {
	ctx, cancel := context.WithCancel(context.Background())
	return &conn{
		t:      t,
		id:     id,
		raw:    nc,
		client: nc,
		ctx:    ctx,
		cancel: cancel,
		done:   make(chan struct{}),
		out:    make(chan outItem, queueLen),
		info: ConnInfo{
			ID:          id,
			Client:      nc.RemoteAddr().String(),
			Opened:      time.Now(),
			ReadyStatus: map[byte]int{},
		},
	}
}

func (c *conn) run() {
	defer c.t.wg.Done()
	session, err := c.startup()
	if err == nil && session {
		err = c.relay()
	}
	c.shutdown(endReason(err))
	c.wg.Wait()
	c.t.unregister(c)
}

// closeNotify ends a TLS session as PostgreSQL does when the server ends
// the conversation (SSL_shutdown: a close_notify alert before the socket
// closes): a driver reading a bare TCP end instead may take it for an
// attack (truncation) and fail its close. Bounded: a stalled peer does
// not hold the tap.
func (c *conn) closeNotify() {
	tc, ok := c.client.(*tls.Conn)
	if !ok {
		return
	}
	_ = c.raw.SetWriteDeadline(time.Now().Add(time.Second))
	_ = tc.CloseWrite()
}

// shutdown closes both sides once; reason ("" = clean) goes to ConnInfo.End.
func (c *conn) shutdown(reason string) {
	c.once.Do(func() {
		c.t.mu.Lock()
		c.info.End = reason
		c.t.mu.Unlock()
		c.cancel()
		close(c.done)
		_ = c.raw.Close() // the raw socket, not TLS: a close_notify could block on a stalled peer
		c.upMu.Lock()
		if c.upstream != nil {
			_ = c.upstream.Close()
		}
		c.upMu.Unlock()
	})
}

// abort resets both sides with a TCP RST (SO_LINGER 0).
func (c *conn) abort(reason string) {
	setLinger0(c.raw)
	c.upMu.Lock()
	if c.upstream != nil {
		setLinger0(c.upstream)
	}
	c.upMu.Unlock()
	c.t.mu.Lock()
	c.info.Reset = true
	c.t.stats.Resets++
	c.t.recordLocked(Record{Time: time.Now(), Conn: c.id, Dir: ToClient, Name: "Reset", text: "[TCP RST both sides: " + reason + "]"})
	c.t.mu.Unlock()
	c.shutdown(reason)
}

func setLinger0(nc net.Conn) {
	if tc, ok := nc.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
}

func endReason(err error) string {
	if err == nil || errors.Is(err, io.EOF) {
		return ""
	}
	return err.Error()
}

// startup negotiates SSL/GSS encryption, then relays the StartupMessage (session = true) or a
// CancelRequest (session = false).
func (c *conn) startup() (session bool, err error) {
	t := c.t
	deadline := time.Now().Add(t.opts.StartupTimeout)
	_ = c.raw.SetDeadline(deadline)
	for {
		pkt, err := readStartup(c.client, nil)
		if errors.Is(err, errDirectTLS) {
			if c.info.TLS || t.opts.TLS == nil || t.faults.refuseTLS.Load() {
				return false, errors.New("client began a TLS handshake directly; the tap does not offer TLS")
			}
			if err := c.startTLS(deadline, pkt); err != nil {
				return false, err
			}
			t.mu.Lock()
			c.info.DirectTLS = true
			t.mu.Unlock()
			continue
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				return false, io.EOF // the client gave up (e.g. after an 'N' to SSLRequest)
			}
			return false, fmt.Errorf("client startup: %w", err)
		}
		switch code := binary.BigEndian.Uint32(pkt[4:8]); code {
		case codeSSLRequest:
			if c.info.TLS {
				return false, errors.New("client sent SSLRequest inside TLS")
			}
			answer := byte('N')
			if t.opts.TLS != nil && !t.faults.refuseTLS.Load() {
				answer = 'S'
			}
			t.mu.Lock()
			c.info.SSLRequested = true
			c.info.TLSRefused = c.info.TLSRefused || answer == 'N'
			c.eventLocked(ToServer, "SSLRequest", len(pkt), "SSLRequest")
			c.eventLocked(ToClient, "SSLResponse", 1, "SSLResponse "+string(answer))
			t.mu.Unlock()
			if _, err := c.raw.Write([]byte{answer}); err != nil {
				return false, fmt.Errorf("answering SSLRequest: %w", err)
			}
			if answer == 'S' {
				if err := c.startTLS(deadline, nil); err != nil {
					return false, err
				}
			}
		case codeGSSEncReqst:
			t.mu.Lock()
			c.info.GSSENCRequested = true
			c.eventLocked(ToServer, "GSSEncRequest", len(pkt), "GSSEncRequest")
			c.eventLocked(ToClient, "GSSEncResponse", 1, "GSSEncResponse N")
			t.mu.Unlock()
			if _, err := c.client.Write([]byte{'N'}); err != nil {
				return false, fmt.Errorf("answering GSSENCRequest: %w", err)
			}
		case codeCancel:
			return false, c.relayCancel(pkt, deadline)
		case codeProtocol30, codeProtocol32:
			var sm pgproto3.StartupMessage
			if err := sm.Decode(pkt[4:]); err != nil {
				return false, fmt.Errorf("client StartupMessage: %w", err)
			}
			t.mu.Lock()
			c.info.Params = sm.Parameters
			c.info.ProtocolVersion = fmt.Sprintf("%d.%d", sm.ProtocolVersion>>16, sm.ProtocolVersion&0xffff)
			c.info.PlaintextAfterRefusal = c.info.TLSRefused && !c.info.TLS
			c.t.stats.FromClient["StartupMessage"]++
			c.t.stats.BytesFromClient += int64(len(pkt))
			c.t.recordLocked(Record{Time: time.Now(), Conn: c.id, Dir: ToServer, Name: "StartupMessage", Size: len(pkt), Msg: &sm})
			t.mu.Unlock()
			if t.opts.Rewriter != nil {
				c.state = newConnState(c.id, c.info.Client, sm.Parameters)
			}
			up, err := c.dial(deadline)
			if err != nil {
				// Tell the client why, as a server that refuses a session would.
				c.failClient("08006", err.Error())
				return false, err
			}
			if _, err := up.Write(pkt); err != nil {
				return false, fmt.Errorf("upstream %s: sending StartupMessage: %w", t.opts.Upstream, err)
			}
			t.bytesToServer.Add(int64(len(pkt)))
			_ = up.SetDeadline(time.Time{})
			_ = c.raw.SetDeadline(time.Time{})
			return true, nil
		default:
			return false, fmt.Errorf("client startup: unsupported request code %d", code)
		}
	}
}

// failClient sends the client a FATAL ErrorResponse during startup.
func (c *conn) failClient(code, msg string) {
	e := &pgproto3.ErrorResponse{Severity: "FATAL", SeverityUnlocalized: "FATAL", Code: code, Message: msg}
	b, err := encode(e)
	if err != nil {
		return
	}
	c.noteServer(outItem{at: time.Now(), raw: b, msg: e, name: msgName(e), note: "proxy reply"})
	_, _ = c.client.Write(b)
}

// eventLocked records a startup event that is not a pgproto3 message; t.mu held.
func (c *conn) eventLocked(dir Direction, name string, size int, text string) {
	if dir == ToServer {
		c.t.stats.FromClient[name]++
		c.t.stats.BytesFromClient += int64(size)
	} else {
		c.t.stats.ToClient[name]++
		c.t.stats.BytesToClient += int64(size)
	}
	c.t.recordLocked(Record{Time: time.Now(), Conn: c.id, Dir: dir, Name: name, Size: size, text: text})
}

// prefixConn replays bytes already read before the rest of the connection.
type prefixConn struct {
	net.Conn
	r io.Reader
}

func (p *prefixConn) Read(b []byte) (int, error) { return p.r.Read(b) }

func (c *conn) startTLS(deadline time.Time, prefix []byte) error {
	var nc net.Conn = c.raw
	if prefix != nil {
		nc = &prefixConn{Conn: c.raw, r: io.MultiReader(bytes.NewReader(prefix), c.raw)}
	}
	tc := tls.Server(nc, c.t.opts.TLS)
	ctx, cancel := context.WithDeadline(c.ctx, deadline)
	defer cancel()
	if err := tc.HandshakeContext(ctx); err != nil {
		return fmt.Errorf("TLS handshake with client: %w", err)
	}
	c.client = tc
	c.t.mu.Lock()
	c.info.TLS = true
	c.info.TLSVersion = tls.VersionName(tc.ConnectionState().Version)
	c.t.stats.TLS++
	c.t.mu.Unlock()
	return nil
}

func (c *conn) dial(deadline time.Time) (net.Conn, error) {
	d := net.Dialer{Timeout: c.t.opts.DialTimeout, Deadline: deadline}
	up, err := d.DialContext(c.ctx, "tcp", c.t.opts.Upstream)
	if err != nil {
		return nil, fmt.Errorf("wiretap %s: dial upstream %s: %w", c.t.opts.Name, c.t.opts.Upstream, err)
	}
	_ = up.SetDeadline(deadline)
	c.t.mu.Lock()
	c.info.UpstreamLocal = up.LocalAddr().String()
	c.t.mu.Unlock()
	c.upMu.Lock()
	defer c.upMu.Unlock()
	select {
	case <-c.done:
		_ = up.Close()
		return nil, errors.New("connection closed during startup")
	default:
	}
	c.upstream = up
	return up, nil
}

// relayCancel forwards a CancelRequest on its own upstream connection.
func (c *conn) relayCancel(pkt []byte, deadline time.Time) error {
	var cr pgproto3.CancelRequest
	if err := cr.Decode(pkt[4:]); err != nil {
		return fmt.Errorf("client CancelRequest: %w", err)
	}
	t := c.t
	t.mu.Lock()
	c.info.Cancel = true
	c.info.CancelTarget = cr.ProcessID
	t.stats.CancelRequests++
	t.stats.FromClient["CancelRequest"]++
	t.stats.BytesFromClient += int64(len(pkt))
	for _, o := range t.open {
		if o != c && o.info.BackendPID == cr.ProcessID && bytes.Equal(o.info.backendKey, cr.SecretKey) {
			o.info.CancelsAimed++
		}
	}
	t.recordLocked(Record{Time: time.Now(), Conn: c.id, Dir: ToServer, Name: "CancelRequest", Size: len(pkt), Msg: &cr})
	t.mu.Unlock()
	up, err := c.dial(deadline)
	if err != nil {
		return err
	}
	if _, err := up.Write(pkt); err != nil {
		return fmt.Errorf("upstream %s: sending CancelRequest: %w", t.opts.Upstream, err)
	}
	t.bytesToServer.Add(int64(len(pkt)))
	// The server closes the connection once it has acted on the request; waiting for that
	// means the client's own wait for EOF ends only when the cancel has been delivered.
	if _, err := io.Copy(io.Discard, up); err != nil && !errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("upstream %s: after CancelRequest: %w", t.opts.Upstream, err)
	}
	return nil
}

// relay runs the session: client→server here, server→client in two goroutines.
func (c *conn) relay() error {
	c.wg.Add(2)
	go c.serverReader()
	go c.clientWriter()
	err := c.clientPump()
	if err != nil {
		return err
	}
	// The client is done sending: pass the end on and let the server end the conversation.
	c.upMu.Lock()
	if tc, ok := c.upstream.(*net.TCPConn); ok {
		_ = tc.CloseWrite()
	}
	c.upMu.Unlock()
	<-c.done
	return nil
}

func isRequest(typ byte) bool { return typ == 'Q' || typ == 'S' || typ == 'F' }

func (c *conn) clientPump() error {
	t := c.t
	rw := t.opts.Rewriter
	cr := bufio.NewReaderSize(c.client, bufSize)
	uw := bufio.NewWriterSize(c.upstream, bufSize)
	for {
		// Flush before a read can block, so batches stay batches.
		if cr.Buffered() == 0 && uw.Buffered() > 0 {
			if err := uw.Flush(); err != nil {
				return fmt.Errorf("upstream: %w", err)
			}
		}
		raw, err := readMessage(cr)
		if err != nil {
			if errors.Is(err, io.EOF) {
				if err := uw.Flush(); err != nil {
					return fmt.Errorf("upstream: %w", err)
				}
				return nil
			}
			return fmt.Errorf("client: %w", err)
		}
		now := time.Now()
		msg, derr := decodeFrontend(raw[0], raw[5:], c.authType.Load())
		ready := c.ready.Load()
		fwd := [][]byte{raw}
		var replies []pgproto3.BackendMessage
		note := ""
		if derr != nil {
			note = "undecodable: " + derr.Error()
		} else if rw != nil && ready {
			c.rwMu.Lock()
			c.state.observe(msg)
			fm, rm := rw.FromClient(c.state, msg)
			c.rwMu.Unlock()
			if fwd, note, err = encodeFrontends(raw, fm); err != nil {
				return fmt.Errorf("rewriter: %w", err)
			}
			replies = rm
		}
		c.noteClient(now, raw, msg, ready, note)
		if !t.faults.waitOpen(c.done) {
			return net.ErrClosed
		}
		for _, b := range fwd {
			if ready && isRequest(b[0]) {
				c.emitMu.Lock()
				c.fwdReqs++
				c.emitMu.Unlock()
			}
			if _, err := uw.Write(b); err != nil {
				return fmt.Errorf("upstream: %w", err)
			}
			t.bytesToServer.Add(int64(len(b)))
		}
		if len(replies) > 0 {
			if err := c.reply(now, replies); err != nil {
				return err
			}
		}
	}
}

func encodeFrontends(raw []byte, ms []pgproto3.FrontendMessage) ([][]byte, string, error) {
	if len(ms) == 0 {
		return nil, "not forwarded", nil
	}
	out := make([][]byte, len(ms))
	for i, m := range ms {
		b, err := encode(m)
		if err != nil {
			return nil, "", err
		}
		out[i] = b
	}
	if len(out) == 1 && bytes.Equal(out[0], raw) {
		return out, "", nil
	}
	return out, "rewritten", nil
}

// reply queues messages the tap answers itself, behind the upstream's answers to every
// request forwarded so far.
func (c *conn) reply(at time.Time, ms []pgproto3.BackendMessage) error {
	items := make([]outItem, len(ms))
	for i, m := range ms {
		b, err := encode(m)
		if err != nil {
			return fmt.Errorf("rewriter reply: %w", err)
		}
		items[i] = outItem{at: at, raw: b, msg: m, name: msgName(m), note: "proxy reply"}
	}
	c.emitMu.Lock()
	defer c.emitMu.Unlock()
	if c.upRFQs >= c.fwdReqs {
		if !c.enqueueLocked(items) {
			return net.ErrClosed
		}
		return nil
	}
	c.pending = append(c.pending, pendingReply{after: c.fwdReqs, items: items})
	return nil
}

// enqueueLocked queues items for the client; c.emitMu held. False once the connection is done.
func (c *conn) enqueueLocked(items []outItem) bool {
	for _, it := range items {
		select {
		case c.out <- it:
		case <-c.done:
			return false
		}
	}
	return true
}

func (c *conn) serverReader() {
	defer c.wg.Done()
	t := c.t
	rw := t.opts.Rewriter
	ur := bufio.NewReaderSize(c.upstream, bufSize)
	started := false // the upstream has sent the ReadyForQuery that ends startup
	prevRow := false // the previous message was a DataRow
	for {
		raw, err := readMessage(ur)
		if err != nil {
			c.emitMu.Lock()
			c.enqueueLocked([]outItem{{eof: true, err: err}})
			c.emitMu.Unlock()
			return
		}
		now := time.Now()
		t.bytesFromServer.Add(int64(len(raw)))
		typ := raw[0]
		var msg pgproto3.BackendMessage
		var derr error
		if typ == 'D' && prevRow && (rw == nil || !started) {
			// Rows after a result's first are relayed and counted, not
			// decoded: a large result must cost the tap (and the process it
			// runs in) next to nothing; the first is decoded for its preview.
			msg = &pgproto3.DataRow{}
		} else {
			msg, derr = decodeBackend(typ, raw[5:])
		}
		prevRow = typ == 'D'
		if typ == 'R' && derr == nil {
			// Set before the client can see the request, so that its answer decodes right.
			c.authType.Store(binary.BigEndian.Uint32(raw[5:9]))
		}
		var items []outItem
		switch {
		case derr != nil:
			items = []outItem{{at: now, raw: raw, name: unknownName(typ), note: "undecodable: " + derr.Error()}}
		case !started || rw == nil:
			items = []outItem{{at: now, raw: raw, msg: msg, name: msgName(msg)}}
		default:
			c.rwMu.Lock()
			out := rw.FromServer(c.state, msg)
			c.rwMu.Unlock()
			if items, err = encodeBackends(now, raw, out); err != nil {
				c.emitMu.Lock()
				c.enqueueLocked([]outItem{{eof: true, err: fmt.Errorf("rewriter: %w", err)}})
				c.emitMu.Unlock()
				return
			}
			if len(out) == 0 {
				kept, text := redact(msg)
				t.record(Record{Time: now, Conn: c.id, Dir: ToClient, Name: msgName(msg), Size: len(raw), Msg: kept, text: text, Note: "dropped by rewriter"})
			}
		}
		c.emitMu.Lock()
		ok := c.enqueueLocked(items)
		if ok && started && typ == 'Z' {
			c.upRFQs++
			ok = c.releaseLocked()
		}
		c.emitMu.Unlock()
		if !ok {
			return
		}
		if typ == 'Z' {
			started = true
		}
	}
}

// releaseLocked queues the pending replies whose barrier has passed; c.emitMu held.
func (c *conn) releaseLocked() bool {
	n := 0
	for _, p := range c.pending {
		if p.after > c.upRFQs {
			break
		}
		if !c.enqueueLocked(p.items) {
			return false
		}
		n++
	}
	c.pending = c.pending[n:]
	return true
}

func encodeBackends(at time.Time, raw []byte, ms []pgproto3.BackendMessage) ([]outItem, error) {
	items := make([]outItem, len(ms))
	for i, m := range ms {
		b, err := encode(m)
		if err != nil {
			return nil, err
		}
		items[i] = outItem{at: at, raw: b, msg: m, name: msgName(m)}
		if len(ms) != 1 || !bytes.Equal(b, raw) {
			items[i].note = "rewritten"
		}
	}
	return items, nil
}

func (c *conn) clientWriter() {
	defer c.wg.Done()
	f := c.t.faults
	cw := bufio.NewWriterSize(c.client, bufSize)
	rows := 0 // consecutive DataRows in the current result
	for {
		var it outItem
		select {
		case it = <-c.out:
		case <-c.done:
			return
		}
		if it.eof {
			if err := cw.Flush(); err != nil {
				c.shutdown("client: " + err.Error())
				return
			}
			reason := endReason(it.err)
			if reason != "" {
				reason = "upstream: " + reason
			} else {
				c.closeNotify()
			}
			c.shutdown(reason)
			return
		}
		if lat := time.Duration(f.latency.Load()); lat > 0 && time.Until(it.at.Add(lat)) > 0 {
			if err := cw.Flush(); err != nil {
				c.shutdown("client: " + err.Error())
				return
			}
			if !sleepUntil(it.at.Add(lat), c.done) {
				return
			}
		}
		if !f.waitOpen(c.done) {
			return
		}
		if it.name == "DataRow" {
			rows++
			if f.takeReset(rows) {
				if err := cw.Flush(); err == nil {
					c.abort(fmt.Sprintf("Faults.ResetAfterDataRows(%d)", rows-1))
				} else {
					c.shutdown("client: " + err.Error())
				}
				return
			}
		} else {
			rows = 0
		}
		// Account before the client can see it: its next request must find this one counted.
		c.noteServer(it)
		if _, err := cw.Write(it.raw); err != nil {
			c.shutdown("client: " + err.Error())
			return
		}
		if len(c.out) == 0 {
			if err := cw.Flush(); err != nil {
				c.shutdown("client: " + err.Error())
				return
			}
		}
	}
}

// noteClient counts and records a client message.
func (c *conn) noteClient(at time.Time, raw []byte, msg pgproto3.FrontendMessage, ready bool, note string) {
	t := c.t
	name := unknownName(raw[0])
	if msg != nil {
		name = msgName(msg)
	}
	kept, text := pgproto3.Message(nil), ""
	if msg != nil {
		kept, text = redact(msg)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.stats.BytesFromClient += int64(len(raw))
	t.stats.FromClient[name]++
	if ready && isRequest(raw[0]) {
		t.stats.Requests++
		c.info.Requests++
		c.outstanding++
	}
	switch m := msg.(type) {
	case *pgproto3.SASLInitialResponse:
		c.info.AuthMethod = m.AuthMechanism
	case *pgproto3.Query:
		c.keepStatement(m.String)
	case *pgproto3.Parse:
		c.keepStatement(m.Query)
	}
	t.recordLocked(Record{Time: at, Conn: c.id, Dir: ToServer, Name: name, Size: len(raw), Msg: kept, Note: note, text: text})
}

// keepStatements bounds ConnInfo.Statements.
const keepStatements = 20

func (c *conn) keepStatement(sql string) {
	if len(c.info.Statements) < keepStatements {
		c.info.Statements = append(c.info.Statements, clip(sql, 200))
	}
}

// noteServer counts and records a message the client is about to receive.
func (c *conn) noteServer(it outItem) {
	t := c.t
	kept, text := pgproto3.Message(nil), ""
	if it.msg != nil {
		kept, text = redact(it.msg)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.stats.BytesToClient += int64(len(it.raw))
	t.stats.ToClient[it.name]++
	ci := &c.info
	switch m := it.msg.(type) {
	case *pgproto3.ReadyForQuery:
		if c.ready.Load() {
			if c.outstanding > 0 {
				c.outstanding--
				if c.outstanding == 0 {
					t.stats.RoundTrips++
					ci.RoundTrips++
				}
			}
		} else {
			c.ready.Store(true)
		}
		t.stats.ReadyStatus[m.TxStatus]++
		ci.ReadyStatus[m.TxStatus]++
		ci.LastStatus = m.TxStatus
	case *pgproto3.CommandComplete:
		tag := string(m.CommandTag)
		t.stats.CommandTags[tag]++
		ci.CommandTags = append(ci.CommandTags, tag)
		if len(ci.CommandTags) > keepTags {
			ci.CommandTags = ci.CommandTags[len(ci.CommandTags)-keepTags:]
		}
	case *pgproto3.ErrorResponse:
		t.stats.ErrorCodes[m.Code]++
		ci.ErrorCount++
		if len(ci.Errors) < keepErrors {
			ci.Errors = append(ci.Errors, ErrorInfo{Time: it.at, Severity: m.Severity, Code: m.Code, Message: m.Message})
		}
	case *pgproto3.AuthenticationOk:
		ci.Authenticated = true
		if ci.AuthMethod == "" {
			ci.AuthMethod = "trust"
		}
	case *pgproto3.AuthenticationCleartextPassword:
		ci.AuthMethod = "cleartext"
	case *pgproto3.AuthenticationMD5Password:
		ci.AuthMethod = "md5"
	case *pgproto3.AuthenticationGSS:
		ci.AuthMethod = "gss"
	case *pgproto3.AuthenticationSASL:
		ci.AuthOffered = append([]string(nil), m.AuthMechanisms...)
	case *pgproto3.ParameterStatus:
		if ci.ServerParams == nil {
			ci.ServerParams = map[string]string{}
		}
		ci.ServerParams[m.Name] = m.Value
	case *pgproto3.BackendKeyData:
		ci.BackendPID = m.ProcessID
		ci.backendKey = bytes.Clone(m.SecretKey)
	}
	t.recordLocked(Record{Time: time.Now(), Conn: c.id, Dir: ToClient, Name: it.name, Size: len(it.raw), Msg: kept, Note: it.note, text: text})
}
