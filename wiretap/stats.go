package wiretap

import (
	"maps"
	"time"
)

// Stats are counters over the client's side of the conversation: client messages as the
// client sent them, server messages as the client received them (after any Rewriter).
type Stats struct {
	Opened   int // client connections accepted (cancel connections included)
	Closed   int
	Open     int // open now (at the end of a Window)
	PeakOpen int // most open at once (within a Window: since Watch)
	Refused  int // accepted and closed at once by Faults.RefuseNew
	TLS      int // connections that negotiated TLS with the tap

	BytesFromClient int64
	BytesToClient   int64
	BytesToServer   int64
	BytesFromServer int64

	FromClient map[string]int // client messages by pgproto3 name: "Query", "Parse", "Sync", "CopyData", …
	ToClient   map[string]int // server messages: "DataRow", "CommandComplete", "ReadyForQuery", …

	// Requests counts Query, Sync and FunctionCall messages after startup: each asks the server
	// for a ReadyForQuery.
	Requests int
	// RoundTrips counts, per connection, each time the client's outstanding requests
	// (Requests sent minus ReadyForQuery received, the startup one aside) fell from >0 to 0:
	// each is a wait for the server to drain the pipeline.
	RoundTrips int

	ReadyStatus    map[byte]int   // ReadyForQuery by status: 'I', 'T', 'E'
	ErrorCodes     map[string]int // ErrorResponse by SQLSTATE
	CommandTags    map[string]int // CommandComplete by tag: "COPY 100": 1 vs "INSERT 0 1": 100
	CancelRequests int
	Resets         int // connections aborted by Faults.ResetAfterDataRows
}

func newStats() Stats {
	return Stats{
		FromClient:  map[string]int{},
		ToClient:    map[string]int{},
		ReadyStatus: map[byte]int{},
		ErrorCodes:  map[string]int{},
		CommandTags: map[string]int{},
	}
}

func (s Stats) clone() Stats {
	c := s
	c.FromClient = maps.Clone(s.FromClient)
	c.ToClient = maps.Clone(s.ToClient)
	c.ReadyStatus = maps.Clone(s.ReadyStatus)
	c.ErrorCodes = maps.Clone(s.ErrorCodes)
	c.CommandTags = maps.Clone(s.CommandTags)
	return c
}

// sub returns the counters accumulated between base and s. Open is s's; PeakOpen is left to
// the caller.
func (s Stats) sub(base Stats) Stats {
	d := Stats{
		Opened:          s.Opened - base.Opened,
		Closed:          s.Closed - base.Closed,
		Open:            s.Open,
		Refused:         s.Refused - base.Refused,
		TLS:             s.TLS - base.TLS,
		BytesFromClient: s.BytesFromClient - base.BytesFromClient,
		BytesToClient:   s.BytesToClient - base.BytesToClient,
		BytesToServer:   s.BytesToServer - base.BytesToServer,
		BytesFromServer: s.BytesFromServer - base.BytesFromServer,
		FromClient:      subMap(s.FromClient, base.FromClient),
		ToClient:        subMap(s.ToClient, base.ToClient),
		Requests:        s.Requests - base.Requests,
		RoundTrips:      s.RoundTrips - base.RoundTrips,
		ReadyStatus:     subMap(s.ReadyStatus, base.ReadyStatus),
		ErrorCodes:      subMap(s.ErrorCodes, base.ErrorCodes),
		CommandTags:     subMap(s.CommandTags, base.CommandTags),
		CancelRequests:  s.CancelRequests - base.CancelRequests,
		Resets:          s.Resets - base.Resets,
	}
	return d
}

func subMap[K comparable](now, base map[K]int) map[K]int {
	d := map[K]int{}
	for k, v := range now {
		if v -= base[k]; v != 0 {
			d[k] = v
		}
	}
	return d
}

// Window collects counters from Tap.Watch until Stop. Several windows may be open at once.
type Window struct {
	t     *Tap
	start Stats
	peak  int // guarded by t.mu
	done  bool
	final Stats
}

// Watch opens a window: its Stats count from now, and its PeakOpen is the most connections
// open at once since now (starting from those open now).
func (t *Tap) Watch() *Window {
	t.mu.Lock()
	defer t.mu.Unlock()
	w := &Window{t: t, start: t.snapshotLocked(), peak: t.stats.Open}
	t.windows[w] = struct{}{}
	return w
}

// Stop closes the window and returns its counters; later calls return the same.
func (w *Window) Stop() Stats {
	w.t.mu.Lock()
	defer w.t.mu.Unlock()
	if !w.done {
		w.done = true
		delete(w.t.windows, w)
		w.final = w.t.snapshotLocked().sub(w.start)
		w.final.PeakOpen = w.peak
	}
	return w.final.clone()
}

// Stats returns the window's counters so far without closing it.
func (w *Window) Stats() Stats {
	w.t.mu.Lock()
	defer w.t.mu.Unlock()
	if w.done {
		return w.final.clone()
	}
	s := w.t.snapshotLocked().sub(w.start)
	s.PeakOpen = w.peak
	return s
}

// Stats returns the cumulative counters since Start.
func (t *Tap) Stats() Stats {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.snapshotLocked()
}

// ConnInfo describes one client connection.
type ConnInfo struct {
	ID     int
	Client string // client's address
	// UpstreamLocal is this tap's own address on its upstream connection:
	// the client address the upstream server (or a proxy) sees.
	UpstreamLocal string
	Opened        time.Time
	Closed        time.Time // zero while open
	Cancel        bool      // the connection carried a CancelRequest (forwarded upstream)
	// CancelTarget is the ProcessID a CancelRequest named.
	CancelTarget uint32

	Params          map[string]string // StartupMessage parameters
	ProtocolVersion string            // "3.0", "3.2"
	// ServerParams are the ParameterStatus values the server reported
	// (at startup and after any SET of a reported setting), latest wins.
	ServerParams map[string]string
	// Statements are the first statements the client sent (Query and
	// Parse texts, in order): what a driver runs on connect shows here.
	Statements []string

	SSLRequested    bool // the client sent SSLRequest
	GSSENCRequested bool
	TLS             bool   // TLS negotiated with the tap
	DirectTLS       bool   // TLS began without SSLRequest (sslnegotiation=direct)
	TLSVersion      string // "TLS 1.3"
	TLSRefused      bool   // the tap answered 'N' to an SSLRequest
	// PlaintextAfterRefusal: after the 'N' the client sent its StartupMessage in plain text
	// on the same connection (a TLS fallback, as libpq's sslmode=prefer does).
	PlaintextAfterRefusal bool

	AuthOffered   []string // SASL mechanisms the server offered
	AuthMethod    string   // trust, cleartext, md5, SCRAM-SHA-256, SCRAM-SHA-256-PLUS, gss
	Authenticated bool     // AuthenticationOk seen
	BackendPID    uint32   // from BackendKeyData
	backendKey    []byte

	Requests     int
	RoundTrips   int
	ReadyStatus  map[byte]int // ReadyForQuery statuses seen
	LastStatus   byte         // last ReadyForQuery status (0 before the first)
	CommandTags  []string     // the last few CommandComplete tags
	Errors       []ErrorInfo  // ErrorResponses the client received (the first few)
	ErrorCount   int
	CancelsAimed int // CancelRequests received (on other connections) naming this one's key

	Reset bool   // aborted by Faults.ResetAfterDataRows
	End   string // why the connection ended ("" = clean end)
}

// ErrorInfo is one ErrorResponse (or FATAL during startup).
type ErrorInfo struct {
	Time     time.Time
	Severity string
	Code     string
	Message  string
}

const (
	keepTags   = 32
	keepErrors = 32
)

func (ci ConnInfo) clone() ConnInfo {
	c := ci
	c.Params = maps.Clone(ci.Params)
	c.AuthOffered = append([]string(nil), ci.AuthOffered...)
	c.ReadyStatus = maps.Clone(ci.ReadyStatus)
	c.CommandTags = append([]string(nil), ci.CommandTags...)
	c.Errors = append([]ErrorInfo(nil), ci.Errors...)
	c.ServerParams = maps.Clone(ci.ServerParams)
	c.Statements = append([]string(nil), ci.Statements...)
	c.backendKey = nil
	return c
}
