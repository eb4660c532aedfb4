package appserver

import (
	"context"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/spindle-rt/spindle/internal/config"
	"github.com/spindle-rt/spindle/internal/testlog"
	"github.com/spindle-rt/spindle/proto/proxypb"
)

// shortDir keeps unix socket paths under the 108-byte limit.
func shortDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "app")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	return dir
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// loadConfig writes rr as dir/.rr.yaml and loads it the way `spindle app`
// does.
func loadConfig(t *testing.T, dir, rr string) *config.AppConfig {
	t.Helper()
	path := filepath.Join(dir, ".rr.yaml")
	if err := os.WriteFile(path, []byte(rr), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, _, err := config.LoadApp(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// serving is a Server running in the background.
type serving struct {
	cancel context.CancelFunc
	done   chan struct{} // closed when Serve returned; err is set then
	err    error
	logs   testlog.Buffer // what the app logged
}

func serve(t *testing.T, cfg *config.AppConfig) *serving {
	t.Helper()
	s := &serving{cancel: func() {}, done: make(chan struct{})}
	srv, err := New(cfg, slog.New(slog.NewTextHandler(&s.logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	go func() {
		s.err = srv.Serve(ctx)
		close(s.done)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-s.done:
		case <-time.After(15 * time.Second):
			t.Error("Serve did not return")
		}
	})
	return s
}

// stop ends Serve and returns its result.
func (s *serving) stop(t *testing.T) error {
	t.Helper()
	s.cancel()
	select {
	case <-s.done:
		return s.err
	case <-time.After(15 * time.Second):
		t.Fatal("Serve did not return")
		return nil
	}
}

// connect sends a proxied connect to the app at target, retrying until
// the listener is up.
func connect(t *testing.T, target, name string) *proxypb.ConnectResponse {
	t.Helper()
	cc, err := grpc.NewClient(target, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	client := proxypb.NewCentrifugoProxyClient(cc)
	var resp *proxypb.ConnectResponse
	for deadline := time.Now().Add(10 * time.Second); ; {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		resp, err = client.Connect(ctx, &proxypb.ConnectRequest{Client: "c1", Name: name}, grpc.WaitForReady(true))
		cancel()
		if err == nil || time.Now().After(deadline) {
			break
		}
	}
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	return resp
}
