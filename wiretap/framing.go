package wiretap

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"reflect"

	"github.com/jackc/pgx/v5/pgproto3"
)

// Request codes carried by the first, untyped packet of a connection.
const (
	codeProtocol30  = 196608   // 3.0
	codeProtocol32  = 196610   // 3.2
	codeCancel      = 80877102 // CancelRequest
	codeSSLRequest  = 80877103
	codeGSSEncReqst = 80877104
)

const (
	maxStartupLen = 10000     // PostgreSQL's own MAX_STARTUP_PACKET_LENGTH
	maxMessageLen = 1<<30 - 1 // PG_LARGE_MESSAGE_LIMIT
	tlsRecordByte = 0x16      // first byte of a TLS handshake record (direct TLS, PostgreSQL 17+)
)

var errDirectTLS = errors.New("direct TLS handshake")

// readStartup reads one untyped startup packet (length word included) without buffering, so
// that bytes belonging to a TLS handshake that follows are left on the socket.
// first holds the 4 bytes already read, if any.
func readStartup(r io.Reader, first []byte) ([]byte, error) {
	hdr := make([]byte, 4)
	if first != nil {
		copy(hdr, first)
	} else if _, err := io.ReadFull(r, hdr); err != nil {
		return nil, err
	}
	if hdr[0] == tlsRecordByte {
		return hdr, errDirectTLS
	}
	n := int(binary.BigEndian.Uint32(hdr))
	if n < 8 || n > maxStartupLen {
		return nil, fmt.Errorf("invalid startup packet length %d", n)
	}
	pkt := make([]byte, n)
	copy(pkt, hdr)
	if _, err := io.ReadFull(r, pkt[4:]); err != nil {
		return nil, fmt.Errorf("reading startup packet: %w", unexpectedEOF(err))
	}
	return pkt, nil
}

// readMessage reads one typed message and returns it whole (type byte, length, body) in a
// buffer of its own: decoded messages alias it, and it is never reused, so they may be kept.
func readMessage(r *bufio.Reader) ([]byte, error) {
	hdr, err := r.Peek(5)
	if err != nil {
		if len(hdr) > 0 {
			return nil, unexpectedEOF(err)
		}
		return nil, err
	}
	n := int(int32(binary.BigEndian.Uint32(hdr[1:])))
	if n < 4 || n > maxMessageLen {
		return nil, fmt.Errorf("invalid length %d for message type %q", n, hdr[0])
	}
	raw := make([]byte, 1+n)
	if _, err := io.ReadFull(r, raw); err != nil {
		return nil, unexpectedEOF(err)
	}
	return raw, nil
}

func unexpectedEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// decodeFrontend decodes a client message. authType is the sub-code of the last
// Authentication request the server sent: it decides what a 'p' message is.
func decodeFrontend(typ byte, body []byte, authType uint32) (pgproto3.FrontendMessage, error) {
	var m pgproto3.FrontendMessage
	switch typ {
	case 'B':
		m = &pgproto3.Bind{}
	case 'C':
		m = &pgproto3.Close{}
	case 'D':
		m = &pgproto3.Describe{}
	case 'E':
		m = &pgproto3.Execute{}
	case 'F':
		m = &pgproto3.FunctionCall{}
	case 'f':
		m = &pgproto3.CopyFail{}
	case 'd':
		m = &pgproto3.CopyData{}
	case 'c':
		m = &pgproto3.CopyDone{}
	case 'H':
		m = &pgproto3.Flush{}
	case 'P':
		m = &pgproto3.Parse{}
	case 'Q':
		m = &pgproto3.Query{}
	case 'S':
		m = &pgproto3.Sync{}
	case 'X':
		m = &pgproto3.Terminate{}
	case 'p':
		switch authType {
		case pgproto3.AuthTypeSASL:
			m = &pgproto3.SASLInitialResponse{}
		case pgproto3.AuthTypeSASLContinue, pgproto3.AuthTypeSASLFinal:
			m = &pgproto3.SASLResponse{}
		case pgproto3.AuthTypeGSS, pgproto3.AuthTypeGSSCont:
			m = &pgproto3.GSSResponse{}
		default:
			m = &pgproto3.PasswordMessage{}
		}
	default:
		return nil, fmt.Errorf("unknown frontend message type %q", typ)
	}
	if err := m.Decode(body); err != nil {
		return nil, fmt.Errorf("decoding %s: %w", msgName(m), err)
	}
	return m, nil
}

// decodeBackend decodes a server message; 'R' is told apart by its sub-code.
func decodeBackend(typ byte, body []byte) (pgproto3.BackendMessage, error) {
	var m pgproto3.BackendMessage
	switch typ {
	case '1':
		m = &pgproto3.ParseComplete{}
	case '2':
		m = &pgproto3.BindComplete{}
	case '3':
		m = &pgproto3.CloseComplete{}
	case 'A':
		m = &pgproto3.NotificationResponse{}
	case 'c':
		m = &pgproto3.CopyDone{}
	case 'C':
		m = &pgproto3.CommandComplete{}
	case 'd':
		m = &pgproto3.CopyData{}
	case 'D':
		m = &pgproto3.DataRow{}
	case 'E':
		m = &pgproto3.ErrorResponse{}
	case 'G':
		m = &pgproto3.CopyInResponse{}
	case 'H':
		m = &pgproto3.CopyOutResponse{}
	case 'I':
		m = &pgproto3.EmptyQueryResponse{}
	case 'K':
		m = &pgproto3.BackendKeyData{}
	case 'n':
		m = &pgproto3.NoData{}
	case 'N':
		m = &pgproto3.NoticeResponse{}
	case 's':
		m = &pgproto3.PortalSuspended{}
	case 'S':
		m = &pgproto3.ParameterStatus{}
	case 't':
		m = &pgproto3.ParameterDescription{}
	case 'T':
		m = &pgproto3.RowDescription{}
	case 'V':
		m = &pgproto3.FunctionCallResponse{}
	case 'W':
		m = &pgproto3.CopyBothResponse{}
	case 'Z':
		m = &pgproto3.ReadyForQuery{}
	case 'v':
		m = &pgproto3.NegotiateProtocolVersion{}
	case 'R':
		if len(body) < 4 {
			return nil, errors.New("authentication message too short")
		}
		switch code := binary.BigEndian.Uint32(body); code {
		case pgproto3.AuthTypeOk:
			m = &pgproto3.AuthenticationOk{}
		case pgproto3.AuthTypeCleartextPassword:
			m = &pgproto3.AuthenticationCleartextPassword{}
		case pgproto3.AuthTypeMD5Password:
			m = &pgproto3.AuthenticationMD5Password{}
		case pgproto3.AuthTypeGSS:
			m = &pgproto3.AuthenticationGSS{}
		case pgproto3.AuthTypeGSSCont:
			m = &pgproto3.AuthenticationGSSContinue{}
		case pgproto3.AuthTypeSASL:
			m = &pgproto3.AuthenticationSASL{}
		case pgproto3.AuthTypeSASLContinue:
			m = &pgproto3.AuthenticationSASLContinue{}
		case pgproto3.AuthTypeSASLFinal:
			m = &pgproto3.AuthenticationSASLFinal{}
		default:
			return nil, fmt.Errorf("unsupported authentication request %d", code)
		}
	default:
		return nil, fmt.Errorf("unknown backend message type %q", typ)
	}
	if err := m.Decode(body); err != nil {
		return nil, fmt.Errorf("decoding %s: %w", msgName(m), err)
	}
	return m, nil
}

// msgName is the pgproto3 type name of m ("Query", "DataRow", "AuthenticationSASL", …): the key
// of the message counters.
func msgName(m pgproto3.Message) string {
	t := reflect.TypeOf(m)
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t.Name()
}

// unknownName names a message that could not be decoded.
func unknownName(typ byte) string {
	if typ >= 0x20 && typ < 0x7f {
		return fmt.Sprintf("Unknown(%c)", typ)
	}
	return fmt.Sprintf("Unknown(0x%02x)", typ)
}

// encode appends the wire form of m to dst.
func encode(m pgproto3.Message) ([]byte, error) {
	b, err := m.Encode(nil)
	if err != nil {
		return nil, fmt.Errorf("encoding %s: %w", msgName(m), err)
	}
	return b, nil
}
