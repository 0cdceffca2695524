// Package divergent is a wiretap.Rewriter that makes a real PostgreSQL behave, on the wire,
// like iris-pgwire 1.0.1 does (docs: iris-pgwire.md, "Protocol-level behaviour"), one
// behaviour at a time, so a test can show that a check notices each divergence.
package divergent

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/pgwire-conformance/pgwire-conformance/wiretap"
)

// Behaviour names.
const (
	// ParamUnknown: ParameterDescription describes every parameter as OID 705 (unknown).
	ParamUnknown = "param-unknown"
	// CommandTags: CommandComplete tags as iris-pgwire writes them: "INSERT 0 n" → "INSERT 0 0 0",
	// "UPDATE n" → "UPDATE 0 0", "DELETE n" → "DELETE 0 0", "CREATE …" → "CREATE 0",
	// "DROP …" → "DROP 0"; other tags (SELECT n, COPY n, BEGIN, …) unchanged.
	CommandTags = "command-tags"
	// SQLState42000: every ErrorResponse after startup carries SQLSTATE 42000; the message is kept.
	SQLState42000 = "sqlstate-42000"
	// EmptyQuery: a simple Query that is empty, blank or only ';' is swallowed: nothing is
	// forwarded and nothing answered, so the client waits until its own timeout.
	EmptyQuery = "empty-query"
	// BinaryLeak: the result formats of the last Bind are reused for a later simple Query: its
	// RowDescription claims them and its values are converted from text to binary (every type
	// pgtype can encode in binary; others stay text).
	BinaryLeak = "binary-leak"
	// RollbackSwallowed: ROLLBACK is answered by the proxy (CommandComplete "ROLLBACK",
	// ReadyForQuery 'I') and not forwarded, so the server stays in its transaction. Simple
	// Query, and the extended protocol when the ROLLBACK's messages make up a whole Sync group.
	RollbackSwallowed = "rollback-swallowed"
)

var all = []string{ParamUnknown, CommandTags, SQLState42000, EmptyQuery, BinaryLeak, RollbackSwallowed}

// All lists the behaviour names.
func All() []string { return slices.Clone(all) }

// OIDUnknown is PostgreSQL's "unknown" type.
const OIDUnknown = 705

// Rewriter applies the enabled behaviours. It keeps its per-connection state in
// wiretap.ConnState.Scratch, so one Rewriter serves every connection of a tap.
type Rewriter struct {
	on map[string]bool
	// OnFire, when set, is called each time a behaviour changes the
	// conversation, with the client's address (wiretap.ConnState.Client):
	// how a report attributes a failure to the divergence that caused it.
	// It must be safe for concurrent use.
	OnFire func(client, behaviour string)
}

func (r *Rewriter) fired(c *wiretap.ConnState, behaviour string) {
	if r.OnFire != nil {
		r.OnFire(c.Client, behaviour)
	}
}

var _ wiretap.Rewriter = (*Rewriter)(nil)

// New enables the named behaviours.
func New(names ...string) (*Rewriter, error) {
	r := &Rewriter{on: map[string]bool{}}
	for _, n := range names {
		if !slices.Contains(all, n) {
			return nil, fmt.Errorf("divergent: unknown behaviour %q (known: %s)", n, strings.Join(all, ", "))
		}
		r.on[n] = true
	}
	return r, nil
}

// Parse enables the behaviours in a comma-separated list ("all" for every one; blank items
// are ignored).
func Parse(list string) (*Rewriter, error) {
	var names []string
	for _, n := range strings.Split(list, ",") {
		switch n = strings.TrimSpace(n); n {
		case "":
		case "all":
			names = append(names, all...)
		default:
			names = append(names, n)
		}
	}
	return New(names...)
}

// Names lists the enabled behaviours in the order of All.
func (r *Rewriter) Names() []string {
	var out []string
	for _, n := range all {
		if r.on[n] {
			out = append(out, n)
		}
	}
	return out
}

// Enabled reports whether a behaviour is on.
func (r *Rewriter) Enabled(name string) bool { return r.on[name] }

// request is one forwarded Query/Sync/FunctionCall awaiting the server's ReadyForQuery.
type request struct {
	simple  bool
	formats []int16 // last Bind's result formats when a simple Query was sent
}

type connState struct {
	inflight []request
	types    *pgtype.Map
	leak     []bool   // per column of the current simple-query result: convert to binary
	leakOIDs []uint32 // their types

	// Extended-protocol ROLLBACK: statements and portals only the proxy knows, and the
	// current Sync group's held messages and the replies they will get.
	rbStmts        map[string]bool
	rbPortals      map[string]bool
	holding        bool
	held           []pgproto3.FrontendMessage
	heldReplies    []pgproto3.BackendMessage
	groupForwarded bool // a message of the current Sync group went upstream
}

const scratchKey = "divergent"

func state(c *wiretap.ConnState) *connState {
	if st, ok := c.Scratch[scratchKey].(*connState); ok {
		return st
	}
	st := &connState{types: pgtype.NewMap(), rbStmts: map[string]bool{}, rbPortals: map[string]bool{}}
	c.Scratch[scratchKey] = st
	return st
}

var reRollback = regexp.MustCompile(`(?i)^\s*ROLLBACK(\s+(WORK|TRANSACTION))?\s*;?\s*$`)

func isRollback(sql string) bool { return reRollback.MatchString(sql) }

func isEmptyQuery(sql string) bool { return strings.Trim(sql, " \t\r\n\f;") == "" }

func rollbackDone() []pgproto3.BackendMessage {
	return []pgproto3.BackendMessage{&pgproto3.CommandComplete{CommandTag: []byte("ROLLBACK")}, &pgproto3.ReadyForQuery{TxStatus: 'I'}}
}

// FromClient implements wiretap.Rewriter.
func (r *Rewriter) FromClient(c *wiretap.ConnState, m pgproto3.FrontendMessage) ([]pgproto3.FrontendMessage, []pgproto3.BackendMessage) {
	st := state(c)
	if q, ok := m.(*pgproto3.Query); ok {
		if r.on[EmptyQuery] && isEmptyQuery(q.String) {
			r.fired(c, EmptyQuery)
			return nil, nil
		}
		if r.on[RollbackSwallowed] && isRollback(q.String) {
			r.fired(c, RollbackSwallowed)
			return nil, rollbackDone()
		}
		st.inflight = append(st.inflight, request{simple: true, formats: slices.Clone(c.LastBindResultFormats)})
		return []pgproto3.FrontendMessage{m}, nil
	}
	var fwd []pgproto3.FrontendMessage
	if r.on[RollbackSwallowed] {
		var reply []pgproto3.BackendMessage
		var handled bool
		if fwd, reply, handled = st.rollbackExtended(m); handled {
			r.fired(c, RollbackSwallowed)
			return nil, reply
		}
	}
	fwd = append(fwd, m)
	for _, f := range fwd {
		switch f.(type) {
		case *pgproto3.Sync:
			st.inflight = append(st.inflight, request{})
			st.groupForwarded = false
		case *pgproto3.FunctionCall:
			st.inflight = append(st.inflight, request{})
		default:
			st.groupForwarded = true
		}
	}
	return fwd, nil
}

// rollbackExtended swallows the messages of an extended-protocol ROLLBACK. handled: m was
// taken (reply, possibly empty, goes to the client). Otherwise fwd holds messages to forward
// before m: held ones, given up because the group turned out to mix in other statements.
func (st *connState) rollbackExtended(m pgproto3.FrontendMessage) (fwd []pgproto3.FrontendMessage, reply []pgproto3.BackendMessage, handled bool) {
	hold := func(replies ...pgproto3.BackendMessage) ([]pgproto3.FrontendMessage, []pgproto3.BackendMessage, bool) {
		st.holding = true
		st.held = append(st.held, m)
		st.heldReplies = append(st.heldReplies, replies...)
		return nil, nil, true
	}
	clean := !st.groupForwarded
	switch m := m.(type) {
	case *pgproto3.Parse:
		if clean && isRollback(m.Query) {
			st.rbStmts[m.Name] = true
			return hold(&pgproto3.ParseComplete{})
		}
		delete(st.rbStmts, m.Name)
	case *pgproto3.Bind:
		if clean && st.rbStmts[m.PreparedStatement] {
			st.rbPortals[m.DestinationPortal] = true
			return hold(&pgproto3.BindComplete{})
		}
		delete(st.rbPortals, m.DestinationPortal)
	case *pgproto3.Describe:
		if clean && m.ObjectType == 'S' && st.rbStmts[m.Name] {
			return hold(&pgproto3.ParameterDescription{ParameterOIDs: []uint32{}}, &pgproto3.NoData{})
		}
		if clean && m.ObjectType == 'P' && st.rbPortals[m.Name] {
			return hold(&pgproto3.NoData{})
		}
	case *pgproto3.Execute:
		if clean && st.rbPortals[m.Portal] {
			return hold(&pgproto3.CommandComplete{CommandTag: []byte("ROLLBACK")})
		}
	case *pgproto3.Close:
		if clean && m.ObjectType == 'S' && st.rbStmts[m.Name] {
			delete(st.rbStmts, m.Name)
			return hold(&pgproto3.CloseComplete{})
		}
		if clean && m.ObjectType == 'P' && st.rbPortals[m.Name] {
			delete(st.rbPortals, m.Name)
			return hold(&pgproto3.CloseComplete{})
		}
	case *pgproto3.Flush:
		if st.holding {
			// The client waits for what it has asked so far: answer now, and from here on the
			// group can only be swallowed.
			reply, st.heldReplies, st.held = st.heldReplies, nil, nil
			return nil, reply, true
		}
	case *pgproto3.Sync:
		if st.holding {
			reply = append(st.heldReplies, &pgproto3.ReadyForQuery{TxStatus: 'I'})
			st.holding, st.held, st.heldReplies = false, nil, nil
			delete(st.rbPortals, "") // Sync ends the unnamed portal
			return nil, reply, true
		}
	}
	if st.holding {
		// A mixed group: relay the ROLLBACK for real (statements parsed in it become known
		// upstream).
		for _, h := range st.held {
			switch h := h.(type) {
			case *pgproto3.Parse:
				delete(st.rbStmts, h.Name)
			case *pgproto3.Bind:
				delete(st.rbPortals, h.DestinationPortal)
			}
		}
		fwd = st.held
		st.holding, st.held, st.heldReplies = false, nil, nil
	}
	return fwd, nil, false
}

// FromServer implements wiretap.Rewriter.
func (r *Rewriter) FromServer(c *wiretap.ConnState, m pgproto3.BackendMessage) []pgproto3.BackendMessage {
	st := state(c)
	switch m := m.(type) {
	case *pgproto3.ParameterDescription:
		if r.on[ParamUnknown] && len(m.ParameterOIDs) > 0 {
			r.fired(c, ParamUnknown)
			oids := make([]uint32, len(m.ParameterOIDs))
			for i := range oids {
				oids[i] = OIDUnknown
			}
			return one(&pgproto3.ParameterDescription{ParameterOIDs: oids})
		}
	case *pgproto3.CommandComplete:
		st.leak = nil
		if r.on[CommandTags] {
			tag := IrisTag(string(m.CommandTag))
			if tag != string(m.CommandTag) {
				r.fired(c, CommandTags)
			}
			return one(&pgproto3.CommandComplete{CommandTag: []byte(tag)})
		}
	case *pgproto3.ErrorResponse:
		st.leak = nil
		if r.on[SQLState42000] {
			if m.Code != "42000" {
				r.fired(c, SQLState42000)
			}
			e := *m
			e.Code = "42000"
			return one(&e)
		}
	case *pgproto3.RowDescription:
		st.leak = nil
		if r.on[BinaryLeak] && len(st.inflight) > 0 && st.inflight[0].simple && len(st.inflight[0].formats) > 0 {
			rd := st.leakDescription(m, st.inflight[0].formats)
			if slices.Contains(st.leak, true) {
				r.fired(c, BinaryLeak)
			}
			return one(rd)
		}
	case *pgproto3.DataRow:
		if st.leak != nil {
			return one(st.leakRow(m))
		}
	case *pgproto3.ReadyForQuery:
		st.leak = nil
		if len(st.inflight) > 0 {
			st.inflight = st.inflight[1:]
		}
	}
	return one(m)
}

func one(m pgproto3.BackendMessage) []pgproto3.BackendMessage { return []pgproto3.BackendMessage{m} }

// IrisTag rewrites a CommandComplete tag as iris-pgwire 1.0.1 sends it.
func IrisTag(tag string) string {
	f := strings.Fields(tag)
	switch {
	case len(f) == 3 && f[0] == "INSERT":
		return "INSERT 0 0 0"
	case len(f) == 2 && (f[0] == "UPDATE" || f[0] == "DELETE"):
		return f[0] + " 0 0"
	case len(f) >= 1 && (f[0] == "CREATE" || f[0] == "DROP"):
		return f[0] + " 0"
	}
	return tag
}

func formatAt(formats []int16, i int) int16 {
	switch {
	case len(formats) == 1:
		return formats[0]
	case i < len(formats):
		return formats[i]
	}
	return pgtype.TextFormatCode
}

// leakDescription claims the leaked formats for the columns whose type pgtype can encode in
// binary, and remembers which values to convert.
func (st *connState) leakDescription(m *pgproto3.RowDescription, formats []int16) *pgproto3.RowDescription {
	rd := &pgproto3.RowDescription{Fields: slices.Clone(m.Fields)}
	st.leak = make([]bool, len(rd.Fields))
	st.leakOIDs = make([]uint32, len(rd.Fields))
	for i := range rd.Fields {
		f := &rd.Fields[i]
		st.leakOIDs[i] = f.DataTypeOID
		if f.Format != pgtype.TextFormatCode || formatAt(formats, i) != pgtype.BinaryFormatCode {
			continue
		}
		if t, ok := st.types.TypeForOID(f.DataTypeOID); ok && t.Codec.FormatSupported(pgtype.BinaryFormatCode) {
			f.Format = pgtype.BinaryFormatCode
			st.leak[i] = true
		}
	}
	return rd
}

func (st *connState) leakRow(m *pgproto3.DataRow) *pgproto3.DataRow {
	out := &pgproto3.DataRow{Values: slices.Clone(m.Values)}
	for i, v := range out.Values {
		if i >= len(st.leak) || !st.leak[i] || v == nil {
			continue
		}
		if b, err := TextToBinary(st.types, st.leakOIDs[i], v); err == nil {
			out.Values[i] = b
		}
	}
	return out
}

// TextToBinary re-encodes a text-format value of type oid in binary format.
func TextToBinary(types *pgtype.Map, oid uint32, src []byte) ([]byte, error) {
	t, ok := types.TypeForOID(oid)
	if !ok {
		return nil, fmt.Errorf("divergent: no pgtype for OID %d", oid)
	}
	v, err := t.Codec.DecodeValue(types, oid, pgtype.TextFormatCode, src)
	if err != nil {
		return nil, fmt.Errorf("divergent: decoding OID %d text: %w", oid, err)
	}
	b, err := types.Encode(oid, pgtype.BinaryFormatCode, v, nil)
	if err != nil {
		return nil, fmt.Errorf("divergent: encoding OID %d binary: %w", oid, err)
	}
	return b, nil
}
