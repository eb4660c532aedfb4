package config

// Key tables for the server, client, token and API sections (spec §5.2,
// §5.4, §5.6). Each entry names the flat v5 key, its v6 nested spelling,
// the default as documented, and the field it fills.

func a(s ...string) []string { return s }

func serverKeys() []*keyDef {
	return []*keyDef{
		{name: "name", aliases: a("node.name"), doc: "node name shown by the info API; hostname_port when empty",
			target: func(s *state) any { return &s.cfg.Name }},
		{name: "log_level", aliases: a("log.level"), def: "info", doc: "trace, debug, info, warn, error or none",
			rules:  rules{oneOf: a("trace", "debug", "info", "warn", "error", "none")},
			target: func(s *state) any { return &s.cfg.LogLevel }},
		{name: "address", aliases: a("http_server.address"), doc: "interface the main HTTP server binds to (all when empty)",
			target: func(s *state) any { return &s.cfg.HTTP.Address }},
		{name: "port", aliases: a("http_server.port"), def: "8000", doc: "main HTTP port (WebSocket, API, health, metrics)",
			rules:  rules{max: 65535},
			target: func(s *state) any { return &s.cfg.HTTP.Port }},
		{name: "internal_address", aliases: a("http_server.internal_address"), doc: "interface of the internal listener (API, metrics, health); empty: the main address",
			target: func(s *state) any { return &s.cfg.HTTP.InternalAddress }},
		{name: "internal_port", aliases: a("http_server.internal_port"), doc: "port of the internal listener (API, metrics, health); empty: the main port",
			decode: decodeInternalPort},
		{name: "tls", aliases: a("http_server.tls.enabled"), def: "false", doc: "serve HTTPS on the main port",
			target: func(s *state) any { return &s.cfg.HTTP.TLS.Enabled }},
		{name: "tls_cert", aliases: a("http_server.tls.cert_pem"), doc: "certificate for tls: PEM, base64 of PEM, or a file path",
			target: func(s *state) any { return &s.cfg.HTTP.TLS.CertFile }},
		{name: "tls_key", aliases: a("http_server.tls.key_pem"), doc: "key for tls: PEM, base64 of PEM, or a file path",
			target: func(s *state) any { return &s.cfg.HTTP.TLS.KeyFile }},
		{name: "http_server.tls.client_ca_pem", v6only: true, doc: "CA that client certificates must chain to (mutual TLS)",
			target: func(s *state) any { return &s.cfg.HTTP.TLS.CAFile }},
		{name: "tls_autocert", aliases: a("http_server.tls_autocert.enabled"), def: "false", doc: "get the main port's certificates from Let's Encrypt (ACME); wins over tls",
			target: func(s *state) any { return &s.cfg.HTTP.Autocert.Enabled }},
		{name: "tls_autocert_host_whitelist", aliases: a("http_server.tls_autocert.host_whitelist"), doc: "host names autocert may get certificates for (v5: comma-separated); empty allows any",
			rules:  rules{stringOrList: true},
			target: func(s *state) any { return &s.cfg.HTTP.Autocert.HostWhitelist }},
		{name: "tls_autocert_cache_dir", aliases: a("http_server.tls_autocert.cache_dir"), doc: "directory caching autocert certificates across restarts; empty keeps them in memory",
			target: func(s *state) any { return &s.cfg.HTTP.Autocert.CacheDir }},
		{name: "tls_autocert_email", aliases: a("http_server.tls_autocert.email"), doc: "contact e-mail given to the ACME account",
			target: func(s *state) any { return &s.cfg.HTTP.Autocert.Email }},
		{name: "tls_autocert_server_name", aliases: a("http_server.tls_autocert.server_name"), doc: "host name used for handshakes without SNI",
			target: func(s *state) any { return &s.cfg.HTTP.Autocert.ServerName }},
		{name: "tls_autocert_http", aliases: a("http_server.tls_autocert.http"), def: "false", doc: "serve ACME HTTP-01 challenges (and redirects to HTTPS) on tls_autocert_http_addr",
			target: func(s *state) any { return &s.cfg.HTTP.Autocert.HTTP }},
		{name: "tls_autocert_http_addr", aliases: a("http_server.tls_autocert.http_addr"), def: ":80", doc: "address of the HTTP-01 challenge listener",
			target: func(s *state) any { return &s.cfg.HTTP.Autocert.HTTPAddr }},
		{name: "http_server.h2c_external", v6only: true, def: "false", doc: "also serve HTTP/2 without TLS (h2c) on the main port, for a proxy in front that speaks h2; needs a separate internal port and no TLS",
			target: func(s *state) any { return &s.cfg.HTTP.H2CExternal }},
		{name: "websocket_disable", aliases: a("websocket.disabled"), def: "false", doc: "turn the WebSocket endpoint off",
			target: func(s *state) any { return &s.cfg.WebSocket.Disabled }},
		{name: "websocket_handler_prefix", aliases: a("websocket.handler_prefix"), def: "/connection/websocket", doc: "WebSocket endpoint path",
			target: func(s *state) any { return &s.cfg.WebSocket.HandlerPrefix }},
		{name: "websocket_message_size_limit", aliases: a("websocket.message_size_limit"), def: "65536", doc: "largest incoming WebSocket message in bytes (close 1009 beyond)",
			target: func(s *state) any { return &s.cfg.WebSocket.MessageSizeLimit }},
		{name: "websocket_write_timeout", aliases: a("websocket.write_timeout"), def: "1s", doc: "write deadline per WebSocket frame (disconnect 3009 beyond)",
			target: func(s *state) any { return &s.cfg.WebSocket.WriteTimeout }},
		{name: "websocket_compression", aliases: a("websocket.compression"), def: "false", doc: "negotiate permessage-deflate",
			target: func(s *state) any { return &s.cfg.WebSocket.Compression }},
		{name: "http_stream", aliases: a("http_stream.enabled"), def: "false", doc: "serve the HTTP-streaming emulation transport (and the emulation endpoint)",
			target: func(s *state) any { return &s.cfg.HTTPStream.Enabled }},
		{name: "http_stream_handler_prefix", aliases: a("http_stream.handler_prefix"), def: "/connection/http_stream", doc: "HTTP-streaming endpoint path",
			target: func(s *state) any { return &s.cfg.HTTPStream.HandlerPrefix }},
		{name: "http_stream_max_request_body_size", aliases: a("http_stream.max_request_body_size"), def: "65536", doc: "largest HTTP-streaming connect request in bytes (413 beyond)",
			target: func(s *state) any { return &s.cfg.HTTPStream.MaxRequestBodySize }},
		{name: "sse", aliases: a("sse.enabled"), def: "false", doc: "serve the SSE (EventSource) emulation transport (and the emulation endpoint)",
			target: func(s *state) any { return &s.cfg.SSE.Enabled }},
		{name: "sse_handler_prefix", aliases: a("sse.handler_prefix"), def: "/connection/sse", doc: "SSE endpoint path",
			target: func(s *state) any { return &s.cfg.SSE.HandlerPrefix }},
		{name: "sse_max_request_body_size", aliases: a("sse.max_request_body_size"), def: "65536", doc: "largest SSE connect request (POST body or cf_connect) in bytes (413 beyond)",
			target: func(s *state) any { return &s.cfg.SSE.MaxRequestBodySize }},
		{name: "emulation_handler_prefix", aliases: a("emulation.handler_prefix"), def: "/emulation", doc: "path HTTP-streaming and SSE clients post their commands to",
			target: func(s *state) any { return &s.cfg.Emulation.HandlerPrefix }},
		{name: "emulation_max_request_body_size", aliases: a("emulation.max_request_body_size"), def: "65536", doc: "largest emulation request in bytes (413 beyond)",
			target: func(s *state) any { return &s.cfg.Emulation.MaxRequestBodySize }},
		{name: "prometheus", aliases: a("prometheus.enabled"), def: "false", doc: "serve /metrics",
			target: func(s *state) any { return &s.cfg.Prometheus }},
		{name: "health", aliases: a("health.enabled"), def: "false", doc: "serve /health",
			target: func(s *state) any { return &s.cfg.Health }},
		{name: "shutdown_timeout", aliases: a("shutdown.timeout"), def: "30s", doc: "how long a graceful shutdown may take",
			target: func(s *state) any { return &s.cfg.ShutdownTimeout }},
	}
}

func clientKeys() []*keyDef {
	return []*keyDef{
		{name: "allowed_origins", aliases: a("client.allowed_origins"), doc: "Origin globs allowed to open WebSocket connections; empty rejects every browser",
			target: func(s *state) any { return &s.cfg.Client.AllowedOrigins }},
		{name: "client_insecure", aliases: a("client.insecure"), def: "false", doc: "no authentication and every permission for everyone (development only)",
			target: func(s *state) any { return &s.cfg.Client.Insecure }},
		{name: "client_insecure_skip_token_signature_verify", aliases: a("client.insecure_skip_token_signature_verify"), def: "false", doc: "accept JWTs without checking signatures (development only)",
			target: func(s *state) any { return &s.cfg.Client.InsecureSkipTokenSignature }},
		{name: "allow_anonymous_connect_without_token", aliases: a("client.allow_anonymous_connect_without_token"), def: "false", doc: "tokenless connects become anonymous instead of failing",
			target: func(s *state) any { return &s.cfg.Client.AllowAnonymousConnectWithoutToken }},
		{name: "disallow_anonymous_connection_tokens", aliases: a("client.disallow_anonymous_connection_tokens"), def: "false", doc: "reject connection JWTs with an empty sub (3507)",
			target: func(s *state) any { return &s.cfg.Client.DisallowAnonymousConnectionTokens }},
		{name: "ping_interval", aliases: a("client.ping_interval"), def: "25s", doc: "server ping period; must exceed pong_timeout",
			target: func(s *state) any { return &s.cfg.Client.PingInterval }},
		{name: "pong_timeout", aliases: a("client.pong_timeout"), def: "8s", doc: "how long to wait for the client's pong",
			target: func(s *state) any { return &s.cfg.Client.PongTimeout }},
		{name: "client_stale_close_delay", aliases: a("client.stale_close_delay"), def: "10s", doc: "time a new connection has to send connect (3502 beyond)",
			target: func(s *state) any { return &s.cfg.Client.StaleCloseDelay }},
		{name: "client_expired_close_delay", aliases: a("client.expired_close_delay"), def: "25s", doc: "grace after connection expiry for a client-side refresh",
			target: func(s *state) any { return &s.cfg.Client.ExpiredCloseDelay }},
		{name: "client_expired_sub_close_delay", aliases: a("client.expired_sub_close_delay"), def: "25s", doc: "grace after subscription expiry",
			target: func(s *state) any { return &s.cfg.Client.ExpiredSubCloseDelay }},
		{name: "client_presence_update_interval", aliases: a("client.presence_update_interval"), def: "27s", doc: "presence refresh and expiry-check tick",
			target: func(s *state) any { return &s.cfg.Client.PresenceUpdateInterval }},
		{name: "client_channel_position_check_delay", aliases: a("client.channel_position_check_delay"), def: "40s", doc: "how often positioned subscriptions are checked",
			target: func(s *state) any { return &s.cfg.Client.PositionCheckDelay }},
		{name: "client_channel_limit", aliases: a("client.channel_limit"), def: "128", doc: "subscriptions per connection (106 / 3505 beyond)",
			target: func(s *state) any { return &s.cfg.Client.ChannelLimit }},
		{name: "client_queue_max_size", aliases: a("client.queue_max_size"), def: "1048576", doc: "outgoing queue bytes per connection (3008 beyond)",
			target: func(s *state) any { return &s.cfg.Client.QueueMaxSize }},
		{name: "client_connection_limit", aliases: a("client.connection_limit"), def: "0", doc: "connected clients per node, 0 = unlimited (new connections get HTTP 503 beyond)",
			target: func(s *state) any { return &s.cfg.Limits.Connections }},
		{name: "client_connection_rate_limit", aliases: a("client.connection_rate_limit"), def: "0", doc: "new connections per second per node, 0 = unlimited (HTTP 503 beyond)",
			target: func(s *state) any { return &s.cfg.Limits.ConnectionRate }},
		{name: "client_user_connection_limit", aliases: a("client.user_connection_limit"), def: "0", doc: "connections per user per node, 0 = unlimited (3504 beyond)",
			target: func(s *state) any { return &s.cfg.Client.UserConnectionLimit }},
		{name: "client_history_max_publication_limit", aliases: a("client.history_max_publication_limit"), def: "300", doc: "cap on publications a client history call returns",
			target: func(s *state) any { return &s.cfg.Client.HistoryMaxPublicationLimit }},
		{name: "client_recovery_max_publication_limit", aliases: a("client.recovery_max_publication_limit"), def: "300", doc: "cap on publications a recovery returns",
			target: func(s *state) any { return &s.cfg.Client.RecoveryMaxPublicationLimit }},
		{name: "client_connect_include_server_time", aliases: a("client.connect_include_server_time"), def: "false", doc: "add time to the connect result",
			target: func(s *state) any { return &s.cfg.Client.ConnectIncludeServerTime }},
		{name: "client_concurrency", aliases: a("client.concurrency"), def: "0", doc: ">1 processes one connection's commands concurrently (replies may reorder)",
			target: func(s *state) any { return &s.cfg.Client.Concurrency }},
		{name: "user_subscribe_to_personal", aliases: a("client.subscribe_to_user_personal_channel.enabled"), def: "false", doc: "server-side subscribe every user to #<user>",
			target: func(s *state) any { return &s.cfg.Client.SubscribeToUserPersonalChannel }},
		{name: "user_personal_channel_namespace", aliases: a("client.subscribe_to_user_personal_channel.personal_channel_namespace"), doc: "namespace of the personal channel",
			target: func(s *state) any { return &s.cfg.Client.PersonalChannelNamespace }},
		{name: "user_personal_single_connection", aliases: a("client.subscribe_to_user_personal_channel.single_connection"), def: "false", doc: "keep one connection per user (needs presence on the personal channel)",
			target: func(s *state) any { return &s.cfg.Client.PersonalSingleConnection }},
	}
}

// tokenFields lists the token_* suffixes and where each goes in Token.
var tokenFields = []struct {
	suffix string
	doc    string
	field  func(t *Token) *string
}{
	{"hmac_secret_key", "HMAC secret for HS256/384/512 tokens", func(t *Token) *string { return &t.HMACSecretKey }},
	{"rsa_public_key", "PEM RSA public key for RS256/384/512 tokens", func(t *Token) *string { return &t.RSAPublicKey }},
	{"ecdsa_public_key", "PEM ECDSA public key for ES256/384/512 tokens", func(t *Token) *string { return &t.ECDSAPublicKey }},
	{"jwks_public_endpoint", "JWKS URL; replaces the static keys", func(t *Token) *string { return &t.JWKSPublicEndpoint }},
	{"audience", "required aud value", func(t *Token) *string { return &t.Audience }},
	{"audience_regex", "regexp aud must match", func(t *Token) *string { return &t.AudienceRegex }},
	{"issuer", "required iss value", func(t *Token) *string { return &t.Issuer }},
	{"issuer_regex", "regexp iss must match", func(t *Token) *string { return &t.IssuerRegex }},
	{"user_id_claim", "claim holding the user id instead of sub", func(t *Token) *string { return &t.UserIDClaim }},
}

func tokenKeys() []*keyDef {
	var out []*keyDef
	for _, f := range tokenFields {
		f := f
		out = append(out, &keyDef{name: "token_" + f.suffix, aliases: a("client.token." + f.suffix), doc: "connection (and subscription) tokens: " + f.doc,
			target: func(s *state) any { return f.field(&s.cfg.Token) }})
	}
	out = append(out, &keyDef{name: "separate_subscription_token_config", aliases: a("client.subscription_token.enabled"), def: "false",
		doc:    "verify subscription tokens with the subscription_token_* keys instead of token_*",
		target: func(s *state) any { return &s.separateSubToken }})
	for _, f := range tokenFields {
		f := f
		out = append(out, &keyDef{name: "subscription_token_" + f.suffix, aliases: a("client.subscription_token." + f.suffix), doc: "subscription tokens (with separate_subscription_token_config): " + f.doc,
			target: func(s *state) any { return f.field(&s.subToken) }})
	}
	return out
}

func apiKeys() []*keyDef {
	errorModes := rules{oneOf: a("", "transport")}
	return []*keyDef{
		{name: "api_key", aliases: a("http_api.key"), doc: "HTTP API key (X-API-Key or Authorization: apikey); empty rejects every call unless api_insecure",
			target: func(s *state) any { return &s.cfg.HTTPAPI.Key }},
		{name: "api_insecure", aliases: a("http_api.insecure"), def: "false", doc: "HTTP API without authentication",
			target: func(s *state) any { return &s.cfg.HTTPAPI.Insecure }},
		{name: "api_disable", aliases: a("http_api.disabled"), def: "false", doc: "turn the HTTP API off",
			target: func(s *state) any { return &s.cfg.HTTPAPI.Disabled }},
		{name: "api_handler_prefix", aliases: a("http_api.handler_prefix"), def: "/api", doc: "HTTP API path",
			target: func(s *state) any { return &s.cfg.HTTPAPI.HandlerPrefix }},
		{name: "api_external", aliases: a("http_api.external"), def: "false", doc: "serve the HTTP API on the main port even when an internal port is set",
			target: func(s *state) any { return &s.cfg.HTTPAPI.External }},
		{name: "api_error_mode", aliases: a("http_api.error_mode"), doc: `"transport" maps API errors to HTTP status codes`, rules: errorModes,
			target: func(s *state) any { return &s.cfg.HTTPAPI.ErrorMode }},
		{name: "grpc_api", aliases: a("grpc_api.enabled"), def: "false", doc: "serve the gRPC server API",
			target: func(s *state) any { return &s.cfg.GRPCAPI.Enabled }},
		{name: "grpc_api_address", aliases: a("grpc_api.address"), doc: "gRPC API bind address (all interfaces when empty)",
			target: func(s *state) any { return &s.cfg.GRPCAPI.Address }},
		{name: "grpc_api_port", aliases: a("grpc_api.port"), def: "10000", doc: "gRPC API port", rules: rules{max: 65535},
			target: func(s *state) any { return &s.cfg.GRPCAPI.Port }},
		{name: "grpc_api_key", aliases: a("grpc_api.key"), doc: "required `authorization: apikey <key>` metadata; empty = open API",
			target: func(s *state) any { return &s.cfg.GRPCAPI.Key }},
		{name: "grpc_api_error_mode", aliases: a("grpc_api.error_mode"), doc: `"transport" maps API errors to gRPC status codes`, rules: errorModes,
			target: func(s *state) any { return &s.cfg.GRPCAPI.ErrorMode }},
		{name: "grpc_api_reflection", aliases: a("grpc_api.reflection"), def: "false", doc: "register gRPC server reflection",
			target: func(s *state) any { return &s.cfg.GRPCAPI.Reflection }},
		{name: "grpc_api_max_receive_message_size", aliases: a("grpc_api.max_receive_message_size"), def: "0", doc: "largest gRPC API request in bytes, 0 = gRPC default",
			target: func(s *state) any { return &s.cfg.GRPCAPI.MaxReceiveMessageSize }},
		{name: "grpc_api_tls", aliases: a("grpc_api.tls.enabled"), def: "false", doc: "serve the gRPC API over TLS",
			target: func(s *state) any { return &s.cfg.GRPCAPI.TLS.Enabled }},
		{name: "grpc_api_tls_cert", aliases: a("grpc_api.tls.cert_pem"), doc: "certificate for grpc_api_tls: PEM, base64 of PEM, or a file path",
			target: func(s *state) any { return &s.cfg.GRPCAPI.TLS.CertFile }},
		{name: "grpc_api_tls_key", aliases: a("grpc_api.tls.key_pem"), doc: "key for grpc_api_tls: PEM, base64 of PEM, or a file path",
			target: func(s *state) any { return &s.cfg.GRPCAPI.TLS.KeyFile }},
		{name: "grpc_api.tls.client_ca_pem", v6only: true, doc: "CA that gRPC API client certificates must chain to",
			target: func(s *state) any { return &s.cfg.GRPCAPI.TLS.CAFile }},
	}
}

func engineKeys() []*keyDef {
	out := []*keyDef{
		{name: "engine", aliases: a("engine.type"), def: "memory", doc: "memory or redis",
			rules:  rules{oneOf: a("memory", "redis")},
			target: func(s *state) any { return &s.cfg.Engine.Type }},
		{name: "global_presence_ttl", aliases: a("engine.redis.presence_ttl"), def: "60s", doc: "presence entry lifetime without refresh",
			target: func(s *state) any { return &s.cfg.Engine.PresenceTTL }},
		{name: "redis_address", aliases: a("engine.redis.address"), def: "redis://127.0.0.1:6379", doc: "Redis address (string, or array for sharding)",
			rules:  rules{stringOrList: true},
			target: func(s *state) any { return &s.cfg.Engine.Redis.Addresses }},
		{name: "redis_prefix", aliases: a("engine.redis.prefix"), def: "centrifugo", doc: "Redis key prefix",
			target: func(s *state) any { return &s.cfg.Engine.Redis.Prefix }},
		{name: "redis_connect_timeout", aliases: a("engine.redis.connect_timeout"), def: "1s", doc: "Redis dial timeout",
			target: func(s *state) any { return &s.cfg.Engine.Redis.ConnectTimeout }},
		{name: "redis_io_timeout", aliases: a("engine.redis.io_timeout"), def: "4s", doc: "Redis read/write timeout",
			target: func(s *state) any { return &s.cfg.Engine.Redis.IOTimeout }},
		{name: "redis_db", aliases: a("engine.redis.db"), def: "0", doc: "Redis database number",
			target: func(s *state) any { return &s.cfg.Engine.Redis.DB }},
		{name: "redis_user", aliases: a("engine.redis.user"), doc: "Redis ACL user",
			target: func(s *state) any { return &s.cfg.Engine.Redis.User }},
		{name: "redis_password", aliases: a("engine.redis.password"), doc: "Redis password",
			target: func(s *state) any { return &s.cfg.Engine.Redis.Password }},
		{name: "redis_cluster_address", aliases: a("engine.redis.cluster_address"), doc: "Redis Cluster seed addresses",
			rules:  rules{stringOrList: true},
			target: func(s *state) any { return &s.cfg.Engine.Redis.ClusterAddresses }},
		{name: "redis_sentinel_address", aliases: a("engine.redis.sentinel_address"), doc: "Redis Sentinel addresses",
			rules:  rules{stringOrList: true},
			target: func(s *state) any { return &s.cfg.Engine.Redis.SentinelAddresses }},
		{name: "redis_sentinel_master_name", aliases: a("engine.redis.sentinel_master_name"), doc: "Sentinel master name",
			target: func(s *state) any { return &s.cfg.Engine.Redis.SentinelMasterName }},
		{name: "redis_sentinel_user", aliases: a("engine.redis.sentinel_user"), doc: "Sentinel ACL user",
			target: func(s *state) any { return &s.cfg.Engine.Redis.SentinelUser }},
		{name: "redis_sentinel_password", aliases: a("engine.redis.sentinel_password"), doc: "Sentinel password",
			target: func(s *state) any { return &s.cfg.Engine.Redis.SentinelPassword }},
	}
	out = append(out, clientTLSKeys("redis_tls", "engine.redis.tls", "Redis", func(s *state) *TLS { return &s.cfg.Engine.Redis.TLS })...)
	return append(out, clientTLSKeys("redis_sentinel_tls", "engine.redis.sentinel_tls", "Redis Sentinel", func(s *state) *TLS { return &s.cfg.Engine.Redis.SentinelTLS })...)
}

// clientTLSKeys are the keys of one client TLS object: v5's flat family
// (<v5>, <v5>_cert, <v5>_key, <v5>_root_ca, their _pem spellings,
// <v5>_server_name, <v5>_insecure_skip_verify) and v6's object at v6.
// Every PEM value may be raw PEM, base64 of PEM or a file path.
func clientTLSKeys(v5, v6, what string, t func(s *state) *TLS) []*keyDef {
	return []*keyDef{
		{name: v5, aliases: a(v6 + ".enabled"), def: "false", doc: "connect to " + what + " over TLS",
			target: func(s *state) any { return &t(s).Enabled }},
		{name: v5 + "_cert", aliases: a(v6+".cert_pem", v5+"_cert_pem"), doc: "client certificate for " + what + " TLS: PEM, base64 of PEM, or a file path",
			target: func(s *state) any { return &t(s).CertFile }},
		{name: v5 + "_key", aliases: a(v6+".key_pem", v5+"_key_pem"), doc: "client key for " + what + " TLS: PEM, base64 of PEM, or a file path",
			target: func(s *state) any { return &t(s).KeyFile }},
		{name: v5 + "_root_ca", aliases: a(v6+".server_ca_pem", v5+"_root_ca_pem"), doc: "CA that the " + what + " server certificate must chain to (default: system roots)",
			target: func(s *state) any { return &t(s).CAFile }},
		{name: v5 + "_server_name", aliases: a(v6 + ".server_name"), doc: "host name expected in the " + what + " server certificate (and sent as SNI)",
			target: func(s *state) any { return &t(s).ServerName }},
		{name: v5 + "_insecure_skip_verify", aliases: a(v6 + ".insecure_skip_verify"), def: "false", doc: "accept any " + what + " server certificate (development only)",
			target: func(s *state) any { return &t(s).InsecureSkipVerify }},
	}
}
