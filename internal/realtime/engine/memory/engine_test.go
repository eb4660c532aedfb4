package memory

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/spindle-rt/spindle/internal/realtime/engine"
)

// newClocked returns an engine on a fake clock with a sweeper too slow to
// interfere; tests call sweep directly.
func newClocked(t *testing.T, opts Options) (*Engine, *fakeClock) {
	t.Helper()
	clk := newFakeClock()
	opts.Now = clk.Now
	if opts.SweepInterval == 0 {
		opts.SweepInterval = time.Hour
	}
	e := New(opts)
	t.Cleanup(func() { _ = e.Close(context.Background()) })
	return e, clk
}

func numChannels(e *Engine) int {
	n := 0
	for i := range e.shards {
		sh := &e.shards[i]
		sh.mu.Lock()
		n += len(sh.channels)
		sh.mu.Unlock()
	}
	return n
}

func mustHistory(t *testing.T, e *Engine, ch string, opts engine.HistoryOptions) ([]*engine.Publication, engine.StreamPosition) {
	t.Helper()
	pubs, sp, err := e.History(context.Background(), ch, opts)
	if err != nil {
		t.Fatalf("history: %v", err)
	}
	return pubs, sp
}

func mustPublish(t *testing.T, e *Engine, ch string, opts engine.PublishOptions) (engine.StreamPosition, bool) {
	t.Helper()
	sp, suppressed, err := e.Publish(context.Background(), ch, []byte("x"), opts)
	if err != nil {
		t.Fatalf("publish: %v", err)
	}
	return sp, suppressed
}

func TestHistoryLifetimes(t *testing.T) {
	e, clk := newClocked(t, Options{})
	opts := engine.PublishOptions{HistorySize: 10, HistoryTTL: 10 * time.Second, HistoryMetaTTL: time.Minute}
	sp, _ := mustPublish(t, e, "c", opts)

	steps := []struct {
		advance   time.Duration
		wantPubs  int
		sameEpoch bool
		wantTop   uint64
	}{
		{10*time.Second - time.Millisecond, 1, true, 1},
		{time.Millisecond, 0, true, 1}, // history TTL reached exactly
		{50*time.Second - time.Millisecond, 0, true, 1},
		{time.Millisecond, 0, false, 0}, // meta TTL reached exactly
	}
	for i, s := range steps {
		clk.Advance(s.advance)
		pubs, top := mustHistory(t, e, "c", engine.HistoryOptions{Limit: -1})
		if len(pubs) != s.wantPubs || (top.Epoch == sp.Epoch) != s.sameEpoch || top.Offset != s.wantTop {
			t.Fatalf("step %d: %d pubs top %+v; want %d pubs, same epoch %v, offset %d",
				i, len(pubs), top, s.wantPubs, s.sameEpoch, s.wantTop)
		}
	}
}

func TestMetaTTLRestartsOnPublish(t *testing.T) {
	e, clk := newClocked(t, Options{HistoryMetaTTL: time.Hour})
	opts := engine.PublishOptions{HistorySize: 10, HistoryTTL: time.Second}
	sp, _ := mustPublish(t, e, "c", opts)
	clk.Advance(50 * time.Minute)
	mustPublish(t, e, "c", opts)
	clk.Advance(50 * time.Minute)
	if _, top := mustHistory(t, e, "c", engine.HistoryOptions{}); top.Epoch != sp.Epoch || top.Offset != 2 {
		t.Fatalf("stream lost %v after the last publish, before the default meta TTL: %+v", 50*time.Minute, top)
	}
	clk.Advance(10 * time.Minute)
	if _, top := mustHistory(t, e, "c", engine.HistoryOptions{}); top.Epoch == sp.Epoch {
		t.Fatal("stream kept past the default meta TTL")
	}
}

func TestHistoryCallDoesNotExtendMeta(t *testing.T) {
	e, clk := newClocked(t, Options{})
	_, first := mustHistory(t, e, "c", engine.HistoryOptions{MetaTTL: time.Minute})
	clk.Advance(59 * time.Second)
	if _, top := mustHistory(t, e, "c", engine.HistoryOptions{MetaTTL: time.Minute}); top != first {
		t.Fatalf("stream changed before its meta TTL: %+v vs %+v", top, first)
	}
	clk.Advance(time.Second)
	if _, top := mustHistory(t, e, "c", engine.HistoryOptions{MetaTTL: time.Minute}); top.Epoch == first.Epoch {
		t.Fatal("a history call extended the meta TTL of an existing stream")
	}
}

func TestPresenceTTL(t *testing.T) {
	cases := []struct {
		name string
		opt  time.Duration
		want time.Duration
	}{
		{"default", 0, DefaultPresenceTTL},
		{"configured", 5 * time.Second, 5 * time.Second},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e, clk := newClocked(t, Options{PresenceTTL: tc.opt})
			ctx := context.Background()
			if err := e.AddPresence(ctx, "c", "cl", &engine.ClientInfo{Client: "cl"}); err != nil {
				t.Fatal(err)
			}
			clk.Advance(tc.want - time.Millisecond)
			if s, _ := e.PresenceStats(ctx, "c"); s.NumClients != 1 {
				t.Fatalf("entry gone before the TTL: %+v", s)
			}
			clk.Advance(time.Millisecond)
			if p, _ := e.Presence(ctx, "c"); len(p) != 0 {
				t.Fatalf("entry kept at the TTL: %v", p)
			}
		})
	}
}

func TestIdempotentResultTTLDefault(t *testing.T) {
	e, clk := newClocked(t, Options{IdempotentResultTTL: time.Minute})
	opts := engine.PublishOptions{HistorySize: 10, HistoryTTL: time.Hour, IdempotencyKey: "k"}
	mustPublish(t, e, "c", opts)
	clk.Advance(time.Minute - time.Millisecond)
	if _, suppressed := mustPublish(t, e, "c", opts); !suppressed {
		t.Fatal("repeat within the default idempotent TTL not suppressed")
	}
	clk.Advance(time.Millisecond)
	if sp, suppressed := mustPublish(t, e, "c", opts); suppressed || sp.Offset != 2 {
		t.Fatalf("repeat after the TTL: %+v suppressed=%v", sp, suppressed)
	}
}

func TestSweepForgetsExpiredChannels(t *testing.T) {
	e, clk := newClocked(t, Options{PresenceTTL: time.Second, IdempotentResultTTL: time.Second})
	ctx := context.Background()
	mustPublish(t, e, "hist", engine.PublishOptions{HistorySize: 1, HistoryTTL: time.Second, HistoryMetaTTL: 2 * time.Second})
	mustPublish(t, e, "idem", engine.PublishOptions{IdempotencyKey: "k"})
	if err := e.AddPresence(ctx, "pres", "c", nil); err != nil {
		t.Fatal(err)
	}
	if err := e.Subscribe("sub"); err != nil {
		t.Fatal(err)
	}
	if n := numChannels(e); n != 4 {
		t.Fatalf("%d channel states before expiry, want 4", n)
	}
	clk.Advance(time.Second)
	e.sweep()
	if n := numChannels(e); n != 2 {
		t.Fatalf("%d channel states after presence/idempotency expiry, want 2 (stream meta and subscription)", n)
	}
	clk.Advance(time.Second)
	e.sweep()
	if n := numChannels(e); n != 1 {
		t.Fatalf("%d channel states after meta expiry, want only the subscribed one", n)
	}
}

func TestSweeperGoroutineRuns(t *testing.T) {
	clk := newFakeClock()
	e := New(Options{Now: clk.Now, PresenceTTL: time.Second, SweepInterval: 5 * time.Millisecond})
	defer func() { _ = e.Close(context.Background()) }()
	if err := e.AddPresence(context.Background(), "c", "cl", nil); err != nil {
		t.Fatal(err)
	}
	clk.Advance(2 * time.Second)
	deadline := time.Now().Add(2 * time.Second)
	for numChannels(e) != 0 {
		if time.Now().After(deadline) {
			t.Fatal("sweeper did not purge the expired channel")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestStateDroppedWhenEmpty(t *testing.T) {
	e, _ := newClocked(t, Options{})
	ctx := context.Background()
	steps := []struct {
		name string
		do   func() error
		want int
	}{
		{"publish to idle channel keeps nothing", func() error {
			_, _, err := e.Publish(ctx, "idle", []byte("x"), engine.PublishOptions{})
			return err
		}, 0},
		{"subscribe", func() error { return e.Subscribe("s") }, 1},
		{"unsubscribe", func() error { return e.Unsubscribe("s") }, 0},
		{"add presence", func() error { return e.AddPresence(ctx, "p", "c", nil) }, 1},
		{"remove presence", func() error { return e.RemovePresence(ctx, "p", "c", "") }, 0},
		{"unsubscribe unknown", func() error { return e.Unsubscribe("nope") }, 0},
		{"remove unknown presence", func() error { return e.RemovePresence(ctx, "nope", "c", "") }, 0},
	}
	for _, s := range steps {
		if err := s.do(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if n := numChannels(e); n != s.want {
			t.Fatalf("%s: %d channel states, want %d", s.name, n, s.want)
		}
	}
}

func TestClosedEngineRefusesCalls(t *testing.T) {
	e := New(Options{})
	if err := e.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	calls := map[string]func() error{
		"run":         func() error { return e.Run(&countingHandler{}) },
		"subscribe":   func() error { return e.Subscribe("c") },
		"unsubscribe": func() error { return e.Unsubscribe("c") },
		"publish": func() error {
			_, _, err := e.Publish(ctx, "c", nil, engine.PublishOptions{})
			return err
		},
		"join":    func() error { return e.PublishJoin(ctx, "c", nil) },
		"leave":   func() error { return e.PublishLeave(ctx, "c", nil) },
		"control": func() error { return e.PublishControl(ctx, nil, "") },
		"history": func() error {
			_, _, err := e.History(ctx, "c", engine.HistoryOptions{})
			return err
		},
		"remove history": func() error { return e.RemoveHistory(ctx, "c") },
		"presence": func() error {
			_, err := e.Presence(ctx, "c")
			return err
		},
		"presence stats": func() error {
			_, err := e.PresenceStats(ctx, "c")
			return err
		},
		"add presence":    func() error { return e.AddPresence(ctx, "c", "cl", nil) },
		"remove presence": func() error { return e.RemovePresence(ctx, "c", "cl", "") },
	}
	for name, call := range calls {
		if err := call(); !errors.Is(err, ErrClosed) || !errors.Is(err, engine.ErrUnavailable) {
			t.Errorf("%s after close: %v, want ErrClosed wrapping ErrUnavailable", name, err)
		}
	}
}

func TestCanceledContext(t *testing.T) {
	e, _ := newClocked(t, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := e.Publish(ctx, "c", nil, engine.PublishOptions{}); !errors.Is(err, context.Canceled) {
		t.Errorf("publish with canceled context: %v", err)
	}
	if _, _, err := e.History(ctx, "c", engine.HistoryOptions{}); !errors.Is(err, context.Canceled) {
		t.Errorf("history with canceled context: %v", err)
	}
	if err := e.Close(ctx); err != nil && !errors.Is(err, context.Canceled) {
		t.Errorf("close with canceled context: %v", err)
	}
}

func TestRun(t *testing.T) {
	e, _ := newClocked(t, Options{})
	if err := e.Run(nil); err == nil {
		t.Error("run with a nil handler succeeded")
	}
	if err := e.Run(&countingHandler{}); err != nil {
		t.Fatalf("run: %v", err)
	}
	if err := e.Run(&countingHandler{}); err == nil {
		t.Error("second run succeeded")
	}
}

func TestPublishBeforeRun(t *testing.T) {
	e, _ := newClocked(t, Options{})
	ctx := context.Background()
	if err := e.Subscribe("c"); err != nil {
		t.Fatal(err)
	}
	sp, _ := mustPublish(t, e, "c", engine.PublishOptions{HistorySize: 5, HistoryTTL: time.Minute})
	if err := e.PublishJoin(ctx, "c", nil); err != nil {
		t.Fatal(err)
	}
	if err := e.PublishControl(ctx, []byte("x"), ""); err != nil {
		t.Fatal(err)
	}
	if pubs, top := mustHistory(t, e, "c", engine.HistoryOptions{Limit: -1}); len(pubs) != 1 || top != sp {
		t.Fatalf("history without a handler: %d pubs top %+v", len(pubs), top)
	}
}

func TestPublicationTimeFromClock(t *testing.T) {
	e, clk := newClocked(t, Options{})
	mustPublish(t, e, "c", engine.PublishOptions{HistorySize: 5, HistoryTTL: time.Minute})
	pubs, _ := mustHistory(t, e, "c", engine.HistoryOptions{Limit: -1})
	if want := clk.Now().UnixMilli(); pubs[0].Time != want {
		t.Errorf("publication time %d, want clock's %d", pubs[0].Time, want)
	}
}

func TestControlIgnoresTargetNode(t *testing.T) {
	e, _ := newClocked(t, Options{})
	h := &countingHandler{}
	if err := e.Run(h); err != nil {
		t.Fatal(err)
	}
	if err := e.PublishControl(context.Background(), []byte("x"), "some-node"); err != nil {
		t.Fatal(err)
	}
	if h.controls() != 1 {
		t.Errorf("control addressed to a node was not delivered to the only node")
	}
}

func TestPresenceInfoCopied(t *testing.T) {
	e, _ := newClocked(t, Options{})
	ctx := context.Background()
	info := &engine.ClientInfo{User: "u", Client: "c"}
	if err := e.AddPresence(ctx, "ch", "c", info); err != nil {
		t.Fatal(err)
	}
	info.User = "changed"
	p, _ := e.Presence(ctx, "ch")
	if p["c"].User != "u" {
		t.Errorf("stored presence follows the caller's struct: %q", p["c"].User)
	}
	if err := e.AddPresence(ctx, "ch", "nil-info", nil); err != nil {
		t.Fatal(err)
	}
	p, _ = e.Presence(ctx, "ch")
	if p["nil-info"] == nil || p["nil-info"].Client != "nil-info" {
		t.Errorf("nil info stored as %+v, want an entry naming the client", p["nil-info"])
	}
}

func TestHandlerPanicReleasesQueue(t *testing.T) {
	e, _ := newClocked(t, Options{})
	h := &countingHandler{panicOnce: true}
	if err := e.Run(h); err != nil {
		t.Fatal(err)
	}
	if err := e.Subscribe("c"); err != nil {
		t.Fatal(err)
	}
	func() {
		defer func() { _ = recover() }()
		mustPublish(t, e, "c", engine.PublishOptions{})
	}()
	mustPublish(t, e, "c", engine.PublishOptions{})
	if n := h.publications(); n != 2 {
		t.Errorf("handler saw %d publications, want 2: a panic blocked the channel", n)
	}
}

// countingHandler counts deliveries and can panic once to test recovery.
type countingHandler struct {
	mu        sync.Mutex
	pubs      int
	ctrl      int
	panicOnce bool
}

func (h *countingHandler) HandlePublication(string, *engine.Publication, engine.StreamPosition) error {
	h.mu.Lock()
	h.pubs++
	p := h.panicOnce
	h.panicOnce = false
	h.mu.Unlock()
	if p {
		panic("handler failure")
	}
	return nil
}

func (h *countingHandler) HandleJoin(string, *engine.ClientInfo) error  { return nil }
func (h *countingHandler) HandleLeave(string, *engine.ClientInfo) error { return nil }

func (h *countingHandler) HandleControl([]byte) error {
	h.mu.Lock()
	h.ctrl++
	h.mu.Unlock()
	return nil
}

func (h *countingHandler) publications() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.pubs
}

func (h *countingHandler) controls() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.ctrl
}
