package config

import "strings"

// chanOpt is one channel option: valid at top level (channels without a
// namespace) and inside every namespace (spec §5.3).
type chanOpt struct {
	name   string // v5 spelling, top level and in namespaces
	v6     string // v6 spelling when it differs
	legacy string // extra top-level spelling v5 actually reads, with a warning
	target func(o *ChannelOptions) any
	rules
	def         string
	doc         string
	unsupported bool
	// v6only options exist only in the nested v6 layout: at the top level
	// they are spelled only under channel.without_namespace (Centrifugo
	// added map subscriptions in v6, so there is no flat v5 key). Inside
	// namespace objects, which look the same in both layouts, name is the
	// spelling.
	v6only bool
	// ignored is the warning for a real Centrifugo option that Spindle
	// accepts and ignores on purpose, as Centrifugo OSS does; it is issued
	// whenever the option is set.
	ignored string
}

// v6Name is the spelling under channel.without_namespace and in v6
// namespaces.
func (c *chanOpt) v6Name() string {
	if c.v6 != "" {
		return c.v6
	}
	return c.name
}

// streamChanOpts are the options every Centrifugo version has.
var streamChanOpts = []*chanOpt{
	{name: "presence", def: "false", doc: "track who is subscribed (presence, presence_stats, join/leave)",
		target: func(o *ChannelOptions) any { return &o.Presence }},
	{name: "join_leave", def: "false", doc: "emit join/leave events",
		target: func(o *ChannelOptions) any { return &o.JoinLeave }},
	{name: "force_push_join_leave", def: "false", doc: "push join/leave to every subscriber without asking",
		target: func(o *ChannelOptions) any { return &o.ForcePushJoinLeave }},
	{name: "history_size", def: "0", doc: "publications kept in history (needs history_ttl)",
		target: func(o *ChannelOptions) any { return &o.HistorySize }},
	{name: "history_ttl", def: "0s", doc: "history lifetime after the last publish, whole seconds (needs history_size)",
		rules:  rules{wholeSeconds: true},
		target: func(o *ChannelOptions) any { return &o.HistoryTTL }},
	{name: "history_meta_ttl", def: "0s", doc: "stream meta lifetime; 0 uses global_history_meta_ttl",
		rules:  rules{wholeSeconds: true},
		target: func(o *ChannelOptions) any { return &o.HistoryMetaTTL }},
	{name: "force_positioning", def: "false", doc: "every subscription is positioned",
		target: func(o *ChannelOptions) any { return &o.ForcePositioning }},
	{name: "allow_positioning", def: "false", doc: "honour the client's positioned flag",
		target: func(o *ChannelOptions) any { return &o.AllowPositioning }},
	{name: "force_recovery", def: "false", doc: "every subscription is recoverable (needs history)",
		target: func(o *ChannelOptions) any { return &o.ForceRecovery }},
	{name: "allow_recovery", def: "false", doc: "honour the client's recoverable flag",
		target: func(o *ChannelOptions) any { return &o.AllowRecovery }},
	{name: "force_recovery_mode", doc: `"stream" (default) or "cache"`,
		rules:  rules{oneOf: a("", "stream", "cache")},
		target: func(o *ChannelOptions) any { return &o.ForceRecoveryMode }},
	{name: "allow_subscribe_for_client", def: "false", doc: "authenticated clients may subscribe without a token",
		target: func(o *ChannelOptions) any { return &o.AllowSubscribeForClient }},
	{name: "allow_subscribe_for_anonymous", def: "false", doc: "extends allow_subscribe_for_client to anonymous clients",
		target: func(o *ChannelOptions) any { return &o.AllowSubscribeForAnonymous }},
	{name: "allow_publish_for_client", def: "false", doc: "authenticated clients may publish",
		target: func(o *ChannelOptions) any { return &o.AllowPublishForClient }},
	{name: "allow_publish_for_subscriber", def: "false", doc: "current subscribers may publish",
		target: func(o *ChannelOptions) any { return &o.AllowPublishForSubscriber }},
	{name: "allow_publish_for_anonymous", def: "false", doc: "extends the publish permissions to anonymous clients",
		target: func(o *ChannelOptions) any { return &o.AllowPublishForAnonymous }},
	{name: "allow_presence_for_client", def: "false", doc: "authenticated clients may call presence",
		target: func(o *ChannelOptions) any { return &o.AllowPresenceForClient }},
	{name: "allow_presence_for_subscriber", def: "false", doc: "subscribers may call presence",
		target: func(o *ChannelOptions) any { return &o.AllowPresenceForSubscriber }},
	{name: "allow_presence_for_anonymous", def: "false", doc: "extends the presence permissions to anonymous clients",
		target: func(o *ChannelOptions) any { return &o.AllowPresenceForAnonymous }},
	{name: "allow_history_for_client", def: "false", doc: "authenticated clients may call history",
		target: func(o *ChannelOptions) any { return &o.AllowHistoryForClient }},
	{name: "allow_history_for_subscriber", def: "false", doc: "subscribers may call history",
		target: func(o *ChannelOptions) any { return &o.AllowHistoryForSubscriber }},
	{name: "allow_history_for_anonymous", def: "false", doc: "extends the history permissions to anonymous clients",
		target: func(o *ChannelOptions) any { return &o.AllowHistoryForAnonymous }},
	{name: "allow_user_limited_channels", def: "false", doc: "users listed after # may subscribe without a token",
		target: func(o *ChannelOptions) any { return &o.AllowUserLimitedChannels }},
	{name: "channel_regex", doc: "Go regexp the channel name after the namespace must match",
		target: func(o *ChannelOptions) any { return &o.ChannelRegex }},
	{name: "proxy_subscribe", v6: "subscribe_proxy_enabled", def: "false", doc: "subscribe requests go to the subscribe proxy",
		target: func(o *ChannelOptions) any { return &o.ProxySubscribe }},
	{name: "proxy_publish", v6: "publish_proxy_enabled", def: "false", doc: "publish requests go to the publish proxy",
		target: func(o *ChannelOptions) any { return &o.ProxyPublish }},
	{name: "proxy_sub_refresh", v6: "sub_refresh_proxy_enabled", def: "false", doc: "subscription refresh goes to the sub_refresh proxy",
		target: func(o *ChannelOptions) any { return &o.ProxySubRefresh }},
	{name: "proxy_subscribe_stream", v6: "subscribe_stream_proxy_enabled", legacy: "proxy_stream_subscribe", def: "false",
		doc:    "subscriptions are streams from the subscribe_stream proxy (gRPC only)",
		target: func(o *ChannelOptions) any { return &o.ProxySubscribeStream }},
	{name: "proxy_subscribe_stream_bidirectional", v6: "subscribe_stream_proxy_bidirectional", def: "false", doc: "use the bidirectional stream variant",
		target: func(o *ChannelOptions) any { return &o.ProxySubscribeStreamBidirectional }},
	{name: "subscribe_proxy_name", doc: "named proxy for subscribe (proxies[].name)",
		target: func(o *ChannelOptions) any { return &o.SubscribeProxyName }},
	{name: "publish_proxy_name", doc: "named proxy for publish",
		target: func(o *ChannelOptions) any { return &o.PublishProxyName }},
	{name: "sub_refresh_proxy_name", doc: "named proxy for sub_refresh",
		target: func(o *ChannelOptions) any { return &o.SubRefreshProxyName }},
	{name: "subscribe_stream_proxy_name", doc: "named proxy for subscribe streams",
		target: func(o *ChannelOptions) any { return &o.SubscribeStreamProxyName }},
	{name: "allowed_delta_types", doc: `delta encodings subscribers may ask for (only "fossil")`,
		target: func(o *ChannelOptions) any { return &o.AllowedDeltaTypes }},
	{name: "delta_publish", def: "false", doc: "publish deltas without an explicit flag",
		target: func(o *ChannelOptions) any { return &o.DeltaPublish }},
	{name: "proxy_cache_empty", unsupported: true, doc: "cache-empty notifications (not supported by Spindle)"},
	{name: "cache_empty_proxy_name", unsupported: true, doc: "named proxy for cache-empty notifications (not supported by Spindle)"},
}

// debounceIgnored is why client_publish_debounce_interval is accepted
// although it does nothing: centrifuge-js's own test config sets it, and
// Centrifugo OSS ignores it too.
const debounceIgnored = "client_publish_debounce_interval is a Centrifugo PRO option; Spindle, like Centrifugo OSS, ignores it: client publications are not debounced"

// mapChanOpts are the map-subscription options (Centrifugo v6, spec §4.3).
// The map.* ones are meaningful only with a map subscription_type, which
// validation enforces.
var mapChanOpts = []*chanOpt{
	{name: "subscription_type", v6only: true, doc: `"stream" (or empty: PUB/SUB with history), "map", "map_clients", "map_users" or "shared_poll" (the server polls a backend for the keys clients track)`,
		rules:  rules{oneOf: a("", "stream", "map", "map_clients", "map_users", "shared_poll")},
		target: func(o *ChannelOptions) any { return &o.SubscriptionType }},
	{name: "map.mode", v6only: true, doc: `map types: "ephemeral" (no stream, keys need key_ttl), "recoverable" (stream, keys need key_ttl) or "persistent" (stream, keys never expire); required`,
		rules:  rules{oneOf: a("", "ephemeral", "recoverable", "persistent")},
		target: func(o *ChannelOptions) any { return &o.Map.Mode }},
	{name: "map.key_ttl", v6only: true, def: "0s", doc: "map types: a key not written for this long is removed; required for ephemeral and recoverable, 0 for persistent",
		target: func(o *ChannelOptions) any { return &o.Map.KeyTTL }},
	{name: "map.stream_size", v6only: true, def: "0", doc: "map types: changes kept in the map's stream (recoverable, persistent; 0 = 100; must be 0 for ephemeral)",
		target: func(o *ChannelOptions) any { return &o.Map.StreamSize }},
	{name: "map.stream_ttl", v6only: true, def: "0s", doc: "map types: stream lifetime after the last change (0 = 1m; must be 0 for ephemeral)",
		target: func(o *ChannelOptions) any { return &o.Map.StreamTTL }},
	{name: "map.meta_ttl", v6only: true, def: "0s", doc: "map types: epoch and offset lifetime; at least stream_ttl (0 = recoverable: 10×stream_ttl but at least key_ttl; persistent: never; must be 0 for ephemeral)",
		target: func(o *ChannelOptions) any { return &o.Map.MetaTTL }},
	{name: "map.remove_client_on_unsubscribe", v6only: true, def: "false", doc: "map types: remove the key named by the client's id when it unsubscribes or disconnects",
		target: func(o *ChannelOptions) any { return &o.Map.RemoveClientOnUnsubscribe }},
	{name: "map.client_key", v6only: true, doc: `map types: the server picks the key of client writes, "client_id" or "user_id"; empty lets the client name it; not with the map proxies`,
		rules:  rules{oneOf: a("", "client_id", "user_id")},
		target: func(o *ChannelOptions) any { return &o.Map.ClientKey }},
	{name: "map.allow_publish_for_client", v6only: true, def: "false", doc: "map types: authenticated clients may write keys",
		target: func(o *ChannelOptions) any { return &o.Map.AllowPublishForClient }},
	{name: "map.allow_publish_for_subscriber", v6only: true, def: "false", doc: "map types: subscribers may write keys",
		target: func(o *ChannelOptions) any { return &o.Map.AllowPublishForSubscriber }},
	{name: "map.allow_publish_for_anonymous", v6only: true, def: "false", doc: "map types: extends the write permissions to anonymous clients",
		target: func(o *ChannelOptions) any { return &o.Map.AllowPublishForAnonymous }},
	{name: "map.allow_remove_for_client", v6only: true, def: "false", doc: "map types: authenticated clients may remove keys",
		target: func(o *ChannelOptions) any { return &o.Map.AllowRemoveForClient }},
	{name: "map.allow_remove_for_subscriber", v6only: true, def: "false", doc: "map types: subscribers may remove keys",
		target: func(o *ChannelOptions) any { return &o.Map.AllowRemoveForSubscriber }},
	{name: "map.allow_remove_for_anonymous", v6only: true, def: "false", doc: "map types: extends the remove permissions to anonymous clients",
		target: func(o *ChannelOptions) any { return &o.Map.AllowRemoveForAnonymous }},
	{name: "map.publish_proxy_enabled", v6only: true, def: "false", doc: "map types: client key writes go to the map publish proxy (MapPublish)",
		target: func(o *ChannelOptions) any { return &o.Map.PublishProxyEnabled }},
	{name: "map.publish_proxy_name", v6only: true, doc: `map types: named proxy for key writes; empty or "default" is channel.proxy.map_publish`,
		target: func(o *ChannelOptions) any { return &o.Map.PublishProxyName }},
	{name: "map.remove_proxy_enabled", v6only: true, def: "false", doc: "map types: client key removals go to the map remove proxy (MapRemove)",
		target: func(o *ChannelOptions) any { return &o.Map.RemoveProxyEnabled }},
	{name: "map.remove_proxy_name", v6only: true, doc: `map types: named proxy for key removals; empty or "default" is channel.proxy.map_remove`,
		target: func(o *ChannelOptions) any { return &o.Map.RemoveProxyName }},
	{name: "map.default_page_size", v6only: true, def: "0", doc: "map types: state and stream page size when the client asks for none (0 = 100)",
		target: func(o *ChannelOptions) any { return &o.Map.DefaultPageSize }},
	{name: "map.min_page_size", v6only: true, def: "0", doc: "map types: smallest page a client gets (0 = 100)",
		target: func(o *ChannelOptions) any { return &o.Map.MinPageSize }},
	{name: "map.max_page_size", v6only: true, def: "0", doc: "map types: largest page a client gets (0 = 1000)",
		target: func(o *ChannelOptions) any { return &o.Map.MaxPageSize }},
	{name: "map.live_transition_max_publication_limit", v6only: true, def: "0", doc: "map types: most changes read when a subscriber goes live; more is error 112 (0 = max_page_size)",
		target: func(o *ChannelOptions) any { return &o.Map.LiveTransitionMaxPublicationLimit }},
	{name: "map.subscribe_catch_up_timeout", v6only: true, def: "0s", doc: "map types: a paged subscribe must reach live within this (0 = 5s), else disconnect 3008",
		target: func(o *ChannelOptions) any { return &o.Map.SubscribeCatchUpTimeout }},
	{name: "map_clients_presence_channel_prefix", v6only: true, doc: "write each subscriber to map channel prefix+channel, keyed by client id; prefix+channel must be in a map_clients namespace",
		target: func(o *ChannelOptions) any { return &o.MapClientsPresenceChannelPrefix }},
	{name: "map_users_presence_channel_prefix", v6only: true, doc: "write each subscriber's user to map channel prefix+channel, keyed by user id; prefix+channel must be in a map_users namespace",
		target: func(o *ChannelOptions) any { return &o.MapUsersPresenceChannelPrefix }},
	{name: "allow_tags_filter", v6only: true, def: "false", doc: "map types: subscribers may filter publications by tags (tf)",
		target: func(o *ChannelOptions) any { return &o.AllowTagsFilter }},
	{name: "client_publish_debounce_interval", v6only: true, unsupported: true, ignored: debounceIgnored,
		doc: "Centrifugo PRO: debounce client map publications per key; ignored, as in Centrifugo OSS"},
}

// chanOpts are every channel option, in the order docs list them.
var chanOpts = append(append(streamChanOpts[:len(streamChanOpts):len(streamChanOpts)], mapChanOpts...), sharedPollChanOpts...)

// isMapOption says whether an option belongs to the `map` object.
func isMapOption(o *chanOpt) bool { return strings.HasPrefix(o.name, "map.") }

// topName is the top-level key of a channel option, the canonical name
// st.where and st.isSet know it by.
func topName(opt string) string {
	if o := chanOptIndex[opt]; o != nil && o.v6only {
		return withoutNamespace + o.name
	}
	return opt
}

const withoutNamespace = "channel.without_namespace."

// chanOptIndex maps every namespace-level spelling to its option.
var chanOptIndex = func() map[string]*chanOpt {
	m := map[string]*chanOpt{}
	for _, o := range chanOpts {
		m[o.name] = o
		m[o.v6Name()] = o
	}
	return m
}()

func channelKeys() []*keyDef {
	out := []*keyDef{
		{name: "channel_max_length", aliases: a("channel.max_length"), def: "255", doc: "longest channel a client may subscribe to (107 beyond)",
			target: func(s *state) any { return &s.cfg.Channel.MaxLength }},
		{name: "channel_private_prefix", aliases: a("channel.private_prefix"), def: "$", doc: "channels starting with it need a subscription token",
			target: func(s *state) any { return &s.cfg.Channel.PrivatePrefix }},
		{name: "channel_namespace_boundary", aliases: a("channel.namespace_boundary"), def: ":", doc: "separates the namespace from the rest of a channel",
			target: func(s *state) any { return &s.cfg.Channel.NamespaceBoundary }},
		{name: "channel_user_boundary", aliases: a("channel.user_boundary"), def: "#", doc: "starts the user list of a user-limited channel",
			target: func(s *state) any { return &s.cfg.Channel.UserBoundary }},
		{name: "channel_user_separator", aliases: a("channel.user_separator"), def: ",", doc: "separates users in a user-limited channel",
			target: func(s *state) any { return &s.cfg.Channel.UserSeparator }},
		{name: "global_history_meta_ttl", aliases: a("channel.history_meta_ttl"), def: "720h", doc: "stream meta lifetime for namespaces that do not set history_meta_ttl",
			rules:  rules{wholeSeconds: true},
			target: func(s *state) any { return &s.cfg.Channel.HistoryMetaTTL }},
		{name: "namespaces", aliases: a("channel.namespaces"), kind: vObjects, doc: "channel namespaces: objects with name plus channel options",
			decode: decodeNamespaces},
		{name: "rpc_namespace_boundary", aliases: a("rpc.namespace_boundary"), def: ":", doc: "separates the rpc namespace from the method",
			target: func(s *state) any { return &s.cfg.RPC.NamespaceBoundary }},
		{name: "rpc_ping", aliases: a("rpc.ping.enabled"), def: "false", doc: "answer the built-in ping RPC with {}",
			target: func(s *state) any { return &s.cfg.RPC.Ping }},
		{name: "rpc_ping_method", aliases: a("rpc.ping.method"), def: "ping", doc: "method name of the built-in ping RPC",
			target: func(s *state) any { return &s.cfg.RPC.PingMethod }},
		{name: "rpc_proxy_name", aliases: a("rpc.without_namespace.proxy_name"), doc: "named proxy for RPC methods without a namespace",
			target: func(s *state) any { return &s.cfg.RPC.ProxyName }},
		{name: "rpc_namespaces", aliases: a("rpc.namespaces"), kind: vObjects, doc: "rpc namespaces: objects with name and rpc_proxy_name",
			decode: decodeRPCNamespaces},
	}
	for _, o := range chanOpts {
		o := o
		d := &keyDef{
			name:        o.name,
			aliases:     a(withoutNamespace + o.v6Name()),
			rules:       o.rules,
			def:         o.def,
			doc:         "channel option (top level = channels without namespace): " + o.doc,
			unsupported: o.unsupported,
		}
		if o.v6only {
			d.name, d.aliases, d.v6only = withoutNamespace+o.name, nil, true
		}
		d.ignored = o.ignored
		if o.target != nil {
			d.target = func(s *state) any { return o.target(&s.cfg.Channel.WithoutNamespace) }
		}
		if o.legacy != "" {
			d.aliases = append(d.aliases, o.legacy)
			d.notes = map[string]string{o.legacy: "v5's top-level spelling of " + o.name + " (namespaces use " + o.name + "); accepted as " + o.name}
		}
		out = append(out, d)
	}
	return out
}
