// Package redis is the multi-node engine: publications, join/leave events
// and control messages travel between nodes over Redis PUB/SUB, while
// history streams and presence live in Redis keys, so every node of a
// `spindle server` cluster sees the same channels.
//
// # Topology
//
// Options.Addresses lists one or more independent Redis servers (or
// Sentinel-managed masters, or one Redis Cluster). With several addresses
// each channel lives on exactly one of them, chosen by jump consistent
// hashing (Lamping & Veach) of the FNV-1a hash of the channel name, so
// adding a shard moves only about 1/n of the channels. All keys and the
// PUB/SUB channel of a Spindle channel are on the same shard, which is
// what lets one Lua script update history and publish atomically.
//
// In Redis Cluster mode every channel is assigned to one of
// Options.ClusterPartitions partitions; all its keys and its PUB/SUB
// channel carry the hash tag "{p<N>}" so they share a slot. Each
// partition has its own PUB/SUB connection. Sharded PUB/SUB
// (SPUBLISH/SSUBSCRIBE) is used when the cluster supports it (Redis ≥ 7),
// classic PUB/SUB otherwise; in the classic case every message of a
// channel still enters the cluster at the partition's master (through a
// one-line script on the "relay" key), because messages published at
// different nodes could overtake each other on the cluster bus.
//
// Every PUB/SUB connection is dedicated and owned by a loop that keeps the
// set of wanted channels: when the connection breaks (Redis restart,
// failover, slot migration) it reconnects with backoff and resubscribes
// them all. Subscribe waits for Redis to confirm; concurrent requests are
// merged into one command. Messages are handed to one of a fixed set of
// worker goroutines chosen by channel, so each channel's events reach the
// EventHandler in publish order without a slow handler stalling the
// connection.
//
// # Keys
//
// With prefix P and tag T ("" outside cluster mode, "{p<N>}." inside):
//
//	P.T client.<channel>            PUB/SUB channel of a Spindle channel
//	P.T control                     PUB/SUB channel every node listens to
//	P.T node.<node id>              PUB/SUB channel of one node
//	P.T history.stream.<channel>    stream; entry id = offset, field d
//	P.T history.meta.<channel>      hash: e = epoch, s = top offset
//	P.T result.<len>:<channel>:<key> idempotent publish result "offset:epoch"
//	P.T presence.data.<channel>     hash: client id -> encoded ClientInfo
//	P.T presence.expire.<channel>   zset: client id -> expiry (Redis µs)
//	P.T relay                       never written; routes classic cluster PUBLISH
//	P.T map.meta.<channel>          hash: e epoch, s top offset, ss/st/mt stream
//	                                settings of the last write, x/v hints
//	P.T map.stream.<channel>        stream of changes; entry id = offset, field d
//	P.T map.state.<channel>         hash: key -> offset:version:<n>:<version epoch><publication>
//	P.T map.keys.<channel>          zset: every key at score 0 (ZRANGEBYLEX pages)
//	P.T map.expire.<channel>        zset: key -> expiry (Redis ms)
//	P.T map.expiring                zset: channel -> earliest key expiry (cleanup index)
//	P.T map.result.<len>:<channel>:<key> idempotent map write result "offset:epoch"
//
// # Scripts
//
// Publishing with history (or an idempotency key) is one Lua script call:
// check the idempotency key, create the epoch if the meta hash is missing
// (deleting any stale stream), HINCRBY the top offset, XADD with exact
// MAXLEN and the offset as entry id, PEXPIRE stream and meta, PUBLISH the
// frame and store the idempotent result with SET PX. History runs a short
// script that reads or creates the meta hash together with a plain
// XRANGE/XREVRANGE inside one MULTI, so position and entries agree.
// Presence entries expire by the zset scores, judged on Redis' clock.
//
// Map channels (maps.go, mapscripts.go) are one script call per write,
// removal and state page: idempotency (a cached result counts only for
// the map's current epoch, so a cleared map forgets it), key mode and
// version checks, the offset, XADD with exact MAXLEN, the state value, the
// key's expiry, the meta lifetime and the PUBLISH, atomically. Every call
// first removes the map's keys whose TTL passed, as removals; a cleanup
// loop (Options.MapCleanupInterval, default 1s) does the same for maps
// nobody touches, finding them through the map.expiring index, so expiry
// is delivered within about an interval. Map stream reads run a short
// position script in a MULTI with XRANGE/XREVRANGE, like History.
//
// # Payloads
//
// PUB/SUB messages are small binary frames, not JSON (see codec.go):
//
//	'p' <offset> ':' <epoch> ':' <publication>   a publication
//	'q' <offset> ':' <epoch> ':' <n> ':' <n bytes> <publication>
//	                                             a map write with its key's previous value
//	'j' <has info: 0|1> [client info]            a join
//	'l' <has info: 0|1> [client info]            a leave
//
// Offset is decimal ASCII so the Lua publish script can write it; epoch is
// alphanumeric. Control channels carry the caller's bytes unchanged. A
// publication is encoded as: version byte 1, zigzag varint time (Unix ms),
// length-prefixed data, a flag byte (bit 0: client info follows), the info
// if present, then a uvarint tag count and length-prefixed key/value
// pairs. Version 2 appends a flags byte (1 delta, 2 map key follows,
// 4 removal) and, with flag 2, the length-prefixed map key; it is written
// only when a flag is set, so stream publications without delta keep
// version 1. Client info is four length-prefixed strings: user, client,
// connection info, channel info. Lengths are uvarints. A presence value is
// the version byte, the has-info byte and the client info.
package redis
