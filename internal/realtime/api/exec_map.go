package api

import (
	"context"
	"math"
	"unicode/utf8"

	"github.com/spindle-rt/spindle/internal/realtime/engine"
	"github.com/spindle-rt/spindle/internal/realtime/node"
	"github.com/spindle-rt/spindle/proto/apipb"
)

// Map channels (Centrifugo v6.8): namespaces with subscription_type map,
// map_clients or map_users keep keyed state plus, unless ephemeral, a
// change stream. These methods let the backend write and read that state.
// The node owns the rules (which namespaces are maps, key length, key
// modes); the checks here only spare it requests that cannot be right and
// keep the error a caller sees the same on every transport.

// badMapTarget refuses an empty or non-UTF-8 channel or key. Both
// transports already refuse invalid UTF-8 while decoding, but the
// Executor is also called directly (batch, tests), and an invalid key
// would otherwise reach JSON subscribers, who cannot decode it.
func badMapTarget(ch, key string) *apipb.Error {
	if ch == "" || !utf8.ValidString(ch) || key == "" || !utf8.ValidString(key) {
		return errBadRequest()
	}
	return nil
}

// badMapChannel is badMapTarget for the methods that take no key.
func badMapChannel(ch string) *apipb.Error {
	if ch == "" || !utf8.ValidString(ch) {
		return errBadRequest()
	}
	return nil
}

// validKeyMode reports whether mode is one the API documents. The node
// refuses others too; checking here keeps the answer a 107 even if the
// node ever learns a mode the API should not expose.
func validKeyMode(mode string) bool {
	switch mode {
	case "", "if_new", "if_exists":
		return true
	}
	return false
}

// MapPublish writes one key of a map channel. b64data wins over data when
// non-empty; with neither, the key is written with an empty value, which
// is how presence-like maps mark a key as present. A suppressed write
// (idempotency, version, key_mode) is a success with suppressed set, not
// an error, so a retrying backend can tell "already done" from "failed".
//
// stream_data, b64stream_data and score are accepted and ignored:
// Centrifugo OSS v6.9.1 ignores them as well (they serve PRO's separate
// stream payloads and ordered maps), and refusing them would turn
// requests Centrifugo accepts into errors.
func (e *Executor) MapPublish(ctx context.Context, req *apipb.MapPublishRequest) *apipb.MapPublishResponse {
	ch, key := req.GetChannel(), req.GetKey()
	if perr := badMapTarget(ch, key); perr != nil {
		return &apipb.MapPublishResponse{Error: perr}
	}
	data, perr := optional(req.GetData(), req.GetB64Data())
	if perr != nil {
		return &apipb.MapPublishResponse{Error: perr}
	}
	if !validKeyMode(req.GetKeyMode()) {
		return &apipb.MapPublishResponse{Error: apiError(CodeBadRequest, `bad request: key_mode must be "", "if_new" or "if_exists"`)}
	}
	res, err := e.node.MapPublish(ctx, ch, key, data, node.MapPublishOptions{
		Tags:           req.GetTags(),
		IdempotencyKey: req.GetIdempotencyKey(),
		Delta:          req.GetDelta(),
		Version:        req.GetVersion(),
		VersionEpoch:   req.GetVersionEpoch(),
		KeyMode:        req.GetKeyMode(),
	})
	if err != nil {
		return &apipb.MapPublishResponse{Error: e.fail(ctx, "map_publish", err, "channel", ch)}
	}
	return &apipb.MapPublishResponse{Result: &apipb.MapPublishResult{
		Offset:         res.Position.Offset,
		Epoch:          res.Position.Epoch,
		Suppressed:     res.Suppressed,
		SuppressReason: res.SuppressReason,
	}}
}

// MapRemove removes one key of a map channel. Removing an absent key is
// not an error: the result says suppressed, key_not_found.
func (e *Executor) MapRemove(ctx context.Context, req *apipb.MapRemoveRequest) *apipb.MapRemoveResponse {
	ch, key := req.GetChannel(), req.GetKey()
	if perr := badMapTarget(ch, key); perr != nil {
		return &apipb.MapRemoveResponse{Error: perr}
	}
	res, err := e.node.MapRemove(ctx, ch, key, req.GetIdempotencyKey())
	if err != nil {
		return &apipb.MapRemoveResponse{Error: e.fail(ctx, "map_remove", err, "channel", ch)}
	}
	return &apipb.MapRemoveResponse{Result: &apipb.MapRemoveResult{
		Offset:         res.Position.Offset,
		Epoch:          res.Position.Epoch,
		Suppressed:     res.Suppressed,
		SuppressReason: res.SuppressReason,
	}}
}

// MapReadState reads a page of a map channel's keys in key order: after
// cursor, at most limit (0 or less: every key), or only key. The result's
// position is the one to pass back as revision with the next page's
// cursor, so later pages leave out what changed after the first (the
// stream since that position carries it); a changed epoch is 112.
//
// asc is accepted and ignored: it orders score-sorted maps, which Spindle
// does not keep, and key order is the only order there is.
func (e *Executor) MapReadState(ctx context.Context, req *apipb.MapReadStateRequest) *apipb.MapReadStateResponse {
	ch := req.GetChannel()
	if perr := badMapChannel(ch); perr != nil {
		return &apipb.MapReadStateResponse{Error: perr}
	}
	o := node.MapReadStateOptions{Cursor: req.GetCursor(), Limit: int(req.GetLimit()), Key: req.GetKey()}
	if req.GetRevisionOffset() > 0 || req.GetRevisionEpoch() != "" {
		o.Revision = &engine.StreamPosition{Offset: req.GetRevisionOffset(), Epoch: req.GetRevisionEpoch()}
	}
	st, err := e.node.MapReadState(ctx, ch, o)
	if err != nil {
		return &apipb.MapReadStateResponse{Error: e.fail(ctx, "map_read_state", err, "channel", ch)}
	}
	return &apipb.MapReadStateResponse{Result: &apipb.MapReadStateResult{
		Entries: mapEntries(st.Entries),
		Offset:  st.Position.Offset,
		Epoch:   st.Position.Epoch,
		Cursor:  st.Cursor,
	}}
}

// MapReadStream reads a map channel's change stream: everything kept, or
// the changes after since_offset in since_epoch (112 when that epoch is
// gone or the changes since then were trimmed). limit 0 or less means no
// limit. The result's position is the stream's current top.
func (e *Executor) MapReadStream(ctx context.Context, req *apipb.MapReadStreamRequest) *apipb.MapReadStreamResponse {
	ch := req.GetChannel()
	if perr := badMapChannel(ch); perr != nil {
		return &apipb.MapReadStreamResponse{Error: perr}
	}
	var since *engine.StreamPosition
	if req.GetSinceOffset() > 0 || req.GetSinceEpoch() != "" {
		since = &engine.StreamPosition{Offset: req.GetSinceOffset(), Epoch: req.GetSinceEpoch()}
	}
	pubs, top, err := e.node.MapReadStream(ctx, ch, since, int(req.GetLimit()), req.GetReverse())
	if err != nil {
		return &apipb.MapReadStreamResponse{Error: e.fail(ctx, "map_read_stream", err, "channel", ch)}
	}
	return &apipb.MapReadStreamResponse{Result: &apipb.MapReadStreamResult{
		Entries: mapEntries(pubs),
		Offset:  top.Offset,
		Epoch:   top.Epoch,
	}}
}

// MapStats counts a map channel's keys.
func (e *Executor) MapStats(ctx context.Context, req *apipb.MapStatsRequest) *apipb.MapStatsResponse {
	ch := req.GetChannel()
	if perr := badMapChannel(ch); perr != nil {
		return &apipb.MapStatsResponse{Error: perr}
	}
	num, err := e.node.MapStats(ctx, ch)
	if err != nil {
		return &apipb.MapStatsResponse{Error: e.fail(ctx, "map_stats", err, "channel", ch)}
	}
	return &apipb.MapStatsResponse{Result: &apipb.MapStatsResult{NumKeys: i32(num)}}
}

// MapClear drops a map channel's keys and stream. Its next write starts a
// new epoch, so subscribers holding a position resynchronise from scratch.
func (e *Executor) MapClear(ctx context.Context, req *apipb.MapClearRequest) *apipb.MapClearResponse {
	ch := req.GetChannel()
	if perr := badMapChannel(ch); perr != nil {
		return &apipb.MapClearResponse{Error: perr}
	}
	if err := e.node.MapClear(ctx, ch); err != nil {
		return &apipb.MapClearResponse{Error: e.fail(ctx, "map_clear", err, "channel", ch)}
	}
	return &apipb.MapClearResponse{Result: &apipb.MapClearResult{}}
}

// mapEntries converts state entries or stream changes for the wire. Score
// stays 0: Spindle keeps no ordered maps.
func mapEntries(pubs []*engine.Publication) []*apipb.MapEntry {
	out := make([]*apipb.MapEntry, 0, len(pubs))
	for _, p := range pubs {
		if p == nil {
			continue
		}
		out = append(out, &apipb.MapEntry{
			Key:     p.Key,
			Data:    p.Data,
			Tags:    p.Tags,
			Offset:  p.Offset,
			Removed: p.Removed,
			Time:    p.Time,
		})
	}
	return out
}

// i32 converts a count to the wire's int32, clamping instead of wrapping.
func i32(v int) int32 {
	switch {
	case v < 0:
		return 0
	case v > math.MaxInt32:
		return math.MaxInt32
	}
	return int32(v)
}
