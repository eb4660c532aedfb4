package config

import (
	"fmt"
	"strings"
)

// buildProxies turns the per-event v5/v6 keys into Proxies.Connect…,
// resolving connect/refresh/rpc proxy names.
func (st *state) buildProxies() {
	c := st.cfg
	var out [numEvents]*Proxy
	for ev := 0; ev < numEvents; ev++ {
		out[ev] = st.eventProxy(ev)
	}
	c.Proxy.Connect = out[evConnect]
	c.Proxy.Refresh = out[evRefresh]
	c.Proxy.Subscribe = out[evSubscribe]
	c.Proxy.Publish = out[evPublish]
	c.Proxy.SubRefresh = out[evSubRefresh]
	c.Proxy.RPC = out[evRPC]
	c.Proxy.SubscribeStream = out[evSubscribeStream]
	c.Proxy.MapPublish = out[evMapPublish]
	c.Proxy.MapRemove = out[evMapRemove]
	c.Proxy.SharedPollRefresh = out[evSharedPollRefresh]
}

// eventRefs are the keys naming the proxy of connection-wide events.
var eventRefs = map[int]struct {
	key   string
	field func(c *Config) *string
}{
	evConnect: {"connect_proxy_name", func(c *Config) *string { return &c.Proxy.ConnectProxyName }},
	evRefresh: {"refresh_proxy_name", func(c *Config) *string { return &c.Proxy.RefreshProxyName }},
	evRPC:     {"rpc_proxy_name", func(c *Config) *string { return &c.RPC.ProxyName }},
}

// eventProxy decides the proxy of one event from its endpoint, its
// enabled hint and, for connect/refresh/rpc, a proxy name.
func (st *state) eventProxy(ev int) *Proxy {
	e := proxyEvents[ev]
	epKey := e.endpointKey()
	epAt := st.where(epKey)
	endpoint := st.endpoints[ev]
	if endpoint != "" {
		if err := validateEndpoint(endpoint); err != nil {
			st.errorf(epAt, "%v", err)
			endpoint = ""
		} else if ev == evSubscribeStream && isHTTPEndpoint(endpoint) {
			st.errorf(epAt, "the subscribe stream proxy works over gRPC only")
			endpoint = ""
		} else if ev == evSubscribeStream {
			// Namespaces that switch the stream proxy on are refused where
			// they do; the endpoint alone would otherwise sit there unused.
			st.warnf(epAt, "subscribe stream proxies are not supported yet: this endpoint is not used")
		}
	}
	if st.cfg.Proxy.Granular && endpoint != "" {
		st.warnf(epAt, "ignored: granular_proxy_mode is on, so proxies come from proxies[] and the *_proxy_name keys")
		endpoint = ""
	}
	hintSet := e.hint != "" && st.isSet(e.hint)
	hint := st.hints[ev]
	if ref, ok := eventRefs[ev]; ok {
		name := ref.field(st.cfg)
		if *name == "default" {
			*name = ""
		}
		if *name != "" {
			p := st.lookupProxy(*name, st.where(ref.key))
			if hintSet && !hint {
				return nil
			}
			return p
		}
	}
	switch {
	case hintSet && hint && st.endpoints[ev] == "":
		hintAt := st.where(e.hint)
		st.errorf(hintAt, "true but %s is empty: set the endpoint or remove %s", epKey, hintAt.key)
		return nil
	case hintSet && !hint:
		if endpoint != "" {
			st.warnf(st.where(e.hint), "false, so %s is not used", epAt.key)
		}
		return nil
	case endpoint == "":
		return nil
	}
	if st.timeouts[ev] <= 0 {
		st.errorf(st.where(e.timeoutKey()), "proxy timeout must be greater than 0")
	}
	p := st.events[ev]
	p.Name = e.name
	p.Endpoint = endpoint
	p.Timeout = st.timeouts[ev]
	st.checkProxyTLS(&p, func(o *proxyOpt) loc {
		if o.global != "" && st.isSet(o.global) && !st.isSet(e.v6+"."+o.v6Name()) {
			return st.where(o.global)
		}
		return st.where(e.v6 + "." + o.v6Name())
	})
	return &p
}

// checkProxyTLS folds v5's grpc_cert_file into the grpc.tls object (the
// file alone turned TLS on there), checks both TLS objects' PEM, and warns
// about an object that cannot apply to the endpoint's protocol. where
// locates an option of this proxy.
func (st *state) checkProxyTLS(p *Proxy, where func(o *proxyOpt) loc) {
	locs := func(enabled, prefix string) tlsLocs {
		return tlsLocs{where(proxyOptIndex[enabled]), where(proxyOptIndex[prefix+".cert_pem"]),
			where(proxyOptIndex[prefix+".key_pem"]), where(proxyOptIndex[prefix+".server_ca_pem"])}
	}
	gl, hl := locs("grpc_tls", "grpc.tls"), locs("http.tls.enabled", "http.tls")
	if p.GRPCCertFile != "" {
		p.GRPCTLS.Enabled = true
		if p.GRPCTLS.CAFile == "" {
			p.GRPCTLS.CAFile = p.GRPCCertFile
			gl.ca = where(proxyOptIndex["grpc_cert_file"])
		}
	}
	st.checkClientTLS(&p.GRPCTLS, gl)
	st.checkClientTLS(&p.HTTPTLS, hl)
	lower := strings.ToLower(p.Endpoint)
	switch {
	case p.Endpoint == "":
	case isHTTPEndpoint(p.Endpoint) && p.GRPCTLS.Enabled && isSetAt(gl.enabled) && gl.enabled.key != "proxy_grpc_tls":
		st.warnf(gl.enabled, "ignored: proxy %q calls %s over HTTP; its TLS settings are http.tls", p.Name, p.Endpoint)
	case !isHTTPEndpoint(p.Endpoint) && p.HTTPTLS.Enabled:
		st.warnf(hl.enabled, "ignored: proxy %q calls %s over gRPC; its TLS settings are grpc.tls", p.Name, p.Endpoint)
	case strings.HasPrefix(lower, "http://") && p.HTTPTLS.Enabled:
		st.warnf(hl.enabled, "ignored: proxy %q endpoint %s is plain http://; use https:// for TLS", p.Name, p.Endpoint)
	}
}

func isHTTPEndpoint(ep string) bool {
	l := strings.ToLower(ep)
	return strings.HasPrefix(l, "http://") || strings.HasPrefix(l, "https://")
}

// resolveChannelProxies fills ChannelOptions.*Proxy for the top level and
// every namespace, and RPCNamespace.Proxy.
func (st *state) resolveChannelProxies() {
	c := st.cfg
	st.resolveOptions(&c.Channel.WithoutNamespace, st.topWhere, "channels without namespace")
	for i := range c.Channel.Namespaces {
		ns := &c.Channel.Namespaces[i]
		where := func(opt string) loc { return loc{key: "namespaces"} }
		if i < len(st.nsInfos) {
			where = st.nsInfos[i].where
		}
		st.resolveOptions(&ns.ChannelOptions, where, fmt.Sprintf("namespace %q", ns.Name))
	}
	for i := range c.RPC.Namespaces {
		ns := &c.RPC.Namespaces[i]
		var info rpcNsInfo
		if i < len(st.rpcInfos) {
			info = st.rpcInfos[i]
		}
		if ns.ProxyName == "default" {
			ns.ProxyName = ""
		}
		enabled := ns.ProxyName != "" // v5: a name routes the namespace
		if info.enabledSet {
			enabled = info.enabled // v6: proxy_enabled decides
		}
		if !enabled {
			continue
		}
		if ns.ProxyName != "" {
			ns.Proxy = st.lookupProxy(ns.ProxyName, info.proxyAt)
			continue
		}
		ns.Proxy = c.Proxy.RPC
		if ns.Proxy == nil {
			st.warnf(info.enabledAt, "rpc namespace %q has its proxy enabled but no rpc proxy is configured: its calls will fail with 108", ns.Name)
		}
	}
}

func (st *state) lookupProxy(name string, at loc) *Proxy {
	for i := range st.cfg.Proxy.Named {
		if st.cfg.Proxy.Named[i].Name == name {
			return &st.cfg.Proxy.Named[i]
		}
	}
	st.errorf(at, "unknown proxy %q (%s)", name, namedList(st.cfg.Proxy.Named))
	return nil
}

func (st *state) resolveOptions(o *ChannelOptions, where func(string) loc, scope string) {
	p := st.cfg.Proxy
	type proxyRef struct {
		enabled  *bool
		name     *string
		out      **Proxy
		def      *Proxy
		optName  string
		nameKey  string
		endpoint string
		// v6 references (the map proxies) are switched by their
		// *_enabled key alone, whatever granular_proxy_mode says.
		v6 bool
	}
	refs := []proxyRef{
		{&o.ProxySubscribe, &o.SubscribeProxyName, &o.SubscribeProxy, p.Subscribe, "proxy_subscribe", "subscribe_proxy_name", "proxy_subscribe_endpoint", false},
		{&o.ProxyPublish, &o.PublishProxyName, &o.PublishProxy, p.Publish, "proxy_publish", "publish_proxy_name", "proxy_publish_endpoint", false},
		{&o.ProxySubRefresh, &o.SubRefreshProxyName, &o.SubRefreshProxy, p.SubRefresh, "proxy_sub_refresh", "sub_refresh_proxy_name", "proxy_sub_refresh_endpoint", false},
		{&o.ProxySubscribeStream, &o.SubscribeStreamProxyName, &o.SubscribeStreamProxy, p.SubscribeStream, "proxy_subscribe_stream", "subscribe_stream_proxy_name", "proxy_subscribe_stream_endpoint", false},
	}
	// Map options outside a map namespace are refused by checkMapOptions;
	// resolving them too would only add warnings about the same keys.
	if IsMapType(o.SubscriptionType) {
		refs = append(refs,
			proxyRef{&o.Map.PublishProxyEnabled, &o.Map.PublishProxyName, &o.Map.PublishProxy, p.MapPublish, "map.publish_proxy_enabled", "map.publish_proxy_name", proxyEvents[evMapPublish].endpointKey(), true},
			proxyRef{&o.Map.RemoveProxyEnabled, &o.Map.RemoveProxyName, &o.Map.RemoveProxy, p.MapRemove, "map.remove_proxy_enabled", "map.remove_proxy_name", proxyEvents[evMapRemove].endpointKey(), true},
		)
	}
	if o.SubscriptionType == SubscriptionSharedPoll {
		st.resolveSharedPollProxy(o, where, scope)
	}
	for _, it := range refs {
		if *it.name == "default" {
			*it.name = ""
		}
		if p.Granular && *it.name != "" && !it.v6 {
			*it.enabled = true // v5 granular mode: the name is the switch
		}
		if !*it.enabled {
			if *it.name != "" {
				st.warnf(where(it.nameKey), "%s has no effect while %s is off (%s)", it.nameKey, it.optName, scope)
			}
			continue
		}
		if *it.name != "" {
			*it.out = st.lookupProxy(*it.name, where(it.nameKey))
			continue
		}
		*it.out = it.def
		if it.def == nil {
			how := "set " + it.endpoint
			if p.Granular || it.v6 {
				how = "set " + it.nameKey
			}
			if it.v6 && !p.Granular {
				how += " or " + it.endpoint
			}
			st.warnf(where(it.optName), "%s is on but no proxy is configured for it: requests will fail with error 108; %s (%s)", it.optName, how, scope)
		}
	}
}
