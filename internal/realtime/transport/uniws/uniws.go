// Package uniws is the unidirectional WebSocket transport
// (/connection/uni_websocket): the client sends one connect request — in
// the cf_connect query parameter, or else as its first message — and then
// only reads, one bare push per text message. It is a thin adapter over
// the websocket package: same upgrade, origin check, size limit, write
// deadline and close handshake.
package uniws

import (
	"fmt"
	"net/http"

	"github.com/spindle-rt/spindle/internal/realtime/protocol"
	"github.com/spindle-rt/spindle/internal/realtime/transport/websocket"
	"github.com/spindle-rt/spindle/proto/clientpb"
)

// Session is the node's client as this transport drives it.
type Session interface {
	ConnectUnidirectional(req *clientpb.ConnectRequest) bool
	HandleClose()
}

// Config of the endpoint: WebSocket holds the shared WebSocket settings
// (its Accept and CheckRequest are set here); Accept attaches a new
// connection to the node.
type Config struct {
	WebSocket websocket.Config
	Accept    func(c *Conn, r *http.Request) (Session, error)
}

// Conn is a unidirectional WebSocket as the node sees it.
type Conn struct{ *websocket.Conn }

// Name is the transport name proxies see.
func (c *Conn) Name() string { return "uni_websocket" }

// Protocol is JSON: the unidirectional WebSocket carries JSON only.
func (c *Conn) Protocol() protocol.Type { return protocol.TypeJSON }

// Unidirectional is always true.
func (c *Conn) Unidirectional() bool { return true }

// WriteBatch sends each push as a message of its own.
func (c *Conn) WriteBatch(items [][]byte) error {
	for _, it := range items {
		if err := c.Conn.Write(it); err != nil {
			return err
		}
	}
	return nil
}

// Close (called by the node's writer, like Write) sends the disconnect as a push first, as Centrifugo does on this
// transport (a client reading with a plain WebSocket library may never
// look at the close frame), then the close frame with the same code.
func (c *Conn) Close(code int, reason string) error {
	if code != 3000 {
		if push, err := protocol.EncodePush(protocol.TypeJSON, &clientpb.Push{Disconnect: &clientpb.Disconnect{Code: uint32(code), Reason: reason}}); err == nil {
			_ = c.Conn.Write(push)
		}
	}
	return c.Conn.Close(code, reason)
}

// NewHandler returns the endpoint.
func NewHandler(cfg Config) http.Handler {
	ws := cfg.WebSocket
	ws.CheckRequest = func(r *http.Request) error {
		if q := r.URL.Query(); q.Has("cf_connect") {
			if _, err := protocol.DecodeConnectRequest(protocol.TypeJSON, []byte(q.Get("cf_connect"))); err != nil {
				return fmt.Errorf("bad cf_connect: %w", err)
			}
		}
		return nil
	}
	ws.Accept = func(c *websocket.Conn, r *http.Request) (websocket.Session, error) {
		if cfg.Accept == nil {
			return nil, fmt.Errorf("uni_websocket: no Accept function")
		}
		uc := &Conn{Conn: c}
		sess, err := cfg.Accept(uc, r)
		if err != nil {
			return nil, err
		}
		s := &session{c: uc, sess: sess}
		if q := r.URL.Query(); q.Has("cf_connect") {
			s.started = true
			req, _ := protocol.DecodeConnectRequest(protocol.TypeJSON, []byte(q.Get("cf_connect")))
			sess.ConnectUnidirectional(req)
		}
		return s, nil
	}
	return websocket.NewHandler(ws)
}

// session turns the first message into the connect request and ignores
// any later one: nothing a unidirectional client sends means anything.
type session struct {
	c       *Conn
	sess    Session
	started bool
}

func (s *session) HandleFrame(data []byte) bool {
	if s.started {
		return true
	}
	s.started = true
	req, err := protocol.DecodeConnectRequest(protocol.TypeJSON, data)
	if err != nil {
		// Straight to the close frame: the writer may be running, and only
		// it may write messages.
		_ = s.c.Conn.Close(3501, "bad request")
		return false
	}
	return s.sess.ConnectUnidirectional(req)
}

func (s *session) HandleClose() { s.sess.HandleClose() }
