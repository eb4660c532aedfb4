package config

import (
	"fmt"
	"net"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/gobwas/glob"
)

// finish derives the combined settings and runs the checks that involve
// more than one key.
func (st *state) finish() {
	st.checkClient()
	st.checkCommandRateLimit()
	st.checkTokens()
	st.checkChannelOptions(&st.cfg.Channel.WithoutNamespace, st.topWhere, "channels without namespace")
	st.checkMapOptions(&st.cfg.Channel.WithoutNamespace, st.topWhere, st.topIsSet, "channels without namespace")
	st.checkSharedPollOptions(&st.cfg.Channel.WithoutNamespace, st.topWhere, st.topIsSet, "channels without namespace")
	st.checkPresencePrefixes()
	st.checkPersonalChannel()
	st.buildProxies()
	st.resolveChannelProxies()
	st.checkSharedPoll()
	st.checkAPI()
	st.checkAutocert()
	st.checkEngine()
	st.checkMapBroker()
	st.checkAuthPossible()
}

func (st *state) checkClient() {
	c := &st.cfg.Client
	if c.PingInterval <= c.PongTimeout && !st.rejected(st.where("ping_interval")) && !st.rejected(st.where("pong_timeout")) {
		at := st.where("ping_interval")
		if !st.isSet("ping_interval") {
			at = st.where("pong_timeout")
		}
		st.errorf(at, "ping_interval (%s) must be greater than pong_timeout (%s)", c.PingInterval, c.PongTimeout)
	}
	at := st.where("allowed_origins")
	for _, o := range c.AllowedOrigins {
		if o == "*" {
			st.warnf(at, `contains "*": any web page can open connections on behalf of your users; list the real origins instead`)
			continue
		}
		if strings.TrimSpace(o) == "" {
			st.errorf(at, "contains an empty entry")
			continue
		}
		if _, err := glob.Compile(strings.ToLower(o)); err != nil {
			st.errorf(at, "entry %q is not a valid pattern: %v", o, err)
			continue
		}
		if fix, ok := originFix(o); !ok {
			st.warnf(at, "entry %q can never match: a browser's Origin is scheme://host[:port] with no path; use %q", o, fix)
		}
	}
	if c.Insecure {
		st.warnf(st.where("client_insecure"), "no authentication and every permission for everyone; development only")
	}
	if c.InsecureSkipTokenSignature {
		st.warnf(st.where("client_insecure_skip_token_signature_verify"), "token signatures are not verified: anyone can forge tokens; development only")
	}
}

var userIDClaimRe = regexp.MustCompile(`^[a-zA-Z_]+$`)

func (st *state) checkTokens() {
	st.checkToken(&st.cfg.Token, "token_")
	if st.separateSubToken {
		st.cfg.SubToken = st.subToken
		st.checkToken(&st.cfg.SubToken, "subscription_token_")
		return
	}
	st.cfg.SubToken = st.cfg.Token
	for _, f := range tokenFields {
		if name := "subscription_token_" + f.suffix; st.isSet(name) {
			st.warnf(st.where(name), "ignored because separate_subscription_token_config is off (subscription tokens use the token_* settings)")
		}
	}
}

// minHMACSecretLen is the shortest HMAC secret accepted without a warning:
// the HS256 hash size.
const minHMACSecretLen = 32

// checkToken validates one token configuration; prefix is "token_" or
// "subscription_token_" so errors name the key the user wrote.
func (st *state) checkToken(t *Token, prefix string) {
	at := func(suffix string) loc { return st.where(prefix + suffix) }
	if t.RSAPublicKey != "" {
		if err := checkPublicKey(t.RSAPublicKey, "RSA"); err != nil {
			st.errorf(at("rsa_public_key"), "%v", err)
		}
	}
	if t.ECDSAPublicKey != "" {
		if err := checkPublicKey(t.ECDSAPublicKey, "ECDSA"); err != nil {
			st.errorf(at("ecdsa_public_key"), "%v", err)
		}
	}
	// An HMAC secret is only as strong as it is long: RFC 7518 asks for at
	// least the hash size (32 bytes for HS256); a short one can be guessed
	// offline from any single token.
	if n := len(t.HMACSecretKey); n > 0 && n < minHMACSecretLen {
		st.warnf(at("hmac_secret_key"), "is %d bytes: anyone holding one token can guess it offline; use at least %d random bytes (spindle genconfig writes 64 hex characters)", n, minHMACSecretLen)
	}
	if t.Audience != "" && t.AudienceRegex != "" {
		st.errorf(at("audience_regex"), "%saudience and %saudience_regex are mutually exclusive", prefix, prefix)
	}
	if t.Issuer != "" && t.IssuerRegex != "" {
		st.errorf(at("issuer_regex"), "%sissuer and %sissuer_regex are mutually exclusive", prefix, prefix)
	}
	for _, r := range []struct{ suffix, expr string }{{"audience_regex", t.AudienceRegex}, {"issuer_regex", t.IssuerRegex}} {
		if r.expr == "" {
			continue
		}
		if _, err := regexp.Compile(r.expr); err != nil {
			st.errorf(at(r.suffix), "invalid regular expression: %v", err)
		}
	}
	if t.UserIDClaim != "" && !userIDClaimRe.MatchString(t.UserIDClaim) {
		st.errorf(at("user_id_claim"), "claim name %q may only contain letters and _", t.UserIDClaim)
	}
	if ep := t.JWKSPublicEndpoint; ep != "" {
		lower := strings.ToLower(ep)
		if !strings.HasPrefix(lower, "http://") && !strings.HasPrefix(lower, "https://") {
			st.errorf(at("jwks_public_endpoint"), "JWKS endpoint %q must be an http:// or https:// URL", ep)
		}
	}
}

// checkChannelOptions validates one set of channel options; where
// locates an option by its canonical name, scope names the set.
func (st *state) checkChannelOptions(o *ChannelOptions, where func(string) loc, scope string) {
	// History options on a shared-poll namespace do nothing at all, which
	// checkSharedPollOptions says once; their combination rules would only
	// add errors about a feature the channel does not have.
	sharedPoll := o.SubscriptionType == SubscriptionSharedPoll
	if !sharedPoll && !st.rejected(where("history_size")) && !st.rejected(where("history_ttl")) {
		st.checkHistory(o, where, scope)
	}
	if o.ChannelRegex != "" {
		if _, err := regexp.Compile(o.ChannelRegex); err != nil {
			st.errorf(where("channel_regex"), "invalid regular expression: %v", err)
		}
	}
	for _, t := range o.AllowedDeltaTypes {
		if t != "fossil" {
			st.errorf(where("allowed_delta_types"), `unknown delta type %q (only "fossil" exists)`, t)
		}
	}
	if o.ProxySubscribeStream && (o.ProxySubscribe || o.ProxyPublish || o.ProxySubRefresh) {
		st.errorf(where("proxy_subscribe_stream"), "the subscribe stream proxy cannot be combined with proxy_subscribe, proxy_publish or proxy_sub_refresh (%s)", scope)
	}
	// Accepted keys whose feature is not built yet say so by name instead
	// of being silently ignored. A stream proxy would decide who may
	// subscribe, so running without it is refused.
	if o.ProxySubscribeStream || o.SubscribeStreamProxyName != "" {
		st.errorf(where("proxy_subscribe_stream"), "subscribe stream proxies are not supported yet (%s): remove the key, or use proxy_subscribe", scope)
	}
	// Delta settings that cannot take effect say why: a patch needs the
	// previous publication of the stream, which exists only with history.
	// A map's patch base is the key's previous value, kept by the map's
	// own stream, so maps need a stream-backed mode instead of history; a
	// shared-poll item's base is the version the connection holds.
	fossil := slices.Contains(o.AllowedDeltaTypes, "fossil")
	isMap := IsMapType(o.SubscriptionType)
	switch {
	case fossil && isMap && o.Map.Mode == "ephemeral":
		st.warnf(where("allowed_delta_types"), "deltas need a map stream (%s): with map.mode ephemeral, subscribers asking for fossil get whole publications; use recoverable or persistent", scope)
	case fossil && !isMap && !sharedPoll && (o.HistorySize <= 0 || o.HistoryTTL <= 0):
		st.warnf(where("allowed_delta_types"), "deltas need history (%s): without history_size and history_ttl, subscribers asking for fossil get whole publications", scope)
	case o.DeltaPublish && !fossil:
		st.warnf(where("delta_publish"), `has no effect (%s): no subscriber can ask for deltas unless allowed_delta_types includes "fossil"`, scope)
	}
}

func (st *state) checkPersonalChannel() {
	c := st.cfg
	if c.Client.PersonalSingleConnection {
		st.warnf(st.where("user_personal_single_connection"), "not supported yet: a user's older connections are not closed when a new one connects")
	}
	ns := c.Client.PersonalChannelNamespace
	opts := &c.Channel.WithoutNamespace
	if ns != "" {
		opts = nil
		for i := range c.Channel.Namespaces {
			if c.Channel.Namespaces[i].Name == ns {
				opts = &c.Channel.Namespaces[i].ChannelOptions
			}
		}
		if opts == nil {
			st.errorf(st.where("user_personal_channel_namespace"), "namespace %q is not defined in namespaces", ns)
			return
		}
	}
	if c.Client.PersonalSingleConnection && !opts.Presence {
		st.errorf(st.where("user_personal_single_connection"), "needs presence on the personal channel's namespace")
	}
}

func (st *state) checkAPI() {
	c := st.cfg
	paths := map[string]string{}
	for _, pfx := range []struct {
		key, val string
		off      bool
	}{
		{"websocket_handler_prefix", c.WebSocket.HandlerPrefix, c.WebSocket.Disabled},
		{"api_handler_prefix", c.HTTPAPI.HandlerPrefix, c.HTTPAPI.Disabled},
		{"http_stream_handler_prefix", c.HTTPStream.HandlerPrefix, !c.HTTPStream.Enabled},
		{"sse_handler_prefix", c.SSE.HandlerPrefix, !c.SSE.Enabled},
		{"emulation_handler_prefix", c.Emulation.HandlerPrefix, !c.HTTPStream.Enabled && !c.SSE.Enabled},
		{"uni_websocket_handler_prefix", c.UniWebSocket.HandlerPrefix, !c.UniWebSocket.Enabled},
		{"uni_sse_handler_prefix", c.UniSSE.HandlerPrefix, !c.UniSSE.Enabled},
		{"uni_http_stream_handler_prefix", c.UniHTTPStream.HandlerPrefix, !c.UniHTTPStream.Enabled},
	} {
		if pfx.off {
			continue
		}
		if !strings.HasPrefix(pfx.val, "/") {
			st.errorf(st.where(pfx.key), "path %q must start with /", pfx.val)
			continue
		}
		// Two endpoints on one path would make the server refuse to start.
		p := strings.TrimSuffix(pfx.val, "/")
		if other, dup := paths[p]; dup {
			st.errorf(st.where(pfx.key), "path %q is also %s", pfx.val, other)
			continue
		}
		paths[p] = pfx.key
	}
	for _, k := range []struct {
		key string
		val int
	}{
		{"http_stream_max_request_body_size", c.HTTPStream.MaxRequestBodySize},
		{"sse_max_request_body_size", c.SSE.MaxRequestBodySize},
		{"emulation_max_request_body_size", c.Emulation.MaxRequestBodySize},
		{"uni_sse_max_request_body_size", c.UniSSE.MaxRequestBodySize},
		{"uni_http_stream_max_request_body_size", c.UniHTTPStream.MaxRequestBodySize},
		{"uni_websocket_message_size_limit", c.UniWebSocket.MessageSizeLimit},
	} {
		if k.val <= 0 {
			st.errorf(st.where(k.key), "must be a positive number of bytes, not %d", k.val)
		}
	}
	if !c.HTTPAPI.Disabled && c.HTTPAPI.Key == "" && !c.HTTPAPI.Insecure {
		st.warnf(st.where("api_key"), "empty and api_insecure is off: every HTTP API call will be rejected")
	}
	if !c.HTTPAPI.Disabled && c.HTTPAPI.Insecure {
		st.warnf(st.where("api_insecure"), "anyone who can reach the HTTP API can publish")
	}
	if c.GRPCAPI.Enabled {
		host := c.GRPCAPI.Address
		if host == "" {
			host = "0.0.0.0"
		}
		addr := net.JoinHostPort(host, fmt.Sprint(c.GRPCAPI.Port))
		if c.GRPCAPI.Key == "" {
			st.warnf(st.where("grpc_api"), "gRPC API on %s has no grpc_api_key: anyone who can reach it can publish", addr)
		}
		if c.GRPCAPI.Port != 0 && c.GRPCAPI.Port == c.HTTP.Port && c.GRPCAPI.Address == c.HTTP.Address {
			st.errorf(st.where("grpc_api_port"), "grpc_api_port %d is also the HTTP port", c.GRPCAPI.Port)
		}
		st.checkListenerTLS(&c.GRPCAPI.TLS, "grpc_api_tls", "grpc_api_tls_cert", "grpc_api_tls_key", "grpc_api.tls.client_ca_pem")
	}
	st.checkListenerTLS(&c.HTTP.TLS, "tls", "tls_cert", "tls_key", "http_server.tls.client_ca_pem")
	if c.HTTP.H2CExternal {
		// As in Centrifugo: cleartext HTTP/2 only where the API and
		// metrics are elsewhere, and never next to TLS on the same port.
		if c.HTTP.TLS.Enabled || c.HTTP.Autocert.Enabled {
			st.errorf(st.where("http_server.h2c_external"), "cannot be combined with TLS on the same port (http_server.tls or tls_autocert)")
		}
		if !internalPortSeparate(c) {
			st.errorf(st.where("http_server.h2c_external"), "needs http_server.internal_port set to a port other than the main one")
		}
	}
}

// internalPortSeparate reports whether the internal listener is a port of
// its own.
func internalPortSeparate(c *Config) bool {
	if c.HTTP.InternalPort == "" {
		return false
	}
	return c.HTTP.InternalPort != strconv.Itoa(c.HTTP.Port)
}

func (st *state) checkEngine() {
	r := &st.cfg.Engine.Redis
	if st.cfg.Engine.Type != "redis" {
		for _, k := range []string{"redis_address", "redis_cluster_address", "redis_sentinel_address"} {
			if st.isSet(k) {
				st.warnf(st.where(k), "ignored: engine is %q, not \"redis\"", st.cfg.Engine.Type)
			}
		}
		return
	}
	for _, set := range []struct {
		key   string
		addrs []string
	}{{"redis_address", r.Addresses}, {"redis_cluster_address", r.ClusterAddresses}, {"redis_sentinel_address", r.SentinelAddresses}} {
		for _, addr := range set.addrs {
			if err := validateRedisAddress(addr); err != nil {
				st.errorf(st.where(set.key), "%v", err)
			}
		}
	}
	if len(r.Addresses) == 0 && len(r.ClusterAddresses) == 0 && len(r.SentinelAddresses) == 0 {
		st.errorf(st.where("redis_address"), "engine is redis but no Redis address is set")
	}
	if len(r.SentinelAddresses) > 0 && r.SentinelMasterName == "" {
		st.errorf(st.where("redis_sentinel_address"), "needs redis_sentinel_master_name")
	}
	st.checkClientTLS(&r.TLS, st.keyLocs("redis_tls", "redis_tls_cert", "redis_tls_key", "redis_tls_root_ca"))
	st.checkClientTLS(&r.SentinelTLS, st.keyLocs("redis_sentinel_tls", "redis_sentinel_tls_cert", "redis_sentinel_tls_key", "redis_sentinel_tls_root_ca"))
	if r.SentinelTLS.Enabled && len(r.SentinelAddresses) == 0 {
		st.warnf(st.where("redis_sentinel_tls"), "ignored: no redis_sentinel_address is set")
	}
}

// checkAutocert validates tls_autocert: host names that a certificate
// can be issued for, a cache that is a directory, a challenge address
// that can be bound. It cannot check that Let's Encrypt is reachable.
func (st *state) checkAutocert() {
	ac := &st.cfg.HTTP.Autocert
	keys := []string{"tls_autocert_host_whitelist", "tls_autocert_cache_dir", "tls_autocert_email", "tls_autocert_server_name", "tls_autocert_http", "tls_autocert_http_addr"}
	if !ac.Enabled {
		for _, k := range keys {
			if st.isSet(k) {
				st.warnf(st.where(k), "ignored: tls_autocert is off")
			}
		}
		return
	}
	var hosts []string
	for _, h := range ac.HostWhitelist {
		for _, part := range strings.Split(h, ",") { // v5: one comma-separated string
			if part = strings.TrimSpace(part); part != "" {
				hosts = append(hosts, part)
			}
		}
	}
	ac.HostWhitelist = hosts
	at := st.where("tls_autocert_host_whitelist")
	for _, h := range hosts {
		if strings.ContainsAny(h, ":/ *") {
			st.errorf(at, "%q is not a host name: list bare names such as example.com (no scheme, port, path or wildcard)", h)
		}
	}
	if len(hosts) == 0 {
		st.warnf(st.where("tls_autocert"), "no tls_autocert_host_whitelist: a certificate is requested for any host name a client sends, which lets anyone use up the Let's Encrypt rate limits; list your host names")
	}
	if ac.CacheDir != "" {
		if fi, err := os.Stat(ac.CacheDir); err == nil && !fi.IsDir() {
			st.errorf(st.where("tls_autocert_cache_dir"), "%q is not a directory", ac.CacheDir)
		}
	}
	if ac.HTTP {
		if _, _, err := net.SplitHostPort(ac.HTTPAddr); err != nil {
			st.errorf(st.where("tls_autocert_http_addr"), "%q is not host:port (e.g. :80): %v", ac.HTTPAddr, err)
		}
	}
	if st.cfg.HTTP.TLS.Enabled {
		st.warnf(st.where("tls"), "tls_autocert is on and wins: the main port uses certificates from Let's Encrypt, not tls_cert/tls_key")
	}
}

// checkAuthPossible warns when no client could ever connect: a common
// first-run mistake that otherwise shows up only as 3501 disconnects.
func (st *state) checkAuthPossible() {
	c := st.cfg
	t := c.Token
	if c.Client.Insecure || c.Client.AllowAnonymousConnectWithoutToken || c.Client.InsecureSkipTokenSignature || c.Proxy.Connect != nil {
		return
	}
	if t.HMACSecretKey != "" || t.RSAPublicKey != "" || t.ECDSAPublicKey != "" || t.JWKSPublicEndpoint != "" {
		return
	}
	st.warns = append(st.warns, Warning{Msg: "clients have no way to authenticate: set token_hmac_secret_key (or another token_* key), a connect proxy, or allow_anonymous_connect_without_token"})
}

// checkHistory validates the options that depend on history being on.
func (st *state) checkHistory(o *ChannelOptions, where func(string) loc, scope string) {
	history := o.HistorySize > 0 && o.HistoryTTL > 0
	switch {
	case o.HistorySize > 0 && o.HistoryTTL == 0:
		st.errorf(where("history_size"), "history_size is set but history_ttl is not (%s): history needs both", scope)
	case o.HistoryTTL > 0 && o.HistorySize == 0:
		st.errorf(where("history_ttl"), "history_ttl is set but history_size is not (%s): history needs both", scope)
	}
	if o.ForceRecovery && !history {
		st.errorf(where("force_recovery"), "force_recovery needs history: set history_size and history_ttl (%s)", scope)
	}
	if o.AllowRecovery && !history {
		st.warnf(where("allow_recovery"), "allow_recovery has no effect without history_size and history_ttl (%s)", scope)
	}
	if (o.ForcePositioning || o.AllowPositioning) && !history {
		st.warnf(where("force_positioning"), "positioning has no effect without history_size and history_ttl (%s)", scope)
	}
	if o.HistoryMetaTTL > 0 && o.HistoryMetaTTL < o.HistoryTTL {
		st.warnf(where("history_meta_ttl"), "history_meta_ttl (%s) is shorter than history_ttl (%s): stream positions would expire before the history (%s)", o.HistoryMetaTTL, o.HistoryTTL, scope)
	}
}

// decodeInternalPort takes internal_port as Centrifugo v6 types it, a string
// ("9000"), or as the number most people write.
func decodeInternalPort(st *state, n *node, at loc) {
	text := n.text
	if n.kind != kindNumber {
		if !st.assign(&text, n, at, rules{}) {
			return
		}
	}
	if text != "" {
		p, err := strconv.Atoi(text)
		if err != nil || p < 0 || p > 65535 {
			st.errorf(at, "%q is not a port (0-65535)", text)
			return
		}
	}
	st.cfg.HTTP.InternalPort = text
}
