package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"testing"

	"github.com/spindle-rt/spindle/app"
	"github.com/spindle-rt/spindle/proto/proxypb"
)

func TestGoApp(t *testing.T) {
	a := newApp(slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx := context.Background()

	tests := []struct {
		name  string
		call  func() (app.Reply, error)
		check func(t *testing.T, r any)
	}{
		{"connect with token", func() (app.Reply, error) {
			return a.Connect(ctx, &proxypb.ConnectRequest{Data: []byte(`{"token":"alice-token"}`)})
		}, func(t *testing.T, r any) {
			if u := r.(*proxypb.ConnectResponse).GetResult().GetUser(); u != "alice" {
				t.Errorf("user %q", u)
			}
		}},
		{"connect anonymous", func() (app.Reply, error) {
			return a.Connect(ctx, &proxypb.ConnectRequest{})
		}, func(t *testing.T, r any) {
			if res := r.(*proxypb.ConnectResponse).GetResult(); res == nil || res.GetUser() != "" {
				t.Errorf("result %v", res)
			}
		}},
		{"connect bad token", func() (app.Reply, error) {
			return a.Connect(ctx, &proxypb.ConnectRequest{Data: []byte(`{"token":"x"}`)})
		}, func(t *testing.T, r any) {
			if d := r.(*proxypb.ConnectResponse).GetDisconnect(); d.GetCode() != 4501 {
				t.Errorf("disconnect %v", d)
			}
		}},
		{"members channel needs a user", func() (app.Reply, error) {
			return a.Subscribe(ctx, &proxypb.SubscribeRequest{Channel: "members:chat"})
		}, func(t *testing.T, r any) {
			if e := r.(*proxypb.SubscribeResponse).GetError(); e.GetCode() != 403 {
				t.Errorf("error %v", e)
			}
		}},
		{"members channel for a user", func() (app.Reply, error) {
			return a.Subscribe(ctx, &proxypb.SubscribeRequest{User: "bob", Channel: "members:chat"})
		}, func(t *testing.T, r any) {
			if r.(*proxypb.SubscribeResponse).GetResult() == nil {
				t.Error("not allowed")
			}
		}},
		{"publish is stamped", func() (app.Reply, error) {
			return a.Publish(ctx, &proxypb.PublishRequest{User: "bob", Channel: "public:x", Data: []byte(`{"text":"hi"}`)})
		}, func(t *testing.T, r any) {
			var m map[string]any
			if err := json.Unmarshal(r.(*proxypb.PublishResponse).GetResult().GetData(), &m); err != nil {
				t.Fatal(err)
			}
			if m["text"] != "hi" || m["from"] != "bob" || m["server_ts"] == nil {
				t.Errorf("data %v", m)
			}
		}},
		{"publish of a non-object", func() (app.Reply, error) {
			return a.Publish(ctx, &proxypb.PublishRequest{Channel: "public:x", Data: []byte(`"text"`)})
		}, func(t *testing.T, r any) {
			if e := r.(*proxypb.PublishResponse).GetError(); e.GetCode() != 400 {
				t.Errorf("error %v", e)
			}
		}},
		{"whoami", func() (app.Reply, error) {
			return a.RPC(ctx, &proxypb.RPCRequest{User: "bob", Client: "c1", Method: "whoami"})
		}, func(t *testing.T, r any) {
			if d := string(r.(*proxypb.RPCResponse).GetResult().GetData()); d != `{"client":"c1","transport":"","user":"bob"}` {
				t.Errorf("data %s", d)
			}
		}},
		{"echo", func() (app.Reply, error) {
			return a.RPC(ctx, &proxypb.RPCRequest{Method: "echo", Data: []byte(`[1]`)})
		}, func(t *testing.T, r any) {
			if d := string(r.(*proxypb.RPCResponse).GetResult().GetData()); d != `[1]` {
				t.Errorf("data %s", d)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := tt.call()
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, r)
		})
	}
}
