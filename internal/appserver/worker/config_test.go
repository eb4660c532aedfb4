package worker

import (
	"runtime"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

func TestPoolConfigYAMLAndDefaults(t *testing.T) {
	src := `
num_workers: 4
max_jobs: 100
max_queue_size: 10
allocate_timeout: 5s
destroy_timeout: 2s
supervisor:
  watch_tick: 500ms
  ttl: 1h
  idle_ttl: 10m
  max_worker_memory: 128
  exec_ttl: 3s
`
	var c PoolConfig
	if err := yaml.Unmarshal([]byte(src), &c); err != nil {
		t.Fatal(err)
	}
	want := PoolConfig{
		NumWorkers: 4, MaxJobs: 100, MaxQueueSize: 10,
		AllocateTimeout: 5 * time.Second, DestroyTimeout: 2 * time.Second, ResetTimeout: DefaultResetTimeout,
		Supervisor: SupervisorConfig{WatchTick: 500 * time.Millisecond, TTL: time.Hour, IdleTTL: 10 * time.Minute, MaxWorkerMemory: 128, ExecTTL: 3 * time.Second},
	}
	if got := c.WithDefaults(); got != want {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}
	d := PoolConfig{}.WithDefaults()
	if d.NumWorkers != runtime.GOMAXPROCS(0) || d.AllocateTimeout != 60*time.Second || d.DestroyTimeout != 60*time.Second ||
		d.Supervisor.WatchTick != time.Second || d.Supervisor.ExecTTL != 60*time.Second || d.Supervisor.supervised() {
		t.Fatalf("defaults %+v", d)
	}
}

func TestPoolConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  PoolConfig
		want string
	}{
		{"ok", PoolConfig{NumWorkers: 500}, ""},
		{"too many workers", PoolConfig{NumWorkers: 501}, "pool.num_workers"},
		{"negative workers", PoolConfig{NumWorkers: -1}, "pool.num_workers"},
		{"negative exec_ttl", PoolConfig{Supervisor: SupervisorConfig{ExecTTL: -time.Second}}, "pool.supervisor.exec_ttl"},
		{"negative allocate", PoolConfig{AllocateTimeout: -1}, "pool.allocate_timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
				t.Fatalf("Validate() = %v, want mention of %q", err, tt.want)
			}
		})
	}
}

func TestSpawnEnviron(t *testing.T) {
	t.Setenv("SPINDLE_T_BASE", "/srv")
	t.Setenv("RR_MODE", "inherited")
	s := SpawnConfig{
		Env:        map[string]string{"db_dsn": "${SPINDLE_T_BASE}/db", "Plain": "x"},
		RPCAddress: "tcp://127.0.0.1:6001",
	}.withDefaults()
	env := s.environ("unix:///tmp/rr.sock")
	last := map[string]string{}
	var order []string
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		last[k] = v
		order = append(order, k)
	}
	for k, want := range map[string]string{
		"RR_RELAY": "unix:///tmp/rr.sock", "RR_RPC": "tcp://127.0.0.1:6001", "DB_DSN": "/srv/db", "PLAIN": "x",
		"RR_VERSION": DefaultRRVersion, "RR_MODE": "centrifuge", "SPINDLE_T_BASE": "/srv",
	} {
		if last[k] != want {
			t.Errorf("%s = %q, want %q", k, last[k], want)
		}
	}
	if order[len(order)-1] != "RR_MODE" {
		t.Errorf("RR_MODE must come last so it wins, order ends %v", order[len(order)-3:])
	}
	if _, ok := last["db_dsn"]; ok {
		t.Error("env key was not upper-cased")
	}
	noRPC := SpawnConfig{}.withDefaults().environ("pipes")
	for _, kv := range noRPC {
		if strings.HasPrefix(kv, "RR_RPC=") {
			t.Error("RR_RPC set without an RPC address")
		}
	}
}

func TestSpawnValidate(t *testing.T) {
	for _, cmd := range [][]string{nil, {""}, {"  "}} {
		if err := (SpawnConfig{Command: cmd}).validate(); err == nil || !strings.Contains(err.Error(), "command should not be empty") {
			t.Errorf("command %q: %v", cmd, err)
		}
	}
}

func TestParseRelay(t *testing.T) {
	tests := []struct {
		dsn, network, address string
		bad                   bool
	}{
		{"", "pipes", "", false},
		{"pipes", "pipes", "", false},
		{"tcp://127.0.0.1:7000", "tcp", "127.0.0.1:7000", false},
		{"unix:///tmp/rr.sock", "unix", "/tmp/rr.sock", false},
		{"unix://rr.sock", "unix", "rr.sock", false},
		{"udp://127.0.0.1:1", "", "", true},
		{"tcp://", "", "", true},
		{"127.0.0.1:7000", "", "", true},
		{"tcp://a://b", "", "", true},
	}
	for _, tt := range tests {
		k, err := parseRelay(tt.dsn)
		if tt.bad {
			if err == nil || !strings.Contains(err.Error(), "invalid DSN") {
				t.Errorf("%q: err = %v, want invalid DSN", tt.dsn, err)
			}
			continue
		}
		if err != nil || k.network != tt.network || k.address != tt.address {
			t.Errorf("%q: %+v %v", tt.dsn, k, err)
		}
	}
}

func TestNewPoolRejectsBadConfig(t *testing.T) {
	tests := []struct {
		name  string
		cfg   PoolConfig
		spawn SpawnConfig
		want  string
	}{
		{"no command", PoolConfig{}, SpawnConfig{}, "command should not be empty"},
		{"bad relay", PoolConfig{}, SpawnConfig{Command: []string{"x"}, Relay: "ws://x"}, "invalid DSN"},
		{"bad pool", PoolConfig{NumWorkers: 9999}, SpawnConfig{Command: []string{"x"}}, "num_workers"},
		{"missing binary", PoolConfig{NumWorkers: 1}, SpawnConfig{Command: []string{"/nonexistent/worker"}}, "failed to spawn"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tryPool(t, tt.cfg, tt.spawn)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want mention of %q", err, tt.want)
			}
		})
	}
}
