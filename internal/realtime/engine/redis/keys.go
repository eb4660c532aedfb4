package redis

import "strconv"

// keys names everything one Spindle channel uses in Redis. Building all
// names in one place keeps the layout documented in doc.go true, and keeps
// every key of a channel in one cluster slot.
type keys struct {
	// base is "<prefix>." plus, in cluster mode, the partition hash tag.
	base string
}

func (k keys) pubsub(channel string) string        { return k.base + "client." + channel }
func (k keys) historyStream(channel string) string { return k.base + "history.stream." + channel }
func (k keys) historyMeta(channel string) string   { return k.base + "history.meta." + channel }
func (k keys) presenceData(channel string) string  { return k.base + "presence.data." + channel }
func (k keys) presenceExpire(channel string) string {
	return k.base + "presence.expire." + channel
}

// result names an idempotent publish result. The channel length makes the
// name unambiguous whatever characters channel and key contain.
func (k keys) result(channel, key string) string {
	return k.base + "result." + strconv.Itoa(len(channel)) + ":" + channel + ":" + key
}

// Map channels. Each map is six keys of one slot: the meta hash (epoch,
// top offset, the stream settings of the last write), the change stream,
// the state hash (key -> entry), the key order zset (all scores 0, for
// ZRANGEBYLEX pages), the key expiry zset (key -> expiry in Redis ms) and
// the partition-wide index of maps with expiring keys (channel -> the
// earliest expiry), which the cleanup loop reads instead of scanning.
func (k keys) mapMeta(channel string) string   { return k.base + "map.meta." + channel }
func (k keys) mapStream(channel string) string { return k.base + "map.stream." + channel }
func (k keys) mapState(channel string) string  { return k.base + "map.state." + channel }
func (k keys) mapOrder(channel string) string  { return k.base + "map.keys." + channel }
func (k keys) mapExpire(channel string) string { return k.base + "map.expire." + channel }
func (k keys) mapExpiring() string             { return k.base + "map.expiring" }

// mapKeys lists a map's keys in the order every map script takes them
// (KEYS[1]..KEYS[6]).
func (k keys) mapKeys(channel string) []string {
	return []string{k.mapMeta(channel), k.mapStream(channel), k.mapState(channel),
		k.mapOrder(channel), k.mapExpire(channel), k.mapExpiring()}
}

// mapResult names an idempotent map write result, apart from stream
// publishes' results so the two never answer for each other.
func (k keys) mapResult(channel, key string) string {
	return k.base + "map.result." + strconv.Itoa(len(channel)) + ":" + channel + ":" + key
}

// relay is never written: it only routes a classic-cluster PUBLISH to the
// partition's master.
func (k keys) relay() string { return k.base + "relay" }

func (k keys) control() string           { return k.base + "control" }
func (k keys) node(nodeID string) string { return k.base + "node." + nodeID }
func partitionTag(partition int) string  { return "{p" + strconv.Itoa(partition) + "}." }
