package websocket

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	gws "github.com/gorilla/websocket"
)

const testTimeout = 5 * time.Second

// recSession records what the transport delivers.
type recSession struct {
	frames     chan []byte
	closed     chan struct{}
	closeCount atomic.Int32
	once       sync.Once
	// keep decides HandleFrame's answer; nil keeps the session open.
	keep func(data []byte) bool
}

func newRecSession() *recSession {
	return &recSession{frames: make(chan []byte, 64), closed: make(chan struct{})}
}

func (s *recSession) HandleFrame(data []byte) bool {
	s.frames <- data
	if s.keep != nil {
		return s.keep(data)
	}
	return true
}

func (s *recSession) HandleClose() {
	s.closeCount.Add(1)
	s.once.Do(func() { close(s.closed) })
}

func (s *recSession) waitClosed(t *testing.T) {
	t.Helper()
	select {
	case <-s.closed:
	case <-time.After(testTimeout):
		t.Fatal("HandleClose was not called")
	}
}

func (s *recSession) nextFrame(t *testing.T) []byte {
	t.Helper()
	select {
	case f := <-s.frames:
		return f
	case <-time.After(testTimeout):
		t.Fatal("no frame delivered")
		return nil
	}
}

// harness is a transport handler on 127.0.0.1 whose accepted connections and
// sessions are handed to the test.
type harness struct {
	srv      *httptest.Server
	conns    chan *Conn
	sessions chan *recSession
}

// newHarness serves NewHandler(cfg); when cfg.Accept is nil, every
// connection gets a fresh recSession (configured by prep, if given).
func newHarness(t *testing.T, cfg Config, prep func(*recSession)) *harness {
	t.Helper()
	h := &harness{conns: make(chan *Conn, 16), sessions: make(chan *recSession, 16)}
	if cfg.Accept == nil {
		cfg.Accept = func(c *Conn, _ *http.Request) (Session, error) {
			s := newRecSession()
			if prep != nil {
				prep(s)
			}
			h.conns <- c
			h.sessions <- s
			return s, nil
		}
	}
	h.srv = httptest.NewServer(NewHandler(cfg))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *harness) url(query string) string {
	u := "ws" + strings.TrimPrefix(h.srv.URL, "http") + "/connection/websocket"
	if query != "" {
		u += "?" + query
	}
	return u
}

// dial connects a real gorilla client; the connection is closed at cleanup.
func (h *harness) dial(t *testing.T, query string, subprotocols []string, header http.Header) (*gws.Conn, *http.Response) {
	t.Helper()
	d := gws.Dialer{HandshakeTimeout: testTimeout, Subprotocols: subprotocols}
	c, resp, err := d.Dial(h.url(query), header)
	if err != nil {
		t.Fatalf("dial: %v (resp %v)", err, resp)
	}
	t.Cleanup(func() { _ = c.Close() })
	_ = c.SetReadDeadline(time.Now().Add(testTimeout))
	return c, resp
}

func (h *harness) accepted(t *testing.T) (*Conn, *recSession) {
	t.Helper()
	select {
	case c := <-h.conns:
		return c, <-h.sessions
	case <-time.After(testTimeout):
		t.Fatal("no connection accepted")
		return nil, nil
	}
}

// expectClose reads until the client sees the server's close frame and
// checks its code and reason.
func expectClose(t *testing.T, c *gws.Conn, code int, reason string) {
	t.Helper()
	for {
		_, _, err := c.ReadMessage()
		if err == nil {
			continue
		}
		ce, ok := err.(*gws.CloseError)
		if !ok {
			t.Fatalf("want close %d %q, got %v", code, reason, err)
		}
		if ce.Code != code || ce.Text != reason {
			t.Fatalf("close = %d %q, want %d %q", ce.Code, ce.Text, code, reason)
		}
		return
	}
}
