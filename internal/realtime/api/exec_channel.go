package api

import (
	"context"
	"math"

	"github.com/spindle-rt/spindle/internal/realtime/engine"
	"github.com/spindle-rt/spindle/proto/apipb"
)

// Presence lists a channel's connections, keyed by client id. Namespaces
// without presence answer 108.
func (e *Executor) Presence(ctx context.Context, req *apipb.PresenceRequest) *apipb.PresenceResponse {
	if req.GetChannel() == "" {
		return &apipb.PresenceResponse{Error: errBadRequest()}
	}
	p, err := e.node.Presence(ctx, req.GetChannel())
	if err != nil {
		return &apipb.PresenceResponse{Error: e.fail(ctx, "presence", err, "channel", req.GetChannel())}
	}
	out := make(map[string]*apipb.ClientInfo, len(p))
	for id, ci := range p {
		if ci != nil {
			out[id] = clientInfo(ci)
		}
	}
	return &apipb.PresenceResponse{Result: &apipb.PresenceResult{Presence: out}}
}

// PresenceStats counts a channel's connections and distinct users.
func (e *Executor) PresenceStats(ctx context.Context, req *apipb.PresenceStatsRequest) *apipb.PresenceStatsResponse {
	if req.GetChannel() == "" {
		return &apipb.PresenceStatsResponse{Error: errBadRequest()}
	}
	st, err := e.node.PresenceStats(ctx, req.GetChannel())
	if err != nil {
		return &apipb.PresenceStatsResponse{Error: e.fail(ctx, "presence_stats", err, "channel", req.GetChannel())}
	}
	return &apipb.PresenceStatsResponse{Result: &apipb.PresenceStatsResult{
		NumClients: u32(st.NumClients),
		NumUsers:   u32(st.NumUsers),
	}}
}

// History reads a channel's stream. limit 0 returns only the stream's
// current position, -1 everything kept; since continues from a known
// position (112 if the epoch changed or the publications are gone).
func (e *Executor) History(ctx context.Context, req *apipb.HistoryRequest) *apipb.HistoryResponse {
	if req.GetChannel() == "" {
		return &apipb.HistoryResponse{Error: errBadRequest()}
	}
	var since *engine.StreamPosition
	if s := req.GetSince(); s != nil {
		since = &engine.StreamPosition{Offset: s.GetOffset(), Epoch: s.GetEpoch()}
	}
	pubs, top, err := e.node.History(ctx, req.GetChannel(), since, int(req.GetLimit()), req.GetReverse())
	if err != nil {
		return &apipb.HistoryResponse{Error: e.fail(ctx, "history", err, "channel", req.GetChannel())}
	}
	out := make([]*apipb.Publication, 0, len(pubs))
	for _, p := range pubs {
		if p == nil {
			continue
		}
		ap := &apipb.Publication{Data: p.Data, Offset: p.Offset, Tags: p.Tags}
		if p.Info != nil {
			ap.Info = clientInfo(p.Info)
		}
		out = append(out, ap)
	}
	return &apipb.HistoryResponse{Result: &apipb.HistoryResult{Publications: out, Offset: top.Offset, Epoch: top.Epoch}}
}

// HistoryRemove drops a channel's publications; its stream position stays,
// so recovering clients learn what they missed is gone.
func (e *Executor) HistoryRemove(ctx context.Context, req *apipb.HistoryRemoveRequest) *apipb.HistoryRemoveResponse {
	if req.GetChannel() == "" {
		return &apipb.HistoryRemoveResponse{Error: errBadRequest()}
	}
	if err := e.node.HistoryRemove(ctx, req.GetChannel()); err != nil {
		return &apipb.HistoryRemoveResponse{Error: e.fail(ctx, "history_remove", err, "channel", req.GetChannel())}
	}
	return &apipb.HistoryRemoveResponse{Result: &apipb.HistoryRemoveResult{}}
}

// Channels lists active channels matching a glob pattern (empty: all) with
// their subscriber counts.
func (e *Executor) Channels(ctx context.Context, req *apipb.ChannelsRequest) *apipb.ChannelsResponse {
	chs, err := e.node.Channels(ctx, req.GetPattern())
	if err != nil {
		return &apipb.ChannelsResponse{Error: e.fail(ctx, "channels", err, "pattern", req.GetPattern())}
	}
	out := make(map[string]*apipb.ChannelInfo, len(chs))
	for ch, n := range chs {
		out[ch] = &apipb.ChannelInfo{NumClients: u32(n)}
	}
	return &apipb.ChannelsResponse{Result: &apipb.ChannelsResult{Channels: out}}
}

// Info describes every node sharing this node's engine.
func (e *Executor) Info(ctx context.Context, _ *apipb.InfoRequest) *apipb.InfoResponse {
	nodes, err := e.node.Info(ctx)
	if err != nil {
		return &apipb.InfoResponse{Error: e.fail(ctx, "info", err)}
	}
	out := make([]*apipb.NodeResult, 0, len(nodes))
	for _, n := range nodes {
		out = append(out, &apipb.NodeResult{
			Uid:         n.UID,
			Name:        n.Name,
			Version:     n.Version,
			NumClients:  u32(n.NumClients),
			NumUsers:    u32(n.NumUsers),
			NumChannels: u32(n.NumChannels),
			NumSubs:     u32(n.NumSubs),
			Uptime:      u32(n.Uptime),
		})
	}
	return &apipb.InfoResponse{Result: &apipb.InfoResult{Nodes: out}}
}

// RPC calls a server-side extension method registered in ExecutorOptions:
// empty method is 107, an unknown one 104.
func (e *Executor) RPC(ctx context.Context, req *apipb.RPCRequest) *apipb.RPCResponse {
	if req.GetMethod() == "" {
		return &apipb.RPCResponse{Error: errBadRequest()}
	}
	h, ok := e.rpc[req.GetMethod()]
	if !ok {
		return &apipb.RPCResponse{Error: errNotFound()}
	}
	data, err := h(ctx, req.GetParams())
	if err != nil {
		return &apipb.RPCResponse{Error: e.fail(ctx, "rpc", err, "rpc_method", req.GetMethod())}
	}
	return &apipb.RPCResponse{Result: &apipb.RPCResult{Data: data}}
}

func clientInfo(ci *engine.ClientInfo) *apipb.ClientInfo {
	return &apipb.ClientInfo{User: ci.User, Client: ci.Client, ConnInfo: ci.ConnInfo, ChanInfo: ci.ChanInfo}
}

// u32 converts a count to the wire's uint32, clamping instead of wrapping.
func u32[T int | int64](v T) uint32 {
	switch {
	case v < 0:
		return 0
	case int64(v) > math.MaxUint32:
		return math.MaxUint32
	}
	return uint32(v)
}
