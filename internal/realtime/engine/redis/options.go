package redis

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
)

// Defaults used when the matching Options field is zero. They follow
// Centrifugo's, so an unmodified config behaves the same on both servers.
const (
	DefaultPrefix              = "centrifugo"
	DefaultConnectTimeout      = time.Second
	DefaultIOTimeout           = 4 * time.Second
	DefaultPresenceTTL         = 60 * time.Second
	DefaultHistoryMetaTTL      = 720 * time.Hour
	DefaultIdempotentResultTTL = 5 * time.Minute
	DefaultClusterPartitions   = 16
	// Map key expiry, as Centrifugo's map_broker.redis cleanup_interval
	// and cleanup_batch_size.
	DefaultMapCleanupInterval  = time.Second
	DefaultMapCleanupBatchSize = 100
)

// Options selects the Redis deployment and tunes lifetimes. Exactly one of
// Addresses, SentinelAddresses and ClusterAddresses must be set.
type Options struct {
	// Addresses are host:port pairs (or unix socket paths starting with
	// "/") of independent Redis servers. Several addresses shard channels
	// between them by consistent hashing of the channel name; every node
	// must list the same addresses in the same order.
	Addresses []string
	// User, Password and DB authenticate to and select the database on
	// every data server (not the sentinels).
	User     string
	Password string
	DB       int
	// Prefix starts every key and PUB/SUB channel name, so several
	// installations can share one Redis. In cluster mode it must not
	// contain '{' or '}' (they would change the hash slot).
	Prefix string
	// TLS, when set, is used for connections to the data servers.
	TLS *tls.Config
	// ConnectTimeout bounds a dial; IOTimeout bounds a call that came
	// with no deadline of its own and detects unresponsive connections.
	ConnectTimeout time.Duration
	IOTimeout      time.Duration

	// SentinelAddresses, with SentinelMasterName, find the master through
	// Redis Sentinel and follow failovers.
	SentinelAddresses  []string
	SentinelMasterName string
	SentinelUser       string
	SentinelPassword   string
	SentinelTLS        *tls.Config

	// ClusterAddresses are seed nodes of a Redis Cluster.
	ClusterAddresses []string
	// ClusterPartitions is how many groups channels are split into in
	// cluster mode; each group is one hash slot with its own PUB/SUB
	// connection, so more partitions spread load over more masters.
	// Every node must use the same value.
	ClusterPartitions int

	// PresenceTTL is how long a presence entry lives without refresh.
	PresenceTTL time.Duration
	// HistoryMetaTTL is the stream meta lifetime used when a publish or
	// history call names none.
	HistoryMetaTTL time.Duration
	// IdempotentResultTTL is how long a publish result is remembered for
	// its idempotency key when the publish names no lifetime.
	IdempotentResultTTL time.Duration
	// MapCleanupInterval is how often this node removes map keys whose
	// TTL passed (as removals subscribers see); MapCleanupBatchSize caps
	// the maps and the keys per map handled in one script call. Every
	// node cleans up; the scripts are atomic, so a key is removed once.
	MapCleanupInterval  time.Duration
	MapCleanupBatchSize int
	// NodeID names this node so PublishControl(toNode) can reach only
	// it. Empty gets a random id.
	NodeID string
	// Logger receives connection problems and undecodable messages.
	// Nil discards them.
	Logger *slog.Logger

	// classicPubSub forces classic PUB/SUB in cluster mode, so tests can
	// cover the path taken with Redis < 7 clusters.
	classicPubSub bool
}

// mode is which kind of Redis deployment the options describe.
type mode int

const (
	modeStandalone mode = iota
	modeSentinel
	modeCluster
)

// normalize fills defaults and rejects contradictory settings.
func (o Options) normalize() (Options, mode, error) {
	set := 0
	m := modeStandalone
	if len(o.Addresses) > 0 {
		set++
	}
	if len(o.SentinelAddresses) > 0 {
		set++
		m = modeSentinel
	}
	if len(o.ClusterAddresses) > 0 {
		set++
		m = modeCluster
	}
	switch {
	case set == 0:
		return o, m, errors.New("redis engine: no addresses: set Addresses, SentinelAddresses or ClusterAddresses")
	case set > 1:
		return o, m, errors.New("redis engine: set only one of Addresses, SentinelAddresses and ClusterAddresses")
	}
	if m == modeSentinel && o.SentinelMasterName == "" {
		return o, m, errors.New("redis engine: SentinelAddresses need SentinelMasterName")
	}
	for _, list := range [][]string{o.Addresses, o.SentinelAddresses, o.ClusterAddresses} {
		for _, a := range list {
			if strings.TrimSpace(a) == "" {
				return o, m, errors.New("redis engine: empty address")
			}
		}
	}
	if o.Prefix == "" {
		o.Prefix = DefaultPrefix
	}
	if m == modeCluster && strings.ContainsAny(o.Prefix, "{}") {
		return o, m, fmt.Errorf("redis engine: prefix %q must not contain '{' or '}' in cluster mode", o.Prefix)
	}
	if o.DB < 0 {
		return o, m, fmt.Errorf("redis engine: negative database number %d", o.DB)
	}
	if m == modeCluster && o.DB != 0 {
		return o, m, errors.New("redis engine: Redis Cluster has only database 0")
	}
	o.ConnectTimeout = orDefault(o.ConnectTimeout, DefaultConnectTimeout)
	o.IOTimeout = orDefault(o.IOTimeout, DefaultIOTimeout)
	o.PresenceTTL = orDefault(o.PresenceTTL, DefaultPresenceTTL)
	o.HistoryMetaTTL = orDefault(o.HistoryMetaTTL, DefaultHistoryMetaTTL)
	o.IdempotentResultTTL = orDefault(o.IdempotentResultTTL, DefaultIdempotentResultTTL)
	o.MapCleanupInterval = orDefault(o.MapCleanupInterval, DefaultMapCleanupInterval)
	if o.MapCleanupBatchSize <= 0 {
		o.MapCleanupBatchSize = DefaultMapCleanupBatchSize
	}
	if o.ClusterPartitions <= 0 {
		o.ClusterPartitions = DefaultClusterPartitions
	}
	if o.NodeID == "" {
		o.NodeID = randomID(16)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o, m, nil
}

func orDefault(v, def time.Duration) time.Duration {
	if v > 0 {
		return v
	}
	return def
}
