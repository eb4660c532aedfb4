// Package node is the hub of `spindle server`: it owns connections and
// subscriptions, decides what each client may do, and fans publications
// out. It knows neither the transport (it sees a Transport) nor the engine
// (it sees engine.Engine), so both can be swapped without touching it.
//
// # Goroutines
//
// Each connection has the transport's reader, which calls HandleFrame and
// so runs the connection's commands one after another, and, only while
// something is queued, the writer (Client.writeLoop), the only caller of
// Transport.Write: the first push into a queue without a writer starts
// it, and the node's sweeper (Node.retireIdleWriters, once a second) ends
// it once nothing was pushed for a whole interval, so an idle connection
// holds one goroutine and a busy one does not start one per frame. Timers
// (stale, ping, pong, expiry, ticks) run their callbacks on goroutines of
// their own, and so do server API operations on a connection (control
// messages start one goroutine per affected client). Publications are
// delivered on whatever goroutine the engine delivers them on; the memory
// engine uses the publisher's.
//
// # Locks
//
// The locks, what each guards, and the only order in which two may be
// held at once (a lock may be taken while holding the ones listed before
// it, never the other way round):
//
//  0. Client.frameMu serialises one connection's HandleFrame calls (an
//     emulated connection's frames come from concurrent HTTP requests).
//     It is held while commands are decoded and dispatched, so every lock
//     below may be taken under it, and it is never taken under any of them.
//
//  1. Node.mu guards the shutdown and running flags. Nothing else is
//     taken under it.
//
//  2. Node.subLocks[i] (one per channel shard, i = shardIndex(channel))
//     serialises "first local subscriber, so subscribe the broker"
//     against "last local subscriber gone, so unsubscribe it" for the
//     channels of its shard, so the two never interleave into a channel
//     this node has subscribers for but no broker subscription. Under it
//     the node takes a hub shard lock and calls the engine's Subscribe or
//     Unsubscribe (which may lock inside the engine, or do I/O for Redis).
//
//  3. Client.mu guards the connection's state: status, user, info, meta,
//     expireAt, the subs map, every field of its *subscription values that
//     changes after creation (chanInfo, expireAt, syncing, pending,
//     offset, epoch, checkedAt, seenTop), the map subscribe flows
//     (mapFlows and their busy flag: the goroutine that set busy owns
//     the rest of a flow until it clears it) and mapKeys,
//     pingOutstanding and the timer fields. One exception: while a subscription is syncing, the
//     goroutine subscribing it owns offset and epoch (position writes
//     them without the lock); everyone else reads them only after
//     afterReply ended syncing under c.mu. Under Client.mu the node may
//     take hub.mu (registering the client: see register) and
//     writeQueue.mu (queueing a push); it must not take a subLock, call
//     the engine or a proxy, or take another client's mu.
//
//  4. hub.mu guards the client and user indexes; each hub shard's mu
//     guards the subscriber sets of its channels. They are leaves: taken
//     under a subLock (shard) or Client.mu (hub.mu), and nothing is taken
//     under them. Readers copy what they need (subscribers, userConnections)
//     and lock clients only after releasing them.
//
//  5. writeQueue.mu guards a connection's queued frames and close request;
//     its cond wakes the writer, which a push starts when there is none.
//     It is a leaf, taken under Client.mu or
//     alone, so enqueueing never blocks on anything but the queue itself.
//
//  6. sessionIndex.mu guards the emulation session index, and each
//     deltaShard.mu one shard of the channels' delta bases (leaves).
//     pollChannels.mu guards the shared-poll channel table and may take a
//     pollChannel.mu (shutdownIfIdle); pollChannel.mu guards one channel's
//     keys, versions and trackers and is a leaf: a client's mu is taken
//     only after releasing it.
//     nodeRegistry.mu guards the table of other nodes; preparedPush's
//     sync.Once values guard each push's encodings; commandLimiter.mu
//     guards one connection's rate-limit buckets (taken by the goroutine
//     running a command, before the command runs). All are leaves.
//
// The configuration a reload may replace (Node.cur, see settings.go) is
// no lock: it is an atomic pointer to an immutable *settings that
// Reconfigure replaces whole. Readers load it once per decision, under
// any lock or none, and never write to what it points to, so a command
// never sees half of an old configuration and half of a new one.
//
// In short: frameMu → everything; subLock → hub shard; Client.mu → hub.mu; Client.mu →
// writeQueue.mu. No lock is held while calling the engine except a
// subLock around Subscribe/Unsubscribe, and none while calling a proxy.
// The engine delivers events without holding its own locks, so handlers
// may call back into it.
//
// Functions whose names end in Locked, and those whose comments say
// "callers hold c.mu", must be called with Client.mu held; they never
// take it themselves.
//
// # Races the design closes
//
// A close may run at any moment on another goroutine. Connect registers
// the client under c.mu, so a close either sees it registered or makes
// the connect fail. Subscribe adds the subscription to c.subs before the
// hub and the presence, and checks for a close after both: a close that
// came first has missed them and the subscribe undoes them itself; a
// later close finds everything in place. A subscription stays syncing
// from its hub registration until its own reply is queued (afterReply
// names the channels it releases), and publications arriving meanwhile
// wait in its pending list, so none is lost, duplicated or sent before
// the reply.
package node
