package apiclient

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/spindle-rt/spindle/internal/realtime/api"
	"github.com/spindle-rt/spindle/internal/realtime/engine/memory"
	"github.com/spindle-rt/spindle/internal/realtime/node"
	"github.com/spindle-rt/spindle/proto/apipb"
)

const key = "k3y"

var discard = slog.New(slog.NewTextHandler(io.Discard, nil))

func newNode(t *testing.T) *node.Node {
	t.Helper()
	cfg := node.Config{Name: "apiclient-test-node", Channel: node.ChannelConfig{Namespaces: []node.Namespace{
		{Name: "hist", ChannelOptions: node.ChannelOptions{HistorySize: 10, HistoryTTL: time.Minute}},
		{Name: "map", ChannelOptions: node.ChannelOptions{SubscriptionType: "map", Map: node.MapOptions{Mode: "persistent"}}},
		{Name: "poll", ChannelOptions: node.ChannelOptions{SubscriptionType: "shared_poll", SharedPoll: node.SharedPollOptions{Mode: "versioned", PublishEnabled: true}}},
	}}}
	eng := memory.New(memory.Options{})
	n, err := node.New(cfg, node.Options{Engine: eng, MapBroker: eng, Logger: discard})
	if err != nil {
		t.Fatalf("node: %v", err)
	}
	if err := n.Run(); err != nil {
		t.Fatalf("run: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = n.Shutdown(ctx)
	})
	return n
}

// clients returns an HTTP and a gRPC client of one node, plus variants
// holding a wrong key and one talking to a transport-error-mode server.
func clients(t *testing.T) map[string]Client {
	t.Helper()
	n := newNode(t)
	exec := api.NewExecutor(n, api.ExecutorOptions{Logger: discard})

	mux := http.NewServeMux()
	h := api.NewHTTPHandler(exec, api.HTTPConfig{Key: key, Logger: discard})
	mux.Handle("/api", h)
	mux.Handle("/api/", h)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	tmux := http.NewServeMux()
	tmux.Handle("/api/", api.NewHTTPHandler(exec, api.HTTPConfig{Key: key, ErrorMode: "transport", Logger: discard}))
	tsrv := httptest.NewServer(tmux)
	t.Cleanup(tsrv.Close)

	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	gs := grpc.NewServer()
	api.RegisterGRPC(gs, exec, api.GRPCConfig{Key: key, Logger: discard})
	go func() { _ = gs.Serve(lis) }()
	t.Cleanup(gs.Stop)
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { _ = conn.Close() })

	hc := &http.Client{Timeout: 5 * time.Second}
	return map[string]Client{
		"http":           NewHTTP(srv.URL+"/api/", key, hc),
		"http-transport": NewHTTP(tsrv.URL+"/api", key, hc),
		"grpc":           NewGRPC(conn, key),
		"http-badkey":    NewHTTP(srv.URL+"/api", "wrong", hc),
		"grpc-badkey":    NewGRPC(conn, "wrong"),
	}
}

func TestClients(t *testing.T) {
	all := clients(t)
	for _, name := range []string{"http", "http-transport", "grpc"} {
		c := all[name]
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			ch := "hist:" + name
			res, err := c.Publish(ctx, &apipb.PublishRequest{Channel: ch, Data: []byte(`{"v":1}`)})
			if err != nil || res.GetOffset() != 1 || res.GetEpoch() == "" {
				t.Fatalf("publish = %v, %v", res, err)
			}
			h, err := c.History(ctx, &apipb.HistoryRequest{Channel: ch, Limit: -1})
			if err != nil || len(h.GetPublications()) != 1 || string(h.GetPublications()[0].GetData()) != `{"v":1}` {
				t.Fatalf("history = %v, %v", h, err)
			}
			if _, err := c.Subscribe(ctx, &apipb.SubscribeRequest{Channel: ch, User: "u"}); err != nil {
				t.Fatalf("subscribe: %v", err)
			}
			info, err := c.Info(ctx, &apipb.InfoRequest{})
			if err != nil || len(info.GetNodes()) != 1 {
				t.Fatalf("info = %v, %v", info, err)
			}
			_, err = c.Publish(ctx, &apipb.PublishRequest{Channel: "nope:x", Data: []byte(`1`)})
			var apiErr *Error
			if !errors.As(err, &apiErr) || apiErr.Code != 102 || apiErr.Message != "unknown channel" {
				t.Fatalf("unknown namespace error = %v", err)
			}
			b, err := c.Batch(ctx, &apipb.BatchRequest{Commands: []*apipb.Command{{Presence: &apipb.PresenceRequest{Channel: ch}}}})
			if err != nil || b.GetReplies()[0].GetError().GetCode() != 108 {
				t.Fatalf("batch = %v, %v", b, err)
			}
		})
	}
	for _, name := range []string{"http-badkey", "grpc-badkey"} {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_, err := all[name].Info(ctx, &apipb.InfoRequest{})
			var apiErr *Error
			if err == nil || errors.As(err, &apiErr) {
				t.Fatalf("bad key gave %v, want a transport error", err)
			}
			if !strings.Contains(err.Error(), "401") && !strings.Contains(err.Error(), "Unauthenticated") {
				t.Fatalf("error %v does not say it was refused", err)
			}
		})
	}
}

func TestClientsMapMethods(t *testing.T) {
	all := clients(t)
	for _, name := range []string{"http", "http-transport", "grpc"} {
		c := all[name]
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			ch := "map:" + name
			pub, err := c.MapPublish(ctx, &apipb.MapPublishRequest{Channel: ch, Key: "seat-1", Data: []byte(`{"taken":true}`), Tags: map[string]string{"row": "a"}})
			if err != nil || pub.GetOffset() != 1 || pub.GetEpoch() == "" || pub.GetSuppressed() {
				t.Fatalf("map_publish = %v, %v", pub, err)
			}
			dup, err := c.MapPublish(ctx, &apipb.MapPublishRequest{Channel: ch, Key: "seat-1", Data: []byte(`{}`), KeyMode: "if_new"})
			if err != nil || !dup.GetSuppressed() || dup.GetSuppressReason() != "key_exists" || dup.GetOffset() != 1 {
				t.Fatalf("if_new = %v, %v", dup, err)
			}
			if _, err := c.MapPublish(ctx, &apipb.MapPublishRequest{Channel: ch, Key: "seat-2"}); err != nil {
				t.Fatalf("publish without data: %v", err)
			}
			st, err := c.MapReadState(ctx, &apipb.MapReadStateRequest{Channel: ch})
			if err != nil || len(st.GetEntries()) != 2 || st.GetOffset() != 2 || st.GetEpoch() != pub.GetEpoch() {
				t.Fatalf("map_read_state = %v, %v", st, err)
			}
			if e := st.GetEntries()[0]; e.GetKey() != "seat-1" || string(e.GetData()) != `{"taken":true}` || e.GetTags()["row"] != "a" || e.GetTime() == 0 {
				t.Fatalf("entry = %v", e)
			}
			rm, err := c.MapRemove(ctx, &apipb.MapRemoveRequest{Channel: ch, Key: "seat-1"})
			if err != nil || rm.GetOffset() != 3 {
				t.Fatalf("map_remove = %v, %v", rm, err)
			}
			stream, err := c.MapReadStream(ctx, &apipb.MapReadStreamRequest{Channel: ch, SinceOffset: 2, SinceEpoch: pub.GetEpoch()})
			if err != nil || len(stream.GetEntries()) != 1 || !stream.GetEntries()[0].GetRemoved() || stream.GetOffset() != 3 {
				t.Fatalf("map_read_stream = %v, %v", stream, err)
			}
			stats, err := c.MapStats(ctx, &apipb.MapStatsRequest{Channel: ch})
			if err != nil || stats.GetNumKeys() != 1 {
				t.Fatalf("map_stats = %v, %v", stats, err)
			}
			if _, err := c.MapClear(ctx, &apipb.MapClearRequest{Channel: ch}); err != nil {
				t.Fatalf("map_clear: %v", err)
			}
			// An empty result still comes back as a value, never (nil, nil).
			if stats, err := c.MapStats(ctx, &apipb.MapStatsRequest{Channel: ch}); err != nil || stats == nil || stats.GetNumKeys() != 0 {
				t.Fatalf("map_stats after clear = %v, %v", stats, err)
			}

			var apiErr *Error
			_, err = c.MapReadStream(ctx, &apipb.MapReadStreamRequest{Channel: ch, SinceEpoch: "other"})
			if !errors.As(err, &apiErr) || apiErr.Code != 112 {
				t.Fatalf("epoch mismatch = %v", err)
			}
			_, err = c.MapPublish(ctx, &apipb.MapPublishRequest{Channel: ch})
			if !errors.As(err, &apiErr) || apiErr.Code != 107 {
				t.Fatalf("empty key = %v", err)
			}
			_, err = c.MapStats(ctx, &apipb.MapStatsRequest{Channel: "hist:x"})
			if !errors.As(err, &apiErr) || apiErr.Code != 107 {
				t.Fatalf("non-map namespace = %v", err)
			}
		})
	}
}

func TestClientsSharedPollPublish(t *testing.T) {
	all := clients(t)
	for _, name := range []string{"http", "http-transport", "grpc"} {
		c := all[name]
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			res, err := c.SharedPollPublish(ctx, &apipb.SharedPollPublishRequest{Channel: "poll:" + name, Key: "k", Data: []byte(`{"v":1}`), Version: 1})
			if err != nil || res == nil {
				t.Fatalf("shared_poll_publish = %v, %v", res, err)
			}
			var apiErr *Error
			_, err = c.SharedPollPublish(ctx, &apipb.SharedPollPublishRequest{Channel: "poll:" + name, Key: "k", Data: []byte(`1`)})
			if !errors.As(err, &apiErr) || apiErr.Code != 107 {
				t.Fatalf("without a version = %v", err)
			}
		})
	}
}
