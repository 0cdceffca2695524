package remote

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"reflect"
	"testing"
	"time"

	"github.com/pgwire-conformance/pgwire-conformance/adapter"
	"github.com/pgwire-conformance/pgwire-conformance/protocol"
)

// TestWireMatchesTypedStructs runs the remote adapter against a fake
// backend that decodes every request strictly into its method's typed
// params (protocol.Methods) and answers typed results: what remote.go sends
// and reads is exactly PROTOCOL.md's shapes.
func TestWireMatchesTypedStructs(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	problems := make(chan string, 100)
	seen := make(chan string, 100)
	go fakeBackend(l, problems, seen)
	t.Setenv("PGWC_BACKEND_WIREFAKE", "tcp://"+l.Addr().String())
	a := &Adapter{b: &backend{name: "wirefake"}, name: "x", info: adapter.Info{Name: "wirefake:x"}}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	e, err := a.Open(ctx, adapter.OpenOptions{DSN: "postgres://u@h:1/db", PoolMax: 0, ApplicationName: "app"})
	must(err)
	_, err = e.Exec(ctx, "SELECT $1", int64(1), protocol.Numeric("1.10"))
	must(err)
	_, err = e.Exec(ctx, "SELECT 1") // no args: "params": []
	must(err)
	_, err = e.ExecMany(ctx, "SELECT $1", [][]any{{1}, {nil}})
	must(err)
	rows, err := e.Query(ctx, "SELECT 1")
	must(err)
	if got := rows.Columns(); !reflect.DeepEqual(got, []adapter.Column{{Name: "n", Type: "int4"}}) {
		t.Errorf("columns %v", got)
	}
	r1, err := rows.FetchOne(ctx)
	must(err)
	if !reflect.DeepEqual(r1, []any{int64(1)}) {
		t.Errorf("fetchone %#v", r1)
	}
	_, err = rows.FetchMany(ctx, 2)
	must(err)
	_, err = rows.FetchAll(ctx)
	must(err)
	must(rows.Close(ctx))
	c, err := e.Acquire(ctx)
	must(err)
	tx, err := c.Begin(ctx)
	must(err)
	must(tx.Commit(ctx))
	tx, err = c.Begin(ctx)
	must(err)
	must(tx.Rollback(ctx))
	must(c.Release(ctx))
	in, err := e.Introspect(ctx)
	must(err)
	if in.PoolClass != "Pool" || !in.IsAsync {
		t.Errorf("introspect %+v", in)
	}
	d, err := e.Bench(ctx, "SELECT 1", 2)
	must(err)
	if len(d) != 2 {
		t.Errorf("bench %v", d)
	}
	_, err = e.(WebApp).StartWebApp(ctx, "SELECT 1", "")
	must(err)
	_, err = e.(ORM).RunORM(ctx, "t", []ORMOp{{Op: "get", ID: 1}})
	must(err)
	_, err = a.ProbeSyncMisuse(ctx, "postgres://u@h:1/db")
	must(err)
	_, err = a.ProbeMissingAsyncDependency(ctx, "postgres://u@h:1/db")
	must(err)
	m, err := a.Memory(ctx, true)
	must(err)
	if m.PeakRSSBytes != 2048 {
		t.Errorf("memory %+v", m)
	}
	must(e.Close(ctx))
	close(seen)
	got := map[string]bool{}
	for m := range seen {
		got[m] = true
	}
	for _, m := range protocol.MethodNames() {
		if !got[m] && m != protocol.MethodCancel && m != protocol.MethodEcho {
			t.Errorf("remote never calls %s", m)
		}
	}
	close(problems)
	for p := range problems {
		t.Error(p)
	}
}

// fakeBackend answers one connection; every request's params must decode
// strictly (no unknown keys) into the method's typed params.
func fakeBackend(l net.Listener, problems, seen chan<- string) {
	conn, err := l.Accept()
	if err != nil {
		return
	}
	defer conn.Close()
	r := protocol.NewReader(conn)
	results := map[string]any{
		protocol.MethodHello:            protocol.HelloResult{Protocol: 1, Backend: "wirefake"},
		protocol.MethodDescribe:         protocol.DescribeResult{Backend: "wirefake", Protocol: 1, Language: "none", Adapters: []protocol.AdapterEntry{{Name: "x", Driver: "d", DriverVersion: "1", Capabilities: []string{}}}},
		protocol.MethodEngineOpen:       protocol.EngineResult{Engine: "e1"},
		protocol.MethodExecute:          protocol.RowCountResult{RowCount: 1},
		protocol.MethodExecuteMany:      protocol.RowCountResult{RowCount: 2},
		protocol.MethodQuery:            protocol.QueryResult{Cursor: "k1", Columns: []protocol.Column{{Name: "n", Type: "int4"}}},
		protocol.MethodCursorFetchOne:   protocol.FetchOneResult{Row: []json.RawMessage{json.RawMessage("1")}},
		protocol.MethodCursorFetchMany:  protocol.RowsResult{Rows: [][]json.RawMessage{}},
		protocol.MethodCursorFetchAll:   protocol.RowsResult{Rows: [][]json.RawMessage{}},
		protocol.MethodConnAcquire:      protocol.ConnResult{Conn: "c1"},
		protocol.MethodTxBegin:          protocol.TxResult{Tx: "t1"},
		protocol.MethodEngineIntrospect: protocol.IntrospectResult{IsAsync: true, PoolClass: "Pool", ConnectionClass: "Conn"},
		protocol.MethodEngineBench:      protocol.BenchResult{DurationsNS: []int64{1, 2}},
		protocol.MethodWebAppStart:      protocol.PortResult{Port: 8100},
		protocol.MethodORMRun:           protocol.ORMRunResult{Results: []protocol.ORMResult{{Op: "get", Session: "S"}}},
		protocol.MethodProcessMemory:    protocol.MemoryResult{RSSBytes: 1024, PeakRSSBytes: 2048},
	}
	for {
		line, err := r.ReadLine()
		if err != nil {
			return
		}
		req, err := protocol.ParseRequest(line)
		if err != nil {
			problems <- err.Error()
			return
		}
		seen <- req.Method
		m, ok := protocol.LookupMethod(req.Method)
		if !ok {
			problems <- "unknown method " + req.Method
			continue
		}
		if _, err := protocol.DecodeParams(req.Method, req.Params); err != nil {
			problems <- fmt.Sprintf("%s params %s: %v", req.Method, req.Params, err)
		}
		if len(req.Params) > 0 {
			dec := json.NewDecoder(bytes.NewReader(req.Params))
			dec.DisallowUnknownFields()
			if err := dec.Decode(reflect.New(m.Params).Interface()); err != nil {
				problems <- fmt.Sprintf("%s params %s: %v", req.Method, req.Params, err)
			}
		}
		res, ok := results[req.Method]
		if !ok {
			res = protocol.Empty{}
		}
		b, _ := protocol.Marshal(map[string]any{"id": req.ID, "result": res})
		conn.Write(b)
	}
}
