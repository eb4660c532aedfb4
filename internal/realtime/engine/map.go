package engine

import (
	"context"
	"time"
)

// A map channel is keyed state: each key holds its latest publication, and
// (unless the map is ephemeral) every change is also appended to a bounded
// stream with offsets, so a subscriber that read the state at some position
// can catch up from there, and a reconnecting one can recover. The state
// and the stream share one epoch and one top offset.
//
// Map publications reach subscribers through the same EventHandler as
// stream publications: HandlePublication with Publication.Key set (and
// Removed for a removal).

// KeyMode makes a map write conditional on whether the key exists.
type KeyMode uint8

const (
	KeyModeAny      KeyMode = iota // write whatever the key's state
	KeyModeIfNew                   // only when the key is absent, else SuppressKeyExists
	KeyModeIfExists                // only when the key is present, else SuppressKeyNotFound
)

// Why a map write did nothing. The strings are the server API's
// suppress_reason values.
const (
	SuppressIdempotency = "idempotency"
	SuppressVersion     = "version"
	SuppressKeyExists   = "key_exists"
	SuppressKeyNotFound = "key_not_found"
)

// MapStreamOptions are a map channel's stream settings, sent with every
// call because the engine keeps no configuration: StreamSize 0 is an
// ephemeral map (no stream, offsets stay 0).
type MapStreamOptions struct {
	StreamSize int
	StreamTTL  time.Duration
	// MetaTTL is how long the epoch and top offset outlive the last
	// change; 0 keeps them as long as the engine holds the channel.
	MetaTTL time.Duration
	// KeyTTL removes a key that has not been written for that long, as a
	// removal every subscriber sees; 0 keeps keys until removed.
	KeyTTL time.Duration
}

// MapPublishOptions shape one map write.
type MapPublishOptions struct {
	MapStreamOptions
	KeyMode KeyMode
	// RefreshTTLOnSuppress renews the key's TTL even when KeyMode
	// suppresses the write (presence maps keep an entry alive this way
	// without broadcasting it again).
	RefreshTTLOnSuppress bool
	// Version, when > 0, suppresses the write unless it is newer than the
	// key's stored version of the same VersionEpoch (stream-backed maps).
	Version      uint64
	VersionEpoch string
	// IdempotencyKey makes a repeated write within IdempotentResultTTL a
	// no-op that returns the first result (SuppressIdempotency).
	IdempotencyKey      string
	IdempotentResultTTL time.Duration
	Info                *ClientInfo
	Tags                map[string]string
	// Delta marks the publication delta-eligible; the engine then hands the
	// key's previous value along (Publication.PrevData) as the patch base.
	Delta bool
}

// MapRemoveOptions shape one key removal.
type MapRemoveOptions struct {
	MapStreamOptions
	IdempotencyKey      string
	IdempotentResultTTL time.Duration
	Tags                map[string]string
}

// MapResult is the outcome of a map write: the channel's position after
// it, or why nothing happened (SuppressReason; nothing was broadcast).
type MapResult struct {
	Position       StreamPosition
	Suppressed     bool
	SuppressReason string
}

// MapStateOptions select one page of a map's state, ordered by key.
type MapStateOptions struct {
	MapStreamOptions
	// Cursor continues after that key ("" is the first page).
	Cursor string
	// Limit is the page size; <= 0 returns every key.
	Limit int
	// Key, when set, reads that key alone.
	Key string
	// Revision, when set, is the position the first page was read at:
	// a different epoch is ErrUnrecoverablePosition, and entries changed
	// after it are left out (the stream after Revision carries them).
	Revision *StreamPosition
}

// MapState is one page of state.
type MapState struct {
	Entries []*Publication
	// Position is the stream top for a first page, Revision for later ones.
	Position StreamPosition
	// Cursor is the last key of a page that has more after it, else "".
	Cursor string
}

// MapReadOptions select changes from a map's stream.
type MapReadOptions struct {
	MapStreamOptions
	// Since returns the changes after that position: a different epoch,
	// or changes since then no longer kept, is ErrUnrecoverablePosition.
	Since *StreamPosition
	// Limit: <= 0 returns all of them, N > 0 at most N.
	Limit   int
	Reverse bool
}

// MapBroker keeps map channels and delivers their changes. The node calls
// Subscribe and Unsubscribe for map channels on it (an engine that is also
// the Broker shares them), and Run once when it is not also the Broker.
type MapBroker interface {
	Run(h EventHandler) error
	Subscribe(channel string) error
	Unsubscribe(channel string) error
	MapPublish(ctx context.Context, channel, key string, data []byte, opts MapPublishOptions) (MapResult, error)
	MapRemove(ctx context.Context, channel, key string, opts MapRemoveOptions) (MapResult, error)
	MapState(ctx context.Context, channel string, opts MapStateOptions) (MapState, error)
	MapStream(ctx context.Context, channel string, opts MapReadOptions) ([]*Publication, StreamPosition, error)
	// MapStats counts the keys.
	MapStats(ctx context.Context, channel string) (int, error)
	// MapClear drops the map: keys, stream and epoch.
	MapClear(ctx context.Context, channel string) error
}
