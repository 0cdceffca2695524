package wire

import (
	"bytes"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// scram is the client side of SCRAM-SHA-256 (RFC 5802, RFC 7677) without
// channel binding, written out so the start-up spec sees every message of
// the exchange (pgconn's client is not exported). PostgreSQL takes the
// user from the start-up message, so the SCRAM user name is left empty
// there; the RFC's test vector sets it.
type scram struct {
	user, password string
	clientNonce    string
	clientFirst    string // client-first-message-bare
	serverFirst    string
	salted         []byte
	authMessage    string
}

func newSCRAM(user, password, nonce string) *scram {
	if nonce == "" {
		b := make([]byte, 18)
		_, _ = rand.Read(b)
		nonce = base64.RawStdEncoding.EncodeToString(b)
	}
	return &scram{user: user, password: password, clientNonce: nonce}
}

// first is the client-first-message.
func (s *scram) first() []byte {
	s.clientFirst = "n=" + s.user + ",r=" + s.clientNonce
	return []byte("n,," + s.clientFirst)
}

// final answers the server-first-message with the client-final-message.
func (s *scram) final(serverFirst []byte) ([]byte, error) {
	s.serverFirst = string(serverFirst)
	attrs, err := scramAttrs(s.serverFirst)
	if err != nil {
		return nil, err
	}
	nonce, salt64, iters := attrs["r"], attrs["s"], attrs["i"]
	if !strings.HasPrefix(nonce, s.clientNonce) || len(nonce) == len(s.clientNonce) {
		return nil, fmt.Errorf("server nonce %q does not extend the client's", nonce)
	}
	salt, err := base64.StdEncoding.DecodeString(salt64)
	if err != nil {
		return nil, fmt.Errorf("salt %q: %w", salt64, err)
	}
	n, err := strconv.Atoi(iters)
	if err != nil || n < 1 {
		return nil, fmt.Errorf("iteration count %q", iters)
	}
	s.salted, err = pbkdf2.Key(sha256.New, s.password, salt, n, sha256.Size)
	if err != nil {
		return nil, err
	}
	withoutProof := "c=biws,r=" + nonce
	s.authMessage = s.clientFirst + "," + s.serverFirst + "," + withoutProof
	clientKey := mac(s.salted, "Client Key")
	stored := sha256.Sum256(clientKey)
	sig := mac(stored[:], s.authMessage)
	proof := make([]byte, len(clientKey))
	for i := range proof {
		proof[i] = clientKey[i] ^ sig[i]
	}
	return []byte(withoutProof + ",p=" + base64.StdEncoding.EncodeToString(proof)), nil
}

// verify checks the server-final-message: the server proves it knows the
// password too.
func (s *scram) verify(serverFinal []byte) error {
	attrs, err := scramAttrs(string(serverFinal))
	if err != nil {
		return err
	}
	if e, ok := attrs["e"]; ok {
		return fmt.Errorf("server-final error %q", e)
	}
	got, err := base64.StdEncoding.DecodeString(attrs["v"])
	if err != nil {
		return fmt.Errorf("server signature: %w", err)
	}
	want := mac(mac(s.salted, "Server Key"), s.authMessage)
	if !hmac.Equal(got, want) {
		return errors.New("the server's signature does not verify")
	}
	return nil
}

func mac(key []byte, msg string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(msg))
	return h.Sum(nil)
}

// scramAttrs splits "a=1,b=2" (values may contain '=').
func scramAttrs(msg string) (map[string]string, error) {
	out := map[string]string{}
	for _, part := range strings.Split(msg, ",") {
		k, v, ok := strings.Cut(part, "=")
		if !ok || len(k) != 1 {
			return nil, fmt.Errorf("malformed SCRAM message %q", msg)
		}
		out[k] = v
	}
	return out, nil
}

// md5Password is PostgreSQL's md5 answer: "md5" + md5(md5(password+user) + salt).
func md5Password(user, password string, salt [4]byte) string {
	inner := md5hex([]byte(password + user))
	return "md5" + md5hex(bytes.Join([][]byte{[]byte(inner), salt[:]}, nil))
}
