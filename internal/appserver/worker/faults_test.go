package worker

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/spindle-rt/spindle/internal/appserver/worker/frame"
)

// TestWorkerFaults drives each misbehaviour through a one-worker pool and
// checks the error, whether the worker was replaced, and that the pool
// answers the next request.
func TestWorkerFaults(t *testing.T) {
	tests := []struct {
		name     string
		body     string
		ctxLimit time.Duration
		wantErr  error
		wantMsg  string
		replaced bool
		check    func(t *testing.T, p *testPool, r Payload)
	}{
		{name: "crash", body: "cmd:crash", wantErr: ErrWorkerCrashed, wantMsg: "exit status 3", replaced: true},
		{name: "garbage on stdout", body: "cmd:garbage", wantErr: ErrWorkerBroken, wantMsg: `wrote garbage`, replaced: true},
		{name: "garbage is quoted", body: "cmd:garbage", wantErr: frame.ErrCRCMismatch, wantMsg: `Hello from a worker that prints to stdout`, replaced: true},
		{name: "reply without options", body: "cmd:nooptions", wantErr: ErrWorkerBroken, wantMsg: "exactly one option", replaced: true},
		{name: "streaming reply", body: "cmd:stream", wantErr: ErrWorkerBroken, wantMsg: "streaming response not supported", replaced: true},
		{name: "error frame", body: "cmd:error:bad input", wantMsg: "boom: bad input", replaced: false},
		{name: "hang until ctx deadline", body: "cmd:hang", ctxLimit: 300 * time.Millisecond, wantErr: ErrExecTimeout, wantMsg: "caller's deadline", replaced: true},
		{name: "always asking to stop", body: "cmd:stop", wantErr: ErrWorkerStopped, replaced: true},
		{name: "stderr is logged", body: "cmd:log:something went sideways", replaced: false,
			check: func(t *testing.T, p *testPool, r Payload) {
				eventually(t, 2*time.Second, "stderr line in the log", func() bool {
					rec, ok := p.logs.find("something went sideways")
					return ok && strings.Contains(rec, "pid=")
				})
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := startPool(t, PoolConfig{NumWorkers: 1}, SpawnConfig{Command: nodeWorker(t)})
			before := p.Workers()[0].PID
			limit := tt.ctxLimit
			if limit == 0 {
				limit = 5 * time.Second
			}
			start := time.Now()
			r, err := p.Exec(ctxTimeout(t, limit), Payload{Context: []byte("{}"), Body: []byte(tt.body)})
			took := time.Since(start)
			switch {
			case tt.wantErr != nil && !errors.Is(err, tt.wantErr):
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			case tt.wantErr == nil && tt.wantMsg != "":
				var we *WorkerError
				if !errors.As(err, &we) || we.PID != before {
					t.Fatalf("err = %#v, want a *WorkerError from pid %d", err, before)
				}
			case tt.wantErr == nil && err != nil:
				t.Fatalf("unexpected error %v", err)
			}
			if tt.wantMsg != "" && !strings.Contains(err.Error(), tt.wantMsg) {
				t.Fatalf("err = %q, want it to mention %q", err, tt.wantMsg)
			}
			if tt.ctxLimit > 0 && took > tt.ctxLimit+500*time.Millisecond {
				t.Fatalf("took %s with a %s deadline", took, tt.ctxLimit)
			}
			if tt.check != nil {
				tt.check(t, p, r)
			}
			mustEcho(t, p.Pool, "after "+tt.name)
			after := pidsOf(p.Pool)
			if tt.replaced == after[before] {
				t.Fatalf("worker %d replaced = %v, want %v (now %v)", before, !after[before], tt.replaced, after)
			}
		})
	}
}

func TestStopRequestRetriedOnAnotherWorker(t *testing.T) {
	// One worker asks to stop (PHP Worker::stop()) instead of answering:
	// the request must not be lost but retried on another worker.
	marker := filepath.Join(t.TempDir(), "stop")
	p := startPool(t, PoolConfig{NumWorkers: 1}, SpawnConfig{Command: nodeWorker(t, "--stop-once="+marker)})
	first := p.Workers()[0].PID
	if err := os.WriteFile(marker, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	r, err := exec1(t, p.Pool, "cmd:pid")
	if err != nil {
		t.Fatal(err)
	}
	if string(r.Body) == strconv.Itoa(first) {
		t.Fatalf("request answered by the worker that asked to stop (%d)", first)
	}
	if _, err := os.Stat(marker); !os.IsNotExist(err) {
		t.Fatal("the first worker never saw the request")
	}
	eventually(t, 3*time.Second, "stopping worker gone", func() bool {
		for _, w := range p.Workers() {
			if w.PID == first {
				return false
			}
		}
		return true
	})
}

func TestCrashAfterNJobs(t *testing.T) {
	p := startPool(t, PoolConfig{NumWorkers: 1}, SpawnConfig{Command: nodeWorker(t, "--crash-after=2")})
	mustEcho(t, p.Pool, "one")
	mustEcho(t, p.Pool, "two")
	if _, err := exec1(t, p.Pool, "three"); !errors.Is(err, ErrWorkerCrashed) {
		t.Fatalf("third request: %v, want ErrWorkerCrashed", err)
	}
	mustEcho(t, p.Pool, "four")
	eventually(t, 2*time.Second, "crash message from stderr logged", func() bool {
		_, ok := p.logs.find("crashing after 2 jobs")
		return ok
	})
}

func TestIdleWorkerCrashIsReplaced(t *testing.T) {
	p := startPool(t, PoolConfig{NumWorkers: 1}, SpawnConfig{Command: nodeWorker(t)})
	pid := p.Workers()[0].PID
	killPID(t, pid)
	eventually(t, 3*time.Second, "replacement worker", func() bool {
		m := pidsOf(p.Pool)
		return len(m) == 1 && !m[pid]
	})
	mustEcho(t, p.Pool, "still here")
	if _, ok := p.logs.find("worker exited unexpectedly"); !ok {
		t.Fatal("unexpected exit not logged")
	}
}

func TestExecTTLKillsHungWorker(t *testing.T) {
	cfg := PoolConfig{NumWorkers: 1, Supervisor: SupervisorConfig{ExecTTL: 200 * time.Millisecond}}
	p := startPool(t, cfg, SpawnConfig{Command: nodeWorker(t)})
	start := time.Now()
	_, err := p.Exec(context.Background(), Payload{Body: []byte("cmd:hang")})
	if !errors.Is(err, ErrExecTimeout) || !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "exec_ttl") {
		t.Fatalf("err = %v, want ErrExecTimeout naming exec_ttl", err)
	}
	if took := time.Since(start); took < 200*time.Millisecond || took > time.Second {
		t.Fatalf("took %s, want about 200ms", took)
	}
	mustEcho(t, p.Pool, "recovered")
}

func TestCancelledCallerKillsWorker(t *testing.T) {
	p := startPool(t, PoolConfig{NumWorkers: 1}, SpawnConfig{Command: nodeWorker(t)})
	pid := p.Workers()[0].PID
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	_, err := p.Exec(ctx, Payload{Body: []byte("cmd:hang")})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	mustEcho(t, p.Pool, "next")
	if pidsOf(p.Pool)[pid] {
		t.Fatal("worker abandoned mid-request was kept: its late reply would answer the next request")
	}
}

func TestExitAtStart(t *testing.T) {
	_, err := tryPool(t, PoolConfig{NumWorkers: 2}, SpawnConfig{Command: nodeWorker(t, "--exit-at-start")})
	if !errors.Is(err, ErrSpawn) {
		t.Fatalf("err = %v, want ErrSpawn", err)
	}
	for _, want := range []string{"exit status 1", "exiting at start as asked"} {
		if !strings.Contains(err.Error(), want) {
			t.Fatalf("err = %q, want it to mention %q", err, want)
		}
	}
}

// startCrashLoop starts a one-worker pool whose replacements die at start
// while the returned gate file exists, and crashes its first worker.
func startCrashLoop(t *testing.T) (*testPool, string) {
	t.Helper()
	gate := filepath.Join(t.TempDir(), "broken")
	p := startPool(t, PoolConfig{NumWorkers: 1, AllocateTimeout: 8 * time.Second},
		SpawnConfig{Command: nodeWorker(t, "--exit-at-start-if="+gate)})
	if err := os.WriteFile(gate, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := exec1(t, p.Pool, "cmd:crash"); !errors.Is(err, ErrWorkerCrashed) {
		t.Fatalf("crash: %v", err)
	}
	return p, gate
}

func TestRespawnBacksOffAndRecovers(t *testing.T) {
	p, gate := startCrashLoop(t)
	// Replacements now die at start; let a few back-off rounds pass.
	eventually(t, 3*time.Second, "several failed respawns", func() bool { return len(p.spawned()) >= 4 })
	if _, ok := p.logs.find("worker spawn failed"); !ok {
		t.Fatal("spawn failure not logged")
	}
	p.mu.Lock()
	failures := p.failures
	p.mu.Unlock()
	if backoff(failures) < 200*time.Millisecond {
		t.Fatalf("back-off after %d failures is only %s", failures, backoff(failures))
	}
	if err := os.Remove(gate); err != nil {
		t.Fatal(err)
	}
	// A queued request is served as soon as a replacement comes up.
	if n := p.ConsecutiveFailures(); n < 3 {
		t.Fatalf("ConsecutiveFailures = %d during the crash loop, want >= 3 (readiness and metrics read it)", n)
	}
	r, err := p.Exec(ctxTimeout(t, 6*time.Second), Payload{Body: []byte("back")})
	if err != nil || string(r.Body) != "kcab" {
		t.Fatalf("after recovery: %q, %v", r.Body, err)
	}
	if n := p.ConsecutiveFailures(); n != 0 {
		t.Fatalf("ConsecutiveFailures = %d after a fresh worker served a request, want 0", n)
	}
}

// TestCrashLoopClearsWithoutRequests: once the command works again, a fresh
// worker that stays up settleAfter clears the failure count by itself, so
// readiness comes back even when no request arrives (a load balancer that
// took the app out sends none).
func TestCrashLoopClearsWithoutRequests(t *testing.T) {
	p, gate := startCrashLoop(t)
	eventually(t, 3*time.Second, "a crash loop", func() bool { return p.ConsecutiveFailures() >= 3 })
	if err := os.Remove(gate); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "failures cleared by a worker that stayed up", func() bool { return p.ConsecutiveFailures() == 0 })
}

func TestBackoffSchedule(t *testing.T) {
	tests := []struct {
		failures int
		want     time.Duration
	}{{0, 0}, {1, 100 * time.Millisecond}, {2, 200 * time.Millisecond}, {4, 800 * time.Millisecond}, {6, 3200 * time.Millisecond}, {9, 25600 * time.Millisecond}, {10, 30 * time.Second}, {100, 30 * time.Second}}
	for _, tt := range tests {
		if got := backoff(tt.failures); got != tt.want {
			t.Errorf("backoff(%d) = %s, want %s", tt.failures, got, tt.want)
		}
	}
}

// TestBackoffStepsLogged: a crash loop is logged once per back-off step,
// then not again while it keeps failing at the longest interval.
func TestBackoffStepsLogged(t *testing.T) {
	logged := 0
	for f := 1; f <= 100; f++ {
		if newBackoffStep(f) {
			logged++
		}
	}
	if logged != 10 {
		t.Fatalf("%d of 100 failures in a row logged, want 10 (one per step up to %s)", logged, backoffMax)
	}
	if newBackoffStep(11) || newBackoffStep(50) {
		t.Fatal("failures at the longest interval are still logged")
	}
}

func TestQueueFull(t *testing.T) {
	p := startPool(t, PoolConfig{NumWorkers: 1, MaxQueueSize: 1}, SpawnConfig{Command: nodeWorker(t)})
	busy := make(chan error, 2)
	go func() { _, err := exec1(t, p.Pool, "cmd:sleep:700"); busy <- err }()
	eventually(t, 2*time.Second, "worker busy", func() bool { return p.Workers()[0].State == StateWorking })
	go func() { _, err := exec1(t, p.Pool, "queued"); busy <- err }()
	eventually(t, 2*time.Second, "one request queued", func() bool {
		p.mu.Lock()
		defer p.mu.Unlock()
		return len(p.waiters) == 1
	})
	start := time.Now()
	_, err := exec1(t, p.Pool, "one too many")
	if !errors.Is(err, ErrQueueFull) || !strings.Contains(err.Error(), "max_queue_size") {
		t.Fatalf("err = %v, want ErrQueueFull", err)
	}
	if time.Since(start) > 50*time.Millisecond {
		t.Fatal("queue-full rejection was not immediate")
	}
	for range 2 {
		if err := <-busy; err != nil {
			t.Fatal(err)
		}
	}
	mustEcho(t, p.Pool, "drained")
}

func TestAllocateTimeout(t *testing.T) {
	// allocate_timeout also bounds start-up, so leave node time to boot.
	p := startPool(t, PoolConfig{NumWorkers: 1, AllocateTimeout: time.Second}, SpawnConfig{Command: nodeWorker(t)})
	done := make(chan struct{})
	go func() { defer close(done); _, _ = exec1(t, p.Pool, "cmd:sleep:2500") }()
	eventually(t, 2*time.Second, "worker busy", func() bool { return p.Workers()[0].State == StateWorking })
	start := time.Now()
	_, err := p.Exec(context.Background(), Payload{Body: []byte("waits")})
	if !errors.Is(err, ErrNoFreeWorkers) || !strings.Contains(err.Error(), "allocate_timeout") {
		t.Fatalf("err = %v, want ErrNoFreeWorkers after allocate_timeout", err)
	}
	if took := time.Since(start); took < time.Second || took > 1500*time.Millisecond {
		t.Fatalf("gave up after %s, want about 1s", took)
	}
	// The caller's deadline also bounds the wait and is reported as such.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := p.Exec(ctx, Payload{Body: []byte("waits")}); !errors.Is(err, ErrNoFreeWorkers) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want ErrNoFreeWorkers + DeadlineExceeded", err)
	}
	<-done
}

func TestEmptyPayloadRejected(t *testing.T) {
	p := startPool(t, PoolConfig{NumWorkers: 1}, SpawnConfig{Command: nodeWorker(t)})
	if _, err := p.Exec(context.Background(), Payload{}); !errors.Is(err, ErrEmptyPayload) {
		t.Fatalf("err = %v", err)
	}
}

func killPID(t *testing.T, pid int) {
	t.Helper()
	p, err := os.FindProcess(pid)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Kill(); err != nil {
		t.Fatalf("kill %d: %v", pid, err)
	}
}
