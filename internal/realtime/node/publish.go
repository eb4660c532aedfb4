package node

import (
	"context"

	"github.com/spindle-rt/spindle/internal/realtime/engine"
)

// publishOptions are what a publisher (client or API) adds to the data.
type publishOptions struct {
	info           *engine.ClientInfo
	tags           map[string]string
	skipHistory    bool
	idempotencyKey string
	delta          bool
}

// publish sends data to a channel through the engine, keeping it in
// history when the channel's namespace says so.
func (n *Node) publish(ctx context.Context, ch string, ns *namespace, data []byte, o publishOptions) (engine.StreamPosition, error) {
	opts := engine.PublishOptions{
		Info:           o.info,
		Tags:           o.tags,
		IdempotencyKey: o.idempotencyKey,
		Delta:          o.delta || ns.opts.DeltaPublish,
	}
	if !o.skipHistory && historyOn(&ns.opts) {
		opts.HistorySize = ns.opts.HistorySize
		opts.HistoryTTL = ns.opts.HistoryTTL
		opts.HistoryMetaTTL = ns.opts.HistoryMetaTTL
		if opts.HistoryMetaTTL == 0 {
			opts.HistoryMetaTTL = n.settings().cfg.Channel.HistoryMetaTTL
		}
	}
	sp, _, err := n.engine.Publish(ctx, ch, data, opts)
	if err != nil {
		n.metrics.publishErrors.Inc()
		return sp, engineError(err)
	}
	n.metrics.publications.Inc()
	return sp, nil
}

// history reads a channel's stream with the client/API limits applied.
func (n *Node) history(ctx context.Context, ch string, ns *namespace, since *engine.StreamPosition, limit int, reverse bool, maxLimit int) ([]*engine.Publication, engine.StreamPosition, error) {
	if reverse && since != nil && since.Offset == 0 {
		return nil, engine.StreamPosition{}, ErrorBadRequest
	}
	if maxLimit > 0 && (limit < 0 || limit > maxLimit) {
		limit = maxLimit
	}
	metaTTL := ns.opts.HistoryMetaTTL
	if metaTTL == 0 {
		metaTTL = n.settings().cfg.Channel.HistoryMetaTTL
	}
	pubs, top, err := n.engine.History(ctx, ch, engine.HistoryOptions{Since: since, Limit: limit, Reverse: reverse, MetaTTL: metaTTL})
	if err != nil {
		return nil, top, engineError(err)
	}
	return pubs, top, nil
}
