package proxy

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/spindle-rt/spindle/proto/proxypb"
)

// defaultTimeout is Centrifugo's proxy timeout when none is configured.
const defaultTimeout = time.Second

// transport carries one request to the backend and fills resp; client adds
// the deadline, metrics and error context around it.
type transport interface {
	invoke(ctx context.Context, ev event, req, resp proto.Message) error
	close() error
}

// Client is the backend for one configured proxy, over either transport.
type Client struct {
	endpoint string
	protocol string
	timeout  time.Duration
	t        transport
	metrics  *callMetrics
	log      *slog.Logger
}

// Connect asks the backend whether to accept a tokenless connection.
func (c *Client) Connect(ctx context.Context, req *proxypb.ConnectRequest) (*proxypb.ConnectResponse, error) {
	resp := new(proxypb.ConnectResponse)
	if err := c.call(ctx, evConnect, req, resp); err != nil {
		return nil, err
	}
	return resp, nil
}

// Refresh asks the backend to extend an expiring connection.
func (c *Client) Refresh(ctx context.Context, req *proxypb.RefreshRequest) (*proxypb.RefreshResponse, error) {
	resp := new(proxypb.RefreshResponse)
	if err := c.call(ctx, evRefresh, req, resp); err != nil {
		return nil, err
	}
	return resp, nil
}

// Subscribe asks the backend whether the connection may join a channel.
func (c *Client) Subscribe(ctx context.Context, req *proxypb.SubscribeRequest) (*proxypb.SubscribeResponse, error) {
	resp := new(proxypb.SubscribeResponse)
	if err := c.call(ctx, evSubscribe, req, resp); err != nil {
		return nil, err
	}
	return resp, nil
}

// Publish asks the backend whether (and what) a client may publish.
func (c *Client) Publish(ctx context.Context, req *proxypb.PublishRequest) (*proxypb.PublishResponse, error) {
	resp := new(proxypb.PublishResponse)
	if err := c.call(ctx, evPublish, req, resp); err != nil {
		return nil, err
	}
	return resp, nil
}

// RPC forwards a client RPC to the backend.
func (c *Client) RPC(ctx context.Context, req *proxypb.RPCRequest) (*proxypb.RPCResponse, error) {
	resp := new(proxypb.RPCResponse)
	if err := c.call(ctx, evRPC, req, resp); err != nil {
		return nil, err
	}
	return resp, nil
}

// SubRefresh asks the backend to extend an expiring subscription.
func (c *Client) SubRefresh(ctx context.Context, req *proxypb.SubRefreshRequest) (*proxypb.SubRefreshResponse, error) {
	resp := new(proxypb.SubRefreshResponse)
	if err := c.call(ctx, evSubRefresh, req, resp); err != nil {
		return nil, err
	}
	return resp, nil
}

// MapPublish asks the backend whether (and what) a client may write to a
// key of a map channel.
func (c *Client) MapPublish(ctx context.Context, req *proxypb.MapPublishRequest) (*proxypb.MapPublishResponse, error) {
	resp := new(proxypb.MapPublishResponse)
	if err := c.call(ctx, evMapPublish, req, resp); err != nil {
		return nil, err
	}
	return resp, nil
}

// MapRemove asks the backend whether a client may remove a key of a map
// channel.
func (c *Client) MapRemove(ctx context.Context, req *proxypb.MapRemoveRequest) (*proxypb.MapRemoveResponse, error) {
	resp := new(proxypb.MapRemoveResponse)
	if err := c.call(ctx, evMapRemove, req, resp); err != nil {
		return nil, err
	}
	return resp, nil
}

// SharedPollRefresh asks the backend for the current state of the items a
// shared-poll channel's subscribers track. Unlike the other events it is
// per channel, not per connection: the request names no client, and the
// poller's context carries no client headers, so only the proxy's static
// headers (or gRPC credentials) go with it. It runs under the proxy's
// timeout like every call. A backend answer that holds an error is
// returned as it is: deciding that it means "no change" is the node's.
func (c *Client) SharedPollRefresh(ctx context.Context, req *proxypb.SharedPollRefreshRequest) (*proxypb.SharedPollRefreshResponse, error) {
	resp := new(proxypb.SharedPollRefreshResponse)
	if err := c.call(ctx, evSharedPollRefresh, req, resp); err != nil {
		return nil, err
	}
	return resp, nil
}

// Close releases what this backend owns alone (a gRPC connection or idle
// HTTP connections). Backends handed out by a Set share those with other
// backends; the Set closes them.
func (c *Client) Close() error {
	if err := c.t.close(); err != nil {
		return fmt.Errorf("proxy %s: close: %w", c.endpoint, err)
	}
	return nil
}

// call runs one request under the proxy's deadline, records it and gives
// any failure the event and endpoint as context.
func (c *Client) call(ctx context.Context, ev event, req, resp proto.Message) error {
	if !req.ProtoReflect().IsValid() {
		return fmt.Errorf("proxy %s %s: %w", ev, c.endpoint, errNilRequest)
	}
	start := time.Now()
	cctx, cancel := context.WithTimeout(ctx, c.timeout)
	err := c.t.invoke(cctx, ev, req, resp)
	oc := outcomeOK
	if err != nil {
		var timeout bool
		timeout, err = classify(cctx, err)
		oc = outcomeError
		if timeout {
			oc = outcomeTimeout
		}
	}
	cancel()
	elapsed := time.Since(start)
	c.metrics.observe(ev, oc, elapsed.Seconds())
	if err != nil {
		err = fmt.Errorf("proxy %s %s: %w", ev, c.endpoint, err)
		c.log.LogAttrs(ctx, slog.LevelDebug, "proxy call failed",
			slog.String("event", ev.String()),
			slog.String("endpoint", c.endpoint),
			slog.Duration("elapsed", elapsed),
			slog.Any("error", err))
		return err
	}
	return nil
}
