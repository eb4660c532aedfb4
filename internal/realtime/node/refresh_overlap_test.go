package node

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/spindle-rt/spindle/proto/proxypb"
)

// TestSubRefreshNeverOverlaps (hardening defect 11): with ticks every 20 ms
// and a sub_refresh backend that takes 300 ms, a second and a third call
// for the same subscription used to start while the first was pending
// (each killing a PHP worker at its deadline). Now at most one is in flight.
func TestSubRefreshNeverOverlaps(t *testing.T) {
	env := newHubEnv(t, func(c *Config, _ *Proxy) { c.Client.PresenceUpdateInterval = 20 * time.Millisecond })
	var inFlight, most, calls atomic.Int32
	env.backend.set(func(b *fakeBackend) {
		b.subscribe = func(*proxypb.SubscribeRequest) (*proxypb.SubscribeResponse, error) {
			// Due within a second: from then on every tick wants a refresh.
			return &proxypb.SubscribeResponse{Result: &proxypb.SubscribeResult{ExpireAt: time.Now().Unix() + 1}}, nil
		}
		b.subRefresh = func(*proxypb.SubRefreshRequest) (*proxypb.SubRefreshResponse, error) {
			n := inFlight.Add(1)
			defer inFlight.Add(-1)
			for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
			}
			calls.Add(1)
			time.Sleep(300 * time.Millisecond)
			// Due again within a second, so ticks keep asking.
			return &proxypb.SubRefreshResponse{Result: &proxypb.SubRefreshResult{ExpireAt: time.Now().Unix() + 1}}, nil
		}
	})
	tc := env.connectUser(t, "alice")
	tc.ok(subCmd("proxied:slow"))
	eventually(t, "two sub_refresh calls", func() bool { return calls.Load() >= 2 })
	if m := most.Load(); m != 1 {
		t.Fatalf("%d sub_refresh calls for one subscription were in flight at once, want 1", m)
	}
}
