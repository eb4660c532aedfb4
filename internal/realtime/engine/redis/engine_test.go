package redis

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/spindle-rt/spindle/internal/testredis"

	"github.com/spindle-rt/spindle/internal/realtime/engine"
)

// events records what an engine delivered, for the multi-node tests.
type events struct {
	mu      sync.Mutex
	pubs    map[string][]string
	joins   map[string][]string
	control []string
}

func newEvents() *events {
	return &events{pubs: map[string][]string{}, joins: map[string][]string{}}
}

func (r *events) HandlePublication(ch string, pub *engine.Publication, _ engine.StreamPosition) error {
	r.mu.Lock()
	r.pubs[ch] = append(r.pubs[ch], string(pub.Data))
	r.mu.Unlock()
	return nil
}

func (r *events) HandleJoin(ch string, info *engine.ClientInfo) error {
	r.mu.Lock()
	r.joins[ch] = append(r.joins[ch], info.Client)
	r.mu.Unlock()
	return nil
}

func (r *events) HandleLeave(string, *engine.ClientInfo) error { return nil }

func (r *events) HandleControl(data []byte) error {
	r.mu.Lock()
	r.control = append(r.control, string(data))
	r.mu.Unlock()
	return nil
}

func (r *events) pubsOf(ch string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.pubs[ch]...)
}

func (r *events) controls() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.control...)
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// node starts an engine with its own recorder, as one server process
// would.
func node(t *testing.T, o Options) (*Engine, *events) {
	t.Helper()
	e := newTestEngine(t, o)
	rec := newEvents()
	if err := e.Run(rec); err != nil {
		t.Fatalf("run: %v", err)
	}
	return e, rec
}

// TestTwoNodes runs two engines on one Redis, as two server processes:
// publications, joins, history and presence made on one are seen on the
// other, and control messages reach every node or only the named one.
func TestTwoNodes(t *testing.T) {
	srv := testredis.Start(t)
	prefix := testPrefix()
	a, recA := node(t, Options{Addresses: []string{srv.Addr()}, Prefix: prefix, NodeID: "node-a"})
	b, recB := node(t, Options{Addresses: []string{srv.Addr()}, Prefix: prefix, NodeID: "node-b"})
	ctx := context.Background()

	if err := b.Subscribe("chat"); err != nil {
		t.Fatalf("subscribe: %v", err)
	}
	opts := engine.PublishOptions{HistorySize: 10, HistoryTTL: time.Minute}
	sp, _, err := a.Publish(ctx, "chat", []byte("from a"), opts)
	if err != nil {
		t.Fatalf("publish: %v", err)
	}
	if err := a.PublishJoin(ctx, "chat", &engine.ClientInfo{Client: "c1"}); err != nil {
		t.Fatalf("join: %v", err)
	}
	eventually(t, "publication on node b", func() bool { return len(recB.pubsOf("chat")) == 1 })
	if got := recB.pubsOf("chat"); got[0] != "from a" {
		t.Errorf("node b got %q", got)
	}
	if got := recA.pubsOf("chat"); len(got) != 0 {
		t.Errorf("node a, not subscribed, got %q", got)
	}
	eventually(t, "join on node b", func() bool {
		recB.mu.Lock()
		defer recB.mu.Unlock()
		return len(recB.joins["chat"]) == 1
	})

	pubs, top, err := b.History(ctx, "chat", engine.HistoryOptions{Limit: -1})
	if err != nil || len(pubs) != 1 || top != sp {
		t.Fatalf("history on node b = %d pubs, top %+v, %v; want 1 pub at %+v", len(pubs), top, err, sp)
	}

	// Presence added on each node is seen whole on both.
	if err := a.AddPresence(ctx, "chat", "c1", &engine.ClientInfo{User: "u1", Client: "c1"}); err != nil {
		t.Fatal(err)
	}
	if err := b.AddPresence(ctx, "chat", "c2", &engine.ClientInfo{User: "u2", Client: "c2"}); err != nil {
		t.Fatal(err)
	}
	for name, e := range map[string]*Engine{"a": a, "b": b} {
		p, err := e.Presence(ctx, "chat")
		if err != nil || len(p) != 2 || p["c1"].User != "u1" || p["c2"].User != "u2" {
			t.Errorf("presence on node %s = %v, %v", name, p, err)
		}
		if s, err := e.PresenceStats(ctx, "chat"); err != nil || s != (engine.PresenceStats{NumClients: 2, NumUsers: 2}) {
			t.Errorf("stats on node %s = %+v, %v", name, s, err)
		}
	}

	// Broadcast control reaches both nodes; addressed control only one.
	if err := a.PublishControl(ctx, []byte("all"), ""); err != nil {
		t.Fatal(err)
	}
	if err := a.PublishControl(ctx, []byte("only b"), "node-b"); err != nil {
		t.Fatal(err)
	}
	if err := b.PublishControl(ctx, []byte("only a"), a.NodeID()); err != nil {
		t.Fatal(err)
	}
	eventually(t, "control on both nodes", func() bool { return len(recA.controls()) == 2 && len(recB.controls()) == 2 })
	time.Sleep(50 * time.Millisecond)
	wantA, wantB := map[string]bool{"all": true, "only a": true}, map[string]bool{"all": true, "only b": true}
	for _, c := range recA.controls() {
		if !wantA[c] {
			t.Errorf("node a got control %q", c)
		}
	}
	for _, c := range recB.controls() {
		if !wantB[c] {
			t.Errorf("node b got control %q", c)
		}
	}
	if n := len(recA.controls()) + len(recB.controls()); n != 4 {
		t.Errorf("%d control deliveries, want 4", n)
	}
}

// TestRedisRestart crashes Redis and starts an empty one on the same port:
// calls fail with ErrUnavailable while it is down, and afterwards the
// engine has resubscribed by itself, so a new publish is delivered.
func TestRedisRestart(t *testing.T) {
	srv := testredis.Start(t)
	e, rec := node(t, Options{Addresses: []string{srv.Addr()}, ConnectTimeout: 200 * time.Millisecond, IOTimeout: time.Second})
	ctx := context.Background()
	if err := e.Subscribe("room"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.Publish(ctx, "room", []byte("before"), engine.PublishOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "delivery before restart", func() bool { return len(rec.pubsOf("room")) == 1 })

	srv.Stop()
	start := time.Now()
	_, _, err := e.Publish(ctx, "room", []byte("lost"), engine.PublishOptions{HistorySize: 1, HistoryTTL: time.Minute})
	if !errors.Is(err, engine.ErrUnavailable) {
		t.Errorf("publish with Redis down: %v, want ErrUnavailable", err)
	}
	if _, _, err := e.History(ctx, "room", engine.HistoryOptions{}); !errors.Is(err, engine.ErrUnavailable) {
		t.Errorf("history with Redis down: %v, want ErrUnavailable", err)
	}
	if err := e.AddPresence(ctx, "room", "c", &engine.ClientInfo{}); !errors.Is(err, engine.ErrUnavailable) {
		t.Errorf("add presence with Redis down: %v, want ErrUnavailable", err)
	}
	if err := e.Subscribe("other"); !errors.Is(err, engine.ErrUnavailable) {
		t.Errorf("subscribe with Redis down: %v, want ErrUnavailable", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("failing calls took %v, want them to fail fast", d)
	}

	srv.Start()
	// Publishing right after the restart may race the resubscription;
	// keep publishing until one arrives, as a client would retry.
	eventually(t, "delivery after restart", func() bool {
		_, _, _ = e.Publish(ctx, "room", []byte("after"), engine.PublishOptions{})
		time.Sleep(20 * time.Millisecond)
		got := rec.pubsOf("room")
		return len(got) > 1 && got[len(got)-1] == "after"
	})
	// The stream was lost with the server: a new epoch starts at 1.
	sp, _, err := e.Publish(ctx, "room", []byte("x"), engine.PublishOptions{HistorySize: 5, HistoryTTL: time.Minute})
	if err != nil || sp.Offset != 1 {
		t.Errorf("publish with history after restart = %+v, %v; want offset 1", sp, err)
	}
	// Control still works: its subscription came back too.
	eventually(t, "control after restart", func() bool {
		_ = e.PublishControl(ctx, []byte("ctl"), "")
		time.Sleep(20 * time.Millisecond)
		return len(rec.controls()) > 0
	})
}

// TestNotRunning checks the calls that need Run before it, and that a
// closed engine refuses work with ErrUnavailable.
func TestNotRunning(t *testing.T) {
	srv := testredis.Start(t)
	e := newTestEngine(t, Options{Addresses: []string{srv.Addr()}})
	if err := e.Subscribe("c"); err == nil {
		t.Error("subscribe before Run succeeded")
	}
	if err := e.Run(nil); err == nil {
		t.Error("Run(nil) succeeded")
	}
	if err := e.Run(newEvents()); err != nil {
		t.Fatalf("run: %v", err)
	}
	if err := e.Run(newEvents()); err == nil {
		t.Error("second Run succeeded")
	}
	if err := e.Close(context.Background()); err != nil {
		t.Fatalf("close: %v", err)
	}
	if _, _, err := e.Publish(context.Background(), "c", nil, engine.PublishOptions{}); !errors.Is(err, engine.ErrUnavailable) {
		t.Errorf("publish after close: %v, want ErrUnavailable", err)
	}
	if err := e.Subscribe("c"); !errors.Is(err, engine.ErrUnavailable) {
		t.Errorf("subscribe after close: %v, want ErrUnavailable", err)
	}
}

// TestNewUnreachable: with nothing listening New fails with
// ErrUnavailable instead of hanging.
func TestNewUnreachable(t *testing.T) {
	testredis.Require(t)
	addr := "127.0.0.1:" + strconv.Itoa(testredis.FreePort(t))
	_, err := New(Options{Addresses: []string{addr}, ConnectTimeout: 200 * time.Millisecond})
	if !errors.Is(err, engine.ErrUnavailable) {
		t.Fatalf("New against a closed port: %v, want ErrUnavailable", err)
	}
}

// TestScriptsReloaded: Redis forgets scripts on restart or SCRIPT FLUSH;
// publish and the MULTI-wrapped history read must load them again.
func TestScriptsReloaded(t *testing.T) {
	srv := testredis.Start(t)
	e, _ := node(t, Options{Addresses: []string{srv.Addr()}})
	ctx := context.Background()
	opts := engine.PublishOptions{HistorySize: 10, HistoryTTL: time.Minute}
	for i := range 3 {
		if _, err := testredis.Command(srv.Addr(), "SCRIPT", "FLUSH"); err != nil {
			t.Fatal(err)
		}
		sp, _, err := e.Publish(ctx, "c", []byte(strconv.Itoa(i)), opts)
		if err != nil || sp.Offset != uint64(i+1) {
			t.Fatalf("publish %d after SCRIPT FLUSH = %+v, %v", i, sp, err)
		}
		if _, err := testredis.Command(srv.Addr(), "SCRIPT", "FLUSH"); err != nil {
			t.Fatal(err)
		}
		pubs, top, err := e.History(ctx, "c", engine.HistoryOptions{Limit: -1})
		if err != nil || len(pubs) != i+1 || top != sp {
			t.Fatalf("history after SCRIPT FLUSH = %d pubs top %+v, %v; want %d at %+v", len(pubs), top, err, i+1, sp)
		}
	}
}

// TestManySubscribes subscribes hundreds of channels at once, which the
// engine batches into few SUBSCRIBE commands, and checks every one is
// live and that unsubscribing them all stops delivery.
func TestManySubscribes(t *testing.T) {
	srv := testredis.Start(t)
	e, rec := node(t, Options{Addresses: []string{srv.Addr()}})
	ctx := context.Background()
	const n = 600
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			if err := e.Subscribe("ch" + strconv.Itoa(i)); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("subscribe: %v", err)
	}
	for i := range n {
		if _, _, err := e.Publish(ctx, "ch"+strconv.Itoa(i), []byte("x"), engine.PublishOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, "a delivery on every channel", func() bool {
		for i := range n {
			if len(rec.pubsOf("ch"+strconv.Itoa(i))) != 1 {
				return false
			}
		}
		return true
	})
	for i := range n {
		if err := e.Unsubscribe("ch" + strconv.Itoa(i)); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, "Redis to drop the subscriptions", func() bool {
		out, err := testredis.Command(srv.Addr(), "PUBSUB", "CHANNELS", e.opts.Prefix+".client.ch*")
		return err == nil && out == "*0"
	})
	for i := range n {
		if _, _, err := e.Publish(ctx, "ch"+strconv.Itoa(i), []byte("y"), engine.PublishOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(50 * time.Millisecond)
	for i := range n {
		if got := rec.pubsOf("ch" + strconv.Itoa(i)); len(got) != 1 {
			t.Fatalf("channel %d got %q after unsubscribe", i, got)
		}
	}
}

// TestErrorKinds: only failures of the store itself count as
// unavailability; a broken key or a caller giving up does not.
func TestErrorKinds(t *testing.T) {
	srv := testredis.Start(t)
	e, _ := node(t, Options{Addresses: []string{srv.Addr()}})
	p := e.route("broken")
	if _, err := testredis.Command(srv.Addr(), "SET", p.keys.historyMeta("broken"), "not a hash"); err != nil {
		t.Fatal(err)
	}
	_, _, err := e.Publish(context.Background(), "broken", []byte("x"), engine.PublishOptions{HistorySize: 1, HistoryTTL: time.Minute})
	if err == nil || errors.Is(err, engine.ErrUnavailable) {
		t.Errorf("publish onto a wrong-type key: %v, want a non-unavailable error", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := e.History(ctx, "c", engine.HistoryOptions{}); !errors.Is(err, context.Canceled) || errors.Is(err, engine.ErrUnavailable) {
		t.Errorf("history with a canceled context: %v, want context.Canceled only", err)
	}
	short, cancel2 := context.WithTimeout(context.Background(), time.Nanosecond)
	defer cancel2()
	time.Sleep(time.Millisecond)
	if err := e.AddPresence(short, "c", "x", nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("add presence with an expired deadline: %v, want DeadlineExceeded", err)
	}
}

// TestReconnectBackoff: with every server down, PUB/SUB connections are
// retried with growing delays, not in a loop that burns a CPU.
func TestReconnectBackoff(t *testing.T) {
	a, b := testredis.Start(t), testredis.Start(t)
	e, _ := node(t, Options{Addresses: []string{a.Addr(), b.Addr()}, ConnectTimeout: 100 * time.Millisecond})
	a.Stop()
	b.Stop()
	before := make([]int64, len(e.subs))
	for i, s := range e.subs {
		before[i] = s.connects.Load()
	}
	time.Sleep(600 * time.Millisecond)
	for i, s := range e.subs {
		// 20+40+80+160+320 ms of backoff fit 5 attempts in 600 ms.
		if n := s.connects.Load() - before[i]; n > 8 {
			t.Errorf("subscriber %d tried to connect %d times in 600ms", i, n)
		}
	}
}
