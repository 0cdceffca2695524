package protocol

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"math/big"
	"net"
	"path"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// The golden fixtures (testdata/README.md, PROTOCOL.md §7) travel inside
// the package, so a Go test anywhere can replay them against a backend.
//
//go:embed testdata/*.jsonl
var fixtureFS embed.FS

// Wildcards of the fixtures' response patterns.
const (
	Any         = "<any>"
	AbsentOrAny = "<absent-or-any>"
)

// ExchangeTimeout bounds one exchange of a replay (the oversize fixtures
// move 32 MiB).
const ExchangeTimeout = 30 * time.Second

// Fixture is one fixture file: one session on one fresh connection.
type Fixture struct {
	File      string
	Exchanges []Exchange
}

// Exchange is one line of a fixture: what to send, what to expect.
type Exchange struct {
	Line        int             `json:"-"`
	Name        string          `json:"name"`
	Send        json.RawMessage `json:"send,omitempty"`
	SendRaw     *string         `json:"send_raw,omitempty"`
	SendBig     *BigLine        `json:"send_big,omitempty"`
	Expect      json.RawMessage `json:"expect,omitempty"`
	ExpectClose bool            `json:"expect_close,omitempty"`
}

// BigLine is a line too large to keep in a fixture: Head, then Fill
// repeated, then Tail and the newline, Size bytes in all.
type BigLine struct {
	Head string `json:"head"`
	Fill string `json:"fill"`
	Tail string `json:"tail"`
	Size int    `json:"size"`
}

// Bytes builds the line, newline included.
func (b BigLine) Bytes() ([]byte, error) {
	n := b.Size - len(b.Head) - len(b.Tail) - 1
	if len(b.Fill) != 1 || b.Fill[0] >= 0x80 || n < 0 {
		return nil, fmt.Errorf("send_big: fill must be one ASCII character and size at least head+tail+1, got fill %q size %d", b.Fill, b.Size)
	}
	out := make([]byte, 0, b.Size)
	out = append(out, b.Head...)
	out = append(out, bytes.Repeat([]byte(b.Fill), n)...)
	out = append(out, b.Tail...)
	return append(out, '\n'), nil
}

func (e Exchange) where(file string) string {
	return fmt.Sprintf("%s:%d (%s)", file, e.Line, e.Name)
}

// Fixtures returns every golden fixture, sorted by file name.
func Fixtures() ([]Fixture, error) {
	names, err := fs.Glob(fixtureFS, "testdata/*.jsonl")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	var out []Fixture
	for _, n := range names {
		data, err := fixtureFS.ReadFile(n)
		if err != nil {
			return nil, err
		}
		f, err := ParseFixture(path.Base(n), data)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}

// ParseFixture reads one fixture file and checks every line's form.
func ParseFixture(file string, data []byte) (Fixture, error) {
	f := Fixture{File: file}
	for i, line := range bytes.Split(data, []byte("\n")) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var e Exchange
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&e); err != nil {
			return f, fmt.Errorf("%s:%d: %v", file, i+1, err)
		}
		e.Line = i + 1
		sends := 0
		for _, set := range []bool{len(e.Send) > 0, e.SendRaw != nil, e.SendBig != nil} {
			if set {
				sends++
			}
		}
		switch {
		case e.Name == "":
			return f, fmt.Errorf("%s:%d: no name", file, e.Line)
		case sends != 1:
			return f, fmt.Errorf("%s: want exactly one of send, send_raw, send_big", e.where(file))
		case len(e.Expect) == 0 && !e.ExpectClose:
			return f, fmt.Errorf("%s: want expect and/or expect_close", e.where(file))
		}
		if e.SendBig != nil {
			if _, err := e.SendBig.Bytes(); err != nil {
				return f, fmt.Errorf("%s: %v", e.where(file), err)
			}
		}
		if len(e.Send) > 0 {
			var c bytes.Buffer
			if err := json.Compact(&c, e.Send); err != nil {
				return f, fmt.Errorf("%s: send: %v", e.where(file), err)
			}
			e.Send = c.Bytes()
		}
		f.Exchanges = append(f.Exchanges, e)
	}
	if len(f.Exchanges) == 0 {
		return f, fmt.Errorf("%s: no exchanges", file)
	}
	return f, nil
}

// Match reports how response differs from pattern (nil when it matches),
// by the rules of testdata/README.md: exact keys and values except the
// wildcards, an error's type ignored unless given, numbers by kind and value.
func Match(pattern, response []byte) error {
	p, err := decodeJSON(pattern)
	if err != nil {
		return fmt.Errorf("pattern: %v", err)
	}
	r, err := decodeJSON(response)
	if err != nil {
		return fmt.Errorf("response is not JSON: %v", err)
	}
	return match(p, r, "$", false)
}

func decodeJSON(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, errors.New("more than one JSON value")
	}
	return v, nil
}

func match(p, r any, at string, errorObject bool) error {
	if p == Any {
		return nil
	}
	switch pv := p.(type) {
	case map[string]any:
		rv, ok := r.(map[string]any)
		if !ok {
			return fmt.Errorf("%s: want an object, got %s", at, show(r))
		}
		for k, want := range pv {
			got, present := rv[k]
			if want == AbsentOrAny {
				continue
			}
			if !present {
				return fmt.Errorf("%s: key %q is missing", at, k)
			}
			if err := match(want, got, at+"."+k, at == "$" && k == "error"); err != nil {
				return err
			}
		}
		for k := range rv {
			if _, ok := pv[k]; !ok && !(errorObject && k == "type") {
				return fmt.Errorf("%s: unexpected key %q", at, k)
			}
		}
		return nil
	case []any:
		rv, ok := r.([]any)
		if !ok || len(rv) != len(pv) {
			return fmt.Errorf("%s: want an array of %d, got %s", at, len(pv), show(r))
		}
		for i := range pv {
			if err := match(pv[i], rv[i], fmt.Sprintf("%s[%d]", at, i), false); err != nil {
				return err
			}
		}
		return nil
	case json.Number:
		rv, ok := r.(json.Number)
		if !ok {
			return fmt.Errorf("%s: want the number %s, got %s", at, pv, show(r))
		}
		if !sameNumber(pv, rv) {
			return fmt.Errorf("%s: want %s (%s), got %s (%s)", at, pv, numberKind(pv), rv, numberKind(rv))
		}
		return nil
	default:
		if p != r {
			return fmt.Errorf("%s: want %s, got %s", at, show(p), show(r))
		}
		return nil
	}
}

func numberKind(n json.Number) string {
	if strings.ContainsAny(string(n), ".eE") {
		return "float"
	}
	return "integer"
}

// sameNumber compares by the protocol's reading: integers exactly, floats
// by their float8 value (bit for bit, so -0.0 is not 0.0).
func sameNumber(a, b json.Number) bool {
	if numberKind(a) != numberKind(b) {
		return false
	}
	if numberKind(a) == "integer" {
		x, ok1 := new(big.Int).SetString(string(a), 10)
		y, ok2 := new(big.Int).SetString(string(b), 10)
		return ok1 && ok2 && x.Cmp(y) == 0
	}
	x, err1 := strconv.ParseFloat(string(a), 64)
	y, err2 := strconv.ParseFloat(string(b), 64)
	return err1 == nil && err2 == nil && math.Float64bits(x) == math.Float64bits(y)
}

func show(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return clip(b)
}

// ReplayFixture replays one fixture over conn, a fresh connection to a
// backend, and returns every mismatch. It stops at the first I/O failure
// (the session is then out of step). It does not close conn.
func ReplayFixture(ctx context.Context, f Fixture, conn net.Conn) error {
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Now()) })
	defer stop()
	r := NewReader(conn)
	var errs []error
	for _, e := range f.Exchanges {
		dl := time.Now().Add(ExchangeTimeout)
		if d, ok := ctx.Deadline(); ok && d.Before(dl) {
			dl = d
		}
		conn.SetDeadline(dl)
		done, err := sendExchange(conn, e)
		if err != nil {
			return errors.Join(append(errs, fmt.Errorf("%s: send: %w", e.where(f.File), err))...)
		}
		if len(e.Expect) > 0 {
			line, err := r.ReadLine()
			if err != nil {
				<-done
				return errors.Join(append(errs, fmt.Errorf("%s: no response: %w", e.where(f.File), err))...)
			}
			if err := Match(e.Expect, line); err != nil {
				errs = append(errs, fmt.Errorf("%s: %v\n  sent:     %s\n  expected: %s\n  got:      %s", e.where(f.File), err, sentText(e), e.Expect, clip(line)))
			}
		}
		if e.ExpectClose {
			line, err := r.ReadLine()
			switch {
			case err == nil:
				errs = append(errs, fmt.Errorf("%s: the backend must close the connection, it sent %s", e.where(f.File), clip(line)))
			case errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET):
				// closed, as it must
			case isTimeout(err):
				errs = append(errs, fmt.Errorf("%s: the backend must close the connection; it was still open at the exchange's deadline", e.where(f.File)))
			default:
				errs = append(errs, fmt.Errorf("%s: the backend must close the connection cleanly: %v", e.where(f.File), err))
			}
			<-done
			return errors.Join(errs...)
		}
		if err := <-done; err != nil {
			return errors.Join(append(errs, fmt.Errorf("%s: send: %w", e.where(f.File), err))...)
		}
	}
	return errors.Join(errs...)
}

// sendExchange writes the exchange's line. A big line is written in the
// background (the backend may answer and close before reading it all);
// done reports the write's error, which only matters when no close is
// expected.
func sendExchange(conn net.Conn, e Exchange) (done <-chan error, err error) {
	ch := make(chan error, 1)
	switch {
	case e.SendBig != nil:
		b, err := e.SendBig.Bytes()
		if err != nil {
			return nil, err
		}
		go func() {
			_, err := conn.Write(b)
			if e.ExpectClose {
				err = nil
			}
			ch <- err
		}()
		return ch, nil
	case e.SendRaw != nil:
		_, err = io.WriteString(conn, *e.SendRaw+"\n")
	default:
		_, err = conn.Write(append(append([]byte(nil), e.Send...), '\n'))
	}
	ch <- nil
	return ch, err
}

func sentText(e Exchange) string {
	switch {
	case e.SendBig != nil:
		return fmt.Sprintf("(%d-byte line starting %q)", e.SendBig.Size, e.SendBig.Head)
	case e.SendRaw != nil:
		return strconv.Quote(*e.SendRaw)
	}
	return clip(e.Send)
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// TB is the part of testing.TB (and of Ginkgo's GinkgoT()) a replay needs.
type TB interface {
	Helper()
	Errorf(format string, args ...any)
}

// ReplayFixtures replays every golden fixture, each on a fresh connection
// from dial, and reports each mismatch through t. A backend must pass all
// of them without a database.
func ReplayFixtures(t TB, dial func(ctx context.Context) (net.Conn, error)) {
	t.Helper()
	fixtures, err := Fixtures()
	if err != nil {
		t.Errorf("golden fixtures: %v", err)
		return
	}
	for _, f := range fixtures {
		if err := replayOne(f, dial); err != nil {
			t.Errorf("fixture %s:\n%v", f.File, err)
		}
	}
}

func replayOne(f Fixture, dial func(ctx context.Context) (net.Conn, error)) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(len(f.Exchanges)+2)*ExchangeTimeout)
	defer cancel()
	conn, err := dial(ctx)
	if err != nil {
		return fmt.Errorf("dial: %w", err)
	}
	defer conn.Close()
	return ReplayFixture(ctx, f, conn)
}
