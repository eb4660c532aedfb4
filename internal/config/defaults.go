package config

import "time"

// Default returns the configuration used when nothing is set: Centrifugo
// v5.4.9's defaults (spec §5.2–5.5), so a Centrifugo user finds the same
// behaviour without a config file.
func Default() *Config {
	return &Config{
		LogLevel: "info",
		HTTP:     HTTPServer{Port: 8000, Autocert: Autocert{HTTPAddr: ":80"}},
		WebSocket: WebSocket{
			HandlerPrefix:    "/connection/websocket",
			ReadBufferSize:   1024,
			MessageSizeLimit: 65536,
			WriteTimeout:     time.Second,
		},
		Debug:         Debug{HandlerPrefix: "/debug/pprof"},
		HTTPStream:    StreamTransport{HandlerPrefix: "/connection/http_stream", MaxRequestBodySize: 65536},
		SSE:           StreamTransport{HandlerPrefix: "/connection/sse", MaxRequestBodySize: 65536},
		Emulation:     EmulationEndpoint{HandlerPrefix: "/emulation", MaxRequestBodySize: 65536},
		UniWebSocket:  UniWebSocket{HandlerPrefix: "/connection/uni_websocket", MessageSizeLimit: 65536},
		UniSSE:        StreamTransport{HandlerPrefix: "/connection/uni_sse", MaxRequestBodySize: 65536},
		UniHTTPStream: StreamTransport{HandlerPrefix: "/connection/uni_http_stream", MaxRequestBodySize: 65536},
		UniGRPC:       UniGRPC{Port: 11000},
		Client: Client{
			PingInterval:                25 * time.Second,
			PongTimeout:                 8 * time.Second,
			StaleCloseDelay:             10 * time.Second,
			ExpiredCloseDelay:           25 * time.Second,
			ExpiredSubCloseDelay:        25 * time.Second,
			PresenceUpdateInterval:      27 * time.Second,
			PositionCheckDelay:          40 * time.Second,
			ChannelLimit:                128,
			QueueMaxSize:                1 << 20,
			HistoryMaxPublicationLimit:  300,
			RecoveryMaxPublicationLimit: 300,
		},
		Channel: Channels{
			MaxLength:         255,
			PrivatePrefix:     "$",
			NamespaceBoundary: ":",
			UserBoundary:      "#",
			UserSeparator:     ",",
			HistoryMetaTTL:    720 * time.Hour,
		},
		RPC:     RPC{NamespaceBoundary: ":", PingMethod: "ping"},
		HTTPAPI: HTTPAPI{HandlerPrefix: "/api"},
		GRPCAPI: GRPCAPI{Port: 10000},
		Engine: Engine{
			Type:        "memory",
			PresenceTTL: 60 * time.Second,
			Redis: Redis{
				Addresses:      []string{"redis://127.0.0.1:6379"},
				Prefix:         "centrifugo",
				ConnectTimeout: time.Second,
				IOTimeout:      4 * time.Second,
			},
		},
		MapBroker:       MapBroker{Type: "memory", RedisCleanupInterval: time.Second, RedisCleanupBatchSize: 100},
		ShutdownTimeout: 30 * time.Second,
	}
}
