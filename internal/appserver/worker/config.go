package worker

import (
	"fmt"
	"runtime"
	"time"
)

// Defaults follow RoadRunner's pool, except that execution is always
// bounded (see SupervisorConfig.ExecTTL) and the supervisor ticks faster.
const (
	DefaultAllocateTimeout = 60 * time.Second
	DefaultDestroyTimeout  = 60 * time.Second
	DefaultResetTimeout    = 60 * time.Second
	DefaultExecTTL         = 60 * time.Second
	DefaultWatchTick       = time.Second
	// MaxNumWorkers is RoadRunner's hard ceiling on pre-forked workers.
	MaxNumWorkers = 500
)

// PoolConfig is the `pool` section, with RoadRunner's key names so existing
// .rr.yaml files keep working. Zero values mean "use the default".
type PoolConfig struct {
	// NumWorkers is how many workers are kept running (default GOMAXPROCS).
	NumWorkers int `yaml:"num_workers"`
	// MaxJobs retires a worker after this many executions (0 = never); each
	// worker gets up to 14% random extra so they do not all restart at once.
	MaxJobs uint64 `yaml:"max_jobs"`
	// MaxQueueSize caps requests waiting for a free worker (0 = unlimited);
	// beyond it Exec fails at once with ErrQueueFull.
	MaxQueueSize uint64 `yaml:"max_queue_size"`
	// AllocateTimeout bounds both the wait for a free worker and the start-up
	// handshake of one worker.
	AllocateTimeout time.Duration `yaml:"allocate_timeout"`
	// DestroyTimeout bounds Destroy: in-flight requests get this long to
	// finish before their workers are killed.
	DestroyTimeout time.Duration `yaml:"destroy_timeout"`
	// ResetTimeout bounds Reset.
	ResetTimeout time.Duration `yaml:"reset_timeout"`
	// Supervisor holds the per-worker limits.
	Supervisor SupervisorConfig `yaml:"supervisor"`
}

// SupervisorConfig holds the limits that make workers restart before they
// rot. TTL, IdleTTL and MaxWorkerMemory are soft (the worker finishes its
// current request first); ExecTTL is hard (the worker is killed).
type SupervisorConfig struct {
	// WatchTick is how often soft limits are checked (default 1s).
	WatchTick time.Duration `yaml:"watch_tick"`
	// TTL is the maximum lifetime of a worker (0 = unlimited).
	TTL time.Duration `yaml:"ttl"`
	// IdleTTL retires a worker unused for this long since its last request
	// (never-used workers are left alone, as in RoadRunner).
	IdleTTL time.Duration `yaml:"idle_ttl"`
	// MaxWorkerMemory is the resident-memory limit in MB (0 = unlimited).
	MaxWorkerMemory uint64 `yaml:"max_worker_memory"`
	// ExecTTL bounds one request (default 60s). Unlike RoadRunner there is no
	// unbounded mode: the effective limit is min(ExecTTL, caller's deadline).
	ExecTTL time.Duration `yaml:"exec_ttl"`
}

// WithDefaults returns c with every zero field set to its default, so the
// config layer can show users the values actually in effect.
func (c PoolConfig) WithDefaults() PoolConfig {
	if c.NumWorkers == 0 {
		c.NumWorkers = runtime.GOMAXPROCS(0)
	}
	if c.AllocateTimeout == 0 {
		c.AllocateTimeout = DefaultAllocateTimeout
	}
	if c.DestroyTimeout == 0 {
		c.DestroyTimeout = DefaultDestroyTimeout
	}
	if c.ResetTimeout == 0 {
		c.ResetTimeout = DefaultResetTimeout
	}
	if c.Supervisor.WatchTick == 0 {
		c.Supervisor.WatchTick = DefaultWatchTick
	}
	if c.Supervisor.ExecTTL == 0 {
		c.Supervisor.ExecTTL = DefaultExecTTL
	}
	return c
}

// Validate rejects values the pool cannot honour, naming the key.
func (c PoolConfig) Validate() error {
	if c.NumWorkers < 0 || c.NumWorkers > MaxNumWorkers {
		return fmt.Errorf("pool.num_workers: %d is out of range 0..%d", c.NumWorkers, MaxNumWorkers)
	}
	for _, d := range []struct {
		key string
		v   time.Duration
	}{
		{"pool.allocate_timeout", c.AllocateTimeout},
		{"pool.destroy_timeout", c.DestroyTimeout},
		{"pool.reset_timeout", c.ResetTimeout},
		{"pool.supervisor.watch_tick", c.Supervisor.WatchTick},
		{"pool.supervisor.ttl", c.Supervisor.TTL},
		{"pool.supervisor.idle_ttl", c.Supervisor.IdleTTL},
		{"pool.supervisor.exec_ttl", c.Supervisor.ExecTTL},
	} {
		if d.v < 0 {
			return fmt.Errorf("%s: negative duration %s", d.key, d.v)
		}
	}
	return nil
}

// supervised reports whether any soft limit needs the periodic watcher.
func (s SupervisorConfig) supervised() bool {
	return s.TTL > 0 || s.IdleTTL > 0 || s.MaxWorkerMemory > 0
}
