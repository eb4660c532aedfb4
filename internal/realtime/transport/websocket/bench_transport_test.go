package websocket

// Cost of this transport (not just the library): per idle connection and
// per echoed message. Re-run with:
//
//	go test -run '^$' -bench 'Transport' -benchmem ./transport/websocket/

import (
	"net/http"
	"testing"

	gws "github.com/gorilla/websocket"
)

// idleSession parks the connection without touching incoming data.
type idleSession struct{}

func (s idleSession) HandleFrame([]byte) bool { return true }
func (s idleSession) HandleClose()            {}

// echoSession writes every message back, as the node's writer would.
type echoSession struct{ c *Conn }

func (s echoSession) HandleFrame(p []byte) bool { return s.c.Write(p) == nil }
func (s echoSession) HandleClose()              {}

func BenchmarkTransportIdle(b *testing.B) {
	var s *benchServer
	handler := NewHandler(Config{Accept: func(*Conn, *http.Request) (Session, error) {
		s.parked()
		return idleSession{}, nil
	}})
	s = startBenchServer(b, func(_ *benchServer, w http.ResponseWriter, r *http.Request) {
		handler.ServeHTTP(w, r)
	})
	benchIdle(b, s, "")
}

func BenchmarkTransportEcho(b *testing.B) {
	handler := NewHandler(Config{Accept: func(c *Conn, _ *http.Request) (Session, error) {
		return echoSession{c: c}, nil
	}})
	s := startBenchServer(b, func(_ *benchServer, w http.ResponseWriter, r *http.Request) {
		handler.ServeHTTP(w, r)
	})
	c, _, err := gws.DefaultDialer.Dial(s.url("ws", "format=protobuf"), nil)
	if err != nil {
		b.Fatalf("dial: %v", err)
	}
	defer c.Close()
	msg := make([]byte, 100)
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := c.WriteMessage(gws.BinaryMessage, msg); err != nil {
			b.Fatalf("write: %v", err)
		}
		if _, p, err := c.ReadMessage(); err != nil || len(p) != len(msg) {
			b.Fatalf("read: %d bytes, %v", len(p), err)
		}
	}
}
