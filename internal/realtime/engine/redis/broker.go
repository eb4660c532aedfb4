package redis

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/rueidis"
	"github.com/spindle-rt/spindle/internal/realtime/engine"
)

// errNotRunning rejects subscriptions before Run: there would be nobody to
// deliver to.
var errNotRunning = errors.New("redis engine: Run has not been called")

// Subscribe makes this node receive the channel's events. It returns once
// Redis confirmed the subscription, so a publish made after it is
// delivered; while Redis is unreachable it fails with an error wrapping
// engine.ErrUnavailable.
func (e *Engine) Subscribe(channel string) error {
	if e.closed.Load() {
		return fmt.Errorf("subscribe %q: %w", channel, errClosed)
	}
	if e.handler.Load() == nil {
		return fmt.Errorf("subscribe %q: %w", channel, errNotRunning)
	}
	p := e.route(channel)
	if err := p.sub.subscribe([]string{p.keys.pubsub(channel)}, target{channel: channel}, e.subscribeWait()); err != nil {
		return fmt.Errorf("subscribe %q: %w", channel, err)
	}
	return nil
}

// Unsubscribe stops delivery of the channel's events at once; the
// UNSUBSCRIBE itself is sent in the background.
func (e *Engine) Unsubscribe(channel string) error {
	if e.closed.Load() {
		return fmt.Errorf("unsubscribe %q: %w", channel, errClosed)
	}
	if e.handler.Load() == nil {
		return fmt.Errorf("unsubscribe %q: %w", channel, errNotRunning)
	}
	p := e.route(channel)
	if err := p.sub.unsubscribe([]string{p.keys.pubsub(channel)}); err != nil {
		return fmt.Errorf("unsubscribe %q: %w", channel, err)
	}
	return nil
}

// Publish keeps the publication in the channel's stream when opts ask for
// it and delivers it to every subscribed node. History, idempotency and
// delivery happen in one Lua script call, so offsets and delivery order
// agree across nodes.
func (e *Engine) Publish(ctx context.Context, channel string, data []byte, opts engine.PublishOptions) (engine.StreamPosition, bool, error) {
	const op = "publish"
	ctx, cancel, err := e.begin(ctx, op)
	if err != nil {
		return engine.StreamPosition{}, false, err
	}
	defer cancel()
	body := encodePublication(&engine.Publication{
		Data:  data,
		Info:  opts.Info,
		Tags:  opts.Tags,
		Time:  time.Now().UnixMilli(),
		Delta: opts.Delta,
	})
	p := e.route(channel)
	withHistory := opts.HistorySize > 0 && opts.HistoryTTL > 0
	if !withHistory && opts.IdempotencyKey == "" {
		msg := append(publicationHeader(0, ""), body...)
		if err := p.publish(ctx, p.keys.pubsub(channel), msg); err != nil {
			return engine.StreamPosition{}, false, fail(ctx, op, err)
		}
		return engine.StreamPosition{}, false, nil
	}
	size, ttl, metaTTL, resultTTL := "0", "0", "0", "0"
	if withHistory {
		size = strconv.Itoa(opts.HistorySize)
		ttl = ms(opts.HistoryTTL)
		metaTTL = ms(orDefault(opts.HistoryMetaTTL, e.opts.HistoryMetaTTL))
	}
	if opts.IdempotencyKey != "" {
		resultTTL = ms(orDefault(opts.IdempotentResultTTL, e.opts.IdempotentResultTTL))
	}
	k := p.keys
	resp := publishScript.Exec(ctx, p.shard.client,
		[]string{k.historyMeta(channel), k.historyStream(channel), k.result(channel, opts.IdempotencyKey)},
		[]string{k.pubsub(channel), rueidis.BinaryString(body), size, ttl, metaTTL, newEpoch(), resultTTL, p.publishCommand()},
	)
	vals, err := resp.ToArray()
	if err != nil {
		return engine.StreamPosition{}, false, fail(ctx, op, err)
	}
	suppressed, sp, err := parsePublishResult(vals)
	if err != nil {
		return engine.StreamPosition{}, false, fmt.Errorf("%s: %w", op, err)
	}
	return sp, suppressed, nil
}

// parsePublishResult reads {suppressed, offset, epoch}.
func parsePublishResult(vals []rueidis.RedisMessage) (bool, engine.StreamPosition, error) {
	if len(vals) != 3 {
		return false, engine.StreamPosition{}, fmt.Errorf("publish script returned %d values, want 3", len(vals))
	}
	flag, err := vals[0].AsInt64()
	if err != nil {
		return false, engine.StreamPosition{}, fmt.Errorf("publish script flag: %w", err)
	}
	offText, err := vals[1].ToString()
	if err != nil {
		return false, engine.StreamPosition{}, fmt.Errorf("publish script offset: %w", err)
	}
	off, err := strconv.ParseUint(offText, 10, 64)
	if err != nil {
		return false, engine.StreamPosition{}, fmt.Errorf("publish script offset: %w", err)
	}
	epoch, err := vals[2].ToString()
	if err != nil {
		return false, engine.StreamPosition{}, fmt.Errorf("publish script epoch: %w", err)
	}
	return flag == 1, engine.StreamPosition{Offset: off, Epoch: epoch}, nil
}

// PublishJoin delivers a join event to every node subscribed to the
// channel, in order with its publications.
func (e *Engine) PublishJoin(ctx context.Context, channel string, info *engine.ClientInfo) error {
	return e.publishInfo(ctx, "publish join", frameJoin, channel, info)
}

// PublishLeave delivers a leave event like PublishJoin.
func (e *Engine) PublishLeave(ctx context.Context, channel string, info *engine.ClientInfo) error {
	return e.publishInfo(ctx, "publish leave", frameLeave, channel, info)
}

func (e *Engine) publishInfo(ctx context.Context, op string, kind byte, channel string, info *engine.ClientInfo) error {
	ctx, cancel, err := e.begin(ctx, op)
	if err != nil {
		return err
	}
	defer cancel()
	p := e.route(channel)
	if err := p.publish(ctx, p.keys.pubsub(channel), encodeInfoFrame(kind, info)); err != nil {
		return fail(ctx, op, err)
	}
	return nil
}

// PublishControl delivers data to HandleControl of the node whose NodeID
// is toNode, or of every node (this one included) when toNode is empty.
func (e *Engine) PublishControl(ctx context.Context, data []byte, toNode string) error {
	const op = "publish control"
	ctx, cancel, err := e.begin(ctx, op)
	if err != nil {
		return err
	}
	defer cancel()
	var p *partition
	var name string
	if toNode == "" {
		p = e.route(controlRoute)
		name = p.keys.control()
	} else {
		p = e.route(nodeRoute + toNode)
		name = p.keys.node(toNode)
	}
	// Copied: a timed-out call may still be written after we return.
	if err := p.publish(ctx, name, []byte(string(data))); err != nil {
		return fail(ctx, op, err)
	}
	return nil
}
