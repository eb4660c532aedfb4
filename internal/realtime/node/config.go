package node

import (
	"context"
	"time"

	"github.com/spindle-rt/spindle/proto/proxypb"
)

// Config is what the hub needs to know about channels, clients, RPC and
// proxies. The wiring builds it from the server configuration; the node
// never reads configuration files or keys itself. Defaults are the
// wiring's job too: a zero duration or limit here means "off" (or, for the
// channel-name rules, the protocol's usual character).
type Config struct {
	// Name is this node's name in the info API.
	Name    string
	Client  ClientConfig
	Channel ChannelConfig
	RPC     RPCConfig
	// SharedPoll signs track requests and bounds backend polls.
	SharedPoll SharedPollConfig
	// CommandRateLimit limits each connection's commands; nil means no
	// limit (the default).
	CommandRateLimit *CommandRateLimit
	// Connect, Refresh and RPC are the proxies for those events; nil means
	// the event is not proxied.
	Connect  *Proxy
	Refresh  *Proxy
	RPCProxy *Proxy
}

// ClientConfig holds per-connection behaviour and limits. It mirrors the
// configuration's client section field by field, so the wiring converts one
// into the other and a field added on only one side fails the build.
type ClientConfig struct {
	AllowedOrigins                    []string
	Insecure                          bool
	InsecureSkipTokenSignature        bool
	AllowAnonymousConnectWithoutToken bool
	DisallowAnonymousConnectionTokens bool

	PingInterval                time.Duration
	PongTimeout                 time.Duration
	StaleCloseDelay             time.Duration
	ExpiredCloseDelay           time.Duration
	ExpiredSubCloseDelay        time.Duration
	PresenceUpdateInterval      time.Duration
	PositionCheckDelay          time.Duration
	ChannelLimit                int
	QueueMaxSize                int
	UserConnectionLimit         int
	HistoryMaxPublicationLimit  int
	RecoveryMaxPublicationLimit int
	ConnectIncludeServerTime    bool
	Concurrency                 int

	SubscribeToUserPersonalChannel bool
	PersonalChannelNamespace       string
	PersonalSingleConnection       bool
}

// ChannelConfig holds the channel-name rules, the options of channels
// without a namespace, and the namespaces.
type ChannelConfig struct {
	MaxLength         int           // 0 = 255
	PrivatePrefix     string        // "" = no private channels
	NamespaceBoundary string        // "" = ":"
	UserBoundary      string        // "" = "#"
	UserSeparator     string        // "" = ","
	HistoryMetaTTL    time.Duration // stream meta lifetime when a namespace sets none
	WithoutNamespace  ChannelOptions
	Namespaces        []Namespace
}

// Namespace is a named set of channel options; channels `name:...` use it.
type Namespace struct {
	Name string
	ChannelOptions
}

// ChannelOptions are one namespace's switches.
type ChannelOptions struct {
	Presence           bool
	JoinLeave          bool
	ForcePushJoinLeave bool
	HistorySize        int
	HistoryTTL         time.Duration
	HistoryMetaTTL     time.Duration // 0 = ChannelConfig.HistoryMetaTTL
	ForcePositioning   bool
	AllowPositioning   bool
	ForceRecovery      bool
	AllowRecovery      bool
	ForceRecoveryMode  string // "", "stream" or "cache"
	// DeltaFossil: allowed_delta_types holds "fossil", so a subscriber
	// asking for it gets publications as Fossil deltas where they help.
	DeltaFossil bool
	// DeltaPublish makes every publication delta-eligible, as if each
	// publish had asked for it.
	DeltaPublish bool

	// SubscriptionType is the one kind of subscription the namespace's
	// channels take: "" (a stream), "map", "map_clients" or "map_users".
	SubscriptionType string
	// Map holds the map settings of map-typed namespaces.
	Map MapOptions
	// MapClientsPresenceChannelPrefix and MapUsersPresenceChannelPrefix
	// name presence maps: a subscriber of channel C is written to map
	// prefix+C, keyed by client id (with its ClientInfo) or by user id.
	MapClientsPresenceChannelPrefix string
	MapUsersPresenceChannelPrefix   string
	// AllowTagsFilter lets subscribers of map channels filter
	// publications by their tags.
	AllowTagsFilter bool
	// SharedPoll holds the settings of shared_poll namespaces.
	SharedPoll SharedPollOptions

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

	// ProxySubscribe, ProxyPublish and ProxySubRefresh say the event is
	// decided by a backend in this namespace. The matching *Proxy is the
	// backend; nil with the switch on means none is configured, and
	// clients get 108 (not available) rather than an unchecked action.
	ProxySubscribe  bool
	ProxyPublish    bool
	ProxySubRefresh bool
	SubscribeProxy  *Proxy
	PublishProxy    *Proxy
	SubRefreshProxy *Proxy
}

// MapOptions are a map namespace's settings (Centrifugo's `map` object).
// The wiring fills in Centrifugo's defaults; zero sizes here fall back to
// the same defaults so a hand-built Config works too.
type MapOptions struct {
	// Mode is "ephemeral" (no stream: late joiners sync state, no
	// recovery), "recoverable" (a stream; keys expire) or "persistent"
	// (a stream; keys stay until removed).
	Mode       string
	KeyTTL     time.Duration
	StreamSize int           // 0 = 100
	StreamTTL  time.Duration // 0 = 1 minute
	MetaTTL    time.Duration // 0 = never (persistent) or 10×StreamTTL, at least KeyTTL (recoverable)
	// RemoveClientOnUnsubscribe removes the key named by the client's id
	// when it unsubscribes or disconnects.
	RemoveClientOnUnsubscribe bool
	// ClientKey makes the server pick the key of client writes:
	// "client_id" or "user_id"; "" lets the client name it.
	ClientKey string

	AllowPublishForClient     bool
	AllowPublishForSubscriber bool
	AllowPublishForAnonymous  bool
	AllowRemoveForClient      bool
	AllowRemoveForSubscriber  bool
	AllowRemoveForAnonymous   bool
	// PublishProxyEnabled and RemoveProxyEnabled send client writes to a
	// backend (MapPublish / MapRemove); nil proxies with the switch on
	// answer 108.
	PublishProxyEnabled bool
	RemoveProxyEnabled  bool
	PublishProxy        *Proxy
	RemoveProxy         *Proxy

	DefaultPageSize int // 0 = 100
	MinPageSize     int // 0 = 100
	MaxPageSize     int // 0 = 1000
	// LiveTransitionMaxPublicationLimit caps the catch-up read of the
	// last subscribe step; 0 = MaxPageSize.
	LiveTransitionMaxPublicationLimit int
	// SubscribeCatchUpTimeout bounds a whole paged subscribe; 0 = 5 s.
	SubscribeCatchUpTimeout time.Duration
}

// SharedPollOptions are a shared_poll namespace's settings (Centrifugo's
// namespace `shared_poll` object). Zero values mean Centrifugo's defaults,
// noted per field.
type SharedPollOptions struct {
	// Proxy answers SharedPollRefresh for the namespace; nil means none is
	// configured (subscribers get 108).
	Proxy *Proxy
	// Mode is "" or "versionless" (the server versions items by content)
	// or "versioned" (the backend's versions).
	Mode                   string
	RefreshInterval        time.Duration // 0 = 10 s
	RefreshBatchSize       int           // 0 = 1000
	MaxKeysPerConnection   int           // 0 = 5000
	ChannelShutdownDelay   time.Duration // 0 = 1 s
	TrackExpiredExtraDelay time.Duration // 0 = 25 s
	// PublishEnabled allows the server API's shared_poll_publish (versioned
	// mode only).
	PublishEnabled bool
}

// SharedPollConfig is the top-level shared_poll section: the keys that
// sign track requests, and the bound on concurrent backend polls.
type SharedPollConfig struct {
	HMACSecretKey         string
	HMACPreviousSecretKey string
	// HMACPreviousSecretKeyValidUntil, when > 0 (Unix seconds), accepts
	// the previous key only for signatures issued before it.
	HMACPreviousSecretKeyValidUntil int64
	ConcurrencyLimit                int // 0 = 64
}

// RPCConfig routes client RPC.
type RPCConfig struct {
	// Ping answers the method PingMethod itself, without a proxy.
	Ping       bool
	PingMethod string
	// NamespaceBoundary splits `ns:method` ("" = ":") when Namespaces is
	// not empty.
	NamespaceBoundary string
	Namespaces        []RPCNamespace
}

// RPCNamespace routes methods `name:...` to a proxy; nil Proxy means none is
// configured (clients get 108).
type RPCNamespace struct {
	Name  string
	Proxy *Proxy
}

// Proxy is a backend that decides proxied events, with the settings that
// shape the requests the node sends it. One *Proxy may serve many events
// and namespaces.
type Proxy struct {
	// Name and Endpoint identify the backend in logs and errors.
	Name     string
	Endpoint string
	// Timeout bounds each call; 0 means one second, as in Centrifugo.
	Timeout time.Duration
	// BinaryEncoding sends payloads as b64data instead of raw JSON.
	BinaryEncoding bool
	// IncludeConnectionMeta adds the connection's meta to requests.
	IncludeConnectionMeta bool
	Backend               Backend
}

// Backend answers proxied events: a gRPC or HTTP client in `spindle server`,
// the application itself in `spindle dev`. A returned error means the call
// itself failed (unreachable, timeout, undecodable answer): the client then
// gets a temporary internal error. Application-level answers, denials
// included, travel inside the response's Error or Disconnect. MapPublish
// and MapRemove decide client writes to map channels whose namespace turns
// on map.publish_proxy_enabled / map.remove_proxy_enabled (Centrifugo
// v6.8); backends that predate them answer an error (gRPC Unimplemented),
// which such writes then get as a temporary internal error.
type Backend interface {
	Connect(ctx context.Context, req *proxypb.ConnectRequest) (*proxypb.ConnectResponse, error)
	Refresh(ctx context.Context, req *proxypb.RefreshRequest) (*proxypb.RefreshResponse, error)
	Subscribe(ctx context.Context, req *proxypb.SubscribeRequest) (*proxypb.SubscribeResponse, error)
	Publish(ctx context.Context, req *proxypb.PublishRequest) (*proxypb.PublishResponse, error)
	RPC(ctx context.Context, req *proxypb.RPCRequest) (*proxypb.RPCResponse, error)
	SubRefresh(ctx context.Context, req *proxypb.SubRefreshRequest) (*proxypb.SubRefreshResponse, error)
	// SharedPollRefresh is the shared-poll backend: the current state of
	// the items a channel's subscribers track.
	SharedPollRefresh(ctx context.Context, req *proxypb.SharedPollRefreshRequest) (*proxypb.SharedPollRefreshResponse, error)
	MapPublish(ctx context.Context, req *proxypb.MapPublishRequest) (*proxypb.MapPublishResponse, error)
	MapRemove(ctx context.Context, req *proxypb.MapRemoveRequest) (*proxypb.MapRemoveResponse, error)
}
