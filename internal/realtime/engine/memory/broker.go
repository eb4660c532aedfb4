package memory

import (
	"context"
	"maps"
	"slices"

	"github.com/spindle-rt/spindle/internal/realtime/engine"
)

// Subscribe makes the node receive the channel's events.
func (e *Engine) Subscribe(channel string) error {
	if err := e.checkOpen("subscribe"); err != nil {
		return err
	}
	sh := e.shardFor(channel)
	sh.mu.Lock()
	sh.getOrCreate(channel).subscribed = true
	sh.mu.Unlock()
	return nil
}

// Unsubscribe stops delivery of the channel's events. Events already
// queued for delivery are still delivered.
func (e *Engine) Unsubscribe(channel string) error {
	if err := e.checkOpen("unsubscribe"); err != nil {
		return err
	}
	sh := e.shardFor(channel)
	sh.mu.Lock()
	if cs := sh.get(channel); cs != nil {
		cs.subscribed = false
		sh.dropIfEmpty(channel, cs)
	}
	sh.mu.Unlock()
	return nil
}

// Publish keeps the publication in history when opts ask for it and
// delivers it to the handler if the channel is subscribed. The data, tags
// and info are copied, so the caller may reuse its buffers. Delivery
// happens on the calling goroutine unless another publisher is already
// delivering this channel's events, in which case that one delivers it in
// order.
func (e *Engine) Publish(ctx context.Context, channel string, data []byte, opts engine.PublishOptions) (engine.StreamPosition, bool, error) {
	if err := e.check(ctx, "publish"); err != nil {
		return engine.StreamPosition{}, false, err
	}
	withHistory := opts.HistorySize > 0 && opts.HistoryTTL > 0
	key := opts.IdempotencyKey
	h := e.eventHandler()
	pub := &engine.Publication{
		Data:  slices.Clone(data),
		Info:  cloneInfo(opts.Info),
		Tags:  maps.Clone(opts.Tags),
		Delta: opts.Delta,
	}
	now := e.now()
	pub.Time = now.UnixMilli()

	sh := e.shardFor(channel)
	sh.mu.Lock()
	cs := sh.get(channel)
	if cs == nil {
		if !withHistory && key == "" {
			// Nobody listens and nothing is kept.
			sh.mu.Unlock()
			return engine.StreamPosition{}, false, nil
		}
		cs = sh.getOrCreate(channel)
	}
	if key != "" {
		if r, ok := cs.idem[key]; ok && now.Before(r.expireAt) {
			sh.mu.Unlock()
			return r.sp, true, nil
		}
	}
	var sp engine.StreamPosition
	if withHistory {
		metaTTL := orDefault(opts.HistoryMetaTTL, e.metaTTL)
		cs.expireStream(now)
		if cs.stream == nil {
			cs.stream = newStream(now, metaTTL)
		}
		cs.stream.add(pub, opts.HistorySize, opts.HistoryTTL, metaTTL, now)
		sp = cs.stream.position()
	}
	if key != "" {
		if cs.idem == nil {
			cs.idem = make(map[string]idemResult)
		}
		ttl := orDefault(opts.IdempotentResultTTL, e.idemTTL)
		cs.idem[key] = idemResult{sp: sp, expireAt: now.Add(ttl)}
	}
	drain := h != nil && cs.enqueue(event{kind: eventPublication, pub: pub, sp: sp})
	sh.mu.Unlock()
	if drain {
		e.drain(h, sh, channel, cs)
	}
	return sp, false, nil
}

// PublishJoin delivers a join event for the channel.
func (e *Engine) PublishJoin(ctx context.Context, channel string, info *engine.ClientInfo) error {
	return e.publishPresenceEvent(ctx, "publish join", eventJoin, channel, info)
}

// PublishLeave delivers a leave event for the channel.
func (e *Engine) PublishLeave(ctx context.Context, channel string, info *engine.ClientInfo) error {
	return e.publishPresenceEvent(ctx, "publish leave", eventLeave, channel, info)
}

func (e *Engine) publishPresenceEvent(ctx context.Context, op string, kind eventKind, channel string, info *engine.ClientInfo) error {
	if err := e.check(ctx, op); err != nil {
		return err
	}
	h := e.eventHandler()
	if h == nil {
		return nil
	}
	ev := event{kind: kind, info: cloneInfo(info)}
	sh := e.shardFor(channel)
	sh.mu.Lock()
	cs := sh.get(channel)
	drain := cs != nil && cs.enqueue(ev)
	sh.mu.Unlock()
	if drain {
		e.drain(h, sh, channel, cs)
	}
	return nil
}

// PublishControl delivers data to this node's HandleControl. The memory
// engine serves exactly one node, so every message, whatever toNode names,
// is addressed to it; the node filters messages meant for others.
func (e *Engine) PublishControl(ctx context.Context, data []byte, _ string) error {
	if err := e.check(ctx, "publish control"); err != nil {
		return err
	}
	h := e.eventHandler()
	if h == nil {
		return nil
	}
	e.ctrl.publish(h, slices.Clone(data))
	return nil
}
