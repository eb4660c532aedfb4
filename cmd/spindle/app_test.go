package main

import (
	"context"
	"os"
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
