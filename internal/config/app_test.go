package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// writeApp writes content to a temporary file with the given name.
func writeApp(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// The configuration from Spiral's websockets docs, verbatim.
const spiralRR = `rpc:
  listen: tcp://0.0.0.0:6001

server:
  command: "php app.php"
  relay: pipes

centrifuge:
  proxy_address: "tcp://0.0.0.0:10001"
  grpc_api_address: "centrifugo:10000"
`

func TestLoadAppSpiralDocs(t *testing.T) {
	cfg, warns, err := LoadApp(writeApp(t, ".rr.yaml", spiralRR), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(warns) != 0 {
		t.Errorf("warnings: %v", warns)
	}
	want := DefaultAppConfig()
	want.Source = cfg.Source
	want.RPC.Listen = "tcp://0.0.0.0:6001"
	want.Server.Command = []string{"php", "app.php"}
	want.Centrifuge.ProxyAddress = "tcp://0.0.0.0:10001"
	want.Centrifuge.GRPCAPIAddress = "centrifugo:10000"
	if !reflect.DeepEqual(cfg, want) {
		t.Fatalf("got  %+v\nwant %+v", cfg, want)
	}
}

func TestLoadAppTicketBooking(t *testing.T) {
	src := `version: '3'
rpc:
  listen: tcp://127.0.0.1:6001
server:
  command: [php, app.php, --mode=centrifuge]
  env:
    app_env: prod
    DEBUG: 1
centrifuge:
  proxy_address: tcp://0.0.0.0:10001
  grpc_api_address: tcp://centrifugo:10000
  pool:
    num_workers: 2
    max_jobs: 100
    allocate_timeout: 10s
    supervisor:
      exec_ttl: 5s
      max_worker_memory: 128
    dynamic_allocator:
      max_workers: 4
metrics:
  address: 0.0.0.0:2112
status:
  address: 127.0.0.1:2114
otel:
  exporter: otlp
`
	cfg, warns, err := LoadApp(writeApp(t, ".rr.yaml", src), nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Version != "3" || cfg.Centrifuge.GRPCAPIAddress != "centrifugo:10000" {
		t.Errorf("version %q api %q", cfg.Version, cfg.Centrifuge.GRPCAPIAddress)
	}
	if !reflect.DeepEqual(cfg.Server.Command, []string{"php", "app.php", "--mode=centrifuge"}) {
		t.Errorf("command %q", cfg.Server.Command)
	}
	if !reflect.DeepEqual(cfg.Server.Env, map[string]string{"APP_ENV": "prod", "DEBUG": "1"}) {
		t.Errorf("env %v", cfg.Server.Env)
	}
	p := cfg.Centrifuge.Pool
	wantPool := PoolConfig{
		NumWorkers: 2, MaxJobs: 100,
		AllocateTimeout: 10 * time.Second, DestroyTimeout: time.Minute, ResetTimeout: time.Minute, StreamTimeout: time.Minute,
		Supervisor:       &PoolSupervisor{WatchTick: 5 * time.Second, ExecTTL: 5 * time.Second, MaxWorkerMemory: 128},
		DynamicAllocator: &PoolDynamicAllocator{MaxWorkers: 4, SpawnRate: 5, IdleTimeout: time.Minute},
	}
	if !reflect.DeepEqual(p, wantPool) {
		t.Errorf("pool\n got %+v %+v %+v\nwant %+v %+v %+v", p, p.Supervisor, p.DynamicAllocator, wantPool, wantPool.Supervisor, wantPool.DynamicAllocator)
	}
	var got []string
	for _, w := range warns {
		got = append(got, w.String())
	}
	if cfg.Status.Address != "127.0.0.1:2114" || cfg.Status.UnavailableStatusCode != 503 || cfg.Metrics.Address != "0.0.0.0:2112" {
		t.Errorf("status %+v metrics %+v", cfg.Status, cfg.Metrics)
	}
	want := []string{"otel"}
	if len(got) != len(want) {
		t.Fatalf("warnings %q", got)
	}
	for i, sec := range want {
		if !strings.Contains(got[i], sec+": RoadRunner section") || !strings.Contains(got[i], ".rr.yaml:") {
			t.Errorf("warning %d = %q, want one about %s with a line", i, got[i], sec)
		}
	}
}

// TestLoadAppUnsupportedPoolKeysWarn: RoadRunner pool keys the pool does not
// implement are named in a warning when set (checkconfig shows it), and
// silent when absent or off.
func TestLoadAppUnsupportedPoolKeysWarn(t *testing.T) {
	for _, tc := range []struct{ pool, want string }{
		{"num_workers: 1", ""},
		{"stream_timeout: 10s", "centrifuge.pool.stream_timeout: not supported: workers answer with one frame"},
		{"debug: true", "centrifuge.pool.debug: not supported: workers are pre-forked"},
		{"debug: false", ""},
	} {
		src := "server:\n  command: php w.php\ncentrifuge:\n  pool:\n    " + tc.pool + "\n"
		_, warns, err := LoadApp(writeApp(t, ".rr.yaml", src), nil)
		if err != nil {
			t.Fatalf("%s: %v", tc.pool, err)
		}
		var got []string
		for _, w := range warns {
			if strings.Contains(w.Msg, "not supported") {
				got = append(got, w.String())
			}
		}
		switch {
		case tc.want == "" && len(got) > 0:
			t.Errorf("%s: warned %q", tc.pool, got)
		case tc.want != "" && (len(got) != 1 || !strings.Contains(got[0], tc.want)):
			t.Errorf("%s: warnings %q, want one with %q", tc.pool, got, tc.want)
		}
	}
}

func TestLoadAppDefaults(t *testing.T) {
	tests := []struct {
		name, src string
		check     func(t *testing.T, c *AppConfig)
		warn      string
	}{
		{"empty file", "", func(t *testing.T, c *AppConfig) {
			if c.RPC.Listen != "" || c.Centrifuge.ProxyAddress != DefaultAppProxyAddress || c.Centrifuge.APITimeout != 5*time.Second ||
				c.Centrifuge.GRPCAPIAddress != "127.0.0.1:10000" || c.Server.Relay != "pipes" || c.Centrifuge.TLS != nil ||
				c.Centrifuge.Pool.Supervisor != nil || c.Centrifuge.Name != "roadrunner" || c.Centrifuge.Version != "1.0.0" {
				t.Errorf("%+v", c)
			}
		}, "no centrifuge section"},
		{"bare sections", "rpc:\ncentrifuge:\n  pool:\n    supervisor:\n", func(t *testing.T, c *AppConfig) {
			if c.RPC.Listen != DefaultAppRPCListen || c.Centrifuge.Pool.Supervisor == nil || c.Centrifuge.Pool.Supervisor.WatchTick != 5*time.Second {
				t.Errorf("%+v %+v", c.RPC, c.Centrifuge.Pool.Supervisor)
			}
		}, ""},
		{"bare host:port proxy address and unix socket rpc", "rpc: {listen: 'unix:///tmp/rr.sock'}\ncentrifuge: {proxy_address: ':10001', api_timeout: 250ms}\n",
			func(t *testing.T, c *AppConfig) {
				if c.RPC.Listen != "unix:///tmp/rr.sock" || c.Centrifuge.ProxyAddress != ":10001" || c.Centrifuge.APITimeout != 250*time.Millisecond {
					t.Errorf("%+v %+v", c.RPC, c.Centrifuge)
				}
			}, ""},
		{"numeric version", "version: 3\ncentrifuge: {}\n", func(t *testing.T, c *AppConfig) {
			if c.Version != "3" {
				t.Errorf("version %q", c.Version)
			}
		}, "should be a string"},
		{"unsupported server keys", "server: {command: php w.php, user: www}\ncentrifuge: {}\n", nil, "server.user: running workers as another user"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, warns, err := LoadApp(writeApp(t, "a.yaml", tt.src), nil)
			if err != nil {
				t.Fatal(err)
			}
			if tt.check != nil {
				tt.check(t, cfg)
			}
			joined := ""
			for _, w := range warns {
				joined += w.String() + "\n"
			}
			if tt.warn == "" && joined != "" || !strings.Contains(joined, tt.warn) {
				t.Errorf("warnings %q, want %q", joined, tt.warn)
			}
		})
	}
}

func TestLoadAppErrors(t *testing.T) {
	tests := []struct {
		name, src string
		want      []string // each must appear in one error, as "file:line: message"
	}{
		{"typo in centrifuge key", "centrifuge:\n  proxy_adress: tcp://0.0.0.0:10001\n",
			[]string{`:2: unknown key "centrifuge.proxy_adress" (did you mean "centrifuge.proxy_address"?)`}},
		{"typo in section name", "centrifug:\n  proxy_address: x\n",
			[]string{`:1: unknown key "centrifug" (did you mean "centrifuge"?)`}},
		{"typo in pool key", "centrifuge:\n  pool:\n    num_worker: 2\n",
			[]string{`:3: unknown key "centrifuge.pool.num_worker" (did you mean "centrifuge.pool.num_workers"?)`}},
		{"typo in server key", "server:\n  comand: php app.php\n",
			[]string{`:2: unknown key "server.comand" (did you mean "server.command"?)`}},
		{"bad values", `rpc:
  listen: 0.0.0.0:6001
server:
  relay: stdin
centrifuge:
  proxy_address: grpc://127.0.0.1:10001
  grpc_api_address: tcp://centrifugo
  api_timeout: 0
  use_compressor: "yes"
  pool:
    num_workers: 600
    max_jobs: -1
    allocate_timeout: 60
    dynamic_allocator:
      spawn_rate: 0
`, []string{
			":2: rpc.listen: invalid address \"0.0.0.0:6001\": write it as tcp://host:port",
			":4: server.relay: must be \"pipes\"",
			":6: centrifuge.proxy_address: invalid address \"grpc://127.0.0.1:10001\": unsupported scheme",
			":7: centrifuge.grpc_api_address: invalid address \"tcp://centrifugo\": want host:port",
			":8: centrifuge.api_timeout: must be positive",
			":9: centrifuge.use_compressor: must be true or false",
			":11: centrifuge.pool.num_workers: must be at most 500",
			":12: centrifuge.pool.max_jobs: must not be negative",
			":13: centrifuge.pool.allocate_timeout: bare number 60 is not a duration",
			":15: centrifuge.pool.dynamic_allocator.spawn_rate: must be at least 1",
		}},
		{"mistyped IP in API address", "centrifuge:\n  grpc_api_address: 127.0.0.1c:10000\n",
			[]string{":2: centrifuge.grpc_api_address: invalid address \"127.0.0.1c:10000\""}},
		{"section that is not an object", "centrifuge: tcp://0.0.0.0:10001\n",
			[]string{":1: centrifuge: must be an object"}},
		{"command of the wrong type", "server:\n  command: {php: app.php}\n",
			[]string{":2: server.command: must be an array of strings"}},
		{"env of the wrong type", "server:\n  env: [A, B]\n",
			[]string{":2: server.env: must be an object"}},
		{"duplicate key", "centrifuge:\n  name: a\n  name: b\n", []string{":3: centrifuge.name: set twice (first at line 2)"}},
		{"tls without cert", "centrifuge:\n  tls:\n    key: /nonexistent/key.pem\n", []string{
			":2: centrifuge.tls: needs both key and cert",
			":3: centrifuge.tls.key: invalid PEM data: not a valid file path, base64-encoded PEM content, or raw PEM content (no file \"/nonexistent/key.pem\")",
		}},
		{"yaml syntax", "centrifuge:\n  proxy_address: [\n", []string{":2: syntax error: line 2: did not find expected node content"}},
		{"top level list", "- a\n- b\n", []string{"the top level must be an object"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeApp(t, ".rr.yaml", tt.src)
			_, _, err := LoadApp(path, nil)
			var errs *Errors
			if !errors.As(err, &errs) {
				t.Fatalf("error %v, want *Errors", err)
			}
			for _, w := range tt.want {
				found := false
				for _, e := range errs.List {
					if strings.Contains(e.Error(), w) && strings.HasPrefix(e.Error(), path) {
						found = true
					}
				}
				if !found {
					t.Errorf("no error containing %q in:\n%v", w, err)
				}
			}
			if len(errs.List) != len(tt.want) && tt.name != "yaml syntax" {
				t.Errorf("%d errors, want %d:\n%v", len(errs.List), len(tt.want), err)
			}
		})
	}
}

// TestLoadAppTLS: every certificate, key and CA of centrifuge.tls (the API
// client) and centrifuge.proxy_tls (the proxy listener) is opened and
// checked when the file loads, so `spindle checkconfig --app` and start-up
// name the key of a missing file or a mismatched pair.
func TestLoadAppTLS(t *testing.T) {
	dir := t.TempDir()
	cert, key := selfSigned(t)
	otherCert, _ := selfSigned(t)
	file := func(name, data string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	certFile, keyFile, otherFile, notPEM := file("cert.pem", cert), file("key.pem", key), file("other.pem", otherCert), file("notes.txt", "hello")
	tests := []struct {
		name, src string
		wantErr   string
	}{
		{"api client: RoadRunner's key and cert, Spindle's ca and server_name",
			"centrifuge:\n  tls:\n    key: " + keyFile + "\n    cert: " + certFile + "\n    ca: " + certFile + "\n    server_name: centrifugo.internal\n", ""},
		{"api client: a CA alone", "centrifuge:\n  tls:\n    ca: " + certFile + "\n", ""},
		{"api client: mismatched pair", "centrifuge:\n  tls:\n    key: " + keyFile + "\n    cert: " + otherFile + "\n", ":3: centrifuge.tls.key: error create x509 key pair"},
		{"api client: CA that is not PEM", "centrifuge:\n  tls:\n    ca: " + notPEM + "\n", ":3: centrifuge.tls.ca: file \"" + notPEM + "\" contains invalid PEM data"},
		{"api client: empty section", "centrifuge:\n  tls: {}\n", ":2: centrifuge.tls: needs key and cert"},
		{"proxy listener with client CA", "centrifuge:\n  proxy_tls:\n    cert: " + certFile + "\n    key: " + keyFile + "\n    client_ca: " + certFile + "\n", ""},
		{"proxy listener without key", "centrifuge:\n  proxy_tls:\n    cert: " + certFile + "\n", ":2: centrifuge.proxy_tls: needs cert and key"},
		{"proxy listener: missing file", "centrifuge:\n  proxy_tls:\n    cert: " + filepath.Join(dir, "gone.pem") + "\n    key: " + keyFile + "\n", ":3: centrifuge.proxy_tls.cert: invalid PEM data"},
		{"proxy listener: mismatched pair", "centrifuge:\n  proxy_tls:\n    cert: " + otherFile + "\n    key: " + keyFile + "\n", ":4: centrifuge.proxy_tls.key: error create x509 key pair"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, _, err := LoadApp(writeApp(t, ".rr.yaml", tc.src), nil)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("LoadApp = %v, want an error containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c := cfg.Centrifuge.TLS; c != nil && len(c.CAPEM) == 0 {
				t.Fatalf("API client CA not read: %+v", c)
			}
			if c := cfg.Centrifuge.ProxyTLS; c != nil && (len(c.CertPEM) == 0 || len(c.KeyPEM) == 0 || len(c.ClientCAPEM) == 0) {
				t.Fatalf("proxy listener PEM not read: %+v", c)
			}
		})
	}
}

func TestLoadAppEnvExpansion(t *testing.T) {
	src := `server:
  command: ${PHP_BIN:-php} app.php
  env:
    HOME_DIR: $HOME
centrifuge:
  proxy_address: tcp://127.0.0.1:${PROXY_PORT:-30001}
  grpc_api_address: ${API_HOST}:10000
  grpc_api_key: ${API_KEY}
  use_compressor: ${GZIP}
  name: price$ is literal, so is ${not a name}
  pool:
    num_workers: ${WORKERS}
    allocate_timeout: ${ALLOC}
`
	env := []string{"HOME=/home/app", "API_HOST=centrifugo", "GZIP=true", "WORKERS=4", "ALLOC=3s", "PROXY_PORT="}
	cfg, warns, err := LoadApp(writeApp(t, ".rr.yaml", src), env)
	if err != nil {
		t.Fatal(err)
	}
	c := cfg.Centrifuge
	if !reflect.DeepEqual(cfg.Server.Command, []string{"php", "app.php"}) || cfg.Server.Env["HOME_DIR"] != "/home/app" ||
		c.ProxyAddress != "tcp://127.0.0.1:30001" || c.GRPCAPIAddress != "centrifugo:10000" || c.GRPCAPIKey != "" ||
		!c.UseCompressor || c.Name != "price$ is literal, so is ${not a name}" || c.Pool.NumWorkers != 4 || c.Pool.AllocateTimeout != 3*time.Second {
		t.Fatalf("%+v %+v", cfg.Server, c)
	}
	if len(warns) != 1 || !strings.Contains(warns[0].String(), ":8: environment variable API_KEY is not set") {
		t.Fatalf("warnings %v", warns)
	}
}

func TestExpandEnv(t *testing.T) {
	env := map[string]string{"A": "1", "EMPTY": "", "B_2": "two"}
	tests := []struct {
		in, out string
		unset   []string
	}{
		{"plain", "plain", nil},
		{"$A", "1", nil},
		{"${A}x", "1x", nil},
		{"$A$B_2", "1two", nil},
		{"${EMPTY:-d}", "d", nil},
		{"${MISSING:-d e}", "d e", nil},
		{"${A:-d}", "1", nil},
		{"${MISSING}", "", []string{"MISSING"}},
		{"$MISSING-x", "-x", []string{"MISSING"}},
		{"$", "$", nil},
		{"a$ b", "a$ b", nil},
		{"$1", "$1", nil},
		{"${", "${", nil},
		{"${A", "${A", nil},
		{"${1x}", "${1x}", nil},
		{"$$A", "$1", nil},
	}
	for _, tt := range tests {
		out, unset, _ := expandEnv(tt.in, env)
		if out != tt.out || !reflect.DeepEqual(unset, tt.unset) {
			t.Errorf("%q: got %q %v, want %q %v", tt.in, out, unset, tt.out, tt.unset)
		}
	}
}

func TestLoadAppJSONAndMissingFile(t *testing.T) {
	cfg, _, err := LoadApp(writeApp(t, "rr.json", `{"centrifuge": {"proxy_address": "unix:///tmp/p.sock"}, // comment
	}`), nil)
	if err != nil || cfg.Centrifuge.ProxyAddress != "unix:///tmp/p.sock" {
		t.Fatalf("%v %v", cfg, err)
	}
	_, _, err = LoadApp(filepath.Join(t.TempDir(), "absent.yaml"), nil)
	if err == nil || !strings.Contains(err.Error(), "cannot read config file") {
		t.Fatalf("missing file: %v", err)
	}
}

// Every key in the table decodes without an internal error.
func TestAppKeysAllDecode(t *testing.T) {
	for p, k := range appKeys {
		if k.target == nil {
			continue
		}
		probe := withAppSections(DefaultAppConfig())
		if kindOfTarget(k.target(probe)) == kindAny {
			t.Errorf("%s: target of unsupported type %T", p, k.target(probe))
		}
	}
}

func TestLoadAppStatusAndMetrics(t *testing.T) {
	tests := []struct {
		name, src string
		wantErr   string
		check     func(t *testing.T, c *AppConfig)
	}{
		{"both", "status:\n  address: 127.0.0.1:2114\n  unavailable_status_code: 500\nmetrics:\n  address: 127.0.0.1:2112\n", "", func(t *testing.T, c *AppConfig) {
			if c.Status.Address != "127.0.0.1:2114" || c.Status.UnavailableStatusCode != 500 || c.Metrics.Address != "127.0.0.1:2112" {
				t.Errorf("status %+v metrics %+v", c.Status, c.Metrics)
			}
		}},
		{"absent", "rpc:\n  listen: tcp://127.0.0.1:6001\n", "", func(t *testing.T, c *AppConfig) {
			if c.Status.Address != "" || c.Metrics.Address != "" || c.Status.UnavailableStatusCode != 503 {
				t.Errorf("status %+v metrics %+v", c.Status, c.Metrics)
			}
		}},
		{"bad address", "status:\n  address: tcp://127.0.0.1\n", "status.address", nil},
		{"bad code", "status:\n  address: 127.0.0.1:1\n  unavailable_status_code: 42\n", "status.unavailable_status_code", nil},
		{"unknown key", "metrics:\n  adress: 127.0.0.1:1\n", "metrics.adress", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, _, err := LoadApp(writeApp(t, ".rr.yaml", tc.src), nil)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("want an error naming %s, got %v", tc.wantErr, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, cfg)
		})
	}
}

// TestSubRefreshType: centrifuge.sub_refresh_type takes the two spellings
// worker SDKs understand and nothing else.
func TestSubRefreshType(t *testing.T) {
	for _, tc := range []struct{ yaml, want, wantErr string }{
		{"", "subrefresh", ""},
		{"  sub_refresh_type: sub_refresh\n", "sub_refresh", ""},
		{"  sub_refresh_type: subrefresh\n", "subrefresh", ""},
		{"  sub_refresh_type: sub-refresh\n", "", `use "subrefresh"`},
	} {
		dir := t.TempDir()
		p := filepath.Join(dir, ".rr.yaml")
		if err := os.WriteFile(p, []byte("version: '3'\ncentrifuge:\n  proxy_address: tcp://127.0.0.1:10001\n"+tc.yaml), 0o600); err != nil {
			t.Fatal(err)
		}
		cfg, _, err := LoadApp(p, nil)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), ".rr.yaml:4") {
				t.Errorf("%q: error %v, want %q at line 4", tc.yaml, err, tc.wantErr)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%q: %v", tc.yaml, err)
		}
		if cfg.Centrifuge.SubRefreshType != tc.want {
			t.Errorf("%q: %q, want %q", tc.yaml, cfg.Centrifuge.SubRefreshType, tc.want)
		}
	}
}
