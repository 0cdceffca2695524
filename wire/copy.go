package wire

import (
	"encoding/binary"
	"fmt"

	"github.com/jackc/pgx/v5/pgproto3"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/pgwire-conformance/pgwire-conformance/harness"
	"github.com/pgwire-conformance/pgwire-conformance/profile"
)

var _ = harness.ForTarget("Wire: COPY", Label("wire"), func(s *harness.Subject) {
	s.It("copies rows in from STDIN in text and CSV format", harness.Reqs("FR-007"), func(ctx SpecContext) {
		checks(secCopy)
		obs := harness.Observe(ctx)
		t := harness.NewTable(ctx, obs, "wire_copy_text", notesColumns)
		c := Connect(ctx)

		copyIn(ctx, c, fmt.Sprintf("COPY %s (id, note) FROM STDIN", t), 0, "1\tone\n2\ttwo with space\n", "COPY 2")
		copyIn(ctx, c, fmt.Sprintf("COPY %s (id, note) FROM STDIN WITH (FORMAT csv)", t), 0, "3,\"three, quoted\"\n", "COPY 1")
		Expect(observed(ctx, obs, fmt.Sprintf("SELECT id, note FROM %s ORDER BY id", t))).
			To(Equal([][]string{{"1", "one"}, {"2", "two with space"}, {"3", "three, quoted"}}), "every copied row, as sent")
	}, harness.NeedsFeature{profile.CopyFromStdin}, wireTimeout)

	s.It("copies rows in from STDIN in binary format, as pgx's CopyFrom sends them", harness.Reqs("FR-007", "COMPAT"), func(ctx SpecContext) {
		checks(secCopy)
		obs := harness.Observe(ctx)
		t := harness.NewTable(ctx, obs, "wire_copy_binary", notesColumns)
		c := Connect(ctx)

		data := copyBinary([][]any{{int64(1), "one"}, {int64(2), nil}})
		copyIn(ctx, c, fmt.Sprintf("COPY %s (id, note) FROM STDIN BINARY", t), 1, string(data), "COPY 2")
		Expect(observed(ctx, obs, fmt.Sprintf("SELECT id, note FROM %s ORDER BY id", t))).
			To(Equal([][]string{{"1", "one"}, {"2", "NULL"}}), "every copied row, the NULL kept")
		Expect(Text(c.Query(ctx, "SELECT 1"))).To(Equal([][]string{{"1"}}), "the session goes on after COPY")
	}, harness.NeedsFeature{profile.CopyFromStdin}, wireTimeout)
})

// copyIn runs COPY … FROM STDIN: the server must answer CopyInResponse in
// format (0 text, 1 binary), take data in one CopyData and CopyDone, and
// complete with tag.
func copyIn(ctx SpecContext, c *Conn, sql string, format int, data, tag string) {
	GinkgoHelper()
	c.Send(ctx, &pgproto3.Query{String: sql})
	msgs := c.Until(ctx, "CopyInResponse", func(m pgproto3.BackendMessage) bool {
		return is[*pgproto3.CopyInResponse](m) || is[*pgproto3.ReadyForQuery](m)
	})
	in := First[*pgproto3.CopyInResponse](msgs)
	Expect(in).NotTo(BeNil(), "%s: the server must answer CopyInResponse; got %v, errors %v", sql, Names(msgs), Errors(msgs))
	Expect(int(in.OverallFormat)).To(Equal(format), "%s: the copy format", sql)
	c.Send(ctx, &pgproto3.CopyData{Data: []byte(data)}, &pgproto3.CopyDone{})
	msgs = c.UntilReady(ctx)
	Expect(Flow(msgs)).To(Equal([]string{"CommandComplete", "ReadyForQuery"}), "%s: errors %v", sql, Errors(msgs))
	Expect(Tags(msgs)).To(Equal([]string{tag}))
	Expect(Status(msgs)).To(Equal("I"))
}

// copyBinary encodes rows of int64, string or nil in COPY's binary format
// (PostgreSQL's COPY docs, "Binary Format").
func copyBinary(rows [][]any) []byte {
	b := append([]byte("PGCOPY\n\xff\r\n\x00"), 0, 0, 0, 0, 0, 0, 0, 0) // signature, flags, no header extension
	for _, r := range rows {
		b = binary.BigEndian.AppendUint16(b, uint16(len(r)))
		for _, v := range r {
			switch x := v.(type) {
			case nil:
				b = binary.BigEndian.AppendUint32(b, 0xffffffff)
			case int64:
				b = binary.BigEndian.AppendUint32(b, 8)
				b = binary.BigEndian.AppendUint64(b, uint64(x))
			case string:
				b = binary.BigEndian.AppendUint32(b, uint32(len(x)))
				b = append(b, x...)
			default:
				panic(fmt.Sprintf("copyBinary: no encoding for %T", v))
			}
		}
	}
	return binary.BigEndian.AppendUint16(b, 0xffff) // trailer: -1
}
