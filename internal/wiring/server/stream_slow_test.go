package server

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/spindle-rt/spindle/internal/realtime/node"
)

// A stream whose client stopped reading is cut off (its queue overflows,
// 3008, or a write outlives websocket_write_timeout, 3009) while another
// subscriber of the same channel keeps getting every publication.
func TestStreamClientThatStopsReading(t *testing.T) {
	srv := startServerWith(t, map[string]any{"http_stream": true, "client_queue_max_size": 65536}, Options{})
	addr := srv.HTTPAddr()

	// The stalled client: a tiny receive buffer, and it never reads past
	// the subscribe reply.
	d := net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		return c.Control(func(fd uintptr) { _ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
	}}
	conn, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	body := `{"id":1,"connect":{}}`
	fmt.Fprintf(conn, "POST /connection/http_stream HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", addr, len(body), body)
	r := bufio.NewReader(conn)
	var session, nodeID string
	for session == "" {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if i := strings.Index(line, `{"id":1`); i >= 0 {
			var reply struct {
				Connect struct{ Session, Node string }
			}
			_ = json.Unmarshal([]byte(line[i:]), &reply)
			session, nodeID = reply.Connect.Session, reply.Connect.Node
		}
	}
	sub, _ := json.Marshal(map[string]string{"node": nodeID, "session": session, "data": `{"id":2,"subscribe":{"channel":"news"}}`})
	resp, err := http.Post("http://"+addr+"/emulation", "application/json", strings.NewReader(string(sub)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()

	const n = 1000 // 16 MB: more than the socket buffers of both ends hold
	var got atomic.Int64
	// A reading subscriber on the same channel, over WebSocket.
	c := benchDial(t, addr)
	c.connectSubscribe(t, "news")
	defer c.ws.Close()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			_, data, err := c.ws.ReadMessage()
			if err != nil {
				return
			}
			if got.Add(int64(strings.Count(string(data), `"pub":`))) == n {
				return
			}
		}
	}()
	eventually := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(15 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	eventually("both clients subscribed", func() bool { return srv.Node.NumSubscriptions() == 2 })
	payload := []byte(`{"blob":"` + strings.Repeat("x", 16<<10) + `"}`)
	for i := 0; i < n; i++ {
		if _, err := srv.Node.Publish(context.Background(), "news", payload, node.PublishOptions{}); err != nil {
			t.Fatal(err)
		}
		// In step with the reading subscriber, so only the stalled one
		// falls behind.
		for deadline := time.Now().Add(5 * time.Second); got.Load() < int64(i+1); time.Sleep(50 * time.Microsecond) {
			if time.Now().After(deadline) {
				t.Fatalf("the reading subscriber got %d of %d publications", got.Load(), i+1)
			}
		}
	}
	eventually("the stalled stream to be cut off", func() bool { return srv.Node.NumClients() == 1 })
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		t.Fatalf("the reading subscriber got %d of %d publications", got.Load(), n)
	}
}
