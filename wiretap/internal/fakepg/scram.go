package fakepg

import (
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5/pgproto3"
)

const scramIterations = 4096

// scram is the server side of SCRAM-SHA-256 (RFC 5802 / 7677) as PostgreSQL runs it.
func (ss *session) scram(user string) error {
	be := ss.be
	failed := func() error {
		return ss.fatal("28P01", fmt.Sprintf("password authentication failed for user %q", user))
	}
	mechs := []string{"SCRAM-SHA-256"}
	if ss.s.opts.SCRAMPlus {
		mechs = append([]string{"SCRAM-SHA-256-PLUS"}, mechs...)
	}
	be.Send(&pgproto3.AuthenticationSASL{AuthMechanisms: mechs})
	if err := be.Flush(); err != nil {
		return err
	}
	_ = be.SetAuthType(pgproto3.AuthTypeSASL)
	msg, err := be.Receive()
	if err != nil {
		return err
	}
	init, ok := msg.(*pgproto3.SASLInitialResponse)
	if !ok || !strings.HasPrefix(init.AuthMechanism, "SCRAM-SHA-256") {
		return failed()
	}
	// client-first-message = gs2-header "," bare; the gs2 header holds two commas.
	clientFirst := string(init.Data)
	i := strings.Index(clientFirst, ",")
	j := -1
	if i >= 0 {
		j = strings.Index(clientFirst[i+1:], ",")
	}
	if j < 0 {
		return failed()
	}
	bare := clientFirst[i+1+j+1:]
	clientNonce := attr(bare, "r")
	if clientNonce == "" {
		return failed()
	}
	salt := randomBytes(16)
	nonce := clientNonce + base64.RawStdEncoding.EncodeToString(randomBytes(18))
	serverFirst := fmt.Sprintf("r=%s,s=%s,i=%d", nonce, base64.StdEncoding.EncodeToString(salt), scramIterations)
	be.Send(&pgproto3.AuthenticationSASLContinue{Data: []byte(serverFirst)})
	if err := be.Flush(); err != nil {
		return err
	}
	_ = be.SetAuthType(pgproto3.AuthTypeSASLContinue)
	if msg, err = be.Receive(); err != nil {
		return err
	}
	resp, ok := msg.(*pgproto3.SASLResponse)
	if !ok {
		return failed()
	}
	clientFinal := string(resp.Data)
	k := strings.LastIndex(clientFinal, ",p=")
	if k < 0 || attr(clientFinal, "r") != nonce {
		return failed()
	}
	withoutProof := clientFinal[:k]
	proof, err := base64.StdEncoding.DecodeString(clientFinal[k+3:])
	if err != nil || len(proof) != sha256.Size {
		return failed()
	}
	salted, err := pbkdf2.Key(sha256.New, ss.s.opts.Password, salt, scramIterations, sha256.Size)
	if err != nil {
		return err
	}
	authMessage := bare + "," + serverFirst + "," + withoutProof
	clientKey := hmacSHA256(salted, "Client Key")
	storedKey := sha256.Sum256(clientKey)
	clientSig := hmacSHA256(storedKey[:], authMessage)
	recovered := make([]byte, len(proof))
	subtle.XORBytes(recovered, proof, clientSig)
	if got := sha256.Sum256(recovered); !hmac.Equal(got[:], storedKey[:]) {
		return failed()
	}
	serverSig := hmacSHA256(hmacSHA256(salted, "Server Key"), authMessage)
	be.Send(&pgproto3.AuthenticationSASLFinal{Data: []byte("v=" + base64.StdEncoding.EncodeToString(serverSig))})
	return nil
}

func hmacSHA256(key []byte, msg string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(msg))
	return h.Sum(nil)
}

// attr returns the value of SCRAM attribute name in a comma-separated message.
func attr(msg, name string) string {
	for _, kv := range strings.Split(msg, ",") {
		if v, ok := strings.CutPrefix(kv, name+"="); ok {
			return v
		}
	}
	return ""
}
