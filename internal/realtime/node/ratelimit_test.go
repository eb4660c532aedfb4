package node

import (
	"sync/atomic"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/spindle-rt/spindle/internal/realtime/protocol"
	"github.com/spindle-rt/spindle/proto/clientpb"
	"github.com/spindle-rt/spindle/proto/proxypb"
)

// fakeClock is the rate limit's clock in these tests: time moves only when
// a test says so, so refills are exact and nothing sleeps.
type fakeClock struct{ ns atomic.Int64 }

func (c *fakeClock) now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *fakeClock) advance(d time.Duration) { c.ns.Add(int64(d)) }

// rateLimitedEnv is a hub whose connections' commands are limited by rl,
// on a clock the test moves. The backend answers every RPC.
func rateLimitedEnv(t *testing.T, rl CommandRateLimit) (*hubEnv, *fakeClock) {
	t.Helper()
	env := newHubEnv(t, func(c *Config, _ *Proxy) { c.CommandRateLimit = &rl })
	clk := &fakeClock{}
	env.node.now = clk.now
	env.backend.set(func(b *fakeBackend) {
		b.rpc = func(*proxypb.RPCRequest) (*proxypb.RPCResponse, error) {
			return &proxypb.RPCResponse{Result: &proxypb.RPCResult{Data: []byte(`{}`)}}, nil
		}
	})
	return env, clk
}

// perSecond is one bucket of n commands a second.
func perSecond(n int) []RateBucket { return []RateBucket{{Interval: time.Second, Rate: n}} }

// outcome calls cmd and says what the client saw: "ok", or the error
// code with its temporary flag ("111 temporary").
func (tc *testClient) outcome(cmd *clientpb.Command) string {
	tc.t.Helper()
	r := tc.call(cmd)
	if r.Error == nil {
		return "ok"
	}
	s := codeLabel(r.Error.Code)
	if r.Error.Temporary {
		s += " temporary"
	}
	return s
}

// overLimit reads the refusal counter for method.
func overLimit(t *testing.T, env *hubEnv, method string, dryRun bool) float64 {
	t.Helper()
	var m dto.Metric
	if err := env.node.metrics.commandsOverLimit.WithLabelValues(method, boolLabel(dryRun)).Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}

func TestCommandRateLimit(t *testing.T) {
	ping := func() *clientpb.Command { return rpcCmd("ping", "") }
	type step struct {
		advance time.Duration
		cmd     func() *clientpb.Command
		want    string
	}
	rpcN := func(n int, want string) []step {
		s := make([]step, n)
		for i := range s {
			s[i] = step{cmd: ping, want: want}
		}
		return s
	}
	join := func(parts ...[]step) []step {
		var out []step
		for _, p := range parts {
			out = append(out, p...)
		}
		return out
	}
	tests := []struct {
		name  string
		rl    CommandRateLimit
		steps []step
	}{
		{
			name: "burst, then 111, then refill at the rate",
			rl:   CommandRateLimit{Commands: map[string]CommandBuckets{"rpc": {Buckets: perSecond(3)}}},
			steps: join(rpcN(3, "ok"), rpcN(2, "111 temporary"),
				[]step{{advance: 400 * time.Millisecond, cmd: ping, want: "ok"}, {cmd: ping, want: "111 temporary"}},
				[]step{{advance: 10 * time.Second, cmd: ping, want: "ok"}}, rpcN(2, "ok"), rpcN(1, "111 temporary")),
		},
		{
			name:  "default buckets are per method",
			rl:    CommandRateLimit{Default: perSecond(1)},
			steps: []step{{cmd: ping, want: "ok"}, {cmd: func() *clientpb.Command { return pubCmd("public:a", `{}`) }, want: "ok"}, {cmd: ping, want: "111 temporary"}},
		},
		{
			name: "total caps every method together",
			rl:   CommandRateLimit{Total: perSecond(2), Default: perSecond(10)},
			steps: []step{{cmd: ping, want: "ok"}, {cmd: func() *clientpb.Command { return pubCmd("public:a", `{}`) }, want: "ok"},
				{cmd: func() *clientpb.Command {
					return &clientpb.Command{History: &clientpb.HistoryRequest{Channel: "public:a"}}
				}, want: "111 temporary"}},
		},
		{
			name: "a refused command costs no token of the buckets that had one",
			rl:   CommandRateLimit{Total: perSecond(2), Commands: map[string]CommandBuckets{"rpc": {Buckets: perSecond(1)}}},
			steps: []step{{cmd: ping, want: "ok"}, {cmd: ping, want: "111 temporary"}, {cmd: ping, want: "111 temporary"},
				{cmd: func() *clientpb.Command { return pubCmd("public:a", `{}`) }, want: "ok"}},
		},
		{
			name: "an rpc method override replaces the rpc buckets",
			rl: CommandRateLimit{Commands: map[string]CommandBuckets{"rpc": {Buckets: perSecond(3),
				Overrides: map[string][]RateBucket{"app:slow": perSecond(1)}}}},
			steps: []step{{cmd: func() *clientpb.Command { return rpcCmd("app:slow", "") }, want: "ok"},
				{cmd: func() *clientpb.Command { return rpcCmd("app:slow", "") }, want: "111 temporary"},
				{cmd: ping, want: "ok"}, {cmd: ping, want: "ok"}, {cmd: ping, want: "ok"}, {cmd: ping, want: "111 temporary"}},
		},
		{
			name: "a namespace override replaces the publish buckets for its channels",
			rl: CommandRateLimit{Commands: map[string]CommandBuckets{"publish": {Buckets: perSecond(1),
				Overrides: map[string][]RateBucket{"public": perSecond(2)}}}},
			steps: []step{{cmd: func() *clientpb.Command { return pubCmd("public:a", `{}`) }, want: "ok"},
				{cmd: func() *clientpb.Command { return pubCmd("public:b", `{}`) }, want: "ok"},
				{cmd: func() *clientpb.Command { return pubCmd("public:c", `{}`) }, want: "111 temporary"}},
		},
		{
			name:  "an override without buckets uses default, not the method's buckets",
			rl:    CommandRateLimit{Default: perSecond(2), Commands: map[string]CommandBuckets{"rpc": {Buckets: perSecond(5), Overrides: map[string][]RateBucket{"ping": nil}}}},
			steps: join(rpcN(2, "ok"), rpcN(1, "111 temporary")),
		},
		{
			name:  "dry run refuses nothing",
			rl:    CommandRateLimit{DryRun: true, DisconnectAfterRefusals: 1, Default: perSecond(1)},
			steps: rpcN(4, "ok"),
		},
		{
			name:  "methods without buckets are not limited",
			rl:    CommandRateLimit{Commands: map[string]CommandBuckets{"publish": {Buckets: perSecond(1)}}},
			steps: rpcN(5, "ok"),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, clk := rateLimitedEnv(t, tt.rl)
			tc := env.connectUser(t, "alice")
			for i, s := range tt.steps {
				clk.advance(s.advance)
				if got := tc.outcome(s.cmd()); got != s.want {
					t.Fatalf("step %d (%v): got %q, want %q", i, s.cmd(), got, s.want)
				}
			}
		})
	}
}

func TestCommandRateLimitCountsRefusals(t *testing.T) {
	for _, dry := range []bool{false, true} {
		t.Run("dry_run="+boolLabel(dry), func(t *testing.T) {
			env, _ := rateLimitedEnv(t, CommandRateLimit{DryRun: dry, Default: perSecond(1)})
			tc := env.connectUser(t, "alice")
			for range 3 {
				tc.call(rpcCmd("ping", ""))
			}
			if got := overLimit(t, env, "rpc", dry); got != 2 {
				t.Fatalf("counted %v refusals of 3 pings at 1/s, want 2", got)
			}
			if got := overLimit(t, env, "rpc", !dry); got != 0 {
				t.Fatalf("counted %v under the other dry_run label", got)
			}
		})
	}
}

func TestCommandRateLimitDisconnects(t *testing.T) {
	rl := CommandRateLimit{DisconnectAfterRefusals: 3, Commands: map[string]CommandBuckets{"rpc": {Buckets: perSecond(1)}}}
	t.Run("after refusals in a row", func(t *testing.T) {
		env, _ := rateLimitedEnv(t, rl)
		tc := env.connectUser(t, "alice")
		for i, want := range []string{"ok", "111 temporary", "111 temporary"} {
			if got := tc.outcome(rpcCmd("ping", "")); got != want {
				t.Fatalf("command %d: %q, want %q", i, got, want)
			}
		}
		if code := tc.disconnectCode(rpcCmd("ping", "")); code != int(DisconnectTooManyRequests.Code) {
			t.Fatalf("third refusal in a row closed with %d, want 3013", code)
		}
		if reason := tc.tr.closeReasonText(); reason != "too many requests" {
			t.Fatalf("close reason %q", reason)
		}
	})
	t.Run("an allowed command starts the count again", func(t *testing.T) {
		env, clk := rateLimitedEnv(t, rl)
		tc := env.connectUser(t, "alice")
		for round := range 3 {
			clk.advance(time.Second)
			for i, want := range []string{"ok", "111 temporary", "111 temporary"} {
				if got := tc.outcome(rpcCmd("ping", "")); got != want {
					t.Fatalf("round %d command %d: %q, want %q", round, i, got, want)
				}
			}
		}
	})
}

// TestCommandRateLimitSparesOthers: buckets are per connection, so one
// client past its limit leaves another of the same user served.
func TestCommandRateLimitSparesOthers(t *testing.T) {
	env, _ := rateLimitedEnv(t, CommandRateLimit{Default: perSecond(1)})
	flood := env.connectUser(t, "alice")
	other := env.connectUser(t, "alice")
	flood.ok(rpcCmd("ping", ""))
	if got := flood.outcome(rpcCmd("ping", "")); got != "111 temporary" {
		t.Fatalf("second ping: %q", got)
	}
	if got := other.outcome(rpcCmd("ping", "")); got != "ok" {
		t.Fatalf("the other connection got %q", got)
	}
}

// TestCommandRateLimitExempt: connect, pongs and unsubscribe are never
// refused, so a limited client stays connected and can always leave a
// channel.
func TestCommandRateLimitExempt(t *testing.T) {
	t.Run("connect draws no token", func(t *testing.T) {
		env, _ := rateLimitedEnv(t, CommandRateLimit{Total: perSecond(1)})
		tc := env.connectUser(t, "alice")
		if got := tc.outcome(rpcCmd("ping", "")); got != "ok" {
			t.Fatalf("first command after connect: %q", got)
		}
	})
	t.Run("pongs keep a limited client connected", func(t *testing.T) {
		env := newHubEnv(t, func(c *Config, _ *Proxy) {
			c.Client.PingInterval = 30 * time.Millisecond
			c.Client.PongTimeout = 30 * time.Millisecond
			c.CommandRateLimit = &CommandRateLimit{Total: perSecond(1), DisconnectAfterRefusals: 1000}
		})
		clk := &fakeClock{}
		env.node.now = clk.now
		tc := env.newClient(t, protocol.TypeProtobuf)
		tc.ok(connectCmd(connToken(t, "alice", 0, nil)))
		tc.ok(rpcCmd("ping", ""))
		pings := func() int { // called by waitUntil, with the transport's lock held
			n := 0
			for _, r := range tc.tr.replies {
				if r.Id == 0 && r.Push == nil && r.Error == nil && r.Connect == nil {
					n++
				}
			}
			return n
		}
		for i := 1; i <= 3; i++ {
			if got := tc.outcome(rpcCmd("ping", "")); got != "111 temporary" {
				t.Fatalf("command while limited: %q", got)
			}
			tc.tr.waitUntil(t, "ping", func() bool { return pings() >= i })
			if !tc.send(&clientpb.Command{}) {
				t.Fatalf("pong %d ended the session", i)
			}
		}
		if closed, code := tc.tr.isClosed(); closed {
			t.Fatalf("closed with %d although every ping got its pong", code)
		}
	})
	t.Run("unsubscribe is counted but never refused", func(t *testing.T) {
		env, _ := rateLimitedEnv(t, CommandRateLimit{Default: perSecond(5), Commands: map[string]CommandBuckets{"unsubscribe": {Buckets: perSecond(1)}}})
		tc := env.connectUser(t, "alice")
		for _, ch := range []string{"public:a", "public:b", "public:c"} {
			tc.ok(subCmd(ch))
		}
		for _, ch := range []string{"public:a", "public:b", "public:c"} {
			if got := tc.outcome(&clientpb.Command{Unsubscribe: &clientpb.UnsubscribeRequest{Channel: ch}}); got != "ok" {
				t.Fatalf("unsubscribe %s: %q", ch, got)
			}
		}
		if got := overLimit(t, env, "unsubscribe", false); got != 2 {
			t.Fatalf("counted %v unsubscribes over the limit, want 2", got)
		}
	})
}
