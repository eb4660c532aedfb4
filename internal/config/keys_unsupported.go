package config

// unsupportedKeys are real Centrifugo keys that Spindle does not
// implement. They are accepted (so a Centrifugo config still loads) and a
// Warning is returned when one is set to anything but its zero value, so
// nobody believes a feature is on when it is not.
func unsupportedKeys() []*keyDef {
	type u struct {
		name    string
		aliases []string
		doc     string
	}
	list := []u{
		{"publish", nil, "Centrifugo v2 option; no meaning since v3"},
		{"admin_external", nil, "admin UI on the external port"},
		{"tls_cert_pem", nil, "inline TLS certificate"},
		{"tls_key_pem", nil, "inline TLS key"},
		{"tls_client_ca", nil, "client CA file for mutual TLS (v6: http_server.tls.client_ca_pem)"},
		{"tls_external", a("http_server.tls_external"), "TLS only on external endpoints"},
		{"websocket_compression_level", a("websocket.compression_level"), "deflate level"},
		{"websocket_compression_min_size", a("websocket.compression_min_size"), "deflate threshold"},
		{"websocket_write_buffer_size", a("websocket.write_buffer_size"), "WebSocket buffer tuning"},
		{"websocket_use_write_buffer_pool", a("websocket.use_write_buffer_pool"), "WebSocket buffer tuning"},
		{"sockjs", nil, "SockJS transport (removed in Centrifugo v6)"},
		{"sockjs_handler_prefix", nil, "SockJS transport"},
		{"webtransport", a("webtransport.enabled"), "WebTransport"},
		{"http3", a("http_server.http3.enabled"), "HTTP/3"},
		{"client_channel_position_max_time_lag", a("client.channel_position_max_time_lag"), "position time lag"},
		{"client_user_id_http_header", a("client.user_id_http_header"), "user id from a trusted header"},
		{"log_file", a("log.file"), "log to a file"},
		{"pid_file", nil, "pid file"},
		{"swagger", a("swagger.enabled"), "/swagger"},
		{"admin", a("admin.enabled"), "admin web UI"},
		{"admin_password", a("admin.password"), "admin web UI"},
		{"admin_secret", a("admin.secret"), "admin web UI"},
		{"admin_insecure", a("admin.insecure"), "admin web UI"},
		{"admin_web_path", a("admin.web_path"), "admin web UI"},
		{"admin_web_proxy_address", a("admin.web_proxy_address"), "admin web UI"},
		{"admin_handler_prefix", a("admin.handler_prefix"), "admin web UI"},
		{"gomaxprocs", nil, "GOMAXPROCS override (use the environment variable)"},
		{"usage_stats_disable", a("usage_stats.disabled"), "Centrifugo usage statistics"},
		{"broker", a("broker.type", "broker.enabled"), "separate broker (NATS)"},
		{"nats_url", a("broker.nats.url"), "NATS broker"},
		{"nats_prefix", a("broker.nats.prefix"), "NATS broker"},
		{"nats_dial_timeout", a("broker.nats.dial_timeout"), "NATS broker"},
		{"nats_write_timeout", a("broker.nats.write_timeout"), "NATS broker"},
		{"tarantool_address", nil, "Tarantool engine (removed in Centrifugo v6)"},
		{"tarantool_mode", nil, "Tarantool engine"},
		{"tarantool_user", nil, "Tarantool engine"},
		{"tarantool_password", nil, "Tarantool engine"},
		{"redis_client_name", a("engine.redis.client_name"), "Redis client name"},
		{"redis_use_lists", a("engine.redis.history_use_lists"), "history in Redis lists"},
		{"redis_force_resp2", a("engine.redis.force_resp2"), "RESP2 protocol"},
		{"redis_sentinel_client_name", a("engine.redis.sentinel_client_name"), "Sentinel client name"},
		{"redis_presence_hash_field_ttl", a("engine.redis.presence_hash_field_ttl"), "Redis 7.4 presence mode"},
		{"global_redis_presence_user_mapping", a("engine.redis.presence_user_mapping"), "presence user mapping"},
		{"grpc_api_tls_disable", nil, "opt the gRPC API out of the global TLS"},
		{"consumers", nil, "async consumers (PostgreSQL outbox, Kafka)"},
		{"user_command_rate_limit", a("client.rate_limit.user_command"), "Centrifugo PRO per-user command rate limit (per-connection client_command is supported)"},
		{"redis_user_command_rate_limit", a("client.rate_limit.redis_user_command"), "Centrifugo PRO per-user command rate limit in Redis"},
		{"client_error_limits", a("client.rate_limit.client_error"), "Centrifugo PRO disconnect after too many errors"},
		{"client.rate_limit.ip_connect", nil, "Centrifugo PRO per-IP connect rate limit"},
		{"client.connect_code_to_unidirectional_disconnect", nil, "custom connect-error codes for unidirectional clients (the default mapping applies: 109/110 → 3005, 111 → 3013, 103 → 3507, others 3004)"},
		{"uni_http_stream.connect_code_to_http_response", nil, "HTTP statuses for refused unidirectional connects (they get a disconnect push in a 200 stream)"},
		{"uni_sse.connect_code_to_http_response", nil, "HTTP statuses for refused unidirectional connects (they get a disconnect push in a 200 stream)"},
		{"uni_websocket.join_push_messages", nil, "several pushes per uni_websocket message (each push is a message of its own)"},
		{"uni_websocket.compression", nil, "permessage-deflate on uni_websocket"},
		{"uni_websocket.compression_level", nil, "permessage-deflate on uni_websocket"},
		{"uni_websocket.compression_min_size", nil, "permessage-deflate on uni_websocket"},
		{"uni_websocket.disable_closing_handshake", nil, "uni_websocket close handshake tuning"},
		{"uni_websocket.disable_disconnect_push", nil, "uni_websocket disconnect push tuning"},
		{"uni_websocket.read_buffer_size", nil, "uni_websocket buffer tuning"},
		{"uni_websocket.write_buffer_size", nil, "uni_websocket buffer tuning"},
		{"uni_websocket.use_write_buffer_pool", nil, "uni_websocket buffer tuning"},
		{"uni_websocket.write_timeout", nil, "uni_websocket write timeout (websocket_write_timeout applies)"},
		{"uni_websocket.decompressed_message_size_limit", nil, "uni_websocket decompression limit"},
		{"uni_grpc.tls", nil, "TLS on the uni_grpc server"},
		{"http_server.internal_tls", nil, "TLS of its own for the internal port (the internal port serves with the main port's TLS)"},
	}
	out := make([]*keyDef, 0, len(list))
	for _, it := range list {
		d := &keyDef{name: it.name, aliases: it.aliases, unsupported: true, doc: it.doc + " (not supported by Spindle)"}
		if it.name == "publish" {
			d.notes = map[string]string{"publish": "a Centrifugo v2 option with no meaning since v3; ignored (client publishing is allow_publish_for_client or proxy_publish)"}
		}
		out = append(out, d)
	}
	return out
}
