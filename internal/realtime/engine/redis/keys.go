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

// relay is never written: it only routes a classic-cluster PUBLISH to the
// partition's master.
func (k keys) relay() string { return k.base + "relay" }

func (k keys) control() string           { return k.base + "control" }
func (k keys) node(nodeID string) string { return k.base + "node." + nodeID }
func partitionTag(partition int) string  { return "{p" + strconv.Itoa(partition) + "}." }
