package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// worker is one worker process and its relay. Fields below the marker are
// owned by Pool.mu; the rest is set before the worker is shared.
type worker struct {
	pid     int
	cmd     *exec.Cmd
	rel     atomic.Pointer[relay]
	created time.Time
	gen     uint64
	maxJobs uint64
	log     *slog.Logger
	stderr  *tail

	exited  chan struct{} // closed once Wait has reaped the process
	exitErr error         // valid after exited is closed

	// Guarded by Pool.mu.
	state     State
	inService bool  // counted in Pool.inService: ready or working
	retireAs  State // non-zero: retire with this state after the current job
	numExecs  uint64
	lastUsed  time.Time
}

// kill stops the worker at once: its whole process group gets SIGKILL and
// the relay is closed so that a blocked read or write returns.
func (w *worker) kill() {
	select {
	case <-w.exited:
	default:
		_ = syscall.Kill(-w.pid, syscall.SIGKILL)
		_ = w.cmd.Process.Kill()
	}
	if rel := w.rel.Load(); rel != nil {
		rel.close()
	}
}

// stop asks the worker to exit (stop control frame) and kills it if it is
// still alive after timeout. It returns once the process is gone.
func (w *worker) stop(timeout time.Duration) {
	t := time.AfterFunc(timeout, func() {
		w.log.Warn("worker ignored the stop request, killing it", "pid", w.pid, "timeout", timeout)
		w.kill()
	})
	defer t.Stop()
	if rel := w.rel.Load(); rel == nil || rel.send(stopRequest()) != nil {
		w.kill()
	}
	<-w.exited
}

// exitDescription says how the process ended, for error messages.
func (w *worker) exitDescription(wait time.Duration) string {
	select {
	case <-w.exited:
	case <-time.After(wait):
		return "closed its relay"
	}
	if w.exitErr == nil {
		return "exited (status 0)"
	}
	return "exited (" + w.exitErr.Error() + ")"
}

// spawnError explains a failed start with the exit status and the last
// lines the worker printed, which usually name the real problem.
func (w *worker) spawnError(command string, err error) error {
	msg := fmt.Sprintf("%s (pid %d)", command, w.pid)
	select {
	case <-w.exited:
		if w.exitErr != nil {
			msg += " exited with " + w.exitErr.Error()
		} else {
			msg += " exited with status 0"
		}
		w.stderr.waitClosed(200 * time.Millisecond)
	default:
	}
	if lines := w.stderr.lines(); len(lines) > 0 {
		msg += fmt.Sprintf("; last stderr: %q", strings.Join(lines, " | "))
	}
	return fmt.Errorf("%w: %s: %w", ErrSpawn, msg, err)
}

// startWorker launches one process and runs the pid handshake; ctx bounds
// the whole start-up (allocate_timeout).
func (p *Pool) startWorker(ctx context.Context) (*worker, error) {
	command := strings.Join(p.spawn.Command, " ")
	cmd := exec.Command(p.spawn.Command[0], p.spawn.Command[1:]...)
	cmd.Dir = p.spawn.Dir
	cmd.Env = p.env
	// Own process group: signals aimed at us (Ctrl-C) do not hit workers
	// directly, and we can kill a worker together with its children.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}

	var parent, child []*os.File
	closeAll := func(fs []*os.File) {
		for _, f := range fs {
			_ = f.Close()
		}
	}
	pipe := func() (r, w *os.File, err error) {
		r, w, err = os.Pipe()
		if err != nil {
			closeAll(parent)
			closeAll(child)
			return nil, nil, fmt.Errorf("%w: %s: creating pipe: %w", ErrSpawn, command, err)
		}
		return r, w, nil
	}
	errR, errW, err := pipe()
	if err != nil {
		return nil, err
	}
	parent, child = append(parent, errR), append(child, errW)
	cmd.Stderr = errW
	var inW, outR *os.File
	if p.listener == nil {
		inR, w, err := pipe()
		if err != nil {
			return nil, err
		}
		r, outW, err := pipe()
		if err != nil {
			closeAll([]*os.File{inR, w})
			return nil, err
		}
		inW, outR = w, r
		parent, child = append(parent, inW, outR), append(child, inR, outW)
		cmd.Stdin, cmd.Stdout = inR, outW
	} else {
		cmd.Stdout = errW // with socket relays stdout is just more log output
	}
	if err := cmd.Start(); err != nil {
		closeAll(parent)
		closeAll(child)
		return nil, fmt.Errorf("%w: starting %s: %w", ErrSpawn, command, err)
	}
	closeAll(child)

	w := &worker{
		pid:     cmd.Process.Pid,
		cmd:     cmd,
		created: time.Now(),
		log:     p.log,
		stderr:  newTail(5),
		exited:  make(chan struct{}),
		state:   StateInactive,
	}
	if n := p.cfg.MaxJobs; n > 0 {
		w.maxJobs = n + rand.Uint64N(n*14/100+1) // spread restarts out
	}
	if p.listener == nil {
		w.rel.Store(newRelay(outR, inW, p.spawn.MaxFrameSize, outR, inW))
	}
	p.track(w, errR)

	if err := p.handshake(ctx, w); err != nil {
		w.kill()
		select {
		case <-w.exited:
		case <-time.After(500 * time.Millisecond):
		}
		return nil, w.spawnError(command, err)
	}
	return w, nil
}

// handshake waits for the worker's relay (sockets) and runs the pid
// exchange (pipes; the listener already did it for sockets).
func (p *Pool) handshake(ctx context.Context, w *worker) error {
	if p.listener != nil {
		rel, err := p.listener.claim(ctx, w.pid, w.exited)
		if err != nil {
			return err
		}
		w.rel.Store(rel)
		return nil
	}
	rel := w.rel.Load()
	stop := context.AfterFunc(ctx, w.kill)
	defer stop()
	err := rel.send(pidRequest())
	if err == nil {
		var pid int
		f, rerr := rel.receive()
		if rerr == nil {
			pid, rerr = parsePIDReply(f)
		}
		err = rerr
		if err == nil && pid != w.pid {
			w.log.Debug("worker reported a different pid (wrapper process?)", "pid", w.pid, "reported", pid)
		}
	}
	if err != nil && ctx.Err() != nil {
		return fmt.Errorf("pid handshake: no answer within the allocate timeout: %w", ctx.Err())
	}
	if err != nil {
		return fmt.Errorf("pid handshake: %w", err)
	}
	return nil
}

// track registers a started process so that it is always reaped, its
// stderr logged, and Destroy can find it.
func (p *Pool) track(w *worker, stderr *os.File) {
	p.mu.Lock()
	w.gen = p.gen
	p.workers[w] = struct{}{}
	destroyed := p.destroyed
	p.mu.Unlock()
	if destroyed {
		w.kill()
	}
	if p.onStart != nil {
		p.onStart(w.pid)
	}
	p.wg.Add(2)
	go func() {
		defer p.wg.Done()
		w.stderr.forward(stderr, w.pid, p.log)
	}()
	go func() {
		defer p.wg.Done()
		err := w.cmd.Wait()
		w.exitErr = err
		close(w.exited)
		// Children the worker left behind share its process group.
		_ = syscall.Kill(-w.pid, syscall.SIGKILL)
		if rel := w.rel.Load(); rel != nil {
			rel.close()
		}
		p.onExit(w)
	}()
}

// isExitSignal tells a kill by us apart from a crash in logs.
func isExitSignal(err error) bool {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok {
			return ws.Signaled()
		}
	}
	return false
}
