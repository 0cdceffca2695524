package wiretap

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgproto3"
)

// Every message type, encoded by pgproto3, must come back from readMessage + decode as the
// same message under the same name, and re-encode to the same bytes.
func TestFramingFrontendMessages(t *testing.T) {
	cases := []struct {
		m        pgproto3.FrontendMessage
		authType uint32
	}{
		{m: &pgproto3.Query{String: "SELECT 1"}},
		{m: &pgproto3.Parse{Name: "s1", Query: "SELECT $1", ParameterOIDs: []uint32{23}}},
		{m: &pgproto3.Bind{DestinationPortal: "p", PreparedStatement: "s1", ParameterFormatCodes: []int16{1}, Parameters: [][]byte{{0, 0, 0, 1}, nil}, ResultFormatCodes: []int16{1}}},
		{m: &pgproto3.Describe{ObjectType: 'S', Name: "s1"}},
		{m: &pgproto3.Execute{Portal: "p", MaxRows: 10}},
		{m: &pgproto3.Sync{}},
		{m: &pgproto3.Flush{}},
		{m: &pgproto3.Close{ObjectType: 'P', Name: "p"}},
		{m: &pgproto3.Terminate{}},
		{m: &pgproto3.CopyData{Data: []byte("1\tx\n")}},
		{m: &pgproto3.CopyDone{}},
		{m: &pgproto3.CopyFail{Message: "stop"}},
		{m: &pgproto3.FunctionCall{Function: 42, ArgFormatCodes: []uint16{0}, Arguments: [][]byte{[]byte("a")}, ResultFormatCode: 1}},
		{m: &pgproto3.PasswordMessage{Password: "pw"}, authType: pgproto3.AuthTypeCleartextPassword},
		{m: &pgproto3.PasswordMessage{Password: "md5abc"}, authType: pgproto3.AuthTypeMD5Password},
		{m: &pgproto3.SASLInitialResponse{AuthMechanism: "SCRAM-SHA-256", Data: []byte("n,,n=,r=abc")}, authType: pgproto3.AuthTypeSASL},
		{m: &pgproto3.SASLResponse{Data: []byte("c=biws,r=abc,p=xyz")}, authType: pgproto3.AuthTypeSASLContinue},
		{m: &pgproto3.GSSResponse{Data: []byte{1, 2}}, authType: pgproto3.AuthTypeGSSCont},
	}
	for _, tc := range cases {
		t.Run(msgName(tc.m), func(t *testing.T) {
			wire, err := tc.m.Encode(nil)
			if err != nil {
				t.Fatal(err)
			}
			raw, err := readMessage(bufio.NewReader(bytes.NewReader(wire)))
			if err != nil {
				t.Fatal(err)
			}
			got, err := decodeFrontend(raw[0], raw[5:], tc.authType)
			if err != nil {
				t.Fatal(err)
			}
			if msgName(got) != msgName(tc.m) {
				t.Fatalf("decoded as %s, want %s", msgName(got), msgName(tc.m))
			}
			again, err := got.Encode(nil)
			if err != nil || !bytes.Equal(again, wire) {
				t.Fatalf("re-encoded %x (%v), want %x", again, err, wire)
			}
		})
	}
}

func TestFramingBackendMessages(t *testing.T) {
	cases := []pgproto3.BackendMessage{
		&pgproto3.AuthenticationOk{},
		&pgproto3.AuthenticationCleartextPassword{},
		&pgproto3.AuthenticationMD5Password{Salt: [4]byte{1, 2, 3, 4}},
		&pgproto3.AuthenticationGSS{},
		&pgproto3.AuthenticationGSSContinue{Data: []byte{9}},
		&pgproto3.AuthenticationSASL{AuthMechanisms: []string{"SCRAM-SHA-256", "SCRAM-SHA-256-PLUS"}},
		&pgproto3.AuthenticationSASLContinue{Data: []byte("r=abc,s=c2FsdA==,i=4096")},
		&pgproto3.AuthenticationSASLFinal{Data: []byte("v=xyz")},
		&pgproto3.ParameterStatus{Name: "server_version", Value: "17.2"},
		&pgproto3.BackendKeyData{ProcessID: 7, SecretKey: []byte{1, 2, 3, 4}},
		&pgproto3.ReadyForQuery{TxStatus: 'T'},
		&pgproto3.RowDescription{Fields: []pgproto3.FieldDescription{{Name: []byte("a"), DataTypeOID: 23, DataTypeSize: 4, TypeModifier: -1, Format: 1}}},
		&pgproto3.DataRow{Values: [][]byte{[]byte("1"), nil}},
		&pgproto3.CommandComplete{CommandTag: []byte("INSERT 0 1")},
		&pgproto3.EmptyQueryResponse{},
		&pgproto3.ErrorResponse{Severity: "ERROR", SeverityUnlocalized: "ERROR", Code: "42P01", Message: "relation \"x\" does not exist"},
		&pgproto3.NoticeResponse{Severity: "WARNING", Code: "25001", Message: "there is already a transaction in progress"},
		&pgproto3.ParseComplete{},
		&pgproto3.BindComplete{},
		&pgproto3.CloseComplete{},
		&pgproto3.NoData{},
		&pgproto3.PortalSuspended{},
		&pgproto3.ParameterDescription{ParameterOIDs: []uint32{23, 25}},
		&pgproto3.CopyInResponse{OverallFormat: 1, ColumnFormatCodes: []uint16{1, 1}},
		&pgproto3.CopyOutResponse{OverallFormat: 0, ColumnFormatCodes: []uint16{0}},
		&pgproto3.CopyBothResponse{OverallFormat: 0, ColumnFormatCodes: []uint16{0}},
		&pgproto3.CopyData{Data: []byte("row\n")},
		&pgproto3.CopyDone{},
		&pgproto3.NotificationResponse{PID: 3, Channel: "ch", Payload: "hi"},
		&pgproto3.FunctionCallResponse{Result: []byte("r")},
		&pgproto3.NegotiateProtocolVersion{NewestMinorProtocol: 0, UnrecognizedOptions: []string{"_pq_.x"}},
	}
	for _, m := range cases {
		t.Run(msgName(m), func(t *testing.T) {
			wire, err := m.Encode(nil)
			if err != nil {
				t.Fatal(err)
			}
			raw, err := readMessage(bufio.NewReader(bytes.NewReader(wire)))
			if err != nil {
				t.Fatal(err)
			}
			got, err := decodeBackend(raw[0], raw[5:])
			if err != nil {
				t.Fatal(err)
			}
			if msgName(got) != msgName(m) {
				t.Fatalf("decoded as %s, want %s", msgName(got), msgName(m))
			}
			again, err := got.Encode(nil)
			if err != nil || !bytes.Equal(again, wire) {
				t.Fatalf("re-encoded %x (%v), want %x", again, err, wire)
			}
		})
	}
}

func TestFramingErrors(t *testing.T) {
	// A message cut short is an unexpected EOF, a clean end between messages is io.EOF.
	wire, _ := (&pgproto3.Query{String: "SELECT 1"}).Encode(nil)
	if _, err := readMessage(bufio.NewReader(bytes.NewReader(wire[:len(wire)-2]))); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("truncated body: %v, want unexpected EOF", err)
	}
	if _, err := readMessage(bufio.NewReader(bytes.NewReader(wire[:3]))); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("truncated header: %v, want unexpected EOF", err)
	}
	if _, err := readMessage(bufio.NewReader(bytes.NewReader(nil))); err != io.EOF {
		t.Errorf("empty stream: %v, want io.EOF", err)
	}
	bad := []byte{'Q', 0, 0, 0, 2}
	if _, err := readMessage(bufio.NewReader(bytes.NewReader(bad))); err == nil || !strings.Contains(err.Error(), "invalid length") {
		t.Errorf("length 2: %v, want invalid length", err)
	}
	if _, err := decodeFrontend('?', nil, 0); err == nil {
		t.Error("unknown frontend type decoded")
	}
	if _, err := decodeBackend('R', []byte{0, 0, 0, 99}); err == nil {
		t.Error("unknown authentication sub-code decoded")
	}
}

func TestReadStartup(t *testing.T) {
	ssl := make([]byte, 8)
	binary.BigEndian.PutUint32(ssl, 8)
	binary.BigEndian.PutUint32(ssl[4:], codeSSLRequest)
	sm, _ := (&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersion30, Parameters: map[string]string{"user": "u"}}).Encode(nil)
	r := bytes.NewReader(append(append([]byte{}, ssl...), sm...))
	got, err := readStartup(r, nil)
	if err != nil || !bytes.Equal(got, ssl) {
		t.Fatalf("SSLRequest: %x %v", got, err)
	}
	// Nothing beyond the packet may be consumed: a TLS handshake could follow.
	if r.Len() != len(sm) {
		t.Fatalf("readStartup consumed %d bytes past the packet", len(sm)-r.Len())
	}
	if got, err = readStartup(r, nil); err != nil || !bytes.Equal(got, sm) {
		t.Fatalf("StartupMessage: %x %v", got, err)
	}
	if _, err := readStartup(bytes.NewReader([]byte{0x16, 3, 1, 0, 200}), nil); !errors.Is(err, errDirectTLS) {
		t.Fatalf("TLS ClientHello: %v, want errDirectTLS", err)
	}
	if _, err := readStartup(bytes.NewReader([]byte{0, 1, 0, 0}), nil); err == nil {
		t.Fatal("oversized startup packet accepted")
	}
}
