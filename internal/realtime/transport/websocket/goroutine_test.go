package websocket

import (
	"runtime"
	"testing"
	"time"
)

// TestOneGoroutinePerConnection checks the transport's budget: the reader
// parks on the HTTP handler goroutine and nothing else is started, and every
// goroutine is gone once the clients leave.
func TestOneGoroutinePerConnection(t *testing.T) {
	const n = 20
	h := newHarness(t, Config{}, nil)
	time.Sleep(20 * time.Millisecond) // let the test server's accept loop start
	base := runtime.NumGoroutine()
	var sessions []*recSession
	clients := make([]interface{ Close() error }, 0, n)
	for i := 0; i < n; i++ {
		c, _ := h.dial(t, "", nil, nil)
		clients = append(clients, c)
		_, s := h.accepted(t)
		sessions = append(sessions, s)
	}
	time.Sleep(50 * time.Millisecond)
	if got := runtime.NumGoroutine() - base; got > n {
		t.Fatalf("%d goroutines for %d idle connections, want at most %d", got, n, n)
	}
	for _, c := range clients {
		_ = c.Close()
	}
	for _, s := range sessions {
		s.waitClosed(t)
	}
	deadline := time.Now().Add(testTimeout)
	for runtime.NumGoroutine() > base {
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines left after all clients closed", runtime.NumGoroutine()-base)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
