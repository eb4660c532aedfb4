package worker

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// nodeWorker returns the command running testdata/worker.js with flags,
// skipping the test when node is not installed.
func nodeWorker(t testing.TB, flags ...string) []string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node not installed")
	}
	script, err := filepath.Abs("testdata/worker.js")
	if err != nil {
		t.Fatal(err)
	}
	return append([]string{node, script}, flags...)
}

// logSink records log records so tests can assert on worker output.
type logSink struct {
	mu   sync.Mutex
	recs []string
}

func (s *logSink) Enabled(context.Context, slog.Level) bool { return true }
func (s *logSink) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(r.Message)
	r.Attrs(func(a slog.Attr) bool {
		b.WriteString(" " + a.Key + "=" + a.Value.String())
		return true
	})
	s.mu.Lock()
	s.recs = append(s.recs, b.String())
	s.mu.Unlock()
	return nil
}
func (s *logSink) WithAttrs([]slog.Attr) slog.Handler { return s }
func (s *logSink) WithGroup(string) slog.Handler      { return s }

func (s *logSink) find(sub string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range s.recs {
		if strings.Contains(r, sub) {
			return r, true
		}
	}
	return "", false
}

type testPool struct {
	*Pool
	logs  *logSink
	pidMu sync.Mutex
	pids  []int // every pid ever spawned
}

func (tp *testPool) spawned() []int {
	tp.pidMu.Lock()
	defer tp.pidMu.Unlock()
	return append([]int(nil), tp.pids...)
}

// startPool builds a pool whose every spawned pid is recorded; on cleanup
// it is destroyed and the test fails if any of those processes survived.
func startPool(t *testing.T, cfg PoolConfig, spawn SpawnConfig) *testPool {
	t.Helper()
	tp, err := tryPool(t, cfg, spawn)
	if err != nil {
		t.Fatalf("NewPool: %v", err)
	}
	return tp
}

func tryPool(t *testing.T, cfg PoolConfig, spawn SpawnConfig) (*testPool, error) {
	t.Helper()
	if cfg.AllocateTimeout == 0 {
		cfg.AllocateTimeout = 5 * time.Second
	}
	if cfg.DestroyTimeout == 0 {
		cfg.DestroyTimeout = 3 * time.Second
	}
	tp := &testPool{logs: &logSink{}}
	record := func(pid int) {
		tp.pidMu.Lock()
		tp.pids = append(tp.pids, pid)
		tp.pidMu.Unlock()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Second)
	defer cancel()
	p, err := newPool(ctx, cfg, spawn, slog.New(tp.logs), record)
	t.Cleanup(func() {
		if p != nil {
			dctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = p.Destroy(dctx)
		}
		assertGone(t, tp.spawned())
	})
	if err != nil {
		return tp, err
	}
	tp.Pool = p
	return tp, nil
}

// assertGone fails if any pid still exists — including as a zombie, which
// kill(pid, 0) would still find.
func assertGone(t *testing.T, pids []int) {
	t.Helper()
	for _, pid := range pids {
		if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
			t.Errorf("worker pid %d still exists after destroy (kill 0: %v)", pid, err)
		}
	}
}

// processGone is for grandchildren we cannot reap: gone or a zombie left
// for init.
func processGone(pid int) bool {
	if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
		return true
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true
	}
	i := strings.LastIndexByte(string(b), ')')
	return i > 0 && i+2 < len(b) && b[i+2] == 'Z'
}

func ctxTimeout(t *testing.T, d time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func exec1(t *testing.T, p *Pool, body string) (Payload, error) {
	t.Helper()
	return p.Exec(ctxTimeout(t, 5*time.Second), Payload{Context: []byte(`{"type":["rpc"]}`), Body: []byte(body)})
}

func mustEcho(t *testing.T, p *Pool, body string) {
	t.Helper()
	r, err := exec1(t, p, body)
	if err != nil {
		t.Fatalf("Exec(%q): %v", body, err)
	}
	if want := reverse(body); string(r.Body) != want {
		t.Fatalf("Exec(%q) body = %q, want %q", body, r.Body, want)
	}
}

func reverse(s string) string {
	b := []byte(s)
	for i, j := 0, len(b)-1; i < j; i, j = i+1, j-1 {
		b[i], b[j] = b[j], b[i]
	}
	return string(b)
}

// eventually polls cond until it holds or d passes.
func eventually(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func pidsOf(p *Pool) map[int]bool {
	m := map[int]bool{}
	for _, w := range p.Workers() {
		if w.State == StateReady || w.State == StateWorking {
			m[w.PID] = true
		}
	}
	return m
}
