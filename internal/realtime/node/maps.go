package node

import (
	"context"
	"time"
	"unicode/utf8"

	"github.com/spindle-rt/spindle/internal/realtime/engine"
)

// Map channels: namespaces whose subscription_type is map, map_clients or
// map_users hold keyed state in the map broker (engine.MapBroker). This
// file maps a namespace's settings onto the broker's options and holds the
// writes that client commands, presence maps and the server API share.
// The paged subscribe is in map_subscribe.go.

// Subscription types as the protocol numbers them (SubscribeRequest.type).
const (
	subTypeStream     int32 = 0
	subTypeMap        int32 = 1
	subTypeMapClients int32 = 2
	subTypeMapUsers   int32 = 3
	subTypeSharedPoll int32 = 4
)

// maxMapKeyLength bounds a map key in bytes; keys are names, not payloads.
const maxMapKeyLength = 1024

// Map paging defaults (Centrifugo's): page sizes and the catch-up bound.
const (
	defaultMapPageSize      = 100
	defaultMapMinPageSize   = 100
	defaultMapMaxPageSize   = 1000
	defaultMapStreamSize    = 100
	defaultMapStreamTTL     = time.Minute
	defaultMapCatchUpWindow = 5 * time.Second
)

// subscriptionTypeOf is the protocol number of a namespace's type.
func subscriptionTypeOf(o *ChannelOptions) int32 {
	switch o.SubscriptionType {
	case "map":
		return subTypeMap
	case "map_clients":
		return subTypeMapClients
	case "map_users":
		return subTypeMapUsers
	case "shared_poll":
		return subTypeSharedPoll
	}
	return subTypeStream
}

func isMapType(t int32) bool { return t >= subTypeMap && t <= subTypeMapUsers }

// mapStreamOptions turns the namespace's map mode into the broker's
// stream settings: ephemeral maps keep no stream; recoverable ones keep
// one whose position outlives its keys; persistent keys never expire.
func mapStreamOptions(o *MapOptions) engine.MapStreamOptions {
	if o.Mode == "" || o.Mode == "ephemeral" {
		return engine.MapStreamOptions{KeyTTL: o.KeyTTL}
	}
	s := engine.MapStreamOptions{StreamSize: o.StreamSize, StreamTTL: o.StreamTTL, MetaTTL: o.MetaTTL}
	if s.StreamSize <= 0 {
		s.StreamSize = defaultMapStreamSize
	}
	if s.StreamTTL <= 0 {
		s.StreamTTL = defaultMapStreamTTL
	}
	if o.Mode == "recoverable" {
		s.KeyTTL = o.KeyTTL
		if s.MetaTTL == 0 {
			s.MetaTTL = max(10*s.StreamTTL, o.KeyTTL)
		}
	}
	return s
}

// pageSize clamps a requested page size to the namespace's bounds.
func pageSize(o *MapOptions, limit int32) int {
	def, lo, hi := o.DefaultPageSize, o.MinPageSize, o.MaxPageSize
	if def <= 0 {
		def = defaultMapPageSize
	}
	if lo <= 0 {
		lo = defaultMapMinPageSize
	}
	if hi <= 0 {
		hi = defaultMapMaxPageSize
	}
	n := int(limit)
	if n <= 0 {
		n = def
	}
	return min(max(n, lo), hi)
}

func catchUpWindow(o *MapOptions) time.Duration {
	if o.SubscribeCatchUpTimeout > 0 {
		return o.SubscribeCatchUpTimeout
	}
	return defaultMapCatchUpWindow
}

func liveLimit(o *MapOptions) int {
	if o.LiveTransitionMaxPublicationLimit > 0 {
		return o.LiveTransitionMaxPublicationLimit
	}
	if o.MaxPageSize > 0 {
		return o.MaxPageSize
	}
	return defaultMapMaxPageSize
}

// validMapKey refuses empty, oversize and non-UTF-8 keys.
func validMapKey(k string) bool {
	return k != "" && len(k) <= maxMapKeyLength && utf8.ValidString(k)
}

// mapWrite is one write's extras, from a client or the server API.
type mapWrite struct {
	info           *engine.ClientInfo
	tags           map[string]string
	idempotencyKey string
	delta          bool
	version        uint64
	versionEpoch   string
	keyMode        engine.KeyMode
	refreshTTL     bool
}

// mapNamespace resolves ch to a map-typed namespace: unknown namespace
// 102, a channel that is not a map 107, no map broker 108.
func (n *Node) mapNamespace(ch string) (*namespace, error) {
	info, err := n.settings().rules.lookup(ch)
	if err != nil {
		return nil, err
	}
	if !isMapType(subscriptionTypeOf(&info.ns.opts)) {
		return nil, ErrorBadRequest
	}
	if n.maps == nil {
		return nil, ErrorNotAvailable
	}
	return info.ns, nil
}

// mapPublish writes one key of a map channel.
func (n *Node) mapPublish(ctx context.Context, ch string, ns *namespace, key string, data []byte, w mapWrite) (engine.MapResult, error) {
	res, err := n.maps.MapPublish(ctx, ch, key, data, engine.MapPublishOptions{
		MapStreamOptions:     mapStreamOptions(&ns.opts.Map),
		KeyMode:              w.keyMode,
		RefreshTTLOnSuppress: w.refreshTTL,
		Version:              w.version,
		VersionEpoch:         w.versionEpoch,
		IdempotencyKey:       w.idempotencyKey,
		Info:                 w.info,
		Tags:                 w.tags,
		Delta:                w.delta || ns.opts.DeltaPublish,
	})
	if err != nil {
		n.metrics.publishErrors.Inc()
		return res, engineError(err)
	}
	if !res.Suppressed {
		n.metrics.publications.Inc()
	}
	return res, nil
}

// mapRemove removes one key of a map channel.
func (n *Node) mapRemove(ctx context.Context, ch string, ns *namespace, key, idempotencyKey string) (engine.MapResult, error) {
	return n.mapRemoveWith(ctx, ch, ns, key, mapWrite{idempotencyKey: idempotencyKey})
}

// mapRemoveWith is mapRemove with the extras a map remove proxy may
// answer; of w, only tags (carried by the removal event, so tags filters
// see it) and idempotencyKey apply to a removal.
func (n *Node) mapRemoveWith(ctx context.Context, ch string, ns *namespace, key string, w mapWrite) (engine.MapResult, error) {
	res, err := n.maps.MapRemove(ctx, ch, key, engine.MapRemoveOptions{
		MapStreamOptions: mapStreamOptions(&ns.opts.Map),
		IdempotencyKey:   w.idempotencyKey,
		Tags:             w.tags,
	})
	if err != nil {
		return res, engineError(err)
	}
	return res, nil
}

// mapTop is a map channel's current stream position.
func (n *Node) mapTop(ctx context.Context, ch string, ns *namespace) (engine.StreamPosition, error) {
	_, top, err := n.maps.MapStream(ctx, ch, engine.MapReadOptions{MapStreamOptions: mapStreamOptions(&ns.opts.Map), Reverse: true, Limit: 1})
	if err != nil {
		return top, engineError(err)
	}
	return top, nil
}

// MapPublishOptions are the server API's map_publish extras.
type MapPublishOptions struct {
	Tags           map[string]string
	IdempotencyKey string
	Delta          bool
	Version        uint64
	VersionEpoch   string
	// KeyMode is "", "if_new" or "if_exists"; anything else is 107.
	KeyMode string
}

// parseKeyMode reads a key_mode as the server API and map publish proxy
// results spell it: "" (write whatever the key's state), "if_new" or
// "if_exists"; false for anything else.
func parseKeyMode(s string) (engine.KeyMode, bool) {
	switch s {
	case "":
		return engine.KeyModeAny, true
	case "if_new":
		return engine.KeyModeIfNew, true
	case "if_exists":
		return engine.KeyModeIfExists, true
	}
	return engine.KeyModeAny, false
}

// MapPublish writes a key of a map channel on behalf of the backend.
func (n *Node) MapPublish(ctx context.Context, ch, key string, data []byte, o MapPublishOptions) (engine.MapResult, error) {
	if ch == "" || !validMapKey(key) {
		return engine.MapResult{}, ErrorBadRequest
	}
	mode, ok := parseKeyMode(o.KeyMode)
	if !ok {
		return engine.MapResult{}, ErrorBadRequest
	}
	ns, err := n.mapNamespace(ch)
	if err != nil {
		return engine.MapResult{}, err
	}
	return n.mapPublish(ctx, ch, ns, key, data, mapWrite{
		tags: o.Tags, idempotencyKey: o.IdempotencyKey, delta: o.Delta,
		version: o.Version, versionEpoch: o.VersionEpoch, keyMode: mode,
	})
}

// MapRemove removes a key of a map channel on behalf of the backend.
func (n *Node) MapRemove(ctx context.Context, ch, key, idempotencyKey string) (engine.MapResult, error) {
	if ch == "" || !validMapKey(key) {
		return engine.MapResult{}, ErrorBadRequest
	}
	ns, err := n.mapNamespace(ch)
	if err != nil {
		return engine.MapResult{}, err
	}
	return n.mapRemove(ctx, ch, ns, key, idempotencyKey)
}

// MapReadStateOptions select a page of a map's state for the server API.
type MapReadStateOptions struct {
	Cursor string
	// Limit <= 0 reads every key.
	Limit int
	Key   string
	// Revision, when set, is the position of an earlier page (an epoch
	// change is 112).
	Revision *engine.StreamPosition
}

// MapReadState reads a page of a map channel's keys in key order.
func (n *Node) MapReadState(ctx context.Context, ch string, o MapReadStateOptions) (engine.MapState, error) {
	if ch == "" {
		return engine.MapState{}, ErrorBadRequest
	}
	ns, err := n.mapNamespace(ch)
	if err != nil {
		return engine.MapState{}, err
	}
	st, err := n.maps.MapState(ctx, ch, engine.MapStateOptions{
		MapStreamOptions: mapStreamOptions(&ns.opts.Map),
		Cursor:           o.Cursor, Limit: o.Limit, Key: o.Key, Revision: o.Revision,
	})
	return st, engineError(err)
}

// MapReadStream reads a map channel's change stream.
func (n *Node) MapReadStream(ctx context.Context, ch string, since *engine.StreamPosition, limit int, reverse bool) ([]*engine.Publication, engine.StreamPosition, error) {
	if ch == "" {
		return nil, engine.StreamPosition{}, ErrorBadRequest
	}
	ns, err := n.mapNamespace(ch)
	if err != nil {
		return nil, engine.StreamPosition{}, err
	}
	pubs, top, err := n.maps.MapStream(ctx, ch, engine.MapReadOptions{
		MapStreamOptions: mapStreamOptions(&ns.opts.Map), Since: since, Limit: limit, Reverse: reverse,
	})
	return pubs, top, engineError(err)
}

// MapStats counts a map channel's keys.
func (n *Node) MapStats(ctx context.Context, ch string) (int, error) {
	if ch == "" {
		return 0, ErrorBadRequest
	}
	if _, err := n.mapNamespace(ch); err != nil {
		return 0, err
	}
	num, err := n.maps.MapStats(ctx, ch)
	return num, engineError(err)
}

// MapClear empties a map channel; its next write starts a new epoch, so
// subscribers resynchronise.
func (n *Node) MapClear(ctx context.Context, ch string) error {
	if ch == "" {
		return ErrorBadRequest
	}
	if _, err := n.mapNamespace(ch); err != nil {
		return err
	}
	return engineError(n.maps.MapClear(ctx, ch))
}
