package workerbridge

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/spindle-rt/spindle/app"
	"github.com/spindle-rt/spindle/proto/proxypb"
)

// BenchmarkWorkerService is the proxied-RPC hop through the app over gRPC
// on loopback: an in-process Go service next to the same call answered by
// a Node worker (testdata/proxy_worker.js, one process) over each relay,
// all in one run, so the cost of the worker hop is the difference.
func BenchmarkWorkerService(b *testing.B) {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	req := &proxypb.RPCRequest{Client: "c1", User: "42", Method: "echo", Data: []byte(`{"text":"hello"}`)}
	run := func(b *testing.B, a *app.App) {
		c := grpcClient(b, serveTCP(b, a))
		ctx := context.Background()
		for b.Loop() {
			r, err := c.RPC(ctx, req)
			if err != nil || len(r.GetResult().GetData()) == 0 {
				b.Fatalf("rpc: %v %v", r, err)
			}
		}
	}
	b.Run("go-service", func(b *testing.B) {
		a := app.New(app.Options{Logger: quiet})
		a.HandleRPC("echo", func(_ context.Context, r *app.RPCRequest) (*proxypb.RPCResponse, error) { return r.Answer(r.Data), nil })
		run(b, a)
	})
	sock := filepath.Join(b.TempDir(), "relay.sock")
	for _, relay := range []struct{ name, dsn string }{
		{"node-pipes", "pipes"},
		{"node-unix", "unix://" + sock},
		{"node-tcp", "tcp://127.0.0.1:0"},
	} {
		b.Run(relay.name, func(b *testing.B) {
			a := app.New(app.Options{Logger: quiet})
			Use(a, proxyWorkerPool(b, relay.dsn, 1, quiet))
			run(b, a)
		})
	}
}
