package config

import (
	"fmt"
	"time"
)

// checkSharedPollOptions applies Centrifugo's rules for shared-poll
// subscriptions to one set of channel options, plus Spindle's: shared_poll
// options on a namespace of another type would do nothing, so they are
// refused, and stream options a shared-poll channel never uses are
// warned about. The refresh proxy is resolved later, with the other
// proxies (resolveSharedPollProxy). where locates an option by its name,
// isSet says whether it was written.
func (st *state) checkSharedPollOptions(o *ChannelOptions, where func(string) loc, isSet func(string) bool, scope string) {
	if st.rejected(where("subscription_type")) {
		return // a second error about the same mistake would only confuse
	}
	if o.SubscriptionType != SubscriptionSharedPoll {
		kind := o.SubscriptionType
		if kind == "" {
			kind = "stream"
		}
		for _, opt := range sharedPollChanOpts {
			if isSet(opt.name) {
				st.errorf(where(opt.name), "%s has no effect (%s): subscription_type is %q; shared_poll options need subscription_type shared_poll", opt.name, scope, kind)
			}
		}
		return
	}
	sp := &o.SharedPoll
	if sp.PublishEnabled && sp.Mode != "versioned" && !st.rejected(where("shared_poll.mode")) {
		mode := "versionless"
		if sp.Mode == "" {
			mode += ", the default"
		}
		st.errorf(where("shared_poll.publish_enabled"), "shared_poll.publish_enabled needs shared_poll.mode versioned (%s; the mode is %s): shared_poll_publish pushes items under the backend's versions", scope, mode)
	}
	// A shared-poll subscriber's position is the versions of the keys it
	// tracks: the server keeps no publication history for the channel, so
	// these options would silently do nothing. Presence and join/leave
	// do work (they follow the subscribers), and so do deltas (per key).
	for _, f := range []struct {
		name string
		set  bool
	}{
		{"history_size", o.HistorySize != 0},
		{"history_ttl", o.HistoryTTL != 0},
		{"history_meta_ttl", o.HistoryMetaTTL != 0},
		{"force_recovery", o.ForceRecovery},
		{"allow_recovery", o.AllowRecovery},
		{"force_recovery_mode", o.ForceRecoveryMode != ""},
		{"force_positioning", o.ForcePositioning},
		{"allow_positioning", o.AllowPositioning},
	} {
		if f.set {
			st.warnf(where(f.name), "%s has no effect with subscription_type shared_poll (%s): shared-poll channels keep no history, so there is no recovery or positioning; a subscriber's position is the versions of the keys it tracks", f.name, scope)
		}
	}
}

// resolveSharedPollProxy picks a shared_poll namespace's refresh proxy: the
// proxies[] entry shared_poll.proxy_name names, else (empty or "default")
// the channel.proxy.shared_poll_refresh object. There is no switch: the
// channel has no data but what this proxy returns, so a namespace without
// one is refused rather than left to answer 108 to every subscriber.
func (st *state) resolveSharedPollProxy(o *ChannelOptions, where func(string) loc, scope string) {
	sp := &o.SharedPoll
	if sp.ProxyName == "default" {
		sp.ProxyName = ""
	}
	at := where("shared_poll.proxy_name")
	if st.rejected(at) {
		return
	}
	if sp.ProxyName != "" {
		sp.Proxy = st.lookupProxy(sp.ProxyName, at)
		return
	}
	sp.Proxy = st.cfg.Proxy.SharedPollRefresh
	if sp.Proxy != nil {
		return
	}
	ep := proxyEvents[evSharedPollRefresh].endpointKey()
	how := "name a proxies[] entry, or set " + ep
	if st.cfg.Proxy.Granular {
		how = "name a proxies[] entry (granular_proxy_mode is on, so " + ep + " is not used)"
	}
	st.errorf(at, "shared_poll.proxy_name is required with subscription_type shared_poll when %s is not configured (%s): %s; the channel's items come only from this proxy", proxyEvents[evSharedPollRefresh].v6, scope, how)
}

// maxUnixSeconds is far beyond any real expiry (year 5138): a larger
// hmac_previous_secret_key_valid_until is almost surely milliseconds.
const maxUnixSeconds = 1e11

// checkSharedPoll runs once every namespace is known: the top-level
// shared_poll keys against the namespaces that use them. No message shows
// a key's value.
func (st *state) checkSharedPoll() {
	sp := &st.cfg.SharedPoll
	first, firstScope := st.firstSharedPollNamespace()
	for _, k := range []struct{ name, value string }{
		{"shared_poll.hmac_secret_key", sp.HMACSecretKey},
		{"shared_poll.hmac_previous_secret_key", sp.HMACPreviousSecretKey},
	} {
		// As for token_hmac_secret_key: one signed batch lets anyone guess
		// a short key offline, and then sign batches for any key.
		if n := len(k.value); n > 0 && n < minHMACSecretLen {
			st.warnf(st.where(k.name), "is %d bytes: anyone holding one track signature can guess it offline; use at least %d random bytes", n, minHMACSecretLen)
		}
	}
	secretAt := st.where("shared_poll.hmac_secret_key")
	if first != nil && sp.HMACSecretKey == "" && !st.rejected(secretAt) {
		place := ""
		if first.line > 0 {
			place = fmt.Sprintf(" at line %d", first.line)
		}
		st.errorf(secretAt, "required: %s has subscription_type shared_poll%s, and its clients' track requests are verified with this key", firstScope, place)
	}
	if sp.HMACPreviousSecretKeyValidUntil != 0 && sp.HMACPreviousSecretKey == "" {
		st.warnf(st.where("shared_poll.hmac_previous_secret_key_valid_until"), "has no effect: shared_poll.hmac_previous_secret_key is not set")
	}
	if sp.HMACPreviousSecretKeyValidUntil > maxUnixSeconds {
		st.warnf(st.where("shared_poll.hmac_previous_secret_key_valid_until"), "%d is after the year 5000 in Unix seconds: the value is seconds, not milliseconds (now is %d)", sp.HMACPreviousSecretKeyValidUntil, time.Now().Unix())
	}
	if first == nil {
		for _, d := range sharedPollKeys() {
			if st.isSet(d.name) && !st.rejected(st.where(d.name)) {
				st.warnf(st.where(d.name), "has no effect: no namespace (nor channel.without_namespace) has subscription_type shared_poll")
			}
		}
	}
}

// firstSharedPollNamespace locates the subscription_type of the first
// shared_poll channel options (nil when there is none) and names them.
func (st *state) firstSharedPollNamespace() (*loc, string) {
	c := st.cfg
	if c.Channel.WithoutNamespace.SubscriptionType == SubscriptionSharedPoll {
		at := st.topWhere("subscription_type")
		return &at, "channel.without_namespace"
	}
	for i, ns := range c.Channel.Namespaces {
		if ns.SubscriptionType != SubscriptionSharedPoll {
			continue
		}
		at := loc{key: "namespaces"}
		if i < len(st.nsInfos) {
			at = st.nsInfos[i].where("subscription_type")
		}
		return &at, fmt.Sprintf("namespace %q", ns.Name)
	}
	return nil, ""
}
