package protocol

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"
)

// Client is one TCP connection to a backend. Calls from many goroutines
// share it: each request carries an id and waits for the response with
// that id, in whatever order the backend answers.
type Client struct {
	name string // the backend, for error messages
	addr string
	conn net.Conn

	wmu sync.Mutex // one writer at a time

	mu      sync.Mutex
	nextID  uint64
	pending map[uint64]chan Response
	dead    error // set once the connection is gone
	done    chan struct{}
}

// BackendError wraps every failure that is not the backend's own answer:
// the connection is gone, a response was malformed, the caller gave up.
type BackendError struct {
	Backend string
	Method  string
	Err     error
}

func (e *BackendError) Error() string {
	return fmt.Sprintf("backend %s: %s: %v", e.Backend, e.Method, e.Err)
}

func (e *BackendError) Unwrap() error { return e.Err }

// CallError is the backend's error answer to a call, naming the backend.
type CallError struct {
	Backend string
	Method  string
	Err     *Error
}

func (e *CallError) Error() string {
	return fmt.Sprintf("%s (backend %s, %s)", e.Err.Error(), e.Backend, e.Method)
}

// SQLState makes adapter.SQLState read the server's code.
func (e *CallError) SQLState() string { return e.Err.SQLState }

// Category is the backend's error category.
func (e *CallError) Category() string { return e.Err.Category }

// Unwrap gives the protocol error.
func (e *CallError) Unwrap() error { return e.Err }

// IsCategory reports whether err is a backend's error answer of category
// cat (e.g. CategoryUnsupported for an optional method it cannot do).
func IsCategory(err error, cat string) bool {
	var ce *CallError
	return errors.As(err, &ce) && ce.Category() == cat
}

// ErrClosed is the cause when the client was closed by its owner.
var ErrClosed = errors.New("client closed")

// Dial connects to a backend at addr (host:port) within ctx. name labels
// errors ("python backend at 172.18.0.3:7687").
func Dial(ctx context.Context, name, addr string) (*Client, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, &BackendError{Backend: name, Method: "connect", Err: err}
	}
	return NewClient(name, addr, conn), nil
}

// NewClient runs the protocol over an established connection.
func NewClient(name, addr string, conn net.Conn) *Client {
	c := &Client{name: name, addr: addr, conn: conn, pending: map[uint64]chan Response{}, done: make(chan struct{})}
	go c.readLoop()
	return c
}

// Name is the backend's label.
func (c *Client) Name() string { return c.name }

// Addr is the backend's address.
func (c *Client) Addr() string { return c.addr }

func (c *Client) readLoop() {
	r := NewReader(c.conn)
	var err error
	for {
		var line []byte
		line, err = r.ReadLine()
		if err != nil {
			break
		}
		resp, perr := ParseResponse(line)
		if perr != nil {
			err = perr
			break
		}
		if resp.ID == nil {
			// An error about a request the backend could not read: nobody
			// can be matched; the protocol is out of step.
			err = fmt.Errorf("backend reported an unreadable request: %s", resp.Error.Message)
			break
		}
		c.mu.Lock()
		ch, ok := c.pending[*resp.ID]
		delete(c.pending, *resp.ID)
		c.mu.Unlock()
		if ok {
			ch <- resp
		}
		// A response nobody waits for answers a call whose caller gave up.
	}
	c.fail(fmt.Errorf("connection lost: %w", err))
}

// fail marks the client dead and fails every pending call with err.
func (c *Client) fail(err error) {
	c.mu.Lock()
	if c.dead == nil {
		c.dead = err
		close(c.done)
	}
	pend := c.pending
	c.pending = map[uint64]chan Response{}
	c.mu.Unlock()
	c.conn.Close()
	for _, ch := range pend {
		close(ch)
	}
}

// Err is why the client is dead, or nil.
func (c *Client) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.dead
}

// Close ends the connection; pending calls fail.
func (c *Client) Close() error {
	c.fail(ErrClosed)
	return nil
}

// Call sends method with params and decodes the result into result (when
// not nil). It returns when the response arrives, ctx ends (the backend is
// then asked to cancel the request) or the connection is lost.
func (c *Client) Call(ctx context.Context, method string, params any, result any) error {
	raw, err := json.Marshal(params)
	if err != nil {
		return &BackendError{Backend: c.name, Method: method, Err: fmt.Errorf("encode params: %w", err)}
	}
	if params == nil {
		raw = nil
	}
	ch := make(chan Response, 1)
	c.mu.Lock()
	if c.dead != nil {
		err := c.dead
		c.mu.Unlock()
		return &BackendError{Backend: c.name, Method: method, Err: err}
	}
	c.nextID++
	id := c.nextID
	c.pending[id] = ch
	c.mu.Unlock()

	req := Request{ID: id, Method: method, Params: raw}
	if dl, ok := ctx.Deadline(); ok {
		req.TimeoutMS = max(1, time.Until(dl).Milliseconds())
	}
	if err := c.send(ctx, req); err != nil {
		c.forget(id)
		return &BackendError{Backend: c.name, Method: method, Err: err}
	}
	select {
	case resp, ok := <-ch:
		if !ok {
			return &BackendError{Backend: c.name, Method: method, Err: c.Err()}
		}
		if resp.Error != nil {
			return &CallError{Backend: c.name, Method: method, Err: resp.Error}
		}
		if result != nil {
			if err := json.Unmarshal(resp.Result, result); err != nil {
				return &BackendError{Backend: c.name, Method: method, Err: fmt.Errorf("malformed result %s: %v", clip(resp.Result), err)}
			}
		}
		return nil
	case <-ctx.Done():
		c.forget(id)
		go c.cancel(id)
		return &BackendError{Backend: c.name, Method: method, Err: ctx.Err()}
	}
}

func (c *Client) forget(id uint64) {
	c.mu.Lock()
	delete(c.pending, id)
	c.mu.Unlock()
}

// cancel asks the backend to stop request id; best effort.
func (c *Client) cancel(id uint64) {
	ctx, done := context.WithTimeout(context.Background(), 5*time.Second)
	defer done()
	_ = c.Call(ctx, MethodCancel, CancelParams{Request: id}, nil)
}

func (c *Client) send(ctx context.Context, req Request) error {
	b, err := Marshal(req)
	if err != nil {
		return err
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if dl, ok := ctx.Deadline(); ok {
		c.conn.SetWriteDeadline(dl)
	} else {
		c.conn.SetWriteDeadline(time.Time{})
	}
	if _, err := c.conn.Write(b); err != nil {
		c.fail(fmt.Errorf("write: %w", err))
		return err
	}
	return nil
}
