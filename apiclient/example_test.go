package apiclient_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/spindle-rt/spindle/apiclient"
	"github.com/spindle-rt/spindle/internal/realtime/api"
	"github.com/spindle-rt/spindle/internal/realtime/engine/memory"
	"github.com/spindle-rt/spindle/internal/realtime/node"
	"github.com/spindle-rt/spindle/proto/apipb"
)

// Publish to a channel with history, then read the history back, over the
// HTTP server API. Swap NewHTTP for Dial to use the gRPC API instead; the
// Client interface is the same.
func Example() {
	base, stop := startServer("my-api-key")
	defer stop()

	c := apiclient.NewHTTP(base+"/api", "my-api-key", &http.Client{Timeout: 5 * time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	for _, text := range []string{`{"text":"hello"}`, `{"text":"again"}`} {
		res, err := c.Publish(ctx, &apipb.PublishRequest{Channel: "chat:lobby", Data: []byte(text)})
		if err != nil {
			fmt.Println("publish:", err)
			return
		}
		fmt.Println("published at offset", res.GetOffset())
	}
	hist, err := c.History(ctx, &apipb.HistoryRequest{Channel: "chat:lobby", Limit: 10})
	if err != nil {
		fmt.Println("history:", err)
		return
	}
	for _, p := range hist.GetPublications() {
		fmt.Printf("%d %s\n", p.GetOffset(), p.GetData())
	}

	// The server refuses a wrong key before running the command.
	_, err = apiclient.NewHTTP(base+"/api", "wrong", nil).Info(ctx, &apipb.InfoRequest{})
	fmt.Println("wrong key:", err)
	// Output:
	// published at offset 1
	// published at offset 2
	// 1 {"text":"hello"}
	// 2 {"text":"again"}
	// wrong key: server API info: 401 Unauthorized: {"error":{"code":101,"message":"unauthorized"}}
}

// Keep one value per key in a map channel: seat holds that subscribers see
// as a synchronised state. if_new makes a hold first-come-first-served: the
// second writer's call succeeds but reports it was suppressed, so the
// backend can tell the user the seat is taken without a separate read.
func ExampleHTTP_MapPublish() {
	base, stop := startServer("my-api-key")
	defer stop()

	c := apiclient.NewHTTP(base+"/api", "my-api-key", &http.Client{Timeout: 5 * time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	for _, user := range []string{"alice", "bob"} {
		res, err := c.MapPublish(ctx, &apipb.MapPublishRequest{
			Channel: "seats:show-1", Key: "A7",
			Data: []byte(`{"held_by":"` + user + `"}`), KeyMode: "if_new",
		})
		if err != nil {
			fmt.Println("map_publish:", err)
			return
		}
		if res.GetSuppressed() {
			fmt.Printf("%s: not written (%s), the map is at offset %d\n", user, res.GetSuppressReason(), res.GetOffset())
			continue
		}
		fmt.Printf("%s: written at offset %d\n", user, res.GetOffset())
	}
	state, err := c.MapReadState(ctx, &apipb.MapReadStateRequest{Channel: "seats:show-1"})
	if err != nil {
		fmt.Println("map_read_state:", err)
		return
	}
	for _, e := range state.GetEntries() {
		fmt.Printf("%s %s\n", e.GetKey(), e.GetData())
	}
	// Output:
	// alice: written at offset 1
	// bob: not written (key_exists), the map is at offset 1
	// A7 {"held_by":"alice"}
}

// startServer runs a real hub on the in-memory engine behind the HTTP API,
// with a "chat" namespace that keeps history and a "seats" map namespace,
// on 127.0.0.1. It stands in for `spindle server` so the examples run
// inside `go test`.
func startServer(key string) (base string, stop func()) {
	log := slog.New(slog.DiscardHandler)
	eng := memory.New(memory.Options{})
	n, err := node.New(node.Config{Name: "example", Channel: node.ChannelConfig{Namespaces: []node.Namespace{
		{Name: "chat", ChannelOptions: node.ChannelOptions{HistorySize: 100, HistoryTTL: time.Hour}},
		{Name: "seats", ChannelOptions: node.ChannelOptions{SubscriptionType: "map", Map: node.MapOptions{Mode: "persistent"}}},
	}}}, node.Options{Engine: eng, MapBroker: eng, Logger: log})
	if err != nil {
		panic(err)
	}
	if err := n.Run(); err != nil {
		panic(err)
	}
	h := api.NewHTTPHandler(api.NewExecutor(n, api.ExecutorOptions{Logger: log}), api.HTTPConfig{Prefix: "/api", Key: key, Logger: log})
	mux := http.NewServeMux()
	mux.Handle("/api/", h)
	srv := httptest.NewServer(mux)
	return srv.URL, func() {
		srv.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = n.Shutdown(ctx)
	}
}
