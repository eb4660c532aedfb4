package server

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/spindle-rt/spindle/internal/config"
	"github.com/spindle-rt/spindle/internal/pbjson"
	"github.com/spindle-rt/spindle/internal/realtime/auth"
	"github.com/spindle-rt/spindle/internal/realtime/node"
	"github.com/spindle-rt/spindle/internal/realtime/protocol"
	"github.com/spindle-rt/spindle/proto/clientpb"
)

const testSecret = "test-secret-key-of-enough-length"

// baseConfig is a config.json every test starts from; extra keys are
// merged over it.
func startServer(t testing.TB, extra map[string]any) *Server {
	t.Helper()
	cfgMap := map[string]any{
		"address":                               "127.0.0.1",
		"port":                                  0,
		"token_hmac_secret_key":                 testSecret,
		"api_key":                               "k",
		"allow_anonymous_connect_without_token": true,
		"health":                                true,
		"allow_subscribe_for_client":            true,
		"allow_subscribe_for_anonymous":         true,
		"allow_publish_for_subscriber":          true,
		"allow_publish_for_anonymous":           true,
		"namespaces": []map[string]any{{
			"name": "chat", "history_size": 10, "history_ttl": "60s", "force_recovery": true,
			"presence": true, "join_leave": true, "force_push_join_leave": true,
			"allow_subscribe_for_client": true, "allow_subscribe_for_anonymous": true,
			"allow_publish_for_subscriber": true, "allow_publish_for_anonymous": true,
			"allow_presence_for_subscriber": true, "allow_presence_for_anonymous": true,
			"allow_history_for_subscriber": true, "allow_history_for_anonymous": true,
		}},
	}
	for k, v := range extra {
		cfgMap[k] = v
	}
	data, err := json.Marshal(cfgMap)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "config.json")
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, _, err := config.Load(config.LoadOptions{File: file})
	if err != nil {
		t.Fatalf("load config: %v", err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	srv, err := New(cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Error("server did not stop within 10s")
		}
	})
	return srv
}

// wsClient speaks the client protocol over a real WebSocket.
type wsClient struct {
	t     *testing.T
	conn  *websocket.Conn
	proto protocol.Type
	in    chan *clientpb.Reply
	err   chan error
	// backlog keeps replies skipped by next, so waiting for one message
	// never loses another that arrived first.
	backlog []*clientpb.Reply
}

func dial(t *testing.T, srv *Server, pt protocol.Type) *wsClient {
	t.Helper()
	url := "ws://" + srv.HTTPAddr() + "/connection/websocket"
	opts := &websocket.DialOptions{}
	if pt == protocol.TypeProtobuf {
		opts.Subprotocols = []string{"centrifuge-protobuf"}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, url, opts)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	conn.SetReadLimit(1 << 20)
	c := &wsClient{t: t, conn: conn, proto: pt, in: make(chan *clientpb.Reply, 1024), err: make(chan error, 1)}
	go c.readLoop()
	t.Cleanup(func() { _ = conn.CloseNow() })
	return c
}

func (c *wsClient) readLoop() {
	for {
		_, data, err := c.conn.Read(context.Background())
		if err != nil {
			c.err <- err
			close(c.in)
			return
		}
		for _, r := range decodeReplies(c.t, c.proto, data) {
			c.in <- r
		}
	}
}

// decodeReplies decodes a server frame: JSON lines or varint-delimited
// protobuf replies.
func decodeReplies(t *testing.T, pt protocol.Type, data []byte) []*clientpb.Reply {
	var out []*clientpb.Reply
	if pt == protocol.TypeJSON {
		for _, line := range bytes.Split(data, []byte("\n")) {
			if len(line) == 0 {
				t.Errorf("empty line in JSON frame %q", data)
				continue
			}
			var r clientpb.Reply
			if err := pbjson.Unmarshal(line, &r); err != nil {
				t.Errorf("decode %q: %v", line, err)
				continue
			}
			out = append(out, &r)
		}
		return out
	}
	for len(data) > 0 {
		n, k := protowire.ConsumeVarint(data)
		if k < 0 || uint64(len(data)-k) < n {
			t.Errorf("bad protobuf frame %x", data)
			return out
		}
		var r clientpb.Reply
		if err := proto.Unmarshal(data[k:k+int(n)], &r); err != nil {
			t.Errorf("decode protobuf reply: %v", err)
		}
		out = append(out, &r)
		data = data[k+int(n):]
	}
	return out
}

func (c *wsClient) send(cmds ...*clientpb.Command) {
	c.t.Helper()
	var frame []byte
	for i, cmd := range cmds {
		if c.proto == protocol.TypeJSON {
			b, err := pbjson.Marshal(cmd)
			if err != nil {
				c.t.Fatal(err)
			}
			if i > 0 {
				frame = append(frame, '\n')
			}
			frame = append(frame, b...)
			continue
		}
		b, err := proto.Marshal(cmd)
		if err != nil {
			c.t.Fatal(err)
		}
		frame = protowire.AppendVarint(frame, uint64(len(b)))
		frame = append(frame, b...)
	}
	msgType := websocket.MessageText
	if c.proto == protocol.TypeProtobuf {
		msgType = websocket.MessageBinary
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.conn.Write(ctx, msgType, frame); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// next returns the next reply matching pred, failing after a timeout.
func (c *wsClient) next(what string, pred func(*clientpb.Reply) bool) *clientpb.Reply {
	c.t.Helper()
	for i, r := range c.backlog {
		if pred(r) {
			c.backlog = append(c.backlog[:i], c.backlog[i+1:]...)
			return r
		}
	}
	deadline := time.After(5 * time.Second)
	for {
		select {
		case r, ok := <-c.in:
			if !ok {
				c.t.Fatalf("waiting for %s: connection closed: %v", what, <-c.err)
			}
			if pred(r) {
				return r
			}
			c.backlog = append(c.backlog, r)
		case <-deadline:
			c.t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func (c *wsClient) reply(id uint32) *clientpb.Reply {
	c.t.Helper()
	return c.next("reply", func(r *clientpb.Reply) bool { return r.Id == id })
}

// closeCode waits for the server to close the connection and returns the
// close code.
func (c *wsClient) closeCode() websocket.StatusCode {
	c.t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case _, ok := <-c.in:
			if !ok {
				err := <-c.err
				code := websocket.CloseStatus(err)
				if code == -1 {
					c.t.Fatalf("connection ended without a close frame: %v", err)
				}
				return code
			}
		case <-deadline:
			c.t.Fatal("timed out waiting for close")
		}
	}
}

func (c *wsClient) connect(token string) *clientpb.ConnectResult {
	c.t.Helper()
	c.send(&clientpb.Command{Id: 1, Connect: &clientpb.ConnectRequest{Token: token, Name: "go-test"}})
	r := c.reply(1)
	if r.Error != nil {
		c.t.Fatalf("connect error: %v", r.Error)
	}
	return r.Connect
}

func bothProtocols(t *testing.T, fn func(t *testing.T, pt protocol.Type)) {
	for _, pt := range []protocol.Type{protocol.TypeJSON, protocol.TypeProtobuf} {
		t.Run(string(pt), func(t *testing.T) { fn(t, pt) })
	}
}

func TestConnectAnonymous(t *testing.T) {
	srv := startServer(t, nil)
	bothProtocols(t, func(t *testing.T, pt protocol.Type) {
		c := dial(t, srv, pt)
		res := c.connect("")
		if res.Client == "" || res.Ping != 25 || !res.Pong {
			t.Fatalf("connect result = %+v, want client id, ping 25, pong true", res)
		}
	})
}

func TestConnectTokens(t *testing.T) {
	srv := startServer(t, map[string]any{"allow_anonymous_connect_without_token": false})
	good, err := auth.GenerateConnectToken(testSecret, "42", time.Hour, nil)
	if err != nil {
		t.Fatal(err)
	}
	expired, err := auth.GenerateConnectToken(testSecret, "42", 0, map[string]any{"exp": time.Now().Add(-time.Minute).Unix()})
	if err != nil {
		t.Fatal(err)
	}
	forged, err := auth.GenerateConnectToken("another-secret-entirely-xxxxxxx", "42", time.Hour, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("valid", func(t *testing.T) {
		c := dial(t, srv, protocol.TypeJSON)
		res := c.connect(good)
		if !res.Expires || res.Ttl == 0 || res.Ttl > 3600 {
			t.Fatalf("connect result = %+v, want expires with ttl <= 3600", res)
		}
	})
	t.Run("expired", func(t *testing.T) {
		c := dial(t, srv, protocol.TypeJSON)
		c.send(&clientpb.Command{Id: 1, Connect: &clientpb.ConnectRequest{Token: expired}})
		if r := c.reply(1); r.Error == nil || r.Error.Code != 109 {
			t.Fatalf("reply = %v, want error 109", r)
		}
	})
	t.Run("forged", func(t *testing.T) {
		c := dial(t, srv, protocol.TypeJSON)
		c.send(&clientpb.Command{Id: 1, Connect: &clientpb.ConnectRequest{Token: forged}})
		if code := c.closeCode(); code != 3500 {
			t.Fatalf("close code = %d, want 3500", code)
		}
	})
	t.Run("no credentials", func(t *testing.T) {
		c := dial(t, srv, protocol.TypeJSON)
		c.send(&clientpb.Command{Id: 1, Connect: &clientpb.ConnectRequest{}})
		if code := c.closeCode(); code != 3501 {
			t.Fatalf("close code = %d, want 3501", code)
		}
	})
}

func TestCommandBeforeConnect(t *testing.T) {
	srv := startServer(t, nil)
	c := dial(t, srv, protocol.TypeJSON)
	c.send(&clientpb.Command{Id: 1, Subscribe: &clientpb.SubscribeRequest{Channel: "news"}})
	if code := c.closeCode(); code != 3501 {
		t.Fatalf("close code = %d, want 3501", code)
	}
}

func TestSubscribePublish(t *testing.T) {
	srv := startServer(t, nil)
	bothProtocols(t, func(t *testing.T, pt protocol.Type) {
		a := dial(t, srv, pt)
		b := dial(t, srv, pt)
		a.connect("")
		b.connect("")
		for _, c := range []*wsClient{a, b} {
			c.send(&clientpb.Command{Id: 2, Subscribe: &clientpb.SubscribeRequest{Channel: "news"}})
			if r := c.reply(2); r.Error != nil || r.Subscribe == nil {
				t.Fatalf("subscribe reply = %v", r)
			}
		}
		a.send(&clientpb.Command{Id: 3, Publish: &clientpb.PublishRequest{Channel: "news", Data: []byte(`{"text":"hi"}`)}})
		if r := a.reply(3); r.Error != nil || r.Publish == nil {
			t.Fatalf("publish reply = %v", r)
		}
		for _, c := range []*wsClient{a, b} {
			p := c.next("publication", func(r *clientpb.Reply) bool { return r.Push != nil && r.Push.Pub != nil })
			if p.Push.Channel != "news" || string(p.Push.Pub.Data) != `{"text":"hi"}` {
				t.Fatalf("push = %v", p.Push)
			}
			if p.Push.Pub.Info == nil || p.Push.Pub.Info.Client == "" {
				t.Fatalf("publication has no publisher info: %v", p.Push.Pub)
			}
		}
	})
}

func TestRecovery(t *testing.T) {
	srv := startServer(t, nil)
	bothProtocols(t, func(t *testing.T, pt protocol.Type) {
		ch := "chat:recovery-" + string(pt)
		c := dial(t, srv, pt)
		c.connect("")
		c.send(&clientpb.Command{Id: 2, Subscribe: &clientpb.SubscribeRequest{Channel: ch}})
		sub := c.reply(2).Subscribe
		if sub == nil || !sub.Recoverable || !sub.Positioned || sub.Epoch == "" {
			t.Fatalf("subscribe result = %v, want recoverable and positioned with an epoch", sub)
		}
		_ = c.conn.CloseNow()

		ctx := context.Background()
		for i := 0; i < 5; i++ {
			if _, err := srv.Node.Publish(ctx, ch, []byte(`{"n":`+string(rune('0'+i))+`}`), node.PublishOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		c2 := dial(t, srv, pt)
		c2.connect("")
		c2.send(&clientpb.Command{Id: 2, Subscribe: &clientpb.SubscribeRequest{Channel: ch, Recover: true, Offset: sub.Offset, Epoch: sub.Epoch}})
		res := c2.reply(2).Subscribe
		if res == nil || !res.Recovered || !res.WasRecovering || len(res.Publications) != 5 {
			t.Fatalf("resubscribe result = %v, want 5 recovered publications", res)
		}
		for i, p := range res.Publications {
			if p.Offset != sub.Offset+uint64(i)+1 {
				t.Fatalf("publication %d offset = %d, want %d", i, p.Offset, sub.Offset+uint64(i)+1)
			}
		}
		// Wrong epoch: not recovered, told honestly.
		c3 := dial(t, srv, pt)
		c3.connect("")
		c3.send(&clientpb.Command{Id: 2, Subscribe: &clientpb.SubscribeRequest{Channel: ch, Recover: true, Offset: 1, Epoch: "other"}})
		res = c3.reply(2).Subscribe
		if res == nil || res.Recovered || len(res.Publications) != 0 || res.Offset != sub.Offset+5 {
			t.Fatalf("resubscribe with a lost epoch = %v, want recovered false at the top offset", res)
		}
	})
}

func TestPingPong(t *testing.T) {
	srv := startServer(t, map[string]any{"ping_interval": "1s", "pong_timeout": "500ms"})
	c := dial(t, srv, protocol.TypeJSON)
	if res := c.connect(""); res.Ping != 1 || !res.Pong {
		t.Fatalf("connect = %v, want ping 1 pong true", res)
	}
	c.next("ping", func(r *clientpb.Reply) bool { return r.Id == 0 && r.Push == nil })
	c.send(&clientpb.Command{})
	c.next("second ping", func(r *clientpb.Reply) bool { return r.Id == 0 && r.Push == nil })
	// No pong this time.
	if code := c.closeCode(); code != 3012 {
		t.Fatalf("close code = %d, want 3012 no pong", code)
	}
}

func TestStrayPong(t *testing.T) {
	srv := startServer(t, nil)
	c := dial(t, srv, protocol.TypeJSON)
	c.connect("")
	c.send(&clientpb.Command{})
	if code := c.closeCode(); code != 3501 {
		t.Fatalf("close code = %d, want 3501", code)
	}
}

func TestJoinLeavePresence(t *testing.T) {
	srv := startServer(t, nil)
	a := dial(t, srv, protocol.TypeJSON)
	a.connect("")
	a.send(&clientpb.Command{Id: 2, Subscribe: &clientpb.SubscribeRequest{Channel: "chat:room"}})
	a.reply(2)
	b := dial(t, srv, protocol.TypeJSON)
	bID := b.connect("").Client
	b.send(&clientpb.Command{Id: 2, Subscribe: &clientpb.SubscribeRequest{Channel: "chat:room"}})
	b.reply(2)
	j := a.next("join", func(r *clientpb.Reply) bool {
		return r.Push != nil && r.Push.Join != nil && r.Push.Join.Info.Client == bID
	})
	if j.Push.Channel != "chat:room" {
		t.Fatalf("join push = %v", j.Push)
	}
	a.send(&clientpb.Command{Id: 3, PresenceStats: &clientpb.PresenceStatsRequest{Channel: "chat:room"}})
	if r := a.reply(3); r.PresenceStats == nil || r.PresenceStats.NumClients != 2 {
		t.Fatalf("presence stats = %v, want 2 clients", r)
	}
	_ = b.conn.CloseNow()
	a.next("leave", func(r *clientpb.Reply) bool {
		return r.Push != nil && r.Push.Leave != nil && r.Push.Leave.Info.Client == bID
	})
}

func TestShutdownDisconnects(t *testing.T) {
	srv := startServer(t, nil)
	c := dial(t, srv, protocol.TypeJSON)
	c.connect("")
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Node.Shutdown(ctx)
	}()
	if code := c.closeCode(); code != 3001 {
		t.Fatalf("close code = %d, want 3001 shutdown", code)
	}
}

func TestHealth(t *testing.T) {
	srv := startServer(t, nil)
	resp, err := http.Get("http://" + srv.HTTPAddr() + "/health")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "{}") {
		t.Fatalf("health = %d %q", resp.StatusCode, body)
	}
}
