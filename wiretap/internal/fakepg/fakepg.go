// Package fakepg is a small in-process PostgreSQL server for unit tests: it speaks enough of
// the protocol (startup, trust/cleartext/md5/SCRAM authentication, simple and extended
// queries, COPY FROM STDIN, cancel requests, transaction status) for pgx to talk to it, and
// answers queries from a Handler with canned results.
package fakepg

import (
	"crypto/md5"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/jackc/pgx/v5/pgtype"
)

// Auth methods.
const (
	Trust     = "trust"
	Cleartext = "cleartext"
	MD5       = "md5"
	SCRAM     = "scram"
)

// Options configure a Server.
type Options struct {
	Auth     string // Trust (default), Cleartext, MD5, SCRAM
	Password string // expected password for every user
	// SCRAMPlus also offers SCRAM-SHA-256-PLUS (the binding data is taken on trust: the fake
	// is plain TCP behind a TLS-terminating tap).
	SCRAMPlus bool
	Handler   Handler // nil: DefaultHandler
}

// Handler answers a statement. It is called for Describe too (q.Describe), so it must not
// count side effects there.
type Handler func(q Query) Result

// Query is one statement to answer.
type Query struct {
	SQL      string
	Args     [][]byte // Bind parameters (extended protocol)
	Extended bool
	Describe bool // only the shape (Cols, ParamOIDs) is used
}

// Col is a result column.
type Col struct {
	Name string
	OID  uint32
}

// Result is a canned answer.
type Result struct {
	Cols      []Col
	Rows      [][]any // Go values, encoded with pgtype for the column's OID; nil is NULL
	Tag       string  // CommandComplete tag; default "SELECT n" with Cols, else the first word
	Err       *pgproto3.ErrorResponse
	ParamOIDs []uint32 // default: int8 for each $n in the SQL
	CopyIn    bool     // COPY FROM STDIN: answer CopyInResponse, read to CopyDone, tag "COPY n"
	Block     bool     // wait for a CancelRequest naming this session, then fail with 57014
}

// Err builds an ERROR response.
func Err(code, msg string) *pgproto3.ErrorResponse {
	return &pgproto3.ErrorResponse{Severity: "ERROR", SeverityUnlocalized: "ERROR", Code: code, Message: msg}
}

// DefaultHandler: SELECT → one int4 row (1); COPY → copy-in; "missing" anywhere → 42P01;
// anything else → a tag like PostgreSQL's.
func DefaultHandler(q Query) Result {
	s := strings.ToUpper(strings.TrimSpace(q.SQL))
	switch {
	case strings.Contains(s, "MISSING"):
		return Result{Err: Err("42P01", `relation "missing" does not exist`)}
	case strings.HasPrefix(s, "SELECT"):
		return Result{Cols: []Col{{Name: "?column?", OID: pgtype.Int4OID}}, Rows: [][]any{{int32(1)}}}
	case strings.HasPrefix(s, "COPY"):
		return Result{CopyIn: true}
	case strings.HasPrefix(s, "INSERT"):
		return Result{Tag: "INSERT 0 1"}
	case strings.HasPrefix(s, "UPDATE"):
		return Result{Tag: "UPDATE 1"}
	case strings.HasPrefix(s, "DELETE"):
		return Result{Tag: "DELETE 1"}
	}
	f := strings.Fields(s)
	if len(f) >= 2 && (f[0] == "CREATE" || f[0] == "DROP") {
		return Result{Tag: f[0] + " " + f[1]}
	}
	if len(f) > 0 {
		return Result{Tag: strings.TrimRight(f[0], ";")}
	}
	return Result{}
}

// Server is a running fake.
type Server struct {
	opts Options
	ln   net.Listener
	wg   sync.WaitGroup
	done chan struct{}

	mu       sync.Mutex
	closed   bool
	conns    map[net.Conn]struct{}
	nextPID  uint32
	sessions map[uint32]*session
	seen     []string
	cancels  int
	started  int
}

// Start listens on a loopback port.
func Start(o Options) (*Server, error) {
	if o.Auth == "" {
		o.Auth = Trust
	}
	if o.Handler == nil {
		o.Handler = DefaultHandler
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("fakepg: listen: %w", err)
	}
	s := &Server{opts: o, ln: ln, done: make(chan struct{}), conns: map[net.Conn]struct{}{}, nextPID: 1000, sessions: map[uint32]*session{}}
	s.wg.Add(1)
	go s.accept()
	return s, nil
}

// Addr is the server's host:port.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Close stops the server and waits for its goroutines.
func (s *Server) Close() {
	s.mu.Lock()
	if !s.closed {
		close(s.done)
	}
	s.closed = true
	for c := range s.conns {
		_ = c.Close()
	}
	s.mu.Unlock()
	_ = s.ln.Close()
	s.wg.Wait()
}

// Seen lists the statements received, in order: "Q <sql>" for a simple Query, "P <sql>" for a
// Parse.
func (s *Server) Seen() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.seen)
}

// Cancels counts CancelRequests received.
func (s *Server) Cancels() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cancels
}

// Sessions counts sessions that completed startup.
func (s *Server) Sessions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.started
}

func (s *Server) accept() {
	defer s.wg.Done()
	for {
		nc, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			_ = nc.Close()
			return
		}
		s.conns[nc] = struct{}{}
		s.mu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer func() {
				s.mu.Lock()
				delete(s.conns, nc)
				s.mu.Unlock()
				_ = nc.Close()
			}()
			_ = s.serve(nc)
		}()
	}
}

type stmt struct {
	sql  string
	oids []uint32
}

type portal struct {
	sql     string
	args    [][]byte
	formats []int16
}

type session struct {
	s        *Server
	nc       net.Conn
	be       *pgproto3.Backend
	pid      uint32
	canceled chan struct{}
	tx       byte
	skip     bool // after an error in the extended protocol: discard until Sync
	stmts    map[string]stmt
	portals  map[string]portal
	types    *pgtype.Map
}

func (s *Server) serve(nc net.Conn) error {
	be := pgproto3.NewBackend(nc, nc)
	var sm *pgproto3.StartupMessage
	for sm == nil {
		msg, err := be.ReceiveStartupMessage()
		if err != nil {
			return err
		}
		switch m := msg.(type) {
		case *pgproto3.SSLRequest, *pgproto3.GSSEncRequest:
			if _, err := nc.Write([]byte{'N'}); err != nil {
				return err
			}
		case *pgproto3.CancelRequest:
			s.mu.Lock()
			s.cancels++
			if ss := s.sessions[m.ProcessID]; ss != nil {
				select {
				case <-ss.canceled:
				default:
					close(ss.canceled)
				}
			}
			s.mu.Unlock()
			return nil
		case *pgproto3.StartupMessage:
			sm = m
		}
	}
	ss := &session{s: s, nc: nc, be: be, canceled: make(chan struct{}), tx: 'I',
		stmts: map[string]stmt{}, portals: map[string]portal{}, types: pgtype.NewMap()}
	if err := ss.authenticate(sm.Parameters["user"]); err != nil {
		return err
	}
	s.mu.Lock()
	s.nextPID++
	ss.pid = s.nextPID
	s.sessions[ss.pid] = ss
	s.started++
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.sessions, ss.pid)
		s.mu.Unlock()
	}()
	be.Send(&pgproto3.AuthenticationOk{})
	for _, p := range [][2]string{{"server_version", "17.0 (fakepg)"}, {"server_encoding", "UTF8"},
		{"client_encoding", "UTF8"}, {"DateStyle", "ISO, MDY"}, {"integer_datetimes", "on"},
		{"standard_conforming_strings", "on"}, {"TimeZone", "UTC"}} {
		be.Send(&pgproto3.ParameterStatus{Name: p[0], Value: p[1]})
	}
	be.Send(&pgproto3.BackendKeyData{ProcessID: ss.pid, SecretKey: []byte{1, 2, 3, 4}})
	be.Send(&pgproto3.ReadyForQuery{TxStatus: 'I'})
	if err := be.Flush(); err != nil {
		return err
	}
	return ss.loop()
}

func (ss *session) fatal(code, msg string) error {
	ss.be.Send(&pgproto3.ErrorResponse{Severity: "FATAL", SeverityUnlocalized: "FATAL", Code: code, Message: msg})
	_ = ss.be.Flush()
	return errors.New(msg)
}

func (ss *session) authenticate(user string) error {
	be, pw := ss.be, ss.s.opts.Password
	switch ss.s.opts.Auth {
	case Trust:
		return nil
	case Cleartext:
		be.Send(&pgproto3.AuthenticationCleartextPassword{})
		if err := be.Flush(); err != nil {
			return err
		}
		_ = be.SetAuthType(pgproto3.AuthTypeCleartextPassword)
		msg, err := be.Receive()
		if err != nil {
			return err
		}
		if m, ok := msg.(*pgproto3.PasswordMessage); !ok || m.Password != pw {
			return ss.fatal("28P01", fmt.Sprintf("password authentication failed for user %q", user))
		}
		return nil
	case MD5:
		salt := [4]byte{7, 1, 8, 2}
		be.Send(&pgproto3.AuthenticationMD5Password{Salt: salt})
		if err := be.Flush(); err != nil {
			return err
		}
		_ = be.SetAuthType(pgproto3.AuthTypeMD5Password)
		msg, err := be.Receive()
		if err != nil {
			return err
		}
		inner := md5.Sum([]byte(pw + user))
		outer := md5.Sum(append([]byte(hex.EncodeToString(inner[:])), salt[:]...))
		if m, ok := msg.(*pgproto3.PasswordMessage); !ok || m.Password != "md5"+hex.EncodeToString(outer[:]) {
			return ss.fatal("28P01", fmt.Sprintf("password authentication failed for user %q", user))
		}
		return nil
	case SCRAM:
		return ss.scram(user)
	}
	return fmt.Errorf("fakepg: unknown auth %q", ss.s.opts.Auth)
}

func (ss *session) loop() error {
	be := ss.be
	for {
		msg, err := be.Receive()
		if err != nil {
			return err
		}
		if ss.skip {
			if _, ok := msg.(*pgproto3.Sync); !ok {
				continue
			}
		}
		switch m := msg.(type) {
		case *pgproto3.Query:
			ss.s.log("Q " + m.String)
			ss.simple(m.String)
			be.Send(&pgproto3.ReadyForQuery{TxStatus: ss.tx})
		case *pgproto3.Parse:
			ss.s.log("P " + m.Query)
			ss.stmts[m.Name] = stmt{sql: m.Query, oids: slices.Clone(m.ParameterOIDs)}
			be.Send(&pgproto3.ParseComplete{})
		case *pgproto3.Describe:
			ss.describe(m.ObjectType, m.Name)
		case *pgproto3.Bind:
			st, ok := ss.stmts[m.PreparedStatement]
			if !ok {
				ss.fail(Err("26000", fmt.Sprintf("prepared statement %q does not exist", m.PreparedStatement)))
				continue
			}
			args := make([][]byte, len(m.Parameters))
			for i, p := range m.Parameters {
				args[i] = slices.Clone(p)
			}
			ss.portals[m.DestinationPortal] = portal{sql: st.sql, args: args, formats: slices.Clone(m.ResultFormatCodes)}
			be.Send(&pgproto3.BindComplete{})
		case *pgproto3.Execute:
			p, ok := ss.portals[m.Portal]
			if !ok {
				ss.fail(Err("34000", fmt.Sprintf("portal %q does not exist", m.Portal)))
				continue
			}
			ss.execute(Query{SQL: p.sql, Args: p.args, Extended: true}, p.formats, false)
		case *pgproto3.Close:
			if m.ObjectType == 'S' {
				delete(ss.stmts, m.Name)
			} else {
				delete(ss.portals, m.Name)
			}
			be.Send(&pgproto3.CloseComplete{})
		case *pgproto3.Sync:
			ss.skip = false
			delete(ss.portals, "")
			be.Send(&pgproto3.ReadyForQuery{TxStatus: ss.tx})
		case *pgproto3.Flush:
		case *pgproto3.Terminate:
			_ = be.Flush()
			return nil
		}
		switch msg.(type) {
		case *pgproto3.Query, *pgproto3.Sync, *pgproto3.Flush:
			if err := be.Flush(); err != nil {
				return err
			}
		}
	}
}

func (s *Server) log(e string) {
	s.mu.Lock()
	s.seen = append(s.seen, e)
	s.mu.Unlock()
}

// fail sends an error and, in a transaction, marks it failed.
func (ss *session) fail(e *pgproto3.ErrorResponse) {
	ss.be.Send(e)
	ss.skip = true
	if ss.tx == 'T' {
		ss.tx = 'E'
	}
}

var (
	reBegin    = regexp.MustCompile(`(?i)^\s*(BEGIN|START\s+TRANSACTION)\b`)
	reCommit   = regexp.MustCompile(`(?i)^\s*(COMMIT|END)\b`)
	reRollback = regexp.MustCompile(`(?i)^\s*(ROLLBACK|ABORT)\s*(WORK|TRANSACTION)?\s*;?\s*$`)
	reParam    = regexp.MustCompile(`\$(\d+)`)
)

// transaction handles transaction control; ok if sql was one.
func (ss *session) transaction(sql string) (tag string, ok bool) {
	switch {
	case reBegin.MatchString(sql):
		if ss.tx != 'I' {
			ss.be.Send(&pgproto3.NoticeResponse{Severity: "WARNING", SeverityUnlocalized: "WARNING", Code: "25001", Message: "there is already a transaction in progress"})
		} else {
			ss.tx = 'T'
		}
		return "BEGIN", true
	case reCommit.MatchString(sql):
		tag = "COMMIT"
		if ss.tx == 'E' {
			tag = "ROLLBACK"
		}
		ss.tx = 'I'
		return tag, true
	case reRollback.MatchString(sql):
		ss.tx = 'I'
		return "ROLLBACK", true
	}
	return "", false
}

func (ss *session) simple(sql string) {
	ss.skip = false
	if strings.Trim(sql, " \t\r\n;") == "" {
		ss.be.Send(&pgproto3.EmptyQueryResponse{})
		return
	}
	ss.execute(Query{SQL: sql}, nil, true)
	ss.skip = false
}

func (ss *session) execute(q Query, formats []int16, describe bool) {
	be := ss.be
	if tag, ok := ss.transaction(q.SQL); ok {
		be.Send(&pgproto3.CommandComplete{CommandTag: []byte(tag)})
		return
	}
	if ss.tx == 'E' {
		ss.fail(Err("25P02", "current transaction is aborted, commands ignored until end of transaction block"))
		return
	}
	r := ss.s.opts.Handler(q)
	if r.Block {
		ss.s.mu.Lock()
		canceled := ss.canceled
		ss.s.mu.Unlock()
		select {
		case <-canceled:
			ss.s.mu.Lock()
			ss.canceled = make(chan struct{})
			ss.s.mu.Unlock()
			ss.fail(Err("57014", "canceling statement due to user request"))
		case <-time.After(10 * time.Second):
			ss.fail(Err("57014", "canceling statement due to statement timeout"))
		case <-ss.s.done:
		}
		return
	}
	if r.Err != nil {
		ss.fail(r.Err)
		return
	}
	if r.CopyIn {
		ss.copyIn(q.SQL)
		return
	}
	if describe && r.Cols != nil {
		be.Send(rowDescription(r.Cols, formats))
	}
	for _, row := range r.Rows {
		vals := make([][]byte, len(row))
		for i, v := range row {
			if v == nil {
				continue
			}
			b, err := ss.types.Encode(r.Cols[i].OID, format(formats, i), v, nil)
			if err != nil {
				ss.fail(Err("XX000", "fakepg: encoding: "+err.Error()))
				return
			}
			vals[i] = b
		}
		be.Send(&pgproto3.DataRow{Values: vals})
	}
	tag := r.Tag
	if tag == "" {
		if r.Cols != nil {
			tag = fmt.Sprintf("SELECT %d", len(r.Rows))
		} else if f := strings.Fields(q.SQL); len(f) > 0 {
			tag = strings.ToUpper(f[0])
		}
	}
	be.Send(&pgproto3.CommandComplete{CommandTag: []byte(tag)})
}

func format(formats []int16, i int) int16 {
	switch {
	case len(formats) == 0:
		return pgtype.TextFormatCode
	case len(formats) == 1:
		return formats[0]
	case i < len(formats):
		return formats[i]
	}
	return pgtype.TextFormatCode
}

func rowDescription(cols []Col, formats []int16) *pgproto3.RowDescription {
	rd := &pgproto3.RowDescription{}
	for i, c := range cols {
		rd.Fields = append(rd.Fields, pgproto3.FieldDescription{Name: []byte(c.Name), DataTypeOID: c.OID, DataTypeSize: -1, TypeModifier: -1, Format: format(formats, i)})
	}
	return rd
}

func (ss *session) describe(kind byte, name string) {
	be := ss.be
	var sql string
	var formats []int16
	if kind == 'S' {
		st, ok := ss.stmts[name]
		if !ok {
			ss.fail(Err("26000", fmt.Sprintf("prepared statement %q does not exist", name)))
			return
		}
		sql = st.sql
		r := ss.s.opts.Handler(Query{SQL: sql, Extended: true, Describe: true})
		oids := st.oids
		if len(oids) == 0 || slices.Contains(oids, 0) {
			oids = r.ParamOIDs
		}
		if oids == nil {
			n := 0
			for _, m := range reParam.FindAllStringSubmatch(sql, -1) {
				var k int
				_, _ = fmt.Sscan(m[1], &k)
				n = max(n, k)
			}
			oids = make([]uint32, n)
			for i := range oids {
				oids[i] = pgtype.Int8OID
			}
		}
		be.Send(&pgproto3.ParameterDescription{ParameterOIDs: oids})
		if r.Cols == nil {
			be.Send(&pgproto3.NoData{})
		} else {
			be.Send(rowDescription(r.Cols, nil))
		}
		return
	}
	p, ok := ss.portals[name]
	if !ok {
		ss.fail(Err("34000", fmt.Sprintf("portal %q does not exist", name)))
		return
	}
	sql, formats = p.sql, p.formats
	if r := ss.s.opts.Handler(Query{SQL: sql, Extended: true, Describe: true}); r.Cols != nil {
		be.Send(rowDescription(r.Cols, formats))
	} else {
		be.Send(&pgproto3.NoData{})
	}
}

// copyIn runs COPY … FROM STDIN: rows are counted from the data (binary or text format).
func (ss *session) copyIn(sql string) {
	be := ss.be
	binaryFormat := strings.Contains(strings.ToLower(sql), "binary")
	var f byte
	if binaryFormat {
		f = 1
	}
	be.Send(&pgproto3.CopyInResponse{OverallFormat: f})
	if err := be.Flush(); err != nil {
		return
	}
	var data []byte
	for {
		msg, err := be.Receive()
		if err != nil {
			return
		}
		switch m := msg.(type) {
		case *pgproto3.CopyData:
			data = append(data, m.Data...)
		case *pgproto3.CopyFail:
			ss.fail(Err("57014", "COPY from stdin failed: "+m.Message))
			return
		case *pgproto3.CopyDone:
			n := countCopyRows(data, binaryFormat)
			be.Send(&pgproto3.CommandComplete{CommandTag: fmt.Appendf(nil, "COPY %d", n)})
			return
		}
	}
}

func countCopyRows(data []byte, binaryFormat bool) int {
	if !binaryFormat {
		return strings.Count(string(data), "\n")
	}
	const sigLen = 11
	if len(data) < sigLen+8 {
		return 0
	}
	p := sigLen + 4
	ext := int(binary.BigEndian.Uint32(data[p:]))
	p += 4 + ext
	n := 0
	for p+2 <= len(data) {
		fields := int(int16(binary.BigEndian.Uint16(data[p:])))
		p += 2
		if fields < 0 {
			break
		}
		for range fields {
			if p+4 > len(data) {
				return n
			}
			l := int(int32(binary.BigEndian.Uint32(data[p:])))
			p += 4
			if l > 0 {
				p += l
			}
		}
		n++
	}
	return n
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	if _, err := io.ReadFull(rand.Reader, b); err != nil {
		panic(err)
	}
	return b
}
