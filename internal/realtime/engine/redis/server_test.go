package redis

import (
	"context"
	"testing"
	"time"
)

// testPrefix keeps engines that share a server in separate key spaces.
func testPrefix() string {
	return "t" + randomID(10)
}

// newTestEngine builds an engine, failing the test on error, and closes
// it when the test ends.
func newTestEngine(t testing.TB, o Options) *Engine {
	t.Helper()
	if o.Prefix == "" {
		o.Prefix = testPrefix()
	}
	e, err := New(o)
	if err != nil {
		t.Fatalf("new engine: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = e.Close(ctx)
	})
	return e
}
