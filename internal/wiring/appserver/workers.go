package appserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/spindle-rt/spindle/apiclient"
	"github.com/spindle-rt/spindle/internal/appserver/worker"
	"github.com/spindle-rt/spindle/internal/appserver/workerbridge"
	"github.com/spindle-rt/spindle/internal/appserver/workerrpc"
	"github.com/spindle-rt/spindle/internal/config"
	"github.com/spindle-rt/spindle/internal/version"
)

// poolConfig maps the `centrifuge.pool` section onto the worker pool,
// warning about the keys the pool does not implement.
func poolConfig(c config.PoolConfig, log *slog.Logger) worker.PoolConfig {
	pc := worker.PoolConfig{
		NumWorkers:      c.NumWorkers,
		MaxJobs:         uint64(max(c.MaxJobs, 0)),
		MaxQueueSize:    uint64(max(c.MaxQueueSize, 0)),
		AllocateTimeout: c.AllocateTimeout,
		DestroyTimeout:  c.DestroyTimeout,
		ResetTimeout:    c.ResetTimeout,
	}
	if s := c.Supervisor; s != nil {
		pc.Supervisor = worker.SupervisorConfig{
			WatchTick: s.WatchTick, TTL: s.TTL, IdleTTL: s.IdleTTL,
			MaxWorkerMemory: uint64(max(s.MaxWorkerMemory, 0)), ExecTTL: s.ExecTTL,
		}
	}
	// centrifuge.pool.debug and stream_timeout are reported as not
	// supported by config.LoadApp, where checkconfig shows them too.
	if c.DynamicAllocator != nil {
		log.Warn("config: centrifuge.pool.dynamic_allocator is not supported; the pool keeps num_workers workers")
	}
	return pc.WithDefaults()
}

// startPool starts the workers and returns once all passed the handshake;
// a command that cannot start fails `spindle app` at once.
func startPool(ctx context.Context, cfg *config.AppConfig, command []string, pc worker.PoolConfig, log *slog.Logger) (*worker.Pool, error) {
	spawn := worker.SpawnConfig{
		Command:    command,
		Relay:      cfg.Server.Relay,
		Env:        cfg.Server.Env,
		RPCAddress: cfg.RPC.Listen,
	}
	start := time.Now()
	pool, err := worker.NewPool(ctx, pc, spawn, log.With("component", "workers"))
	took := time.Since(start).Round(time.Millisecond)
	if err != nil {
		return nil, fmt.Errorf("server.command %q (after %s): %w", strings.Join(command, " "), took, err)
	}
	ready := readyWorkers(pool.Workers())
	log.Info(fmt.Sprintf("workers ready: %d of %d in %s", ready, pc.NumWorkers, took),
		"ready", ready, "workers", pc.NumWorkers, "took", took, "command", strings.Join(command, " "), "relay", pool.RelayAddress())
	return pool, nil
}

// readyWorkers counts the workers able to take a request now: ready or
// already working on one.
func readyWorkers(ws []worker.WorkerInfo) int {
	n := 0
	for _, w := range ws {
		if w.State == worker.StateReady || w.State == worker.StateWorking {
			n++
		}
	}
	return n
}

// destroyPool stops the workers gracefully (in-flight requests finish
// within destroy_timeout) and reaps every process.
func destroyPool(pool *worker.Pool, timeout time.Duration, log *slog.Logger) {
	if pool == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout+5*time.Second)
	defer cancel()
	if err := pool.Destroy(ctx); err != nil {
		log.Error("stopping workers", "error", err)
		return
	}
	log.Info("workers stopped")
}

// rpcEndpoint is rpc.listen, opened before the workers start (they may
// call it while booting) and served once the pool exists.
type rpcEndpoint struct {
	ln   net.Listener
	opts workerrpc.Options
}

func listenWorkerRPC(cfg *config.AppConfig, api apiclient.Client, log *slog.Logger) (*rpcEndpoint, error) {
	if cfg.RPC.Listen == "" {
		return &rpcEndpoint{}, nil
	}
	ln, err := workerrpc.Listen(cfg.RPC.Listen)
	if err != nil {
		return nil, err
	}
	return &rpcEndpoint{ln: ln, opts: workerrpc.Options{
		API: api, APITimeout: cfg.Centrifuge.APITimeout, Version: version.Version, Logger: log.With("component", "rpc"),
	}}, nil
}

func (r *rpcEndpoint) close() {
	if r.ln != nil {
		_ = r.ln.Close()
	}
}

func (r *rpcEndpoint) serve(ctx context.Context, bg *sync.WaitGroup, pool *worker.Pool, command string) {
	if r.ln == nil {
		return
	}
	if pool != nil { // a nil *worker.Pool must not become a non-nil interface
		r.opts.Pool = pool
		r.opts.WorkerCommand = command
	}
	srv := workerrpc.New(r.opts)
	r.opts.Logger.Info("worker RPC endpoint listening", "listen", r.ln.Addr().String())
	bg.Add(1)
	go func() {
		defer bg.Done()
		if err := srv.Serve(ctx, r.ln); err != nil {
			r.opts.Logger.Error("worker RPC endpoint stopped", "error", err)
		}
	}()
}

// serveStatus serves status.address (/health, /ready) and
// metrics.address (/metrics), on one listener when they are equal.
// Without workers the probes answer 200: the app server itself is up.
func serveStatus(ctx context.Context, bg *sync.WaitGroup, cfg *config.AppConfig, mon *workerbridge.Monitor, log *slog.Logger) error {
	muxes := map[string]*http.ServeMux{}
	mux := func(addr string) *http.ServeMux {
		if muxes[addr] == nil {
			muxes[addr] = http.NewServeMux()
		}
		return muxes[addr]
	}
	if addr := cfg.Status.Address; addr != "" {
		var h http.Handler = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			_, _ = fmt.Fprintln(w, "no worker pool (server.command is not set); the app server is up")
		})
		if mon != nil {
			h = mon.StatusHandler(cfg.Status.UnavailableStatusCode)
		}
		mux(addr).Handle("/health", h)
		mux(addr).Handle("/ready", h)
	}
	if addr := cfg.Metrics.Address; addr != "" {
		reg := prometheus.NewRegistry()
		reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
		if mon != nil {
			reg.MustRegister(mon)
		}
		mux(addr).Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	}
	for addr, m := range muxes {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return fmt.Errorf("status/metrics listener: %w", err)
		}
		srv := &http.Server{Handler: m, ReadHeaderTimeout: 5 * time.Second}
		log.Info("status/metrics listening", "address", ln.Addr().String())
		bg.Add(2)
		go func() {
			defer bg.Done()
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				log.Error("status/metrics listener stopped", "address", addr, "error", err)
			}
		}()
		go func() {
			defer bg.Done()
			<-ctx.Done()
			sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			_ = srv.Shutdown(sctx)
		}()
	}
	return nil
}

// resetOnHangup replaces every worker on SIGHUP, as `spindle app reset`
// does over RPC.
func resetOnHangup(ctx context.Context, bg *sync.WaitGroup, pool *worker.Pool, log *slog.Logger) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	bg.Add(1)
	go func() {
		defer bg.Done()
		defer signal.Stop(hup)
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				log.Info("SIGHUP: resetting workers")
				if err := pool.Reset(ctx); err != nil {
					log.Error("resetting workers", "error", err)
				} else {
					log.Info("workers reset")
				}
			}
		}
	}()
}
