package server

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"time"

	"github.com/spindle-rt/spindle/internal/config"
	"github.com/spindle-rt/spindle/internal/realtime/engine/redis"
	"github.com/spindle-rt/spindle/internal/realtime/node"
	"github.com/spindle-rt/spindle/internal/realtime/proxy"
)

// ProxyResolver turns a configured proxy into the backend that answers it:
// the gRPC or HTTP proxy client in `spindle server`, the application itself
// in `spindle dev`.
type ProxyResolver func(cfg *config.Proxy) (node.Backend, error)

// This file is the one place where the loaded configuration becomes the
// parts' own settings: the hub's node.Config, the proxy clients'
// proxy.Config and the Redis engine's redis.Settings. Sections whose shape
// is the same on both sides are converted, so a field added on one side
// only fails the build here instead of being silently dropped.

// proxyBinder turns a configured proxy into the hub's *node.Proxy.
type proxyBinder func(p *config.Proxy) (*node.Proxy, error)

// startBinder resolves every proxy exactly once: events and namespaces
// that share a *config.Proxy share one *node.Proxy, and so one backend and
// connection. Each bound proxy is recorded by name in bound, which is what
// a reload binds to (proxies are built at start only).
func startBinder(resolve ProxyResolver, bound map[string]*node.Proxy) proxyBinder {
	proxies := map[*config.Proxy]*node.Proxy{}
	return func(p *config.Proxy) (*node.Proxy, error) {
		if np, ok := proxies[p]; ok {
			return np, nil
		}
		b, err := resolve(p)
		if err != nil {
			return nil, err
		}
		np := &node.Proxy{
			Name:                  p.Name,
			Endpoint:              p.Endpoint,
			Timeout:               p.Timeout,
			BinaryEncoding:        p.BinaryEncoding,
			IncludeConnectionMeta: p.IncludeConnectionMeta,
			Backend:               b,
		}
		proxies[p] = np
		bound[p.Name] = np
		return np, nil
	}
}

// nodeConfig maps cfg onto the hub's Config, binding every proxy it refers
// to. A proxy that cannot be built fails start-up, not a client's first
// event.
func nodeConfig(cfg *config.Config, bind proxyBinder) (node.Config, error) {
	var resolveErr error
	ref := func(p *config.Proxy) *node.Proxy {
		if p == nil || resolveErr != nil {
			return nil
		}
		np, err := bind(p)
		if err != nil {
			resolveErr = fmt.Errorf("proxy %q (%s): %w", p.Name, p.Endpoint, err)
			return nil
		}
		return np
	}
	channelOptions := func(o config.ChannelOptions) node.ChannelOptions {
		return node.ChannelOptions{
			Presence:                   o.Presence,
			JoinLeave:                  o.JoinLeave,
			ForcePushJoinLeave:         o.ForcePushJoinLeave,
			HistorySize:                o.HistorySize,
			HistoryTTL:                 o.HistoryTTL,
			HistoryMetaTTL:             o.HistoryMetaTTL,
			ForcePositioning:           o.ForcePositioning,
			AllowPositioning:           o.AllowPositioning,
			ForceRecovery:              o.ForceRecovery,
			AllowRecovery:              o.AllowRecovery,
			ForceRecoveryMode:          o.ForceRecoveryMode,
			DeltaFossil:                slices.Contains(o.AllowedDeltaTypes, "fossil"),
			DeltaPublish:               o.DeltaPublish,
			AllowSubscribeForClient:    o.AllowSubscribeForClient,
			AllowSubscribeForAnonymous: o.AllowSubscribeForAnonymous,
			AllowPublishForClient:      o.AllowPublishForClient,
			AllowPublishForSubscriber:  o.AllowPublishForSubscriber,
			AllowPublishForAnonymous:   o.AllowPublishForAnonymous,
			AllowPresenceForClient:     o.AllowPresenceForClient,
			AllowPresenceForSubscriber: o.AllowPresenceForSubscriber,
			AllowPresenceForAnonymous:  o.AllowPresenceForAnonymous,
			AllowHistoryForClient:      o.AllowHistoryForClient,
			AllowHistoryForSubscriber:  o.AllowHistoryForSubscriber,
			AllowHistoryForAnonymous:   o.AllowHistoryForAnonymous,
			AllowUserLimitedChannels:   o.AllowUserLimitedChannels,
			ChannelRegex:               o.ChannelRegex,
			// A proxy name alone switches the event's proxy on (v5
			// granular mode); the loader has resolved the name already.
			ProxySubscribe:  o.ProxySubscribe || o.SubscribeProxyName != "",
			ProxyPublish:    o.ProxyPublish || o.PublishProxyName != "",
			ProxySubRefresh: o.ProxySubRefresh || o.SubRefreshProxyName != "",
			SubscribeProxy:  ref(o.SubscribeProxy),
			PublishProxy:    ref(o.PublishProxy),
			SubRefreshProxy: ref(o.SubRefreshProxy),

			SubscriptionType:                subscriptionType(o.SubscriptionType),
			Map:                             mapOptions(o, ref),
			MapClientsPresenceChannelPrefix: o.MapClientsPresenceChannelPrefix,
			MapUsersPresenceChannelPrefix:   o.MapUsersPresenceChannelPrefix,
			AllowTagsFilter:                 o.AllowTagsFilter,
			SharedPoll:                      sharedPollOptions(o, ref),
		}
	}

	name := cfg.Name
	if name == "" {
		host, _ := os.Hostname()
		name = host + "_" + strconv.Itoa(cfg.HTTP.Port)
	}
	nc := node.Config{
		Name:   name,
		Client: node.ClientConfig(cfg.Client),
		Channel: node.ChannelConfig{
			MaxLength:         cfg.Channel.MaxLength,
			PrivatePrefix:     cfg.Channel.PrivatePrefix,
			NamespaceBoundary: cfg.Channel.NamespaceBoundary,
			UserBoundary:      cfg.Channel.UserBoundary,
			UserSeparator:     cfg.Channel.UserSeparator,
			HistoryMetaTTL:    cfg.Channel.HistoryMetaTTL,
			WithoutNamespace:  channelOptions(cfg.Channel.WithoutNamespace),
		},
		RPC: node.RPCConfig{
			Ping:              cfg.RPC.Ping,
			PingMethod:        cfg.RPC.PingMethod,
			NamespaceBoundary: cfg.RPC.NamespaceBoundary,
		},
		SharedPoll:       sharedPollConfig(cfg.SharedPoll),
		CommandRateLimit: commandRateLimit(cfg.CommandRateLimit),
		Connect:          ref(cfg.Proxy.Connect),
		Refresh:          ref(cfg.Proxy.Refresh),
		RPCProxy:         ref(cfg.Proxy.RPC),
	}
	for _, ns := range cfg.Channel.Namespaces {
		nc.Channel.Namespaces = append(nc.Channel.Namespaces, node.Namespace{Name: ns.Name, ChannelOptions: channelOptions(ns.ChannelOptions)})
	}
	for _, ns := range cfg.RPC.Namespaces {
		nc.RPC.Namespaces = append(nc.RPC.Namespaces, node.RPCNamespace{Name: ns.Name, Proxy: ref(ns.Proxy)})
	}
	return nc, resolveErr
}

// subscriptionType is the hub's spelling: Centrifugo's "stream" is the
// hub's default, "".
func subscriptionType(t string) string {
	if t == "stream" {
		return ""
	}
	return t
}

// mapOptions maps a namespace's map object onto the hub's, filling in
// Centrifugo's defaults (config.DefaultMap*) so the hub runs with the
// values the docs name rather than with its own fallbacks. Namespaces that
// are not maps get none: validation refuses map options there.
func mapOptions(o config.ChannelOptions, ref func(*config.Proxy) *node.Proxy) node.MapOptions {
	if !config.IsMapType(o.SubscriptionType) {
		return node.MapOptions{}
	}
	m := o.Map
	out := node.MapOptions{
		Mode:                              m.Mode,
		KeyTTL:                            m.KeyTTL,
		StreamSize:                        m.StreamSize,
		StreamTTL:                         m.StreamTTL,
		MetaTTL:                           m.MetaTTL,
		RemoveClientOnUnsubscribe:         m.RemoveClientOnUnsubscribe,
		ClientKey:                         m.ClientKey,
		AllowPublishForClient:             m.AllowPublishForClient,
		AllowPublishForSubscriber:         m.AllowPublishForSubscriber,
		AllowPublishForAnonymous:          m.AllowPublishForAnonymous,
		AllowRemoveForClient:              m.AllowRemoveForClient,
		AllowRemoveForSubscriber:          m.AllowRemoveForSubscriber,
		AllowRemoveForAnonymous:           m.AllowRemoveForAnonymous,
		PublishProxyEnabled:               m.PublishProxyEnabled,
		RemoveProxyEnabled:                m.RemoveProxyEnabled,
		PublishProxy:                      ref(m.PublishProxy),
		RemoveProxy:                       ref(m.RemoveProxy),
		DefaultPageSize:                   orInt(m.DefaultPageSize, config.DefaultMapPageSize),
		MinPageSize:                       orInt(m.MinPageSize, config.DefaultMapMinPageSize),
		MaxPageSize:                       orInt(m.MaxPageSize, config.DefaultMapMaxPageSize),
		LiveTransitionMaxPublicationLimit: m.LiveTransitionMaxPublicationLimit,
		SubscribeCatchUpTimeout:           orDuration(m.SubscribeCatchUpTimeout, config.DefaultMapCatchUpTimeout),
	}
	// An ephemeral map keeps no stream: its sizes stay 0 (validation
	// refuses anything else).
	if m.Mode != "ephemeral" {
		out.StreamSize = orInt(m.StreamSize, config.DefaultMapStreamSize)
		out.StreamTTL = orDuration(m.StreamTTL, config.DefaultMapStreamTTL)
		out.MetaTTL = orDuration(m.MetaTTL, config.DefaultMapMetaTTL(m.Mode, out.StreamTTL, m.KeyTTL))
	}
	return out
}

// sharedPollOptions maps a shared_poll namespace's object onto the hub's,
// with its refresh proxy bound like every other proxy, filling in
// Centrifugo's defaults (config.DefaultSharedPoll*) as mapOptions does for
// maps. Namespaces of other types get none: validation refuses
// shared_poll options there.
func sharedPollOptions(o config.ChannelOptions, ref func(*config.Proxy) *node.Proxy) node.SharedPollOptions {
	if o.SubscriptionType != config.SubscriptionSharedPoll {
		return node.SharedPollOptions{}
	}
	sp := o.SharedPoll
	return node.SharedPollOptions{
		Proxy:                  ref(sp.Proxy),
		Mode:                   sp.Mode,
		RefreshInterval:        orDuration(sp.RefreshInterval, config.DefaultSharedPollRefreshInterval),
		RefreshBatchSize:       orInt(sp.RefreshBatchSize, config.DefaultSharedPollRefreshBatchSize),
		MaxKeysPerConnection:   orInt(sp.MaxKeysPerConnection, config.DefaultSharedPollMaxKeysPerConnection),
		ChannelShutdownDelay:   orDuration(sp.ChannelShutdownDelay, config.DefaultSharedPollChannelShutdownDelay),
		TrackExpiredExtraDelay: orDuration(sp.TrackExpiredExtraDelay, config.DefaultSharedPollTrackExpiredExtraDelay),
		PublishEnabled:         sp.PublishEnabled,
	}
}

// sharedPollConfig maps the top-level shared_poll object onto the hub's.
// The HMAC keys pass through as they are; nothing here logs them.
func sharedPollConfig(sp config.SharedPoll) node.SharedPollConfig {
	return node.SharedPollConfig{
		HMACSecretKey:                   sp.HMACSecretKey,
		HMACPreviousSecretKey:           sp.HMACPreviousSecretKey,
		HMACPreviousSecretKeyValidUntil: sp.HMACPreviousSecretKeyValidUntil,
		ConcurrencyLimit:                orInt(sp.ConcurrencyLimit, config.DefaultSharedPollConcurrencyLimit),
	}
}

func orInt(v, def int) int {
	if v != 0 {
		return v
	}
	return def
}

func orDuration(v, def time.Duration) time.Duration {
	if v != 0 {
		return v
	}
	return def
}

// commandRateLimit maps the command rate limit onto the hub's; nil when it
// is off, so the hub keeps no buckets at all.
func commandRateLimit(rl config.CommandRateLimit) *node.CommandRateLimit {
	if !rl.Enabled {
		return nil
	}
	buckets := func(bs []config.RateBucket) []node.RateBucket {
		out := make([]node.RateBucket, 0, len(bs))
		for _, b := range bs {
			out = append(out, node.RateBucket(b))
		}
		return out
	}
	out := &node.CommandRateLimit{
		DryRun:                  rl.DryRun,
		DisconnectAfterRefusals: rl.DisconnectAfterRefusals,
		Total:                   buckets(rl.Total),
		Default:                 buckets(rl.Default),
		Commands:                make(map[string]node.CommandBuckets, len(rl.Commands)),
	}
	for method, cb := range rl.Commands {
		nb := node.CommandBuckets{Buckets: buckets(cb.Buckets)}
		for scope, bs := range cb.Overrides {
			if nb.Overrides == nil {
				nb.Overrides = make(map[string][]node.RateBucket, len(cb.Overrides))
			}
			nb.Overrides[scope] = buckets(bs)
		}
		out.Commands[method] = nb
	}
	return out
}

// proxyClientConfig maps one configured proxy onto the proxy clients'
// Config.
func proxyClientConfig(p *config.Proxy) *proxy.Config {
	pc := &proxy.Config{
		Name:                  p.Name,
		Endpoint:              p.Endpoint,
		Timeout:               p.Timeout,
		HTTPHeaders:           p.HTTPHeaders,
		StaticHTTPHeaders:     p.StaticHTTPHeaders,
		GRPCMetadata:          p.GRPCMetadata,
		BinaryEncoding:        p.BinaryEncoding,
		IncludeConnectionMeta: p.IncludeConnectionMeta,
		GRPCTLS:               clientTLSSettings(p.GRPCTLS),
		HTTPTLS:               clientTLSSettings(p.HTTPTLS),
		GRPCCredentialsKey:    p.GRPCCredentialsKey,
		GRPCCredentialsValue:  p.GRPCCredentialsValue,
		GRPCCompression:       p.GRPCCompression,
	}
	for _, t := range p.StatusCodeTransforms {
		pt := proxy.StatusCodeTransform{StatusCode: t.StatusCode}
		if t.ToError != nil {
			pt.ToError = &proxy.TransformError{Code: t.ToError.Code, Message: t.ToError.Message, Temporary: t.ToError.Temporary}
		}
		if t.ToDisconnect != nil {
			pt.ToDisconnect = &proxy.TransformDisconnect{Code: t.ToDisconnect.Code, Reason: t.ToDisconnect.Reason}
		}
		pc.StatusCodeTransforms = append(pc.StatusCodeTransforms, pt)
	}
	return pc
}

// redisSettings maps the Redis section onto the engine's Settings.
func redisSettings(r config.Redis) redis.Settings {
	return redis.Settings{
		Addresses:          r.Addresses,
		Password:           r.Password,
		User:               r.User,
		DB:                 r.DB,
		Prefix:             r.Prefix,
		ConnectTimeout:     r.ConnectTimeout,
		IOTimeout:          r.IOTimeout,
		TLS:                redisTLS(r.TLS),
		ClusterAddresses:   r.ClusterAddresses,
		SentinelAddresses:  r.SentinelAddresses,
		SentinelMasterName: r.SentinelMasterName,
		SentinelUser:       r.SentinelUser,
		SentinelPassword:   r.SentinelPassword,
		SentinelTLS:        redisTLS(r.SentinelTLS),
	}
}

// redisTLS maps one Redis TLS object (data servers or sentinels).
func redisTLS(t config.TLS) redis.TLSFiles {
	return redis.TLSFiles{Enabled: t.Enabled, CertFile: t.CertFile, KeyFile: t.KeyFile, CAFile: t.CAFile,
		Cert: t.Cert, Key: t.Key, CA: t.CA, ServerName: t.ServerName, InsecureSkipVerify: t.InsecureSkipVerify}
}
