package worker

import (
	"context"
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkExec measures one request/reply round trip through the pool to
// a Node echo worker over each relay, next to an in-process Go function
// doing the same work, so the cost of the process hop is visible.
func BenchmarkExec(b *testing.B) {
	pl := Payload{Context: []byte(`{"type":["rpc"],"content-type":["application/grpc"]}`), Body: []byte("0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghij")}
	b.Run("go-func", func(b *testing.B) {
		echo := func(_ context.Context, p Payload) (Payload, error) {
			return Payload{Context: p.Context, Body: []byte(reverse(string(p.Body)))}, nil
		}
		ctx := context.Background()
		b.ReportAllocs()
		for b.Loop() {
			if _, err := echo(ctx, pl); err != nil {
				b.Fatal(err)
			}
		}
	})
	for _, relay := range []string{"pipes", "unix", "tcp"} {
		b.Run("node-"+relay, func(b *testing.B) {
			dsn := relay
			switch relay {
			case "unix":
				dsn = "unix://" + filepath.Join(b.TempDir(), "bench.sock")
			case "tcp":
				dsn = "tcp://127.0.0.1:0"
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			p, err := NewPool(ctx, PoolConfig{NumWorkers: 1}, SpawnConfig{Command: nodeWorker(b), Relay: dsn}, nil)
			if err != nil {
				b.Fatal(err)
			}
			defer func() { _ = p.Destroy(context.Background()) }()
			ctx = context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := p.Exec(ctx, pl); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
