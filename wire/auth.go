package wire

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"slices"

	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/gomega"
)

// LoginResult is what the server answered a start-up.
type LoginResult struct {
	// Asked is the server's first authentication message: the method it
	// asked for (AuthenticationOk when it asked for none).
	Asked pgproto3.BackendMessage
	// Error is the ErrorResponse that ended the start-up, nil on success.
	Error *pgproto3.ErrorResponse
	// Messages is everything the server sent, in order.
	Messages []pgproto3.BackendMessage
}

// Method names the authentication method a message asks for, as pg_hba.conf
// names it: trust (none), password, md5, scram-sha-256 or the message's name.
func Method(m pgproto3.BackendMessage) string {
	switch m := m.(type) {
	case *pgproto3.AuthenticationOk:
		return "trust"
	case *pgproto3.AuthenticationCleartextPassword:
		return "password"
	case *pgproto3.AuthenticationMD5Password:
		return "md5"
	case *pgproto3.AuthenticationSASL:
		if slices.Contains(m.AuthMechanisms, "SCRAM-SHA-256") {
			return "scram-sha-256"
		}
	}
	return Name(m)
}

// LogIn sends the start-up message (protocol 3.0) with params and answers
// whichever password method the server asks for (cleartext, md5,
// SCRAM-SHA-256) with l's password, up to ReadyForQuery or the
// ErrorResponse that ends the start-up. Anything else — no answer, a
// method it cannot answer, a SCRAM server signature that does not verify —
// fails the spec.
func (c *Conn) LogIn(ctx context.Context, l Login, params map[string]string) LoginResult {
	ginkgo.GinkgoHelper()
	p := map[string]string{"user": l.User, "database": l.Database, "application_name": "pgwc_wire"}
	for k, v := range params {
		p[k] = v
	}
	c.Send(ctx, &pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersion30, Parameters: p})
	var res LoginResult
	var sc *scram
	for {
		m := c.Receive(ctx)
		res.Messages = append(res.Messages, m)
		if res.Asked == nil {
			switch m.(type) {
			case *pgproto3.AuthenticationOk, *pgproto3.AuthenticationCleartextPassword, *pgproto3.AuthenticationMD5Password,
				*pgproto3.AuthenticationSASL, *pgproto3.AuthenticationGSS:
				res.Asked = m
			}
		}
		switch m := m.(type) {
		case *pgproto3.AuthenticationCleartextPassword:
			c.Send(ctx, &pgproto3.PasswordMessage{Password: l.Password})
		case *pgproto3.AuthenticationMD5Password:
			c.Send(ctx, &pgproto3.PasswordMessage{Password: md5Password(l.User, l.Password, m.Salt)})
		case *pgproto3.AuthenticationSASL:
			gomega.Expect(m.AuthMechanisms).To(gomega.ContainElement("SCRAM-SHA-256"), "the server offers SASL mechanisms none of which this client speaks")
			sc = newSCRAM("", l.Password, "")
			c.Send(ctx, &pgproto3.SASLInitialResponse{AuthMechanism: "SCRAM-SHA-256", Data: sc.first()})
		case *pgproto3.AuthenticationSASLContinue:
			gomega.Expect(sc).NotTo(gomega.BeNil(), "AuthenticationSASLContinue before AuthenticationSASL")
			final, err := sc.final(m.Data)
			gomega.Expect(err).NotTo(gomega.HaveOccurred(), "the server's SCRAM server-first-message")
			c.Send(ctx, &pgproto3.SASLResponse{Data: final})
		case *pgproto3.AuthenticationSASLFinal:
			gomega.Expect(sc).NotTo(gomega.BeNil(), "AuthenticationSASLFinal before AuthenticationSASL")
			gomega.Expect(sc.verify(m.Data)).To(gomega.Succeed(), "SCRAM: the server must prove it knows the password")
		case *pgproto3.BackendKeyData:
			c.PID, c.SecretKey = m.ProcessID, m.SecretKey
		case *pgproto3.ParameterStatus:
			c.Params[m.Name] = m.Value
		case *pgproto3.ErrorResponse:
			res.Error = m
			return res
		case *pgproto3.ReadyForQuery:
			return res
		}
	}
}

func md5hex(b []byte) string {
	s := md5.Sum(b)
	return hex.EncodeToString(s[:])
}
