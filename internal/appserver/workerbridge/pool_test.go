package workerbridge

import (
	"context"
	"encoding/json"
	"log/slog"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/spindle-rt/spindle/app"
	"github.com/spindle-rt/spindle/internal/appserver/worker"
	"github.com/spindle-rt/spindle/proto/proxypb"
)

// proxyWorkerPool starts testdata/proxy_worker.js workers, skipping the
// test when node is missing.
func proxyWorkerPool(t testing.TB, relay string, n int, log *slog.Logger) *worker.Pool {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node not installed")
	}
	script, err := filepath.Abs("testdata/proxy_worker.js")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p, err := worker.NewPool(ctx,
		worker.PoolConfig{NumWorkers: n, DestroyTimeout: 5 * time.Second, AllocateTimeout: 5 * time.Second},
		worker.SpawnConfig{Command: []string{node, script}, Relay: relay}, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := p.Destroy(ctx); err != nil {
			t.Errorf("destroy: %v", err)
		}
	})
	return p
}

// TestWorkersOverGRPC drives a real Node worker through the App's gRPC
// service, including the faults a worker can commit.
func TestWorkersOverGRPC(t *testing.T) {
	a, lb := testApp(app.Options{})
	pool := proxyWorkerPool(t, "pipes", 1, nil)
	Use(a, pool)
	c := grpcClient(t, serveTCP(t, a))

	call := func(method string, d time.Duration) (*proxypb.RPCResponse, error) {
		ctx := ctxTimeout(t, d)
		ctx = metadata.AppendToOutgoingContext(ctx, "x-request-id", "r1", "type", "forged")
		return c.RPC(ctx, &proxypb.RPCRequest{Client: "c1", User: "u1", Method: method, Data: []byte(`{"n":1}`)})
	}
	ok := func(t *testing.T) {
		t.Helper()
		r, err := call("echo", 3*time.Second)
		if err != nil || string(r.GetResult().GetData()) != `{"n":1}` {
			t.Fatalf("echo after fault: %v %v", r, err)
		}
	}

	t.Run("connect", func(t *testing.T) {
		r, err := c.Connect(ctxTimeout(t, 3*time.Second), &proxypb.ConnectRequest{Client: "c1", Name: "js"})
		if err != nil || r.GetResult().GetUser() != "w-js" {
			t.Fatalf("got %v %v", r, err)
		}
	})
	t.Run("empty reply for other types", func(t *testing.T) {
		r, err := c.Subscribe(ctxTimeout(t, 3*time.Second), &proxypb.SubscribeRequest{Channel: "x"})
		if err != nil || r.GetResult() != nil || r.GetError() != nil {
			t.Fatalf("got %v %v", r, err)
		}
	})
	t.Run("context", func(t *testing.T) {
		r, err := call("ctx", 3*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string][]string
		if err := json.Unmarshal(r.GetResult().GetData(), &m); err != nil {
			t.Fatalf("%q: %v", r.GetResult().GetData(), err)
		}
		if len(m["type"]) != 1 || m["type"][0] != "rpc" || len(m["x-request-id"]) != 1 || m["x-request-id"][0] != "r1" {
			t.Errorf("context %v", m)
		}
	})
	faults := []struct {
		method string
		log    string
	}{
		{"error", "database is down"},
		{"crash", "worker crashed"},
		{"garbage", "garbage"},
		{"badproto", "decoding the worker's rpc reply"},
	}
	for _, f := range faults {
		t.Run(f.method, func(t *testing.T) {
			start := time.Now()
			r, err := call(f.method, 3*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			if r.GetError().GetCode() != app.CodeInternal || !r.GetError().GetTemporary() {
				t.Errorf("got %v, want error 100 temporary", r)
			}
			if time.Since(start) > 2*time.Second {
				t.Errorf("fault took %s", time.Since(start))
			}
			lb.waitFor(t, f.log)
			ok(t)
		})
	}
	t.Run("hang is bounded by the call deadline", func(t *testing.T) {
		start := time.Now()
		_, err := call("hang", 300*time.Millisecond)
		if status.Code(err) != codes.DeadlineExceeded {
			t.Fatalf("got %v, want DeadlineExceeded", err)
		}
		if d := time.Since(start); d > 1500*time.Millisecond {
			t.Errorf("hang answered after %s", d)
		}
		ok(t)
	})
}

func TestWorkersPoolDestroyedAnswers(t *testing.T) {
	a, lb := testApp(app.Options{})
	pool := proxyWorkerPool(t, "pipes", 1, nil)
	Use(a, pool)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := pool.Destroy(ctx); err != nil {
		t.Fatal(err)
	}
	rep, err := a.Connect(ctx, &proxypb.ConnectRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.GetError().GetCode() != app.CodeInternal {
		t.Errorf("got %v", rep)
	}
	lb.waitFor(t, "destroyed")
}
