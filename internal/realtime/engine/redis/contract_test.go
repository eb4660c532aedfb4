package redis

import (
	"testing"
	"time"

	"github.com/spindle-rt/spindle/internal/testredis"

	"github.com/spindle-rt/spindle/internal/realtime/engine"
	"github.com/spindle-rt/spindle/internal/realtime/engine/enginetest"
)

// TestContract holds the engine to the behaviour every engine shares,
// against one Redis and against two client-side shards.
func TestContract(t *testing.T) {
	testredis.Require(t)
	single := testredis.Start(t)
	a, b := testredis.Start(t), testredis.Start(t)
	setups := []struct {
		name  string
		addrs []string
	}{
		{"single", []string{single.Addr()}},
		{"two-shards", []string{a.Addr(), b.Addr()}},
	}
	for _, s := range setups {
		t.Run(s.name, func(t *testing.T) {
			enginetest.RunContract(t, func(t *testing.T) engine.Engine {
				e, err := New(Options{Addresses: s.addrs, Prefix: testPrefix(), PresenceTTL: enginetest.PresenceTTL})
				if err != nil {
					t.Fatalf("new engine: %v", err)
				}
				return e
			})
		})
	}
}

// TestMapContract holds the map broker to the behaviour the memory engine
// shows, against one Redis and against two client-side shards. The
// cleanup runs every 100ms so key expiry stays well inside the suite's
// waits.
func TestMapContract(t *testing.T) {
	testredis.Require(t)
	single := testredis.Start(t)
	a, b := testredis.Start(t), testredis.Start(t)
	setups := []struct {
		name  string
		addrs []string
	}{
		{"single", []string{single.Addr()}},
		{"two-shards", []string{a.Addr(), b.Addr()}},
	}
	for _, s := range setups {
		t.Run(s.name, func(t *testing.T) {
			enginetest.RunMapContract(t, func(t *testing.T) engine.MapBroker {
				e, err := New(Options{Addresses: s.addrs, Prefix: testPrefix(), MapCleanupInterval: 100 * time.Millisecond})
				if err != nil {
					t.Fatalf("new engine: %v", err)
				}
				return e
			})
		})
	}
}
