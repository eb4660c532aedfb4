package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// Pool keeps NumWorkers worker processes running and hands each Exec to a
// free one. It is safe for concurrent use.
type Pool struct {
	cfg      PoolConfig
	spawn    SpawnConfig
	log      *slog.Logger
	env      []string
	relayDSN string
	listener *socketListener // nil with pipes

	base    context.Context // cancelled by Destroy: aborts spawns
	cancel  context.CancelFunc
	wg      sync.WaitGroup // every goroutine the pool starts
	onStart func(pid int)  // test hook: sees every spawned pid

	mu          sync.Mutex
	workers     map[*worker]struct{} // every live process, any state
	idle        []*worker            // ready workers, used as a stack
	waiters     []*waiter            // requests waiting for a worker, FIFO
	inService   int                  // ready + working
	spawning    int                  // spawns under way
	failures    int                  // consecutive crashes/spawn failures → back-off
	lastErr     error                // latest spawn failure, for Reset errors
	starting    bool                 // NewPool is still booting: fail fast
	gen         uint64               // bumped by Reset
	destroyed   bool
	destroyDone chan struct{}
	changed     chan struct{} // closed and replaced on changes someone waits for
	watched     bool
}

// waiter is one Exec waiting for a worker; a nil worker means "destroyed".
type waiter struct{ ch chan *worker }

// Back-off between replacement attempts after consecutive failures.
const (
	backoffBase = 100 * time.Millisecond
	backoffMax  = 30 * time.Second
)

func backoff(failures int) time.Duration {
	if failures <= 0 {
		return 0
	}
	d := backoffBase << min(failures-1, 10)
	return min(d, backoffMax)
}

// newBackoffStep reports whether the failures-th failure in a row moves the
// back-off to a new interval: failures are logged at each step, and no more
// once it stays at backoffMax.
func newBackoffStep(failures int) bool { return backoff(failures) != backoff(failures-1) }

// NewPool starts NumWorkers workers and returns once all of them passed the
// handshake. ctx bounds only this start-up; the pool lives until Destroy.
// A nil logger discards worker output and pool events.
func NewPool(ctx context.Context, cfg PoolConfig, spawn SpawnConfig, logger *slog.Logger) (*Pool, error) {
	return newPool(ctx, cfg, spawn, logger, nil)
}

func newPool(ctx context.Context, cfg PoolConfig, spawn SpawnConfig, logger *slog.Logger, onStart func(pid int)) (*Pool, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	spawn = spawn.withDefaults()
	if err := spawn.validate(); err != nil {
		return nil, err
	}
	kind, err := parseRelay(spawn.Relay)
	if err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	p := &Pool{
		cfg: cfg, spawn: spawn, log: logger, relayDSN: relayPipes,
		workers: map[*worker]struct{}{}, destroyDone: make(chan struct{}),
		changed: make(chan struct{}), starting: true, onStart: onStart,
	}
	p.base, p.cancel = context.WithCancel(context.Background())
	if kind.network != relayPipes {
		if p.listener, err = listenRelay(kind, cfg.AllocateTimeout, spawn.MaxFrameSize, logger); err != nil {
			p.cancel()
			return nil, err
		}
		p.relayDSN = p.listener.dsn
	}
	p.env = spawn.environ(p.relayDSN)

	p.mu.Lock()
	p.ensureLocked()
	p.mu.Unlock()
	err = p.waitFor(ctx, func() bool { return p.lastErr != nil || p.inService == cfg.NumWorkers })
	p.mu.Lock()
	if err == nil {
		err = p.lastErr
	}
	p.starting = false
	p.mu.Unlock()
	if err != nil {
		dctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = p.Destroy(dctx)
		return nil, fmt.Errorf("starting worker pool: %w", err)
	}
	if cfg.Supervisor.supervised() {
		p.wg.Add(1)
		go p.supervise()
	}
	p.log.Debug("worker pool started", "workers", cfg.NumWorkers, "relay", p.relayDSN)
	return p, nil
}

// Config returns the configuration in effect (defaults applied).
func (p *Pool) Config() PoolConfig { return p.cfg }

// RelayAddress is the relay DSN workers get in RR_RELAY; for a tcp relay
// with port 0 it names the port actually chosen.
func (p *Pool) RelayAddress() string { return p.relayDSN }

// notifyLocked wakes everything blocked in waitFor.
func (p *Pool) notifyLocked() {
	if p.watched {
		close(p.changed)
		p.changed = make(chan struct{})
		p.watched = false
	}
}

// waitFor blocks until cond (evaluated under p.mu) holds or ctx ends.
func (p *Pool) waitFor(ctx context.Context, cond func() bool) error {
	for {
		p.mu.Lock()
		if cond() {
			p.mu.Unlock()
			return nil
		}
		p.watched = true
		ch := p.changed
		p.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// ensureLocked starts spawns until running plus starting workers reach
// NumWorkers, delayed by the current back-off.
// ConsecutiveFailures is how many spawns or fresh workers failed in a row
// since a fresh worker last served a request (or the pool was reset): 0
// when healthy, growing while the command crash-loops.
func (p *Pool) ConsecutiveFailures() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.failures
}

func (p *Pool) ensureLocked() {
	if p.destroyed {
		return
	}
	for p.inService+p.spawning < p.cfg.NumWorkers {
		p.spawning++
		p.wg.Add(1)
		go p.spawnOne(backoff(p.failures))
	}
}

func (p *Pool) spawnOne(delay time.Duration) {
	defer p.wg.Done()
	if delay > 0 {
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-p.base.Done():
			t.Stop()
		}
	}
	var w *worker
	err := p.base.Err()
	if err == nil {
		ctx, cancel := context.WithTimeout(p.base, p.cfg.AllocateTimeout)
		w, err = p.startWorker(ctx)
		cancel()
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.spawning--
	defer p.notifyLocked()
	switch {
	case err != nil:
		if p.destroyed {
			return
		}
		p.failures++
		p.lastErr = err
		if p.starting {
			return // NewPool fails instead of retrying
		}
		// Once per back-off step: a command that keeps failing would
		// otherwise write the same line every few seconds forever.
		if d := backoff(p.failures); newBackoffStep(p.failures) {
			msg := "worker spawn failed"
			if d == backoffMax {
				msg += "; retrying every " + d.String() + " without logging each failure"
			}
			p.log.Error(msg, "error", err, "retry_in", d, "consecutive_failures", p.failures)
		}
		p.ensureLocked()
	case p.destroyed:
		p.stopLocked(w)
	default:
		w.inService = true
		p.inService++
		if w.gen < p.gen { // started before a Reset
			p.retireLocked(w, StateStopping)
			return
		}
		p.readyLocked(w)
		if p.failures > 0 {
			p.wg.Add(1)
			go p.settle(w)
		}
	}
}

// settleAfter is how long a fresh worker must stay up, unasked, before the
// failures that preceded it stop counting. Without it a pool whose command
// was fixed would stay "crash looping" (and /ready 503) until a request
// came, and a load balancer that took the app out sends none.
const settleAfter = 2 * time.Second

// settle clears the failure count once w has stayed in service for
// settleAfter. A worker that dies at its first request still counts: the
// request takes it out of service before or after, and adds a failure.
func (p *Pool) settle(w *worker) {
	defer p.wg.Done()
	t := time.NewTimer(settleAfter)
	defer t.Stop()
	select {
	case <-t.C:
	case <-p.base.Done():
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if w.inService && !p.destroyed && p.failures > 0 {
		p.failures = 0
		p.notifyLocked()
	}
}

// readyLocked hands an in-service worker to the first waiting request, or
// parks it on the idle stack.
func (p *Pool) readyLocked(w *worker) {
	if len(p.waiters) > 0 {
		wt := p.waiters[0]
		p.waiters[0] = nil
		p.waiters = p.waiters[1:]
		w.state = StateWorking
		wt.ch <- w
		return
	}
	w.state = StateReady
	p.idle = append(p.idle, w)
}

// takeOutLocked removes a worker from service (it will never get another
// request) and schedules a replacement. It reports false if someone else
// already did.
func (p *Pool) takeOutLocked(w *worker, st State, failure bool) bool {
	if !w.inService {
		return false
	}
	w.inService = false
	w.state = st
	p.inService--
	for i, iw := range p.idle {
		if iw == w {
			p.idle = append(p.idle[:i], p.idle[i+1:]...)
			break
		}
	}
	if failure {
		p.failures++
	}
	p.ensureLocked()
	p.notifyLocked()
	return true
}

// retireLocked takes a worker out of service and stops it gracefully.
func (p *Pool) retireLocked(w *worker, st State) {
	if p.takeOutLocked(w, st, false) {
		p.log.Debug("retiring worker", "pid", w.pid, "reason", st.String(), "execs", w.numExecs)
		p.stopLocked(w)
	}
}

func (p *Pool) stopLocked(w *worker) {
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		w.stop(p.spawn.StopTimeout)
	}()
}

// onExit runs once the process is reaped.
func (p *Pool) onExit(w *worker) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.workers, w)
	if p.takeOutLocked(w, StateErrored, true) {
		p.log.Warn("worker exited unexpectedly", "pid", w.pid, "error", w.exitErr, "killed", isExitSignal(w.exitErr))
	}
	w.state = StateStopped
	p.notifyLocked()
}

// isDestroyed reports whether Destroy has begun.
func (p *Pool) isDestroyed() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.destroyed
}

var errStopRequested = errors.New("worker asked to be stopped")
