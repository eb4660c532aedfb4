package worker

import (
	"context"
	"fmt"
	"time"
)

// Reset replaces every worker with a fresh process — e.g. after deploying
// new application code — without downtime: it is rolling. Idle workers are
// stopped at once, busy ones right after their current request, and each is
// replaced as it leaves; requests keep being served throughout. Reset
// returns when no old worker is left and NumWorkers new ones are ready, or
// with an error at min(ctx deadline, reset_timeout).
func (p *Pool) Reset(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, p.cfg.ResetTimeout)
	defer cancel()
	p.mu.Lock()
	if p.destroyed {
		p.mu.Unlock()
		return ErrPoolDestroyed
	}
	p.gen++
	gen := p.gen
	p.failures = 0 // new code deserves an immediate chance
	for w := range p.workers {
		if w.inService && w.state == StateReady {
			p.retireLocked(w, StateStopping)
		}
	}
	p.mu.Unlock()

	done := func() bool {
		if p.destroyed {
			return true
		}
		for w := range p.workers {
			if w.gen < gen {
				return false
			}
		}
		return p.inService == p.cfg.NumWorkers
	}
	if err := p.waitFor(ctx, done); err != nil {
		p.mu.Lock()
		defer p.mu.Unlock()
		old := 0
		for w := range p.workers {
			if w.gen < gen {
				old++
			}
		}
		msg := fmt.Sprintf("reset: %d old workers still running, %d of %d new workers ready", old, p.inService, p.cfg.NumWorkers)
		if p.lastErr != nil && p.failures > 0 {
			msg += fmt.Sprintf("; last spawn error: %v", p.lastErr)
		}
		return fmt.Errorf("%s: %w", msg, err)
	}
	if p.isDestroyed() {
		return ErrPoolDestroyed
	}
	return nil
}

// Destroy shuts the pool down: new and queued requests fail with
// ErrPoolDestroyed, in-flight requests get until min(ctx deadline,
// destroy_timeout) to finish, then every worker receives the stop frame
// and whatever is still alive at the deadline is killed with its process
// group. All processes are reaped before Destroy returns. Calling it again
// waits for the first call.
func (p *Pool) Destroy(ctx context.Context) error {
	p.mu.Lock()
	if p.destroyed {
		p.mu.Unlock()
		select {
		case <-p.destroyDone:
			return nil
		case <-ctx.Done():
			return fmt.Errorf("waiting for pool shutdown: %w", ctx.Err())
		}
	}
	p.destroyed = true
	p.cancel() // aborts spawns and back-off sleeps
	for _, wt := range p.waiters {
		wt.ch <- nil
	}
	p.waiters = nil
	for w := range p.workers {
		if w.inService && w.state == StateReady {
			p.retireLocked(w, StateDestroyed)
		}
	}
	p.notifyLocked()
	p.mu.Unlock()
	defer close(p.destroyDone)

	dctx, cancel := context.WithTimeout(ctx, p.cfg.DestroyTimeout)
	defer cancel()
	gone := func() bool { return len(p.workers) == 0 && p.spawning == 0 }
	var result error
	if err := p.waitFor(dctx, gone); err != nil {
		p.mu.Lock()
		n := len(p.workers)
		for w := range p.workers {
			p.takeOutLocked(w, StateDestroyed, false)
			w.kill()
		}
		p.mu.Unlock()
		result = fmt.Errorf("destroying worker pool: killed %d workers still running at the deadline: %w", n, err)
		// SIGKILLed processes are reaped promptly; bound it anyway.
		rctx, rcancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer rcancel()
		if err := p.waitFor(rctx, gone); err != nil {
			result = fmt.Errorf("%w; some workers were not reaped: %w", result, err)
		}
	}
	if p.listener != nil {
		p.listener.close()
	}
	waited := make(chan struct{})
	go func() {
		p.wg.Wait()
		close(waited)
	}()
	select {
	case <-waited:
	case <-time.After(5 * time.Second):
		p.log.Warn("worker pool goroutines still running after destroy")
	}
	return result
}
