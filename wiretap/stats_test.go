package wiretap

import (
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/pgwire-conformance/pgwire-conformance/wiretap/internal/fakepg"
)

// insertHandler answers INSERTs with PostgreSQL's tag for the number of VALUES rows, and the
// column query pgx's CopyFrom describes.
func insertHandler(q fakepg.Query) fakepg.Result {
	s := strings.ToUpper(q.SQL)
	switch {
	case strings.HasPrefix(s, "INSERT"):
		return fakepg.Result{Tag: fmt.Sprintf("INSERT 0 %d", strings.Count(s, "("))}
	case strings.HasPrefix(s, `SELECT "N" FROM "T"`):
		return fakepg.Result{Cols: []fakepg.Col{{Name: "n", OID: pgtype.Int8OID}}}
	}
	return fakepg.DefaultHandler(q)
}

func TestRoundTrips(t *testing.T) {
	const n = 25
	_, tap := pair(t, fakepg.Options{Handler: insertHandler}, Options{})
	ctx := testCtx(t)
	conn := connect(t, ctx, tap, "")

	loop := tap.Watch()
	for i := range n {
		if _, err := conn.Exec(ctx, "INSERT INTO t VALUES ($1)", i); err != nil {
			t.Fatal(err)
		}
	}
	ls := loop.Stop()

	batch := tap.Watch()
	b := &pgx.Batch{}
	for i := range n {
		b.Queue("INSERT INTO t2 VALUES ($1)", i)
	}
	if err := conn.SendBatch(ctx, b).Close(); err != nil {
		t.Fatal(err)
	}
	bs := batch.Stop()

	multi := tap.Watch()
	var sql strings.Builder
	args := make([]any, n)
	sql.WriteString("INSERT INTO t3 VALUES ")
	for i := range n {
		if i > 0 {
			sql.WriteString(", ")
		}
		fmt.Fprintf(&sql, "($%d)", i+1)
		args[i] = i
	}
	if _, err := conn.Exec(ctx, sql.String(), args...); err != nil {
		t.Fatal(err)
	}
	ms := multi.Stop()

	cp := tap.Watch()
	rows := make([][]any, n)
	for i := range rows {
		rows[i] = []any{int64(i)}
	}
	copied, err := conn.CopyFrom(ctx, pgx.Identifier{"t"}, []string{"n"}, pgx.CopyFromRows(rows))
	if err != nil || copied != n {
		t.Fatalf("CopyFrom: %d %v", copied, err)
	}
	cs := cp.Stop()

	t.Logf("round trips: loop %d, batch %d, multi-row %d, copy %d", ls.RoundTrips, bs.RoundTrips, ms.RoundTrips, cs.RoundTrips)
	// The loop prepares once (Parse/Describe/Sync) and then waits for every row.
	if ls.RoundTrips != n+1 || ls.Requests != n+1 || ls.CommandTags["INSERT 0 1"] != n {
		t.Errorf("loop: %d round trips, %d requests, tags %v; want %d, %d, %d × INSERT 0 1", ls.RoundTrips, ls.Requests, ls.CommandTags, n+1, n+1, n)
	}
	// The batch prepares, then pipelines every Bind/Execute behind one Sync.
	if bs.RoundTrips != 2 || bs.FromClient["Execute"] != n || bs.FromClient["Sync"] != 2 {
		t.Errorf("batch: %d round trips, client messages %v; want 2", bs.RoundTrips, bs.FromClient)
	}
	if ms.RoundTrips != 2 || ms.CommandTags[fmt.Sprintf("INSERT 0 %d", n)] != 1 {
		t.Errorf("multi-row: %d round trips, tags %v; want 2", ms.RoundTrips, ms.CommandTags)
	}
	if cs.RoundTrips != 2 || cs.CommandTags[fmt.Sprintf("COPY %d", n)] != 1 || cs.FromClient["CopyData"] == 0 || cs.FromClient["CopyDone"] != 1 {
		t.Errorf("copy: %d round trips, tags %v, client messages %v; want 2 and COPY %d", cs.RoundTrips, cs.CommandTags, cs.FromClient, n)
	}
	// Windows add up to the cumulative counters (nothing else ran after startup).
	if total := tap.Stats(); total.RoundTrips != ls.RoundTrips+bs.RoundTrips+ms.RoundTrips+cs.RoundTrips {
		t.Errorf("total %d round trips is not the sum of the windows", total.RoundTrips)
	}
	if ci := lastConn(t, tap); ci.RoundTrips != tap.Stats().RoundTrips || ci.CommandTags[len(ci.CommandTags)-1] != fmt.Sprintf("COPY %d", n) {
		t.Errorf("per connection: %d round trips, tags %v", ci.RoundTrips, ci.CommandTags)
	}
}

func TestWindowPeakOpen(t *testing.T) {
	_, tap := pair(t, fakepg.Options{}, Options{})
	ctx := testCtx(t)
	open := func() *pgx.Conn {
		c, err := pgx.Connect(ctx, dsn(tap, ""))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	closeAll := func(cs ...*pgx.Conn) {
		for _, c := range cs {
			_ = c.Close(ctx)
		}
		eventually(t, "connections closed", func() bool { return tap.Stats().Open == 0 })
	}

	w1 := tap.Watch()
	c1, c2 := open(), open()
	w2 := tap.Watch() // starts with 2 open
	c3 := open()
	closeAll(c1, c2, c3)
	s2 := w2.Stop()
	w3 := tap.Watch()
	c4 := open()
	closeAll(c4)
	s1, s3 := w1.Stop(), w3.Stop()

	if s1.PeakOpen != 3 || s1.Opened != 4 || s1.Closed != 4 || s1.Open != 0 {
		t.Errorf("w1: peak %d opened %d closed %d open %d; want 3 4 4 0", s1.PeakOpen, s1.Opened, s1.Closed, s1.Open)
	}
	if s2.PeakOpen != 3 || s2.Opened != 1 || s2.Closed != 3 {
		t.Errorf("w2: peak %d opened %d closed %d; want 3 1 3", s2.PeakOpen, s2.Opened, s2.Closed)
	}
	if s3.PeakOpen != 1 || s3.Opened != 1 {
		t.Errorf("w3: peak %d opened %d; want 1 1", s3.PeakOpen, s3.Opened)
	}
	if again := w2.Stop(); again.PeakOpen != s2.PeakOpen || again.Opened != s2.Opened {
		t.Errorf("second Stop changed the result: %+v", again)
	}
	if s := tap.Stats(); s.PeakOpen != 3 || s.Opened != 4 {
		t.Errorf("cumulative: peak %d opened %d", s.PeakOpen, s.Opened)
	}
	// A closed connection leaves no goroutine behind (before the tap closes).
	eventually(t, "connection goroutines gone", func() bool { return len(goroutinesIn("wiretap.(*conn)")) == 0 })
}
