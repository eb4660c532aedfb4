package app

import (
	"context"
	"fmt"
	"testing"

	"github.com/spindle-rt/spindle/proto/proxypb"
)

func passThrough(ctx context.Context, req Request, next Handler) (Reply, error) {
	return next(ctx, req)
}

// chainApp has a subscribe service answering a preallocated reply behind
// n pass-through interceptors (half for every type, half for subscribe).
func chainApp(n int) (*App, Handler) {
	a := New(Options{})
	reply := &proxypb.SubscribeResponse{Result: &proxypb.SubscribeResult{}}
	a.HandleSubscribe(func(context.Context, *SubscribeRequest) (*proxypb.SubscribeResponse, error) {
		return reply, nil
	})
	for i := 0; i < n; i++ {
		if i%2 == 0 {
			a.InterceptAll(passThrough)
		} else {
			a.Intercept(passThrough, TypeSubscribe)
		}
	}
	return a, a.table().h[TypeSubscribe]
}

func TestChainAddsNoAllocations(t *testing.T) {
	req := NewSubscribeRequest(&proxypb.SubscribeRequest{Channel: "x"}, nil)
	ctx := context.Background()
	for _, n := range []int{0, 1, 5} {
		_, h := chainApp(n)
		allocs := testing.AllocsPerRun(1000, func() {
			if _, err := h(ctx, req); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Errorf("%d interceptors: %v allocations per call, want 0", n, allocs)
		}
	}
}

// The whole dispatch (deadline guard, goroutine, reply checks) costs the
// same with five interceptors as with none.
func TestDispatchAllocationsDoNotGrowWithInterceptors(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	measure := func(n int) float64 {
		a, _ := chainApp(n)
		req := NewSubscribeRequest(&proxypb.SubscribeRequest{Channel: "x"}, nil)
		return testing.AllocsPerRun(1000, func() {
			if _, err := a.dispatch(ctx, req); err != nil {
				t.Fatal(err)
			}
		})
	}
	base, five := measure(0), measure(5)
	if five > base {
		t.Fatalf("dispatch allocations: %v with 0 interceptors, %v with 5", base, five)
	}
	t.Logf("dispatch allocations per call: %v", base)
}

func BenchmarkChain(b *testing.B) {
	req := NewSubscribeRequest(&proxypb.SubscribeRequest{Channel: "x"}, nil)
	ctx := context.Background()
	for _, n := range []int{0, 1, 5} {
		_, h := chainApp(n)
		b.Run(fmt.Sprintf("interceptors=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := h(ctx, req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkDispatch(b *testing.B) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for _, n := range []int{0, 5} {
		a, _ := chainApp(n)
		b.Run(fmt.Sprintf("interceptors=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				req := NewSubscribeRequest(&proxypb.SubscribeRequest{Channel: "x"}, nil)
				if _, err := a.Subscribe(ctx, req.SubscribeRequest); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
