package app

import (
	"context"
	"log/slog"
	"net"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/spindle-rt/spindle/internal/testlog"
	"github.com/spindle-rt/spindle/proto/proxypb"
)

// logBuffer collects log output from concurrent goroutines.
type logBuffer struct{ testlog.Buffer }

// waitFor polls the log for up to two seconds until it holds every part.
func (l *logBuffer) waitFor(t *testing.T, parts ...string) string {
	t.Helper()
	return l.WaitFor(t, parts...)
}

func testApp(opts Options) (*App, *logBuffer) {
	lb := &logBuffer{}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(lb, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return New(opts), lb
}

// serve runs a on ln until the test ends and returns the address.
func serve(t *testing.T, a *App, ln net.Listener) net.Addr {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Errorf("Serve did not return after cancel")
		}
	})
	return ln.Addr()
}

func serveTCP(t *testing.T, a *App) string {
	t.Helper()
	ln, err := Listen("tcp://127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return serve(t, a, ln).String()
}

func grpcClient(t *testing.T, target string) proxypb.CentrifugoProxyClient {
	t.Helper()
	cc, err := grpc.NewClient(target, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cc.Close() })
	return proxypb.NewCentrifugoProxyClient(cc)
}

func ctxTimeout(t *testing.T, d time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
