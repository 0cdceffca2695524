package wire

import (
	"bytes"
	"encoding/binary"
	"reflect"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/pgwire-conformance/pgwire-conformance/wiretap"
)

// RFC 7677, section 3: the SCRAM-SHA-256 exchange of user "user", password "pencil".
func TestSCRAMRFC7677(t *testing.T) {
	s := newSCRAM("user", "pencil", "rOprNGfwEbeRWgbNEkqO")
	if got := string(s.first()); got != "n,,n=user,r=rOprNGfwEbeRWgbNEkqO" {
		t.Fatalf("client-first %q", got)
	}
	final, err := s.final([]byte("r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"))
	if err != nil {
		t.Fatal(err)
	}
	if want := "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="; string(final) != want {
		t.Fatalf("client-final\n got %s\nwant %s", final, want)
	}
	if err := s.verify([]byte("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=")); err != nil {
		t.Errorf("the RFC's server signature: %v", err)
	}
	if err := s.verify([]byte("v=AAAATRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=")); err == nil {
		t.Error("a wrong server signature verified")
	}
	if err := s.verify([]byte("e=invalid-proof")); err == nil || !strings.Contains(err.Error(), "invalid-proof") {
		t.Errorf("server-final error: %v", err)
	}
}

func TestSCRAMRejectsAForeignNonce(t *testing.T) {
	s := newSCRAM("", "pw", "abc")
	s.first()
	for _, sf := range []string{"r=xyz123,s=AAAA,i=4096", "r=abc,s=AAAA,i=4096", "r=abcd,s=!!,i=4096", "r=abcd,s=AAAA,i=0", "garbage"} {
		if _, err := s.final([]byte(sf)); err == nil {
			t.Errorf("server-first %q accepted", sf)
		}
	}
}

func TestMD5Password(t *testing.T) {
	// md5(md5("secret" + "postgres") + salt), computed independently.
	if got := md5Password("postgres", "secret", [4]byte{1, 2, 3, 4}); got != "md5bb41a296aab6baccb36ff243a562abff" {
		t.Errorf("md5Password = %s", got)
	}
}

func TestMethod(t *testing.T) {
	for m, want := range map[pgproto3.BackendMessage]string{
		&pgproto3.AuthenticationOk{}:                "trust",
		&pgproto3.AuthenticationCleartextPassword{}: "password",
		&pgproto3.AuthenticationMD5Password{}:       "md5",
		&pgproto3.AuthenticationSASL{AuthMechanisms: []string{"SCRAM-SHA-256-PLUS", "SCRAM-SHA-256"}}: "scram-sha-256",
		&pgproto3.AuthenticationSASL{AuthMechanisms: []string{"OAUTHBEARER"}}:                         "AuthenticationSASL",
	} {
		if got := Method(m); got != want {
			t.Errorf("Method(%s) = %q, want %q", Name(m), got, want)
		}
	}
}

// The frontend reuses its buffers: a kept message must be a copy.
func TestCloneIsIndependent(t *testing.T) {
	var buf bytes.Buffer
	fe := pgproto3.NewFrontend(&buf, &buf)
	for _, m := range []pgproto3.BackendMessage{
		&pgproto3.DataRow{Values: [][]byte{[]byte("first"), nil}},
		&pgproto3.DataRow{Values: [][]byte{[]byte("second")}},
	} {
		b, _ := m.Encode(nil)
		buf.Write(b)
	}
	m1, err := fe.Receive()
	if err != nil {
		t.Fatal(err)
	}
	kept, err := clone(m1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fe.Receive(); err != nil {
		t.Fatal(err)
	}
	want := &pgproto3.DataRow{Values: [][]byte{[]byte("first"), nil}}
	if !reflect.DeepEqual(kept, want) {
		t.Errorf("clone = %#v, want %#v", kept, want)
	}
	for _, m := range []pgproto3.BackendMessage{
		&pgproto3.RowDescription{Fields: []pgproto3.FieldDescription{{Name: []byte("id"), DataTypeOID: 20, DataTypeSize: 8, Format: 1}}},
		&pgproto3.AuthenticationSASL{AuthMechanisms: []string{"SCRAM-SHA-256"}},
		&pgproto3.ErrorResponse{Severity: "ERROR", SeverityUnlocalized: "ERROR", Code: "42P01", Message: "relation does not exist"},
		&pgproto3.ReadyForQuery{TxStatus: 'E'},
	} {
		c, err := clone(m)
		if err != nil || !reflect.DeepEqual(c, m) {
			t.Errorf("clone(%#v) = %#v, %v", m, c, err)
		}
	}
}

func TestMessageHelpers(t *testing.T) {
	msgs := []pgproto3.BackendMessage{
		&pgproto3.ParameterStatus{Name: "x", Value: "y"},
		&pgproto3.RowDescription{},
		&pgproto3.DataRow{Values: [][]byte{[]byte("1"), nil}},
		&pgproto3.CommandComplete{CommandTag: []byte("SELECT 1")},
		&pgproto3.NoticeResponse{Severity: "NOTICE"},
		&pgproto3.ErrorResponse{Code: "25P02", Message: "aborted"},
		&pgproto3.ReadyForQuery{TxStatus: 'T'},
		&pgproto3.ReadyForQuery{TxStatus: 'E'},
	}
	check := func(what string, got, want any) {
		t.Helper()
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s = %#v, want %#v", what, got, want)
		}
	}
	check("Flow", Flow(msgs), []string{"RowDescription", "DataRow", "CommandComplete", "ErrorResponse", "ReadyForQuery", "ReadyForQuery"})
	check("Names", len(Names(msgs)), 8)
	check("Tags", Tags(msgs), []string{"SELECT 1"})
	check("Codes", Codes(msgs), []string{"25P02"})
	check("Errors", Errors(msgs), []string{"25P02 aborted"})
	check("Status", Status(msgs), "E")
	check("Status(none)", Status(nil), "")
	check("Text", Text(msgs), [][]string{{"1", "NULL"}})
	check("First", First[*pgproto3.CommandComplete](msgs).CommandTag, []byte("SELECT 1"))
	check("First(none)", First[*pgproto3.CopyInResponse](msgs), (*pgproto3.CopyInResponse)(nil))
}

func TestCopyBinary(t *testing.T) {
	b := copyBinary([][]any{{int64(7), "hé"}, {int64(-1), nil}})
	head := "PGCOPY\n\xff\r\n\x00\x00\x00\x00\x00\x00\x00\x00\x00"
	if !strings.HasPrefix(string(b), head) {
		t.Fatalf("header % x", b[:19])
	}
	rest := b[len(head):]
	want := []byte{0, 2, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 3, 'h', 0xc3, 0xa9,
		0, 2, 0, 0, 0, 8, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff}
	if !bytes.Equal(rest, want) {
		t.Errorf("tuples and trailer\n got % x\nwant % x", rest, want)
	}
	if n := binary.BigEndian.Uint16(b[len(b)-2:]); n != 0xffff {
		t.Errorf("trailer %x", n)
	}
}

func TestTranscriptRedactsAndCollapses(t *testing.T) {
	tr := &transcript{}
	tr.add(1, wiretap.ToServer, &pgproto3.PasswordMessage{Password: "hunter2"})
	tr.add(1, wiretap.ToServer, &pgproto3.SASLResponse{Data: []byte("p=proof")})
	tr.add(1, wiretap.ToServer, &pgproto3.Query{String: "SELECT 1"})
	for i := 0; i < 1000; i++ {
		tr.add(1, wiretap.ToClient, &pgproto3.DataRow{Values: [][]byte{[]byte("1")}})
	}
	tr.add(1, wiretap.ToClient, &pgproto3.CommandComplete{CommandTag: []byte("SELECT 1000")})
	lines := tr.snapshot()
	all := strings.Join(lines, "\n")
	if strings.Contains(all, "hunter2") || strings.Contains(all, "proof") {
		t.Errorf("a secret reached the transcript:\n%s", all)
	}
	if len(lines) != 5 || !strings.Contains(lines[3], "more DataRows") {
		t.Errorf("DataRows do not collapse:\n%s", all)
	}
	for i := 0; i < transcriptMax+10; i++ {
		tr.note(2, "event")
	}
	if lines := tr.snapshot(); len(lines) != transcriptMax+1 || !strings.Contains(lines[0], "dropped") {
		t.Errorf("transcript not bounded: %d lines, first %q", len(lines), lines[0])
	}
}
