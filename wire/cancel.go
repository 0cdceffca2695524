package wire

import (
	"context"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/pgwire-conformance/pgwire-conformance/harness"
)

// Cancel timing: the statement sleeps far longer than the bar, so only a
// cancel can end it in time.
const (
	cancelSleep   = 10 // seconds the cancelled statement would sleep
	cancelBar     = 5 * time.Second
	cancelEvery   = 250 * time.Millisecond
	statementWait = 200 * time.Millisecond // statement_timeout in the timeout spec
)

var _ = harness.ForTarget("Wire: cancel", Label("wire"), func(s *harness.Subject) {
	s.It("cancels a running statement on CancelRequest with 57014, and the session goes on", harness.Reqs("FR-009"), func(ctx SpecContext) {
		checks(secCancel)
		c := Connect(ctx)
		addr := Target().Address()
		start := time.Now()
		c.Send(ctx, &pgproto3.Query{String: harness.Profile().Sleep(cancelSleep)})

		// A cancel that reaches the server before the statement runs is
		// dropped (PostgreSQL ignores one while it reads a command), and
		// nothing on the wire says when it started: send one every 250 ms
		// until the statement ends — each waits for the server to close
		// its connection, so none is in flight when the loop stops.
		stop, sent := make(chan struct{}), make(chan int, 1)
		go func() {
			n := 0
			defer func() { sent <- n }()
			for {
				sendCancel(ctx, c, addr)
				n++
				select {
				case <-stop:
					return
				case <-time.After(cancelEvery):
				}
			}
		}()
		rctx, cancel := context.WithTimeout(ctx, cancelBar)
		defer cancel()
		msgs := c.UntilReady(rctx)
		close(stop)
		n := <-sent
		elapsed := time.Since(start)
		GinkgoWriter.Printf("statement ended after %s, %d CancelRequest(s) sent\n", elapsed.Round(time.Millisecond), n)

		Expect(Codes(msgs)).To(Equal([]string{"57014"}), "SQLSTATE query_canceled; got %v", Names(msgs))
		Expect(elapsed).To(BeNumerically("<", cancelBar), "the cancel ends the %d s statement early", cancelSleep)
		Expect(Status(msgs)).To(Equal("I"))
		Expect(Text(c.Query(ctx, "SELECT 1"))).To(Equal([][]string{{"1"}}), "the session goes on after the cancel")
	}, wireTimeout)
})

// sendCancel sends CancelRequest for c's session on a connection of its
// own and waits until the server closes it (it never answers). Failures
// go to the transcript: the spec judges by what happens to the statement.
func sendCancel(ctx context.Context, c *Conn, addr string) {
	d := net.Dialer{Timeout: 2 * time.Second}
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		c.log.note(c.id, "CancelRequest connection failed: "+err.Error())
		return
	}
	defer nc.Close()
	_ = nc.SetDeadline(time.Now().Add(2 * time.Second))
	b, err := (&pgproto3.CancelRequest{ProcessID: c.PID, SecretKey: c.SecretKey}).Encode(nil)
	if err == nil {
		_, err = nc.Write(b)
	}
	if err != nil {
		c.log.note(c.id, "CancelRequest not sent: "+err.Error())
		return
	}
	n, err := io.Copy(io.Discard, nc)
	c.log.note(c.id, fmt.Sprintf("→ CancelRequest pid=%d on a new connection; server closed it (%d bytes back, %v)", c.PID, n, err))
}
