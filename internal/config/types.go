// Package config turns a Centrifugo-style configuration (flat v4/v5 keys or
// the nested v6 layout, in JSON with comments, YAML or TOML, overridden by
// CENTRIFUGO_* environment variables and CLI flags) into the typed structs
// below. Every other part of Spindle receives these structs at start-up and
// never reads files or the environment itself.
package config

import "time"

// Config is the whole validated configuration of `spindle server`.
type Config struct {
	// Name is this node's name in the info API; hostname_port when empty.
	Name     string
	LogLevel string // trace, debug, info, warn, error, none

	HTTP      HTTPServer
	WebSocket WebSocket
	// HTTPStream and SSE are the emulation transports; Emulation is the
	// endpoint their clients post later commands to (served when either
	// is enabled).
	HTTPStream StreamTransport
	SSE        StreamTransport
	Emulation  EmulationEndpoint
	// The unidirectional transports: the client sends only its connect
	// request and receives pushes.
	UniWebSocket  UniWebSocket
	UniSSE        StreamTransport
	UniHTTPStream StreamTransport
	UniGRPC       UniGRPC
	Client        Client
	Limits        ConnectionLimits
	// CommandRateLimit is client.rate_limit.client_command (Centrifugo
	// PRO): per-connection token buckets for client commands.
	CommandRateLimit CommandRateLimit
	Token            Token
	// SubToken holds the subscription-token settings; it equals Token
	// unless separate_subscription_token_config is on.
	SubToken Token
	Channel  Channels
	RPC      RPC
	Proxy    Proxies
	HTTPAPI  HTTPAPI
	GRPCAPI  GRPCAPI
	Engine   Engine
	// MapBroker says where map channels (namespaces with a map
	// subscription_type) keep their state; the wiring picks the broker
	// instance from it.
	MapBroker MapBroker
	// SharedPoll is the top-level shared_poll section: the keys that sign
	// shared-poll track requests and the bound on concurrent backend polls.
	SharedPoll SharedPoll

	Prometheus bool
	Health     bool
	// Debug is the `debug` section: Go's pprof handlers.
	Debug           Debug
	ShutdownTimeout time.Duration
}

// HTTPServer is the main listener serving WebSocket, HTTP API, /health and
// /metrics.
type HTTPServer struct {
	Address string
	Port    int
	TLS     TLS
	// InternalAddress and InternalPort place the API, metrics and health
	// on a listener of their own; empty means the main address or port.
	// InternalPort is a string, as in Centrifugo v6 ("9000"); a number is
	// accepted too. When both resolve to the main host:port there is one
	// listener.
	InternalAddress string
	InternalPort    string
	// Autocert gets the main port's certificates from Let's Encrypt;
	// when on it wins over TLS, as in Centrifugo.
	Autocert Autocert
	// H2CExternal serves HTTP/2 without TLS (prior knowledge, h2c) on the
	// main port, for a TLS-terminating proxy that speaks h2 to Spindle.
	H2CExternal bool
}

// Autocert is http_server.tls_autocert (v5 tls_autocert*): certificates
// fetched over ACME (golang.org/x/crypto/acme/autocert, terms accepted,
// Let's Encrypt's production directory) on the first handshake for a
// name and renewed by the library.
type Autocert struct {
	Enabled bool
	// HostWhitelist lists the host names certificates may be requested
	// for; empty allows any name a client sends. v5 wrote it as one
	// comma-separated string; Load splits it.
	HostWhitelist []string
	// CacheDir keeps certificates on disk across restarts (and between
	// nodes sharing it); empty keeps them in memory only.
	CacheDir string
	Email    string
	// ServerName is used for handshakes that carry no SNI.
	ServerName string
	// HTTP starts a plain HTTP listener on HTTPAddr (default :80) that
	// answers HTTP-01 challenges and redirects everything else to HTTPS.
	HTTP     bool
	HTTPAddr string
}

// TLS is a certificate pair for a listener or a client. CertFile, KeyFile
// and CAFile hold what the operator wrote: raw PEM, base64 of PEM, or a file
// path (Centrifugo v6 accepts all three; v5 keys name files). Validation
// reads them into Cert, Key and CA and checks that the pair matches, so a
// missing or mismatched file fails start-up and checkconfig with the key's
// name. CA is the client CA of a listener (mutual TLS) and the server CA of
// a client (Redis, proxies). ServerName and InsecureSkipVerify only mean
// something on a client.
type TLS struct {
	Enabled  bool
	CertFile string
	KeyFile  string
	CAFile   string

	ServerName         string
	InsecureSkipVerify bool

	// Filled by validation: the PEM bytes.
	Cert, Key, CA []byte
}

// WebSocket configures the /connection/websocket endpoint.
type WebSocket struct {
	Disabled         bool
	HandlerPrefix    string        // default /connection/websocket
	MessageSizeLimit int           // default 65536 bytes
	WriteTimeout     time.Duration // default 1s
	ReadBufferSize   int           // default 1024 bytes
	Compression      bool
}

// StreamTransport configures /connection/http_stream or /connection/sse.
type StreamTransport struct {
	Enabled            bool
	HandlerPrefix      string
	MaxRequestBodySize int // the connect request (default 65536 bytes)
}

// UniWebSocket configures /connection/uni_websocket.
type UniWebSocket struct {
	Enabled          bool
	HandlerPrefix    string
	MessageSizeLimit int // the connect message (default 65536 bytes)
}

// UniGRPC configures the unidirectional gRPC stream's own server.
type UniGRPC struct {
	Enabled               bool
	Address               string
	Port                  int // default 11000
	MaxReceiveMessageSize int // 0: gRPC's default (4 MiB)
}

// EmulationEndpoint configures /emulation.
type EmulationEndpoint struct {
	HandlerPrefix      string // default /emulation
	MaxRequestBodySize int    // default 65536 bytes
}

// Client holds per-connection behaviour and limits.
type Client struct {
	AllowedOrigins                    []string
	Insecure                          bool
	InsecureSkipTokenSignature        bool
	AllowAnonymousConnectWithoutToken bool
	DisallowAnonymousConnectionTokens bool

	PingInterval                time.Duration // 25s
	PongTimeout                 time.Duration // 8s
	StaleCloseDelay             time.Duration // 10s
	ExpiredCloseDelay           time.Duration // 25s
	ExpiredSubCloseDelay        time.Duration // 25s
	PresenceUpdateInterval      time.Duration // 27s
	PositionCheckDelay          time.Duration // 40s
	ChannelLimit                int           // 128
	QueueMaxSize                int           // 1048576 bytes
	UserConnectionLimit         int           // 0 = unlimited
	HistoryMaxPublicationLimit  int           // 300
	RecoveryMaxPublicationLimit int           // 300
	ConnectIncludeServerTime    bool
	Concurrency                 int

	SubscribeToUserPersonalChannel bool
	PersonalChannelNamespace       string
	PersonalSingleConnection       bool
}

// ConnectionLimits are checked before a connection is accepted, on every
// connection endpoint: too many connected clients on this node, or too
// many new connections in the last second, get HTTP 503.
type ConnectionLimits struct {
	Connections    int // 0 = unlimited
	ConnectionRate int // per second; 0 = unlimited
}

// CommandRateLimit limits each connection's commands with token buckets,
// in the shape of Centrifugo PRO's client.rate_limit.client_command.
// Validation resolves the sections: those that are off are left out, and a
// section or override without buckets of its own uses Default (an empty
// Buckets slice).
type CommandRateLimit struct {
	Enabled bool
	DryRun  bool
	// DisconnectAfterRefusals closes a connection with 3013 after this many
	// refused commands in a row; 0 never (a Spindle addition).
	DisconnectAfterRefusals int
	Total                   []RateBucket
	Default                 []RateBucket
	// Commands holds the methods configured explicitly, by method name.
	Commands map[string]CommandBuckets
}

// CommandBuckets are one method's buckets and its overrides, by namespace
// (channel commands) or RPC method.
type CommandBuckets struct {
	Buckets   []RateBucket
	Overrides map[string][]RateBucket
}

// RateBucket lets Rate commands through per Interval, with a burst of Rate.
type RateBucket struct {
	Interval time.Duration
	Rate     int
}

// Token configures JWT verification (connection or subscription tokens).
type Token struct {
	HMACSecretKey      string
	RSAPublicKey       string // PEM
	ECDSAPublicKey     string // PEM
	JWKSPublicEndpoint string
	Audience           string
	AudienceRegex      string
	Issuer             string
	IssuerRegex        string
	UserIDClaim        string
}

// Channels holds channel-name rules, top-level channel options and
// namespaces.
type Channels struct {
	MaxLength         int           // 255
	PrivatePrefix     string        // "$"
	NamespaceBoundary string        // ":"
	UserBoundary      string        // "#"
	UserSeparator     string        // ","
	HistoryMetaTTL    time.Duration // 720h
	// WithoutNamespace applies to channels with no namespace prefix.
	WithoutNamespace ChannelOptions
	Namespaces       []Namespace
}

// Namespace is a named set of channel options; channels `name:...` use it.
type Namespace struct {
	Name string
	ChannelOptions
}

// ChannelOptions are the per-namespace switches of the flat config.
type ChannelOptions struct {
	Presence           bool
	JoinLeave          bool
	ForcePushJoinLeave bool
	HistorySize        int
	HistoryTTL         time.Duration
	HistoryMetaTTL     time.Duration // 0 = Channels.HistoryMetaTTL
	ForcePositioning   bool
	AllowPositioning   bool
	ForceRecovery      bool
	AllowRecovery      bool
	ForceRecoveryMode  string // "", "stream" or "cache"

	AllowSubscribeForClient    bool
	AllowSubscribeForAnonymous bool
	AllowPublishForClient      bool
	AllowPublishForSubscriber  bool
	AllowPublishForAnonymous   bool
	AllowPresenceForClient     bool
	AllowPresenceForSubscriber bool
	AllowPresenceForAnonymous  bool
	AllowHistoryForClient      bool
	AllowHistoryForSubscriber  bool
	AllowHistoryForAnonymous   bool
	AllowUserLimitedChannels   bool
	ChannelRegex               string

	// Proxy switches (flat: proxy_subscribe, proxy_publish, proxy_sub_refresh;
	// v6: *_proxy_enabled) and proxy names (granular mode / v6 named
	// proxies). Load normalises them: in v5 granular mode a name alone
	// switches the proxy on, and the v6 name "default" becomes "".
	ProxySubscribe      bool
	ProxyPublish        bool
	ProxySubRefresh     bool
	SubscribeProxyName  string
	PublishProxyName    string
	SubRefreshProxyName string

	// Experimental stream proxies (gRPC only). v5 spells the top-level
	// switch proxy_stream_subscribe and the namespace one
	// proxy_subscribe_stream; both are accepted.
	ProxySubscribeStream              bool
	ProxySubscribeStreamBidirectional bool
	SubscribeStreamProxyName          string

	// Resolved proxies, filled by Load so callers need no lookup rules:
	// the proxy to call when the matching switch above is on, nil when
	// the switch is off or no proxy is configured (clients then get error
	// 108). A name picks from Proxies.Named, no name picks the event's
	// default (Proxies.Subscribe, Publish, SubRefresh, SubscribeStream).
	SubscribeProxy       *Proxy
	PublishProxy         *Proxy
	SubRefreshProxy      *Proxy
	SubscribeStreamProxy *Proxy

	AllowedDeltaTypes []string
	DeltaPublish      bool

	// Map and shared-poll subscriptions (Centrifugo v6 keys only).
	// SubscriptionType is "" or "stream" (PUB/SUB with history), "map",
	// "map_clients", "map_users" or "shared_poll"; Map holds the map
	// settings, which validation allows only on map types.
	SubscriptionType string
	Map              MapOptions
	// MapClientsPresenceChannelPrefix and MapUsersPresenceChannelPrefix
	// write each subscriber of channel C to the map channel prefix+C,
	// keyed by client id or by user id; validation checks that prefix+C
	// falls in a map_clients (map_users) namespace.
	MapClientsPresenceChannelPrefix string
	MapUsersPresenceChannelPrefix   string
	// AllowTagsFilter lets subscribers filter publications by tags; only
	// map types implement it, so validation refuses it elsewhere.
	AllowTagsFilter bool
	// SharedPoll holds the shared_poll object (Centrifugo v6 keys only),
	// which validation allows only with subscription_type shared_poll.
	SharedPoll SharedPollOptions
}

// SharedPollOptions is a namespace's `shared_poll` object. Zero intervals,
// sizes and delays mean Centrifugo's defaults (DefaultSharedPoll*), which
// the wiring fills in; Load keeps what was written, so a reload reports
// the keys that changed.
type SharedPollOptions struct {
	// ProxyName names the proxies[] entry that answers SharedPollRefresh;
	// empty (or "default", which Load turns into "") is the
	// channel.proxy.shared_poll_refresh object.
	ProxyName string
	// Proxy is the resolved refresh proxy of a shared_poll namespace:
	// never nil there (validation refuses a namespace without one), nil
	// on every other namespace.
	Proxy *Proxy
	// Mode is "" or "versionless" (the server versions items by content)
	// or "versioned" (the backend's versions).
	Mode                   string
	RefreshInterval        time.Duration
	RefreshBatchSize       int
	MaxKeysPerConnection   int
	ChannelShutdownDelay   time.Duration
	TrackExpiredExtraDelay time.Duration
	// PublishEnabled allows the server API's shared_poll_publish; only
	// with Mode versioned.
	PublishEnabled bool
}

// SharedPoll is the top-level shared_poll object. The HMAC keys are
// secrets: no message, log line or document ever shows their values.
type SharedPoll struct {
	HMACSecretKey         string
	HMACPreviousSecretKey string
	// HMACPreviousSecretKeyValidUntil is a Unix time in seconds, as in
	// Centrifugo; when > 0 the previous key is accepted only for
	// signatures issued (iat) no later than it. 0 means no limit.
	HMACPreviousSecretKeyValidUntil int64
	ConcurrencyLimit                int
}

// SubscriptionSharedPoll is the subscription_type of shared-poll
// namespaces.
const SubscriptionSharedPoll = "shared_poll"

// MapOptions is a namespace's `map` object. Zero sizes, TTLs and page
// sizes mean Centrifugo's defaults, which the wiring fills in; Load keeps
// what was written, so a reload reports the keys that changed.
type MapOptions struct {
	Mode       string // "ephemeral", "recoverable" or "persistent"
	KeyTTL     time.Duration
	StreamSize int
	StreamTTL  time.Duration
	MetaTTL    time.Duration

	RemoveClientOnUnsubscribe bool
	ClientKey                 string // "", "client_id" or "user_id"

	AllowPublishForClient     bool
	AllowPublishForSubscriber bool
	AllowPublishForAnonymous  bool
	AllowRemoveForClient      bool
	AllowRemoveForSubscriber  bool
	AllowRemoveForAnonymous   bool

	// The map write proxies, resolved like the namespace's other proxies:
	// a name picks from Proxies.Named, no name (or "default") the
	// channel.proxy.map_publish / map_remove object. The *Proxy is nil
	// when the switch is off or nothing is configured (writes get 108).
	PublishProxyEnabled bool
	PublishProxyName    string
	RemoveProxyEnabled  bool
	RemoveProxyName     string
	PublishProxy        *Proxy
	RemoveProxy         *Proxy

	DefaultPageSize                   int
	MinPageSize                       int
	MaxPageSize                       int
	LiveTransitionMaxPublicationLimit int
	SubscribeCatchUpTimeout           time.Duration
}

// IsMapType reports whether a subscription_type is one of the map types.
func IsMapType(subscriptionType string) bool {
	switch subscriptionType {
	case "map", "map_clients", "map_users":
		return true
	}
	return false
}

// RPC configures client RPC routing.
type RPC struct {
	NamespaceBoundary string // ":"
	Ping              bool
	PingMethod        string // "ping"
	ProxyName         string // granular mode, methods without namespace
	Namespaces        []RPCNamespace
}

// RPCNamespace routes methods `name:...` to a named proxy.
type RPCNamespace struct {
	Name      string
	ProxyName string
	// Proxy is the resolved proxy for this namespace's methods; nil means
	// none is configured (clients get error 108).
	Proxy *Proxy
}

// Proxies holds the event proxies. In flat (non-granular) mode each event
// has its own Proxy; in granular mode Named holds them and namespaces refer
// to them by name.
//
// Connect, Refresh and RPC are resolved by Load: they are the proxy to
// call (named via connect_proxy_name / refresh_proxy_name / rpc_proxy_name
// when set), or nil when that event is not proxied. Subscribe, Publish,
// SubRefresh and SubscribeStream are the per-event defaults that
// namespaces without a proxy name use; per-namespace resolution is in
// ChannelOptions.SubscribeProxy and friends. In v5 granular mode the
// proxy_*_endpoint keys are switched off, so the defaults are nil.
type Proxies struct {
	Connect         *Proxy
	Refresh         *Proxy
	Subscribe       *Proxy
	Publish         *Proxy
	SubRefresh      *Proxy
	RPC             *Proxy
	SubscribeStream *Proxy
	// MapPublish and MapRemove are the v6 channel.proxy.map_publish and
	// map_remove objects: the defaults of map namespaces' write proxies.
	MapPublish *Proxy
	MapRemove  *Proxy
	// SharedPollRefresh is the v6 channel.proxy.shared_poll_refresh
	// object: the refresh proxy of shared_poll namespaces that name none.
	SharedPollRefresh *Proxy

	Granular         bool
	Named            []Proxy
	ConnectProxyName string
	RefreshProxyName string
}

// Proxy is one backend endpoint for proxied events.
type Proxy struct {
	// Name is the proxies[] name, or the event name ("connect",
	// "subscribe"…) for the flat per-event proxies.
	Name     string
	Endpoint string // grpc://host:port, host:port, http(s)://...
	Timeout  time.Duration

	HTTPHeaders           []string
	StaticHTTPHeaders     map[string]string
	GRPCMetadata          []string
	BinaryEncoding        bool
	IncludeConnectionMeta bool
	// GRPCTLS is the v6 grpc.tls object (v5: grpc_tls and grpc_cert_file,
	// which Load folds into it): off, a gRPC proxy dials plaintext.
	// HTTPTLS is the v6 http.tls object: https:// endpoints work without
	// it (system roots); it adds a private CA, a server name or a client
	// certificate.
	GRPCTLS TLS
	HTTPTLS TLS
	// GRPCCertFile is v5's grpc_cert_file, a CA file whose presence alone
	// turns TLS on; Load copies it into GRPCTLS.
	GRPCCertFile         string
	GRPCCredentialsKey   string
	GRPCCredentialsValue string
	GRPCCompression      bool
	StatusCodeTransforms []StatusCodeTransform
}

// StatusCodeTransform maps an HTTP proxy status to a client error or
// disconnect instead of the default internal error.
type StatusCodeTransform struct {
	StatusCode   int
	ToError      *ProxyError
	ToDisconnect *ProxyDisconnect
}

// ProxyError is a client-protocol error.
type ProxyError struct {
	Code      uint32
	Message   string
	Temporary bool
}

// ProxyDisconnect is a client-protocol disconnect.
type ProxyDisconnect struct {
	Code   uint32
	Reason string
}

// HTTPAPI configures POST /api and /api/<method>.
type HTTPAPI struct {
	// External keeps the API on the main port when an internal port is
	// set (Centrifugo's http_api.external).
	External      bool
	Disabled      bool
	Key           string
	Insecure      bool
	HandlerPrefix string // "/api"
	ErrorMode     string // "" or "transport"
}

// GRPCAPI configures the CentrifugoApi gRPC service.
type GRPCAPI struct {
	Enabled               bool
	Address               string
	Port                  int // 10000
	Key                   string
	ErrorMode             string
	TLS                   TLS
	Reflection            bool
	MaxReceiveMessageSize int
}

// Engine selects and configures the shared-state backend.
type Engine struct {
	Type  string // "memory" (default) or "redis"
	Redis Redis
	// PresenceTTL is how long a presence entry lives without refresh.
	PresenceTTL time.Duration // 60s
}

// MapBroker is map_broker: Type "memory" (the default; `"map_broker": {}`
// is memory too) keeps map channels in this process, "redis" in the Redis
// engine's servers.
type MapBroker struct {
	Type string
	// RedisCleanupInterval and RedisCleanupBatchSize tune how the Redis map
	// broker removes expired keys (0 = 1s and 100).
	RedisCleanupInterval  time.Duration
	RedisCleanupBatchSize int
}

// Redis configures the Redis engine.
type Redis struct {
	Addresses      []string
	Password       string
	User           string
	DB             int
	Prefix         string // "centrifugo"
	ConnectTimeout time.Duration
	IOTimeout      time.Duration
	// TLS secures the connections to the data servers, SentinelTLS those
	// to the sentinels (Centrifugo's tls and sentinel_tls).
	TLS                TLS
	ClusterAddresses   []string
	SentinelAddresses  []string
	SentinelMasterName string
	SentinelUser       string
	SentinelPassword   string
	SentinelTLS        TLS
}

// Debug serves net/http/pprof (Centrifugo's `debug.*` keys).
type Debug struct {
	Enabled       bool
	HandlerPrefix string
}
