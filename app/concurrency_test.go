package app

import (
	"context"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/metadata"

	"github.com/spindle-rt/spindle/proto/proxypb"
)

// Calls racing with registrations and concurrent Header reads must be
// clean under -race, and every call must get a well-formed answer.
func TestConcurrentCallsAndRegistrations(t *testing.T) {
	a, _ := fullApp(Options{})
	c := grpcClient(t, serveTCP(t, a))
	ctx := metadata.AppendToOutgoingContext(ctxTimeout(t, 10*time.Second), "authorization", "Bearer tok")

	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				resp, err := c.RPC(ctx, &proxypb.RPCRequest{Method: "whoami", User: "u"})
				if err != nil {
					t.Error(err)
					return
				}
				if resp.GetResult() == nil && resp.GetError() == nil {
					t.Errorf("empty reply %v", resp)
				}
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < 50; i++ {
			a.InterceptAll(func(ctx context.Context, req Request, next Handler) (Reply, error) {
				var hw sync.WaitGroup
				for k := 0; k < 2; k++ {
					hw.Add(1)
					go func() { defer hw.Done(); _ = req.Header().Get("Authorization") }()
				}
				hw.Wait()
				return next(ctx, req)
			})
		}
	}()
	wg.Wait()
}
