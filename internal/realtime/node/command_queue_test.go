package node

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/spindle-rt/spindle/internal/realtime/protocol"
	"github.com/spindle-rt/spindle/proto/clientpb"
	"github.com/spindle-rt/spindle/proto/proxypb"
)

// slowRPC makes the backend take d per RPC and records the most calls in
// flight at once.
func slowRPC(env *hubEnv, d time.Duration) *atomic.Int32 {
	var inFlight, most atomic.Int32
	env.backend.set(func(b *fakeBackend) {
		b.rpc = func(r *proxypb.RPCRequest) (*proxypb.RPCResponse, error) {
			n := inFlight.Add(1)
			defer inFlight.Add(-1)
			for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
			}
			time.Sleep(d)
			return &proxypb.RPCResponse{Result: &proxypb.RPCResult{Data: r.Data}}, nil
		}
	})
	return &most
}

// TestPongsWhileACommandIsSlow (hardening defect 8): commands used to run
// on the reader, so a client whose RPC waited on a slow proxy could not
// deliver its pongs and was closed 3012 although it answered every ping.
func TestPongsWhileACommandIsSlow(t *testing.T) {
	env := newHubEnv(t, func(c *Config, _ *Proxy) {
		c.Client.PingInterval = 40 * time.Millisecond
		c.Client.PongTimeout = 40 * time.Millisecond
	})
	slowRPC(env, 400*time.Millisecond)
	tc := env.newClient(t, protocol.TypeJSON)
	tc.ok(connectCmd(connToken(t, "alice", 0, nil)))
	pings := func() int {
		n := 0
		for _, r := range tc.tr.allReplies() {
			if r.Id == 0 && r.Push == nil && r.Error == nil && r.Connect == nil {
				n++
			}
		}
		return n
	}
	tc.send(&clientpb.Command{Id: 2, Rpc: &clientpb.RPCRequest{Method: "slow", Data: []byte(`{}`)}})
	answered := 0
	deadline := time.Now().Add(waitTimeout)
	for {
		if closed, code := tc.tr.isClosed(); closed {
			t.Fatalf("closed %d while answering every ping", code)
		}
		if p := pings(); p > answered {
			answered = p
			tc.send(&clientpb.Command{}) // the pong
		}
		done := false
		for _, r := range tc.tr.allReplies() {
			if r.Id == 2 {
				done = true
			}
		}
		if done && answered >= 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no RPC reply; %d pings answered", answered)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// TestClientConcurrency: client.concurrency runs up to that many of one
// connection's commands at once; by default they run one at a time, in
// order.
func TestClientConcurrency(t *testing.T) {
	for _, tc := range []struct {
		concurrency, wantMost int
	}{{0, 1}, {1, 1}, {4, 4}} {
		env := newHubEnv(t, func(c *Config, _ *Proxy) { c.Client.Concurrency = tc.concurrency })
		most := slowRPC(env, 100*time.Millisecond)
		cl := env.connectUser(t, "alice")
		var cmds []*clientpb.Command
		for id := uint32(10); id < 14; id++ {
			cmds = append(cmds, &clientpb.Command{Id: id, Rpc: &clientpb.RPCRequest{Method: "m", Data: []byte(`{}`)}})
		}
		cl.send(cmds...)
		for id := uint32(10); id < 14; id++ {
			cl.reply(id)
		}
		if got := int(most.Load()); got != tc.wantMost {
			t.Errorf("concurrency %d: %d RPCs in flight at once, want %d", tc.concurrency, got, tc.wantMost)
		}
		if tc.wantMost == 1 {
			var order []uint32
			for _, r := range cl.tr.allReplies() {
				if r.Id >= 10 {
					order = append(order, r.Id)
				}
			}
			for i, id := range order {
				if id != uint32(10+i) {
					t.Errorf("concurrency %d: replies in order %v", tc.concurrency, order)
					break
				}
			}
		}
	}
}

// TestCommandRunnersLeaveWhenIdle backs the claim in docs/server.md that an
// idle connection costs no command goroutine: once a burst of commands is
// answered, no runner is left waiting.
func TestCommandRunnersLeaveWhenIdle(t *testing.T) {
	env := newHubEnv(t, func(c *Config, _ *Proxy) { c.Client.Concurrency = 4 })
	slowRPC(env, 20*time.Millisecond)
	cl := env.connectUser(t, "alice")
	var cmds []*clientpb.Command
	for id := uint32(10); id < 18; id++ {
		cmds = append(cmds, &clientpb.Command{Id: id, Rpc: &clientpb.RPCRequest{Method: "m", Data: []byte(`{}`)}})
	}
	cl.send(cmds...)
	for id := uint32(10); id < 18; id++ {
		cl.reply(id)
	}
	eventually(t, "command runners gone", func() bool {
		q := cl.c.cmds
		q.mu.Lock()
		defer q.mu.Unlock()
		return q.running == 0 && len(q.pending) == 0
	})
}
