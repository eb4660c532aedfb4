package server

import (
	"context"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/spindle-rt/spindle/internal/config"
	"github.com/spindle-rt/spindle/internal/realtime/engine"
	"github.com/spindle-rt/spindle/internal/realtime/engine/memory"
	"github.com/spindle-rt/spindle/internal/realtime/node"
	"github.com/spindle-rt/spindle/internal/testredis"
)

// mapPages are Centrifugo's page and catch-up defaults, which the wiring
// fills into every map namespace that sets none.
func mapPages(m node.MapOptions) node.MapOptions {
	m.DefaultPageSize, m.MinPageSize, m.MaxPageSize = 100, 100, 1000
	m.SubscribeCatchUpTimeout = 5 * time.Second
	return m
}

// The map namespaces of centrifuge-js's test config reach the hub with
// every key it sets and Centrifugo's defaults for the rest.
func TestNodeConfigJSTestConfigMaps(t *testing.T) {
	cfg, _, err := config.Load(config.LoadOptions{File: "../../config/testdata/centrifuge_js_maps.json"})
	if err != nil {
		t.Fatal(err)
	}
	nc, err := nodeConfig(cfg, func(*config.Proxy) (*node.Proxy, error) { return nil, nil })
	if err != nil {
		t.Fatal(err)
	}
	persistent := mapPages(node.MapOptions{Mode: "persistent", StreamSize: 100, StreamTTL: time.Minute})
	ephemeral := func(ttl time.Duration) node.MapOptions {
		return mapPages(node.MapOptions{Mode: "ephemeral", KeyTTL: ttl})
	}
	streamless := ephemeral(time.Minute)
	streamless.AllowPublishForClient, streamless.AllowRemoveForClient = true, true
	smallstream := persistent
	smallstream.StreamSize = 2
	clientkey := ephemeral(time.Minute)
	clientkey.ClientKey, clientkey.AllowPublishForSubscriber = "client_id", true
	want := map[string]node.ChannelOptions{
		"streamless":  {SubscriptionType: "map", Map: streamless},
		"positioned":  {SubscriptionType: "map", Map: persistent},
		"smallstream": {SubscriptionType: "map", Map: smallstream},
		"mapdelta":    {SubscriptionType: "map", Map: persistent, DeltaFossil: true, DeltaPublish: true},
		"shortttl":    {SubscriptionType: "map", Map: ephemeral(3 * time.Second)},
		"clientkey":   {SubscriptionType: "map", Map: clientkey},
		"prestest":    {MapClientsPresenceChannelPrefix: "prescli:"},
		"prescli":     {SubscriptionType: "map_clients", Map: ephemeral(time.Minute)},
		"debounced":   {SubscriptionType: "map", Map: ephemeral(time.Minute)},
		"tagged":      {SubscriptionType: "map", Map: persistent, AllowTagsFilter: true},
	}
	seen := 0
	for _, ns := range nc.Channel.Namespaces {
		w, ok := want[ns.Name]
		if !ok {
			continue
		}
		seen++
		if !reflect.DeepEqual(ns.ChannelOptions, w) {
			t.Errorf("%s:\n got %+v\nwant %+v", ns.Name, ns.ChannelOptions, w)
		}
	}
	if seen != len(want) {
		t.Errorf("found %d of the %d map namespaces", seen, len(want))
	}
}

// The defaults that depend on the mode, the hub's spelling of "stream",
// and the map proxies bound like every other proxy.
func TestNodeConfigMapOptions(t *testing.T) {
	cfg, _, err := config.Load(config.LoadOptions{File: "c.json", Data: []byte(`{
  "proxies": [{"name": "writes", "endpoint": "grpc://app:10001"}],
  "channel": {"namespaces": [
    {"name": "long", "subscription_type": "map", "map": {"mode": "recoverable", "key_ttl": "20m"}},
    {"name": "short", "subscription_type": "map", "map": {"mode": "recoverable", "key_ttl": "30s", "stream_ttl": "2m"}},
    {"name": "set", "subscription_type": "map_users", "map": {"mode": "recoverable", "key_ttl": "30s", "stream_size": 10, "meta_ttl": "1h",
      "default_page_size": 20, "min_page_size": 10, "max_page_size": 50, "live_transition_max_publication_limit": 7, "subscribe_catch_up_timeout": "9s",
      "remove_client_on_unsubscribe": true, "publish_proxy_enabled": true, "publish_proxy_name": "writes"}},
    {"name": "plain", "subscription_type": "stream"}
  ]}
}`)})
	if err != nil {
		t.Fatal(err)
	}
	bound := map[string]*node.Proxy{}
	nc, err := nodeConfig(cfg, startBinder(func(*config.Proxy) (node.Backend, error) { return nil, nil }, bound))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]node.ChannelOptions{}
	for _, ns := range nc.Channel.Namespaces {
		got[ns.Name] = ns.ChannelOptions
	}
	// Recoverable: meta_ttl 0 is ten stream lifetimes, but never shorter
	// than a key's lifetime.
	if m := got["long"].Map; m.MetaTTL != 20*time.Minute || m.StreamSize != 100 || m.StreamTTL != time.Minute {
		t.Errorf("long: %+v", m)
	}
	if m := got["short"].Map; m.MetaTTL != 20*time.Minute || m.StreamTTL != 2*time.Minute {
		t.Errorf("short: %+v", m)
	}
	writes := bound["writes"]
	if writes == nil {
		t.Fatal("the map publish proxy was not bound")
	}
	want := node.MapOptions{Mode: "recoverable", KeyTTL: 30 * time.Second, StreamSize: 10, StreamTTL: time.Minute, MetaTTL: time.Hour,
		DefaultPageSize: 20, MinPageSize: 10, MaxPageSize: 50, LiveTransitionMaxPublicationLimit: 7, SubscribeCatchUpTimeout: 9 * time.Second,
		RemoveClientOnUnsubscribe: true, PublishProxyEnabled: true, PublishProxy: writes}
	if o := got["set"]; o.SubscriptionType != "map_users" || !reflect.DeepEqual(o.Map, want) {
		t.Errorf("set: %q\n got %+v\nwant %+v", o.SubscriptionType, o.Map, want)
	}
	if o := got["plain"]; o.SubscriptionType != "" || o.Map != (node.MapOptions{}) {
		t.Errorf("plain: %q %+v", o.SubscriptionType, o.Map)
	}
}

// plainEngine hides every method but engine.Engine's, as an engine that
// keeps no map channels (the Redis engine, until it does).
type plainEngine struct{ engine.Engine }

func TestNewMapBroker(t *testing.T) {
	mem := memory.New(memory.Options{})
	t.Cleanup(func() { _ = mem.Close(context.Background()) })
	plain := plainEngine{mem}
	for _, tc := range []struct {
		name, mapBroker, engineType string
		eng                         engine.Engine
		same, separate              bool
		err                         string
	}{
		{name: "memory maps in the memory engine", mapBroker: "memory", engineType: "memory", eng: mem, same: true},
		{name: "unset is memory", engineType: "memory", eng: mem, same: true},
		{name: "memory maps beside another engine", mapBroker: "memory", engineType: "redis", eng: plain, separate: true},
		{name: "redis maps in a redis engine that keeps maps", mapBroker: "redis", engineType: "redis", eng: mem, same: true},
		{name: "redis maps need the redis engine", mapBroker: "redis", engineType: "memory", eng: mem, err: "map_broker.type redis needs engine.type redis"},
		{name: "redis engine without maps", mapBroker: "redis", engineType: "redis", eng: plain, err: "does not keep map channels yet"},
		{name: "postgres", mapBroker: "postgres", engineType: "memory", eng: mem, err: `map_broker.type "postgres" is not supported`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := config.Default()
			cfg.MapBroker.Type, cfg.Engine.Type = tc.mapBroker, tc.engineType
			mb, release, err := newMapBroker(cfg, tc.eng)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer release()
			if got := mb == engine.MapBroker(mem); got != tc.same {
				t.Errorf("broker is the engine: %v, want %v", got, tc.same)
			}
			if tc.separate {
				if _, ok := mb.(*memory.Engine); !ok || mb == engine.MapBroker(mem) {
					t.Errorf("want a memory broker of its own, got %T", mb)
				}
				release()
				if _, err := mb.MapStats(context.Background(), "m:x"); err == nil {
					t.Error("release did not close the separate broker")
				}
			}
		})
	}
}

// The node gets its map broker: a key written through the server API is
// counted there, with the memory engine's own maps and with memory maps
// beside the Redis engine (run and closed by the node as a broker of its
// own).
func TestServerMapBrokerReachesTheNode(t *testing.T) {
	mapNamespace := map[string]any{
		"namespaces": []map[string]any{{"name": "mp", "subscription_type": "map", "map": map[string]any{"mode": "ephemeral", "key_ttl": "60s"}}},
	}
	for _, tc := range []struct {
		name  string
		extra func(t *testing.T) map[string]any
	}{
		{"memory engine", func(*testing.T) map[string]any { return mapNamespace }},
		{"redis engine, memory maps", func(t *testing.T) map[string]any {
			r := testredis.Start(t)
			extra := map[string]any{"engine": "redis", "redis_address": r.Addr()}
			for k, v := range mapNamespace {
				extra[k] = v
			}
			return extra
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := startServer(t, tc.extra(t))
			post := func(method, body string) string {
				req, _ := http.NewRequest("POST", "http://"+srv.HTTPAddr()+"/api/"+method, strings.NewReader(body))
				req.Header.Set("X-API-Key", "k")
				resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				b, _ := io.ReadAll(resp.Body)
				if resp.StatusCode != http.StatusOK {
					t.Fatalf("%s: HTTP %d %s", method, resp.StatusCode, b)
				}
				return string(b)
			}
			if got := post("map_publish", `{"channel":"mp:room","key":"k1","data":{"x":1}}`); strings.Contains(got, `"error"`) {
				t.Fatalf("map_publish: %s", got)
			}
			if got := post("map_stats", `{"channel":"mp:room"}`); !strings.Contains(got, `"num_keys":1`) {
				t.Fatalf("map_stats: %s, want one key", got)
			}
		})
	}
}
