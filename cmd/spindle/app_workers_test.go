package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/spindle-rt/spindle/internal/appserver/workerrpc"
	"github.com/spindle-rt/spindle/proto/proxypb"
)

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestAppCommandWithWorkers runs `spindle app` in-process with Node
// workers (app/testdata/proxy_worker.js): events reach the workers,
// status/metrics answer, `app workers` and `app reset` work over
// rpc.listen, SIGHUP resets, and stopping leaves no worker behind.
func TestAppCommandWithWorkers(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node not installed")
	}
	script, err := filepath.Abs("../../app/testdata/proxy_worker.js")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	sock := filepath.Join(dir, "p.sock")
	rpcSock := filepath.Join(dir, "rpc.sock")
	status := freeAddr(t)
	cfgPath := filepath.Join(dir, ".rr.yaml")
	rr := fmt.Sprintf(`version: '3'
rpc:
  listen: unix://%s
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
`, rpcSock, node, script, sock, status, status)
	if err := os.WriteFile(cfgPath, []byte(rr), 0o600); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cmd := newAppCommand()
	cmd.SetArgs([]string{"--config", cfgPath, "--log_level", "none"})
	done := make(chan error, 1)
	go func() { done <- cmd.ExecuteContext(ctx) }()

	cc, err := grpc.NewClient("unix://"+sock, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	client := proxypb.NewCentrifugoProxyClient(cc)
	var resp *proxypb.ConnectResponse
	for deadline := time.Now().Add(10 * time.Second); ; {
		cctx, ccancel := context.WithTimeout(ctx, time.Second)
		resp, err = client.Connect(cctx, &proxypb.ConnectRequest{Client: "c1", Name: "go"}, grpc.WaitForReady(true))
		ccancel()
		if err == nil || time.Now().After(deadline) {
			break
		}
	}
	if err != nil || resp.GetResult().GetUser() != "w-go" {
		t.Fatalf("connect: %v %v", resp, err)
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

	pidsBefore := workerPIDs(t, "unix://"+rpcSock)
	var out bytes.Buffer
	reset := newAppCommand()
	reset.SetOut(&out)
	reset.SetArgs([]string{"reset", "-c", cfgPath})
	if err := reset.ExecuteContext(ctx); err != nil {
		t.Fatalf("app reset: %v", err)
	}
	pidsAfter := workerPIDs(t, "unix://"+rpcSock)
	if overlap(pidsBefore, pidsAfter) || len(pidsAfter) != 2 {
		t.Errorf("reset kept workers: before %v after %v", pidsBefore, pidsAfter)
	}

	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		now := workerPIDs(t, "unix://"+rpcSock)
		if len(now) == 2 && !overlap(now, pidsAfter) {
			pidsAfter = now
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("SIGHUP did not reset: %v → %v", pidsAfter, now)
		}
		time.Sleep(50 * time.Millisecond)
	}

	out.Reset()
	list := newAppCommand()
	list.SetOut(&out)
	list.SetArgs([]string{"workers", "--rpc", "unix://" + rpcSock})
	if err := list.ExecuteContext(ctx); err != nil || strings.Count(out.String(), "ready") != 2 {
		t.Errorf("app workers: %v\n%s", err, out.String())
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("app command: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("app command did not stop")
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

func TestAppCommandFailsWhenWorkersCannotStart(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, ".rr.yaml")
	rr := fmt.Sprintf("server:\n  command: [sh, -c, 'echo booting failed >&2; exit 7']\ncentrifuge:\n  proxy_address: unix://%s/p.sock\n  pool:\n    num_workers: 1\n    allocate_timeout: 5s\n", dir)
	if err := os.WriteFile(cfgPath, []byte(rr), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := newAppCommand()
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	cmd.SetArgs([]string{"-c", cfgPath, "--log_level", "none"})
	start := time.Now()
	err := cmd.ExecuteContext(context.Background())
	if err == nil || !strings.Contains(err.Error(), "server.command") || !strings.Contains(err.Error(), "booting failed") {
		t.Fatalf("got %v", err)
	}
	if time.Since(start) > 4*time.Second {
		t.Errorf("failing start took %s", time.Since(start))
	}
}
