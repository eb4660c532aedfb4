package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// writeConfig stores content under name in a fresh directory and returns
// the path.
func writeConfig(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// mustLoad loads and fails the test on any error.
func mustLoad(t *testing.T, opts LoadOptions) (*Config, []Warning) {
	t.Helper()
	cfg, warns, err := Load(opts)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return cfg, warns
}

// loadErrors loads expecting failure and returns the listed problems.
func loadErrors(t *testing.T, opts LoadOptions) []*Error {
	t.Helper()
	cfg, _, err := Load(opts)
	if err == nil {
		t.Fatalf("Load succeeded, want errors (cfg %+v)", cfg)
	}
	var es *Errors
	if !errors.As(err, &es) {
		t.Fatalf("error is %T, want *Errors: %v", err, err)
	}
	if cfg != nil {
		t.Fatalf("config returned together with errors")
	}
	return es.List
}

func hasWarning(warns []Warning, substr string) bool {
	for _, w := range warns {
		if strings.Contains(w.String(), substr) {
			return true
		}
	}
	return false
}

func TestSpiralDocsConfigWithTypo(t *testing.T) {
	errs := loadErrors(t, LoadOptions{File: "testdata/spiral_config.json"})
	if len(errs) != 1 {
		t.Fatalf("want exactly the endpoint error, got %d: %v", len(errs), (&Errors{List: errs}).Error())
	}
	e := errs[0]
	if e.Key != "proxy_refresh_endpoint" || e.Line != 20 || e.Source != "testdata/spiral_config.json" {
		t.Fatalf("wrong location: %+v", e)
	}
	want := `testdata/spiral_config.json:20: proxy_refresh_endpoint: invalid endpoint "grpc://127.0.0.1c:10001": host "127.0.0.1c" is neither an IP address nor a valid host name`
	if e.Error() != want {
		t.Fatalf("got  %s\nwant %s", e.Error(), want)
	}
}

func TestSpiralDocsConfigFixed(t *testing.T) {
	cfg, warns := mustLoad(t, LoadOptions{File: "testdata/spiral_config_fixed.json"})
	for name, p := range map[string]*Proxy{
		"connect": cfg.Proxy.Connect, "refresh": cfg.Proxy.Refresh, "subscribe": cfg.Proxy.Subscribe,
		"publish": cfg.Proxy.Publish, "rpc": cfg.Proxy.RPC,
	} {
		if p == nil {
			t.Fatalf("%s proxy missing", name)
		}
		if p.Endpoint != "grpc://127.0.0.1:10001" || p.Timeout != 10*time.Second || p.Name != name {
			t.Fatalf("%s proxy = %+v", name, p)
		}
	}
	if cfg.Proxy.SubRefresh != nil || cfg.Proxy.SubscribeStream != nil {
		t.Fatalf("unexpected proxies: %+v", cfg.Proxy)
	}
	top := cfg.Channel.WithoutNamespace
	if !top.ProxySubscribe || !top.ProxyPublish || !top.AllowSubscribeForClient {
		t.Fatalf("channel options: %+v", top)
	}
	if top.SubscribeProxy != cfg.Proxy.Subscribe || top.PublishProxy != cfg.Proxy.Publish {
		t.Fatalf("top-level proxies not resolved: %+v", top)
	}
	if !cfg.GRPCAPI.Enabled || cfg.GRPCAPI.Address != "0.0.0.0" || cfg.GRPCAPI.Port != 10000 {
		t.Fatalf("grpc api: %+v", cfg.GRPCAPI)
	}
	if !reflect.DeepEqual(cfg.Client.AllowedOrigins, []string{"*"}) {
		t.Fatalf("origins: %v", cfg.Client.AllowedOrigins)
	}
	for _, w := range []string{
		`spiral_config_fixed.json:6: publish: a Centrifugo v2 option`,
		`spiral_config_fixed.json:9: proxy_connect: not a Centrifugo v5 key`,
		`spiral_config_fixed.json:3: allowed_origins: contains "*"`,
		`gRPC API on 0.0.0.0:10000 has no grpc_api_key: anyone who can reach it can publish`,
	} {
		if !hasWarning(warns, w) {
			t.Errorf("missing warning %q in %v", w, warns)
		}
	}
}

func TestDefaults(t *testing.T) {
	cfg, warns := mustLoad(t, LoadOptions{})
	want := Default()
	if !reflect.DeepEqual(cfg, want) {
		t.Fatalf("empty Load differs from Default():\n got %+v\nwant %+v", cfg, want)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"port", cfg.HTTP.Port, 8000},
		{"ping", cfg.Client.PingInterval, 25 * time.Second},
		{"pong", cfg.Client.PongTimeout, 8 * time.Second},
		{"stale", cfg.Client.StaleCloseDelay, 10 * time.Second},
		{"channel limit", cfg.Client.ChannelLimit, 128},
		{"queue", cfg.Client.QueueMaxSize, 1048576},
		{"message size", cfg.WebSocket.MessageSizeLimit, 65536},
		{"write timeout", cfg.WebSocket.WriteTimeout, time.Second},
		{"meta ttl", cfg.Channel.HistoryMetaTTL, 720 * time.Hour},
		{"grpc port", cfg.GRPCAPI.Port, 10000},
		{"api prefix", cfg.HTTPAPI.HandlerPrefix, "/api"},
		{"ws prefix", cfg.WebSocket.HandlerPrefix, "/connection/websocket"},
		{"presence ttl", cfg.Engine.PresenceTTL, 60 * time.Second},
		{"redis prefix", cfg.Engine.Redis.Prefix, "centrifugo"},
		{"redis address", cfg.Engine.Redis.Addresses, []string{"redis://127.0.0.1:6379"}},
		{"shutdown", cfg.ShutdownTimeout, 30 * time.Second},
		{"history limit", cfg.Client.HistoryMaxPublicationLimit, 300},
		{"recovery limit", cfg.Client.RecoveryMaxPublicationLimit, 300},
		{"max length", cfg.Channel.MaxLength, 255},
		{"boundaries", cfg.Channel.PrivatePrefix + cfg.Channel.NamespaceBoundary + cfg.Channel.UserBoundary + cfg.Channel.UserSeparator, "$:#,"},
		{"rpc ping method", cfg.RPC.PingMethod, "ping"},
		{"engine", cfg.Engine.Type, "memory"},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	if !hasWarning(warns, "clients have no way to authenticate") {
		t.Errorf("want the no-authentication warning, got %v", warns)
	}
}

func TestPriorityFlagsEnvFile(t *testing.T) {
	file := writeConfig(t, "c.json", `{"port": 9000, "api_key": "from-file", "allowed_origins": ["http://a"]}`)
	tests := []struct {
		name  string
		env   []string
		flags map[string]string
		port  int
		key   string
	}{
		{"file only", nil, nil, 9000, "from-file"},
		{"env beats file", []string{"CENTRIFUGO_PORT=9100"}, nil, 9100, "from-file"},
		{"empty env is unset", []string{"CENTRIFUGO_PORT=", "CENTRIFUGO_API_KEY="}, nil, 9000, "from-file"},
		{"flag beats env", []string{"CENTRIFUGO_PORT=9100"}, map[string]string{"port": "9200"}, 9200, "from-file"},
		{"nested env name", []string{"CENTRIFUGO_HTTP_API_KEY=from-env"}, nil, 9000, "from-env"},
		{"dashed flag", nil, map[string]string{"--api-key": "from-flag"}, 9000, "from-flag"},
		{"nested flag", nil, map[string]string{"http_server.port": "9300"}, 9300, "from-file"},
		{"other env ignored", []string{"PORT=1", "HOME=/root"}, nil, 9000, "from-file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, _ := mustLoad(t, LoadOptions{File: file, Env: tt.env, Flags: tt.flags})
			if cfg.HTTP.Port != tt.port || cfg.HTTPAPI.Key != tt.key {
				t.Fatalf("port %d key %q, want %d %q", cfg.HTTP.Port, cfg.HTTPAPI.Key, tt.port, tt.key)
			}
		})
	}
}

func TestEnvValueShapes(t *testing.T) {
	cfg, warns := mustLoad(t, LoadOptions{Env: []string{
		"CENTRIFUGO_ALLOWED_ORIGINS=http://a.example https://*.b.example",
		`CENTRIFUGO_PROXY_STATIC_HTTP_HEADERS={"X-Env": "1"}`,
		`CENTRIFUGO_NAMESPACES=[{"name": "chat", "presence": true}]`,
		"CENTRIFUGO_CLIENT_INSECURE=true",
		"CENTRIFUGO_PING_INTERVAL=30s",
		"CENTRIFUGO_PROXY_CONNECT_ENDPOINT=http://app:8080/connect",
		"CENTRIFUGO_PROXI_CONNECT_TIMEOUT=2s",
	}})
	if !reflect.DeepEqual(cfg.Client.AllowedOrigins, []string{"http://a.example", "https://*.b.example"}) {
		t.Errorf("origins %v", cfg.Client.AllowedOrigins)
	}
	if cfg.Proxy.Connect == nil || cfg.Proxy.Connect.StaticHTTPHeaders["X-Env"] != "1" {
		t.Errorf("connect proxy %+v", cfg.Proxy.Connect)
	}
	if len(cfg.Channel.Namespaces) != 1 || cfg.Channel.Namespaces[0].Name != "chat" || !cfg.Channel.Namespaces[0].Presence {
		t.Errorf("namespaces %+v", cfg.Channel.Namespaces)
	}
	if !cfg.Client.Insecure || cfg.Client.PingInterval != 30*time.Second {
		t.Errorf("client %+v", cfg.Client)
	}
	if !hasWarning(warns, "env: CENTRIFUGO_PROXI_CONNECT_TIMEOUT: unknown CENTRIFUGO_ variable; ignored (did you mean CENTRIFUGO_PROXY_CONNECT_TIMEOUT?)") {
		t.Errorf("missing unknown-env warning: %v", warns)
	}
}

func TestEnvAndFlagErrors(t *testing.T) {
	errs := loadErrors(t, LoadOptions{
		Env:   []string{"CENTRIFUGO_PORT=eighty", "CENTRIFUGO_NAMESPACES=[{"},
		Flags: map[string]string{"prot": "1", "grpc_api": "maybe"},
	})
	got := (&Errors{List: errs}).Error()
	for _, want := range []string{
		`env: CENTRIFUGO_PORT: must be a whole number, got string "eighty"`,
		"env: CENTRIFUGO_NAMESPACES: must be JSON",
		`flags: unknown key "prot" (did you mean "port"?)`,
		`flags: --grpc_api: must be true or false, got string "maybe"`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in:\n%s", want, got)
		}
	}
}

func TestUnknownKeys(t *testing.T) {
	tests := []struct {
		name, file, content string
		want                []string
	}{
		{"json top level", "config.json", "{\n  \"port\": 8000,\n  \"proxy_conect_endpoint\": \"grpc://127.0.0.1:10001\"\n}",
			[]string{`config.json:3: unknown key "proxy_conect_endpoint" (did you mean "proxy_connect_endpoint"?)`}},
		{"yaml top level", "config.yaml", "port: 8000\nalowed_origins: []\n",
			[]string{`config.yaml:2: unknown key "alowed_origins" (did you mean "allowed_origins"?)`}},
		{"toml top level", "config.toml", "port = 8000\nping_intervall = \"20s\"\n",
			[]string{`config.toml:2: unknown key "ping_intervall" (did you mean "ping_interval"?)`}},
		{"inside namespace", "c.json", "{\"namespaces\": [\n {\"name\": \"chat\",\n  \"presense\": true}]}",
			[]string{`c.json:3: unknown key "presense" in namespaces[0] (did you mean "presence"?)`}},
		{"top-level key in namespace", "c.json", "{\"namespaces\": [{\"name\": \"chat\", \"api_key\": \"x\"}]}",
			[]string{`unknown key "api_key" in namespaces[0]; it is a top-level key, not a namespace option`}},
		{"inside proxies", "c.json", "{\"proxies\": [{\"name\": \"p1\", \"endpoint\": \"grpc://a:1\",\n \"timout\": \"1s\"}]}",
			[]string{`c.json:2: unknown key "timout" in proxies[0] (did you mean "timeout"?)`}},
		{"inside rpc namespaces", "c.json", "{\"rpc_namespaces\": [{\"name\": \"rpc\", \"rpc_proxy\": \"x\"}]}",
			[]string{`unknown key "rpc_proxy" in rpc_namespaces[0] (did you mean "rpc_proxy_name"?)`}},
		{"nested v6", "c.json", "{\"client\": {\n \"proxy\": {\n  \"conect\": {\"endpoint\": \"grpc://a:1\"}}}}",
			[]string{`c.json:3: unknown key "client.proxy.conect" (did you mean "client.proxy.connect"?)`}},
		{"no suggestion for garbage", "c.json", `{"zzzzzzzzzzzz": 1}`,
			[]string{`c.json:1: unknown key "zzzzzzzzzzzz"`}},
		{"all reported", "c.json", "{\n\"aaport\": 1,\n\"bbport\": 2\n}",
			[]string{`c.json:2: unknown key "aaport"`, `c.json:3: unknown key "bbport"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			p := filepath.Join(dir, tt.file)
			if err := os.WriteFile(p, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			errs := loadErrors(t, LoadOptions{File: p})
			got := strings.ReplaceAll((&Errors{List: errs}).Error(), dir+string(filepath.Separator), "")
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("missing %q in:\n%s", w, got)
				}
			}
			if strings.Contains(tt.name, "garbage") && strings.Contains(got, "did you mean") {
				t.Errorf("unexpected suggestion: %s", got)
			}
		})
	}
}

func TestValueErrors(t *testing.T) {
	tests := []struct {
		name    string
		content string // JSON body; the key under test is on line 2
		key     string
		msg     string
	}{
		{"duration without unit", `"ping_interval": "10"`, "ping_interval", `duration "10" has no unit`},
		{"bare number duration", `"proxy_connect_timeout": 10`, "proxy_connect_timeout", `bare number 10 is not a duration`},
		{"bad duration", `"pong_timeout": "5 seconds"`, "pong_timeout", `invalid duration "5 seconds"`},
		{"negative duration", `"client_stale_close_delay": "-1s"`, "client_stale_close_delay", "must not be negative"},
		{"sub-ms duration", `"websocket_write_timeout": "1500us"`, "websocket_write_timeout", "finer than the 1ms"},
		{"fractional history_ttl", `"history_size": 10, "history_ttl": "1500ms"`, "history_ttl", "must be whole seconds"},
		{"negative size", `"client_queue_max_size": -1`, "client_queue_max_size", "must not be negative"},
		{"fractional int", `"client_channel_limit": 1.5`, "client_channel_limit", "must be a whole number"},
		{"port range", `"port": 70000`, "port", "must be at most 65535"},
		{"string for bool", `"grpc_api": "true"`, "grpc_api", `must be true or false, got string "true"`},
		{"number for string", `"api_key": 123`, "api_key", "must be a string, got number 123"},
		{"string for list", `"allowed_origins": "http://a"`, "allowed_origins", "must be an array of strings"},
		{"number in list", `"allowed_origins": ["http://a", 5]`, "allowed_origins[1]", "must be a string"},
		{"engine", `"engine": "tarantool"`, "engine", `invalid value "tarantool": must be one of "memory", "redis"`},
		{"api error mode", `"api_error_mode": "http"`, "api_error_mode", `must be one of "", "transport"`},
		{"grpc error mode", `"grpc_api_error_mode": "grpc"`, "grpc_api_error_mode", `must be one of "", "transport"`},
		{"log level", `"log_level": "verbose"`, "log_level", "must be one of"},
		{"engine typo", `"engine": "reds"`, "engine", `(did you mean "redis"?)`},
		{"history size without ttl", `"history_size": 10`, "history_size", "history needs both"},
		{"history ttl without size", `"history_ttl": "300s"`, "history_ttl", "history needs both"},
		{"force recovery without history", `"force_recovery": true`, "force_recovery", "force_recovery needs history"},
		{"channel regex", `"channel_regex": "a(b"`, "channel_regex", "invalid regular expression"},
		{"delta type", `"allowed_delta_types": ["xdelta"]`, "allowed_delta_types", `unknown delta type "xdelta"`},
		{"ping not above pong", `"ping_interval": "5s"`, "ping_interval", "ping_interval (5s) must be greater than pong_timeout (8s)"},
		{"endpoint port", `"proxy_connect_endpoint": "grpc://127.0.0.1:99999"`, "proxy_connect_endpoint", "port 99999 is out of range"},
		{"endpoint no port", `"proxy_rpc_endpoint": "grpc://app"`, "proxy_rpc_endpoint", "missing port"},
		{"endpoint scheme", `"proxy_publish_endpoint": "tcp://app:1"`, "proxy_publish_endpoint", `unsupported scheme "tcp"`},
		{"bad ipv4", `"proxy_subscribe_endpoint": "10.0.0.300:5"`, "proxy_subscribe_endpoint", "neither an IP address nor a valid host name"},
		{"proxy_rpc without endpoint", `"proxy_rpc": true`, "proxy_rpc", "true but proxy_rpc_endpoint is empty"},
		{"proxy_connect without endpoint", `"proxy_connect": true`, "proxy_connect", "true but proxy_connect_endpoint is empty"},
		{"zero proxy timeout", `"proxy_connect_endpoint": "app:1", "proxy_connect_timeout": "0s"`, "proxy_connect_timeout", "must be greater than 0"},
		{"stream proxy over http", `"proxy_subscribe_stream_endpoint": "http://app:1/s"`, "proxy_subscribe_stream_endpoint", "gRPC only"},
		{"stream proxy exclusive", `"proxy_subscribe_stream": true, "proxy_subscribe": true`, "proxy_subscribe_stream", "cannot be combined"},
		{"audience exclusive", `"token_audience": "a", "token_audience_regex": "a.*"`, "token_audience_regex", "mutually exclusive"},
		{"issuer regex", `"token_issuer_regex": "(("`, "token_issuer_regex", "invalid regular expression"},
		{"user id claim", `"token_user_id_claim": "user-id"`, "token_user_id_claim", "may only contain letters"},
		{"jwks url", `"token_jwks_public_endpoint": "ftp://keys"`, "token_jwks_public_endpoint", "must be an http:// or https:// URL"},
		{"bad pem", `"token_rsa_public_key": "MIIBIjANBg"`, "token_rsa_public_key", "not a PEM block"},
		{"bad origin glob", `"allowed_origins": ["http://[a"]`, "allowed_origins", "not a valid pattern"},
		{"handler prefix", `"api_handler_prefix": "api"`, "api_handler_prefix", `path "api" must start with /`},
		{"sse prefix", `"sse": true, "sse_handler_prefix": "sse"`, "sse_handler_prefix", `path "sse" must start with /`},
		{"two endpoints on one path", `"http_stream": true, "http_stream_handler_prefix": "/connection/websocket"`, "http_stream_handler_prefix", `is also websocket_handler_prefix`},
		{"h2c without internal port", `"http_server": {"h2c_external": true}`, "http_server.h2c_external", "needs http_server.internal_port"},
		{"emulation body size", `"sse": true, "emulation_max_request_body_size": 0`, "emulation_max_request_body_size", "must be a positive number of bytes"},
		{"tls without cert", `"tls": true`, "tls", "tls_cert is empty"},
		{"unknown personal namespace", `"user_personal_channel_namespace": "personal"`, "user_personal_channel_namespace", `namespace "personal" is not defined`},
		{"redis address", `"engine": "redis", "redis_address": "redis://127.0.0.1c:6379"`, "redis_address", "invalid Redis address"},
		{"sentinel without master", `"engine": "redis", "redis_sentinel_address": ["127.0.0.1:26379"]`, "redis_sentinel_address", "needs redis_sentinel_master_name"},
		{"grpc port clash", `"grpc_api": true, "grpc_api_port": 8000`, "grpc_api_port", "is also the HTTP port"},
		{"same key twice", `"port": 1, "http_server": {"port": 2}`, "http_server.port", `sets the same option as "port"`},
		{"duplicate key", `"port": 1, "port": 2`, "port", "set twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := writeConfig(t, "config.json", "{\n"+tt.content+"\n}")
			errs := loadErrors(t, LoadOptions{File: p})
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

func TestCollectsAllErrors(t *testing.T) {
	p := writeConfig(t, "config.json", `{
  "ping_interval": "10",
  "client_channel_limit": -5,
  "proxy_refresh_endpoint": "grpc://127.0.0.1c:10001",
  "namespaces": [{"name": "x"}, {"name": "chat"}, {"name": "chat"}],
  "typo_key": 1
}`)
	errs := loadErrors(t, LoadOptions{File: p})
	var lines []int
	for _, e := range errs {
		lines = append(lines, e.Line)
	}
	want := []int{2, 3, 4, 5, 5, 6}
	if !reflect.DeepEqual(lines, want) {
		t.Fatalf("error lines %v, want %v:\n%v", lines, want, (&Errors{List: errs}).Error())
	}
	all := (&Errors{List: errs}).Error()
	for _, s := range []string{`invalid namespace name "x"`, `duplicate namespace name "chat" (first at line 5)`} {
		if !strings.Contains(all, s) {
			t.Errorf("missing %q in\n%s", s, all)
		}
	}
}

func TestSyntaxErrorStopsEarly(t *testing.T) {
	p := writeConfig(t, "config.json", "{\n  \"port\": 8000\n  \"api_key\": \"x\"\n}")
	errs := loadErrors(t, LoadOptions{File: p, Env: []string{"CENTRIFUGO_PORT=bad"}})
	if len(errs) != 1 || errs[0].Line != 3 || !strings.Contains(errs[0].Msg, "syntax error") {
		t.Fatalf("got %v", (&Errors{List: errs}).Error())
	}
	if _, _, err := Load(LoadOptions{File: filepath.Join(t.TempDir(), "missing.json")}); err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
	if _, _, err := Load(LoadOptions{File: writeConfig(t, "c.ini", "port=1")}); err == nil || !strings.Contains(err.Error(), "unsupported config file extension") {
		t.Fatalf("ini: %v", err)
	}
	if _, _, err := Load(LoadOptions{File: writeConfig(t, "c.json", "[1]")}); err == nil || !strings.Contains(err.Error(), "must be an object") {
		t.Fatalf("array root: %v", err)
	}
}

func TestZeroDurationAccepted(t *testing.T) {
	p := writeConfig(t, "config.json", `{"client_expired_close_delay": 0, "client_expired_sub_close_delay": "0", "client_presence_update_interval": "0s"}`)
	cfg, _ := mustLoad(t, LoadOptions{File: p})
	if cfg.Client.ExpiredCloseDelay != 0 || cfg.Client.ExpiredSubCloseDelay != 0 || cfg.Client.PresenceUpdateInterval != 0 {
		t.Fatalf("zero durations not applied: %+v", cfg.Client)
	}
}

func TestPortAsString(t *testing.T) {
	cfg, _ := mustLoad(t, LoadOptions{File: writeConfig(t, "c.json", `{"port": "8080"}`)})
	if cfg.HTTP.Port != 8080 {
		t.Fatalf("port %d", cfg.HTTP.Port)
	}
}

// TestLoadData reads a configuration built in memory: File only names it,
// for the format and for the messages, and nothing is read from disk.
func TestLoadData(t *testing.T) {
	tests := []struct {
		name, file, data string
		wantPort         int
		wantErr          string
	}{
		{"json with comments", "inline.json", "{\n  // dev\n  \"port\": 9123\n}", 9123, ""},
		{"yaml", "inline.yaml", "port: 9124\n", 9124, ""},
		{"unknown key names the given file and line", "inline.json", "{\n  \"port\": 1,\n  \"prot\": 2\n}", 0, "inline.json:3"},
		{"file name not on disk is never opened", "/nonexistent/dir/x.json", `{"port": 9125}`, 9125, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, _, err := Load(LoadOptions{File: tc.file, Data: []byte(tc.data)})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Load = %v, want an error containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if cfg.HTTP.Port != tc.wantPort {
				t.Fatalf("port = %d, want %d", cfg.HTTP.Port, tc.wantPort)
			}
		})
	}
}

// TestShortHMACSecretWarns: a secret shorter than the HS256 hash is a
// warning that names the key; a 32-byte one is not.
func TestShortHMACSecretWarns(t *testing.T) {
	for _, tc := range []struct {
		secret string
		warn   bool
	}{{"12345", true}, {"0123456789abcdef0123456789abcde", true}, {"0123456789abcdef0123456789abcdef", false}} {
		_, warns, err := Load(LoadOptions{File: "c.json", Data: []byte(`{"api_key":"k","token_hmac_secret_key":"` + tc.secret + `"}`)})
		if err != nil {
			t.Fatal(err)
		}
		got := false
		for _, w := range warns {
			if w.Key == "token_hmac_secret_key" && strings.Contains(w.Msg, "at least 32 random bytes") {
				got = true
			}
		}
		if got != tc.warn {
			t.Errorf("secret of %d bytes: warned %v, want %v (%v)", len(tc.secret), got, tc.warn, warns)
		}
	}
}

// The emulation transports' keys in both shapes land in the same fields,
// and a transport left off keeps its defaults.
func TestEmulationKeys(t *testing.T) {
	v5 := writeConfig(t, "v5.json", `{"http_stream": true, "http_stream_handler_prefix": "/hs", "sse_max_request_body_size": 1024, "emulation_handler_prefix": "/emu"}`)
	v6 := writeConfig(t, "v6.json", `{"http_stream": {"enabled": true, "handler_prefix": "/hs"}, "sse": {"max_request_body_size": 1024}, "emulation": {"handler_prefix": "/emu"}}`)
	for _, file := range []string{v5, v6} {
		cfg, warns := mustLoad(t, LoadOptions{File: file})
		want := Config{
			HTTPStream: StreamTransport{Enabled: true, HandlerPrefix: "/hs", MaxRequestBodySize: 65536},
			SSE:        StreamTransport{HandlerPrefix: "/connection/sse", MaxRequestBodySize: 1024},
			Emulation:  EmulationEndpoint{HandlerPrefix: "/emu", MaxRequestBodySize: 65536},
		}
		if cfg.HTTPStream != want.HTTPStream || cfg.SSE != want.SSE || cfg.Emulation != want.Emulation {
			t.Errorf("%s: http_stream %+v sse %+v emulation %+v, want %+v %+v %+v", filepath.Base(file), cfg.HTTPStream, cfg.SSE, cfg.Emulation, want.HTTPStream, want.SSE, want.Emulation)
		}
		if hasWarning(warns, "not supported") {
			t.Errorf("%s: the emulation keys are implemented, yet: %v", filepath.Base(file), warns)
		}
	}
}

// http_server.internal_tls is a real Centrifugo v6 key Spindle does not
// implement: a config copied from Centrifugo still loads, and the warning
// names the key instead of the TLS being silently absent.
func TestInternalTLSNamedAsUnsupported(t *testing.T) {
	p := writeConfig(t, "c.json", `{"http_server": {"internal_port": "9000", "internal_tls": {"enabled": true}}}`)
	_, warns := mustLoad(t, LoadOptions{File: p})
	if !hasWarning(warns, "http_server.internal_tls: not supported by Spindle") {
		t.Fatalf("no warning naming http_server.internal_tls: %v", warns)
	}
}

// The transport and delta sections of the centrifuge-js test suite's
// config (centrifugo_test.json; its map parts are in
// TestCentrifugeJSTestConfigMaps, its shared-poll parts are not supported
// yet) load without a warning and switch on what they name.
func TestCentrifugeJSTestConfigTransportsAndDelta(t *testing.T) {
	cfg, warns := mustLoad(t, LoadOptions{File: "testdata/centrifuge_js_transports.json"})
	for _, w := range warns {
		// The suite's own choices are warned about, rightly: an insecure
		// client and a 6-byte HMAC secret.
		if !strings.Contains(w.String(), "client.insecure") && !strings.Contains(w.String(), "hmac_secret_key") {
			t.Errorf("unexpected warning: %s", w)
		}
	}
	if !cfg.HTTPStream.Enabled || !cfg.SSE.Enabled || cfg.Emulation.HandlerPrefix != "/emulation" {
		t.Errorf("http_stream %+v sse %+v emulation %+v", cfg.HTTPStream, cfg.SSE, cfg.Emulation)
	}
	if o := cfg.Channel.WithoutNamespace; !slices.Contains(o.AllowedDeltaTypes, "fossil") || !o.DeltaPublish {
		t.Errorf("channel without namespace: delta types %v, delta_publish %v", o.AllowedDeltaTypes, o.DeltaPublish)
	}
	if cfg.Client.Concurrency != 8 {
		t.Errorf("client.concurrency %d, want 8", cfg.Client.Concurrency)
	}
}
