package broken

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pgwire-conformance/pgwire-conformance/adapter"
)

func TestExecManyLoopSendsOneStatementPerRow(t *testing.T) {
	ctx := context.Background()
	f := &fake{}
	e, _ := ExecManyLoop(f).Open(ctx, adapter.OpenOptions{})
	n, err := e.ExecMany(ctx, "INSERT", [][]any{{1}, {2}, {3}})
	if err != nil || n != 3 {
		t.Fatalf("ExecMany = %d, %v", n, err)
	}
	if len(f.execMany) != 0 || strings.Count(strings.Join(f.log, "\n"), "exec INSERT") != 3 {
		t.Errorf("server log %q, batches %v: want three single statements and no batch", f.log, f.execMany)
	}
}

func TestNoopRollbackLeavesTheTransactionAlone(t *testing.T) {
	ctx := context.Background()
	f := &fake{}
	e, _ := NoopRollback(f).Open(ctx, adapter.OpenOptions{})
	c, _ := e.Acquire(ctx)
	tx, _ := c.Begin(ctx)
	tx.Exec(ctx, "INSERT doomed")
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(strings.Join(f.log, "\n"), "rollback") {
		t.Errorf("the server saw a rollback: %q", f.log)
	}
}

func TestRollbackKeepsAbortedOnlyAfterAFailure(t *testing.T) {
	ctx := context.Background()
	f := &failingFake{fake: fake{}}
	e, _ := RollbackKeepsAborted(f).Open(ctx, adapter.OpenOptions{})
	c, _ := e.Acquire(ctx)
	tx, _ := c.Begin(ctx)
	tx.Exec(ctx, "INSERT fine")
	tx.Rollback(ctx)
	if !strings.Contains(strings.Join(f.log, "\n"), "rollback") {
		t.Fatalf("a clean transaction was not rolled back: %q", f.log)
	}
	f.log = nil
	tx, _ = c.Begin(ctx)
	if _, err := tx.Exec(ctx, "FAIL"); err == nil {
		t.Fatal("the failing statement succeeded")
	}
	tx.Rollback(ctx)
	if strings.Contains(strings.Join(f.log, "\n"), "rollback") {
		t.Errorf("after a failed statement the server saw a rollback: %q", f.log)
	}
}

// failingFake fails every statement whose text is FAIL.
type failingFake struct{ fake }

func (f *failingFake) Open(ctx context.Context, o adapter.OpenOptions) (adapter.Engine, error) {
	return &fakeEngine{f: &f.fake}, nil
}

func TestIgnoresContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var seen context.Context
	inner := &ctxFake{seen: &seen}
	e, _ := IgnoresContext(inner).Open(context.Background(), adapter.OpenOptions{})
	e.Exec(ctx, "SELECT 1")
	if seen == nil || seen.Err() != nil {
		t.Errorf("the driver got a cancelled context (%v); the fixture must ignore its caller's", seen)
	}
}

type ctxFake struct {
	fake
	seen *context.Context
}

func (f *ctxFake) Open(ctx context.Context, o adapter.OpenOptions) (adapter.Engine, error) {
	return &ctxEngine{fakeEngine: fakeEngine{f: &f.fake}, seen: f.seen}, nil
}

type ctxEngine struct {
	fakeEngine
	seen *context.Context
}

func (e *ctxEngine) Exec(ctx context.Context, sql string, args ...any) (int64, error) {
	*e.seen = ctx
	return 1, nil
}

func TestZeroRowCounts(t *testing.T) {
	ctx := context.Background()
	e, _ := ZeroRowCounts(&fake{}).Open(ctx, adapter.OpenOptions{})
	for sql, want := range map[string]int64{"INSERT x": 1, "update t set a = 1": 0, " DELETE FROM t": 0} {
		if n, _ := e.Exec(ctx, sql); n != want {
			t.Errorf("Exec(%q) reported %d, want %d", sql, n, want)
		}
	}
}

func TestSerialServesOneCallerAtATime(t *testing.T) {
	ctx := context.Background()
	e, _ := Serial(&fake{}).Open(ctx, adapter.OpenOptions{})
	c, _ := e.Acquire(ctx)
	var second atomic.Bool
	go func() {
		c2, _ := e.Acquire(ctx)
		second.Store(true)
		c2.Release(ctx)
	}()
	time.Sleep(20 * time.Millisecond)
	if second.Load() {
		t.Fatal("a second caller got a connection while the first held one")
	}
	c.Release(ctx)
	deadline := time.Now().Add(time.Second)
	for !second.Load() && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if !second.Load() {
		t.Error("the second caller never got its connection")
	}
}

func TestUnboundedPoolAndProtocolLie(t *testing.T) {
	var got adapter.OpenOptions
	inner := &optsFake{got: &got}
	UnboundedPool(inner).Open(context.Background(), adapter.OpenOptions{PoolMax: 2})
	if got.PoolMax <= 2 {
		t.Errorf("pool max passed on: %d, want it ignored", got.PoolMax)
	}
	if p := LiesAboutProtocol(&protoFake{}).Info().Protocol; p != "extended" {
		t.Errorf("declared protocol %q, want the lie extended", p)
	}
}

type optsFake struct {
	fake
	got *adapter.OpenOptions
}

func (f *optsFake) Open(ctx context.Context, o adapter.OpenOptions) (adapter.Engine, error) {
	*f.got = o
	return &fakeEngine{f: &f.fake}, nil
}

type protoFake struct{ fake }

func (*protoFake) Info() adapter.Info { return adapter.Info{Name: "simple", Protocol: "simple"} }

func TestReadsWholeTakesTheResultBeforeTheFirstFetch(t *testing.T) {
	ctx := context.Background()
	f := &fake{result: [][]any{{int64(1)}, {int64(2)}, {int64(3)}}}
	e, _ := ReadsWhole(f).Open(ctx, adapter.OpenOptions{})
	rows, err := e.Query(ctx, "SELECT n")
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(f.log, "; "); got != "query SELECT n; send row 1; send row 2; send row 3; close" {
		t.Errorf("before the first fetch the server log is %q: want the whole result sent and the cursor closed", got)
	}
	first, _ := rows.FetchMany(ctx, 2)
	rest, _ := rows.FetchAll(ctx)
	if len(first) != 2 || len(rest) != 1 || rest[0][0] != int64(3) {
		t.Errorf("rows handed out: %v then %v", first, rest)
	}
	if one, _ := rows.FetchOne(ctx); one != nil {
		t.Errorf("FetchOne at the end = %v", one)
	}
}
