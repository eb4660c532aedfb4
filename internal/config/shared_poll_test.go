package config

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// pollSecret is long enough not to be warned about.
const pollSecret = "poll-secret-0123456789abcdef-0123456789"

// Each shared-poll rule names the key it is about, at its line (the whole
// config is on line 2), once. The base config has the HMAC key and a
// proxy, so each case holds exactly one mistake.
func TestSharedPollValidationErrors(t *testing.T) {
	base := `"shared_poll": {"hmac_secret_key": "` + pollSecret + `"}, "proxies": [{"name": "pb", "endpoint": "http://127.0.0.1:3010/refresh"}], `
	ns := func(body string) string { return base + `"channel": {"namespaces": [` + body + `]}` }
	sp := func(extra string) string {
		return ns(`{"name": "pl", "subscription_type": "shared_poll", "shared_poll": {"proxy_name": "pb"` + extra + `}}`)
	}
	const k = "channel.namespaces[0]."
	tests := []struct {
		name, content, key, msg string
	}{
		{"shared_poll options on a stream namespace", ns(`{"name": "st", "shared_poll": {"refresh_interval": "1s"}}`), k + "shared_poll.refresh_interval",
			`shared_poll.refresh_interval has no effect (namespace "st"): subscription_type is "stream"; shared_poll options need subscription_type shared_poll`},
		{"shared_poll options on a map namespace", ns(`{"name": "mp", "subscription_type": "map", "map": {"mode": "persistent"}, "shared_poll": {"proxy_name": "pb"}}`), k + "shared_poll.proxy_name",
			`shared_poll.proxy_name has no effect (namespace "mp"): subscription_type is "map"`},
		{"publish_enabled on a stream namespace", ns(`{"name": "st", "subscription_type": "stream", "shared_poll": {"publish_enabled": true}}`), k + "shared_poll.publish_enabled", "has no effect"},
		{"map options on a shared_poll namespace", ns(`{"name": "pl", "subscription_type": "shared_poll", "shared_poll": {"proxy_name": "pb"}, "map": {"mode": "persistent"}}`), k + "map.mode",
			`map.mode has no effect (namespace "pl"): subscription_type is "shared_poll"`},
		{"tags filter on a shared_poll namespace", ns(`{"name": "pl", "subscription_type": "shared_poll", "shared_poll": {"proxy_name": "pb"}, "allow_tags_filter": true}`), k + "allow_tags_filter",
			"allow_tags_filter needs subscription_type map, map_clients or map_users"},
		{"no proxy at all", ns(`{"name": "pl", "subscription_type": "shared_poll"}`), "channel.namespaces[0]",
			`shared_poll.proxy_name is required with subscription_type shared_poll when channel.proxy.shared_poll_refresh is not configured (namespace "pl")`},
		{"default proxy not configured", ns(`{"name": "pl", "subscription_type": "shared_poll", "shared_poll": {"proxy_name": "default"}}`), k + "shared_poll.proxy_name",
			"set channel.proxy.shared_poll_refresh.endpoint"},
		{"unknown proxy", ns(`{"name": "pl", "subscription_type": "shared_poll", "shared_poll": {"proxy_name": "nope"}}`), k + "shared_poll.proxy_name",
			`unknown proxy "nope" (proxies defines "pb")`},
		{"unknown mode", sp(`, "mode": "diff"`), k + "shared_poll.mode", `invalid value "diff": must be one of "", "versionless", "versioned"`},
		{"publish_enabled in the default mode", sp(`, "publish_enabled": true`), k + "shared_poll.publish_enabled",
			`shared_poll.publish_enabled needs shared_poll.mode versioned (namespace "pl"; the mode is versionless, the default)`},
		{"publish_enabled versionless", sp(`, "mode": "versionless", "publish_enabled": true`), k + "shared_poll.publish_enabled", "needs shared_poll.mode versioned"},
		{"publish_enabled with a refused mode", sp(`, "mode": "Versioned", "publish_enabled": true`), k + "shared_poll.mode", `(did you mean "versioned"?)`},
		{"negative refresh_batch_size", sp(`, "refresh_batch_size": -1`), k + "shared_poll.refresh_batch_size", "must not be negative, got -1"},
		{"negative max_keys_per_connection", sp(`, "max_keys_per_connection": -5`), k + "shared_poll.max_keys_per_connection", "must not be negative, got -5"},
		{"fractional refresh_batch_size", sp(`, "refresh_batch_size": 1.5`), k + "shared_poll.refresh_batch_size", "must be a whole number"},
		{"negative refresh_interval", sp(`, "refresh_interval": "-200ms"`), k + "shared_poll.refresh_interval", "must not be negative"},
		{"bare number refresh_interval", sp(`, "refresh_interval": 200`), k + "shared_poll.refresh_interval", `bare number 200 is not a duration`},
		{"negative channel_shutdown_delay", sp(`, "channel_shutdown_delay": "-1s"`), k + "shared_poll.channel_shutdown_delay", "must not be negative"},
		{"negative track_expired_extra_delay", sp(`, "track_expired_extra_delay": "-1s"`), k + "shared_poll.track_expired_extra_delay", "must not be negative"},
		{"publish_enabled not a bool", sp(`, "publish_enabled": "yes"`), k + "shared_poll.publish_enabled", "must be true or false"},
		{"top-level key inside a namespace", sp(`, "hmac_secret_key": "x"`), k + "shared_poll.hmac_secret_key", "it is a top-level key, not a namespace option"},
		{"hmac key written empty", `"shared_poll": {"hmac_secret_key": ""}, "proxies": [{"name": "pb", "endpoint": "http://127.0.0.1:3010/refresh"}], "channel": {"namespaces": [{"name": "pl", "subscription_type": "shared_poll", "shared_poll": {"proxy_name": "pb"}}]}`,
			"shared_poll.hmac_secret_key", `required: namespace "pl" has subscription_type shared_poll at line 2`},
		{"negative valid_until", base + `"shared_poll.hmac_previous_secret_key_valid_until": -1`, "shared_poll.hmac_previous_secret_key_valid_until", "must not be negative"},
		{"valid_until as a date", `"shared_poll": {"hmac_previous_secret_key_valid_until": "2026-01-01T00:00:00Z"}`, "shared_poll.hmac_previous_secret_key_valid_until", "must be a whole number"},
		{"negative concurrency_limit", `"shared_poll": {"concurrency_limit": -1}`, "shared_poll.concurrency_limit", "must not be negative"},
		{"refresh proxy endpoint", `"channel": {"proxy": {"shared_poll_refresh": {"endpoint": "tcp://app:1"}}}`, "channel.proxy.shared_poll_refresh.endpoint", `unsupported scheme "tcp"`},
		{"refresh proxy timeout", `"channel": {"proxy": {"shared_poll_refresh": {"endpoint": "app:1", "timeout": "0s"}}}`, "channel.proxy.shared_poll_refresh.timeout", "proxy timeout must be greater than 0"},
		// Shared poll arrived in Centrifugo v6: the namespace keys have no
		// top-level spelling but under channel.without_namespace.
		{"namespace key at the top level", `"shared_poll": {"proxy_name": "pb"}`, "shared_poll.proxy_name", `unknown key "shared_poll.proxy_name"`},
		{"flat spelling", `"shared_poll_hmac_secret_key": "x"`, "shared_poll_hmac_secret_key", `unknown key "shared_poll_hmac_secret_key"`},
		{"shared_poll options on stream channels without namespace", base + `"channel": {"without_namespace": {"shared_poll": {"mode": "versioned"}}}`,
			"channel.without_namespace.shared_poll.mode", "has no effect (channels without namespace)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := writeConfig(t, "config.json", "{\n"+tt.content+"\n}")
			errs := loadErrors(t, LoadOptions{File: p})
			if len(errs) != 1 {
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

// Errors about keys that are not written have no line; they still name
// the key, and where the requirement comes from.
func TestSharedPollValidationErrorsWithoutLine(t *testing.T) {
	for _, tc := range []struct{ name, data, key, msg string }{
		{"hmac key required by a namespace",
			`{"proxies": [{"name": "pb", "endpoint": "grpc://127.0.0.1:1"}],
  "namespaces": [{"name": "pl", "subscription_type": "shared_poll", "shared_poll": {"proxy_name": "pb"}}]}`,
			"shared_poll.hmac_secret_key", `required: namespace "pl" has subscription_type shared_poll at line 2, and its clients' track requests are verified with this key`},
		{"hmac key required by channels without namespace",
			`{"channel": {"proxy": {"shared_poll_refresh": {"endpoint": "grpc://127.0.0.1:1"}}, "without_namespace": {"subscription_type": "shared_poll"}}}`,
			"shared_poll.hmac_secret_key", "required: channel.without_namespace has subscription_type shared_poll at line 1"},
		{"proxy of channels without namespace",
			`{"shared_poll": {"hmac_secret_key": "` + pollSecret + `"}, "channel": {"without_namespace": {"subscription_type": "shared_poll"}}}`,
			"channel.without_namespace.shared_poll.proxy_name", "shared_poll.proxy_name is required with subscription_type shared_poll when channel.proxy.shared_poll_refresh is not configured (channels without namespace)"},
		{"granular mode ignores the default proxy",
			`{"granular_proxy_mode": true, "shared_poll": {"hmac_secret_key": "` + pollSecret + `"},
  "namespaces": [{"name": "pl", "subscription_type": "shared_poll"}]}`,
			"namespaces[0]", "granular_proxy_mode is on, so channel.proxy.shared_poll_refresh.endpoint is not used"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			errs := loadErrors(t, LoadOptions{File: "c.json", Data: []byte(tc.data)})
			if len(errs) != 1 {
				t.Errorf("want exactly one error, got %d:\n%v", len(errs), (&Errors{List: errs}).Error())
			}
			for _, e := range errs {
				if e.Key == tc.key && strings.Contains(e.Msg, tc.msg) {
					return
				}
			}
			t.Fatalf("no error naming %s containing %q: %v", tc.key, tc.msg, (&Errors{List: errs}).Error())
		})
	}
}

func TestSharedPollWarnings(t *testing.T) {
	const proxy = `"proxies": [{"name": "pb", "endpoint": "http://127.0.0.1:3010/refresh"}]`
	pollNS := func(extra string) string {
		return `{"shared_poll": {"hmac_secret_key": "` + pollSecret + `"}, ` + proxy + `, "namespaces": [{"name": "pl", "subscription_type": "shared_poll", "shared_poll": {"proxy_name": "pb"}` + extra + `}]}`
	}
	for _, tc := range []struct{ name, data, key, msg string }{
		{"history_size", pollNS(`, "history_size": 10`), "namespaces[0].history_size",
			`history_size has no effect with subscription_type shared_poll (namespace "pl"): shared-poll channels keep no history`},
		{"history_ttl", pollNS(`, "history_ttl": "60s"`), "namespaces[0].history_ttl", "history_ttl has no effect with subscription_type shared_poll"},
		{"force_recovery", pollNS(`, "force_recovery": true`), "namespaces[0].force_recovery", "force_recovery has no effect"},
		{"allow_recovery", pollNS(`, "allow_recovery": true`), "namespaces[0].allow_recovery", "allow_recovery has no effect"},
		{"force_positioning", pollNS(`, "force_positioning": true`), "namespaces[0].force_positioning", "force_positioning has no effect"},
		{"allow_positioning", pollNS(`, "allow_positioning": true`), "namespaces[0].allow_positioning", "allow_positioning has no effect"},
		{"force_recovery_mode", pollNS(`, "force_recovery_mode": "cache"`), "namespaces[0].force_recovery_mode", "force_recovery_mode has no effect"},
		{"history_meta_ttl", pollNS(`, "history_meta_ttl": "1h"`), "namespaces[0].history_meta_ttl", "history_meta_ttl has no effect"},
		{"short hmac key", `{"shared_poll": {"hmac_secret_key": "short"}}`, "shared_poll.hmac_secret_key", "is 5 bytes: anyone holding one track signature can guess it offline"},
		{"short previous key", `{"shared_poll": {"hmac_previous_secret_key": "old"}}`, "shared_poll.hmac_previous_secret_key", "is 3 bytes"},
		{"valid_until without a previous key", `{"shared_poll": {"hmac_previous_secret_key_valid_until": 1735689600}}`, "shared_poll.hmac_previous_secret_key_valid_until",
			"has no effect: shared_poll.hmac_previous_secret_key is not set"},
		{"valid_until in milliseconds", `{"shared_poll": {"hmac_previous_secret_key": "` + pollSecret + `x", "hmac_previous_secret_key_valid_until": 1735689600000}}`,
			"shared_poll.hmac_previous_secret_key_valid_until", "the value is seconds, not milliseconds"},
		{"top-level keys without a shared_poll namespace", `{"shared_poll": {"concurrency_limit": 8}}`, "shared_poll.concurrency_limit",
			"has no effect: no namespace (nor channel.without_namespace) has subscription_type shared_poll"},
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
	// History options do nothing there, so their pairing rules (an error
	// elsewhere) stay quiet, and deltas need no history: an item's base is
	// the version its subscriber holds.
	_, warns := mustLoad(t, LoadOptions{File: "c.json", Data: []byte(pollNS(`, "force_recovery": true, "history_size": 5, "allowed_delta_types": ["fossil"], "presence": true, "join_leave": true`))})
	for _, w := range warns {
		if strings.Contains(w.Msg, "deltas need") || strings.Contains(w.Msg, "presence") || strings.Contains(w.Msg, "join_leave") {
			t.Errorf("unexpected warning: %s", w)
		}
	}
}

// The shared-poll parts of centrifuge-js's own test config
// (centrifugo_test.json, spec §4.10, backends on 127.0.0.1 instead of
// host.docker.internal) load with no warning but the suite's own choices.
func TestCentrifugeJSTestConfigSharedPoll(t *testing.T) {
	cfg, warns := mustLoad(t, LoadOptions{File: "testdata/centrifuge_js_shared_poll.json"})
	for _, w := range warns {
		s := w.String()
		switch {
		case strings.Contains(s, "client.insecure"), strings.Contains(s, "hmac_secret_key: is "):
			// client.insecure, and the suite's short secrets.
		default:
			t.Errorf("unexpected warning: %s", s)
		}
	}
	if cfg.SharedPoll.HMACSecretKey != "test-poll-secret" {
		t.Errorf("shared_poll.hmac_secret_key = %q", cfg.SharedPoll.HMACSecretKey)
	}
	proxies := map[string]*Proxy{}
	for i := range cfg.Proxy.Named {
		proxies[cfg.Proxy.Named[i].Name] = &cfg.Proxy.Named[i]
	}
	if p := proxies["poll_backend_pb"]; p == nil || p.Endpoint != "http://127.0.0.1:3011/refresh" || p.Timeout != 5*time.Second {
		t.Fatalf("poll_backend_pb: %+v", p)
	}
	want := map[string]SharedPollOptions{
		"poll":   {ProxyName: "poll_backend", Proxy: proxies["poll_backend"], Mode: "versioned"},
		"pollvl": {ProxyName: "poll_backend", Proxy: proxies["poll_backend"], Mode: "versionless"},
		"pollpb": {ProxyName: "poll_backend_pb", Proxy: proxies["poll_backend_pb"], Mode: "versioned"},
	}
	for _, ns := range cfg.Channel.Namespaces {
		w, ok := want[ns.Name]
		if !ok {
			t.Errorf("unexpected namespace %q", ns.Name)
			continue
		}
		delete(want, ns.Name)
		w.RefreshInterval, w.RefreshBatchSize, w.MaxKeysPerConnection = 200*time.Millisecond, 100, 100
		if ns.SubscriptionType != "shared_poll" || ns.SharedPoll != w {
			t.Errorf("%s: type %q\n got %+v\nwant %+v", ns.Name, ns.SubscriptionType, ns.SharedPoll, w)
		}
	}
	if len(want) > 0 {
		t.Errorf("namespaces missing: %v", want)
	}
}

// The refresh proxy resolves like the map proxies: a name picks from
// proxies[], no name (or "default") the v6 channel.proxy.shared_poll_refresh
// object, which inherits the flat shared proxy options like every
// per-event proxy.
func TestSharedPollProxies(t *testing.T) {
	cfg, _ := mustLoad(t, LoadOptions{File: "c.json", Data: []byte(`{
  "proxy_http_headers": ["Cookie"],
  "shared_poll": {"hmac_secret_key": "` + pollSecret + `"},
  "proxies": [{"name": "votes", "endpoint": "http://app:3000/refresh"}],
  "channel": {
    "proxy": {"shared_poll_refresh": {"endpoint": "grpc://app:10001", "timeout": "3s"}},
    "without_namespace": {"subscription_type": "shared_poll"},
    "namespaces": [
      {"name": "byname", "subscription_type": "shared_poll", "shared_poll": {"proxy_name": "votes"}},
      {"name": "default", "subscription_type": "shared_poll", "shared_poll": {"proxy_name": "default"}},
      {"name": "unnamed", "subscription_type": "shared_poll"},
      {"name": "stream"}
    ]
  }
}`)})
	ns := cfg.Channel.Namespaces
	if p := ns[0].SharedPoll.Proxy; p == nil || p != &cfg.Proxy.Named[0] {
		t.Errorf("named: %+v", p)
	}
	def := cfg.Proxy.SharedPollRefresh
	if def == nil || def.Name != "shared_poll_refresh" || def.Endpoint != "grpc://app:10001" || def.Timeout != 3*time.Second || len(def.HTTPHeaders) != 1 || def.HTTPHeaders[0] != "Cookie" {
		t.Fatalf("channel.proxy.shared_poll_refresh: %+v", def)
	}
	if ns[1].SharedPoll.Proxy != def || ns[1].SharedPoll.ProxyName != "" || ns[2].SharedPoll.Proxy != def || cfg.Channel.WithoutNamespace.SharedPoll.Proxy != def {
		t.Errorf(`"default", no name and channels without namespace must use channel.proxy.shared_poll_refresh: %+v %+v %+v`,
			ns[1].SharedPoll, ns[2].SharedPoll, cfg.Channel.WithoutNamespace.SharedPoll)
	}
	if ns[3].SharedPoll.Proxy != nil {
		t.Errorf("a stream namespace got a refresh proxy: %+v", ns[3].SharedPoll)
	}
}

// The namespace keys are v6 keys, but a namespace object reads the same in
// both layouts, so a flat v5 file's namespaces take them; env variables
// reach the top-level ones, those of channels without namespace and the
// refresh proxy; YAML and TOML read them too.
func TestSharedPollKeysInFlatNamespacesEnvAndFormats(t *testing.T) {
	cfg, _ := mustLoad(t, LoadOptions{File: "c.json",
		Data: []byte(`{"token_hmac_secret_key": "x", "namespaces": [{"name": "pl", "subscription_type": "shared_poll", "shared_poll": {"mode": "versioned", "publish_enabled": true,
  "channel_shutdown_delay": "3s", "track_expired_extra_delay": "40s", "refresh_interval": "1s", "refresh_batch_size": 10, "max_keys_per_connection": 20}}]}`),
		Env: []string{
			"CENTRIFUGO_SHARED_POLL_HMAC_SECRET_KEY=" + pollSecret,
			"CENTRIFUGO_SHARED_POLL_HMAC_PREVIOUS_SECRET_KEY=" + pollSecret + "-old",
			"CENTRIFUGO_SHARED_POLL_HMAC_PREVIOUS_SECRET_KEY_VALID_UNTIL=1735689600",
			"CENTRIFUGO_SHARED_POLL_CONCURRENCY_LIMIT=16",
			"CENTRIFUGO_CHANNEL_PROXY_SHARED_POLL_REFRESH_ENDPOINT=http://127.0.0.1:3010/refresh",
			"CENTRIFUGO_CHANNEL_PROXY_SHARED_POLL_REFRESH_TIMEOUT=5s",
			"CENTRIFUGO_CHANNEL_WITHOUT_NAMESPACE_SUBSCRIPTION_TYPE=shared_poll",
			"CENTRIFUGO_CHANNEL_WITHOUT_NAMESPACE_SHARED_POLL_MODE=versionless",
			"CENTRIFUGO_CHANNEL_WITHOUT_NAMESPACE_SHARED_POLL_REFRESH_INTERVAL=250ms",
		}})
	want := SharedPoll{HMACSecretKey: pollSecret, HMACPreviousSecretKey: pollSecret + "-old", HMACPreviousSecretKeyValidUntil: 1735689600, ConcurrencyLimit: 16}
	if cfg.SharedPoll != want {
		t.Errorf("shared_poll from env: %+v", cfg.SharedPoll)
	}
	def := cfg.Proxy.SharedPollRefresh
	if def == nil || def.Endpoint != "http://127.0.0.1:3010/refresh" || def.Timeout != 5*time.Second {
		t.Fatalf("refresh proxy from env: %+v", def)
	}
	if o := cfg.Channel.WithoutNamespace; o.SubscriptionType != "shared_poll" || o.SharedPoll.Mode != "versionless" || o.SharedPoll.RefreshInterval != 250*time.Millisecond || o.SharedPoll.Proxy != def {
		t.Errorf("without namespace from env: %q %+v", o.SubscriptionType, o.SharedPoll)
	}
	wantNS := SharedPollOptions{Proxy: def, Mode: "versioned", PublishEnabled: true, ChannelShutdownDelay: 3 * time.Second, TrackExpiredExtraDelay: 40 * time.Second,
		RefreshInterval: time.Second, RefreshBatchSize: 10, MaxKeysPerConnection: 20}
	if got := cfg.Channel.Namespaces[0].SharedPoll; got != wantNS {
		t.Errorf("flat namespace:\n got %+v\nwant %+v", got, wantNS)
	}

	for _, f := range []struct{ file, data string }{
		{"c.yaml", "shared_poll:\n  hmac_secret_key: " + pollSecret + "\n  hmac_previous_secret_key_valid_until: 1735689600\nproxies:\n  - name: pb\n    endpoint: http://127.0.0.1:3010/refresh\n" +
			"channel:\n  namespaces:\n    - name: pl\n      subscription_type: shared_poll\n      shared_poll:\n        proxy_name: pb\n        refresh_interval: 200ms\n"},
		{"c.toml", "[shared_poll]\nhmac_secret_key = \"" + pollSecret + "\"\nhmac_previous_secret_key_valid_until = 1735689600\n[[proxies]]\nname = \"pb\"\nendpoint = \"http://127.0.0.1:3010/refresh\"\n" +
			"[[channel.namespaces]]\nname = \"pl\"\nsubscription_type = \"shared_poll\"\n[channel.namespaces.shared_poll]\nproxy_name = \"pb\"\nrefresh_interval = \"200ms\"\n"},
	} {
		cfg, _ := mustLoad(t, LoadOptions{File: f.file, Data: []byte(f.data)})
		o := cfg.Channel.Namespaces[0].SharedPoll
		if cfg.SharedPoll.HMACSecretKey != pollSecret || cfg.SharedPoll.HMACPreviousSecretKeyValidUntil != 1735689600 || o.Proxy == nil || o.RefreshInterval != 200*time.Millisecond {
			t.Errorf("%s: %+v %+v", f.file, cfg.SharedPoll, o)
		}
	}

	byName := map[string]KeyInfo{}
	for _, k := range KnownKeys() {
		byName[k.Scope+" "+k.Name] = k
	}
	if k := byName["top shared_poll.hmac_secret_key"]; k.Env != "CENTRIFUGO_SHARED_POLL_HMAC_SECRET_KEY" || !k.V6Only || k.Type != "string" {
		t.Errorf("shared_poll.hmac_secret_key: %+v", k)
	}
	if k := byName["top shared_poll.hmac_previous_secret_key_valid_until"]; k.Type != "int" || k.Default != "0" {
		t.Errorf("valid_until: %+v", k)
	}
	if k := byName["namespaces[] shared_poll.refresh_interval"]; k.Type != "duration" || !k.V6Only {
		t.Errorf("namespace refresh_interval: %+v", k)
	}
	if k := byName["top channel.proxy.shared_poll_refresh.endpoint"]; !strings.Contains(k.Doc, "shared_poll namespaces' shared_poll.proxy_name") {
		t.Errorf("refresh proxy endpoint: %+v", k)
	}
}

// The HMAC keys are secrets: no warning, error, document or change list
// shows them, whichever source they come from and however they are
// mistyped.
func TestSharedPollSecretsNotShown(t *testing.T) {
	const cur, prev, numeric = "s3cret-poll-key", "0ld-poll-key", "987654321"
	data := `{"shared_poll": {"hmac_secret_key": "` + cur + `", "hmac_previous_secret_key": "` + prev + `", "hmac_previous_secret_key_valid_until": 1},
  "proxies": [{"name": "pb", "endpoint": "http://127.0.0.1:3010/refresh"}],
  "namespaces": [{"name": "pl", "subscription_type": "shared_poll", "shared_poll": {"proxy_name": "pb"}}]}`
	leaks := func(where, text string) {
		t.Helper()
		for _, s := range []string{cur, prev, numeric} {
			if strings.Contains(text, s) {
				t.Errorf("%s shows a secret (%q):\n%s", where, s, text)
			}
		}
	}
	old, warns := mustLoad(t, LoadOptions{File: "c.json", Data: []byte(data)})
	if len(warns) == 0 {
		t.Fatal("want the short-key warnings, which name the keys")
	}
	leaks("warnings", fmt.Sprint(warns))
	_, warns = mustLoad(t, LoadOptions{File: "c.json", Data: []byte(`{}`), Env: []string{"CENTRIFUGO_SHARED_POLL_HMAC_SECRET_KEY=" + cur}})
	leaks("env warnings", fmt.Sprint(warns))

	// A secret of digits is a number in YAML; the type error must not
	// quote it.
	errs := loadErrors(t, LoadOptions{File: "c.yaml", Data: []byte("shared_poll:\n  hmac_secret_key: " + numeric + "\n  hmac_previous_secret_key: " + numeric + "\n")})
	if len(errs) != 2 || errs[0].Key != "shared_poll.hmac_secret_key" || !strings.Contains(errs[0].Msg, "must be a string, got a number (quote it") {
		t.Errorf("numeric secrets: %v", (&Errors{List: errs}).Error())
	}
	leaks("errors", (&Errors{List: errs}).Error())
	errs = loadErrors(t, LoadOptions{File: "c.json", Data: []byte(strings.Replace(data, `"proxy_name": "pb"`, `"proxy_name": "nope"`, 1))})
	leaks("errors", (&Errors{List: errs}).Error())

	leaks("Describe", Describe())
	for _, k := range KnownKeys() {
		if strings.HasSuffix(k.Name, "secret_key") && k.Default != "" {
			t.Errorf("%s documents a default", k.Name)
		}
	}
	for _, d := range reg.defs {
		if d.secret && d.def != "" {
			t.Errorf("secret %s documents a default", d.name)
		}
	}

	changed, _ := mustLoad(t, LoadOptions{File: "c.json", Data: []byte(strings.NewReplacer(cur, "n3w-poll-key", prev, cur).Replace(data))})
	got := Changes(old, changed)
	keys := map[string]string{}
	for _, c := range got {
		keys[c.Key] = c.Field
	}
	if keys["shared_poll.hmac_secret_key"] != "SharedPoll.HMACSecretKey" || keys["shared_poll.hmac_previous_secret_key"] != "SharedPoll.HMACPreviousSecretKey" || len(keys) != 2 {
		t.Errorf("changes %v", got)
	}
	leaks("changes", fmt.Sprint(got))
}

// A reload names the shared-poll keys that changed.
func TestSharedPollChanges(t *testing.T) {
	load := func(data string) *Config {
		cfg, _ := mustLoad(t, LoadOptions{File: "c.json", Data: []byte(data)})
		return cfg
	}
	const top = `"shared_poll": {"hmac_secret_key": "` + pollSecret + `"}, `
	old := load(`{` + top + `"channel": {"proxy": {"shared_poll_refresh": {"endpoint": "app:1"}}}, "namespaces": [{"name": "pl", "subscription_type": "shared_poll", "shared_poll": {"refresh_interval": "1s"}}]}`)
	changed := load(`{` + top + `"shared_poll.concurrency_limit": 4, "channel": {"proxy": {"shared_poll_refresh": {"endpoint": "app:2"}}}, "namespaces": [{"name": "pl", "subscription_type": "shared_poll", "shared_poll": {"refresh_interval": "2s"}}]}`)
	keys := map[string]string{}
	for _, c := range Changes(old, changed) {
		keys[c.Key] = c.Field
	}
	if keys["namespaces[pl].shared_poll.refresh_interval"] != "Channel.Namespaces" || keys["shared_poll.concurrency_limit"] != "SharedPoll.ConcurrencyLimit" ||
		keys["channel.proxy.shared_poll_refresh"] != "Proxy" || len(keys) != 3 {
		t.Errorf("changes %v", keys)
	}
}
