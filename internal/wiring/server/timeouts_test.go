package server

import (
	"bufio"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/spindle-rt/spindle/internal/wstest"
	"github.com/spindle-rt/spindle/proto/clientpb"
)

// TestHTTPTimeouts (hardening defect 5): the main listener lets go of idle
// keep-alive connections and of request bodies dripped a byte at a time,
// while a WebSocket lives on well past every one of those timeouts.
func TestHTTPTimeouts(t *testing.T) {
	const short = 300 * time.Millisecond
	srv := startServerWith(t, nil, Options{Timeouts: HTTPTimeouts{ReadHeader: short, Read: short, Write: short, Idle: short}})
	// closedWithin reports whether the server closes conn within d.
	closedWithin := func(conn net.Conn, d time.Duration) bool {
		_ = conn.SetReadDeadline(time.Now().Add(d))
		_, err := io.Copy(io.Discard, conn)
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			return false
		}
		return true
	}

	t.Run("idle keep-alive connection is closed", func(t *testing.T) {
		conn, err := net.Dial("tcp", srv.HTTPAddr())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if _, err := io.WriteString(conn, "GET /health HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
		resp, err := bufio.NewReader(conn).ReadString('\n')
		if err != nil || !strings.Contains(resp, "200") {
			t.Fatalf("health: %q %v", resp, err)
		}
		if !closedWithin(conn, 10*short) {
			t.Fatal("an idle keep-alive connection was still open after 10× the idle timeout")
		}
	})

	t.Run("a dripped body is cut off", func(t *testing.T) {
		conn, err := net.Dial("tcp", srv.HTTPAddr())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if _, err := io.WriteString(conn, "POST /api/publish HTTP/1.1\r\nHost: x\r\nX-API-Key: k\r\nContent-Length: 1000\r\n\r\n{"); err != nil {
			t.Fatal(err)
		}
		stop := make(chan struct{})
		defer close(stop)
		go func() { // one byte every 50 ms: far slower than any real client
			for {
				select {
				case <-stop:
					return
				case <-time.After(50 * time.Millisecond):
					if _, err := conn.Write([]byte(" ")); err != nil {
						return
					}
				}
			}
		}()
		if !closedWithin(conn, 10*short) {
			t.Fatal("a body dripped a byte at a time kept the request open past 10× the read timeout")
		}
	})

	t.Run("a WebSocket outlives them all", func(t *testing.T) {
		c := wstest.Dial(t, "ws://"+srv.HTTPAddr()+"/connection/websocket", wstest.Options{Format: wstest.JSON})
		c.Connect("")
		time.Sleep(5 * short) // past the read, write and idle timeouts
		rep := c.Call(&clientpb.Command{Subscribe: &clientpb.SubscribeRequest{Channel: "chat:timeouts"}})
		if rep.Error != nil || rep.Subscribe == nil {
			t.Fatalf("subscribe after the HTTP timeouts passed: %v", rep)
		}
		time.Sleep(5 * short)
		rep = c.Call(&clientpb.Command{Presence: &clientpb.PresenceRequest{Channel: "chat:timeouts"}})
		if rep.Error != nil || len(rep.GetPresence().GetPresence()) != 1 {
			t.Fatalf("presence after the HTTP timeouts passed again: %v", rep)
		}
	})
}
