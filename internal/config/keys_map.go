package config

// mapBrokerKeys are the top-level map_broker object (Centrifugo v6.8+,
// spec §4.3): where map channels keep their state. Centrifugo added it in
// v6, so every key is v6-only.
func mapBrokerKeys() []*keyDef {
	out := []*keyDef{
		{name: "map_broker.type", v6only: true, def: "memory", doc: `where map channels live: "memory" (this process) or "redis" (the Redis engine's servers; needs engine redis); "postgres" is refused`,
			rules:  rules{oneOf: a("memory", "redis", "postgres")},
			target: func(s *state) any { return &s.cfg.MapBroker.Type }},
		{name: "map_broker.postgres", v6only: true, kind: kindAny, doc: "PostgreSQL map broker settings (refused: not supported)",
			decode: func(st *state, _ *node, at loc) {
				st.errorf(at, "the PostgreSQL map broker is not supported: remove map_broker.postgres and use map_broker.type memory or redis")
			}},
	}
	out = append(out,
		&keyDef{name: "map_broker.redis.cleanup_interval", v6only: true, def: "1s", doc: "Redis map broker: how often each node removes expired map keys (as removals subscribers see)",
			target: func(s *state) any { return &s.cfg.MapBroker.RedisCleanupInterval }},
		&keyDef{name: "map_broker.redis.cleanup_batch_size", v6only: true, def: "100", doc: "Redis map broker: expired keys removed per map per cleanup round",
			rules:  rules{min: 1},
			target: func(s *state) any { return &s.cfg.MapBroker.RedisCleanupBatchSize }},
	)
	// These have no Spindle counterpart yet, so each is refused by name
	// rather than accepted and ignored.
	for _, k := range []struct {
		name string
		kind valueKind
		what string
	}{
		{"idempotent_result_ttl", vDuration, "how long a map write's result is kept for its idempotency key"},
		{"skip_pub_sub", vBool, "keep map state without PUB/SUB delivery"},
	} {
		name := "map_broker.redis." + k.name
		out = append(out, &keyDef{name: name, v6only: true, kind: k.kind, doc: "Redis map broker: " + k.what + " (refused: not supported yet)",
			decode: func(st *state, _ *node, at loc) {
				st.errorf(at, "not supported yet: the Redis map broker takes no settings of its own in Spindle; remove %s", name)
			}})
	}
	return out
}
