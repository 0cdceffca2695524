package wiretap

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/pgwire-conformance/pgwire-conformance/wiretap/internal/fakepg"
)

const testPassword = "s3cr3t-pw"

// pair starts a fake upstream and a tap in front of it; both close at the end of the test.
func pair(t *testing.T, fo fakepg.Options, o Options) (*fakepg.Server, *Tap) {
	t.Helper()
	if fo.Password == "" {
		fo.Password = testPassword
	}
	srv, err := fakepg.Start(fo)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	o.Upstream = srv.Addr()
	if o.Name == "" {
		o.Name = t.Name()
	}
	tap, err := Start(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := tap.Close(); err != nil {
			t.Errorf("tap.Close: %v", err)
		}
	})
	return srv, tap
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func dsn(tap *Tap, params string) string {
	d := fmt.Sprintf("postgres://alice:%s@%s/appdb?sslmode=disable&application_name=wiretap-test", testPassword, tap.Addr())
	if params != "" {
		d += "&" + params
	}
	return d
}

func connect(t *testing.T, ctx context.Context, tap *Tap, params string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(ctx, dsn(tap, params))
	if err != nil {
		t.Fatalf("connect through tap: %v", err)
	}
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	return conn
}

// eventually polls cond until it holds or 3 s pass: for state the tap updates after the client
// has already seen the effect (a close, an unregister).
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func lastConn(t *testing.T, tap *Tap) ConnInfo {
	t.Helper()
	cs := tap.Conns()
	if len(cs) == 0 {
		t.Fatal("no connections recorded")
	}
	return cs[len(cs)-1]
}

func selfSignedTLS(t *testing.T) *tls.Config {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "wiretap-test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
}

// rawClient is a hand-driven frontend for exact message sequences.
type rawClient struct {
	t  *testing.T
	nc net.Conn
	fe *pgproto3.Frontend
}

func dialRaw(t *testing.T, tap *Tap) *rawClient {
	t.Helper()
	nc, err := net.DialTimeout("tcp", tap.Addr(), 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	_ = nc.SetDeadline(time.Now().Add(5 * time.Second))
	t.Cleanup(func() { _ = nc.Close() })
	return &rawClient{t: t, nc: nc, fe: pgproto3.NewFrontend(nc, nc)}
}

func (c *rawClient) send(ms ...pgproto3.FrontendMessage) {
	c.t.Helper()
	for _, m := range ms {
		c.fe.Send(m)
	}
	if err := c.fe.Flush(); err != nil {
		c.t.Fatal(err)
	}
}

// startup runs a trust startup and reads up to the first ReadyForQuery.
func (c *rawClient) startup() {
	c.t.Helper()
	c.send(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersion30, Parameters: map[string]string{"user": "raw", "database": "appdb"}})
	c.until("ReadyForQuery")
}

// until reads messages up to and including one named last; it returns their summaries.
func (c *rawClient) until(last string) []string {
	c.t.Helper()
	var got []string
	for {
		m, err := c.fe.Receive()
		if err != nil {
			c.t.Fatalf("receive (after %v): %v", got, err)
		}
		got = append(got, summarize(msgName(m), m))
		if msgName(m) == last {
			return got
		}
	}
}

// leakedGoroutines lists goroutines still running tap code.
func leakedGoroutines() []string {
	return goroutinesIn("wiretap.(*conn)", "wiretap.(*Tap)", "wiretap.(*Faults)", "wiretap.sleepUntil")
}

func goroutinesIn(funcs ...string) []string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var out []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		for _, fn := range funcs {
			if strings.Contains(g, fn) {
				out = append(out, g)
				break
			}
		}
	}
	return out
}
