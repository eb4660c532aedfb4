package server

import (
	"net/http"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/spindle-rt/spindle/internal/wstest"
)

// dialStatus opens a WebSocket and returns the HTTP status of the upgrade
// (101 when it went through), closing the connection when it does.
func dialStatus(t *testing.T, url string) int {
	t.Helper()
	d := websocket.Dialer{HandshakeTimeout: 5 * time.Second}
	ws, resp, err := d.Dial(url, nil)
	if err == nil {
		ws.Close()
		return http.StatusSwitchingProtocols
	}
	if resp == nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	return resp.StatusCode
}

// TestConnectionLimit: past client_connection_limit connected clients, a
// new connection gets 503 before the upgrade; a slot freed lets one in.
func TestConnectionLimit(t *testing.T) {
	srv := startServerWith(t, map[string]any{"client_connection_limit": 2}, Options{})
	url := "ws://" + srv.HTTPAddr() + "/connection/websocket"
	a := wstest.Dial(t, url, wstest.Options{Format: wstest.JSON})
	a.Connect("")
	b := wstest.Dial(t, url, wstest.Options{Format: wstest.JSON})
	b.Connect("")
	if got := dialStatus(t, url); got != http.StatusServiceUnavailable {
		t.Fatalf("third connection: HTTP %d, want 503", got)
	}
	a.CloseNow()
	deadline := time.Now().Add(5 * time.Second)
	for dialStatus(t, url) != http.StatusSwitchingProtocols {
		if time.Now().After(deadline) {
			t.Fatal("a freed slot never let a new connection in")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestConnectionRateLimit: client_connection_rate_limit N lets N new
// connections through at once, then refuses with 503 until tokens refill.
func TestConnectionRateLimit(t *testing.T) {
	srv := startServerWith(t, map[string]any{"client_connection_rate_limit": 3}, Options{})
	url := "ws://" + srv.HTTPAddr() + "/connection/websocket"
	for i := 0; i < 3; i++ {
		if got := dialStatus(t, url); got != http.StatusSwitchingProtocols {
			t.Fatalf("connection %d of the burst: HTTP %d", i+1, got)
		}
	}
	if got := dialStatus(t, url); got != http.StatusServiceUnavailable {
		t.Fatalf("fourth connection in the same second: HTTP %d, want 503", got)
	}
	time.Sleep(400 * time.Millisecond) // one token back at 3 per second
	if got := dialStatus(t, url); got != http.StatusSwitchingProtocols {
		t.Fatalf("after a refill: HTTP %d", got)
	}
}
