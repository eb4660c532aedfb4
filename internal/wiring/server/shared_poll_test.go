package server

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/spindle-rt/spindle/internal/config"
	"github.com/spindle-rt/spindle/internal/realtime/node"
	"github.com/spindle-rt/spindle/internal/testlog"
	"github.com/spindle-rt/spindle/proto/proxypb"
)

// pollDefaults are Centrifugo's shared-poll defaults, which the wiring
// fills into every shared_poll namespace that sets none.
func pollDefaults(o node.SharedPollOptions) node.SharedPollOptions {
	if o.RefreshInterval == 0 {
		o.RefreshInterval = 10 * time.Second
	}
	if o.RefreshBatchSize == 0 {
		o.RefreshBatchSize = 1000
	}
	if o.MaxKeysPerConnection == 0 {
		o.MaxKeysPerConnection = 5000
	}
	o.ChannelShutdownDelay, o.TrackExpiredExtraDelay = time.Second, 25*time.Second
	return o
}

// The shared-poll namespaces of centrifuge-js's test config reach the hub
// with every key they set, Centrifugo's defaults for the rest, and each
// named proxy bound once, so namespaces sharing it share its backend.
func TestNodeConfigJSTestConfigSharedPoll(t *testing.T) {
	cfg, _, err := config.Load(config.LoadOptions{File: "../../config/testdata/centrifuge_js_shared_poll.json"})
	if err != nil {
		t.Fatal(err)
	}
	bound := map[string]*node.Proxy{}
	resolved := map[string]int{}
	nc, err := nodeConfig(cfg, startBinder(func(p *config.Proxy) (node.Backend, error) {
		resolved[p.Name]++
		return nil, nil
	}, bound))
	if err != nil {
		t.Fatal(err)
	}
	backend, pb := bound["poll_backend"], bound["poll_backend_pb"]
	if backend == nil || pb == nil || backend.Endpoint != "http://127.0.0.1:3010/refresh" || pb.Endpoint != "http://127.0.0.1:3011/refresh" || pb.Timeout != 5*time.Second {
		t.Fatalf("bound proxies: %+v", bound)
	}
	if resolved["poll_backend"] != 1 || resolved["poll_backend_pb"] != 1 {
		t.Errorf("each proxy must be resolved once: %v", resolved)
	}
	js := func(p *node.Proxy, mode string) node.SharedPollOptions {
		return pollDefaults(node.SharedPollOptions{Proxy: p, Mode: mode, RefreshInterval: 200 * time.Millisecond, RefreshBatchSize: 100, MaxKeysPerConnection: 100})
	}
	want := map[string]node.ChannelOptions{
		"poll":   {SubscriptionType: "shared_poll", SharedPoll: js(backend, "versioned")},
		"pollvl": {SubscriptionType: "shared_poll", SharedPoll: js(backend, "versionless")},
		"pollpb": {SubscriptionType: "shared_poll", SharedPoll: js(pb, "versioned")},
	}
	for _, ns := range nc.Channel.Namespaces {
		w, ok := want[ns.Name]
		if !ok {
			t.Errorf("unexpected namespace %q", ns.Name)
			continue
		}
		delete(want, ns.Name)
		if !reflect.DeepEqual(ns.ChannelOptions, w) {
			t.Errorf("%s:\n got %+v\nwant %+v", ns.Name, ns.ChannelOptions, w)
		}
	}
	if len(want) != 0 {
		t.Errorf("namespaces missing: %v", want)
	}
	if got := nc.SharedPoll; got != (node.SharedPollConfig{HMACSecretKey: "test-poll-secret", ConcurrencyLimit: 64}) {
		t.Errorf("node SharedPoll = %+v", got)
	}
	if nc.Channel.WithoutNamespace.SharedPoll != (node.SharedPollOptions{}) {
		t.Errorf("stream channels got shared-poll settings: %+v", nc.Channel.WithoutNamespace.SharedPoll)
	}
}

// Every shared-poll key reaches the hub as written, from the file and from
// CENTRIFUGO_* variables; the default refresh proxy is bound under its
// event name; other namespaces get no shared-poll settings.
func TestNodeConfigSharedPollOptions(t *testing.T) {
	const secret = "poll-secret-0123456789abcdef-0123456789"
	cfg, _, err := config.Load(config.LoadOptions{File: "c.json", Data: []byte(`{
  "channel": {
    "proxy": {"shared_poll_refresh": {"endpoint": "grpc://127.0.0.1:10001", "timeout": "3s"}},
    "namespaces": [
      {"name": "all", "subscription_type": "shared_poll", "shared_poll": {"mode": "versioned", "publish_enabled": true,
        "refresh_interval": "750ms", "refresh_batch_size": 7, "max_keys_per_connection": 9,
        "channel_shutdown_delay": "4s", "track_expired_extra_delay": "6s"}},
      {"name": "plain", "subscription_type": "stream"}
    ]
  }
}`), Env: []string{
		"CENTRIFUGO_SHARED_POLL_HMAC_SECRET_KEY=" + secret,
		"CENTRIFUGO_SHARED_POLL_HMAC_PREVIOUS_SECRET_KEY=" + secret + "-old",
		"CENTRIFUGO_SHARED_POLL_HMAC_PREVIOUS_SECRET_KEY_VALID_UNTIL=1735689600",
		"CENTRIFUGO_SHARED_POLL_CONCURRENCY_LIMIT=3",
		"CENTRIFUGO_CHANNEL_WITHOUT_NAMESPACE_SUBSCRIPTION_TYPE=shared_poll",
		"CENTRIFUGO_CHANNEL_WITHOUT_NAMESPACE_SHARED_POLL_MAX_KEYS_PER_CONNECTION=11",
	}})
	if err != nil {
		t.Fatal(err)
	}
	bound := map[string]*node.Proxy{}
	nc, err := nodeConfig(cfg, startBinder(func(*config.Proxy) (node.Backend, error) { return nil, nil }, bound))
	if err != nil {
		t.Fatal(err)
	}
	def := bound["shared_poll_refresh"]
	if def == nil || def.Endpoint != "grpc://127.0.0.1:10001" || def.Timeout != 3*time.Second {
		t.Fatalf("channel.proxy.shared_poll_refresh bound as %+v", def)
	}
	want := node.SharedPollOptions{Proxy: def, Mode: "versioned", PublishEnabled: true, RefreshInterval: 750 * time.Millisecond, RefreshBatchSize: 7,
		MaxKeysPerConnection: 9, ChannelShutdownDelay: 4 * time.Second, TrackExpiredExtraDelay: 6 * time.Second}
	got := map[string]node.ChannelOptions{}
	for _, ns := range nc.Channel.Namespaces {
		got[ns.Name] = ns.ChannelOptions
	}
	if o := got["all"]; o.SubscriptionType != "shared_poll" || o.SharedPoll != want {
		t.Errorf("all: %q\n got %+v\nwant %+v", o.SubscriptionType, o.SharedPoll, want)
	}
	if o := got["plain"]; o.SubscriptionType != "" || o.SharedPoll != (node.SharedPollOptions{}) {
		t.Errorf("plain: %q %+v", o.SubscriptionType, o.SharedPoll)
	}
	if o := nc.Channel.WithoutNamespace; o.SubscriptionType != "shared_poll" || o.SharedPoll != pollDefaults(node.SharedPollOptions{Proxy: def, MaxKeysPerConnection: 11}) {
		t.Errorf("without namespace from env: %q %+v", o.SubscriptionType, o.SharedPoll)
	}
	wantTop := node.SharedPollConfig{HMACSecretKey: secret, HMACPreviousSecretKey: secret + "-old", HMACPreviousSecretKeyValidUntil: 1735689600, ConcurrencyLimit: 3}
	if nc.SharedPoll != wantTop {
		t.Errorf("node SharedPoll = %+v", nc.SharedPoll)
	}
}

// In a running server the refresh proxy is the real HTTP proxy client:
// the node's SharedPollRefresh reaches the backend's endpoint.
func TestServerSharedPollProxyReachesBackend(t *testing.T) {
	requests := make(chan string, 1)
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		select {
		case requests <- r.URL.Path + " " + string(body):
		default:
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"result":{"items":[{"key":"k1","data":{"votes":3},"version":2}]}}`))
	}))
	t.Cleanup(backend.Close)
	srv := startServer(t, map[string]any{
		"shared_poll": map[string]any{"hmac_secret_key": "poll-secret-0123456789abcdef-0123456789"},
		"proxies":     []map[string]any{{"name": "votes", "endpoint": backend.URL + "/refresh", "timeout": "2s"}},
		"namespaces": []map[string]any{{"name": "poll", "subscription_type": "shared_poll",
			"shared_poll": map[string]any{"proxy_name": "votes", "mode": "versioned"}}},
	})
	var p *node.Proxy
	for _, ns := range srv.Node.Config().Channel.Namespaces {
		if ns.Name == "poll" {
			p = ns.SharedPoll.Proxy
		}
	}
	if p == nil || p.Backend == nil || p.Name != "votes" || p.Timeout != 2*time.Second {
		t.Fatalf("refresh proxy %+v", p)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	resp, err := p.Backend.SharedPollRefresh(ctx, &proxypb.SharedPollRefreshRequest{Channel: "poll:feed", Items: []*proxypb.SharedPollRefreshItem{{Key: "k1", Version: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	if items := resp.GetResult().GetItems(); len(items) != 1 || items[0].Key != "k1" || items[0].Version != 2 {
		t.Errorf("answer %+v", resp)
	}
	select {
	case got := <-requests:
		path, body, _ := strings.Cut(got, " ")
		var req struct {
			Channel string `json:"channel"`
		}
		if path != "/refresh" || json.Unmarshal([]byte(body), &req) != nil || req.Channel != "poll:feed" {
			t.Errorf("backend got %s", got)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the backend was not called")
	}
}

// A reload applies new shared-poll HMAC keys (the node verifies every
// track request with the keys in force), says concurrency_limit needs a
// restart, and logs the keys by name only: the secrets never reach the
// log, at start or on reload.
func TestReloadSharedPoll(t *testing.T) {
	const oldSecret, newSecret = "poll-old-secret-0123456789abcdef-xyz", "poll-new-secret-0123456789abcdef-xyz"
	pollConfig := func(secret string, limit int) map[string]any {
		return map[string]any{
			"shared_poll": map[string]any{"hmac_secret_key": secret, "hmac_previous_secret_key": oldSecret, "concurrency_limit": limit},
			"proxies":     []map[string]any{{"name": "votes", "endpoint": "http://127.0.0.1:1/refresh"}},
			"namespaces": []map[string]any{{"name": "poll", "subscription_type": "shared_poll",
				"shared_poll": map[string]any{"proxy_name": "votes", "refresh_interval": "1s"}}},
		}
	}
	var logs testlog.Buffer
	srv := newTestServer(t, pollConfig(oldSecret, 4), Options{}, &logs)
	serve(t, srv)
	changed := pollConfig(newSecret, 8)
	changed["namespaces"].([]map[string]any)[0]["shared_poll"].(map[string]any)["refresh_interval"] = "2s"
	if err := srv.Reload(testConfig(t, changed)); err != nil {
		t.Fatal(err)
	}
	running := srv.Node.Config()
	if running.SharedPoll.HMACSecretKey != newSecret || running.SharedPoll.HMACPreviousSecretKey != oldSecret {
		t.Errorf("the node runs with shared_poll %+v", running.SharedPoll)
	}
	if ns := running.Channel.Namespaces[0]; ns.SharedPoll.RefreshInterval != 2*time.Second || ns.SharedPoll.Proxy == nil || ns.SharedPoll.Proxy.Name != "votes" {
		t.Errorf("reloaded namespace %+v", ns.SharedPoll)
	}
	out := logs.WaitFor(t,
		`msg="config reload: applied" key=shared_poll.hmac_secret_key`,
		`msg="config reload: applied" key=namespaces[poll].shared_poll.refresh_interval`,
		`msg="config reload: changed, needs a restart to take effect" key=shared_poll.concurrency_limit`)
	if strings.Contains(out, oldSecret) || strings.Contains(out, newSecret) {
		t.Fatalf("the log shows a shared-poll secret:\n%s", out)
	}
}
