package workerbridge

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/spindle-rt/spindle/app"
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

// testApp is an App logging into the returned buffer.
func testApp(opts app.Options) (*app.App, *logBuffer) {
	lb := &logBuffer{}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(lb, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return app.New(opts), lb
}

// serveTCP runs a on a loopback port until the test or benchmark ends
// and returns the address.
func serveTCP(tb testing.TB, a *app.App) string {
	tb.Helper()
	ln, err := app.Listen("tcp://127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Serve(ctx, ln) }()
	tb.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				tb.Errorf("Serve: %v", err)
			}
		case <-time.After(15 * time.Second):
			tb.Errorf("Serve did not return after cancel")
		}
	})
	return ln.Addr().String()
}

func grpcClient(tb testing.TB, target string) proxypb.CentrifugoProxyClient {
	tb.Helper()
	cc, err := grpc.NewClient(target, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = cc.Close() })
	return proxypb.NewCentrifugoProxyClient(cc)
}

func ctxTimeout(t *testing.T, d time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
