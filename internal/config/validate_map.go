package config

import (
	"fmt"
	"strings"
	"time"
)

// Centrifugo's map defaults (spec §4.3): what a zero size, TTL or page
// size means. The wiring fills them in; validation compares against them.
const (
	DefaultMapStreamSize       = 100
	DefaultMapStreamTTL        = time.Minute
	DefaultMapPageSize         = 100
	DefaultMapMinPageSize      = 100
	DefaultMapMaxPageSize      = 1000
	DefaultMapCatchUpTimeout   = 5 * time.Second
	mapMetaTTLStreamMultiplier = 10
)

// DefaultMapMetaTTL is how long a map's epoch and offset outlive its last
// change when map.meta_ttl is 0: ten stream lifetimes but at least a key's
// lifetime for recoverable maps (a position must not expire before the
// keys it describes), never for persistent ones, and not at all for
// ephemeral maps, which have no stream.
func DefaultMapMetaTTL(mode string, streamTTL, keyTTL time.Duration) time.Duration {
	if mode != "recoverable" {
		return 0
	}
	if streamTTL <= 0 {
		streamTTL = DefaultMapStreamTTL
	}
	return max(mapMetaTTLStreamMultiplier*streamTTL, keyTTL)
}

// topWhere and topIsSet locate the options of channels without namespace
// by their channel-option name (v6-only ones live under
// channel.without_namespace).
func (st *state) topWhere(opt string) loc  { return st.where(topName(opt)) }
func (st *state) topIsSet(opt string) bool { return st.isSet(topName(opt)) }

// checkMapOptions applies Centrifugo v6.9's rules for map subscriptions to
// one set of channel options, plus one of Spindle's: map options on a
// namespace that is not a map would do nothing, so they are refused.
// where locates an option by its name, isSet says whether it was written.
func (st *state) checkMapOptions(o *ChannelOptions, where func(string) loc, isSet func(string) bool, scope string) {
	if st.rejected(where("subscription_type")) {
		return // a second error about the same mistake would only confuse
	}
	if !IsMapType(o.SubscriptionType) {
		kind := o.SubscriptionType
		if kind == "" {
			kind = "stream"
		}
		for _, opt := range mapChanOpts {
			if isMapOption(opt) && isSet(opt.name) {
				st.errorf(where(opt.name), "%s has no effect (%s): subscription_type is %q; map options need map, map_clients or map_users", opt.name, scope, kind)
			}
		}
		if o.AllowTagsFilter {
			st.errorf(where("allow_tags_filter"), "allow_tags_filter needs subscription_type map, map_clients or map_users (%s, subscription_type %q): tags filters are implemented for map subscriptions only", scope, kind)
		}
		return
	}
	m := &o.Map
	modeAt := where("map.mode")
	if st.rejected(modeAt) {
		return
	}
	if m.Mode == "" {
		st.errorf(modeAt, "map.mode is required with subscription_type %s (%s): ephemeral, recoverable or persistent", o.SubscriptionType, scope)
		return
	}
	keyTTLAt := where("map.key_ttl")
	if !isSet("map.key_ttl") {
		keyTTLAt = modeAt
	}
	switch m.Mode {
	case "ephemeral", "recoverable":
		if m.KeyTTL <= 0 {
			st.errorf(keyTTLAt, "map.mode %s needs map.key_ttl greater than 0 (%s): the keys of a %s map expire after it", m.Mode, scope, m.Mode)
		}
	case "persistent":
		if m.KeyTTL > 0 {
			st.errorf(keyTTLAt, "map.key_ttl must be 0 with map.mode persistent (%s): persistent keys never expire; use recoverable for keys with a lifetime", scope)
		}
		if o.SubscriptionType == "map_clients" || o.SubscriptionType == "map_users" {
			st.errorf(modeAt, "map.mode persistent is not allowed with subscription_type %s (%s): presence entries are cleaned up by their key_ttl; use ephemeral or recoverable", o.SubscriptionType, scope)
		}
	}
	if m.Mode == "ephemeral" {
		for _, f := range []struct {
			name string
			set  bool
		}{{"map.stream_size", m.StreamSize != 0}, {"map.stream_ttl", m.StreamTTL != 0}, {"map.meta_ttl", m.MetaTTL != 0}} {
			if f.set {
				st.errorf(where(f.name), "%s must be 0 with map.mode ephemeral (%s): an ephemeral map keeps no stream", f.name, scope)
			}
		}
	} else if m.MetaTTL > 0 {
		streamTTL := m.StreamTTL
		if streamTTL == 0 {
			streamTTL = DefaultMapStreamTTL
		}
		if m.MetaTTL < streamTTL {
			st.errorf(where("map.meta_ttl"), "map.meta_ttl (%s) must be at least map.stream_ttl (%s) (%s): the stream's position must outlive the stream", m.MetaTTL, streamTTL, scope)
		}
	}
	if m.ClientKey != "" {
		// Both would decide the key of a write; Centrifugo refuses the
		// pair rather than let the proxy silently win.
		for _, p := range []struct {
			name string
			on   bool
		}{{"map.publish_proxy_enabled", m.PublishProxyEnabled}, {"map.remove_proxy_enabled", m.RemoveProxyEnabled}} {
			if p.on {
				st.errorf(where("map.client_key"), "map.client_key cannot be combined with %s (%s): the proxy decides the key of each write", p.name, scope)
			}
		}
	}
	st.checkMapPageSizes(m, where, scope)
}

// checkMapPageSizes keeps min ≤ default ≤ max. Two sizes that were both
// written and disagree are an error, as in Centrifugo; one written size
// that disagrees with the default of another is a warning, because the
// clamp would quietly change it.
func (st *state) checkMapPageSizes(m *MapOptions, where func(string) loc, scope string) {
	type size struct {
		name   string
		v, eff int
	}
	sz := func(name string, v, def int) size {
		if v == 0 {
			return size{name, 0, def}
		}
		return size{name, v, v}
	}
	lo := sz("map.min_page_size", m.MinPageSize, DefaultMapMinPageSize)
	def := sz("map.default_page_size", m.DefaultPageSize, DefaultMapPageSize)
	hi := sz("map.max_page_size", m.MaxPageSize, DefaultMapMaxPageSize)
	for _, p := range []struct{ small, big size }{{lo, hi}, {lo, def}, {def, hi}} {
		if p.small.eff <= p.big.eff {
			continue
		}
		switch {
		case p.small.v != 0 && p.big.v != 0:
			at := where(p.small.name)
			if p.small.name == "map.min_page_size" && p.big.name == "map.default_page_size" {
				at = where(p.big.name)
			}
			st.errorf(at, "%s (%d) must not be greater than %s (%d) (%s)", p.small.name, p.small.v, p.big.name, p.big.v, scope)
		case p.small.v != 0:
			st.warnf(where(p.small.name), "%s (%d) is greater than the default %s (%d) (%s): pages are clamped to %d; set %s too", p.small.name, p.small.v, p.big.name, p.big.eff, scope, p.big.eff, p.big.name)
		default:
			st.warnf(where(p.big.name), "%s (%d) is less than the default %s (%d) (%s): pages are clamped; set %s too", p.big.name, p.big.v, p.small.name, p.small.eff, scope, p.small.name)
		}
	}
}

// checkPresencePrefixes runs once every namespace is known: a presence
// prefix must put prefix+channel in a namespace of the matching map type,
// or presence writes would fail at run time instead of at start.
func (st *state) checkPresencePrefixes() {
	c := st.cfg
	check := func(o *ChannelOptions, where func(string) loc, scope string) {
		for _, p := range []struct{ key, prefix, want string }{
			{"map_clients_presence_channel_prefix", o.MapClientsPresenceChannelPrefix, "map_clients"},
			{"map_users_presence_channel_prefix", o.MapUsersPresenceChannelPrefix, "map_users"},
		} {
			if p.prefix == "" {
				continue
			}
			target, ns, ok := st.channelOptionsOf(p.prefix + "x")
			place := "channels without namespace"
			if ns != "" {
				place = fmt.Sprintf("namespace %q", ns)
			}
			switch {
			case !ok:
				st.errorf(where(p.key), "%s %q puts presence channels in namespace %q, which is not defined (%s)", p.key, p.prefix, ns, scope)
			case target.SubscriptionType != p.want:
				got := target.SubscriptionType
				if got == "" {
					got = "stream"
				}
				st.errorf(where(p.key), "%s %q puts presence channels in %s, whose subscription_type is %q, not %q (%s)", p.key, p.prefix, place, got, p.want, scope)
			}
		}
	}
	check(&c.Channel.WithoutNamespace, st.topWhere, "channels without namespace")
	for i := range c.Channel.Namespaces {
		ns := &c.Channel.Namespaces[i]
		where := func(string) loc { return loc{key: "namespaces"} }
		if i < len(st.nsInfos) {
			where = st.nsInfos[i].where
		}
		check(&ns.ChannelOptions, where, fmt.Sprintf("namespace %q", ns.Name))
	}
}

// channelOptionsOf finds the options a channel uses the way the node does:
// the private prefix aside, the part before the namespace boundary names
// the namespace; no boundary means channels without namespace.
func (st *state) channelOptionsOf(ch string) (*ChannelOptions, string, bool) {
	c := st.cfg
	name := strings.TrimPrefix(ch, c.Channel.PrivatePrefix)
	b := c.Channel.NamespaceBoundary
	i := -1
	if b != "" {
		i = strings.Index(name, b)
	}
	if i < 0 {
		return &c.Channel.WithoutNamespace, "", true
	}
	ns := name[:i]
	for j := range c.Channel.Namespaces {
		if c.Channel.Namespaces[j].Name == ns {
			return &c.Channel.Namespaces[j].ChannelOptions, ns, true
		}
	}
	return nil, ns, false
}

// checkMapBroker refuses a map broker Spindle does not have, and one the
// engine cannot be, at load rather than at start.
func (st *state) checkMapBroker() {
	c := st.cfg
	at := st.where("map_broker.type")
	switch c.MapBroker.Type {
	case "postgres":
		st.errorf(at, `the postgres map broker is not supported: use "memory" or "redis"`)
	case "redis":
		if c.Engine.Type != "redis" {
			st.errorf(at, "map_broker.type redis needs engine.type redis (engine is %q): the Redis map broker is the Redis engine", c.Engine.Type)
		}
	case "memory":
		if c.Engine.Type == "redis" && st.anyMapNamespace() {
			st.warnf(at, "is memory while the engine is redis: each node keeps its own map channels, so nodes do not share map state; set map_broker.type redis to share it")
		}
	}
}

func (st *state) anyMapNamespace() bool {
	if IsMapType(st.cfg.Channel.WithoutNamespace.SubscriptionType) {
		return true
	}
	for _, ns := range st.cfg.Channel.Namespaces {
		if IsMapType(ns.SubscriptionType) {
			return true
		}
	}
	return false
}
