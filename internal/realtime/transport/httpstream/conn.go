package httpstream

import (
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/spindle-rt/spindle/internal/realtime/protocol"
	"github.com/spindle-rt/spindle/proto/clientpb"
)

// Kind is which of the two emulated transports a stream is.
type Kind uint8

// The emulated transports, named as proxies see them.
const (
	HTTPStream Kind = iota
	SSE
)

func (k Kind) String() string {
	if k == SSE {
		return "sse"
	}
	return "http_stream"
}

// ErrClosed is returned by writes after the stream has ended.
var ErrClosed = errors.New("httpstream: stream closed")

// codeConnectionClosed is the disconnect the node uses when the client
// went away; nobody is left to tell, so nothing is written for it.
const codeConnectionClosed = 3000

// Conn is one emulated connection's stream: the node's Transport for it.
// Writes come from the node's single writer goroutine, Close from any;
// mu makes each batch one write and flush and keeps writes from outliving
// the HTTP handler.
type Conn struct {
	kind         Kind
	uni          bool // unidirectional: bare pushes, no emulation endpoint
	proto        protocol.Type
	req          *http.Request
	writeTimeout time.Duration

	mu    sync.Mutex
	w     http.ResponseWriter
	rc    *http.ResponseController
	ended bool // the handler returned, a write failed, or Close ran
	buf   []byte

	closeOnce sync.Once
	done      chan struct{} // closed by Close: the handler may return
}

func newConn(kind Kind, proto protocol.Type, w http.ResponseWriter, r *http.Request, writeTimeout time.Duration) *Conn {
	return &Conn{kind: kind, proto: proto, req: r, w: w, rc: http.NewResponseController(w), writeTimeout: writeTimeout, done: make(chan struct{})}
}

// Name is "http_stream", "sse", "uni_http_stream" or "uni_sse".
func (c *Conn) Name() string {
	if c.uni {
		return "uni_" + c.kind.String()
	}
	return c.kind.String()
}

// Protocol is JSON, or Protobuf for an HTTP-stream asked for with
// Content-Type application/octet-stream.
func (c *Conn) Protocol() protocol.Type { return c.proto }

// Emulated is true for the bidirectional streams: commands after connect
// arrive through the emulation endpoint, so the node gives this
// connection a session.
func (c *Conn) Emulated() bool { return !c.uni }

// Unidirectional is true for uni_sse and uni_http_stream: the client sent
// its connect request and receives bare pushes.
func (c *Conn) Unidirectional() bool { return c.uni }

// Request is the stream's request (its headers are what proxies forward);
// callers must not modify it.
func (c *Conn) Request() *http.Request { return c.req }

// Write sends one encoded reply.
func (c *Conn) Write(frame []byte) error { return c.WriteBatch([][]byte{frame}) }

// WriteBatch frames each reply for the stream, and writes and flushes them
// at once under the write timeout. Protobuf readers throw on a truncated
// reply, so a batch is never split across writes.
func (c *Conn) WriteBatch(items [][]byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ended {
		return ErrClosed
	}
	c.buf = c.frame(c.buf[:0], items)
	if err := c.writeLocked(c.buf); err != nil {
		c.ended = true
		return err
	}
	if cap(c.buf) > 64<<10 {
		c.buf = nil
	}
	return nil
}

// frame appends items in the stream's framing to dst.
func (c *Conn) frame(dst []byte, items [][]byte) []byte {
	for _, it := range items {
		switch {
		case c.kind == SSE:
			dst = append(dst, "data: "...)
			dst = append(dst, it...)
			dst = append(dst, "\n\n"...)
		case c.proto == protocol.TypeProtobuf:
			dst = append(dst, it...) // already length-prefixed
		default:
			dst = append(dst, it...)
			dst = append(dst, '\n')
		}
	}
	return dst
}

// writeLocked writes and flushes b; callers hold c.mu.
func (c *Conn) writeLocked(b []byte) error {
	if err := c.rc.SetWriteDeadline(time.Now().Add(c.writeTimeout)); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return fmt.Errorf("%s set write deadline: %w", c.kind, err)
	}
	if _, err := c.w.Write(b); err != nil {
		return fmt.Errorf("%s write: %w", c.kind, err)
	}
	if err := c.rc.Flush(); err != nil {
		return fmt.Errorf("%s flush: %w", c.kind, err)
	}
	return nil
}

// Close sends the disconnect as a push (there is no close frame on these
// transports) and lets the handler end the response. Nothing is written
// when the client itself went away. Only the first call has an effect.
func (c *Conn) Close(code int, reason string) error {
	var err error
	c.closeOnce.Do(func() {
		defer close(c.done)
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.ended {
			return
		}
		c.ended = true
		if code == codeConnectionClosed {
			return
		}
		push := &clientpb.Push{Disconnect: &clientpb.Disconnect{Code: uint32(code), Reason: reason}}
		var b []byte
		if c.uni {
			b, err = protocol.EncodePush(c.proto, push)
		} else {
			b, err = protocol.EncodeReply(c.proto, &clientpb.Reply{Push: push})
		}
		if err != nil {
			err = fmt.Errorf("%s encode disconnect %d: %w", c.kind, code, err)
			return
		}
		c.buf = c.frame(c.buf[:0], [][]byte{b})
		err = c.writeLocked(c.buf)
	})
	return err
}

// finish is called when the handler returns: it waits for a write in
// progress and refuses every later one, since the response writer is no
// longer valid.
func (c *Conn) finish() {
	c.mu.Lock()
	c.ended = true
	c.w = nil
	c.mu.Unlock()
}
