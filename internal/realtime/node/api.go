package node

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/gobwas/glob"

	"github.com/spindle-rt/spindle/internal/realtime/auth"
	"github.com/spindle-rt/spindle/internal/realtime/engine"
)

// The methods in this file are the server API's view of the node: the
// HTTP and gRPC API handlers are thin translations onto them. Commands
// about connections (subscribe, unsubscribe, disconnect, refresh) travel
// as control messages through the broker, so they reach the user's
// connections on every node.

// PublishOptions are the server API's publish extras.
type PublishOptions struct {
	SkipHistory    bool
	Tags           map[string]string
	IdempotencyKey string
	// Delta lets subscribers that negotiated delta compression get this
	// publication as a patch (the namespace's DeltaPublish does it for all).
	Delta bool
}

// Publish sends data to a channel on behalf of the backend.
func (n *Node) Publish(ctx context.Context, ch string, data []byte, o PublishOptions) (engine.StreamPosition, error) {
	if ch == "" || len(data) == 0 {
		return engine.StreamPosition{}, ErrorBadRequest
	}
	info, err := n.settings().rules.lookup(ch)
	if err != nil {
		return engine.StreamPosition{}, err
	}
	return n.publish(ctx, ch, info.ns, data, publishOptions{tags: o.Tags, skipHistory: o.SkipHistory, idempotencyKey: o.IdempotencyKey, delta: o.Delta})
}

// SubscribeOptions are the server API's options for subscribing a user's
// connections to a channel.
type SubscribeOptions struct {
	Client       string // only this connection, if set
	Session      string
	ExpireAt     int64
	Info         []byte
	Data         []byte
	RecoverSince *engine.StreamPosition
	Override     *auth.Override
}

// Subscribe subscribes a user's connections (on every node) to ch.
func (n *Node) Subscribe(ctx context.Context, user, ch string, o SubscribeOptions) error {
	if ch == "" {
		return ErrorBadRequest
	}
	info, err := n.settings().rules.lookup(ch)
	if err != nil {
		return err
	}
	if isMapType(subscriptionTypeOf(&info.ns.opts)) {
		// Map subscriptions are paged by the client; the server cannot
		// make one for it.
		return ErrorBadRequest
	}
	return n.sendControl(ctx, controlMessage{Op: opSubscribe, User: user, Channel: ch, Client: o.Client, Session: o.Session, Subscribe: &o})
}

// Unsubscribe removes a user's (or one connection's) subscription to ch on
// every node; the client is told with code 2000.
func (n *Node) Unsubscribe(ctx context.Context, user, ch, client, session string) error {
	if ch == "" {
		return ErrorBadRequest
	}
	if _, err := n.settings().rules.lookup(ch); err != nil {
		return err
	}
	return n.sendControl(ctx, controlMessage{Op: opUnsubscribe, User: user, Channel: ch, Client: client, Session: session})
}

// Disconnect closes a user's connections on every node, except the client
// ids in whitelist; d nil means 3503 force disconnect.
func (n *Node) Disconnect(ctx context.Context, user string, d *Disconnect, client string, whitelist []string) error {
	if d == nil {
		d = DisconnectForceNoReconnect
	}
	return n.sendControl(ctx, controlMessage{Op: opDisconnect, User: user, Client: client, Whitelist: whitelist, Code: d.Code, Reason: d.Reason})
}

// Refresh sets a new expiry (or expires) a user's connections.
func (n *Node) Refresh(ctx context.Context, user, client string, expired bool, expireAt int64, info []byte) error {
	if user == "" {
		return ErrorBadRequest
	}
	return n.sendControl(ctx, controlMessage{Op: opRefresh, User: user, Client: client, Expired: expired, ExpireAt: expireAt, Info: info})
}

// Presence lists a channel's connections.
func (n *Node) Presence(ctx context.Context, ch string) (map[string]*engine.ClientInfo, error) {
	info, err := n.channelForAPI(ch)
	if err != nil {
		return nil, err
	}
	if !info.ns.opts.Presence {
		return nil, ErrorNotAvailable
	}
	p, perr := n.engine.Presence(ctx, ch)
	return p, engineError(perr)
}

// PresenceStats counts a channel's connections and users.
func (n *Node) PresenceStats(ctx context.Context, ch string) (engine.PresenceStats, error) {
	info, err := n.channelForAPI(ch)
	if err != nil {
		return engine.PresenceStats{}, err
	}
	if !info.ns.opts.Presence {
		return engine.PresenceStats{}, ErrorNotAvailable
	}
	st, serr := n.engine.PresenceStats(ctx, ch)
	return st, engineError(serr)
}

// History reads a channel's stream for the API (no client limits).
func (n *Node) History(ctx context.Context, ch string, since *engine.StreamPosition, limit int, reverse bool) ([]*engine.Publication, engine.StreamPosition, error) {
	info, err := n.channelForAPI(ch)
	if err != nil {
		return nil, engine.StreamPosition{}, err
	}
	if !historyOn(&info.ns.opts) {
		return nil, engine.StreamPosition{}, ErrorNotAvailable
	}
	return n.history(ctx, ch, info.ns, since, limit, reverse, 0)
}

// HistoryRemove drops a channel's publications (its position stays).
func (n *Node) HistoryRemove(ctx context.Context, ch string) error {
	info, err := n.channelForAPI(ch)
	if err != nil {
		return err
	}
	if !historyOn(&info.ns.opts) {
		return ErrorNotAvailable
	}
	return engineError(n.engine.RemoveHistory(ctx, ch))
}

// Channels lists channels with subscribers on this node matching a glob
// pattern (empty: all), with their subscriber counts.
func (n *Node) Channels(_ context.Context, pattern string) (map[string]int, error) {
	all := n.hub.channels()
	if pattern == "" {
		return all, nil
	}
	g, err := glob.Compile(pattern)
	if err != nil {
		return nil, &Error{Code: ErrorBadRequest.Code, Message: fmt.Sprintf("bad pattern: %v", err)}
	}
	for ch := range all {
		if !g.Match(ch) {
			delete(all, ch)
		}
	}
	return all, nil
}

func (n *Node) channelForAPI(ch string) (channelInfo, error) {
	if ch == "" {
		return channelInfo{}, ErrorBadRequest
	}
	info, err := n.settings().rules.lookup(ch)
	if err != nil {
		return info, err
	}
	return info, nil
}

func (n *Node) sendControl(ctx context.Context, m controlMessage) error {
	return n.sendControlTo(ctx, m, "")
}

// sendControlTo sends m to one node only ("" = every node).
func (n *Node) sendControlTo(ctx context.Context, m controlMessage, nodeID string) error {
	data, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("encode control %s: %w", m.Op, err)
	}
	return engineError(n.engine.PublishControl(ctx, data, nodeID))
}
