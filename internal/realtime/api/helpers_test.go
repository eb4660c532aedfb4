package api

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/spindle-rt/spindle/internal/realtime/engine/memory"
	"github.com/spindle-rt/spindle/internal/realtime/node"
)

const testKey = "secret-key"

var discard = slog.New(slog.NewTextHandler(io.Discard, nil))

// newTestNode starts a real node on the memory engine with namespaces:
// "hist" (history + presence), "plain" (neither), the top level
// (neither), "map" (a persistent map whose stream keeps 3 changes),
// "emap" (an ephemeral map), "poll" (versioned shared poll with
// publish_enabled) and "pollvl" (versionless shared poll). The memory engine is also the map broker.
func newTestNode(t *testing.T) *node.Node {
	t.Helper()
	cfg := node.Config{Name: "api-test-node", Channel: node.ChannelConfig{Namespaces: []node.Namespace{
		{Name: "hist", ChannelOptions: node.ChannelOptions{HistorySize: 100, HistoryTTL: time.Minute, Presence: true}},
		{Name: "plain"},
		{Name: "map", ChannelOptions: node.ChannelOptions{SubscriptionType: "map", Map: node.MapOptions{Mode: "persistent", StreamSize: 3, StreamTTL: time.Minute}}},
		{Name: "emap", ChannelOptions: node.ChannelOptions{SubscriptionType: "map", Map: node.MapOptions{Mode: "ephemeral", KeyTTL: time.Minute}}},
		{Name: "poll", ChannelOptions: node.ChannelOptions{SubscriptionType: "shared_poll", SharedPoll: node.SharedPollOptions{Mode: "versioned", PublishEnabled: true}}},
		{Name: "pollvl", ChannelOptions: node.ChannelOptions{SubscriptionType: "shared_poll"}},
	}}}
	eng := memory.New(memory.Options{})
	n, err := node.New(cfg, node.Options{Engine: eng, MapBroker: eng, Logger: discard})
	if err != nil {
		t.Fatalf("node.New: %v", err)
	}
	if err := n.Run(); err != nil {
		t.Fatalf("node.Run: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = n.Shutdown(ctx)
	})
	return n
}

// newHTTPServer serves the API over a real listener on 127.0.0.1, mounted
// the way the server mounts it.
func newHTTPServer(t *testing.T, n Node, cfg HTTPConfig) *httptest.Server {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = discard
	}
	h := NewHTTPHandler(NewExecutor(n, ExecutorOptions{Logger: discard}), cfg)
	mux := http.NewServeMux()
	prefix := strings.TrimRight(cfg.Prefix, "/")
	if prefix == "" {
		prefix = "/api"
	}
	mux.Handle(prefix, h)
	mux.Handle(prefix+"/", h)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

type httpResult struct {
	status int
	body   string
	header http.Header
}

// post sends body to path with the test key unless headers say otherwise.
func post(t *testing.T, srv *httptest.Server, path, body string, headers map[string]string) httpResult {
	t.Helper()
	return do(t, srv, http.MethodPost, path, body, headers)
}

func do(t *testing.T, srv *httptest.Server, method, path, body string, headers map[string]string) httpResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, srv.URL+path, bytes.NewBufferString(body))
	if err != nil {
		t.Fatalf("new request: %v", err)
	}
	if _, ok := headers["X-API-Key"]; !ok {
		req.Header.Set("X-API-Key", testKey)
	}
	for k, v := range headers {
		if v == "" {
			req.Header.Del(k)
			continue
		}
		req.Header.Set(k, v)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	return httpResult{status: resp.StatusCode, body: string(data), header: resp.Header}
}

// decode parses a JSON response body into a generic value for checks.
func decode(t *testing.T, body string) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		t.Fatalf("response %q is not a JSON object: %v", body, err)
	}
	return v
}

// path walks a decoded JSON value: string keys for objects, ints for
// arrays.
func path(t *testing.T, v any, steps ...any) any {
	t.Helper()
	for _, s := range steps {
		switch k := s.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				t.Fatalf("want object at %v, got %T", k, v)
			}
			v = m[k]
		case int:
			a, ok := v.([]any)
			if !ok || k >= len(a) {
				t.Fatalf("want array with index %d, got %v", k, v)
			}
			v = a[k]
		}
	}
	return v
}
