package redis

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/redis/rueidis"
	"github.com/spindle-rt/spindle/internal/realtime/engine"
)

// shard is one Redis deployment: a standalone server, a Sentinel-managed
// master, or a whole cluster.
type shard struct {
	client rueidis.Client
	// cluster is set for Redis Cluster; sharded selects SPUBLISH/SSUBSCRIBE
	// (cluster mode on Redis ≥ 7).
	cluster bool
	sharded bool
	parts   []*partition
}

// partition is where a channel lives: its shard, key names and PUB/SUB
// connection.
type partition struct {
	shard *shard
	keys  keys
	sub   *subscriber
}

// publishCommand is the script argument naming the PUB/SUB command.
func (p *partition) publishCommand() string {
	if p.shard.sharded {
		return "spublish"
	}
	return "publish"
}

// publish sends a message to a PUB/SUB channel outside the publish
// script. With classic PUB/SUB in a cluster it still goes through the
// partition's master, like the script's PUBLISH does: messages entering
// the cluster at different nodes could overtake each other.
func (p *partition) publish(ctx context.Context, name string, msg []byte) error {
	c := p.shard.client
	if p.shard.cluster && !p.shard.sharded {
		return relayScript.Exec(ctx, c, []string{p.keys.relay()}, []string{name, rueidis.BinaryString(msg)}).Error()
	}
	var cmd rueidis.Completed
	if p.shard.sharded {
		cmd = c.B().Spublish().Channel(name).Message(rueidis.BinaryString(msg)).Build()
	} else {
		cmd = c.B().Publish().Channel(name).Message(rueidis.BinaryString(msg)).Build()
	}
	return c.Do(ctx, cmd).Error()
}

// newShard connects one deployment and lays out its partitions.
func (e *Engine) newShard(addrs []string) (*shard, error) {
	o := e.opts
	co := rueidis.ClientOption{
		InitAddress:      slices.Clone(addrs), // ShuffleInit shuffles in place
		Username:         o.User,
		Password:         o.Password,
		SelectDB:         o.DB,
		TLSConfig:        o.TLS,
		Dialer:           net.Dialer{Timeout: o.ConnectTimeout, KeepAlive: time.Second},
		ConnWriteTimeout: o.IOTimeout,
		DialCtxFn:        dialUnixOrTCP,
		DisableRetry:     true,
		DisableCache:     true,
		ShuffleInit:      true,
	}
	switch e.mode {
	case modeStandalone:
		co.ForceSingleClient = true
	case modeSentinel:
		co.Sentinel = rueidis.SentinelOption{
			MasterSet:               o.SentinelMasterName,
			Username:                o.SentinelUser,
			Password:                o.SentinelPassword,
			TLSConfig:               o.SentinelTLS,
			Dialer:                  net.Dialer{Timeout: o.ConnectTimeout, KeepAlive: time.Second},
			TopologyRefreshInterval: 5 * time.Second,
		}
	case modeCluster:
		co.ClusterOption = rueidis.ClusterOption{ShardsRefreshInterval: 10 * time.Second}
	}
	client, err := rueidis.NewClient(co)
	if err != nil {
		return nil, fmt.Errorf("redis engine: connect %s: %w: %w", strings.Join(addrs, ","), engine.ErrUnavailable, err)
	}
	sh := &shard{client: client, cluster: e.mode == modeCluster}
	if e.mode == modeCluster {
		sh.sharded = !o.classicPubSub && e.supportsShardedPubSub(client)
		for i := range o.ClusterPartitions {
			sh.parts = append(sh.parts, e.newPartition(sh, o.Prefix+"."+partitionTag(i)))
		}
	} else {
		sh.parts = []*partition{e.newPartition(sh, o.Prefix+".")}
	}
	return sh, nil
}

func (e *Engine) newPartition(sh *shard, base string) *partition {
	p := &partition{shard: sh, keys: keys{base: base}, sub: newSubscriber(sh.client, sh.sharded, e.opts)}
	e.subs = append(e.subs, p.sub)
	return p
}

// supportsShardedPubSub probes SPUBLISH (Redis ≥ 7.0); older clusters fall
// back to classic PUB/SUB, which every master broadcasts to all nodes.
func (e *Engine) supportsShardedPubSub(c rueidis.Client) bool {
	ctx, cancel := context.WithTimeout(context.Background(), e.opts.IOTimeout)
	defer cancel()
	name := e.opts.Prefix + "." + partitionTag(0) + "probe"
	err := c.Do(ctx, c.B().Spublish().Channel(name).Message("").Build()).Error()
	if err != nil {
		e.opts.Logger.Info("redis engine: sharded PUB/SUB unavailable, using classic PUB/SUB", "error", err)
		return false
	}
	return true
}

// dialUnixOrTCP lets an address that is a path reach a unix socket.
func dialUnixOrTCP(ctx context.Context, addr string, d *net.Dialer, cfg *tls.Config) (net.Conn, error) {
	network := "tcp"
	if strings.HasPrefix(addr, "/") {
		network = "unix"
	}
	if cfg != nil {
		td := &tls.Dialer{NetDialer: d, Config: cfg}
		return td.DialContext(ctx, network, addr)
	}
	return d.DialContext(ctx, network, addr)
}

// route finds where a channel (or an internal name) lives: the shard by
// jump consistent hash, then the cluster partition.
func (e *Engine) route(name string) *partition {
	h := fnv64a(name)
	sh := e.shards[jumpHash(h, len(e.shards))]
	return sh.parts[(h>>32)%uint64(len(sh.parts))]
}

// Internal routing names for control channels; the NUL byte keeps them
// apart from any client channel name.
const (
	controlRoute = "\x00control"
	nodeRoute    = "\x00node."
)
