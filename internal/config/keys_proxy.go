package config

import "time"

// proxyOpt is one option of a proxy object. The same option appears as a
// shared v5 top-level key (proxy_http_headers…), inside granular-mode
// proxies[] entries, and inside each v6 per-event proxy object.
type proxyOpt struct {
	name   string // in proxies[] entries (v5)
	v6     string // v6 spelling inside proxy objects, when it differs
	global string // v5 top-level key shared by the per-event proxies
	target func(p *Proxy) any
	decode func(st *state, n *node, at loc, p *Proxy)
	kind   valueKind
	doc    string
	// v5only options have no spelling inside v6 per-event objects.
	v5only bool
}

func (o *proxyOpt) v6Name() string {
	if o.v6 != "" {
		return o.v6
	}
	return o.name
}

var proxyOpts = withKinds(append([]*proxyOpt{
	{name: "http_headers", global: "proxy_http_headers", doc: "request headers forwarded to the proxy (case-insensitive allow-list)",
		target: func(p *Proxy) any { return &p.HTTPHeaders }},
	{name: "grpc_metadata", global: "proxy_grpc_metadata", doc: "gRPC metadata keys forwarded to the proxy",
		target: func(p *Proxy) any { return &p.GRPCMetadata }},
	{name: "static_http_headers", v6: "http.static_headers", global: "proxy_static_http_headers", doc: "headers added to every HTTP proxy request",
		target: func(p *Proxy) any { return &p.StaticHTTPHeaders }},
	{name: "binary_encoding", global: "proxy_binary_encoding", doc: "send payloads base64-encoded (b64data/b64info)",
		target: func(p *Proxy) any { return &p.BinaryEncoding }},
	{name: "include_connection_meta", global: "proxy_include_connection_meta", doc: "add the connection meta to non-connect requests",
		target: func(p *Proxy) any { return &p.IncludeConnectionMeta }},
	{name: "grpc_tls", v6: "grpc.tls.enabled", global: "proxy_grpc_tls", doc: "call gRPC proxies over TLS (plaintext when off)",
		target: func(p *Proxy) any { return &p.GRPCTLS.Enabled }},
	{name: "grpc_cert_file", global: "proxy_grpc_cert_file", v5only: true, doc: "CA file that gRPC proxy servers must chain to; setting it turns TLS on (v6: grpc.tls.server_ca_pem)",
		target: func(p *Proxy) any { return &p.GRPCCertFile }},
	{name: "http.tls.enabled", doc: "https:// proxies: use the http.tls object (system roots work without it)",
		target: func(p *Proxy) any { return &p.HTTPTLS.Enabled }},
	{name: "grpc_credentials_key", v6: "grpc.credentials_key", global: "proxy_grpc_credentials_key", doc: "per-call metadata key sent to gRPC proxies",
		target: func(p *Proxy) any { return &p.GRPCCredentialsKey }},
	{name: "grpc_credentials_value", v6: "grpc.credentials_value", global: "proxy_grpc_credentials_value", doc: "value for grpc_credentials_key",
		target: func(p *Proxy) any { return &p.GRPCCredentialsValue }},
	{name: "grpc_compression", v6: "grpc.compression", global: "proxy_grpc_compression", doc: "gzip gRPC proxy calls",
		target: func(p *Proxy) any { return &p.GRPCCompression }},
	{name: "http_status_to_code_transforms", v6: "http.status_to_code_transforms", global: "proxy_http_status_code_transforms", kind: vObjects,
		doc:    "map HTTP proxy status codes to client errors or disconnects",
		decode: func(st *state, n *node, at loc, p *Proxy) { p.StatusCodeTransforms = st.decodeTransforms(n, at) }},
}, append(tlsOpts("grpc.tls", "gRPC proxy TLS", func(p *Proxy) *TLS { return &p.GRPCTLS }),
	tlsOpts("http.tls", "HTTPS proxy TLS", func(p *Proxy) *TLS { return &p.HTTPTLS })...)...))

// tlsOpts are the fields of a v6 TLS object inside a proxy object other
// than enabled (grpc.tls.*, http.tls.*); v5 had no such spellings.
func tlsOpts(prefix, what string, t func(p *Proxy) *TLS) []*proxyOpt {
	return []*proxyOpt{
		{name: prefix + ".cert_pem", doc: what + ": client certificate (PEM, base64 of PEM, or a file path)",
			target: func(p *Proxy) any { return &t(p).CertFile }},
		{name: prefix + ".key_pem", doc: what + ": key of the client certificate",
			target: func(p *Proxy) any { return &t(p).KeyFile }},
		{name: prefix + ".server_ca_pem", doc: what + ": CA the proxy server must chain to (default: system roots)",
			target: func(p *Proxy) any { return &t(p).CAFile }},
		{name: prefix + ".server_name", doc: what + ": host name expected in the server certificate (and sent as SNI)",
			target: func(p *Proxy) any { return &t(p).ServerName }},
		{name: prefix + ".insecure_skip_verify", doc: what + ": accept any server certificate (development only)",
			target: func(p *Proxy) any { return &t(p).InsecureSkipVerify }},
		{name: prefix + ".client_ca_pem", kind: vString, doc: what + ": has no meaning on a connection Spindle makes; warned about and ignored",
			decode: func(st *state, n *node, at loc, _ *Proxy) {
				var v string
				if st.assign(&v, n, at, rules{}) && v != "" {
					st.warnf(at, "ignored: a proxy call is a client connection; client_ca_pem checks the clients of a listener (use server_ca_pem for the proxy's CA)")
				}
			}},
	}
}

// withKinds derives each option's kind from its target field.
func withKinds(opts []*proxyOpt) []*proxyOpt {
	for _, o := range opts {
		if o.target != nil {
			o.kind = kindOfTarget(o.target(&Proxy{}))
		}
	}
	return opts
}

// proxyEvent is one kind of proxied event with its own v5 endpoint keys.
type proxyEvent struct {
	name string // infix of proxy_<name>_endpoint
	v6   string // v6 object path
	// hint is the "enabled" switch key; empty when the event has none.
	hint, hintV6 string
	// v6only events (the map write proxies and the shared-poll refresh
	// proxy, Centrifugo v6.8+) have no flat proxy_<name>_* keys: their
	// endpoint and timeout are spelled only inside the v6 object.
	v6only bool
	// defaultOf names, for a v6only event, the namespace key whose empty
	// (or "default") value picks this proxy, for the docs.
	defaultOf string
}

// endpointKey and timeoutKey are the canonical names of the event's
// endpoint and timeout keys.
func (e *proxyEvent) endpointKey() string {
	if e.v6only {
		return e.v6 + ".endpoint"
	}
	return "proxy_" + e.name + "_endpoint"
}

func (e *proxyEvent) timeoutKey() string {
	if e.v6only {
		return e.v6 + ".timeout"
	}
	return "proxy_" + e.name + "_timeout"
}

const (
	evConnect = iota
	evRefresh
	evSubscribe
	evPublish
	evSubRefresh
	evRPC
	evSubscribeStream
	evMapPublish
	evMapRemove
	evSharedPollRefresh
	numEvents
)

var proxyEvents = [numEvents]proxyEvent{
	evConnect:         {name: "connect", v6: "client.proxy.connect", hint: "proxy_connect", hintV6: "client.proxy.connect.enabled"},
	evRefresh:         {name: "refresh", v6: "client.proxy.refresh", hint: "proxy_refresh", hintV6: "client.proxy.refresh.enabled"},
	evSubscribe:       {name: "subscribe", v6: "channel.proxy.subscribe"},
	evPublish:         {name: "publish", v6: "channel.proxy.publish"},
	evSubRefresh:      {name: "sub_refresh", v6: "channel.proxy.sub_refresh"},
	evRPC:             {name: "rpc", v6: "rpc.proxy", hint: "proxy_rpc", hintV6: "rpc.without_namespace.proxy_enabled"},
	evSubscribeStream: {name: "subscribe_stream", v6: "channel.proxy.subscribe_stream"},
	evMapPublish:      {name: "map_publish", v6: "channel.proxy.map_publish", v6only: true, defaultOf: "map namespaces' map.publish_proxy_name"},
	evMapRemove:       {name: "map_remove", v6: "channel.proxy.map_remove", v6only: true, defaultOf: "map namespaces' map.remove_proxy_name"},
	evSharedPollRefresh: {name: "shared_poll_refresh", v6: "channel.proxy.shared_poll_refresh", v6only: true,
		defaultOf: "shared_poll namespaces' shared_poll.proxy_name"},
}

func proxyKeys() []*keyDef {
	var out []*keyDef
	for ev := 0; ev < numEvents; ev++ {
		ev, e := ev, proxyEvents[ev]
		endpoint := &keyDef{name: e.endpointKey(), aliases: a(e.v6 + ".endpoint"),
			doc:    e.name + " proxy: grpc://host:port, host:port or http(s)://…; setting it enables the proxy",
			target: func(s *state) any { return &s.endpoints[ev] }}
		timeout := &keyDef{name: e.timeoutKey(), aliases: a(e.v6 + ".timeout"), def: "1s",
			doc:    e.name + " proxy call deadline",
			target: func(s *state) any { return &s.timeouts[ev] }}
		if e.v6only {
			endpoint.aliases, endpoint.v6only = nil, true
			endpoint.doc = e.name + " proxy (the default of " + e.defaultOf + "): grpc://host:port, host:port or http(s)://…"
			timeout.aliases, timeout.v6only = nil, true
		}
		out = append(out, endpoint, timeout)
		if e.hint != "" {
			out = append(out, &keyDef{name: e.hint, aliases: a(e.hintV6), def: "false",
				doc:    "v6 'enabled' switch of the " + e.name + " proxy; false turns a configured endpoint off",
				notes:  map[string]string{e.hint: "not a Centrifugo v5 key (there the endpoint alone enables the proxy); read as v6's " + e.hintV6},
				target: func(s *state) any { return &s.hints[ev] }})
		}
	}
	for _, o := range proxyOpts {
		o := o
		if o.global == "" {
			continue // spelled only inside v6 proxy objects
		}
		d := &keyDef{name: o.global, kind: o.kind, doc: "shared by the flat per-event proxies: " + o.doc}
		if o.target != nil {
			d.target = func(s *state) any { return o.target(&s.common) }
		} else {
			d.decode = func(s *state, n *node, at loc) { o.decode(s, n, at, &s.common) }
		}
		out = append(out, d)
	}
	// v6 per-event proxy objects carry their own copy of every option.
	for ev := 0; ev < numEvents; ev++ {
		ev, e := ev, proxyEvents[ev]
		for _, o := range proxyOpts {
			o := o
			if o.v5only {
				continue
			}
			d := &keyDef{name: e.v6 + "." + o.v6Name(), v6only: true, pass2: true, kind: o.kind, doc: e.name + " proxy: " + o.doc}
			if o.target != nil {
				d.target = func(s *state) any { return o.target(&s.events[ev]) }
			} else {
				d.decode = func(s *state, n *node, at loc) { o.decode(s, n, at, &s.events[ev]) }
			}
			out = append(out, d)
		}
	}
	out = append(out,
		&keyDef{name: "granular_proxy_mode", def: "false", doc: "v5 granular mode: proxies are named in proxies[] and picked per namespace; proxy_*_endpoint keys are off",
			target: func(s *state) any { return &s.cfg.Proxy.Granular }},
		&keyDef{name: "proxies", kind: vObjects, doc: "named proxies: objects with name, endpoint, timeout and proxy options",
			decode: decodeProxies},
		&keyDef{name: "connect_proxy_name", doc: "named proxy for connect",
			target: func(s *state) any { return &s.cfg.Proxy.ConnectProxyName }},
		&keyDef{name: "refresh_proxy_name", doc: "named proxy for refresh",
			target: func(s *state) any { return &s.cfg.Proxy.RefreshProxyName }},
	)
	return out
}

// defaultProxyTimeout applies to every proxy without its own timeout.
const defaultProxyTimeout = time.Second
