package redis

import (
	"context"
	"fmt"
	"math"
	"strconv"

	"github.com/redis/rueidis"
	"github.com/spindle-rt/spindle/internal/realtime/engine"
)

// History returns publications selected by opts and the current top. A
// missing stream is created (offset 0, fresh epoch) so a subscriber gets
// an epoch that the first publication will keep. Since with a non-empty
// epoch that differs from the stream's fails with
// engine.ErrUnrecoverablePosition, still returning the current top.
func (e *Engine) History(ctx context.Context, channel string, opts engine.HistoryOptions) ([]*engine.Publication, engine.StreamPosition, error) {
	const op = "history"
	ctx, cancel, err := e.begin(ctx, op)
	if err != nil {
		return nil, engine.StreamPosition{}, err
	}
	defer cancel()
	rng := historyRange(opts)
	p := e.route(channel)
	metaKeys := []string{p.keys.historyMeta(channel), p.keys.historyStream(channel)}
	metaArgs := []string{newEpoch(), ms(orDefault(opts.MetaTTL, e.opts.HistoryMetaTTL))}
	var top engine.StreamPosition
	var entries []rueidis.RedisMessage
	if rng.cmd == "" {
		msg, err := historyMetaScript.Exec(ctx, p.shard.client, metaKeys, metaArgs).ToMessage()
		if err != nil {
			return nil, engine.StreamPosition{}, fail(ctx, op, err)
		}
		if top, err = parseTop(msg); err != nil {
			return nil, engine.StreamPosition{}, fmt.Errorf("%s of %q: %w", op, channel, err)
		}
	} else {
		var msg rueidis.RedisMessage
		msg, entries, err = e.scriptAndRange(ctx, op, p, historyMetaScript, historyMetaSHA, metaKeys, metaArgs, metaKeys[1], rng)
		if err == nil {
			if top, err = parseTop(msg); err != nil {
				err = fmt.Errorf("%s: %w", op, err)
			}
		}
	}
	if err != nil {
		return nil, engine.StreamPosition{}, err
	}
	if opts.Since != nil && opts.Since.Epoch != "" && opts.Since.Epoch != top.Epoch {
		return nil, top, fmt.Errorf("history of %q since epoch %q (stream epoch %q): %w",
			channel, opts.Since.Epoch, top.Epoch, engine.ErrUnrecoverablePosition)
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

// scriptAndRange runs a position script (history meta, map stream meta)
// and a stream range in one MULTI, so the entries and the top offset agree
// even with concurrent publishes. The script goes in by EVALSHA; if Redis
// lost it (restart), it is loaded by running it once and the transaction
// is retried. It returns the script's reply and the range's entries.
func (e *Engine) scriptAndRange(ctx context.Context, op string, p *partition, script *rueidis.Lua, sha string, keys, args []string, streamKey string, rng streamRange) (rueidis.RedisMessage, []rueidis.RedisMessage, error) {
	c := p.shard.client
	for attempt := 0; ; attempt++ {
		var rangeCmd rueidis.Completed
		switch {
		case rng.cmd == "xrange" && rng.count != "0":
			rangeCmd = c.B().Arbitrary("XRANGE").Keys(streamKey).Args(rng.start, rng.end, "COUNT", rng.count).Build()
		case rng.cmd == "xrange":
			rangeCmd = c.B().Arbitrary("XRANGE").Keys(streamKey).Args(rng.start, rng.end).Build()
		case rng.count != "0":
			rangeCmd = c.B().Arbitrary("XREVRANGE").Keys(streamKey).Args(rng.start, rng.end, "COUNT", rng.count).Build()
		default:
			rangeCmd = c.B().Arbitrary("XREVRANGE").Keys(streamKey).Args(rng.start, rng.end).Build()
		}
		resps := c.DoMulti(ctx,
			c.B().Multi().Build(),
			c.B().Evalsha().Sha1(sha).Numkeys(int64(len(keys))).Key(keys...).Arg(args...).Build(),
			rangeCmd,
			c.B().Exec().Build(),
		)
		results, err := resps[3].ToArray()
		if err != nil {
			return rueidis.RedisMessage{}, nil, fail(ctx, op, err)
		}
		if len(results) != 2 {
			return rueidis.RedisMessage{}, nil, fmt.Errorf("%s: transaction returned %d results, want 2", op, len(results))
		}
		if re, ok := rueidis.IsRedisErr(results[0].Error()); ok && re.IsNoScript() && attempt == 0 {
			// Loads the script (EVAL fallback); what it does here is
			// what the retried transaction would do (create a missing
			// meta, apply due expiries), so running it twice is safe.
			if err := script.Exec(ctx, c, keys, args).Error(); err != nil {
				return rueidis.RedisMessage{}, nil, fail(ctx, op, err)
			}
			continue
		}
		if err := results[0].Error(); err != nil {
			return rueidis.RedisMessage{}, nil, fail(ctx, op, err)
		}
		entries, err := results[1].ToArray()
		if err != nil {
			return rueidis.RedisMessage{}, nil, fail(ctx, op, err)
		}
		return results[0], entries, nil
	}
}

// streamRange is the XRANGE/XREVRANGE call a history query needs; an empty
// cmd means the answer is known to hold no publications.
type streamRange struct {
	cmd, start, end, count string
}

// historyRange translates HistoryOptions into stream ids. Entry ids are
// the offsets themselves ("<offset>-0"), so "after since" is id since+1
// and "before since" is id since-1.
func historyRange(opts engine.HistoryOptions) streamRange {
	if opts.Limit == 0 {
		return streamRange{}
	}
	count := "0"
	if opts.Limit > 0 {
		count = strconv.Itoa(opts.Limit)
	}
	if !opts.Reverse {
		start := "-"
		if opts.Since != nil {
			if opts.Since.Offset == math.MaxUint64 {
				return streamRange{}
			}
			start = strconv.FormatUint(opts.Since.Offset+1, 10)
		}
		return streamRange{cmd: "xrange", start: start, end: "+", count: count}
	}
	end := "+"
	if opts.Since != nil {
		if opts.Since.Offset <= 1 {
			return streamRange{}
		}
		end = strconv.FormatUint(opts.Since.Offset-1, 10)
	}
	// XREVRANGE takes the high bound first.
	return streamRange{cmd: "xrevrange", start: end, end: "-", count: count}
}

// parseTop reads the meta script's {top, epoch}.
func parseTop(msg rueidis.RedisMessage) (engine.StreamPosition, error) {
	var top engine.StreamPosition
	vals, err := msg.ToArray()
	if err != nil {
		return top, fmt.Errorf("history meta: %w", err)
	}
	if len(vals) != 2 {
		return top, fmt.Errorf("history meta script returned %d values, want 2: %w", len(vals), errMalformed)
	}
	offText, err := vals[0].ToString()
	if err != nil {
		return top, fmt.Errorf("history meta offset: %w", err)
	}
	if top.Offset, err = strconv.ParseUint(offText, 10, 64); err != nil {
		return top, fmt.Errorf("history meta offset: %w", err)
	}
	if top.Epoch, err = vals[1].ToString(); err != nil {
		return top, fmt.Errorf("history meta epoch: %w", err)
	}
	return top, nil
}

// decodeEntry turns one stream entry [id, [field, value, ...]] into a
// publication whose offset is the id.
func decodeEntry(m rueidis.RedisMessage) (*engine.Publication, error) {
	parts, err := m.ToArray()
	if err != nil || len(parts) != 2 {
		return nil, fmt.Errorf("stream entry: %w", errMalformed)
	}
	id, err := parts[0].ToString()
	if err != nil {
		return nil, fmt.Errorf("stream entry id: %w", err)
	}
	off, err := parseStreamID(id)
	if err != nil {
		return nil, err
	}
	fields, err := parts[1].ToArray()
	if err != nil {
		return nil, fmt.Errorf("stream entry %s fields: %w", id, err)
	}
	for i := 0; i+1 < len(fields); i += 2 {
		name, err := fields[i].ToString()
		if err != nil || name != "d" {
			continue
		}
		body, err := fields[i+1].ToString()
		if err != nil {
			return nil, fmt.Errorf("stream entry %s data: %w", id, err)
		}
		pub, err := decodePublication(body)
		if err != nil {
			return nil, fmt.Errorf("stream entry %s: %w", id, err)
		}
		pub.Offset = off
		return pub, nil
	}
	return nil, fmt.Errorf("stream entry %s has no data field: %w", id, errMalformed)
}

// parseStreamID reads the offset out of an "<offset>-0" id.
func parseStreamID(id string) (uint64, error) {
	for i := 0; i < len(id); i++ {
		if id[i] == '-' {
			id = id[:i]
			break
		}
	}
	off, err := strconv.ParseUint(id, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("stream entry id %q: %w", id, errMalformed)
	}
	return off, nil
}

// RemoveHistory drops the channel's publications but keeps its epoch and
// top offset (the meta hash), so clients can still tell they missed
// messages.
func (e *Engine) RemoveHistory(ctx context.Context, channel string) error {
	const op = "remove history"
	ctx, cancel, err := e.begin(ctx, op)
	if err != nil {
		return err
	}
	defer cancel()
	p := e.route(channel)
	c := p.shard.client
	if err := c.Do(ctx, c.B().Del().Key(p.keys.historyStream(channel)).Build()).Error(); err != nil {
		return fail(ctx, op, err)
	}
	return nil
}
