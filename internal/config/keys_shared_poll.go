package config

import "time"

// Centrifugo's shared-poll defaults (spec §4.8): what a zero interval,
// size or delay means. The wiring fills them in, as it does the map
// defaults, so the hub runs with the values the docs name.
const (
	DefaultSharedPollRefreshInterval        = 10 * time.Second
	DefaultSharedPollRefreshBatchSize       = 1000
	DefaultSharedPollMaxKeysPerConnection   = 5000
	DefaultSharedPollChannelShutdownDelay   = time.Second
	DefaultSharedPollTrackExpiredExtraDelay = 25 * time.Second
	DefaultSharedPollConcurrencyLimit       = 64
)

// sharedPollKeys are the top-level shared_poll object (Centrifugo v6.8+,
// spec §4.8). Centrifugo added it in v6, so every key is v6-only; the
// environment spells them CENTRIFUGO_SHARED_POLL_*.
func sharedPollKeys() []*keyDef {
	return []*keyDef{
		{name: "shared_poll.hmac_secret_key", v6only: true, secret: true,
			doc:    "HMAC-SHA256 key that signs shared-poll track batches; required when a namespace (or channel.without_namespace) is subscription_type shared_poll",
			target: func(s *state) any { return &s.cfg.SharedPoll.HMACSecretKey }},
		{name: "shared_poll.hmac_previous_secret_key", v6only: true, secret: true,
			doc:    "the key being rotated out: track batches signed with it are still accepted (see hmac_previous_secret_key_valid_until)",
			target: func(s *state) any { return &s.cfg.SharedPoll.HMACPreviousSecretKey }},
		{name: "shared_poll.hmac_previous_secret_key_valid_until", v6only: true, def: "0",
			doc:    "Unix time in seconds (an integer, as in Centrifugo): the previous key is refused for batches signed (iat) after it; 0 = no limit",
			target: func(s *state) any { return &s.cfg.SharedPoll.HMACPreviousSecretKeyValidUntil }},
		{name: "shared_poll.concurrency_limit", v6only: true, def: "0",
			doc:    "most backend refresh calls in flight at once, over every shared-poll channel of the node (0 = 64)",
			target: func(s *state) any { return &s.cfg.SharedPoll.ConcurrencyLimit }},
	}
}

// sharedPollChanOpts are a namespace's shared_poll object (Centrifugo v6,
// spec §4.8). They are meaningful only with subscription_type
// shared_poll, which validation enforces.
var sharedPollChanOpts = []*chanOpt{
	{name: "shared_poll.proxy_name", v6only: true, doc: `shared_poll: the proxies[] entry answering SharedPollRefresh; empty or "default" is channel.proxy.shared_poll_refresh (one of the two is required)`,
		target: func(o *ChannelOptions) any { return &o.SharedPoll.ProxyName }},
	{name: "shared_poll.mode", v6only: true, doc: `shared_poll: "versionless" (or empty: the server versions items by content) or "versioned" (the backend's versions and epoch)`,
		rules:  rules{oneOf: a("", "versionless", "versioned")},
		target: func(o *ChannelOptions) any { return &o.SharedPoll.Mode }},
	{name: "shared_poll.refresh_interval", v6only: true, def: "0s", doc: "shared_poll: every tracked key is polled once per interval (0 = 10s)",
		target: func(o *ChannelOptions) any { return &o.SharedPoll.RefreshInterval }},
	{name: "shared_poll.refresh_batch_size", v6only: true, def: "0", doc: "shared_poll: most keys in one backend call (0 = 1000)",
		target: func(o *ChannelOptions) any { return &o.SharedPoll.RefreshBatchSize }},
	{name: "shared_poll.max_keys_per_connection", v6only: true, def: "0", doc: "shared_poll: most keys one connection may track in one channel; more is error 106 (0 = 5000)",
		target: func(o *ChannelOptions) any { return &o.SharedPoll.MaxKeysPerConnection }},
	{name: "shared_poll.channel_shutdown_delay", v6only: true, def: "0s", doc: "shared_poll: a channel's state is dropped this long after its last key is untracked (0 = 1s)",
		target: func(o *ChannelOptions) any { return &o.SharedPoll.ChannelShutdownDelay }},
	{name: "shared_poll.track_expired_extra_delay", v6only: true, def: "0s", doc: "shared_poll: a key whose track signature expired is untracked this long after (0 = 25s)",
		target: func(o *ChannelOptions) any { return &o.SharedPoll.TrackExpiredExtraDelay }},
	{name: "shared_poll.publish_enabled", v6only: true, def: "false", doc: "shared_poll: the server API's shared_poll_publish may push items (needs shared_poll.mode versioned)",
		target: func(o *ChannelOptions) any { return &o.SharedPoll.PublishEnabled }},
}
