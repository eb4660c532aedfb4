package node

import (
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/spindle-rt/spindle/proto/clientpb"
)

// CommandRateLimit bounds how many commands one connection may send, as
// Centrifugo PRO's client.rate_limit.client_command does: every limited
// command draws a token from the buckets of its method (or those of a
// configured namespace or RPC method, or Default) and from Total. A command
// that finds any of them empty is answered 111 "too many requests"
// (temporary: the SDKs retry subscribe and refreshes by themselves) and runs
// nothing. Buckets are per connection, so one client's flood never slows
// another.
//
// Connect is never limited (it is the first command of a connection, whose
// buckets are full), nor are pings and pongs: a client answering pings must
// stay connected however many commands it sends. Unsubscribe is counted but
// never refused, as in PRO: an SDK treats a failed unsubscribe as fatal and
// reconnects, which costs more than the unsubscribe.
type CommandRateLimit struct {
	// DryRun runs every command anyway; refusals are only counted (the
	// metric's dry_run label), to size limits against real traffic.
	DryRun bool
	// DisconnectAfterRefusals closes the connection with 3013 "too many
	// requests" when this many commands in a row were refused with no
	// command allowed in between — a client that ignores 111 and keeps
	// retrying. The SDKs reconnect after their back-off. 0 never
	// disconnects. (A Spindle addition; PRO documents no such option.)
	DisconnectAfterRefusals int
	// Total buckets are drawn from by every limited command.
	Total []RateBucket
	// Default buckets apply to each method without buckets of its own, one
	// set per method (not a combined cap: that is Total).
	Default []RateBucket
	// Commands are the methods configured explicitly, by protocol method
	// name: subscribe, unsubscribe, publish, history, presence,
	// presence_stats, refresh, sub_refresh, rpc.
	Commands map[string]CommandBuckets
}

// CommandBuckets are one method's own limits.
type CommandBuckets struct {
	// Buckets replace Default for the method; empty means Default.
	Buckets []RateBucket
	// Overrides replace Buckets for the channels of one namespace ("" is
	// channels without a namespace) or, for rpc, for one method as the
	// client sends it. An empty slice means Default.
	Overrides map[string][]RateBucket
}

// RateBucket lets Rate commands through per Interval, refilling
// continuously, with a burst of Rate.
type RateBucket struct {
	Interval time.Duration
	Rate     int
}

// rateLimitedMethods are the commands the limit applies to.
var rateLimitedMethods = map[string]bool{
	"subscribe": true, "unsubscribe": true, "publish": true, "history": true, "presence": true,
	"presence_stats": true, "refresh": true, "sub_refresh": true, "rpc": true,
}

// verdict is what the limiter decided about one command.
type verdict uint8

const (
	allowed verdict = iota
	refused
	disconnected
)

// commandLimiter holds one connection's buckets. Bucket sets are built on a
// method's first use, so a connection that never publishes holds no
// publish bucket.
//
// Lock order: commandLimiter.mu is a leaf, taken by the goroutine running a
// command and nothing else.
type commandLimiter struct {
	cfg     *CommandRateLimit
	now     func() time.Time
	metrics *Metrics

	mu     sync.Mutex
	total  bucketSet
	sets   map[limitKey]bucketSet
	inARow int // commands refused since the last allowed one
}

// limitKey names one set of buckets: a method, and the namespace or RPC
// method of an override (override false: the method's own buckets).
type limitKey struct {
	method   string
	scope    string
	override bool
}

func newCommandLimiter(cfg *CommandRateLimit, now func() time.Time, m *Metrics) *commandLimiter {
	return &commandLimiter{cfg: cfg, now: now, metrics: m, total: newBucketSet(cfg.Total), sets: map[limitKey]bucketSet{}}
}

// check draws the tokens of one command, or none when any bucket is empty
// (a refused command costs nothing, so a client that backs off recovers at
// the refill rate). scope is the command's namespace or RPC method.
func (l *commandLimiter) check(method, scope string) verdict {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	own := l.setFor(method, scope)
	if method == "unsubscribe" {
		over := !own.available(now)
		own.take(now)
		l.total.take(now)
		if over {
			l.metrics.commandsOverLimit.WithLabelValues(method, boolLabel(l.cfg.DryRun)).Inc()
		}
		return allowed
	}
	if own.available(now) && l.total.available(now) {
		own.take(now)
		l.total.take(now)
		l.inARow = 0
		return allowed
	}
	l.metrics.commandsOverLimit.WithLabelValues(method, boolLabel(l.cfg.DryRun)).Inc()
	if l.cfg.DryRun {
		return allowed
	}
	l.inARow++
	if n := l.cfg.DisconnectAfterRefusals; n > 0 && l.inARow >= n {
		return disconnected
	}
	return refused
}

// setFor returns (building it on first use) the buckets that limit method
// for scope. Callers hold l.mu.
func (l *commandLimiter) setFor(method, scope string) bucketSet {
	key := limitKey{method: method}
	cb, explicit := l.cfg.Commands[method]
	buckets := l.cfg.Default
	if explicit && len(cb.Buckets) > 0 {
		buckets = cb.Buckets
	}
	if ob, ok := cb.Overrides[scope]; ok {
		key.scope, key.override = scope, true
		buckets = l.cfg.Default
		if len(ob) > 0 {
			buckets = ob
		}
	}
	s, ok := l.sets[key]
	if !ok {
		s = newBucketSet(buckets)
		l.sets[key] = s
	}
	return s
}

// bucketSet is a list of token buckets that must all allow a command.
type bucketSet []*rate.Limiter

func newBucketSet(bs []RateBucket) bucketSet {
	s := make(bucketSet, 0, len(bs))
	for _, b := range bs {
		if b.Rate <= 0 || b.Interval <= 0 {
			continue // the wiring refuses these; never divide by zero here
		}
		s = append(s, rate.NewLimiter(rate.Limit(float64(b.Rate)/b.Interval.Seconds()), b.Rate))
	}
	return s
}

func (s bucketSet) available(now time.Time) bool {
	for _, l := range s {
		if l.TokensAt(now) < 1 {
			return false
		}
	}
	return true
}

// take draws one token from every bucket that has one.
func (s bucketSet) take(now time.Time) {
	for _, l := range s {
		l.AllowN(now, 1)
	}
}

// rateLimitScope is what an override can match in cmd: the channel's
// namespace, or the RPC method as sent. A channel of an unknown namespace
// matches no override (the command fails with 102 anyway).
func (n *Node) rateLimitScope(cmd *clientpb.Command) string {
	if cmd.Rpc != nil {
		return cmd.Rpc.Method
	}
	// One request is set; the getters of the others (nil) return "".
	ch := ""
	for _, r := range []interface{ GetChannel() string }{cmd.Subscribe, cmd.Unsubscribe, cmd.Publish,
		cmd.History, cmd.Presence, cmd.PresenceStats, cmd.SubRefresh} {
		if c := r.GetChannel(); c != "" {
			ch = c
			break
		}
	}
	info, err := n.settings().rules.lookup(ch)
	if err != nil {
		return "\x00unknown" // matches no configured namespace
	}
	return info.ns.name
}

// rateLimit decides whether cmd may run; nil means it may. The error is
// what the client gets instead: 111, or 3013 after too many refusals.
func (c *Client) rateLimit(method string, cmd *clientpb.Command) error {
	if c.limiter == nil || !rateLimitedMethods[method] {
		return nil
	}
	// The scope costs a namespace lookup; only overrides need it.
	scope := ""
	if len(c.limiter.cfg.Commands[method].Overrides) > 0 {
		scope = c.n.rateLimitScope(cmd)
	}
	switch c.limiter.check(method, scope) {
	case refused:
		return ErrorTooManyRequests
	case disconnected:
		return DisconnectTooManyRequests
	}
	return nil
}
