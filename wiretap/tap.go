package wiretap

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Options configure a Tap.
type Options struct {
	Upstream string // host:port of the server
	Listen   string // host:port to listen on; default "127.0.0.1:0"
	Name     string // names the tap in errors
	// TLS, when set, makes the tap answer SSLRequest with 'S' and terminate TLS with this
	// config (direct TLS as well). When nil, SSLRequest is answered 'N'. GSSENCRequest is
	// always answered 'N'.
	TLS *tls.Config
	// Rewriter, when set, sees and may change every message after startup; nil relays bytes
	// unchanged.
	Rewriter Rewriter
	// MaxRecords bounds the kept message records (oldest dropped; counters stay exact).
	// Default 5000.
	MaxRecords int
	// MaxConnInfos bounds the kept ConnInfos of closed connections. Default 1000.
	MaxConnInfos int
	// DialTimeout bounds each upstream dial. Default 5 s.
	DialTimeout time.Duration
	// StartupTimeout bounds the startup phase of a client connection (SSLRequest, TLS
	// handshake, StartupMessage, upstream dial) and the relay of a CancelRequest. Default 10 s.
	StartupTimeout time.Duration
}

const (
	defaultMaxRecords     = 5000
	defaultMaxConnInfos   = 1000
	defaultDialTimeout    = 5 * time.Second
	defaultStartupTimeout = 10 * time.Second
)

// Tap is a running proxy.
type Tap struct {
	opts   Options
	ln     net.Listener
	faults *Faults
	wg     sync.WaitGroup

	bytesToServer   atomic.Int64
	bytesFromServer atomic.Int64

	mu      sync.Mutex
	closing bool
	nextID  int
	open    map[int]*conn
	infos   []*conn // every connection still reported by Conns, oldest first
	stats   Stats
	windows map[*Window]struct{}
	records ring
	seq     uint64
}

// Start listens on o.Listen and relays every accepted connection to o.Upstream.
func Start(o Options) (*Tap, error) {
	if o.Upstream == "" {
		return nil, fmt.Errorf("wiretap %s: no upstream address", o.Name)
	}
	if o.Listen == "" {
		o.Listen = "127.0.0.1:0"
	}
	if o.MaxRecords <= 0 {
		o.MaxRecords = defaultMaxRecords
	}
	if o.MaxConnInfos <= 0 {
		o.MaxConnInfos = defaultMaxConnInfos
	}
	if o.DialTimeout <= 0 {
		o.DialTimeout = defaultDialTimeout
	}
	if o.StartupTimeout <= 0 {
		o.StartupTimeout = defaultStartupTimeout
	}
	if o.TLS != nil && !slices.Contains(o.TLS.NextProtos, "postgresql") {
		// Direct TLS (PostgreSQL 17 clients) requires the ALPN protocol "postgresql"; adding it
		// leaves the SSLRequest path unchanged.
		o.TLS = o.TLS.Clone()
		o.TLS.NextProtos = append(o.TLS.NextProtos, "postgresql")
	}
	ln, err := net.Listen("tcp", o.Listen)
	if err != nil {
		return nil, fmt.Errorf("wiretap %s: listen on %s: %w", o.Name, o.Listen, err)
	}
	t := &Tap{
		opts:    o,
		ln:      ln,
		open:    map[int]*conn{},
		stats:   newStats(),
		windows: map[*Window]struct{}{},
	}
	t.faults = newFaults(t)
	t.wg.Add(1)
	go t.acceptLoop()
	return t, nil
}

// Addr is the host:port clients connect to.
func (t *Tap) Addr() string { return t.ln.Addr().String() }

// Faults returns the tap's fault switches.
func (t *Tap) Faults() *Faults { return t.faults }

// Close stops listening, closes every connection on both sides and waits until every goroutine
// of the tap has returned.
func (t *Tap) Close() error {
	t.mu.Lock()
	already := t.closing
	t.closing = true
	open := t.openConns()
	t.mu.Unlock()
	var err error
	if !already {
		if err = t.ln.Close(); err != nil {
			err = fmt.Errorf("wiretap %s: close listener: %w", t.opts.Name, err)
		}
	}
	for _, c := range open {
		c.shutdown("tap closed")
	}
	t.wg.Wait()
	return err
}

func (t *Tap) closeAll() {
	t.mu.Lock()
	open := t.openConns()
	t.mu.Unlock()
	for _, c := range open {
		c.shutdown("closed by Faults.CloseAll")
	}
}

// openConns lists open connections; t.mu held.
func (t *Tap) openConns() []*conn {
	out := make([]*conn, 0, len(t.open))
	for _, c := range t.open {
		out = append(out, c)
	}
	return out
}

// Conns describes the client connections, oldest first (open ones and the most recent closed
// ones, see Options.MaxConnInfos).
func (t *Tap) Conns() []ConnInfo {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]ConnInfo, len(t.infos))
	for i, c := range t.infos {
		out[i] = c.info.clone()
	}
	return out
}

func (t *Tap) acceptLoop() {
	defer t.wg.Done()
	for {
		nc, err := t.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// Transient (e.g. out of file descriptors): back off instead of spinning.
			time.Sleep(10 * time.Millisecond)
			continue
		}
		if t.faults.refuseNew.Load() {
			t.mu.Lock()
			t.stats.Refused++
			t.mu.Unlock()
			_ = nc.Close()
			continue
		}
		c := t.register(nc)
		if c == nil {
			_ = nc.Close()
			return
		}
		t.wg.Add(1)
		go c.run()
	}
}

// register adds an accepted connection; nil once the tap is closing.
func (t *Tap) register(nc net.Conn) *conn {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closing {
		return nil
	}
	t.nextID++
	c := newConn(t, t.nextID, nc)
	t.open[c.id] = c
	t.infos = append(t.infos, c)
	if len(t.infos) > t.opts.MaxConnInfos {
		if i := slices.IndexFunc(t.infos, func(c *conn) bool { return !c.info.Closed.IsZero() }); i >= 0 {
			t.infos = slices.Delete(t.infos, i, i+1)
		}
	}
	t.stats.Opened++
	t.stats.Open++
	t.stats.PeakOpen = max(t.stats.PeakOpen, t.stats.Open)
	for w := range t.windows {
		w.peak = max(w.peak, t.stats.Open)
	}
	return c
}

func (t *Tap) unregister(c *conn) {
	t.mu.Lock()
	defer t.mu.Unlock()
	c.info.Closed = time.Now()
	delete(t.open, c.id)
	t.stats.Closed++
	t.stats.Open--
}

// snapshotLocked fills in the counters kept outside t.mu; t.mu held.
func (t *Tap) snapshotLocked() Stats {
	s := t.stats.clone()
	s.BytesToServer = t.bytesToServer.Load()
	s.BytesFromServer = t.bytesFromServer.Load()
	return s
}

// recordLocked appends a record; t.mu held. Row and copy data are kept
// as their one-line summary only: a tap in the test process must not hold
// a streamed result (the streaming specs measure that process's heap).
func (t *Tap) recordLocked(r Record) {
	if r.Msg != nil && (r.Name == "DataRow" || r.Name == "CopyData") {
		if r.text == "" {
			r.text = summarize(r.Name, r.Msg)
		}
		r.Msg = nil
	}
	t.seq++
	r.Seq = t.seq
	t.records.add(r, t.opts.MaxRecords)
}

func (t *Tap) record(r Record) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.recordLocked(r)
}
