package config

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestNestedV6Layout(t *testing.T) {
	cfg, warns := mustLoad(t, LoadOptions{File: "testdata/nested_v6.json"})
	if cfg.LogLevel != "debug" || cfg.Name != "node-a" || cfg.HTTP.Address != "127.0.0.1" || cfg.HTTP.Port != 9000 || !cfg.Prometheus {
		t.Errorf("server: %+v", cfg)
	}
	if !reflect.DeepEqual(cfg.Client.AllowedOrigins, []string{"https://app.example"}) || cfg.Client.PingInterval != 20*time.Second {
		t.Errorf("client: %+v", cfg.Client)
	}
	if cfg.Token.HMACSecretKey != "secret" || cfg.SubToken.HMACSecretKey != "sub-secret" {
		t.Errorf("tokens: %+v / %+v", cfg.Token, cfg.SubToken)
	}
	c := cfg.Proxy.Connect
	if c == nil || c.Endpoint != "http://app:3000/centrifugo/connect" || c.Timeout != 3*time.Second ||
		!reflect.DeepEqual(c.HTTPHeaders, []string{"Cookie"}) || c.StaticHTTPHeaders["X-From"] != "connect" {
		t.Errorf("connect proxy: %+v", c)
	}
	s := cfg.Proxy.Subscribe
	if s == nil || s.Endpoint != "grpc://app:10001" || s.Timeout != time.Second || s.GRPCCredentialsKey != "k" || s.GRPCCredentialsValue != "v" {
		t.Errorf("subscribe proxy: %+v", s)
	}
	if len(c.GRPCMetadata) != 0 || len(s.HTTPHeaders) != 0 {
		t.Errorf("per-event options leaked between proxies: %+v %+v", c, s)
	}
	top := cfg.Channel.WithoutNamespace
	if !top.Presence || !top.ProxySubscribe || top.SubscribeProxy != cfg.Proxy.Subscribe {
		t.Errorf("without namespace: %+v", top)
	}
	if len(cfg.Channel.Namespaces) != 2 {
		t.Fatalf("namespaces: %+v", cfg.Channel.Namespaces)
	}
	chat := cfg.Channel.Namespaces[1]
	if chat.Name != "chat" || chat.HistorySize != 50 || chat.HistoryTTL != 300*time.Second || !chat.ForceRecovery ||
		!chat.ProxyPublish || chat.PublishProxy == nil || chat.PublishProxy.Name != "pub" || chat.PublishProxy.Timeout != 2*time.Second {
		t.Errorf("chat: %+v", chat)
	}
	if cfg.Channel.HistoryMetaTTL != 24*time.Hour {
		t.Errorf("meta ttl %v", cfg.Channel.HistoryMetaTTL)
	}
	if !cfg.Client.SubscribeToUserPersonalChannel || cfg.Client.PersonalChannelNamespace != "personal" {
		t.Errorf("personal: %+v", cfg.Client)
	}
	if cfg.Proxy.RPC == nil || cfg.Proxy.RPC.Endpoint != "grpc://app:10001" {
		t.Errorf("rpc proxy: %+v", cfg.Proxy.RPC)
	}
	rns := cfg.RPC.Namespaces
	if len(rns) != 2 || rns[0].Proxy == nil || rns[0].Proxy.Name != "pub" || rns[1].Proxy != cfg.Proxy.RPC {
		t.Errorf("rpc namespaces: %+v", rns)
	}
	if !cfg.RPC.Ping || cfg.RPC.PingMethod != "hello" {
		t.Errorf("rpc ping: %+v", cfg.RPC)
	}
	if cfg.HTTPAPI.Key != "api-secret" || cfg.HTTPAPI.ErrorMode != "transport" {
		t.Errorf("http api: %+v", cfg.HTTPAPI)
	}
	if !cfg.GRPCAPI.Enabled || cfg.GRPCAPI.Key != "grpc-secret" || cfg.GRPCAPI.Port != 10010 {
		t.Errorf("grpc api: %+v", cfg.GRPCAPI)
	}
	e := cfg.Engine
	if e.Type != "redis" || !reflect.DeepEqual(e.Redis.Addresses, []string{"redis://r1:6379", "r2:6379"}) || e.Redis.Prefix != "spindle" || e.PresenceTTL != 30*time.Second {
		t.Errorf("engine: %+v", e)
	}
	for _, w := range warns {
		if strings.Contains(w.Msg, "not a Centrifugo v5 key") {
			t.Errorf("v6 spelling must not produce the legacy warning: %v", w)
		}
	}
}

// TestFormatsAgree loads the same settings from YAML and TOML.
func TestFormatsAgree(t *testing.T) {
	var cfgs []*Config
	for _, f := range []string{"testdata/full.yaml", "testdata/full.toml"} {
		cfg, _ := mustLoad(t, LoadOptions{File: f})
		cfgs = append(cfgs, cfg)
		if cfg.HTTP.Port != 9000 || cfg.Token.HMACSecretKey != "secret" || cfg.Client.PingInterval != 20*time.Second {
			t.Errorf("%s: %+v", f, cfg)
		}
		if cfg.Proxy.Connect == nil || cfg.Proxy.Connect.Timeout != 3*time.Second || !reflect.DeepEqual(cfg.Proxy.Connect.HTTPHeaders, []string{"Cookie"}) {
			t.Errorf("%s connect: %+v", f, cfg.Proxy.Connect)
		}
		if len(cfg.Channel.Namespaces) != 2 || cfg.Channel.Namespaces[0].HistoryTTL != 300*time.Second || !cfg.Channel.Namespaces[1].Presence {
			t.Errorf("%s namespaces: %+v", f, cfg.Channel.Namespaces)
		}
		if !reflect.DeepEqual(cfg.Engine.Redis.Addresses, []string{"redis://r1:6379"}) {
			t.Errorf("%s redis: %v", f, cfg.Engine.Redis.Addresses)
		}
	}
	if !reflect.DeepEqual(cfgs[0], cfgs[1]) {
		t.Errorf("YAML and TOML differ:\n%+v\n%+v", cfgs[0], cfgs[1])
	}
}

func TestYAMLErrorsHaveLines(t *testing.T) {
	p := writeConfig(t, "c.yml", "port: 8000\nnamespaces:\n  - name: chat\n    history_size: 10\n    history_ttl: 300\n")
	errs := loadErrors(t, LoadOptions{File: p})
	if len(errs) != 1 || errs[0].Line != 5 || errs[0].Key != "namespaces[0].history_ttl" || !strings.Contains(errs[0].Msg, "bare number 300") {
		t.Fatalf("got %v", (&Errors{List: errs}).Error())
	}
	p = writeConfig(t, "c.yaml", "port: 8000\n  bad: indent\n")
	errs = loadErrors(t, LoadOptions{File: p})
	if len(errs) != 1 || !strings.Contains(errs[0].Msg, "yaml") {
		t.Fatalf("got %v", (&Errors{List: errs}).Error())
	}
	p = writeConfig(t, "c.yaml", "base: &b\n  presence: true\nnamespaces:\n  - <<: *b\n    name: x1\n")
	errs = loadErrors(t, LoadOptions{File: p})
	if !strings.Contains((&Errors{List: errs}).Error(), "merge keys") {
		t.Fatalf("got %v", (&Errors{List: errs}).Error())
	}
}

func TestTOMLSyntaxErrorLine(t *testing.T) {
	p := writeConfig(t, "c.toml", "port = 8000\napi_key = \n")
	errs := loadErrors(t, LoadOptions{File: p})
	if len(errs) != 1 || errs[0].Line != 2 {
		t.Fatalf("got %+v", errs)
	}
}

func TestEmptyFiles(t *testing.T) {
	for _, name := range []string{"c.yaml", "c.toml"} {
		cfg, _ := mustLoad(t, LoadOptions{File: writeConfig(t, name, "")})
		if cfg.HTTP.Port != 8000 {
			t.Errorf("%s: port %d", name, cfg.HTTP.Port)
		}
	}
	cfg, _ := mustLoad(t, LoadOptions{File: writeConfig(t, "c.json", "// nothing yet\n{}")})
	if cfg.HTTP.Port != 8000 {
		t.Errorf("json: port %d", cfg.HTTP.Port)
	}
}

func TestNullMeansUnset(t *testing.T) {
	cfg, _ := mustLoad(t, LoadOptions{File: writeConfig(t, "c.json", `{"port": null, "namespaces": [{"name": "ns", "presence": null}]}`)})
	if cfg.HTTP.Port != 8000 || cfg.Channel.Namespaces[0].Presence {
		t.Fatalf("null not treated as unset: %+v", cfg)
	}
}

// TestTOMLLines: TOML problems carry the line of the key, like JSON and
// YAML ones, through tables, arrays of tables, dotted keys and inline
// tables.
func TestTOMLLines(t *testing.T) {
	tests := []struct {
		name, doc, want string
	}{
		{"top level", "port = 8000\nprot = 1\n", `config.toml:2: unknown key "prot"`},
		{"second array table", "[[namespaces]]\nname = \"aa\"\n\n[[namespaces]]\nname = \"bb\"\nhistory_tl = \"1s\"\n", `config.toml:6: unknown key "history_tl" in namespaces[1]`},
		{"bad value", "port = 8000\nhistory_ttl = \"soon\"\n", `config.toml:2: history_ttl: invalid duration`},
		{"inline table member", "namespaces = [\n  { name = \"aa\" },\n  { name = \"bb\",\n    presense = true },\n]\n", `config.toml:4: unknown key "presense"`},
		{"syntax error", "port = 8000\nnot a key\n", `config.toml:2: syntax error`},
		{"duplicate key", "port = 1\nport = 2\n", `config.toml:2: syntax error (column 1): key port is already defined`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := Load(LoadOptions{File: "config.toml", Data: []byte(tc.doc)})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Load = %v, want %q", err, tc.want)
			}
		})
	}
}
