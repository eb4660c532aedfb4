package apiclient

import (
	"context"
	"fmt"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	"github.com/spindle-rt/spindle/proto/apipb"
)

// GRPC is a Client over the CentrifugoApi gRPC service. The caller owns
// the connection (dial options, TLS, closing).
type GRPC struct {
	c    apipb.CentrifugoApiClient
	auth string
}

var _ Client = (*GRPC)(nil)

// NewGRPC returns a client on conn that sends key (if non-empty) as
// `authorization: apikey <key>` metadata on every call.
func NewGRPC(conn grpc.ClientConnInterface, key string) *GRPC {
	g := &GRPC{c: apipb.NewCentrifugoApiClient(conn)}
	if key != "" {
		g.auth = "apikey " + key
	}
	return g
}

func (g *GRPC) ctx(ctx context.Context) context.Context {
	if g.auth == "" {
		return ctx
	}
	return metadata.AppendToOutgoingContext(ctx, "authorization", g.auth)
}

func grpcErr(method string, err error) error {
	return fmt.Errorf("server API %s over gRPC: %w", method, err)
}

// Publish sends data into one channel.
func (g *GRPC) Publish(ctx context.Context, req *apipb.PublishRequest) (*apipb.PublishResult, error) {
	resp, err := g.c.Publish(g.ctx(ctx), req)
	if err != nil {
		return nil, grpcErr("publish", err)
	}
	return result(resp.GetResult(), resp.GetError())
}

// Broadcast sends the same data into many channels.
func (g *GRPC) Broadcast(ctx context.Context, req *apipb.BroadcastRequest) (*apipb.BroadcastResult, error) {
	resp, err := g.c.Broadcast(g.ctx(ctx), req)
	if err != nil {
		return nil, grpcErr("broadcast", err)
	}
	return result(resp.GetResult(), resp.GetError())
}

// Subscribe subscribes a user's connections to a channel.
func (g *GRPC) Subscribe(ctx context.Context, req *apipb.SubscribeRequest) (*apipb.SubscribeResult, error) {
	resp, err := g.c.Subscribe(g.ctx(ctx), req)
	if err != nil {
		return nil, grpcErr("subscribe", err)
	}
	return result(resp.GetResult(), resp.GetError())
}

// Unsubscribe removes a user's subscription to a channel.
func (g *GRPC) Unsubscribe(ctx context.Context, req *apipb.UnsubscribeRequest) (*apipb.UnsubscribeResult, error) {
	resp, err := g.c.Unsubscribe(g.ctx(ctx), req)
	if err != nil {
		return nil, grpcErr("unsubscribe", err)
	}
	return result(resp.GetResult(), resp.GetError())
}

// Disconnect closes a user's connections.
func (g *GRPC) Disconnect(ctx context.Context, req *apipb.DisconnectRequest) (*apipb.DisconnectResult, error) {
	resp, err := g.c.Disconnect(g.ctx(ctx), req)
	if err != nil {
		return nil, grpcErr("disconnect", err)
	}
	return result(resp.GetResult(), resp.GetError())
}

// Presence lists a channel's connections.
func (g *GRPC) Presence(ctx context.Context, req *apipb.PresenceRequest) (*apipb.PresenceResult, error) {
	resp, err := g.c.Presence(g.ctx(ctx), req)
	if err != nil {
		return nil, grpcErr("presence", err)
	}
	return result(resp.GetResult(), resp.GetError())
}

// PresenceStats counts a channel's connections and users.
func (g *GRPC) PresenceStats(ctx context.Context, req *apipb.PresenceStatsRequest) (*apipb.PresenceStatsResult, error) {
	resp, err := g.c.PresenceStats(g.ctx(ctx), req)
	if err != nil {
		return nil, grpcErr("presence_stats", err)
	}
	return result(resp.GetResult(), resp.GetError())
}

// History reads a channel's history stream.
func (g *GRPC) History(ctx context.Context, req *apipb.HistoryRequest) (*apipb.HistoryResult, error) {
	resp, err := g.c.History(g.ctx(ctx), req)
	if err != nil {
		return nil, grpcErr("history", err)
	}
	return result(resp.GetResult(), resp.GetError())
}

// HistoryRemove drops a channel's publications.
func (g *GRPC) HistoryRemove(ctx context.Context, req *apipb.HistoryRemoveRequest) (*apipb.HistoryRemoveResult, error) {
	resp, err := g.c.HistoryRemove(g.ctx(ctx), req)
	if err != nil {
		return nil, grpcErr("history_remove", err)
	}
	return result(resp.GetResult(), resp.GetError())
}

// Info describes the running nodes.
func (g *GRPC) Info(ctx context.Context, req *apipb.InfoRequest) (*apipb.InfoResult, error) {
	resp, err := g.c.Info(g.ctx(ctx), req)
	if err != nil {
		return nil, grpcErr("info", err)
	}
	return result(resp.GetResult(), resp.GetError())
}

// RPC calls a server-side extension method.
func (g *GRPC) RPC(ctx context.Context, req *apipb.RPCRequest) (*apipb.RPCResult, error) {
	resp, err := g.c.RPC(g.ctx(ctx), req)
	if err != nil {
		return nil, grpcErr("rpc", err)
	}
	return result(resp.GetResult(), resp.GetError())
}

// Refresh sets a new expiry for a user's connections.
func (g *GRPC) Refresh(ctx context.Context, req *apipb.RefreshRequest) (*apipb.RefreshResult, error) {
	resp, err := g.c.Refresh(g.ctx(ctx), req)
	if err != nil {
		return nil, grpcErr("refresh", err)
	}
	return result(resp.GetResult(), resp.GetError())
}

// Channels lists active channels.
func (g *GRPC) Channels(ctx context.Context, req *apipb.ChannelsRequest) (*apipb.ChannelsResult, error) {
	resp, err := g.c.Channels(g.ctx(ctx), req)
	if err != nil {
		return nil, grpcErr("channels", err)
	}
	return result(resp.GetResult(), resp.GetError())
}

// Batch runs several commands in one call.
func (g *GRPC) Batch(ctx context.Context, req *apipb.BatchRequest) (*apipb.BatchResponse, error) {
	resp, err := g.c.Batch(g.ctx(ctx), req)
	if err != nil {
		return nil, grpcErr("batch", err)
	}
	return resp, nil
}

// MapPublish writes one key of a map channel. A write that a key_mode,
// version or idempotency key suppressed is a success with Suppressed set.
func (g *GRPC) MapPublish(ctx context.Context, req *apipb.MapPublishRequest) (*apipb.MapPublishResult, error) {
	resp, err := g.c.MapPublish(g.ctx(ctx), req)
	if err != nil {
		return nil, grpcErr("map_publish", err)
	}
	return result(resp.GetResult(), resp.GetError())
}

// MapRemove removes one key of a map channel; an absent key is a success
// suppressed with key_not_found.
func (g *GRPC) MapRemove(ctx context.Context, req *apipb.MapRemoveRequest) (*apipb.MapRemoveResult, error) {
	resp, err := g.c.MapRemove(g.ctx(ctx), req)
	if err != nil {
		return nil, grpcErr("map_remove", err)
	}
	return result(resp.GetResult(), resp.GetError())
}

// MapReadState reads a page of a map channel's keys in key order. Pass the
// result's Cursor, Offset and Epoch (as revision) to read the next page.
func (g *GRPC) MapReadState(ctx context.Context, req *apipb.MapReadStateRequest) (*apipb.MapReadStateResult, error) {
	resp, err := g.c.MapReadState(g.ctx(ctx), req)
	if err != nil {
		return nil, grpcErr("map_read_state", err)
	}
	return result(resp.GetResult(), resp.GetError())
}

// MapReadStream reads a map channel's change stream, optionally after a
// position (error 112 when that position is gone).
func (g *GRPC) MapReadStream(ctx context.Context, req *apipb.MapReadStreamRequest) (*apipb.MapReadStreamResult, error) {
	resp, err := g.c.MapReadStream(g.ctx(ctx), req)
	if err != nil {
		return nil, grpcErr("map_read_stream", err)
	}
	return result(resp.GetResult(), resp.GetError())
}

// MapStats counts a map channel's keys.
func (g *GRPC) MapStats(ctx context.Context, req *apipb.MapStatsRequest) (*apipb.MapStatsResult, error) {
	resp, err := g.c.MapStats(g.ctx(ctx), req)
	if err != nil {
		return nil, grpcErr("map_stats", err)
	}
	return result(resp.GetResult(), resp.GetError())
}

// MapClear drops a map channel's keys and stream; the next write starts
// a new epoch.
func (g *GRPC) MapClear(ctx context.Context, req *apipb.MapClearRequest) (*apipb.MapClearResult, error) {
	resp, err := g.c.MapClear(g.ctx(ctx), req)
	if err != nil {
		return nil, grpcErr("map_clear", err)
	}
	return result(resp.GetResult(), resp.GetError())
}

// SharedPollPublish pushes a new version of a shared-poll item to the
// connections tracking it, without waiting for the next poll.
func (g *GRPC) SharedPollPublish(ctx context.Context, req *apipb.SharedPollPublishRequest) (*apipb.SharedPollPublishResult, error) {
	resp, err := g.c.SharedPollPublish(g.ctx(ctx), req)
	if err != nil {
		return nil, grpcErr("shared_poll_publish", err)
	}
	return result(resp.GetResult(), resp.GetError())
}
