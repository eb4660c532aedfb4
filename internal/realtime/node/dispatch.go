package node

import (
	"context"
	"errors"
	"time"

	"github.com/spindle-rt/spindle/proto/clientpb"
)

// handleCommand runs one command and queues its reply; false means the
// connection was closed.
func (c *Client) handleCommand(cmd *clientpb.Command) bool {
	if cmd.Id == 0 && cmd.Send == nil {
		return c.handlePong()
	}
	c.mu.Lock()
	st := c.status
	c.mu.Unlock()
	switch st {
	case statusClosed:
		return false
	case statusConnectFailed:
		c.Disconnect(DisconnectBadRequest)
		return false
	case statusConnecting:
		if cmd.Connect == nil {
			c.Disconnect(DisconnectBadRequest)
			return false
		}
	case statusConnected:
		if cmd.Connect != nil {
			c.Disconnect(DisconnectBadRequest)
			return false
		}
	}

	method, run := c.route(cmd)
	if run == nil {
		c.Disconnect(DisconnectBadRequest)
		return false
	}
	var reply *clientpb.Reply
	err := c.rateLimit(method, cmd)
	if err == nil {
		start := time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
		reply, err = run(ctx)
		cancel()
		c.n.metrics.commandDuration.WithLabelValues(method).Observe(time.Since(start).Seconds())
	}
	if err != nil {
		var d *Disconnect
		if errors.As(err, &d) {
			c.n.metrics.commandErrors.WithLabelValues(method, codeLabel(d.Code)).Inc()
			c.Disconnect(d)
			return false
		}
		e := toClientError(err)
		if e == ErrorInternal {
			c.log.Error("command failed", "method", method, "error", err)
		}
		c.n.metrics.commandErrors.WithLabelValues(method, codeLabel(e.Code)).Inc()
		c.sendReply(&clientpb.Reply{Id: cmd.Id, Error: &clientpb.Error{Code: e.Code, Message: e.Message, Temporary: e.Temporary}})
		return true
	}
	if reply == nil { // send: no reply
		return true
	}
	reply.Id = cmd.Id
	c.sendReply(reply)
	switch {
	case reply.Connect != nil:
		chs := make([]string, 0, len(reply.Connect.Subs))
		for ch := range reply.Connect.Subs {
			chs = append(chs, ch)
		}
		c.afterReply(chs...)
	case reply.Subscribe != nil:
		c.afterReply(cmd.Subscribe.Channel)
	}
	return true
}

// commandTimeout bounds any single command, including engine calls.
const commandTimeout = 30 * time.Second

type commandFunc func(ctx context.Context) (*clientpb.Reply, error)

// route picks the command's handler by the first request field set, in
// the protocol's order.
func (c *Client) route(cmd *clientpb.Command) (string, commandFunc) {
	switch {
	case cmd.Connect != nil:
		return "connect", func(ctx context.Context) (*clientpb.Reply, error) { return c.handleConnect(ctx, cmd.Connect) }
	case cmd.Subscribe != nil:
		return "subscribe", func(ctx context.Context) (*clientpb.Reply, error) { return c.handleSubscribe(ctx, cmd.Subscribe) }
	case cmd.Unsubscribe != nil:
		return "unsubscribe", func(ctx context.Context) (*clientpb.Reply, error) { return c.handleUnsubscribe(ctx, cmd.Unsubscribe) }
	case cmd.Publish != nil:
		return "publish", func(ctx context.Context) (*clientpb.Reply, error) { return c.handlePublish(ctx, cmd.Publish) }
	case cmd.Presence != nil:
		return "presence", func(ctx context.Context) (*clientpb.Reply, error) { return c.handlePresence(ctx, cmd.Presence) }
	case cmd.PresenceStats != nil:
		return "presence_stats", func(ctx context.Context) (*clientpb.Reply, error) {
			return c.handlePresenceStats(ctx, cmd.PresenceStats)
		}
	case cmd.History != nil:
		return "history", func(ctx context.Context) (*clientpb.Reply, error) { return c.handleHistory(ctx, cmd.History) }
	case cmd.Rpc != nil:
		return "rpc", func(ctx context.Context) (*clientpb.Reply, error) { return c.handleRPC(ctx, cmd.Rpc) }
	case cmd.Send != nil:
		return "send", func(context.Context) (*clientpb.Reply, error) { return nil, DisconnectNotAvailable }
	case cmd.Refresh != nil:
		return "refresh", func(ctx context.Context) (*clientpb.Reply, error) { return c.handleRefresh(ctx, cmd.Refresh) }
	case cmd.SubRefresh != nil:
		return "sub_refresh", func(ctx context.Context) (*clientpb.Reply, error) { return c.handleSubRefresh(ctx, cmd.SubRefresh) }
	case cmd.Ping != nil:
		return "ping", func(context.Context) (*clientpb.Reply, error) { return nil, ErrorNotAvailable }
	}
	return "", nil
}

// toClientError maps any error to the protocol error a client sees;
// unknown errors become the temporary internal error.
func toClientError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return ErrorInternal
}
