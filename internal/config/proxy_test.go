package config

import (
	"strings"
	"testing"
	"time"
)

func TestGranularProxyMode(t *testing.T) {
	p := writeConfig(t, "c.json", `{
  "granular_proxy_mode": true,
  "proxy_connect_endpoint": "grpc://ignored:1",
  "proxies": [
    {"name": "auth", "endpoint": "grpc://auth:10001", "timeout": "3s", "http_headers": ["Authorization"]},
    {"name": "chat", "endpoint": "http://chat:8080/proxy", "http": {"static_headers": {"X-A": "b"}},
     "http_status_to_code_transforms": [{"status_code": 404, "to_error": {"code": 404, "message": "not found"}},
                                        {"status_code": 403, "to_disconnect": {"code": 4403, "reason": "forbidden"}}]}
  ],
  "connect_proxy_name": "auth",
  "refresh_proxy_name": "auth",
  "rpc_proxy_name": "chat",
  "namespaces": [{"name": "chat", "subscribe_proxy_name": "chat", "publish_proxy_name": "chat"}],
  "rpc_namespaces": [{"name": "rpcns", "rpc_proxy_name": "auth"}]
}`)
	cfg, warns := mustLoad(t, LoadOptions{File: p})
	if !cfg.Proxy.Granular || len(cfg.Proxy.Named) != 2 {
		t.Fatalf("proxies: %+v", cfg.Proxy)
	}
	auth, chat := &cfg.Proxy.Named[0], &cfg.Proxy.Named[1]
	if cfg.Proxy.Connect != auth || cfg.Proxy.Refresh != auth || cfg.Proxy.RPC != chat {
		t.Fatalf("connect/refresh/rpc not resolved: %+v", cfg.Proxy)
	}
	if auth.Timeout != 3*time.Second || chat.Timeout != time.Second || chat.StaticHTTPHeaders["X-A"] != "b" {
		t.Fatalf("named proxies: %+v %+v", auth, chat)
	}
	tr := chat.StatusCodeTransforms
	if len(tr) != 2 || tr[0].ToError == nil || tr[0].ToError.Code != 404 || tr[1].ToDisconnect == nil || tr[1].ToDisconnect.Code != 4403 {
		t.Fatalf("transforms: %+v", tr)
	}
	ns := cfg.Channel.Namespaces[0]
	if !ns.ProxySubscribe || !ns.ProxyPublish || ns.SubscribeProxy != chat || ns.PublishProxy != chat {
		t.Fatalf("namespace proxies: %+v", ns)
	}
	if cfg.RPC.Namespaces[0].Proxy != auth {
		t.Fatalf("rpc namespace: %+v", cfg.RPC.Namespaces[0])
	}
	if !hasWarning(warns, "proxy_connect_endpoint: ignored: granular_proxy_mode is on") {
		t.Fatalf("warnings: %v", warns)
	}
}

func TestProxyReferenceErrors(t *testing.T) {
	p := writeConfig(t, "c.json", `{
  "granular_proxy_mode": true,
  "proxies": [{"name": "auth", "endpoint": "grpc://auth:10001"}, {"name": "auth", "endpoint": "grpc://127.0.0.1c:1"},
              {"name": "x"}, {"name": "ok2", "endpoint": "grpc://a:1", "timeout": "0s"}],
  "connect_proxy_name": "missing",
  "namespaces": [{"name": "chat",
    "publish_proxy_name": "nope"}],
  "rpc_namespaces": [{"name": "r1", "rpc_proxy_name": "gone"}],
  "proxy_http_status_code_transforms": [{"status_code": 200, "to_error": {"code": 1}, "to_disconnect": {"code": 4000}}]
}`)
	errs := loadErrors(t, LoadOptions{File: p})
	all := (&Errors{List: errs}).Error()
	for _, want := range []string{
		`:3: proxies[1].name: duplicate proxy name "auth" (first at line 3)`,
		`:3: proxies[1].endpoint: invalid endpoint "grpc://127.0.0.1c:1"`,
		`:4: proxies[2].name: invalid proxy name "x"`,
		`:4: proxies[2]: proxy "x" has no endpoint`,
		`:4: proxies[3].timeout: proxy timeout must be greater than 0`,
		`:5: connect_proxy_name: unknown proxy "missing" (proxies defines "auth", "auth", "ok2", "x")`,
		`:7: namespaces[0].publish_proxy_name: unknown proxy "nope"`,
		`:8: rpc_namespaces[0].rpc_proxy_name: unknown proxy "gone"`,
		`proxy_http_status_code_transforms[0]: needs exactly one of to_error or to_disconnect`,
	} {
		if !strings.Contains(all, want) {
			t.Errorf("missing %q in\n%s", want, all)
		}
	}
}

func TestProxyHintsAndWarnings(t *testing.T) {
	tests := []struct {
		name    string
		content string
		check   func(t *testing.T, cfg *Config)
		warning string
	}{
		{"hint false disables endpoint", `{"proxy_connect": false, "proxy_connect_endpoint": "app:1", "token_hmac_secret_key": "s"}`,
			func(t *testing.T, cfg *Config) {
				if cfg.Proxy.Connect != nil {
					t.Fatal("connect proxy should be off")
				}
			}, "proxy_connect: false, so proxy_connect_endpoint is not used"},
		{"stream endpoint alone is unused", `{"proxy_subscribe_stream_endpoint": "grpc://s:1"}`,
			func(t *testing.T, cfg *Config) {}, "proxy_subscribe_stream_endpoint: subscribe stream proxies are not supported yet: this endpoint is not used"},
		{"null key", `{"token_hmac_secret_key": null, "api_key": "k"}`,
			func(t *testing.T, cfg *Config) {
				if cfg.Token.HMACSecretKey != "" {
					t.Fatal("null set a secret")
				}
			}, "token_hmac_secret_key: null: not set, the default applies"},
		{"proxy_subscribe without endpoint", `{"proxy_subscribe": true}`,
			func(t *testing.T, cfg *Config) {
				if cfg.Channel.WithoutNamespace.SubscribeProxy != nil {
					t.Fatal("no subscribe proxy exists")
				}
			}, "proxy_subscribe: proxy_subscribe is on but no proxy is configured for it: requests will fail with error 108"},
		{"shared options copied to every proxy", `{"proxy_http_headers": ["Cookie"], "proxy_publish_endpoint": "http://a:1/p", "proxy_rpc_endpoint": "grpc://b:2", "proxy_binary_encoding": true}`,
			func(t *testing.T, cfg *Config) {
				for _, p := range []*Proxy{cfg.Proxy.Publish, cfg.Proxy.RPC} {
					if p == nil || len(p.HTTPHeaders) != 1 || !p.BinaryEncoding || p.Timeout != time.Second {
						t.Fatalf("proxy %+v", p)
					}
				}
				cfg.Proxy.Publish.HTTPHeaders[0] = "changed"
				if cfg.Proxy.RPC.HTTPHeaders[0] != "Cookie" {
					t.Fatal("proxies share a slice")
				}
			}, ""},
		{"v6 per-proxy option overrides shared", `{"proxy_http_headers": ["Cookie"], "rpc": {"proxy": {"endpoint": "grpc://b:2", "http_headers": ["X-Rpc"]}}}`,
			func(t *testing.T, cfg *Config) {
				if cfg.Proxy.RPC == nil || len(cfg.Proxy.RPC.HTTPHeaders) != 1 || cfg.Proxy.RPC.HTTPHeaders[0] != "X-Rpc" {
					t.Fatalf("rpc proxy %+v", cfg.Proxy.RPC)
				}
			}, ""},
		{"name without switch outside granular mode", `{"proxies": [{"name": "p1", "endpoint": "a:1"}], "subscribe_proxy_name": "p1"}`,
			func(t *testing.T, cfg *Config) {
				if cfg.Channel.WithoutNamespace.SubscribeProxy != nil {
					t.Fatal("proxy must stay off")
				}
			}, "subscribe_proxy_name: subscribe_proxy_name has no effect while proxy_subscribe is off"},
		{"unsupported key", `{"webtransport": true, "admin": false}`,
			func(t *testing.T, cfg *Config) {}, "webtransport: not supported by Spindle and ignored"},
		{"sub token keys without separate config", `{"token_hmac_secret_key": "a", "subscription_token_hmac_secret_key": "b"}`,
			func(t *testing.T, cfg *Config) {
				if cfg.SubToken.HMACSecretKey != "a" {
					t.Fatalf("SubToken must equal Token: %+v", cfg.SubToken)
				}
			}, "subscription_token_hmac_secret_key: ignored because separate_subscription_token_config is off"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, warns := mustLoad(t, LoadOptions{File: writeConfig(t, "c.json", tt.content)})
			tt.check(t, cfg)
			if tt.warning != "" && !hasWarning(warns, tt.warning) {
				t.Fatalf("missing warning %q in %v", tt.warning, warns)
			}
		})
	}
	_, warns := mustLoad(t, LoadOptions{File: writeConfig(t, "c.json", `{"admin": false, "token_hmac_secret_key": "0123456789abcdef0123456789abcdef", "api_key": "k"}`)})
	if len(warns) != 0 {
		t.Fatalf("unsupported key at its zero value must be silent: %v", warns)
	}
}

// TestSubscribeStreamProxyNotSupported: the stream-proxy keys (either
// spelling) are recognised, and refused by name until the feature exists,
// instead of letting subscriptions run without the proxy that should decide.
func TestSubscribeStreamProxyNotSupported(t *testing.T) {
	for _, doc := range []string{
		`{"api_key":"k","proxy_stream_subscribe": true, "proxy_subscribe_stream_endpoint": "grpc://s:1"}`,
		`{"api_key":"k","proxy_subscribe_stream": true, "proxy_subscribe_stream_endpoint": "grpc://s:1"}`,
	} {
		_, _, err := Load(LoadOptions{File: "c.json", Data: []byte(doc)})
		if err == nil || !strings.Contains(err.Error(), "subscribe stream proxies are not supported yet") {
			t.Errorf("%s: %v", doc, err)
		}
	}
}
