package worker

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestMaxJobsRotation(t *testing.T) {
	p := startPool(t, PoolConfig{NumWorkers: 1, MaxJobs: 2}, SpawnConfig{Command: nodeWorker(t)})
	served := map[string]int{}
	for range 6 {
		r, err := exec1(t, p.Pool, "cmd:pid")
		if err != nil {
			t.Fatal(err)
		}
		served[string(r.Body)]++
	}
	if len(served) != 3 {
		t.Fatalf("6 jobs with max_jobs 2 served by %v, want 3 workers with 2 jobs each", served)
	}
	for pid, n := range served {
		if n != 2 {
			t.Fatalf("worker %s served %d jobs, want 2", pid, n)
		}
	}
}

func TestMemoryLimitRetiresWorker(t *testing.T) {
	cfg := PoolConfig{NumWorkers: 1, Supervisor: SupervisorConfig{MaxWorkerMemory: 150, WatchTick: 50 * time.Millisecond}}
	p := startPool(t, cfg, SpawnConfig{Command: nodeWorker(t)})
	r, err := exec1(t, p.Pool, "cmd:pid")
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(string(r.Body))
	if rss := p.Workers()[0].MemoryBytes; rss == 0 || rss > 150<<20 {
		t.Fatalf("fresh worker RSS %d bytes, expected between 0 and the limit", rss)
	}
	// Soft limit: the leaking request itself succeeds…
	if r, err := exec1(t, p.Pool, "cmd:leak:200"); err != nil || string(r.Body) != "leaked 200" {
		t.Fatalf("leak: %q %v", r.Body, err)
	}
	// …and the worker is retired at a following tick.
	eventually(t, 4*time.Second, "memory-hungry worker replaced", func() bool {
		m := pidsOf(p.Pool)
		return len(m) == 1 && !m[pid]
	})
	if rec, ok := p.logs.find("maxMemoryReached"); !ok || !strings.Contains(rec, "pid="+strconv.Itoa(pid)) {
		t.Fatalf("retirement not logged with the reason (%q)", rec)
	}
	mustEcho(t, p.Pool, "slim again")
}

func TestTTLAndIdleTTL(t *testing.T) {
	tests := []struct {
		name string
		sup  SupervisorConfig
		use  bool
	}{
		{name: "ttl", sup: SupervisorConfig{TTL: 300 * time.Millisecond, WatchTick: 50 * time.Millisecond}},
		{name: "idle_ttl", sup: SupervisorConfig{IdleTTL: 300 * time.Millisecond, WatchTick: 50 * time.Millisecond}, use: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := startPool(t, PoolConfig{NumWorkers: 1, Supervisor: tt.sup}, SpawnConfig{Command: nodeWorker(t)})
			pid := p.Workers()[0].PID
			if tt.use {
				mustEcho(t, p.Pool, "used once")
			}
			eventually(t, 3*time.Second, "worker replaced", func() bool {
				m := pidsOf(p.Pool)
				return len(m) == 1 && !m[pid]
			})
			mustEcho(t, p.Pool, "fresh")
		})
	}
}

func TestIdleTTLSparesNeverUsedWorkers(t *testing.T) {
	sup := SupervisorConfig{IdleTTL: 100 * time.Millisecond, WatchTick: 30 * time.Millisecond}
	p := startPool(t, PoolConfig{NumWorkers: 1, Supervisor: sup}, SpawnConfig{Command: nodeWorker(t)})
	pid := p.Workers()[0].PID
	time.Sleep(400 * time.Millisecond)
	if !pidsOf(p.Pool)[pid] {
		t.Fatal("never-used worker was retired by idle_ttl")
	}
}

func TestSoftLimitWaitsForCurrentJob(t *testing.T) {
	sup := SupervisorConfig{TTL: 100 * time.Millisecond, WatchTick: 30 * time.Millisecond}
	p := startPool(t, PoolConfig{NumWorkers: 1, Supervisor: sup}, SpawnConfig{Command: nodeWorker(t)})
	r, err := exec1(t, p.Pool, "cmd:sleep:500")
	if err != nil || string(r.Body) != "slept 500" {
		t.Fatalf("job outliving the ttl was interrupted: %q %v", r.Body, err)
	}
}

func TestReset(t *testing.T) {
	p := startPool(t, PoolConfig{NumWorkers: 2}, SpawnConfig{Command: nodeWorker(t)})
	old := pidsOf(p.Pool)
	// Keep traffic flowing during the reset, one request mid-flight.
	var wg sync.WaitGroup
	wg.Add(1)
	var slowErr error
	go func() {
		defer wg.Done()
		_, slowErr = exec1(t, p.Pool, "cmd:sleep:300")
	}()
	eventually(t, 2*time.Second, "a busy worker", func() bool {
		for _, w := range p.Workers() {
			if w.State == StateWorking {
				return true
			}
		}
		return false
	})
	if err := p.Reset(ctxTimeout(t, 5*time.Second)); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if slowErr != nil {
		t.Fatalf("in-flight request during reset: %v", slowErr)
	}
	now := pidsOf(p.Pool)
	if len(now) != 2 {
		t.Fatalf("%d workers after reset, want 2", len(now))
	}
	for pid := range now {
		if old[pid] {
			t.Fatalf("worker %d survived the reset", pid)
		}
	}
	if n := len(p.Workers()); n != 2 {
		t.Fatalf("%d processes after reset, want 2 (old ones must be gone)", n)
	}
	assertGone(t, keys(old))
	mustEcho(t, p.Pool, "after reset")
}

func TestResetTimeoutReportsWhy(t *testing.T) {
	p := startPool(t, PoolConfig{NumWorkers: 1, ResetTimeout: 200 * time.Millisecond}, SpawnConfig{Command: nodeWorker(t)})
	go func() { _, _ = exec1(t, p.Pool, "cmd:sleep:1000") }()
	eventually(t, 2*time.Second, "busy worker", func() bool { return p.Workers()[0].State == StateWorking })
	err := p.Reset(context.Background())
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "1 old workers still running") {
		t.Fatalf("err = %v", err)
	}
}

func TestDestroy(t *testing.T) {
	p := startPool(t, PoolConfig{NumWorkers: 2}, SpawnConfig{Command: nodeWorker(t)})
	// A grandchild in the worker's process group must go too.
	r, err := exec1(t, p.Pool, "cmd:spawn")
	if err != nil {
		t.Fatal(err)
	}
	grandchild, _ := strconv.Atoi(string(r.Body))
	inflight := make(chan error, 1)
	go func() {
		r, err := exec1(t, p.Pool, "cmd:sleep:300")
		if err == nil && string(r.Body) != "slept 300" {
			err = errors.New("bad reply " + string(r.Body))
		}
		inflight <- err
	}()
	eventually(t, 2*time.Second, "a busy worker", func() bool {
		for _, w := range p.Workers() {
			if w.State == StateWorking {
				return true
			}
		}
		return false
	})
	start := time.Now()
	if err := p.Destroy(ctxTimeout(t, 5*time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := <-inflight; err != nil {
		t.Fatalf("in-flight request did not finish cleanly: %v", err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Fatalf("destroy took %s", took)
	}
	assertGone(t, p.spawned())
	eventually(t, 2*time.Second, "grandchild killed with the group", func() bool { return processGone(grandchild) })
	if _, err := exec1(t, p.Pool, "late"); !errors.Is(err, ErrPoolDestroyed) {
		t.Fatalf("Exec after Destroy: %v", err)
	}
	if err := p.Reset(context.Background()); !errors.Is(err, ErrPoolDestroyed) {
		t.Fatalf("Reset after Destroy: %v", err)
	}
	if err := p.Destroy(context.Background()); err != nil {
		t.Fatalf("second Destroy: %v", err)
	}
	if n := len(p.Workers()); n != 0 {
		t.Fatalf("%d workers listed after destroy", n)
	}
}

func TestDestroyKillsAtDeadline(t *testing.T) {
	// Workers that ignore stop frames and a request that never ends: the
	// destroy timeout still holds and nothing is left behind.
	cfg := PoolConfig{NumWorkers: 2, DestroyTimeout: 300 * time.Millisecond}
	p := startPool(t, cfg, SpawnConfig{Command: nodeWorker(t, "--no-stop")})
	hung := make(chan error, 1)
	go func() { _, err := p.Exec(context.Background(), Payload{Body: []byte("cmd:hang")}); hung <- err }()
	eventually(t, 2*time.Second, "a busy worker", func() bool {
		for _, w := range p.Workers() {
			if w.State == StateWorking {
				return true
			}
		}
		return false
	})
	start := time.Now()
	err := p.Destroy(context.Background())
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "killed 2 workers") {
		t.Fatalf("err = %v, want a deadline error naming the killed workers", err)
	}
	if took := time.Since(start); took > 1500*time.Millisecond {
		t.Fatalf("destroy took %s with a 300ms destroy_timeout", took)
	}
	if err := <-hung; !errors.Is(err, ErrPoolDestroyed) {
		t.Fatalf("hung request: %v, want ErrPoolDestroyed", err)
	}
	assertGone(t, p.spawned())
}

func TestDestroyFailsQueuedRequests(t *testing.T) {
	p := startPool(t, PoolConfig{NumWorkers: 1}, SpawnConfig{Command: nodeWorker(t)})
	go func() { _, _ = exec1(t, p.Pool, "cmd:sleep:300") }()
	eventually(t, 2*time.Second, "busy worker", func() bool { return p.Workers()[0].State == StateWorking })
	queued := make(chan error, 1)
	go func() { _, err := exec1(t, p.Pool, "queued"); queued <- err }()
	eventually(t, 2*time.Second, "queued request", func() bool {
		p.mu.Lock()
		defer p.mu.Unlock()
		return len(p.waiters) == 1
	})
	go func() { _ = p.Destroy(context.Background()) }()
	select {
	case err := <-queued:
		if !errors.Is(err, ErrPoolDestroyed) {
			t.Fatalf("queued request: %v", err)
		}
	case <-time.After(time.Second):
		t.Fatal("queued request not released by Destroy")
	}
}

func TestSpawnTimeouts(t *testing.T) {
	tests := []struct {
		name  string
		relay string
		want  string
	}{
		{"pipes: no handshake answer", "pipes", "no answer within the allocate timeout"},
		{"tcp: never connects", "tcp://127.0.0.1:0", "did not connect"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			_, err := tryPool(t, PoolConfig{NumWorkers: 1, AllocateTimeout: 300 * time.Millisecond},
				SpawnConfig{Command: []string{"sleep", "30"}, Relay: tt.relay})
			if !errors.Is(err, ErrSpawn) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want ErrSpawn mentioning %q", err, tt.want)
			}
			if took := time.Since(start); took > 2*time.Second {
				t.Fatalf("took %s", took)
			}
		})
	}
}

func keys(m map[int]bool) []int {
	out := make([]int, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
