package server

import (
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

	"github.com/spindle-rt/spindle/internal/config"
	"github.com/spindle-rt/spindle/internal/realtime/auth"
	"github.com/spindle-rt/spindle/internal/realtime/node"
	"github.com/spindle-rt/spindle/internal/wstest"
	"github.com/spindle-rt/spindle/proto/clientpb"
)

const testSecret = "test-secret-key-of-enough-length"

// baseConfig is a config.json every test starts from; extra keys are
// merged over it.
func startServer(t testing.TB, extra map[string]any) *Server {
	t.Helper()
	return startServerWith(t, extra, Options{})
}

// startServerWith is startServer with wiring options.
func startServerWith(t testing.TB, extra map[string]any, opts Options) *Server {
	t.Helper()
	return startServerLogged(t, extra, opts, nil)
}

// startServerLogged is startServerWith logging to logTo (when not nil).
func startServerLogged(t testing.TB, extra map[string]any, opts Options, logTo io.Writer) *Server {
	t.Helper()
	srv := newTestServer(t, extra, opts, logTo)
	stop, done := serve(t, srv)
	t.Cleanup(func() {
		stop()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Error("server did not stop within 10s")
		}
	})
	return srv
}

func discardLog() *slog.Logger { return slog.New(slog.DiscardHandler) }

// testConfig loads the tests' base config.json with extra keys merged over
// it.
func testConfig(t testing.TB, extra map[string]any) *config.Config {
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
	return cfg
}

// newTestServer builds and binds, but does not serve, a server on the
// tests' config; its log goes to logTo when not nil.
func newTestServer(t testing.TB, extra map[string]any, opts Options, logTo io.Writer) *Server {
	t.Helper()
	var log *slog.Logger
	switch {
	case logTo != nil:
		log = slog.New(slog.NewTextHandler(logTo, nil))
	case testing.Verbose():
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	default:
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	srv, err := NewWithOptions(testConfig(t, extra), log, opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Listen(); err != nil {
		t.Fatal(err)
	}
	return srv
}

// dial opens a client connection to srv's WebSocket endpoint in format f.
func dial(t *testing.T, srv *Server, f wstest.Format) *wstest.Client {
	t.Helper()
	return wstest.Dial(t, "ws://"+srv.HTTPAddr()+"/connection/websocket", wstest.Options{Format: f})
}

func bothProtocols(t *testing.T, fn func(t *testing.T, pt wstest.Format)) {
	for _, pt := range []wstest.Format{wstest.JSON, wstest.Protobuf} {
		t.Run(string(pt), func(t *testing.T) { fn(t, pt) })
	}
}

func TestConnectAnonymous(t *testing.T) {
	srv := startServer(t, nil)
	bothProtocols(t, func(t *testing.T, pt wstest.Format) {
		c := dial(t, srv, pt)
		res := c.Connect("")
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
		c := dial(t, srv, wstest.JSON)
		res := c.Connect(good)
		if !res.Expires || res.Ttl == 0 || res.Ttl > 3600 {
			t.Fatalf("connect result = %+v, want expires with ttl <= 3600", res)
		}
	})
	t.Run("expired", func(t *testing.T) {
		c := dial(t, srv, wstest.JSON)
		c.Send(&clientpb.Command{Id: 1, Connect: &clientpb.ConnectRequest{Token: expired}})
		if r := c.Reply(1); r.Error == nil || r.Error.Code != 109 {
			t.Fatalf("reply = %v, want error 109", r)
		}
	})
	t.Run("forged", func(t *testing.T) {
		c := dial(t, srv, wstest.JSON)
		c.Send(&clientpb.Command{Id: 1, Connect: &clientpb.ConnectRequest{Token: forged}})
		if code := c.CloseCode(); code != 3500 {
			t.Fatalf("close code = %d, want 3500", code)
		}
	})
	t.Run("no credentials", func(t *testing.T) {
		c := dial(t, srv, wstest.JSON)
		c.Send(&clientpb.Command{Id: 1, Connect: &clientpb.ConnectRequest{}})
		if code := c.CloseCode(); code != 3501 {
			t.Fatalf("close code = %d, want 3501", code)
		}
	})
}

func TestCommandBeforeConnect(t *testing.T) {
	srv := startServer(t, nil)
	c := dial(t, srv, wstest.JSON)
	c.Send(&clientpb.Command{Id: 1, Subscribe: &clientpb.SubscribeRequest{Channel: "news"}})
	if code := c.CloseCode(); code != 3501 {
		t.Fatalf("close code = %d, want 3501", code)
	}
}

func TestSubscribePublish(t *testing.T) {
	srv := startServer(t, nil)
	bothProtocols(t, func(t *testing.T, pt wstest.Format) {
		a := dial(t, srv, pt)
		b := dial(t, srv, pt)
		a.Connect("")
		b.Connect("")
		for _, c := range []*wstest.Client{a, b} {
			c.Send(&clientpb.Command{Id: 2, Subscribe: &clientpb.SubscribeRequest{Channel: "news"}})
			if r := c.Reply(2); r.Error != nil || r.Subscribe == nil {
				t.Fatalf("subscribe reply = %v", r)
			}
		}
		a.Send(&clientpb.Command{Id: 3, Publish: &clientpb.PublishRequest{Channel: "news", Data: []byte(`{"text":"hi"}`)}})
		if r := a.Reply(3); r.Error != nil || r.Publish == nil {
			t.Fatalf("publish reply = %v", r)
		}
		for _, c := range []*wstest.Client{a, b} {
			p := c.Next("publication", func(r *clientpb.Reply) bool { return r.Push != nil && r.Push.Pub != nil })
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
	bothProtocols(t, func(t *testing.T, pt wstest.Format) {
		ch := "chat:recovery-" + string(pt)
		c := dial(t, srv, pt)
		c.Connect("")
		c.Send(&clientpb.Command{Id: 2, Subscribe: &clientpb.SubscribeRequest{Channel: ch}})
		sub := c.Reply(2).Subscribe
		if sub == nil || !sub.Recoverable || !sub.Positioned || sub.Epoch == "" {
			t.Fatalf("subscribe result = %v, want recoverable and positioned with an epoch", sub)
		}
		c.CloseNow()

		ctx := context.Background()
		for i := 0; i < 5; i++ {
			if _, err := srv.Node.Publish(ctx, ch, []byte(`{"n":`+string(rune('0'+i))+`}`), node.PublishOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		c2 := dial(t, srv, pt)
		c2.Connect("")
		c2.Send(&clientpb.Command{Id: 2, Subscribe: &clientpb.SubscribeRequest{Channel: ch, Recover: true, Offset: sub.Offset, Epoch: sub.Epoch}})
		res := c2.Reply(2).Subscribe
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
		c3.Connect("")
		c3.Send(&clientpb.Command{Id: 2, Subscribe: &clientpb.SubscribeRequest{Channel: ch, Recover: true, Offset: 1, Epoch: "other"}})
		res = c3.Reply(2).Subscribe
		if res == nil || res.Recovered || len(res.Publications) != 0 || res.Offset != sub.Offset+5 {
			t.Fatalf("resubscribe with a lost epoch = %v, want recovered false at the top offset", res)
		}
	})
}

func TestPingPong(t *testing.T) {
	srv := startServer(t, map[string]any{"ping_interval": "1s", "pong_timeout": "500ms"})
	c := dial(t, srv, wstest.JSON)
	if res := c.Connect(""); res.Ping != 1 || !res.Pong {
		t.Fatalf("connect = %v, want ping 1 pong true", res)
	}
	c.Next("ping", func(r *clientpb.Reply) bool { return r.Id == 0 && r.Push == nil })
	c.Send(&clientpb.Command{})
	c.Next("second ping", func(r *clientpb.Reply) bool { return r.Id == 0 && r.Push == nil })
	// No pong this time.
	if code := c.CloseCode(); code != 3012 {
		t.Fatalf("close code = %d, want 3012 no pong", code)
	}
}

func TestStrayPong(t *testing.T) {
	srv := startServer(t, nil)
	c := dial(t, srv, wstest.JSON)
	c.Connect("")
	c.Send(&clientpb.Command{})
	if code := c.CloseCode(); code != 3501 {
		t.Fatalf("close code = %d, want 3501", code)
	}
}

func TestJoinLeavePresence(t *testing.T) {
	srv := startServer(t, nil)
	a := dial(t, srv, wstest.JSON)
	a.Connect("")
	a.Send(&clientpb.Command{Id: 2, Subscribe: &clientpb.SubscribeRequest{Channel: "chat:room"}})
	a.Reply(2)
	b := dial(t, srv, wstest.JSON)
	bID := b.Connect("").Client
	b.Send(&clientpb.Command{Id: 2, Subscribe: &clientpb.SubscribeRequest{Channel: "chat:room"}})
	b.Reply(2)
	j := a.Next("join", func(r *clientpb.Reply) bool {
		return r.Push != nil && r.Push.Join != nil && r.Push.Join.Info.Client == bID
	})
	if j.Push.Channel != "chat:room" {
		t.Fatalf("join push = %v", j.Push)
	}
	a.Send(&clientpb.Command{Id: 3, PresenceStats: &clientpb.PresenceStatsRequest{Channel: "chat:room"}})
	if r := a.Reply(3); r.PresenceStats == nil || r.PresenceStats.NumClients != 2 {
		t.Fatalf("presence stats = %v, want 2 clients", r)
	}
	b.CloseNow()
	a.Next("leave", func(r *clientpb.Reply) bool {
		return r.Push != nil && r.Push.Leave != nil && r.Push.Leave.Info.Client == bID
	})
}

func TestShutdownDisconnects(t *testing.T) {
	srv := startServer(t, nil)
	c := dial(t, srv, wstest.JSON)
	c.Connect("")
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Node.Shutdown(ctx)
	}()
	if code := c.CloseCode(); code != 3001 {
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
