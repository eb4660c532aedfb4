package config

import (
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// yamlLine finds the line yaml.v3 names in its error text, so that a
// YAML syntax error is located like every other problem.
var yamlLine = regexp.MustCompile(`\bline (\d+):`)

// AppConfig is a RoadRunner-style `.rr.yaml` as `spindle app` reads it:
// the sections a Spiral application already has (rpc, server, centrifuge)
// keep their meaning, so the same file drives both.
type AppConfig struct {
	// Source is the file the configuration was read from.
	Source string
	// Version is the config-format marker (`version: '3'`); informational.
	Version string
	RPC     AppRPC
	Server  AppServer
	// Centrifuge is the `centrifuge` section: where the real-time server
	// calls us and where we call its API.
	Centrifuge AppCentrifuge
	// Status is the `status` section: health and readiness endpoints.
	Status AppStatus
	// Metrics is the `metrics` section: the Prometheus endpoint.
	Metrics AppMetrics
}

// AppStatus is RoadRunner's `status` section: /health and /ready for
// orchestrators, answered from the worker pool's state.
type AppStatus struct {
	// Address is host:port of the HTTP listener; "" disables it.
	Address string
	// UnavailableStatusCode is answered when no worker is ready. Default
	// 503.
	UnavailableStatusCode int
}

// AppMetrics is RoadRunner's `metrics` section.
type AppMetrics struct {
	// Address is host:port serving /metrics; "" disables it. It may equal
	// status.address, sharing one listener.
	Address string
}

// AppRPC is the `rpc` section: the endpoint workers use to call the
// server API (centrifuge.* methods).
type AppRPC struct {
	// Listen is tcp://host:port or unix:///path; tcp://127.0.0.1:6001
	// when the section exists without it, "" (disabled) without the
	// section, as in RoadRunner.
	Listen string
}

// AppServer is the `server` section: how worker processes are started.
type AppServer struct {
	// Command is the worker command line; a string in the file is split
	// on whitespace. Empty means no workers.
	Command []string
	// Relay is the worker transport: "pipes" (default),
	// "tcp://host:port" or "unix:///path".
	Relay string
	// Env is added to every worker's environment; keys upper-cased.
	Env map[string]string
}

// AppCentrifuge is the `centrifuge` section.
type AppCentrifuge struct {
	// ProxyAddress is where the app server listens for proxied events:
	// tcp://host:port, host:port or unix:///path. Default
	// tcp://127.0.0.1:30000.
	ProxyAddress string
	// GRPCAPIAddress is the real-time server's gRPC API as host:port (a
	// tcp:// prefix in the file is stripped). Default 127.0.0.1:10000.
	GRPCAPIAddress string
	// GRPCAPIKey is sent as `authorization: apikey <key>` on API calls
	// (RoadRunner cannot send one); empty sends nothing.
	GRPCAPIKey string
	// APITimeout is the deadline of every API call (RoadRunner has none).
	// Default 5s.
	APITimeout time.Duration
	// TLS, when set, secures the API client: RoadRunner's client
	// certificate, plus Spindle's CA and server name.
	TLS *AppTLS
	// ProxyTLS, when set, serves the proxy listener over TLS (a Spindle
	// addition: RoadRunner's listener is always plaintext).
	ProxyTLS *AppProxyTLS
	// UseCompressor gzips API calls.
	UseCompressor bool
	// SubRefreshType is the "type" a subscription refresh carries to
	// workers: "subrefresh" (RoadRunner, and roadrunner-php/centrifugo's
	// development line) or "sub_refresh" (roadrunner-php/centrifugo 2.x,
	// which refuses the other spelling and never answers). Default
	// "subrefresh".
	SubRefreshType string
	// Name and Version describe the application (informational; unused
	// by RoadRunner too). Defaults "roadrunner" and "1.0.0".
	Name    string
	Version string
	// Pool configures the worker pool that answers proxied events.
	Pool PoolConfig
}

// AppTLS is `centrifuge.tls`: TLS (1.2 at least) on the API client.
// Key and Cert are RoadRunner's client certificate and go together; CA
// and ServerName are Spindle additions (RoadRunner verifies against the
// system roots and the dialled host name only), and with them the client
// certificate becomes optional. Each holds a file path, raw PEM or base64
// of PEM; loading reads and checks them into the PEM fields.
type AppTLS struct {
	Key        string
	Cert       string
	CA         string
	ServerName string

	KeyPEM, CertPEM, CAPEM []byte
}

// AppProxyTLS is `centrifuge.proxy_tls` (Spindle's): the proxy listener's
// certificate and, with ClientCA, mutual TLS so that only holders of a
// certificate from that CA (the real-time server) may call it. Values are
// file paths, raw PEM or base64 of PEM, read into the PEM fields.
type AppProxyTLS struct {
	Cert     string
	Key      string
	ClientCA string

	CertPEM, KeyPEM, ClientCAPEM []byte
}

// PoolConfig is a worker pool section (`centrifuge.pool`), with
// RoadRunner's defaults applied. It is plain data: the worker package
// builds the pool from it.
type PoolConfig struct {
	// Command overrides server.command for this pool.
	Command []string
	// NumWorkers is the number of pre-forked workers; 0 means one per
	// logical CPU. At most 500.
	NumWorkers int
	// MaxJobs retires a worker after that many calls; 0 = never.
	MaxJobs int
	// MaxQueueSize rejects calls while that many wait; 0 = unbounded.
	MaxQueueSize int
	// AllocateTimeout bounds waiting for a free worker and starting one.
	// Default 60s.
	AllocateTimeout time.Duration
	// DestroyTimeout bounds the graceful pool stop. Default 60s.
	DestroyTimeout time.Duration
	// ResetTimeout bounds a pool reset. Default 60s.
	ResetTimeout time.Duration
	// StreamTimeout bounds stream cancellation. Default 60s.
	StreamTimeout time.Duration
	// Debug starts a fresh worker for every call.
	Debug bool
	// Supervisor is set when the `supervisor` section exists.
	Supervisor *PoolSupervisor
	// DynamicAllocator is set when the `dynamic_allocator` section exists.
	DynamicAllocator *PoolDynamicAllocator
}

// PoolSupervisor is `pool.supervisor`: limits checked every WatchTick.
type PoolSupervisor struct {
	// WatchTick is the check period. Default 5s.
	WatchTick time.Duration
	// TTL is the soft maximum worker lifetime; 0 = none.
	TTL time.Duration
	// IdleTTL is the soft maximum idle time; 0 = none.
	IdleTTL time.Duration
	// MaxWorkerMemory is the soft RSS limit in MB; 0 = none.
	MaxWorkerMemory int
	// ExecTTL is the hard per-call limit (the worker is killed); 0 =
	// bounded by the caller's deadline only.
	ExecTTL time.Duration
}

// PoolDynamicAllocator is `pool.dynamic_allocator`: extra workers spawned
// under load.
type PoolDynamicAllocator struct {
	// MaxWorkers caps the extra workers. Default 10.
	MaxWorkers int
	// SpawnRate is how many are added at once. Default 5.
	SpawnRate int
	// IdleTimeout removes extra workers after this long without demand.
	// Default 1m.
	IdleTimeout time.Duration
}

// Defaults of the app configuration.
const (
	DefaultAppProxyAddress   = "tcp://127.0.0.1:30000"
	DefaultAppGRPCAPIAddress = "127.0.0.1:10000"
	DefaultAppRPCListen      = "tcp://127.0.0.1:6001"
	DefaultAppAPITimeout     = 5 * time.Second
)

// DefaultAppConfig is the configuration of an empty file.
func DefaultAppConfig() *AppConfig {
	return &AppConfig{
		Server: AppServer{Relay: "pipes", Env: map[string]string{}},
		Status: AppStatus{UnavailableStatusCode: 503},
		Centrifuge: AppCentrifuge{
			ProxyAddress:   DefaultAppProxyAddress,
			GRPCAPIAddress: DefaultAppGRPCAPIAddress,
			APITimeout:     DefaultAppAPITimeout,
			Name:           "roadrunner",
			Version:        "1.0.0",
			SubRefreshType: "subrefresh",
			Pool:           defaultPool(),
		},
	}
}

func defaultPool() PoolConfig {
	return PoolConfig{
		AllocateTimeout: 60 * time.Second,
		DestroyTimeout:  60 * time.Second,
		ResetTimeout:    60 * time.Second,
		StreamTimeout:   60 * time.Second,
	}
}

// LoadApp reads a `.rr.yaml` (YAML, or JSON when the name ends in
// .json). Values may use ${VAR}, ${VAR:-default} and $VAR, expanded from
// env (os.Environ() form) as RoadRunner does. Unknown keys and bad values
// are errors naming the file, line and key (an *Errors listing all of
// them); RoadRunner sections the app server does not run (http, logs,
// metrics, …) are warnings.
func LoadApp(path string, env []string) (*AppConfig, []Warning, error) {
	data, err := readFile(path)
	if err != nil {
		return nil, nil, &Errors{List: []*Error{{Source: path, Msg: "cannot read config file: " + readError(err), Err: err}}}
	}
	return loadApp(path, data, env)
}

func loadApp(path string, data []byte, env []string) (*AppConfig, []Warning, error) {
	st := &state{locs: map[string]loc{}, bad: map[string]bool{}}
	cfg := DefaultAppConfig()
	cfg.Source = path
	root, err := parseAppFile(path, data)
	if err != nil {
		e := &Error{Source: path, Msg: "cannot parse: " + err.Error(), Err: err}
		var se *syntaxError
		if errors.As(err, &se) {
			e.Line = se.line
			e.Msg = fmt.Sprintf("syntax error (column %d): %s", se.col, se.msg)
		} else if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
			e.Line, _ = strconv.Atoi(m[1])
			msg := err.Error()
			for strings.HasPrefix(msg, "yaml: ") {
				msg = msg[len("yaml: "):]
			}
			e.Msg = "syntax error: " + msg
		}
		return nil, nil, &Errors{List: []*Error{e}}
	}
	if root.kind != kindObject {
		if root.kind == kindNull {
			root = &node{kind: kindObject, line: 1}
		} else {
			return nil, nil, &Errors{List: []*Error{{Source: path, Line: root.line, Msg: "the top level must be an object of keys"}}}
		}
	}
	expandNodeEnv(st, root, path, envMap(env))
	d := &appDecoder{st: st, cfg: cfg, source: path}
	d.decode(root)
	sortProblems(st.errs, st.warns, path)
	if len(st.errs) > 0 {
		return nil, st.warns, &Errors{List: st.errs}
	}
	return cfg, st.warns, nil
}

// parseAppFile picks JSON for .json files and YAML for everything else
// (.rr.yaml, .rr-dev.yaml, .rr.yml, extensionless).
func parseAppFile(path string, data []byte) (n *node, err error) {
	defer func() {
		if r := recover(); r != nil {
			n, err = nil, fmt.Errorf("parser failure: %v", r)
		}
	}()
	if strings.EqualFold(filepath.Ext(path), ".json") {
		return parseJSONC(data)
	}
	return parseYAML(data)
}
