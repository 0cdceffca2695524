package wiretap

import (
	"slices"

	"github.com/jackc/pgx/v5/pgproto3"
)

// Rewriter changes the conversation after startup (authentication and the first ReadyForQuery
// are always relayed unchanged). The tap calls it for one connection from one goroutine at a
// time; calls for different connections may run concurrently, so per-connection state belongs
// in ConnState.Scratch.
//
// Messages handed to a Rewriter own their memory (the tap never reuses a read buffer), so a
// Rewriter may keep them. Everything a Rewriter returns is re-encoded with the message's Encode.
type Rewriter interface {
	// FromClient sees each client message. forward goes upstream, in order; reply is
	// answered to the client by the tap, delivered after the upstream has answered every
	// request (Query, Sync, FunctionCall) forwarded before it, so replies keep their place in a
	// pipeline. Return []FrontendMessage{m}, nil to relay m as is.
	FromClient(c *ConnState, m pgproto3.FrontendMessage) (forward []pgproto3.FrontendMessage, reply []pgproto3.BackendMessage)
	// FromServer sees each server message and returns what the client gets instead
	// ([]BackendMessage{m} to relay it; nil to drop it).
	FromServer(c *ConnState, m pgproto3.BackendMessage) []pgproto3.BackendMessage
}

// ConnState is per-connection bookkeeping handed to a Rewriter. The tap updates the exported
// fields from the client's messages before each FromClient call. It is only safe to use inside
// Rewriter calls.
type ConnState struct {
	ID     int               // connection id, as in ConnInfo and transcripts ("c3")
	Client string            // the client's address (host:port), as this tap sees it
	Params map[string]string // startup parameters (user, database, application_name, …)
	// LastBindResultFormats are the result-format codes of the last Bind on this connection.
	LastBindResultFormats []int16
	// Statements maps prepared statement names ("" = unnamed) to their SQL, from Parse/Close.
	Statements map[string]string
	// Portals maps portal names ("" = unnamed) to the statement they were bound from.
	Portals map[string]string
	// Scratch is free for the Rewriter.
	Scratch map[string]any
}

func newConnState(id int, client string, params map[string]string) *ConnState {
	return &ConnState{
		ID:         id,
		Client:     client,
		Params:     params,
		Statements: map[string]string{},
		Portals:    map[string]string{},
		Scratch:    map[string]any{},
	}
}

// observe updates the bookkeeping from a client message.
func (s *ConnState) observe(m pgproto3.FrontendMessage) {
	switch m := m.(type) {
	case *pgproto3.Parse:
		s.Statements[m.Name] = m.Query
	case *pgproto3.Bind:
		s.LastBindResultFormats = slices.Clone(m.ResultFormatCodes)
		s.Portals[m.DestinationPortal] = m.PreparedStatement
	case *pgproto3.Close:
		if m.ObjectType == 'S' {
			delete(s.Statements, m.Name)
		} else {
			delete(s.Portals, m.Name)
		}
	case *pgproto3.Query:
		// A simple query destroys the unnamed statement and portal.
		delete(s.Statements, "")
		delete(s.Portals, "")
	}
}
