package server

import (
	"context"
	"errors"
	"fmt"

	"github.com/spindle-rt/spindle/internal/config"
	"github.com/spindle-rt/spindle/internal/realtime/engine"
	"github.com/spindle-rt/spindle/internal/realtime/engine/memory"
)

// newMapBroker picks the node's map broker for map_broker.type. The engine
// itself serves when it can, so map channels share its connections (Redis)
// or its memory; otherwise memory maps get an engine of their own, which
// the node runs and closes as a separate broker. release closes such a
// broker on a failed start, before the node owns it; it does nothing when
// the broker is the engine.
func newMapBroker(cfg *config.Config, eng engine.Engine) (mb engine.MapBroker, release func(), err error) {
	noop := func() {}
	switch cfg.MapBroker.Type {
	case "", "memory":
		if m, ok := eng.(*memory.Engine); ok {
			return m, noop, nil
		}
		// A Redis engine with memory maps: each node keeps its own map
		// channels (checkconfig warns when a namespace is a map).
		m := memory.New(memory.Options{})
		return m, func() { _ = m.Close(context.Background()) }, nil
	case "redis":
		// The memory engine is a MapBroker too, but not the one asked
		// for: map_broker redis means the maps live in Redis.
		if cfg.Engine.Type != "redis" {
			return nil, noop, errors.New("map_broker.type redis needs engine.type redis")
		}
		m, ok := eng.(engine.MapBroker)
		if !ok {
			return nil, noop, fmt.Errorf("map_broker.type redis: the Redis engine (%T) does not keep map channels yet; use map_broker.type memory", eng)
		}
		return m, noop, nil
	default:
		// Load refuses these; a hand-built Config could still carry one.
		return nil, noop, fmt.Errorf("map_broker.type %q is not supported (use \"memory\" or \"redis\")", cfg.MapBroker.Type)
	}
}
