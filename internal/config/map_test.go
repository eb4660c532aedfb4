package config

import (
	"strings"
	"testing"
	"time"
)

// Each map-subscription rule names the key it is about, at its line (the
// whole config is on line 2, so every key written is there), once.
func TestMapValidationErrors(t *testing.T) {
	ns := func(body string) string { return `"channel": {"namespaces": [` + body + `]}` }
	m := func(extra string) string {
		return ns(`{"name": "mp", "subscription_type": "map", "map": {` + extra + `}}`)
	}
	const k = "channel.namespaces[0]."
	tests := []struct {
		name, content, key, msg string
	}{
		{"unknown type", ns(`{"name": "pl", "subscription_type": "maps"}`), k + "subscription_type", `invalid value "maps": must be one of`},
		{"unknown mode", m(`"mode": "volatile", "key_ttl": "1s"`), k + "map.mode", `invalid value "volatile": must be one of "", "ephemeral", "recoverable", "persistent"`},
		{"mode required", m(`"key_ttl": "1s"`), "channel.namespaces[0]", "map.mode is required with subscription_type map"},
		{"ephemeral without key_ttl", m(`"mode": "ephemeral"`), k + "map.mode", "map.mode ephemeral needs map.key_ttl greater than 0"},
		{"ephemeral stream_size", m(`"mode": "ephemeral", "key_ttl": "1s", "stream_size": 5`), k + "map.stream_size", "map.stream_size must be 0 with map.mode ephemeral"},
		{"ephemeral stream_ttl", m(`"mode": "ephemeral", "key_ttl": "1s", "stream_ttl": "1m"`), k + "map.stream_ttl", "map.stream_ttl must be 0 with map.mode ephemeral"},
		{"ephemeral meta_ttl", m(`"mode": "ephemeral", "key_ttl": "1s", "meta_ttl": "1h"`), k + "map.meta_ttl", "map.meta_ttl must be 0 with map.mode ephemeral"},
		{"recoverable without key_ttl", m(`"mode": "recoverable"`), k + "map.mode", "map.mode recoverable needs map.key_ttl greater than 0"},
		{"recoverable zero key_ttl", m(`"mode": "recoverable", "key_ttl": "0s"`), k + "map.key_ttl", "needs map.key_ttl greater than 0"},
		{"persistent with key_ttl", m(`"mode": "persistent", "key_ttl": "10s"`), k + "map.key_ttl", "map.key_ttl must be 0 with map.mode persistent"},
		{"map_clients persistent", ns(`{"name": "cl", "subscription_type": "map_clients", "map": {"mode": "persistent"}}`), k + "map.mode", "map.mode persistent is not allowed with subscription_type map_clients"},
		{"map_users persistent", ns(`{"name": "us", "subscription_type": "map_users", "map": {"mode": "persistent"}}`), k + "map.mode", "not allowed with subscription_type map_users"},
		{"meta_ttl below stream_ttl", m(`"mode": "recoverable", "key_ttl": "10s", "stream_ttl": "60s", "meta_ttl": "30s"`), k + "map.meta_ttl", "map.meta_ttl (30s) must be at least map.stream_ttl (1m0s)"},
		{"meta_ttl below default stream_ttl", m(`"mode": "persistent", "meta_ttl": "30s"`), k + "map.meta_ttl", "must be at least map.stream_ttl (1m0s)"},
		{"negative stream_size", m(`"mode": "persistent", "stream_size": -1`), k + "map.stream_size", "must not be negative"},
		{"client_key value", m(`"mode": "persistent", "client_key": "session_id"`), k + "map.client_key", `must be one of "", "client_id", "user_id"`},
		{"client_key with publish proxy", m(`"mode": "persistent", "client_key": "client_id", "publish_proxy_enabled": true`), k + "map.client_key", "map.client_key cannot be combined with map.publish_proxy_enabled"},
		{"client_key with remove proxy", m(`"mode": "persistent", "client_key": "user_id", "remove_proxy_enabled": true`), k + "map.client_key", "map.client_key cannot be combined with map.remove_proxy_enabled"},
		{"min above max", m(`"mode": "persistent", "min_page_size": 200, "max_page_size": 100`), k + "map.min_page_size", "map.min_page_size (200) must not be greater than map.max_page_size (100)"},
		{"default above max", m(`"mode": "persistent", "default_page_size": 500, "max_page_size": 200`), k + "map.default_page_size", "map.default_page_size (500) must not be greater than map.max_page_size (200)"},
		{"default below min", m(`"mode": "persistent", "default_page_size": 150, "min_page_size": 200`), k + "map.default_page_size", "map.min_page_size (200) must not be greater than map.default_page_size (150)"},
		{"map options on a stream namespace", ns(`{"name": "st", "map": {"mode": "ephemeral"}}`), k + "map.mode", `map.mode has no effect (namespace "st"): subscription_type is "stream"`},
		{"remove_client_on_unsubscribe on a stream namespace", ns(`{"name": "st", "subscription_type": "stream", "map": {"remove_client_on_unsubscribe": true}}`), k + "map.remove_client_on_unsubscribe", "has no effect"},
		{"tags filter on a stream namespace", ns(`{"name": "st", "allow_tags_filter": true}`), k + "allow_tags_filter", "allow_tags_filter needs subscription_type map, map_clients or map_users"},
		{"presence prefix to a missing namespace", ns(`{"name": "gm", "map_clients_presence_channel_prefix": "nope:"}`), k + "map_clients_presence_channel_prefix", `map_clients_presence_channel_prefix "nope:" puts presence channels in namespace "nope", which is not defined`},
		{"presence prefix to the wrong type", ns(`{"name": "gm", "map_users_presence_channel_prefix": "cl:"}, {"name": "cl", "subscription_type": "map_clients", "map": {"mode": "ephemeral", "key_ttl": "60s"}}`), k + "map_users_presence_channel_prefix", `puts presence channels in namespace "cl", whose subscription_type is "map_clients", not "map_users"`},
		{"presence prefix to a stream namespace", ns(`{"name": "gm", "map_clients_presence_channel_prefix": "gm:"}`), k + "map_clients_presence_channel_prefix", `whose subscription_type is "stream", not "map_clients"`},
		{"presence prefix without boundary", ns(`{"name": "gm", "map_clients_presence_channel_prefix": "clients_"}`), k + "map_clients_presence_channel_prefix", "puts presence channels in channels without namespace"},
		{"unknown map publish proxy", m(`"mode": "persistent", "publish_proxy_enabled": true, "publish_proxy_name": "nope"`), k + "map.publish_proxy_name", `unknown proxy "nope"`},
		{"map publish proxy endpoint", `"channel": {"proxy": {"map_publish": {"endpoint": "tcp://app:1"}}}`, "channel.proxy.map_publish.endpoint", `unsupported scheme "tcp"`},
		{"map remove proxy timeout", `"channel": {"proxy": {"map_remove": {"endpoint": "app:1", "timeout": "0s"}}}`, "channel.proxy.map_remove.timeout", "proxy timeout must be greater than 0"},
		{"map broker postgres", `"map_broker": {"type": "postgres"}`, "map_broker.type", "the postgres map broker is not supported"},
		{"map broker unknown", `"map_broker": {"type": "nats"}`, "map_broker.type", `must be one of "memory", "redis", "postgres"`},
		{"redis map broker on memory engine", `"map_broker": {"type": "redis"}`, "map_broker.type", `map_broker.type redis needs engine.type redis (engine is "memory")`},
		{"postgres settings", `"map_broker": {"postgres": {"dsn": "postgres://x"}}`, "map_broker.postgres", "the PostgreSQL map broker is not supported"},
		{"redis cleanup_batch_size zero", `"map_broker": {"redis": {"cleanup_batch_size": 0}}`, "map_broker.redis.cleanup_batch_size", "must be"},
		{"redis idempotent_result_ttl", `"map_broker": {"redis": {"idempotent_result_ttl": "5m"}}`, "map_broker.redis.idempotent_result_ttl", "not supported yet"},
		{"redis skip_pub_sub", `"map_broker": {"redis": {"skip_pub_sub": true}}`, "map_broker.redis.skip_pub_sub", "not supported yet"},
		{"map broker unknown redis key", `"map_broker": {"redis": {"address": "r:6379"}}`, "map_broker.redis.address", `unknown key "map_broker.redis.address"`},
		// Maps arrived in Centrifugo v6: there is no flat top-level key.
		{"flat top-level subscription_type", `"subscription_type": "map"`, "subscription_type", `unknown key "subscription_type"`},
		{"top-level map option on stream channels", `"channel": {"without_namespace": {"map": {"mode": "ephemeral"}}}`, "channel.without_namespace.map.mode", "has no effect (channels without namespace)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := writeConfig(t, "config.json", "{\n"+tt.content+"\n}")
			errs := loadErrors(t, LoadOptions{File: p})
			if len(errs) != 1 {
				// One mistake, one message: checks that combine keys stay
				// quiet about a value already refused.
				t.Errorf("want exactly one error, got %d:\n%v", len(errs), (&Errors{List: errs}).Error())
			}
			for _, e := range errs {
				if e.Key == tt.key && strings.Contains(e.Msg, tt.msg) {
					if e.Line != 2 || e.Source != p {
						t.Fatalf("error %q at %s:%d, want line 2", e.Msg, e.Source, e.Line)
					}
					return
				}
			}
			t.Fatalf("no error for key %q containing %q; got:\n%v", tt.key, tt.msg, (&Errors{List: errs}).Error())
		})
	}
}

// A map option of channels without namespace that is not written has no
// line; the error still names the key it is about.
func TestMapValidationErrorWithoutLine(t *testing.T) {
	errs := loadErrors(t, LoadOptions{File: "c.json", Data: []byte(`{"channel": {"without_namespace": {"subscription_type": "map_users"}}}`)})
	for _, e := range errs {
		if e.Key == "channel.without_namespace.map.mode" && strings.Contains(e.Msg, "map.mode is required with subscription_type map_users (channels without namespace)") {
			return
		}
	}
	t.Fatalf("no error naming channel.without_namespace.map.mode: %v", (&Errors{List: errs}).Error())
}

// The map parts of centrifuge-js's own test config (centrifugo_test.json,
// spec §4.10; its shared-poll parts are centrifuge_js_shared_poll.json)
// load in the v6 layout with no warning but the suite's own choices and
// the debounce key.
func TestCentrifugeJSTestConfigMaps(t *testing.T) {
	cfg, warns := mustLoad(t, LoadOptions{File: "testdata/centrifuge_js_maps.json"})
	debounced := false
	for _, w := range warns {
		s := w.String()
		switch {
		case strings.Contains(s, "client.insecure"), strings.Contains(s, "hmac_secret_key"):
		case w.Key == "channel.namespaces[11].client_publish_debounce_interval":
			debounced = true
		default:
			t.Errorf("unexpected warning: %s", s)
		}
	}
	if !debounced {
		t.Errorf("no warning about client_publish_debounce_interval: %v", warns)
	}
	if cfg.MapBroker.Type != "memory" {
		t.Errorf(`"map_broker": {} is type %q, want memory`, cfg.MapBroker.Type)
	}
	byName := map[string]ChannelOptions{}
	for _, ns := range cfg.Channel.Namespaces {
		byName[ns.Name] = ns.ChannelOptions
	}
	for name, want := range map[string]struct {
		typ, mode string
		keyTTL    time.Duration
	}{
		"streamless": {"map", "ephemeral", time.Minute},
		"positioned": {"map", "persistent", 0},
		"mapdelta":   {"map", "persistent", 0},
		"shortttl":   {"map", "ephemeral", 3 * time.Second},
		"prescli":    {"map_clients", "ephemeral", time.Minute},
		"tagged":     {"map", "persistent", 0},
		"recovery":   {"", "", 0},
	} {
		o := byName[name]
		if o.SubscriptionType != want.typ || o.Map.Mode != want.mode || o.Map.KeyTTL != want.keyTTL {
			t.Errorf("%s: type %q mode %q key_ttl %s, want %q %q %s", name, o.SubscriptionType, o.Map.Mode, o.Map.KeyTTL, want.typ, want.mode, want.keyTTL)
		}
	}
	if o := byName["smallstream"].Map; o.StreamSize != 2 || o.StreamTTL != time.Minute {
		t.Errorf("smallstream: %+v", o)
	}
	if o := byName["clientkey"].Map; o.ClientKey != "client_id" || !o.AllowPublishForSubscriber {
		t.Errorf("clientkey: %+v", o)
	}
	if o := byName["streamless"].Map; !o.AllowPublishForClient || !o.AllowRemoveForClient {
		t.Errorf("streamless: %+v", o)
	}
	if p := byName["prestest"].MapClientsPresenceChannelPrefix; p != "prescli:" {
		t.Errorf("prestest prefix %q", p)
	}
	if !byName["tagged"].AllowTagsFilter || !byName["mapdelta"].DeltaPublish {
		t.Errorf("tagged %+v, mapdelta %+v", byName["tagged"], byName["mapdelta"])
	}
}

// client_publish_debounce_interval is accepted wherever Centrifugo PRO
// reads it, and each time the warning says by name that it is ignored.
func TestDebounceIntervalWarns(t *testing.T) {
	const want = "client_publish_debounce_interval is a Centrifugo PRO option; Spindle, like Centrifugo OSS, ignores it: client publications are not debounced"
	for _, tc := range []struct {
		name, data string
		env        []string
		key        string
	}{
		{"namespace", `{"namespaces": [{"name": "db", "client_publish_debounce_interval": "50ms"}]}`, nil, "namespaces[0].client_publish_debounce_interval"},
		{"without namespace", `{"channel": {"without_namespace": {"client_publish_debounce_interval": "50ms"}}}`, nil, "channel.without_namespace.client_publish_debounce_interval"},
		{"env", `{}`, []string{"CENTRIFUGO_CHANNEL_WITHOUT_NAMESPACE_CLIENT_PUBLISH_DEBOUNCE_INTERVAL=50ms"}, "CENTRIFUGO_CHANNEL_WITHOUT_NAMESPACE_CLIENT_PUBLISH_DEBOUNCE_INTERVAL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, warns := mustLoad(t, LoadOptions{File: "c.json", Data: []byte(tc.data), Env: tc.env})
			for _, w := range warns {
				if w.Key == tc.key && w.Msg == want {
					return
				}
			}
			t.Fatalf("no warning %q on %s: %v", want, tc.key, warns)
		})
	}
}

// The map write proxies resolve like the namespace's other proxies: a
// name picks from proxies[], no name (or "default") the v6
// channel.proxy.map_publish / map_remove object, which inherits the flat
// shared proxy options like every per-event proxy.
func TestMapProxies(t *testing.T) {
	cfg, warns := mustLoad(t, LoadOptions{File: "c.json", Data: []byte(`{
  "proxy_http_headers": ["Cookie"],
  "channel": {
    "proxy": {"map_publish": {"endpoint": "grpc://app:10001", "timeout": "2s"}},
    "namespaces": [
      {"name": "byname", "subscription_type": "map", "map": {"mode": "persistent",
       "publish_proxy_enabled": true, "publish_proxy_name": "writes", "remove_proxy_enabled": true, "remove_proxy_name": "writes"}},
      {"name": "default", "subscription_type": "map", "map": {"mode": "persistent", "publish_proxy_enabled": true, "publish_proxy_name": "default"}},
      {"name": "off", "subscription_type": "map", "map": {"mode": "persistent", "publish_proxy_name": "writes"}}
    ]
  },
  "proxies": [{"name": "writes", "endpoint": "http://app:3000/map"}]
}`)})
	ns := cfg.Channel.Namespaces
	if p := ns[0].Map.PublishProxy; p == nil || p.Name != "writes" || ns[0].Map.RemoveProxy != p {
		t.Errorf("named: publish %+v remove %+v", p, ns[0].Map.RemoveProxy)
	}
	if p := ns[1].Map.PublishProxy; p == nil || p != cfg.Proxy.MapPublish || p.Endpoint != "grpc://app:10001" || p.Timeout != 2*time.Second || p.HTTPHeaders[0] != "Cookie" {
		t.Errorf("default: %+v", p)
	}
	if ns[1].Map.RemoveProxy != nil || cfg.Proxy.MapRemove != nil {
		t.Errorf("remove proxy is off, got %+v / %+v", ns[1].Map.RemoveProxy, cfg.Proxy.MapRemove)
	}
	if ns[2].Map.PublishProxy != nil || ns[2].Map.PublishProxyEnabled {
		t.Errorf("a name alone must not switch a v6 map proxy on: %+v", ns[2].Map)
	}
	if !hasWarning(warns, "map.publish_proxy_name has no effect while map.publish_proxy_enabled is off") {
		t.Errorf("no warning about the unused name: %v", warns)
	}

	_, warns = mustLoad(t, LoadOptions{File: "c.json", Data: []byte(`{"namespaces": [{"name": "mp", "subscription_type": "map", "map": {"mode": "persistent", "remove_proxy_enabled": true}}]}`)})
	if !hasWarning(warns, "map.remove_proxy_enabled is on but no proxy is configured for it: requests will fail with error 108; set map.remove_proxy_name or channel.proxy.map_remove.endpoint") {
		t.Errorf("no warning about the missing proxy: %v", warns)
	}
}

// Map options are v6 keys, but a namespace object reads the same in both
// layouts, so a flat v5 file's namespaces take them too; env variables
// reach the top-level ones and the map broker.
func TestMapKeysInFlatNamespacesAndEnv(t *testing.T) {
	cfg, _ := mustLoad(t, LoadOptions{File: "c.json", Data: []byte(`{"engine": "redis", "namespaces": [{"name": "mp", "subscription_type": "map", "map": {"mode": "recoverable", "key_ttl": "30s"}}]}`),
		Env: []string{
			"CENTRIFUGO_MAP_BROKER_TYPE=redis",
			"CENTRIFUGO_CHANNEL_WITHOUT_NAMESPACE_SUBSCRIPTION_TYPE=map_users",
			"CENTRIFUGO_CHANNEL_WITHOUT_NAMESPACE_MAP_MODE=ephemeral",
			"CENTRIFUGO_CHANNEL_WITHOUT_NAMESPACE_MAP_KEY_TTL=20s",
		}})
	if cfg.MapBroker.Type != "redis" || cfg.Channel.Namespaces[0].Map.KeyTTL != 30*time.Second {
		t.Errorf("map broker %q, namespace %+v", cfg.MapBroker.Type, cfg.Channel.Namespaces[0].Map)
	}
	if o := cfg.Channel.WithoutNamespace; o.SubscriptionType != "map_users" || o.Map.Mode != "ephemeral" || o.Map.KeyTTL != 20*time.Second {
		t.Errorf("without namespace from env: %q %+v", o.SubscriptionType, o.Map)
	}
}

func TestMapWarnings(t *testing.T) {
	for _, tc := range []struct{ name, data, key, msg string }{
		{"memory maps on a redis engine", `{"engine": "redis", "namespaces": [{"name": "mp", "subscription_type": "map", "map": {"mode": "persistent"}}]}`,
			"map_broker.type", "each node keeps its own map channels"},
		{"default page size below the default minimum", `{"namespaces": [{"name": "mp", "subscription_type": "map", "map": {"mode": "persistent", "default_page_size": 50}}]}`,
			"namespaces[0].map.default_page_size", "map.default_page_size (50) is less than the default map.min_page_size (100)"},
		{"minimum above the default maximum", `{"namespaces": [{"name": "mp", "subscription_type": "map", "map": {"mode": "persistent", "min_page_size": 2000, "default_page_size": 2000}}]}`,
			"namespaces[0].map.min_page_size", "map.min_page_size (2000) is greater than the default map.max_page_size (1000)"},
		{"deltas on an ephemeral map", `{"namespaces": [{"name": "mp", "subscription_type": "map", "allowed_delta_types": ["fossil"], "map": {"mode": "ephemeral", "key_ttl": "1s"}}]}`,
			"namespaces[0].allowed_delta_types", "with map.mode ephemeral, subscribers asking for fossil get whole publications"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, warns := mustLoad(t, LoadOptions{File: "c.json", Data: []byte(tc.data)})
			for _, w := range warns {
				if w.Key == tc.key && strings.Contains(w.Msg, tc.msg) {
					return
				}
			}
			t.Fatalf("no warning on %s containing %q: %v", tc.key, tc.msg, warns)
		})
	}
	// A stream-backed map does deltas from its own stream, without history.
	_, warns := mustLoad(t, LoadOptions{File: "c.json", Data: []byte(`{"namespaces": [{"name": "mp", "subscription_type": "map", "allowed_delta_types": ["fossil"], "map": {"mode": "persistent"}}]}`)})
	if hasWarning(warns, "deltas need") {
		t.Errorf("a persistent map needs no history for deltas: %v", warns)
	}
}

// A reload names the map keys that changed.
func TestMapChanges(t *testing.T) {
	load := func(data string) *Config {
		cfg, _ := mustLoad(t, LoadOptions{File: "c.json", Data: []byte(data)})
		return cfg
	}
	old := load(`{"namespaces": [{"name": "mp", "subscription_type": "map", "map": {"mode": "ephemeral", "key_ttl": "1s"}}]}`)
	changed := load(`{"engine": "redis", "map_broker": {"type": "redis"}, "namespaces": [{"name": "mp", "subscription_type": "map", "map": {"mode": "ephemeral", "key_ttl": "2s"}}]}`)
	keys := map[string]string{}
	for _, c := range Changes(old, changed) {
		keys[c.Key] = c.Field
	}
	if keys["namespaces[mp].map.key_ttl"] != "Channel.Namespaces" || keys["map_broker.type"] != "MapBroker.Type" {
		t.Errorf("changes %v", keys)
	}
}

func TestRedisMapBrokerCleanupKeys(t *testing.T) {
	cfg, _ := mustLoad(t, LoadOptions{File: "c.json", Data: []byte(`{"engine": {"type": "redis"}, "map_broker": {"type": "redis", "redis": {"cleanup_interval": "250ms", "cleanup_batch_size": 500}}}`)})
	if cfg.MapBroker.RedisCleanupInterval != 250*time.Millisecond || cfg.MapBroker.RedisCleanupBatchSize != 500 {
		t.Fatalf("map broker = %+v", cfg.MapBroker)
	}
	def, _ := mustLoad(t, LoadOptions{File: "c.json", Data: []byte(`{}`)})
	if def.MapBroker.RedisCleanupInterval != time.Second || def.MapBroker.RedisCleanupBatchSize != 100 {
		t.Fatalf("defaults = %+v", def.MapBroker)
	}
}

// The whole of centrifuge-js's test config (maps, shared poll, transports,
// delta, recovery; mock backends on 127.0.0.1) loads, with the one warning
// for its PRO key.
func TestCentrifugeJSTestConfigWhole(t *testing.T) {
	cfg, warnings, err := Load(LoadOptions{File: "testdata/centrifuge_js_test.json"})
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	if len(cfg.Channel.Namespaces) != 16 || cfg.SharedPoll.HMACSecretKey != "test-poll-secret" || !cfg.HTTPStream.Enabled {
		t.Fatalf("loaded %d namespaces, shared poll %+v", len(cfg.Channel.Namespaces), cfg.SharedPoll)
	}
	pro := 0
	for _, w := range warnings {
		if strings.Contains(w.String(), "client_publish_debounce_interval is a Centrifugo PRO option") {
			pro++
		}
	}
	if pro != 1 {
		t.Fatalf("warnings %v, want one about the PRO debounce key", warnings)
	}
}
