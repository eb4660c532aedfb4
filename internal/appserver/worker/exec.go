package worker

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spindle-rt/spindle/internal/appserver/worker/frame"
)

// maxStopRetries bounds how often one request is retried because workers
// answered {"stop":true}, so a worker that always asks to stop cannot spin
// the pool forever.
const maxStopRetries = 3

// Exec sends pl to a free worker and returns its reply. It waits for a free
// worker at most min(allocate_timeout, ctx deadline) and for the reply at
// most min(exec_ttl, ctx deadline); a worker that misses that deadline (or
// whose caller cancels) is killed and replaced, since its late answer would
// otherwise be read as the reply to the next request.
//
// Errors: ErrEmptyPayload, ErrQueueFull, ErrNoFreeWorkers, ErrPoolDestroyed,
// ErrExecTimeout, ErrWorkerCrashed, ErrWorkerBroken, ErrWorkerStopped, or a
// *WorkerError when the worker answered with an error frame.
func (p *Pool) Exec(ctx context.Context, pl Payload) (Payload, error) {
	if len(pl.Context) == 0 && len(pl.Body) == 0 {
		return Payload{}, ErrEmptyPayload
	}
	for attempt := 1; ; attempt++ {
		w, err := p.acquire(ctx)
		if err != nil {
			return Payload{}, err
		}
		reply, err := p.execOn(ctx, w, pl)
		if !errors.Is(err, errStopRequested) {
			return reply, err
		}
		if attempt == maxStopRetries {
			return Payload{}, fmt.Errorf("%w: %d workers in a row replied {\"stop\":true} instead of answering", ErrWorkerStopped, attempt)
		}
	}
}

// acquire takes a ready worker (now Working), queueing FIFO when none is.
func (p *Pool) acquire(ctx context.Context) (*worker, error) {
	p.mu.Lock()
	if p.destroyed {
		p.mu.Unlock()
		return nil, ErrPoolDestroyed
	}
	if n := len(p.idle); n > 0 {
		w := p.idle[n-1]
		p.idle[n-1] = nil
		p.idle = p.idle[:n-1]
		w.state = StateWorking
		p.mu.Unlock()
		return w, nil
	}
	if max := p.cfg.MaxQueueSize; max > 0 && uint64(len(p.waiters)) >= max {
		p.mu.Unlock()
		return nil, fmt.Errorf("%w: %d requests already waiting for a worker", ErrQueueFull, max)
	}
	wt := &waiter{ch: make(chan *worker, 1)}
	p.waiters = append(p.waiters, wt)
	p.mu.Unlock()

	timer := time.NewTimer(p.cfg.AllocateTimeout)
	defer timer.Stop()
	var cause error
	select {
	case w := <-wt.ch:
		if w == nil {
			return nil, ErrPoolDestroyed
		}
		return w, nil
	case <-timer.C:
		cause = fmt.Errorf("%w: waited %s (pool.allocate_timeout)", ErrNoFreeWorkers, p.cfg.AllocateTimeout)
	case <-ctx.Done():
		cause = fmt.Errorf("%w: %w", ErrNoFreeWorkers, ctx.Err())
	}
	p.mu.Lock()
	for i, x := range p.waiters {
		if x == wt {
			p.waiters = append(p.waiters[:i], p.waiters[i+1:]...)
			break
		}
	}
	p.mu.Unlock()
	select {
	case w := <-wt.ch: // handed over while we were giving up: pass it on
		if w != nil {
			p.release(w, false)
		}
	default:
	}
	return nil, cause
}

// execOn runs one request on an acquired worker and decides its fate.
func (p *Pool) execOn(ctx context.Context, w *worker, pl Payload) (Payload, error) {
	ttl := p.cfg.Supervisor.ExecTTL
	deadline := time.Now().Add(ttl)
	callerLimit := false
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline, callerLimit = d, true
	}
	ectx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	start := time.Now()
	watchdog := context.AfterFunc(ectx, func() {
		p.mu.Lock()
		p.takeOutLocked(w, StateExecTTLReached, false) // before the kill: not a crash
		p.mu.Unlock()
		w.kill()
	})

	rel := w.rel.Load()
	err := rel.sendPayload(pl)
	var f frame.Frame
	if err == nil {
		f, err = rel.receive()
	}
	if !watchdog() { // the deadline or a cancellation killed the worker
		return Payload{}, p.timeoutError(ctx, w, time.Since(start), ttl, callerLimit)
	}
	if err != nil {
		p.mu.Lock()
		p.takeOutLocked(w, StateErrored, true)
		p.mu.Unlock()
		w.kill()
		return Payload{}, p.relayError(w, err)
	}
	if f.Flags&frame.FlagError != 0 {
		p.release(w, true)
		return Payload{}, &WorkerError{PID: w.pid, Message: string(f.Payload)}
	}
	reply, err := replyPayload(f)
	if err != nil {
		p.mu.Lock()
		p.takeOutLocked(w, StateErrored, true)
		p.mu.Unlock()
		w.kill()
		return Payload{}, fmt.Errorf("%w: worker %d (killed): %w", ErrWorkerBroken, w.pid, err)
	}
	if isStopRequest(reply) {
		p.mu.Lock()
		w.numExecs++
		p.retireLocked(w, StateInvalid)
		p.mu.Unlock()
		return Payload{}, errStopRequested
	}
	p.release(w, true)
	return reply, nil
}

func (p *Pool) timeoutError(ctx context.Context, w *worker, took, ttl time.Duration, callerLimit bool) error {
	if err := ctx.Err(); errors.Is(err, context.Canceled) {
		return fmt.Errorf("request cancelled after %s; worker %d was killed mid-request: %w", took.Round(time.Millisecond), w.pid, err)
	}
	limit := fmt.Sprintf("pool.supervisor.exec_ttl (%s)", ttl)
	if callerLimit {
		limit = "the caller's deadline"
	}
	return fmt.Errorf("%w: worker %d gave no reply within %s (%s) and was killed: %w",
		ErrExecTimeout, w.pid, took.Round(time.Millisecond), limit, context.DeadlineExceeded)
}

// relayError explains a failed read or write on the relay.
func (p *Pool) relayError(w *worker, err error) error {
	if frame.IsProtocolError(err) {
		return fmt.Errorf("%w: worker %d wrote garbage instead of a goridge frame and was killed: %w", ErrWorkerBroken, w.pid, err)
	}
	how := w.exitDescription(500 * time.Millisecond)
	if p.isDestroyed() {
		return fmt.Errorf("%w: worker %d %s during shutdown: %w", ErrPoolDestroyed, w.pid, how, err)
	}
	return fmt.Errorf("%w: worker %d %s while handling the request: %w", ErrWorkerCrashed, w.pid, how, err)
}

// release returns a worker after a completed request: back to work, or
// retired if it reached max_jobs, a soft limit, or predates a Reset.
func (p *Pool) release(w *worker, answered bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if answered {
		w.numExecs++
		w.lastUsed = time.Now()
		if w.numExecs == 1 {
			// A fresh worker served a request: the command works again, so
			// the next replacement need not wait. (Jobs on old workers
			// prove nothing about new spawns.)
			p.failures = 0
		}
	}
	if !w.inService {
		return
	}
	switch {
	case p.destroyed:
		p.retireLocked(w, StateDestroyed)
	case w.maxJobs > 0 && w.numExecs >= w.maxJobs:
		p.retireLocked(w, StateMaxJobsReached)
	case w.retireAs != 0:
		p.retireLocked(w, w.retireAs)
	case w.gen < p.gen:
		p.retireLocked(w, StateStopping)
	default:
		p.readyLocked(w)
	}
}
