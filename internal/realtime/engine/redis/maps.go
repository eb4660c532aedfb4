package redis

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/redis/rueidis"
	"github.com/spindle-rt/spindle/internal/realtime/engine"
)

// mapIdleTTL keeps the meta of a map that holds nothing (no keys, no
// stream position) after its last access, so its epoch stays the same
// while a subscriber pages through it; then Redis forgets it. It matches
// the memory engine's idle map lifetime.
const mapIdleTTL = 5 * time.Minute

// errEmptyKey rejects map writes without a key: "" is the cursor of the
// first page, so a key "" could never be paged past.
var errEmptyKey = errors.New("empty map key")

var _ engine.MapBroker = (*Engine)(nil)

// MapPublish writes one key and delivers the change, in one script call:
// idempotency, key mode and version checks, the offset, the stream, the
// state, the key TTL and the PUBLISH happen atomically, so every node
// sees changes in offset order.
func (e *Engine) MapPublish(ctx context.Context, channel, key string, data []byte, opts engine.MapPublishOptions) (engine.MapResult, error) {
	const op = "map publish"
	if key == "" {
		return engine.MapResult{}, fmt.Errorf("%s to %q: %w", op, channel, errEmptyKey)
	}
	if opts.KeyMode > engine.KeyModeIfExists {
		return engine.MapResult{}, fmt.Errorf("%s to %q: unknown key mode %d", op, channel, opts.KeyMode)
	}
	ctx, cancel, err := e.begin(ctx, op)
	if err != nil {
		return engine.MapResult{}, err
	}
	defer cancel()
	body := encodePublication(&engine.Publication{
		Key:   key,
		Data:  data,
		Info:  opts.Info,
		Tags:  opts.Tags,
		Time:  time.Now().UnixMilli(),
		Delta: opts.Delta,
	})
	p := e.route(channel)
	k := p.keys
	so := opts.MapStreamOptions
	args := []string{
		channel, k.pubsub(channel), p.publishCommand(), key, rueidis.BinaryString(body),
		streamSize(so), msOrZero(so.StreamTTL), msOrZero(so.MetaTTL), msOrZero(so.KeyTTL),
		newEpoch(), e.resultTTL(opts.IdempotencyKey, opts.IdempotentResultTTL),
		strconv.Itoa(int(opts.KeyMode)), flag(opts.RefreshTTLOnSuppress),
		strconv.FormatUint(opts.Version, 10), opts.VersionEpoch, flag(opts.Delta),
		ms(mapIdleTTL), strconv.Itoa(e.opts.MapCleanupBatchSize),
	}
	keys := append(k.mapKeys(channel), k.mapResult(channel, opts.IdempotencyKey))
	vals, err := mapPublishScript.Exec(ctx, p.shard.client, keys, args).ToArray()
	if err != nil {
		return engine.MapResult{}, fail(ctx, op, err)
	}
	res, err := parseMapResult(vals)
	if err != nil {
		return engine.MapResult{}, fmt.Errorf("%s to %q: %w", op, channel, err)
	}
	return res, nil
}

// MapRemove removes one key and delivers the removal, atomically like
// MapPublish; a missing key is suppressed with SuppressKeyNotFound.
func (e *Engine) MapRemove(ctx context.Context, channel, key string, opts engine.MapRemoveOptions) (engine.MapResult, error) {
	const op = "map remove"
	if key == "" {
		return engine.MapResult{}, fmt.Errorf("%s from %q: %w", op, channel, errEmptyKey)
	}
	ctx, cancel, err := e.begin(ctx, op)
	if err != nil {
		return engine.MapResult{}, err
	}
	defer cancel()
	body := encodePublication(&engine.Publication{Key: key, Removed: true, Tags: opts.Tags, Time: time.Now().UnixMilli()})
	p := e.route(channel)
	k := p.keys
	so := opts.MapStreamOptions
	args := []string{
		channel, k.pubsub(channel), p.publishCommand(), key, rueidis.BinaryString(body),
		streamSize(so), msOrZero(so.StreamTTL), msOrZero(so.MetaTTL),
		newEpoch(), e.resultTTL(opts.IdempotencyKey, opts.IdempotentResultTTL),
		ms(mapIdleTTL), strconv.Itoa(e.opts.MapCleanupBatchSize),
	}
	keys := append(k.mapKeys(channel), k.mapResult(channel, opts.IdempotencyKey))
	vals, err := mapRemoveScript.Exec(ctx, p.shard.client, keys, args).ToArray()
	if err != nil {
		return engine.MapResult{}, fail(ctx, op, err)
	}
	res, err := parseMapResult(vals)
	if err != nil {
		return engine.MapResult{}, fmt.Errorf("%s from %q: %w", op, channel, err)
	}
	return res, nil
}

// MapState reads one page of the map's state in key order, together with
// the position it was read at (one script call, so the two agree). A
// missing map is created with a fresh epoch, which later pages and the
// first write keep.
func (e *Engine) MapState(ctx context.Context, channel string, opts engine.MapStateOptions) (engine.MapState, error) {
	const op = "map state"
	ctx, cancel, err := e.begin(ctx, op)
	if err != nil {
		return engine.MapState{}, err
	}
	defer cancel()
	p := e.route(channel)
	hasRev, revOffset, revEpoch := "0", "0", ""
	if r := opts.Revision; r != nil {
		hasRev, revOffset, revEpoch = "1", strconv.FormatUint(r.Offset, 10), r.Epoch
	}
	limit := "0"
	if opts.Limit > 0 {
		limit = strconv.Itoa(opts.Limit)
	}
	args := []string{
		newEpoch(), msOrZero(opts.MetaTTL), ms(mapIdleTTL),
		p.keys.pubsub(channel), p.publishCommand(), strconv.Itoa(e.opts.MapCleanupBatchSize),
		hasRev, revOffset, revEpoch, opts.Key, opts.Cursor, limit,
	}
	vals, err := mapStateScript.Exec(ctx, p.shard.client, p.keys.mapKeys(channel), args).ToArray()
	if err != nil {
		return engine.MapState{}, fail(ctx, op, err)
	}
	if len(vals) < 4 || len(vals)%2 != 0 {
		return engine.MapState{}, fmt.Errorf("%s of %q: script returned %d values: %w", op, channel, len(vals), errMalformed)
	}
	unrecoverable, err := vals[0].AsInt64()
	if err != nil {
		return engine.MapState{}, fmt.Errorf("%s of %q: flag: %w", op, channel, err)
	}
	top, err := parsePosition(vals[1], vals[2])
	if err != nil {
		return engine.MapState{}, fmt.Errorf("%s of %q: %w", op, channel, err)
	}
	st := engine.MapState{Position: top}
	if unrecoverable == 1 {
		return st, fmt.Errorf("%s of %q at epoch %q (map epoch %q): %w",
			op, channel, opts.Revision.Epoch, top.Epoch, engine.ErrUnrecoverablePosition)
	}
	if opts.Revision != nil {
		st.Position = engine.StreamPosition{Offset: opts.Revision.Offset, Epoch: top.Epoch}
	}
	if st.Cursor, err = vals[3].ToString(); err != nil {
		return engine.MapState{}, fmt.Errorf("%s of %q: cursor: %w", op, channel, err)
	}
	if n := (len(vals) - 4) / 2; n > 0 {
		st.Entries = make([]*engine.Publication, 0, n)
	}
	for i := 4; i+1 < len(vals); i += 2 {
		raw, err := vals[i+1].ToString()
		if err != nil {
			return engine.MapState{}, fmt.Errorf("%s of %q: entry: %w", op, channel, err)
		}
		pub, err := decodeMapEntry(raw)
		if err != nil {
			return engine.MapState{}, fmt.Errorf("%s of %q: %w", op, channel, err)
		}
		st.Entries = append(st.Entries, pub)
	}
	return st, nil
}

// MapStream reads changes from the map's stream and its top position in
// one MULTI. Since with another epoch, ahead of the top, or older than
// the oldest change kept is engine.ErrUnrecoverablePosition (the top is
// still returned).
func (e *Engine) MapStream(ctx context.Context, channel string, opts engine.MapReadOptions) ([]*engine.Publication, engine.StreamPosition, error) {
	const op = "map stream"
	ctx, cancel, err := e.begin(ctx, op)
	if err != nil {
		return nil, engine.StreamPosition{}, err
	}
	defer cancel()
	p := e.route(channel)
	keys := p.keys.mapKeys(channel)
	args := []string{
		newEpoch(), msOrZero(opts.MetaTTL), ms(mapIdleTTL),
		p.keys.pubsub(channel), p.publishCommand(), strconv.Itoa(e.opts.MapCleanupBatchSize),
	}
	rng := mapRange(opts)
	var msg rueidis.RedisMessage
	var entries []rueidis.RedisMessage
	if rng.cmd == "" {
		if msg, err = mapStreamMetaScript.Exec(ctx, p.shard.client, keys, args).ToMessage(); err != nil {
			return nil, engine.StreamPosition{}, fail(ctx, op, err)
		}
	} else if msg, entries, err = e.scriptAndRange(ctx, op, p, mapStreamMetaScript, mapStreamMetaSHA, keys, args, keys[1], rng); err != nil {
		return nil, engine.StreamPosition{}, err
	}
	vals, err := msg.ToArray()
	if err != nil || len(vals) != 3 {
		return nil, engine.StreamPosition{}, fmt.Errorf("%s of %q: meta script reply: %w", op, channel, errMalformed)
	}
	top, err := parsePosition(vals[0], vals[1])
	if err != nil {
		return nil, engine.StreamPosition{}, fmt.Errorf("%s of %q: %w", op, channel, err)
	}
	firstID, err := vals[2].ToString()
	if err != nil {
		return nil, top, fmt.Errorf("%s of %q: oldest id: %w", op, channel, err)
	}
	first, err := parseStreamID(firstID)
	if err != nil {
		return nil, top, fmt.Errorf("%s of %q: %w", op, channel, err)
	}
	if since := opts.Since; since != nil {
		switch {
		case since.Epoch != "" && since.Epoch != top.Epoch:
			return nil, top, fmt.Errorf("%s of %q since epoch %q (map epoch %q): %w",
				op, channel, since.Epoch, top.Epoch, engine.ErrUnrecoverablePosition)
		case since.Offset > top.Offset:
			return nil, top, fmt.Errorf("%s of %q since offset %d (top %d): %w",
				op, channel, since.Offset, top.Offset, engine.ErrUnrecoverablePosition)
		case since.Offset == top.Offset:
			return nil, top, nil
		case first == 0 || first > since.Offset+1:
			return nil, top, fmt.Errorf("%s of %q since offset %d: oldest change kept is %d: %w",
				op, channel, since.Offset, first, engine.ErrUnrecoverablePosition)
		}
	}
	pubs := make([]*engine.Publication, 0, len(entries))
	for _, en := range entries {
		pub, err := decodeEntry(en)
		if err != nil {
			return nil, top, fmt.Errorf("%s of %q: %w", op, channel, err)
		}
		pubs = append(pubs, pub)
	}
	return pubs, top, nil
}

// mapRange translates MapReadOptions into stream ids (entry id = offset):
// everything after Since, oldest first or, reversed, newest first; an
// empty cmd means no changes can match.
func mapRange(opts engine.MapReadOptions) streamRange {
	count := "0"
	if opts.Limit > 0 {
		count = strconv.Itoa(opts.Limit)
	}
	low := "-"
	if opts.Since != nil {
		if opts.Since.Offset == math.MaxUint64 {
			return streamRange{}
		}
		low = strconv.FormatUint(opts.Since.Offset+1, 10)
	}
	if opts.Reverse {
		// XREVRANGE takes the high bound first.
		return streamRange{cmd: "xrevrange", start: "+", end: low, count: count}
	}
	return streamRange{cmd: "xrange", start: low, end: "+", count: count}
}

// MapStats counts the map's keys, leaving out those whose TTL passed but
// which the cleanup has not removed yet.
func (e *Engine) MapStats(ctx context.Context, channel string) (int, error) {
	const op = "map stats"
	ctx, cancel, err := e.begin(ctx, op)
	if err != nil {
		return 0, err
	}
	defer cancel()
	p := e.route(channel)
	n, err := mapStatsScript.Exec(ctx, p.shard.client,
		[]string{p.keys.mapOrder(channel), p.keys.mapExpire(channel)}, nil).AsInt64()
	if err != nil {
		return 0, fail(ctx, op, err)
	}
	return int(max(n, 0)), nil
}

// MapClear drops the map: state, stream, meta and its place in the expiry
// index. The next access starts a new epoch; idempotent results of the
// old epoch no longer answer (the scripts compare epochs).
func (e *Engine) MapClear(ctx context.Context, channel string) error {
	const op = "map clear"
	ctx, cancel, err := e.begin(ctx, op)
	if err != nil {
		return err
	}
	defer cancel()
	p := e.route(channel)
	if err := mapClearScript.Exec(ctx, p.shard.client, p.keys.mapKeys(channel), []string{channel}).Error(); err != nil {
		return fail(ctx, op, err)
	}
	return nil
}

// parseMapResult reads the write scripts' {suppressed, top, epoch, reason}.
func parseMapResult(vals []rueidis.RedisMessage) (engine.MapResult, error) {
	if len(vals) != 4 {
		return engine.MapResult{}, fmt.Errorf("map script returned %d values, want 4: %w", len(vals), errMalformed)
	}
	suppressed, err := vals[0].AsInt64()
	if err != nil {
		return engine.MapResult{}, fmt.Errorf("map script flag: %w", err)
	}
	pos, err := parsePosition(vals[1], vals[2])
	if err != nil {
		return engine.MapResult{}, err
	}
	reason, err := vals[3].ToString()
	if err != nil {
		return engine.MapResult{}, fmt.Errorf("map script suppress reason: %w", err)
	}
	return engine.MapResult{Position: pos, Suppressed: suppressed == 1, SuppressReason: reason}, nil
}

// parsePosition reads a script's decimal offset and epoch.
func parsePosition(offset, epoch rueidis.RedisMessage) (engine.StreamPosition, error) {
	text, err := offset.ToString()
	if err != nil {
		return engine.StreamPosition{}, fmt.Errorf("map offset: %w", err)
	}
	off, err := strconv.ParseUint(text, 10, 64)
	if err != nil {
		return engine.StreamPosition{}, fmt.Errorf("map offset %q: %w", text, errors.Join(errMalformed, err))
	}
	ep, err := epoch.ToString()
	if err != nil {
		return engine.StreamPosition{}, fmt.Errorf("map epoch: %w", err)
	}
	return engine.StreamPosition{Offset: off, Epoch: ep}, nil
}

// resultTTL is the script argument for an idempotency key's result
// lifetime: "0" when there is no key.
func (e *Engine) resultTTL(key string, ttl time.Duration) string {
	if key == "" {
		return "0"
	}
	return ms(orDefault(ttl, e.opts.IdempotentResultTTL))
}

// streamSize is the script argument for a map's stream size; "0" is an
// ephemeral map.
func streamSize(o engine.MapStreamOptions) string {
	if o.StreamSize <= 0 {
		return "0"
	}
	return strconv.Itoa(o.StreamSize)
}

// msOrZero is ms for lifetimes where zero means "none" rather than "as
// short as possible".
func msOrZero(d time.Duration) string {
	if d <= 0 {
		return "0"
	}
	return ms(d)
}

func flag(b bool) string {
	if b {
		return "1"
	}
	return "0"
}
