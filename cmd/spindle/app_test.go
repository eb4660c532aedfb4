package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/spindle-rt/spindle/proto/proxypb"
)

func TestAppCommandServesNotAvailable(t *testing.T) {
	dir, err := os.MkdirTemp("", "app")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	sock := filepath.Join(dir, "p.sock")
	cfgPath := filepath.Join(dir, ".rr.yaml")
	rr := "version: '3'\ncentrifuge:\n  proxy_address: unix://" + sock + "\n"
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
	deadline := time.Now().Add(5 * time.Second)
	for {
		cctx, ccancel := context.WithTimeout(ctx, time.Second)
		resp, err = client.Connect(cctx, &proxypb.ConnectRequest{Client: "c1"}, grpc.WaitForReady(true))
		ccancel()
		if err == nil || time.Now().After(deadline) {
			break
		}
	}
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	if resp.GetError().GetCode() != 108 {
		t.Fatalf("reply %v, want error 108", resp)
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
}

func TestAppCommandReportsConfigErrors(t *testing.T) {
	cfgPath := filepath.Join(t.TempDir(), ".rr.yaml")
	if err := os.WriteFile(cfgPath, []byte("centrifuge:\n  proxy_adress: x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := newAppCommand()
	cmd.SetArgs([]string{"-c", cfgPath, "--log_level", "none"})
	err := cmd.ExecuteContext(context.Background())
	if err == nil || !strings.Contains(err.Error(), `.rr.yaml:2: unknown key "centrifuge.proxy_adress"`) {
		t.Fatalf("got %v", err)
	}
}

// TestAppResetAndWorkersCommands drives `spindle app` with a Node worker
// (internal/appserver/workerbridge/testdata/proxy_worker.js) and its two
// client commands: `app reset` finds rpc.listen in the config file,
// `app workers` takes --rpc.
func TestAppResetAndWorkersCommands(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node not installed")
	}
	script, err := filepath.Abs("../../internal/appserver/workerbridge/testdata/proxy_worker.js")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	rpcSock := filepath.Join(dir, "rpc.sock")
	cfgPath := filepath.Join(dir, ".rr.yaml")
	rr := fmt.Sprintf("rpc:\n  listen: unix://%s\nserver:\n  command: [%q, %q]\ncentrifuge:\n  proxy_address: unix://%s/p.sock\n  pool:\n    num_workers: 1\n",
		rpcSock, node, script, dir)
	if err := os.WriteFile(cfgPath, []byte(rr), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cmd := newAppCommand()
	cmd.SetArgs([]string{"--config", cfgPath, "--log_level", "none"})
	done := make(chan error, 1)
	go func() { done <- cmd.ExecuteContext(ctx) }()

	run := func(args ...string) (string, error) {
		var out bytes.Buffer
		c := newAppCommand()
		c.SilenceUsage, c.SilenceErrors = true, true
		c.SetOut(&out)
		c.SetArgs(args)
		err := c.ExecuteContext(ctx)
		return out.String(), err
	}
	var out string
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if out, err = run("workers", "--rpc", "unix://"+rpcSock); err == nil && strings.Count(out, "ready") == 1 || time.Now().After(deadline) {
			break
		}
	}
	if err != nil || strings.Count(out, "ready") != 1 || !strings.HasPrefix(out, "PID") {
		t.Fatalf("app workers: %v\n%s", err, out)
	}
	if out, err := run("reset", "-c", cfgPath); err != nil || out != "workers reset\n" {
		t.Fatalf("app reset: %v %q", err, out)
	}

	noRPC := filepath.Join(dir, "norpc.yaml")
	if err := os.WriteFile(noRPC, []byte("centrifuge:\n  proxy_address: 127.0.0.1:0\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := run("workers", "-c", noRPC); err == nil || !strings.Contains(err.Error(), "has no rpc.listen") {
		t.Errorf("app workers without rpc.listen: %v", err)
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
}
