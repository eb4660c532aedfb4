package worker

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"time"
)

// Worker environment defaults.
const (
	// DefaultMode is exported to workers as RR_MODE; roadrunner-php's
	// dispatchers pick the Centrifugo loop by it.
	DefaultMode = "centrifuge"
	// DefaultRRVersion is exported as RR_VERSION for SDKs that look at it.
	DefaultRRVersion = "2025.1.0"
	// DefaultStopTimeout is how long a worker may take to exit after the
	// stop frame before it is killed (RoadRunner's fixed 10s).
	DefaultStopTimeout = 10 * time.Second
)

// SpawnConfig says how to start one worker process (the `server` section).
type SpawnConfig struct {
	// Command is the worker argv, e.g. ["php", "worker.php"]. The process
	// must itself speak the protocol: with socket relays a wrapper shell that
	// forks the real worker breaks pid matching.
	Command []string `yaml:"command"`
	// Relay is "pipes" (default), "tcp://host:port" or "unix:///path". For
	// sockets the pool listens there and workers connect to it.
	Relay string `yaml:"relay"`
	// Env adds variables; keys are upper-cased and values get $VAR / ${VAR}
	// expansion from our own environment.
	Env map[string]string `yaml:"env"`
	// Dir is the working directory ("" = ours).
	Dir string `yaml:"dir"`
	// RPCAddress is exported as RR_RPC so workers can call back (rpc.listen).
	RPCAddress string `yaml:"-"`
	// Mode is exported as RR_MODE (default "centrifuge").
	Mode string `yaml:"-"`
	// Version is exported as RR_VERSION (default DefaultRRVersion).
	Version string `yaml:"-"`
	// MaxFrameSize bounds a reply payload in bytes (default 64 MiB).
	MaxFrameSize uint32 `yaml:"-"`
	// StopTimeout is the grace period after a stop frame (default 10s).
	StopTimeout time.Duration `yaml:"-"`
}

func (s SpawnConfig) withDefaults() SpawnConfig {
	if s.Relay == "" {
		s.Relay = relayPipes
	}
	if s.Mode == "" {
		s.Mode = DefaultMode
	}
	if s.Version == "" {
		s.Version = DefaultRRVersion
	}
	if s.StopTimeout <= 0 {
		s.StopTimeout = DefaultStopTimeout
	}
	return s
}

func (s SpawnConfig) validate() error {
	if len(s.Command) == 0 || strings.TrimSpace(s.Command[0]) == "" {
		return fmt.Errorf("server.command: command should not be empty")
	}
	return nil
}

// environ builds the worker environment in RoadRunner's order; exec keeps
// the last value of a duplicated key, so later entries win.
func (s SpawnConfig) environ(relayDSN string) []string {
	env := os.Environ()
	env = append(env, "RR_RELAY="+relayDSN)
	if s.RPCAddress != "" {
		env = append(env, "RR_RPC="+s.RPCAddress)
	}
	keys := make([]string, 0, len(s.Env))
	for k := range s.Env {
		keys = append(keys, k)
	}
	sort.Strings(keys) // deterministic winner if two keys differ only in case
	for _, k := range keys {
		env = append(env, strings.ToUpper(k)+"="+os.ExpandEnv(s.Env[k]))
	}
	return append(env, "RR_VERSION="+s.Version, "RR_MODE="+s.Mode)
}
