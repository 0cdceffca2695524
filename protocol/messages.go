package protocol

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"
)

// The methods of PROTOCOL.md §4. TestMethodsMatchProtocolMD keeps this list
// and the document's method tables in agreement.
const (
	MethodHello                       = "hello"
	MethodDescribe                    = "describe"
	MethodEcho                        = "echo"
	MethodCancel                      = "cancel"
	MethodEngineOpen                  = "engine.open"
	MethodEngineClose                 = "engine.close"
	MethodEngineIntrospect            = "engine.introspect"
	MethodEngineBench                 = "engine.bench"
	MethodExecute                     = "execute"
	MethodExecuteMany                 = "executemany"
	MethodQuery                       = "query"
	MethodCursorFetchOne              = "cursor.fetchone"
	MethodCursorFetchMany             = "cursor.fetchmany"
	MethodCursorFetchAll              = "cursor.fetchall"
	MethodCursorClose                 = "cursor.close"
	MethodConnAcquire                 = "conn.acquire"
	MethodConnRelease                 = "conn.release"
	MethodTxBegin                     = "tx.begin"
	MethodTxCommit                    = "tx.commit"
	MethodTxRollback                  = "tx.rollback"
	MethodWebAppStart                 = "webapp.start"
	MethodORMRun                      = "orm.run"
	MethodProbeSyncMisuse             = "probe.sync_misuse"
	MethodProbeMissingAsyncDependency = "probe.missing_async_dependency"
	MethodProcessMemory               = "process.memory"
)

// Struct tags: `json` names the key; `pgwc:"optional"` marks a key a
// request (or answer) may leave out (null then means absent: a nil Go slice
// marshals as null), `pgwc:"nullable"` a required one that may be null.
// Every other key is required and not null, except a raw protocol value
// (json.RawMessage), where null is SQL NULL.

// Empty is the params of a method without any, and the result `{}`.
type Empty struct{}

// HelloParams: the first request on every connection.
type HelloParams struct {
	Protocol int    `json:"protocol"`
	Client   string `json:"client,omitempty" pgwc:"optional"`
}

// HelloResult answers hello.
type HelloResult struct {
	Protocol int    `json:"protocol"`
	Backend  string `json:"backend"`
}

// DescribeResult answers describe (and is the shape of manifest.json).
type DescribeResult struct {
	Backend  string         `json:"backend"`
	Protocol int            `json:"protocol"`
	Language string         `json:"language"`
	Adapters []AdapterEntry `json:"adapters"`
}

// AdapterEntry is one adapter a backend serves.
type AdapterEntry struct {
	Name          string   `json:"name"`
	Driver        string   `json:"driver"`
	DriverVersion string   `json:"driver_version"`
	Async         bool     `json:"async"`
	Capabilities  []string `json:"capabilities"`
	// Baseline is the adapter of the same backend FR-013 compares this one
	// with; its own name for the raw driver the others are measured against.
	Baseline string `json:"baseline,omitempty" pgwc:"optional"`
}

// EchoParams carries one protocol value; EchoResult gives it back
// re-encoded by the backend.
type EchoParams struct {
	Value json.RawMessage `json:"value"`
}

// EchoResult answers echo.
type EchoResult struct {
	Value json.RawMessage `json:"value"`
}

// CancelParams names a request in flight on the same connection.
type CancelParams struct {
	Request uint64 `json:"request"`
}

// CancelResult says whether the request was still running.
type CancelResult struct {
	Cancelled bool `json:"cancelled"`
}

// EngineOpenParams opens a pool of adapter on dsn.
type EngineOpenParams struct {
	Adapter         string `json:"adapter"`
	DSN             string `json:"dsn"`
	PoolMax         int    `json:"pool_max" pgwc:"optional"`
	ApplicationName string `json:"application_name" pgwc:"optional"`
	Profile         string `json:"profile" pgwc:"optional"`
}

// EngineResult names a new engine.
type EngineResult struct {
	Engine string `json:"engine"`
}

// EngineParams names an engine (engine.close, engine.introspect,
// conn.acquire).
type EngineParams struct {
	Engine string `json:"engine"`
}

// IntrospectResult answers engine.introspect.
type IntrospectResult struct {
	Dialect         string `json:"dialect" pgwc:"optional"` // "" without a dialect layer
	IsAsync         bool   `json:"is_async"`
	PoolClass       string `json:"pool_class"`
	ConnectionClass string `json:"connection_class"`
}

// BenchParams runs sql n times on the engine, as the query path does.
type BenchParams struct {
	Engine string `json:"engine"`
	SQL    string `json:"sql"`
	N      int    `json:"n"`
}

// BenchResult holds one duration per run, timed inside the backend.
type BenchResult struct {
	DurationsNS []int64 `json:"durations_ns"`
}

// ExecuteParams runs a statement on an engine, connection or transaction.
type ExecuteParams struct {
	On     string            `json:"on"`
	SQL    string            `json:"sql"`
	Params []json.RawMessage `json:"params" pgwc:"optional"`
}

// ExecuteManyParams runs a statement once per row of parameters.
type ExecuteManyParams struct {
	On   string              `json:"on"`
	SQL  string              `json:"sql"`
	Rows [][]json.RawMessage `json:"rows"`
}

// RowCountResult answers execute and executemany (-1: not reported).
type RowCountResult struct {
	RowCount int64 `json:"rowcount"`
}

// QueryParams opens a cursor: ExecuteParams' keys, and stream.
type QueryParams struct {
	On     string            `json:"on"`
	SQL    string            `json:"sql"`
	Params []json.RawMessage `json:"params" pgwc:"optional"`
	// Stream: the caller reads the result in batches and it may be too
	// large to hold (adapter.Streaming): use the driver's streaming
	// facility if it has one that must be asked for.
	Stream bool `json:"stream,omitempty" pgwc:"optional"`
}

// Column is a result column: its name and server type name.
type Column struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

// QueryResult names the cursor and describes its columns.
type QueryResult struct {
	Cursor  string   `json:"cursor"`
	Columns []Column `json:"columns"`
}

// CursorParams names a cursor (fetchone, fetchall, close).
type CursorParams struct {
	Cursor string `json:"cursor"`
}

// FetchManyParams reads up to N rows.
type FetchManyParams struct {
	Cursor string `json:"cursor"`
	N      int    `json:"n"`
}

// FetchOneResult is the next row, null at the end (the key is there).
type FetchOneResult struct {
	Row []json.RawMessage `json:"row" pgwc:"nullable"`
}

// RowsResult answers fetchmany and fetchall.
type RowsResult struct {
	Rows [][]json.RawMessage `json:"rows"`
}

// ConnParams names a connection (conn.release, tx.begin).
type ConnParams struct {
	Conn string `json:"conn"`
}

// ConnResult names an acquired connection.
type ConnResult struct {
	Conn string `json:"conn"`
}

// TxParams names a transaction (tx.commit, tx.rollback).
type TxParams struct {
	Tx string `json:"tx"`
}

// TxResult names a begun transaction.
type TxResult struct {
	Tx string `json:"tx"`
}

// WebAppStartParams serves the backend's web app on an engine.
type WebAppStartParams struct {
	Engine    string `json:"engine"`
	SearchSQL string `json:"search_sql" pgwc:"optional"`
	// SleepSQL is the statement behind GET /sleep (a server-side sleep).
	SleepSQL string `json:"sleep_sql,omitempty" pgwc:"optional"`
	Ports    []int  `json:"ports,omitempty" pgwc:"optional"`
}

// PortResult is where the web app listens.
type PortResult struct {
	Port int `json:"port"`
}

// ORMRunParams runs Ops in one ORM session mapped onto Table.
type ORMRunParams struct {
	Engine string  `json:"engine"`
	Table  string  `json:"table"`
	Ops    []ORMOp `json:"ops"`
}

// ORMRow is one row of an ORM spec's table, as the model's attributes.
type ORMRow struct {
	ID    int64    `json:"id"`
	Name  string   `json:"name"`
	Score *float64 `json:"score" pgwc:"nullable"`
}

// ORMOp is one step of orm.run: "add" (Row), "get" (ID), "update" (ID and
// the attributes in Set), "delete" (ID). Each write commits.
type ORMOp struct {
	Op  string         `json:"op"`
	ID  int64          `json:"id,omitempty" pgwc:"optional"`
	Row *ORMRow        `json:"row,omitempty" pgwc:"optional"`
	Set map[string]any `json:"set,omitempty" pgwc:"optional"`
}

// ORMResult is what the session read at one step: the object's attributes
// after the step (Row, nil when get or update found none), and for delete
// whether it deleted one.
type ORMResult struct {
	Op      string  `json:"op"`
	Row     *ORMRow `json:"row" pgwc:"nullable"`
	Deleted bool    `json:"deleted,omitempty" pgwc:"optional"`
	// Session names the session class the backend used, e.g.
	// sqlalchemy.ext.asyncio.session.AsyncSession.
	Session string `json:"session"`
}

// ORMRunResult has one result per op.
type ORMRunResult struct {
	Results []ORMResult `json:"results"`
}

// ProbeParams names the adapter to provoke (EC-1, EC-4).
type ProbeParams struct {
	Adapter string `json:"adapter"`
	DSN     string `json:"dsn" pgwc:"optional"`
	Profile string `json:"profile" pgwc:"optional"`
}

// ProbeResult is what a driver raised when provoked.
type ProbeResult struct {
	// Raised is the exception's class ("" if nothing was raised).
	Raised  string `json:"raised"`
	Message string `json:"message"`
}

// MemoryParams asks for the backend process's memory; ResetPeak starts a
// new peak-measuring period after reading.
type MemoryParams struct {
	ResetPeak bool `json:"reset_peak" pgwc:"optional"`
}

// MemoryResult is the backend process's resident set size now and its peak
// since the last reset (or the process's start). A managed runtime whose
// resident set says little about what the driver holds (the JVM keeps
// every heap page it once touched, and grows its heap at will) adds its
// heap in use now and its peak since the reset; the suite then judges
// those.
type MemoryResult struct {
	RSSBytes      int64 `json:"rss_bytes"`
	PeakRSSBytes  int64 `json:"peak_rss_bytes"`
	HeapBytes     int64 `json:"heap_bytes,omitempty" pgwc:"optional"`
	PeakHeapBytes int64 `json:"peak_heap_bytes,omitempty" pgwc:"optional"`
}

// Growth is how much the backend's memory grew from before to m's peak:
// the heap's, when the backend reports its heap both times, else the
// resident set's; what names which.
func (m MemoryResult) Growth(before MemoryResult) (growth int64, what string) {
	if m.PeakHeapBytes > 0 && before.HeapBytes > 0 {
		return m.PeakHeapBytes - before.HeapBytes, "peak heap in use"
	}
	return m.PeakRSSBytes - before.RSSBytes, "peak resident memory"
}

// Method describes one method: its params and result types.
type Method struct {
	Name   string
	Params reflect.Type
	Result reflect.Type
	// Optional: a backend that cannot do it answers unsupported.
	Optional bool
}

func method[P, R any](name string, optional bool) Method {
	return Method{Name: name, Params: reflect.TypeFor[P](), Result: reflect.TypeFor[R](), Optional: optional}
}

var methods = []Method{
	method[HelloParams, HelloResult](MethodHello, false),
	method[Empty, DescribeResult](MethodDescribe, false),
	method[EchoParams, EchoResult](MethodEcho, false),
	method[CancelParams, CancelResult](MethodCancel, false),
	method[EngineOpenParams, EngineResult](MethodEngineOpen, false),
	method[EngineParams, Empty](MethodEngineClose, false),
	method[EngineParams, IntrospectResult](MethodEngineIntrospect, false),
	method[BenchParams, BenchResult](MethodEngineBench, false),
	method[ExecuteParams, RowCountResult](MethodExecute, false),
	method[ExecuteManyParams, RowCountResult](MethodExecuteMany, false),
	method[QueryParams, QueryResult](MethodQuery, false),
	method[CursorParams, FetchOneResult](MethodCursorFetchOne, false),
	method[FetchManyParams, RowsResult](MethodCursorFetchMany, false),
	method[CursorParams, RowsResult](MethodCursorFetchAll, false),
	method[CursorParams, Empty](MethodCursorClose, false),
	method[EngineParams, ConnResult](MethodConnAcquire, false),
	method[ConnParams, Empty](MethodConnRelease, false),
	method[ConnParams, TxResult](MethodTxBegin, false),
	method[TxParams, Empty](MethodTxCommit, false),
	method[TxParams, Empty](MethodTxRollback, false),
	method[WebAppStartParams, PortResult](MethodWebAppStart, true),
	method[ORMRunParams, ORMRunResult](MethodORMRun, true),
	method[ProbeParams, ProbeResult](MethodProbeSyncMisuse, true),
	method[ProbeParams, ProbeResult](MethodProbeMissingAsyncDependency, true),
	method[MemoryParams, MemoryResult](MethodProcessMemory, true),
}

// Methods lists every method of the protocol.
func Methods() []Method { return append([]Method(nil), methods...) }

// MethodNames lists the method names, sorted.
func MethodNames() []string {
	out := make([]string, len(methods))
	for i, m := range methods {
		out[i] = m.Name
	}
	sort.Strings(out)
	return out
}

// LookupMethod finds a method by name.
func LookupMethod(name string) (Method, bool) {
	for _, m := range methods {
		if m.Name == name {
			return m, true
		}
	}
	return Method{}, false
}

// DecodeParams checks a request's params against its method's typed
// params (every required key present and not null, every key of the right
// JSON type; unknown keys are ignored, as backends ignore them) and returns
// a pointer to the decoded struct. An error here is what a backend answers
// with category protocol. Absent or null params mean {}.
func DecodeParams(method string, raw json.RawMessage) (any, error) {
	m, ok := LookupMethod(method)
	if !ok {
		return nil, fmt.Errorf("unknown method %q", method)
	}
	return decodeShape(m.Params, raw, false, true)
}

// DecodeResult checks a result against its method's typed result, strictly
// (unknown keys are errors): for tests that pin the protocol down.
func DecodeResult(method string, raw json.RawMessage) (any, error) {
	m, ok := LookupMethod(method)
	if !ok {
		return nil, fmt.Errorf("unknown method %q", method)
	}
	return decodeShape(m.Result, raw, true, true)
}

// decodeShape decodes raw into a new t, checking required keys (when
// required) and, when strict, refusing keys t does not have.
func decodeShape(t reflect.Type, raw json.RawMessage, strict, required bool) (any, error) {
	trimmed := strings.TrimSpace(string(raw))
	if trimmed == "" || trimmed == "null" {
		raw = json.RawMessage("{}")
	}
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(raw, &keys); err != nil {
		return nil, fmt.Errorf("params must be a JSON object: %v", err)
	}
	if err := checkKeys(t, keys, strict, required, ""); err != nil {
		return nil, err
	}
	v := reflect.New(t)
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	if strict {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(v.Interface()); err != nil {
		return nil, fmt.Errorf("ill-typed: %v", err)
	}
	return v.Interface(), nil
}

var rawMessageType = reflect.TypeFor[json.RawMessage]()

// checkKeys checks the object keys of a struct type t, recursing into
// nested structs (and slices of them) so ORM ops are checked too.
func checkKeys(t reflect.Type, keys map[string]json.RawMessage, strict, required bool, where string) error {
	known := map[string]bool{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" || name == "-" {
			continue
		}
		known[name] = true
		val, present := keys[name]
		isNull := present && strings.TrimSpace(string(val)) == "null"
		opts := strings.Split(f.Tag.Get("pgwc"), ",")
		if required && !slices.Contains(opts, "optional") && !present {
			return fmt.Errorf("missing parameter %q%s", name, where)
		}
		optional := slices.Contains(opts, "optional")
		if isNull && !optional && f.Type != rawMessageType && !slices.Contains(opts, "nullable") {
			return fmt.Errorf("parameter %q%s must not be null", name, where)
		}
		if !present || isNull {
			continue
		}
		ft := f.Type
		if ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		switch {
		case ft.Kind() == reflect.Struct:
			var sub map[string]json.RawMessage
			if err := json.Unmarshal(val, &sub); err != nil {
				return fmt.Errorf("parameter %q%s must be an object", name, where)
			}
			if err := checkKeys(ft, sub, strict, required, where+" in "+name); err != nil {
				return err
			}
		case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct:
			var subs []map[string]json.RawMessage
			if err := json.Unmarshal(val, &subs); err != nil {
				return fmt.Errorf("parameter %q%s must be an array of objects", name, where)
			}
			for i, sub := range subs {
				if err := checkKeys(ft.Elem(), sub, strict, required, fmt.Sprintf("%s in %s[%d]", where, name, i)); err != nil {
					return err
				}
			}
		}
	}
	if strict {
		for k := range keys {
			if !known[k] {
				return fmt.Errorf("unknown key %q%s", k, where)
			}
		}
	}
	return nil
}
