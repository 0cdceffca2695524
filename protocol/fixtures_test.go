package protocol

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

func mustFixtures(t *testing.T) []Fixture {
	t.Helper()
	fs, err := Fixtures()
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) < 6 {
		t.Fatalf("want the six fixture files of testdata/README.md, got %d", len(fs))
	}
	return fs
}

// sent is a fixture's request, read loosely (it may be malformed on purpose).
type sent struct {
	ID     json.RawMessage `json:"id"`
	Method any             `json:"method"`
	Params json.RawMessage `json:"params"`
}

type expected struct {
	ID     json.RawMessage `json:"id"`
	Result json.RawMessage `json:"result"`
	Error  json.RawMessage `json:"error"`
}

// TestFixturesAgreeWithTypedStructs keeps the fixtures and the Go side from
// drifting: a request answered with a result has params that decode into
// the method's typed params and a result pattern that decodes into its
// typed result; a misuse error is about content, so its params have the
// right shape; every line of params.jsonl answered with a protocol error
// is one DecodeParams refuses too.
func TestFixturesAgreeWithTypedStructs(t *testing.T) {
	seen := map[string]bool{}
	for _, f := range mustFixtures(t) {
		for _, e := range f.Exchanges {
			where := e.where(f.File)
			if len(e.Expect) == 0 {
				continue
			}
			var x expected
			if err := strictUnmarshal(e.Expect, &x); err != nil {
				t.Errorf("%s: expect is not a response pattern: %v", where, err)
				continue
			}
			if (len(x.Result) > 0) == (len(x.Error) > 0) {
				t.Errorf("%s: expect needs exactly one of result and error", where)
				continue
			}
			var perr *Error
			if len(x.Error) > 0 {
				perr = new(Error)
				if err := strictUnmarshal(x.Error, perr); err != nil || !slices.Contains(Categories, perr.Category) || perr.Message == "" {
					t.Errorf("%s: error pattern %s: want category, sqlstate and message (%v)", where, x.Error, err)
					continue
				}
				if !bytes.Contains(x.Error, []byte(`"sqlstate"`)) {
					t.Errorf("%s: an error pattern gives sqlstate (\"\" when the server reported none)", where)
				}
			}
			req := e.Send
			if e.SendRaw != nil {
				req = []byte(strings.TrimSuffix(*e.SendRaw, "\r"))
			}
			var s sent
			if len(req) == 0 || json.Unmarshal(req, &s) != nil || string(x.ID) == "null" {
				// A line that is not a request (or a big one): only its
				// refusal without an id is checked here.
				if e.SendBig == nil && string(x.ID) != "null" {
					t.Errorf("%s: a line that is not a request is answered with id null", where)
				}
				continue
			}
			if string(x.ID) != string(s.ID) {
				t.Errorf("%s: expect's id %s is not the request's id %s", where, x.ID, s.ID)
			}
			method, _ := s.Method.(string)
			m, known := LookupMethod(method)
			switch {
			case perr == nil:
				if !known {
					t.Errorf("%s: a result for unknown method %q", where, method)
					continue
				}
				seen[method] = true
				if _, err := DecodeParams(method, s.Params); err != nil {
					t.Errorf("%s: params %s do not decode into %s: %v", where, s.Params, m.Params, err)
				}
				if _, err := decodeShape(m.Params, s.Params, true, true); err != nil {
					t.Errorf("%s: params %s carry keys %s does not know: %v", where, s.Params, m.Params, err)
				}
				if err := checkResultPattern(m, x.Result); err != nil {
					t.Errorf("%s: result pattern %s vs %s: %v", where, x.Result, m.Result, err)
				}
			case perr.Category == CategoryMisuse:
				if !known {
					t.Errorf("%s: misuse for unknown method %q: that is a protocol error", where, method)
					continue
				}
				seen[method] = true
				if _, err := decodeShape(m.Params, s.Params, true, true); err != nil {
					t.Errorf("%s: a misuse case needs well-formed params, but %s: %v", where, s.Params, err)
				}
			case perr.Category == CategoryProtocol && f.File == "params.jsonl" && method != MethodHello:
				if !known {
					t.Errorf("%s: params.jsonl is about the params of known methods, not %q", where, method)
					continue
				}
				seen[method] = true
				if _, err := DecodeParams(method, s.Params); err == nil {
					t.Errorf("%s: the fixture refuses params %s with a protocol error, but DecodeParams accepts them", where, s.Params)
				}
			}
		}
	}
	// Every method appears in some fixture (the optional process.memory
	// through its params only).
	for _, m := range MethodNames() {
		if !seen[m] {
			t.Errorf("no fixture exercises method %s", m)
		}
	}
}

// checkResultPattern checks a result pattern against the typed result:
// every required key present (a wildcard counts), no unknown keys, and the
// keys that are not wildcards decode into their fields.
func checkResultPattern(m Method, pattern json.RawMessage) error {
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(pattern, &keys); err != nil {
		return err
	}
	names := map[string]bool{}
	for i := 0; i < m.Result.NumField(); i++ {
		f := m.Result.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		names[name] = true
		if _, ok := keys[name]; !ok && !strings.Contains(f.Tag.Get("pgwc"), "optional") {
			return errors.New("missing key " + name)
		}
	}
	stripped := map[string]json.RawMessage{}
	for k, v := range keys {
		if !names[k] {
			return errors.New("unknown key " + k)
		}
		if s := string(v); s != `"`+Any+`"` && s != `"`+AbsentOrAny+`"` {
			stripped[k] = v
		}
	}
	b, _ := json.Marshal(stripped)
	_, err := decodeShape(m.Result, b, true, false)
	return err
}

func strictUnmarshal(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

// TestFixturesAgreeWithGoCodec: the Go codec accepts every value echoed in
// values.jsonl (and re-encodes those it keeps typed to the expected
// canonical form) and refuses every value of values_malformed.jsonl.
func TestFixturesAgreeWithGoCodec(t *testing.T) {
	for _, f := range mustFixtures(t) {
		if f.File != "values.jsonl" && f.File != "values_malformed.jsonl" {
			continue
		}
		for _, e := range f.Exchanges {
			var s struct {
				Method string
				Params struct{ Value json.RawMessage }
			}
			if json.Unmarshal(e.Send, &s) != nil || s.Method != MethodEcho {
				continue
			}
			where := e.where(f.File)
			v, err := DecodeValue(s.Params.Value)
			if f.File == "values_malformed.jsonl" {
				if err == nil && bytes.Contains(e.Expect, []byte(`"misuse"`)) {
					t.Errorf("%s: the Go codec accepts %s (as %#v), the fixture refuses it", where, s.Params.Value, v)
				}
				continue
			}
			if err != nil {
				t.Errorf("%s: the Go codec refuses %s: %v", where, s.Params.Value, err)
				continue
			}
			var x struct {
				Result struct{ Value json.RawMessage }
			}
			json.Unmarshal(e.Expect, &x)
			if bytes.Contains(s.Params.Value, []byte(`"$json"`)) || bytes.Contains(s.Params.Value, []byte(`"$uuid"`)) || bytes.Contains(s.Params.Value, []byte(`"$time"`)) {
				continue // Go reads these as plain strings, by design (§3)
			}
			enc, err := EncodeValue(v)
			if err != nil {
				t.Errorf("%s: re-encode %#v: %v", where, v, err)
				continue
			}
			if err := Match(x.Result.Value, enc); err != nil {
				t.Errorf("%s: the Go codec re-encodes %s as %s: %v", where, s.Params.Value, enc, err)
			}
		}
	}
}

func TestMatch(t *testing.T) {
	cases := []struct {
		pattern, response string
		ok                bool
	}{
		{`{"id":1,"result":{}}`, `{"id":1,"result":{}}`, true},
		{`{"id":1,"result":{}}`, `{"id":1,"result":{},"extra":1}`, false},
		{`{"id":1,"result":{"a":1}}`, `{"id":1,"result":{}}`, false},
		{`{"id":1,"result":"<any>"}`, `{"id":1,"result":{"deep":[1,2]}}`, true},
		{`{"id":1,"result":{"a":"<absent-or-any>"}}`, `{"id":1,"result":{}}`, true},
		{`{"id":1,"result":{"a":"<absent-or-any>"}}`, `{"id":1,"result":{"a":null}}`, true},
		{`{"id":1,"error":{"category":"misuse","sqlstate":"","message":"<any>"}}`, `{"id":1,"error":{"category":"misuse","sqlstate":"","message":"x","type":"KeyError"}}`, true},
		{`{"id":1,"error":{"category":"misuse","sqlstate":"","message":"<any>","type":"KeyError"}}`, `{"id":1,"error":{"category":"misuse","sqlstate":"","message":"x","type":"ValueError"}}`, false},
		{`{"id":1,"result":{"type":1}}`, `{"id":1,"result":{"type":1,"x":2}}`, false},
		{`{"id":1,"result":{"v":{"type":1}}}`, `{"id":1,"result":{"v":{"type":1,"other":2}}}`, false},
		{`{"id":1,"error":{"category":"misuse","sqlstate":"","message":"<any>"}}`, `{"id":1,"error":{"category":"protocol","sqlstate":"","message":"x"}}`, false},
		{`{"id":1,"error":{"category":"misuse","sqlstate":"","message":"<any>"}}`, `{"id":1,"error":{"category":"misuse","message":"x"}}`, false},
		{`{"v":2.0}`, `{"v":2}`, false},
		{`{"v":2}`, `{"v":2.0}`, false},
		{`{"v":2.0}`, `{"v":2e0}`, true},
		{`{"v":1e300}`, `{"v":1.0E300}`, true},
		{`{"v":-0.0}`, `{"v":0.0}`, false},
		{`{"v":-0.0}`, `{"v":-0e0}`, true},
		{`{"v":9007199254740993}`, `{"v":9007199254740992}`, false},
		{`{"v":9223372036854775807}`, `{"v":9223372036854775807}`, true},
		{`{"v":0.1}`, `{"v":0.10000000000000001}`, true},
		{`{"v":"a\u00e9"}`, `{"v":"aé"}`, true},
		{`{"v":null}`, `{"v":"null"}`, false},
		{`{"v":""}`, `{"v":null}`, false},
		{`{"v":[1,2]}`, `{"v":[1,2,3]}`, false},
		{`{"v":[1,{"a":true}]}`, `{"v":[1,{"a":true}]}`, true},
		{`{"v":{"$json":"null"}}`, `{"v":null}`, false},
	}
	for _, c := range cases {
		err := Match([]byte(c.pattern), []byte(c.response))
		if (err == nil) != c.ok {
			t.Errorf("Match(%s, %s) = %v, want ok=%v", c.pattern, c.response, err, c.ok)
		}
	}
}

// scripted is a fake backend that answers each fixture exactly as its
// patterns say (wildcards filled in), one fixture per connection in order;
// alter may change a response line to prove the replay notices.
func scripted(t *testing.T, fixtures []Fixture, alter func(file string, e Exchange, resp []byte) []byte, closeOnExpectClose bool) (dial func(ctx context.Context) (net.Conn, error)) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for _, f := range fixtures {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			go serveScript(conn, f, alter, closeOnExpectClose)
		}
	}()
	return func(ctx context.Context) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "tcp", l.Addr().String())
	}
}

func serveScript(conn net.Conn, f Fixture, alter func(string, Exchange, []byte) []byte, closeOnExpectClose bool) {
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(time.Minute))
	r := NewReader(conn)
	for _, e := range f.Exchanges {
		if _, err := r.ReadLine(); err != nil && !errors.Is(err, ErrTooLarge) {
			return
		}
		if len(e.Expect) > 0 {
			resp := fill(e.Expect)
			if alter != nil {
				resp = alter(f.File, e, resp)
			}
			conn.Write(append(resp, '\n'))
		}
		if e.ExpectClose {
			if closeOnExpectClose {
				return
			}
			time.Sleep(time.Hour) // a backend that never closes; the replay's deadline ends it
		}
	}
}

var wildcardRE = regexp.MustCompile(`,?"[a-z_]+":"` + AbsentOrAny + `"|"` + Any + `"`)

// fill turns a pattern into a response that matches it.
func fill(pattern []byte) []byte {
	return wildcardRE.ReplaceAllFunc(pattern, func(m []byte) []byte {
		if bytes.Contains(m, []byte(AbsentOrAny)) {
			return nil
		}
		return []byte(`"filled in"`)
	})
}

type recorder struct{ msgs []string }

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.msgs = append(r.msgs, fmt.Sprintf(format, args...))
}
func (r *recorder) text() string { return strings.Join(r.msgs, "\n") }

func TestReplayAgainstScriptedBackend(t *testing.T) {
	if testing.Short() {
		t.Skip("moves 32 MiB over loopback")
	}
	fixtures := mustFixtures(t)
	// A backend that answers as the fixtures say passes.
	ReplayFixtures(t, scripted(t, fixtures, nil, true))

	// One wrong answer (an integer where the fixture wants the float 2.0)
	// fails, naming the exchange.
	var rec recorder
	ReplayFixtures(&rec, scripted(t, fixtures, func(file string, e Exchange, resp []byte) []byte {
		if e.Name == "echo 2.0 stays a float" {
			return bytes.Replace(resp, []byte(`2.0`), []byte(`2`), 1)
		}
		return resp
	}, true))
	if got := rec.text(); !strings.Contains(got, "echo 2.0 stays a float") || strings.Count(got, "expected:") != 1 {
		t.Errorf("a wrong answer: want one failure naming it, got:\n%s", got)
	}
}

func TestReplayNoticesABackendThatDoesNotClose(t *testing.T) {
	if testing.Short() {
		t.Skip("moves 32 MiB over loopback")
	}
	var over Fixture
	for _, f := range mustFixtures(t) {
		if f.File == "oversize.jsonl" {
			over = f
		}
	}
	dial := scripted(t, []Fixture{over}, nil, false)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	conn, err := dial(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	err = ReplayFixture(ctx, over, conn)
	if err == nil || !strings.Contains(err.Error(), "must close the connection") {
		t.Fatalf("a backend that stays open after an oversized line: %v", err)
	}
}

// TestMethodsMatchProtocolMD: the method constants and PROTOCOL.md's
// method tables (§4) name the same methods.
func TestMethodsMatchProtocolMD(t *testing.T) {
	doc, err := os.ReadFile("../PROTOCOL.md")
	if err != nil {
		t.Fatal(err)
	}
	start := bytes.Index(doc, []byte("\n## 4. Methods"))
	end := bytes.Index(doc, []byte("\n## 5."))
	if start < 0 || end < start {
		t.Fatal("PROTOCOL.md: no section 4. Methods followed by section 5")
	}
	row := regexp.MustCompile("^\\| `([a-z_.]+)` \\|")
	var documented []string
	sc := bufio.NewScanner(bytes.NewReader(doc[start:end]))
	for sc.Scan() {
		if m := row.FindStringSubmatch(sc.Text()); m != nil {
			documented = append(documented, m[1])
		}
	}
	slices.Sort(documented)
	if !reflect.DeepEqual(documented, MethodNames()) {
		t.Errorf("PROTOCOL.md §4 documents %v\nprotocol.Methods has     %v", documented, MethodNames())
	}
}

func TestDecodeParamsNulls(t *testing.T) {
	ok := map[string]string{
		MethodExecute:  `{"on":"e1","sql":"x","params":null}`, // optional: null is absent
		MethodEcho:     `{"value":null}`,                      // a value: SQL NULL
		MethodDescribe: `null`,
	}
	for m, p := range ok {
		if _, err := DecodeParams(m, json.RawMessage(p)); err != nil {
			t.Errorf("%s %s: %v", m, p, err)
		}
	}
	bad := map[string]string{
		MethodExecute:    `{"on":"e1","sql":null}`,
		MethodTxCommit:   `{}`,
		MethodORMRun:     `{"engine":"e1","table":"t","ops":[{"id":1}]}`,
		MethodEngineOpen: `{"adapter":"a","dsn":"d","pool_max":"1"}`,
	}
	for m, p := range bad {
		if _, err := DecodeParams(m, json.RawMessage(p)); err == nil {
			t.Errorf("%s %s: accepted", m, p)
		}
	}
}
