package api

import (
	"context"

	"github.com/spindle-rt/spindle/proto/apipb"
)

// Batch runs several commands in one call: in order by default, or
// concurrently when parallel is set (faster, but commands may then take
// effect in any order). Replies are always in command order; a command
// naming no OSS method gets 104 "not found".
func (e *Executor) Batch(ctx context.Context, req *apipb.BatchRequest) *apipb.BatchResponse {
	cmds := req.GetCommands()
	replies := make([]*apipb.Reply, len(cmds))
	run := func(i int) { replies[i] = e.command(ctx, cmds[i]) }
	if req.GetParallel() && len(cmds) > 1 {
		forEach(len(cmds), run)
	} else {
		for i := range cmds {
			run(i)
		}
	}
	return &apipb.BatchResponse{Replies: replies}
}

// command runs the first request set in c (Centrifugo's precedence when a
// command carries several).
func (e *Executor) command(ctx context.Context, c *apipb.Command) *apipb.Reply {
	r := &apipb.Reply{}
	switch {
	case c.GetPublish() != nil:
		resp := e.Publish(ctx, c.GetPublish())
		r.Publish, r.Error = resp.Result, resp.Error
	case c.GetBroadcast() != nil:
		resp := e.Broadcast(ctx, c.GetBroadcast())
		r.Broadcast, r.Error = resp.Result, resp.Error
	case c.GetSubscribe() != nil:
		resp := e.Subscribe(ctx, c.GetSubscribe())
		r.Subscribe, r.Error = resp.Result, resp.Error
	case c.GetUnsubscribe() != nil:
		resp := e.Unsubscribe(ctx, c.GetUnsubscribe())
		r.Unsubscribe, r.Error = resp.Result, resp.Error
	case c.GetDisconnect() != nil:
		resp := e.Disconnect(ctx, c.GetDisconnect())
		r.Disconnect, r.Error = resp.Result, resp.Error
	case c.GetHistory() != nil:
		resp := e.History(ctx, c.GetHistory())
		r.History, r.Error = resp.Result, resp.Error
	case c.GetHistoryRemove() != nil:
		resp := e.HistoryRemove(ctx, c.GetHistoryRemove())
		r.HistoryRemove, r.Error = resp.Result, resp.Error
	case c.GetPresence() != nil:
		resp := e.Presence(ctx, c.GetPresence())
		r.Presence, r.Error = resp.Result, resp.Error
	case c.GetPresenceStats() != nil:
		resp := e.PresenceStats(ctx, c.GetPresenceStats())
		r.PresenceStats, r.Error = resp.Result, resp.Error
	case c.GetInfo() != nil:
		resp := e.Info(ctx, c.GetInfo())
		r.Info, r.Error = resp.Result, resp.Error
	case c.GetRpc() != nil:
		resp := e.RPC(ctx, c.GetRpc())
		r.Rpc, r.Error = resp.Result, resp.Error
	case c.GetRefresh() != nil:
		resp := e.Refresh(ctx, c.GetRefresh())
		r.Refresh, r.Error = resp.Result, resp.Error
	case c.GetChannels() != nil:
		resp := e.Channels(ctx, c.GetChannels())
		r.Channels, r.Error = resp.Result, resp.Error
	case c.GetMapPublish() != nil:
		resp := e.MapPublish(ctx, c.GetMapPublish())
		r.MapPublish, r.Error = resp.Result, resp.Error
	case c.GetMapRemove() != nil:
		resp := e.MapRemove(ctx, c.GetMapRemove())
		r.MapRemove, r.Error = resp.Result, resp.Error
	case c.GetMapReadState() != nil:
		resp := e.MapReadState(ctx, c.GetMapReadState())
		r.MapReadState, r.Error = resp.Result, resp.Error
	case c.GetMapReadStream() != nil:
		resp := e.MapReadStream(ctx, c.GetMapReadStream())
		r.MapReadStream, r.Error = resp.Result, resp.Error
	case c.GetMapStats() != nil:
		resp := e.MapStats(ctx, c.GetMapStats())
		r.MapStats, r.Error = resp.Result, resp.Error
	case c.GetMapClear() != nil:
		resp := e.MapClear(ctx, c.GetMapClear())
		r.MapClear, r.Error = resp.Result, resp.Error
	case c.GetSharedPollPublish() != nil:
		resp := e.SharedPollPublish(ctx, c.GetSharedPollPublish())
		r.SharedPollPublish, r.Error = resp.Result, resp.Error
	default:
		r.Error = errNotFound()
	}
	return r
}
