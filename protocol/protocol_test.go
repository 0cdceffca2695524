package protocol

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net"
	"reflect"
	"strings"
	"testing"
	"time"
)

func roundTrip(t *testing.T, v any) any {
	t.Helper()
	b, err := EncodeValue(v)
	if err != nil {
		t.Fatalf("encode %#v: %v", v, err)
	}
	got, err := DecodeValue(b)
	if err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return got
}

func TestValueRoundTrips(t *testing.T) {
	tz := time.FixedZone("", -(3*3600 + 30*60))
	cases := []struct {
		in, want any
		wire     string // expected encoding, "" to skip
	}{
		{nil, nil, "null"},
		{true, true, "true"},
		{false, false, "false"},
		{"it's \"quoted\" — ünïcödé\n", "it's \"quoted\" — ünïcödé\n", ""},
		{int64(42), int64(42), "42"},
		{int32(-7), int64(-7), "-7"},
		{int64(MaxSafeInt), int64(MaxSafeInt), "9007199254740991"},
		{int64(MaxSafeInt + 2), int64(MaxSafeInt + 2), `{"$int8":"9007199254740993"}`},
		{int64(math.MinInt64), int64(math.MinInt64), `{"$int8":"-9223372036854775808"}`},
		{2.0, 2.0, "2.0"},
		{2.5, 2.5, "2.5"},
		{1e300, 1e300, "1e+300"},
		{math.Inf(1), math.Inf(1), `{"$float8":"Infinity"}`},
		{math.Inf(-1), math.Inf(-1), `{"$float8":"-Infinity"}`},
		{Numeric("1.10"), Numeric("1.10"), `{"$numeric":"1.10"}`},
		{Numeric("-12345678901234567890.000001"), Numeric("-12345678901234567890.000001"), ""},
		{[]byte{0, 255, 10}, []byte{0, 255, 10}, `{"$bytes":"AP8K"}`},
		{[]byte{}, []byte{}, `{"$bytes":""}`},
		{Date{2026, 1, 2}, Date{2026, 1, 2}, `{"$date":"2026-01-02"}`},
		{time.Date(2026, 1, 2, 3, 4, 5, 123456000, tz), time.Date(2026, 1, 2, 3, 4, 5, 123456000, tz), `{"$timestamptz":"2026-01-02T03:04:05.123456-03:30"}`},
		{Timestamp(time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC)), Timestamp(time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC)), `{"$timestamp":"2026-01-02T03:04:05.000006"}`},
		{Vector{1, 0.5, -2}, Vector{1, 0.5, -2}, `{"$vector":[1,0.5,-2]}`},
		{[]float32{0.1}, Vector{0.1}, `{"$vector":[0.1]}`},
		{90 * time.Second, 90 * time.Second, `{"$interval_us":"90000000"}`},
		{[]any{int64(1), nil, "x"}, []any{int64(1), nil, "x"}, `{"$array":[1,null,"x"]}`},
	}
	for _, c := range cases {
		b, err := EncodeValue(c.in)
		if err != nil {
			t.Errorf("encode %#v: %v", c.in, err)
			continue
		}
		if c.wire != "" && string(b) != c.wire {
			t.Errorf("encode %#v = %s, want %s", c.in, b, c.wire)
		}
		got := roundTrip(t, c.in)
		if tm, ok := c.want.(time.Time); ok {
			if g, ok := got.(time.Time); !ok || !g.Equal(tm) {
				t.Errorf("round trip %v = %#v", c.in, got)
			}
			continue
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("round trip %#v = %#v, want %#v", c.in, got, c.want)
		}
	}
	if f := roundTrip(t, math.NaN()).(float64); !math.IsNaN(f) {
		t.Errorf("NaN round trip = %v", f)
	}
}

func TestDecodeOtherSpellings(t *testing.T) {
	// What other languages may send: integers as $int8 even when small,
	// Z for UTC, integral vector elements, floats with exponents.
	cases := map[string]any{
		`{"$int8":"5"}`: int64(5),
		`{"$timestamptz":"2026-01-02T03:04:05Z"}`: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		`{"$vector":[1,2,3]}`:                     Vector{1, 2, 3},
		`1E3`:                                     1000.0,
		`-0.0`:                                    math.Copysign(0, -1),
		`{"$numeric":"NaN"}`:                      Numeric("NaN"),
		`{"$uuid":"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"}`: "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
	}
	for in, want := range cases {
		got, err := DecodeValue(json.RawMessage(in))
		if err != nil {
			t.Errorf("decode %s: %v", in, err)
			continue
		}
		if tm, ok := want.(time.Time); ok {
			if !got.(time.Time).Equal(tm) {
				t.Errorf("decode %s = %v", in, got)
			}
			continue
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("decode %s = %#v, want %#v", in, got, want)
		}
	}
}

func TestDecodeRejectsMalformed(t *testing.T) {
	cases := map[string]string{
		``:                                       "empty",
		`nul`:                                    "malformed",
		`[1,2]`:                                  "bare JSON array",
		`{"$int8":"1.5"}`:                        "not an integer",
		`{"$int8":"99999999999999999999"}`:       "out of int8 range",
		`{"$int8":5}`:                            "must be a JSON string",
		`18446744073709551616`:                   "does not fit int8",
		`{"$numeric":"1,10"}`:                    "not a decimal",
		`{"$bytes":"***"}`:                       "base64",
		`{"$date":"2026-02-30"}`:                 "not a calendar date",
		`{"$date":"2026-1-2"}`:                   "YYYY-MM-DD",
		`{"$timestamptz":"2026-01-02 03:04:05"}`: "RFC 3339",
		`{"$timestamp":"2026-01-02T03:04:05+01:00"}`: "without an offset",
		`{"$vector":["a"]}`:                          "array of numbers",
		`{"$nope":"x"}`:                              "unknown tag",
		`{"$int8":"1","$date":"2026-01-02"}`:         "exactly one",
		`{}`:                                         "exactly one",
		`{"$array":[{"$bytes":"!"}]}`:                "element 0",
	}
	for in, want := range cases {
		_, err := DecodeValue(json.RawMessage(in))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("decode %q: error %v, want one containing %q", in, err, want)
		}
	}
	for _, v := range []any{struct{}{}, map[string]int{}, uint64(math.MaxUint64), Numeric("abc"), Vector{float32(math.NaN())}} {
		if _, err := EncodeValue(v); err == nil {
			t.Errorf("encode %#v: want an error", v)
		}
	}
}

func TestParseResponse(t *testing.T) {
	good := []string{
		`{"id":1,"result":{}}`,
		`{"id":2,"result":null}`,
		`{"id":3,"error":{"category":"sql","sqlstate":"42P01","message":"no such table"}}`,
		`{"id":null,"error":{"category":"protocol","message":"malformed request"}}`,
	}
	for _, l := range good {
		if _, err := ParseResponse([]byte(l)); err != nil {
			t.Errorf("%s: %v", l, err)
		}
	}
	bad := map[string]string{
		`{"id":1}`: "neither result nor error",
		`{"id":1,"result":1,"error":{"category":"sql","message":"x"}}`: "both result and error",
		`{"id":null,"result":1}`:                             "without an id",
		`{"id":1,"error":{"category":"oops","message":"x"}}`: "unknown error category",
		`not json`: "malformed response",
		`{"id":1,"result":1} {"id":2,"result":2}`: "more than one JSON value",
		`{"id":"1","result":1}`:                   "malformed response",
	}
	for l, want := range bad {
		_, err := ParseResponse([]byte(l))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want %q", l, err, want)
		}
	}
	if _, err := ParseRequest([]byte(`{"id":1,"params":{}}`)); err == nil {
		t.Error("a request without a method must be rejected")
	}
}

func TestReaderRefusesOversized(t *testing.T) {
	small := strings.Repeat("x", 100)
	r := NewReaderSize(strings.NewReader(small+"\n"+strings.Repeat("y", 5000)+"\nnext\n"), 1000)
	if l, err := r.ReadLine(); err != nil || string(l) != small {
		t.Fatalf("first line: %q %v", l, err)
	}
	if _, err := r.ReadLine(); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("oversized line: %v, want ErrTooLarge", err)
	}
	if _, err := NewReader(strings.NewReader(`{"id":1`)).ReadLine(); err == nil || !strings.Contains(err.Error(), "middle of a message") {
		t.Fatalf("truncated message: %v", err)
	}
	if _, err := Marshal(map[string]string{"x": strings.Repeat("z", MaxMessage)}); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("Marshal of an oversized message: %v", err)
	}
}

// fakeBackend answers requests on one connection with handler, which may
// delay or reorder; it returns the client's address.
func fakeBackend(t *testing.T, handler func(reqs <-chan Request, send func(string))) *Client {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		conn, err := l.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		reqs := make(chan Request, 16)
		var wmu = make(chan struct{}, 1)
		send := func(s string) {
			wmu <- struct{}{}
			conn.Write([]byte(s + "\n"))
			<-wmu
		}
		go func() {
			defer close(reqs)
			r := NewReader(conn)
			for {
				l, err := r.ReadLine()
				if err != nil {
					return
				}
				req, err := ParseRequest(l)
				if err != nil {
					return
				}
				reqs <- req
			}
		}()
		handler(reqs, send)
	}()
	c, err := Dial(context.Background(), "fake", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestClientMatchesOutOfOrderResponses(t *testing.T) {
	c := fakeBackend(t, func(reqs <-chan Request, send func(string)) {
		// Collect three requests, answer them in reverse order.
		var got []Request
		for r := range reqs {
			got = append(got, r)
			if len(got) == 3 {
				break
			}
		}
		for i := len(got) - 1; i >= 0; i-- {
			var p struct{ N int }
			json.Unmarshal(got[i].Params, &p)
			send(fmt.Sprintf(`{"id":%d,"result":{"n":%d}}`, got[i].ID, p.N*10))
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	results := make(chan [2]int, 3)
	for i := 1; i <= 3; i++ {
		go func() {
			var r struct{ N int }
			if err := c.Call(ctx, "echo", map[string]int{"n": i}, &r); err != nil {
				t.Error(err)
			}
			results <- [2]int{i, r.N}
		}()
	}
	for range 3 {
		r := <-results
		if r[1] != r[0]*10 {
			t.Errorf("call %d got %d: responses matched to the wrong request", r[0], r[1])
		}
	}
}

func TestClientErrorsNameTheBackend(t *testing.T) {
	c := fakeBackend(t, func(reqs <-chan Request, send func(string)) {
		r := <-reqs
		send(fmt.Sprintf(`{"id":%d,"error":{"category":"sql","sqlstate":"42601","message":"syntax error at or near \"SELEC\""}}`, r.ID))
		<-reqs // the second request: hang up without answering
	})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := c.Call(ctx, "execute", map[string]string{"sql": "SELEC 1"}, nil)
	var ce *CallError
	if !errors.As(err, &ce) || ce.SQLState() != "42601" || ce.Category() != "sql" || !strings.Contains(err.Error(), "backend fake") {
		t.Fatalf("server error: %v", err)
	}
	err = c.Call(ctx, "execute", map[string]string{"sql": "SELECT 1"}, nil)
	var be *BackendError
	if !errors.As(err, &be) || !strings.Contains(err.Error(), "backend fake") || !strings.Contains(err.Error(), "connection lost") {
		t.Fatalf("dead backend: %v", err)
	}
	// Later calls fail at once, with the same cause.
	start := time.Now()
	if err := c.Call(ctx, "describe", nil, nil); err == nil || time.Since(start) > time.Second {
		t.Fatalf("call on a dead client: %v after %s", err, time.Since(start))
	}
}

func TestClientHonoursContextAndCancels(t *testing.T) {
	cancelled := make(chan uint64, 1)
	c := fakeBackend(t, func(reqs <-chan Request, send func(string)) {
		first := <-reqs // never answered
		for r := range reqs {
			if r.Method == "cancel" {
				var p struct{ Request uint64 }
				json.Unmarshal(r.Params, &p)
				cancelled <- p.Request
				send(fmt.Sprintf(`{"id":%d,"result":{}}`, r.ID))
				send(fmt.Sprintf(`{"id":%d,"error":{"category":"timeout","message":"cancelled"}}`, first.ID))
			}
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := c.Call(ctx, "query", map[string]string{"sql": "SELECT pg_sleep(10)"}, nil)
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 2*time.Second {
		t.Fatalf("deadline: %v after %s", err, time.Since(start))
	}
	select {
	case id := <-cancelled:
		if id != 1 {
			t.Errorf("cancel named request %d, want 1", id)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("the backend was not asked to cancel the abandoned request")
	}
	// The late answer to the abandoned request must not disturb later calls.
	ctx2, cancel2 := context.WithTimeout(context.Background(), time.Second)
	defer cancel2()
	_ = ctx2
	if c.Err() != nil {
		t.Fatalf("client died after a late response: %v", c.Err())
	}
}

func TestRequestCarriesDeadline(t *testing.T) {
	got := make(chan Request, 1)
	c := fakeBackend(t, func(reqs <-chan Request, send func(string)) {
		r := <-reqs
		got <- r
		send(fmt.Sprintf(`{"id":%d,"result":{}}`, r.ID))
	})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := c.Call(ctx, "describe", nil, nil); err != nil {
		t.Fatal(err)
	}
	r := <-got
	if r.TimeoutMS <= 0 || r.TimeoutMS > 3000 {
		t.Errorf("timeout_ms = %d, want the remaining deadline", r.TimeoutMS)
	}
	if !bytes.Equal(r.Params, nil) && string(r.Params) != "null" {
		t.Errorf("params of a call without params: %s", r.Params)
	}
}
