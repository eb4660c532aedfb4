// Package engine defines what the node needs from a shared-state backend:
// a broker that fans publications out to every node, per-channel history
// streams that make recovery possible, and presence.
//
// The node only ever talks to these interfaces, so the in-memory engine
// (engine/memory) and a Redis engine are interchangeable; both are held to
// the same behaviour by the contract suite in engine/enginetest.
package engine

import (
	"context"
	"errors"
	"time"
)

// ErrUnrecoverablePosition is returned by History when the caller asks for
// publications since a position whose epoch no longer matches the stream:
// the stream was lost, so continuity cannot be proven.
var ErrUnrecoverablePosition = errors.New("unrecoverable position")

// ErrUnavailable wraps failures of the backing store (for example Redis
// down) so the node can answer clients with a temporary error.
var ErrUnavailable = errors.New("engine unavailable")

// StreamPosition identifies a place in a channel's history stream. Offsets
// grow by one per publication kept in history; the epoch changes whenever the
// stream is lost, which invalidates all earlier offsets.
type StreamPosition struct {
	Offset uint64
	Epoch  string
}

// ClientInfo describes a connection as other clients see it in presence,
// join/leave events and publications.
type ClientInfo struct {
	User     string
	Client   string
	ConnInfo []byte
	ChanInfo []byte
}

// Publication is one message in a channel, as delivered and as kept in
// history.
type Publication struct {
	Offset uint64
	Data   []byte
	Info   *ClientInfo
	Tags   map[string]string
	// Time is the publish moment in Unix milliseconds.
	Time int64
	// Delta says the publisher allows sending this publication as a delta
	// against the previous one (namespace delta_publish or the API's
	// delta flag); subscribers that negotiated delta then may get a patch.
	Delta bool
	// Key is set on map channels: the key this publication writes, or
	// removes when Removed is true (then Data is empty).
	Key     string
	Removed bool
	// PrevData is the key's value before this write, for a delta-eligible
	// map publication that replaced one: the base of its patch. It is
	// never stored.
	PrevData []byte
}

// PublishOptions carries the channel's history settings with each publish,
// because the engine keeps no configuration of its own: namespaces can be
// reconfigured without touching the engine.
type PublishOptions struct {
	// HistorySize and HistoryTTL both > 0 keep the publication in the
	// channel's stream; otherwise it is only broadcast.
	HistorySize int
	HistoryTTL  time.Duration
	// HistoryMetaTTL is how long the stream's epoch and top offset outlive
	// the last publication. Zero means the engine default.
	HistoryMetaTTL time.Duration
	// IdempotencyKey, when set, makes a repeated publish with the same key
	// within IdempotentResultTTL a no-op that returns the first result.
	IdempotencyKey      string
	IdempotentResultTTL time.Duration
	Info                *ClientInfo
	Tags                map[string]string
	// Delta is copied into the Publication (see Publication.Delta).
	Delta bool
}

// HistoryOptions selects a slice of a channel's stream.
type HistoryOptions struct {
	// Since, when set, returns publications after that position; an epoch
	// mismatch gives ErrUnrecoverablePosition.
	Since *StreamPosition
	// Limit: 0 returns no publications (only the position), -1 all of them,
	// N > 0 at most N.
	Limit int
	// Reverse returns newest first.
	Reverse bool
	// MetaTTL is the stream meta lifetime to apply if the stream is created
	// by this call. Zero means the engine default.
	MetaTTL time.Duration
}

// EventHandler receives what the broker delivers for channels this node has
// subscribed to, and control messages addressed to this node. Calls for one
// channel arrive in publish order.
type EventHandler interface {
	HandlePublication(channel string, pub *Publication, sp StreamPosition) error
	HandleJoin(channel string, info *ClientInfo) error
	HandleLeave(channel string, info *ClientInfo) error
	// HandleControl receives node-to-node messages (server API commands
	// that must reach connections on every node, node info).
	HandleControl(data []byte) error
}

// Broker moves publications between nodes and keeps history streams.
type Broker interface {
	// Run starts delivering events to h. It is called once, before any
	// other method.
	Run(h EventHandler) error
	// Subscribe makes this node receive events of the channel.
	Subscribe(channel string) error
	// Unsubscribe stops delivery of the channel's events to this node.
	Unsubscribe(channel string) error
	// Publish stores the publication in history (when the options ask for
	// it) and delivers it to every subscribed node. suppressed is true
	// when an idempotency key matched an earlier publish.
	Publish(ctx context.Context, channel string, data []byte, opts PublishOptions) (sp StreamPosition, suppressed bool, err error)
	// PublishJoin and PublishLeave deliver presence events to every node.
	PublishJoin(ctx context.Context, channel string, info *ClientInfo) error
	PublishLeave(ctx context.Context, channel string, info *ClientInfo) error
	// PublishControl delivers data to HandleControl of the node named
	// toNode, or of every node (this one included) when toNode is empty.
	PublishControl(ctx context.Context, data []byte, toNode string) error
	// History returns publications and the current top position.
	History(ctx context.Context, channel string, opts HistoryOptions) ([]*Publication, StreamPosition, error)
	// RemoveHistory drops the channel's publications but keeps its
	// position, so clients can still tell they missed something.
	RemoveHistory(ctx context.Context, channel string) error
	// Close releases the broker's resources.
	Close(ctx context.Context) error
}

// PresenceStats counts a channel's connections and distinct users.
type PresenceStats struct {
	NumClients int
	NumUsers   int
}

// PresenceManager keeps who is subscribed to a channel, across nodes.
type PresenceManager interface {
	// Presence returns the channel's connections keyed by client id.
	Presence(ctx context.Context, channel string) (map[string]*ClientInfo, error)
	PresenceStats(ctx context.Context, channel string) (PresenceStats, error)
	// AddPresence adds or refreshes an entry; entries not refreshed within
	// the manager's TTL disappear, so a crashed node's clients go away.
	AddPresence(ctx context.Context, channel, clientID string, info *ClientInfo) error
	RemovePresence(ctx context.Context, channel, clientID, userID string) error
}

// Engine bundles the two halves the node is given at start-up.
type Engine interface {
	Broker
	PresenceManager
}
