package appserver

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/spindle-rt/spindle/internal/appserver/workerrpc"
)

// nodeWorker returns the command of the Node test worker
// (internal/appserver/workerbridge/testdata/proxy_worker.js), skipping
// without node.
func nodeWorker(t *testing.T) (node, script string) {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node not installed")
	}
	script, err = filepath.Abs("../../appserver/workerbridge/testdata/proxy_worker.js")
	if err != nil {
		t.Fatal(err)
	}
	return node, script
}

// TestServeWithWorkers runs the app server with Node workers: events
// reach the workers, status/metrics answer, resetter.Reset over rpc.listen
// and SIGHUP each replace every worker, and stopping leaves no worker
// behind.
func TestServeWithWorkers(t *testing.T) {
	node, script := nodeWorker(t)
	dir := shortDir(t)
	sock := filepath.Join(dir, "p.sock")
	rpcAddr := "unix://" + filepath.Join(dir, "rpc.sock")
	status := freeAddr(t)
	cfg := loadConfig(t, dir, fmt.Sprintf(`version: '3'
rpc:
  listen: %s
server:
  command: [%q, %q]
centrifuge:
  proxy_address: unix://%s
  pool:
    num_workers: 2
    destroy_timeout: 5s
status:
  address: %s
metrics:
  address: %s
`, rpcAddr, node, script, sock, status, status))
	s := serve(t, cfg)

	if resp := connect(t, "unix://"+sock, "go"); resp.GetResult().GetUser() != "w-go" {
		t.Fatalf("connect: %v", resp)
	}
	// Start-up says how many workers are ready out of how many, and how long
	// that took.
	if !regexp.MustCompile(`workers ready: 2 of 2 in [0-9.]+m?s`).MatchString(s.logs.String()) {
		t.Errorf("start-up log lacks the ready count and time:\n%s", s.logs.String())
	}

	get := func(path string) (int, string) {
		r, err := http.Get("http://" + status + path)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Body.Close()
		b, _ := io.ReadAll(r.Body)
		return r.StatusCode, string(b)
	}
	if code, body := get("/health"); code != 200 {
		t.Errorf("/health %d %s", code, body)
	}
	if code, body := get("/ready?plugin=centrifuge"); code != 200 {
		t.Errorf("/ready %d %s", code, body)
	}
	if code, body := get("/metrics"); code != 200 || !strings.Contains(body, `spindle_app_workers{state="ready"} 2`) || !strings.Contains(body, "rr_centrifugo_total_workers 2") {
		t.Errorf("/metrics %d:\n%s", code, body)
	}

	pidsBefore := workerPIDs(t, rpcAddr)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := workerrpc.Dial(ctx, rpcAddr)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Reset(ctx); err != nil {
		t.Fatalf("resetter.Reset: %v", err)
	}
	_ = c.Close()
	pidsAfter := workerPIDs(t, rpcAddr)
	if overlap(pidsBefore, pidsAfter) || len(pidsAfter) != 2 {
		t.Errorf("reset kept workers: before %v after %v", pidsBefore, pidsAfter)
	}

	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		now := workerPIDs(t, rpcAddr)
		if len(now) == 2 && !overlap(now, pidsAfter) {
			pidsAfter = now
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("SIGHUP did not reset: %v → %v", pidsAfter, now)
		}
		time.Sleep(50 * time.Millisecond)
	}

	if err := s.stop(t); err != nil {
		t.Fatalf("Serve: %v", err)
	}
	for _, pid := range pidsAfter {
		if err := syscall.Kill(pid, 0); err == nil {
			t.Errorf("worker %d still running after stop", pid)
		}
	}
}

func workerPIDs(t *testing.T, addr string) []int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := workerrpc.Dial(ctx, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ws, err := c.Workers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var pids []int
	for _, w := range ws {
		if w.StatusStr == "ready" {
			pids = append(pids, w.PID)
		}
	}
	return pids
}

func overlap(a, b []int) bool {
	for _, x := range a {
		for _, y := range b {
			if x == y {
				return true
			}
		}
	}
	return false
}

// A command that cannot start fails Serve at once with its stderr, and
// closes rpc.listen again.
func TestServeFailsWhenWorkersCannotStart(t *testing.T) {
	dir := shortDir(t)
	rpcSock := filepath.Join(dir, "rpc.sock")
	cfg := loadConfig(t, dir, fmt.Sprintf("rpc:\n  listen: unix://%s\nserver:\n  command: [sh, -c, 'echo booting failed >&2; exit 7']\ncentrifuge:\n  proxy_address: unix://%s/p.sock\n  pool:\n    num_workers: 1\n    allocate_timeout: 5s\n", rpcSock, dir))
	start := time.Now()
	err := Run(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err == nil || !strings.Contains(err.Error(), "server.command") || !strings.Contains(err.Error(), "booting failed") {
		t.Fatalf("got %v", err)
	}
	if time.Since(start) > 4*time.Second {
		t.Errorf("failing start took %s", time.Since(start))
	}
	if _, err := os.Lstat(rpcSock); !os.IsNotExist(err) {
		t.Errorf("rpc.listen socket left behind: %v", err)
	}
}
