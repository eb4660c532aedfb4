package dev

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// wsClient speaks client protocol v2 (JSON) over a raw WebSocket: enough
// of an SDK to drive the demo from Go tests without Node.
type wsClient struct {
	t    *testing.T
	conn *websocket.Conn
	id   int

	mu      sync.Mutex
	replies map[int]chan map[string]json.RawMessage
	pushes  chan map[string]json.RawMessage
}

func dial(t *testing.T, url string) *wsClient {
	t.Helper()
	d := websocket.Dialer{HandshakeTimeout: 3 * time.Second}
	conn, _, err := d.Dial(url, nil)
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	c := &wsClient{t: t, conn: conn, replies: map[int]chan map[string]json.RawMessage{}, pushes: make(chan map[string]json.RawMessage, 100)}
	t.Cleanup(func() { _ = conn.Close() })
	go c.read()
	return c
}

func (c *wsClient) read() {
	for {
		_, data, err := c.conn.ReadMessage()
		if err != nil {
			close(c.pushes)
			return
		}
		for _, line := range bytes.Split(data, []byte("\n")) {
			if len(bytes.TrimSpace(line)) == 0 {
				continue
			}
			var msg map[string]json.RawMessage
			if json.Unmarshal(line, &msg) != nil {
				continue
			}
			var id int
			if raw, ok := msg["id"]; ok {
				_ = json.Unmarshal(raw, &id)
			}
			if id == 0 {
				if len(msg) == 0 { // server ping: answer with an empty command
					_ = c.conn.WriteMessage(websocket.TextMessage, []byte("{}"))
					continue
				}
				c.pushes <- msg
				continue
			}
			c.mu.Lock()
			ch := c.replies[id]
			c.mu.Unlock()
			if ch != nil {
				ch <- msg
			}
		}
	}
}

// call sends one command and waits for its reply (3 s at most). It
// returns the reply's result under key, or the error object.
func (c *wsClient) call(key string, body any) (result json.RawMessage, protoErr *protoError) {
	c.t.Helper()
	c.mu.Lock()
	c.id++
	id := c.id
	ch := make(chan map[string]json.RawMessage, 1)
	c.replies[id] = ch
	c.mu.Unlock()
	cmd, _ := json.Marshal(map[string]any{"id": id, key: body})
	if err := c.conn.WriteMessage(websocket.TextMessage, cmd); err != nil {
		c.t.Fatalf("send %s: %v", key, err)
	}
	select {
	case reply := <-ch:
		if raw, ok := reply["error"]; ok {
			var e protoError
			_ = json.Unmarshal(raw, &e)
			return nil, &e
		}
		return reply[key], nil
	case <-time.After(3 * time.Second):
		c.t.Fatalf("no reply to %s %s", key, cmd)
		return nil, nil
	}
}

type protoError struct {
	Code    uint32 `json:"code"`
	Message string `json:"message"`
}

func (e *protoError) Error() string { return fmt.Sprintf("%d %s", e.Code, e.Message) }

// mustCall is call that fails the test on an error reply.
func (c *wsClient) mustCall(key string, body any) json.RawMessage {
	c.t.Helper()
	res, err := c.call(key, body)
	if err != nil {
		c.t.Fatalf("%s %v: error %v", key, body, err)
	}
	return res
}

// publication waits for the next publication on channel (3 s at most).
func (c *wsClient) publication(channel string) map[string]any {
	c.t.Helper()
	deadline := time.After(3 * time.Second)
	for {
		select {
		case msg, ok := <-c.pushes:
			if !ok {
				c.t.Fatal("connection closed while waiting for a publication")
			}
			var push struct {
				Channel string `json:"channel"`
				Pub     *struct {
					Data map[string]any `json:"data"`
				} `json:"pub"`
			}
			if raw, ok := msg["push"]; ok && json.Unmarshal(raw, &push) == nil && push.Channel == channel && push.Pub != nil {
				return push.Pub.Data
			}
		case <-deadline:
			c.t.Fatalf("no publication on %s", channel)
			return nil
		}
	}
}

func wsURL(httpURL string) string {
	return "ws" + strings.TrimPrefix(httpURL, "http") + "connection/websocket"
}
