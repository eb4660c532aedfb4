// Package enginetest holds the behaviour every engine.Engine must show, as
// a test suite an engine package runs against itself. Keeping one suite
// for all engines is what makes the memory and Redis engines
// interchangeable for the node.
package enginetest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/spindle-rt/spindle/internal/realtime/engine"
)

// PresenceTTL is the presence entry lifetime the engine under test must be
// configured with; the presence expiry cases depend on it. It is short so
// the whole suite runs in a few seconds.
const PresenceTTL = 150 * time.Millisecond

// waitTimeout bounds every wait for a delivery or an expiry, so a broken
// engine fails the suite instead of hanging it.
const waitTimeout = 3 * time.Second

// quietPeriod is how long the suite watches for deliveries that must not
// happen (duplicates, unsubscribed channels).
const quietPeriod = 50 * time.Millisecond

// RunContract checks an engine against the contract as parallel subtests.
// newEngine must return a fresh engine whose presence TTL is PresenceTTL,
// whose Run has not been called, and which honours TTLs of tens of
// milliseconds; it may be called concurrently. The suite calls Run and
// closes the engine when the subtest ends (engines must accept Close more
// than once). Channel names are random per subtest, so engines sharing a
// backend (one Redis) do not see each other's data.
func RunContract(t *testing.T, newEngine func(t *testing.T) engine.Engine) {
	t.Helper()
	cases := []struct {
		name string
		run  func(t *testing.T, e *env)
	}{
		{"PublishWithoutHistory", testPublishWithoutHistory},
		{"Unsubscribe", testUnsubscribe},
		{"JoinLeave", testJoinLeave},
		{"Control", testControl},
		{"DataIsCopied", testDataIsCopied},
		{"PublicationFields", testPublicationFields},
		{"Idempotency", testIdempotency},
		{"IdempotencyExpiry", testIdempotencyExpiry},
		{"HistoryOffsetsAndEpoch", testHistoryOffsetsAndEpoch},
		{"HistoryFreshChannel", testHistoryFreshChannel},
		{"HistoryQueries", testHistoryQueries},
		{"HistoryEpochMismatch", testHistoryEpochMismatch},
		{"HistorySizeTrim", testHistorySizeTrim},
		{"HistoryTTLExpiry", testHistoryTTLExpiry},
		{"HistoryMetaTTLExpiry", testHistoryMetaTTLExpiry},
		{"HistoryMetaTTLFromHistoryCall", testHistoryMetaTTLFromHistoryCall},
		{"RemoveHistory", testRemoveHistory},
		{"PublishWithoutHistoryKeepsStream", testPublishWithoutHistoryKeepsStream},
		{"Presence", testPresence},
		{"PresenceExpiry", testPresenceExpiry},
		{"PresenceRefresh", testPresenceRefresh},
		{"ConcurrentPublish", testConcurrentPublish},
		{"PerChannelOrdering", testPerChannelOrdering},
		{"ReentrantHandler", testReentrantHandler},
		{"CloseTwice", testCloseTwice},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.run(t, setup(t, newEngine))
		})
	}
}

// env is one subtest's engine, recorder and channel namespace.
type env struct {
	eng    engine.Engine
	rec    *recorder
	ctx    context.Context
	prefix string
}

func setup(t *testing.T, newEngine func(t *testing.T) engine.Engine) *env {
	t.Helper()
	eng := newEngine(t)
	if eng == nil {
		t.Fatal("newEngine returned nil")
	}
	rec := newRecorder()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		defer cancel()
		if err := eng.Close(ctx); err != nil {
			t.Errorf("close engine: %v", err)
		}
	})
	if err := eng.Run(rec); err != nil {
		t.Fatalf("run engine: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*waitTimeout)
	t.Cleanup(cancel)
	return &env{
		eng:    eng,
		rec:    rec,
		ctx:    ctx,
		prefix: fmt.Sprintf("contract-%016x:", rand.Uint64()),
	}
}

// ch names a channel private to this subtest.
func (e *env) ch(name string) string {
	return e.prefix + name
}

// subscribe subscribes the node to the channel and fails the test if the
// engine refuses.
func (e *env) subscribe(t *testing.T, channel string) {
	t.Helper()
	if err := e.eng.Subscribe(channel); err != nil {
		t.Fatalf("subscribe %q: %v", channel, err)
	}
}

// publish publishes and fails the test on error.
func (e *env) publish(t *testing.T, channel, data string, opts engine.PublishOptions) (engine.StreamPosition, bool) {
	t.Helper()
	sp, suppressed, err := e.eng.Publish(e.ctx, channel, []byte(data), opts)
	if err != nil {
		t.Fatalf("publish to %q: %v", channel, err)
	}
	return sp, suppressed
}

// history queries history and fails the test on error.
func (e *env) history(t *testing.T, channel string, opts engine.HistoryOptions) ([]*engine.Publication, engine.StreamPosition) {
	t.Helper()
	pubs, sp, err := e.eng.History(e.ctx, channel, opts)
	if err != nil {
		t.Fatalf("history of %q: %v", channel, err)
	}
	return pubs, sp
}

// keep is a history setting long enough not to expire during a test.
func keep(size int) engine.PublishOptions {
	return engine.PublishOptions{HistorySize: size, HistoryTTL: time.Minute}
}

// waitFor polls cond until it holds or waitTimeout passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", waitTimeout, what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// offsets lists the publications' offsets, for compact comparisons.
func offsets(pubs []*engine.Publication) []uint64 {
	out := make([]uint64, 0, len(pubs))
	for _, p := range pubs {
		out = append(out, p.Offset)
	}
	return out
}
