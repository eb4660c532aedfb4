package server

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/spindle-rt/spindle/app"
	"github.com/spindle-rt/spindle/internal/wstest"
	"github.com/spindle-rt/spindle/proto/clientpb"
	"github.com/spindle-rt/spindle/proto/proxypb"
)

// startApp runs a real app on loopback whose services decide as a small
// application would, and returns its address.
func startApp(t *testing.T, refreshes *atomic.Int64) string {
	t.Helper()
	a := app.New(app.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	a.HandleConnect(func(_ context.Context, r *app.ConnectRequest) (*proxypb.ConnectResponse, error) {
		var d struct{ Token string }
		_ = json.Unmarshal(r.Data, &d)
		switch d.Token {
		case "":
			return r.Deny(4403, "token required"), nil
		case "banned":
			return r.Disconnect(4501, "banned"), nil
		}
		return r.Respond(&proxypb.ConnectResult{
			User:     "user-" + d.Token,
			Data:     []byte(`{"welcome":true}`),
			Channels: []string{"news"},
			ExpireAt: time.Now().Add(2 * time.Second).Unix(),
		}), nil
	})
	a.HandleRefresh(func(_ context.Context, r *app.RefreshRequest) (*proxypb.RefreshResponse, error) {
		refreshes.Add(1)
		return r.Extend(time.Now().Add(2 * time.Second).Unix()), nil
	})
	a.HandleSubscribe(func(_ context.Context, r *app.SubscribeRequest) (*proxypb.SubscribeResponse, error) {
		if strings.HasPrefix(r.Channel, "room:secret") {
			return r.Deny(4403, "not for you"), nil
		}
		return r.Respond(&proxypb.SubscribeResult{Data: []byte(`{"room":"ok"}`)}), nil
	})
	a.HandlePublish(func(_ context.Context, r *app.PublishRequest) (*proxypb.PublishResponse, error) {
		if string(r.Data) == `{"bad":true}` {
			return r.Deny(4400, "invalid message"), nil
		}
		return r.Rewrite([]byte(`{"by":"` + r.User + `","msg":` + string(r.Data) + `}`)), nil
	})
	a.HandleRPC("whoami", func(_ context.Context, r *app.RPCRequest) (*proxypb.RPCResponse, error) {
		return r.Answer([]byte(`{"user":"` + r.User + `"}`)), nil
	})
	ln, err := app.Listen("tcp://127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = a.Serve(ctx, ln); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return ln.Addr().String()
}

func TestProxiedEvents(t *testing.T) {
	var refreshes atomic.Int64
	addr := startApp(t, &refreshes)
	for _, scheme := range []string{"grpc", "http"} {
		t.Run(scheme, func(t *testing.T) {
			ep := func(event string) string {
				if scheme == "grpc" {
					return "grpc://" + addr
				}
				return "http://" + addr + "/" + event
			}
			srv := startServer(t, map[string]any{
				"allow_anonymous_connect_without_token": false,
				"proxy_connect_endpoint":                ep("connect"),
				"proxy_refresh_endpoint":                ep("refresh"),
				"proxy_subscribe_endpoint":              ep("subscribe"),
				"proxy_publish_endpoint":                ep("publish"),
				"proxy_rpc_endpoint":                    ep("rpc"),
				"namespaces": []map[string]any{{
					"name": "room", "proxy_subscribe": true, "proxy_publish": true,
				}},
			})

			c := dial(t, srv, wstest.JSON)
			c.Send(&clientpb.Command{Id: 1, Connect: &clientpb.ConnectRequest{Data: []byte(`{"token":"7"}`)}})
			res := c.Reply(1)
			if res.Error != nil || res.Connect == nil {
				t.Fatalf("connect = %v", res)
			}
			if string(res.Connect.Data) != `{"welcome":true}` || res.Connect.Expires {
				t.Fatalf("connect result = %v, want the app's data and server-side refresh (no expires)", res.Connect)
			}
			if _, ok := res.Connect.Subs["news"]; !ok {
				t.Fatalf("connect result has no server-side subscription to news: %v", res.Connect)
			}

			c.Send(&clientpb.Command{Id: 2, Subscribe: &clientpb.SubscribeRequest{Channel: "room:1"}})
			if r := c.Reply(2); r.Subscribe == nil || string(r.Subscribe.Data) != `{"room":"ok"}` {
				t.Fatalf("subscribe room:1 = %v", r)
			}
			c.Send(&clientpb.Command{Id: 3, Subscribe: &clientpb.SubscribeRequest{Channel: "room:secret"}})
			if r := c.Reply(3); r.Error == nil || r.Error.Code != 4403 {
				t.Fatalf("subscribe room:secret = %v, want the app's error 4403", r)
			}

			c.Send(&clientpb.Command{Id: 4, Publish: &clientpb.PublishRequest{Channel: "room:1", Data: []byte(`"hi"`)}})
			if r := c.Reply(4); r.Error != nil {
				t.Fatalf("publish = %v", r)
			}
			p := c.Next("rewritten publication", func(r *clientpb.Reply) bool { return r.Push != nil && r.Push.Pub != nil })
			if string(p.Push.Pub.Data) != `{"by":"user-7","msg":"hi"}` {
				t.Fatalf("publication = %s, want the app's rewrite", p.Push.Pub.Data)
			}
			c.Send(&clientpb.Command{Id: 5, Publish: &clientpb.PublishRequest{Channel: "room:1", Data: []byte(`{"bad":true}`)}})
			if r := c.Reply(5); r.Error == nil || r.Error.Code != 4400 {
				t.Fatalf("invalid publish = %v, want 4400", r)
			}

			c.Send(&clientpb.Command{Id: 6, Rpc: &clientpb.RPCRequest{Method: "whoami"}})
			if r := c.Reply(6); r.Rpc == nil || string(r.Rpc.Data) != `{"user":"user-7"}` {
				t.Fatalf("rpc whoami = %v", r)
			}
			c.Send(&clientpb.Command{Id: 7, Rpc: &clientpb.RPCRequest{Method: "nope"}})
			if r := c.Reply(7); r.Error == nil || r.Error.Code != 104 {
				t.Fatalf("rpc nope = %v, want 104 method not found", r)
			}

			// The connection expires 2s after connect; the refresh proxy
			// extends it, so it is still usable after 3s.
			before := refreshes.Load()
			time.Sleep(3 * time.Second)
			c.Send(&clientpb.Command{Id: 8, Rpc: &clientpb.RPCRequest{Method: "whoami"}})
			if r := c.Reply(8); r.Rpc == nil {
				t.Fatalf("rpc after expiry = %v, want the refreshed connection to answer", r)
			}
			if refreshes.Load() == before {
				t.Fatal("refresh proxy was never called")
			}

			d := dial(t, srv, wstest.JSON)
			d.Send(&clientpb.Command{Id: 1, Connect: &clientpb.ConnectRequest{}})
			if r := d.Reply(1); r.Error == nil || r.Error.Code != 4403 {
				t.Fatalf("connect without token = %v, want the app's error 4403", r)
			}
			e := dial(t, srv, wstest.JSON)
			e.Send(&clientpb.Command{Id: 1, Connect: &clientpb.ConnectRequest{Data: []byte(`{"token":"banned"}`)}})
			if code := e.CloseCode(); code != 4501 {
				t.Fatalf("banned connect closed with %d, want 4501", code)
			}
		})
	}
}

func TestProxyDownGivesTemporaryError(t *testing.T) {
	srv := startServer(t, map[string]any{
		"allow_anonymous_connect_without_token": false,
		"proxy_connect_endpoint":                "grpc://127.0.0.1:1",
		"proxy_connect_timeout":                 "300ms",
	})
	c := dial(t, srv, wstest.JSON)
	c.Send(&clientpb.Command{Id: 1, Connect: &clientpb.ConnectRequest{}})
	r := c.Reply(1)
	if r.Error == nil || r.Error.Code != 100 || !r.Error.Temporary {
		t.Fatalf("connect with the app down = %v, want temporary error 100", r)
	}
	// Others are still served.
	h := dial(t, srv, wstest.JSON)
	h.Send(&clientpb.Command{Id: 1, Connect: &clientpb.ConnectRequest{}})
	if r := h.Reply(1); r.Error == nil {
		t.Fatalf("second connect = %v", r)
	}
}
