package websocket

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	gws "github.com/gorilla/websocket"

	"github.com/spindle-rt/spindle/internal/realtime/protocol"
)

// Conn is one WebSocket connection; safe for one writer goroutine plus Close
// from any goroutine.
type Conn struct {
	ws           *gws.Conn
	req          *http.Request
	proto        protocol.Type
	msgType      int
	subprotocol  string
	writeTimeout time.Duration
	closeWait    time.Duration

	// closing is set once a close frame was sent or received, or the
	// connection was dropped: from then on Write fails and incoming data
	// is discarded.
	closing atomic.Bool

	mu        sync.Mutex
	dropTimer *time.Timer // drops TCP if the peer never answers our close
	dropped   bool
}

func newConn(ws *gws.Conn, r *http.Request, proto protocol.Type, subprotocol string, cfg *Config) *Conn {
	c := &Conn{
		ws:           ws,
		req:          r,
		proto:        proto,
		msgType:      gws.TextMessage,
		subprotocol:  subprotocol,
		writeTimeout: cfg.WriteTimeout,
		closeWait:    cfg.CloseWait,
	}
	if proto == protocol.TypeProtobuf {
		c.msgType = gws.BinaryMessage
	}
	// A close from the peer ends writing at once; the library's handler
	// still echoes the close frame.
	echo := ws.CloseHandler()
	ws.SetCloseHandler(func(code int, text string) error {
		c.closing.Store(true)
		return echo(code, text)
	})
	return c
}

// Protocol is the wire format chosen at the handshake, fixed for the
// connection's life.
func (c *Conn) Protocol() protocol.Type { return c.proto }

// Name identifies the transport in connect replies, logs and metrics.
func (c *Conn) Name() string { return "websocket" }

// Subprotocol is the negotiated Sec-WebSocket-Protocol ("" if none).
func (c *Conn) Subprotocol() string { return c.subprotocol }

// Request is the upgrade request, kept so the proxy layer can forward its
// headers, cookies and query; callers must not modify it.
func (c *Conn) Request() *http.Request { return c.req }

// Header is the upgrade request's headers; callers must not modify them.
func (c *Conn) Header() http.Header { return c.req.Header }

// RemoteAddr is the peer's address as seen by the HTTP server.
func (c *Conn) RemoteAddr() string { return c.req.RemoteAddr }

// Write sends one message: a text frame for JSON, a binary frame for
// protobuf. It fails with ErrClosed once the connection is closing and
// gives up after WriteTimeout.
func (c *Conn) Write(frame []byte) error {
	if c.closing.Load() {
		return ErrClosed
	}
	if err := c.ws.SetWriteDeadline(time.Now().Add(c.writeTimeout)); err != nil {
		return fmt.Errorf("websocket set write deadline: %w", err)
	}
	if err := c.ws.WriteMessage(c.msgType, frame); err != nil {
		if errors.Is(err, gws.ErrCloseSent) {
			return ErrClosed
		}
		return fmt.Errorf("websocket write: %w", err)
	}
	return nil
}

// Close sends a close frame with code and reason (truncated to 123 bytes on
// a UTF-8 boundary) and returns without waiting: the reader drops TCP when
// the peer answers, or a timer does after CloseWait. A code that may not be
// sent on the wire drops TCP without a close frame. Only the first call has
// an effect.
func (c *Conn) Close(code int, reason string) error {
	if c.closing.Swap(true) {
		return nil
	}
	payload := closePayload(code, reason)
	if payload == nil {
		c.drop()
		return nil
	}
	err := c.ws.WriteControl(gws.CloseMessage, payload, time.Now().Add(c.writeTimeout))
	if err != nil {
		c.drop()
		if errors.Is(err, gws.ErrCloseSent) || errors.Is(err, net.ErrClosed) {
			return nil
		}
		return fmt.Errorf("websocket close %d: %w", code, err)
	}
	c.mu.Lock()
	if !c.dropped {
		c.dropTimer = time.AfterFunc(c.closeWait, c.drop)
	}
	c.mu.Unlock()
	return nil
}

// drop closes the TCP connection; it is safe to call more than once.
func (c *Conn) drop() {
	c.closing.Store(true)
	c.mu.Lock()
	if c.dropped {
		c.mu.Unlock()
		return
	}
	c.dropped = true
	if c.dropTimer != nil {
		c.dropTimer.Stop()
	}
	c.mu.Unlock()
	_ = c.ws.NetConn().Close()
}
