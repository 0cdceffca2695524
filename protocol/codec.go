// Package protocol is the Go side of the remote backend protocol
// (PROTOCOL.md at the repository's top): newline-delimited JSON requests and
// responses over TCP, matched by id, with a typed value encoding for what
// JSON cannot carry exactly. The remote adapter and the protocol specs use
// it; a Go backend could too.
package protocol

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// Version is the protocol version this package speaks (hello's "protocol").
const Version = 1

// MaxMessage is the largest message, newline included, either side accepts.
const MaxMessage = 16 << 20

// ErrTooLarge is returned for a message over the size limit.
var ErrTooLarge = fmt.Errorf("message exceeds the %d-byte limit", MaxMessage)

// Request is one call.
type Request struct {
	ID     uint64          `json:"id"`
	Method string          `json:"method"`
	Params json.RawMessage `json:"params,omitempty"`
	// TimeoutMS is the caller's remaining deadline; 0 means none.
	TimeoutMS int64 `json:"timeout_ms,omitempty"`
}

// Response answers the request with the same id: Result or Error.
type Response struct {
	ID     *uint64         `json:"id"`
	Result json.RawMessage `json:"result,omitempty"`
	Error  *Error          `json:"error,omitempty"`
}

// Error categories.
const (
	CategoryConnection     = "connection"
	CategoryAuthentication = "authentication"
	CategorySQL            = "sql"
	CategoryTimeout        = "timeout"
	CategoryMisuse         = "misuse"
	CategoryProtocol       = "protocol"
	CategoryUnsupported    = "unsupported"
)

// Categories lists every valid error category.
var Categories = []string{CategoryConnection, CategoryAuthentication, CategorySQL, CategoryTimeout, CategoryMisuse, CategoryProtocol, CategoryUnsupported}

// Error is a failed call as the backend reports it.
type Error struct {
	Category string `json:"category"`
	SQLState string `json:"sqlstate,omitempty"`
	Message  string `json:"message"`
	// Type is the backend's exception class, for diagnosis.
	Type string `json:"type,omitempty"`
}

func (e *Error) Error() string {
	s := e.Category + " error"
	if e.SQLState != "" {
		s += " (SQLSTATE " + e.SQLState + ")"
	}
	return s + ": " + e.Message
}

// Reader reads messages, one per line, refusing lines over MaxMessage.
type Reader struct {
	r   *bufio.Reader
	max int
}

// NewReader reads from r with the standard size limit.
func NewReader(r io.Reader) *Reader { return NewReaderSize(r, MaxMessage) }

// NewReaderSize reads from r with a size limit of max bytes per message.
func NewReaderSize(r io.Reader, max int) *Reader {
	return &Reader{r: bufio.NewReaderSize(r, 64<<10), max: max}
}

// ReadLine returns the next message without its newline. After
// ErrTooLarge the stream is out of step; close it.
func (r *Reader) ReadLine() ([]byte, error) {
	var buf []byte
	for {
		chunk, err := r.r.ReadSlice('\n')
		if len(buf)+len(chunk) > r.max {
			return nil, ErrTooLarge
		}
		buf = append(buf, chunk...)
		switch {
		case err == nil:
			return bytes.TrimRight(buf, "\r\n"), nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF) && len(buf) > 0:
			return nil, fmt.Errorf("connection closed in the middle of a message (%d bytes without a newline)", len(buf))
		default:
			return nil, err
		}
	}
}

// ReadResponse reads and validates one response.
func (r *Reader) ReadResponse() (Response, error) {
	line, err := r.ReadLine()
	if err != nil {
		return Response{}, err
	}
	return ParseResponse(line)
}

// ParseResponse validates one response line: an id (null only for errors
// about unreadable requests) and exactly one of result and error.
func ParseResponse(line []byte) (Response, error) {
	var resp Response
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	if err := dec.Decode(&resp); err != nil {
		return resp, fmt.Errorf("malformed response %q: %v", clip(line), err)
	}
	if dec.More() {
		return resp, fmt.Errorf("malformed response %q: more than one JSON value on the line", clip(line))
	}
	hasResult := len(resp.Result) > 0
	switch {
	case hasResult && resp.Error != nil:
		return resp, fmt.Errorf("malformed response %q: both result and error", clip(line))
	case !hasResult && resp.Error == nil:
		return resp, fmt.Errorf("malformed response %q: neither result nor error", clip(line))
	case resp.ID == nil && resp.Error == nil:
		return resp, fmt.Errorf("malformed response %q: a result without an id", clip(line))
	case resp.Error != nil && !validCategory(resp.Error.Category):
		return resp, fmt.Errorf("malformed response %q: unknown error category %q", clip(line), resp.Error.Category)
	}
	return resp, nil
}

// ParseRequest validates one request line.
func ParseRequest(line []byte) (Request, error) {
	var req Request
	if err := json.Unmarshal(line, &req); err != nil {
		return req, fmt.Errorf("malformed request %q: %v", clip(line), err)
	}
	if req.Method == "" {
		return req, fmt.Errorf("malformed request %q: no method", clip(line))
	}
	return req, nil
}

func validCategory(c string) bool {
	for _, x := range Categories {
		if x == c {
			return true
		}
	}
	return false
}

// Marshal encodes a message as one line, newline included, refusing one
// over MaxMessage.
func Marshal(msg any) ([]byte, error) {
	b, err := json.Marshal(msg)
	if err != nil {
		return nil, err
	}
	if len(b)+1 > MaxMessage {
		return nil, fmt.Errorf("%w (%d bytes)", ErrTooLarge, len(b)+1)
	}
	return append(b, '\n'), nil
}
