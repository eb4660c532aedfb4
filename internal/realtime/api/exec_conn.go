package api

import (
	"context"

	"github.com/spindle-rt/spindle/internal/realtime/auth"
	"github.com/spindle-rt/spindle/internal/realtime/engine"
	"github.com/spindle-rt/spindle/internal/realtime/node"
	"github.com/spindle-rt/spindle/proto/apipb"
)

// Subscribe subscribes a user's connections (optionally one client's or
// one session's) to a channel from the server side; they receive a
// subscribe push. override adjusts the namespace flags for this
// subscription only.
func (e *Executor) Subscribe(ctx context.Context, req *apipb.SubscribeRequest) *apipb.SubscribeResponse {
	if req.GetChannel() == "" {
		return &apipb.SubscribeResponse{Error: errBadRequest()}
	}
	info, ierr := optional(req.GetInfo(), req.GetB64Info())
	if ierr != nil {
		return &apipb.SubscribeResponse{Error: ierr}
	}
	data, derr := optional(req.GetData(), req.GetB64Data())
	if derr != nil {
		return &apipb.SubscribeResponse{Error: derr}
	}
	o := node.SubscribeOptions{
		Client:   req.GetClient(),
		Session:  req.GetSession(),
		ExpireAt: req.GetExpireAt(),
		Info:     info,
		Data:     data,
		Override: override(req.GetOverride()),
	}
	if sp := req.GetRecoverSince(); sp != nil {
		o.RecoverSince = &engine.StreamPosition{Offset: sp.GetOffset(), Epoch: sp.GetEpoch()}
	}
	if err := e.node.Subscribe(ctx, req.GetUser(), req.GetChannel(), o); err != nil {
		return &apipb.SubscribeResponse{Error: e.fail(ctx, "subscribe", err, "channel", req.GetChannel(), "user", req.GetUser())}
	}
	return &apipb.SubscribeResponse{Result: &apipb.SubscribeResult{}}
}

// override converts the wire override (BoolValue wrappers, absent = keep
// the namespace setting) into the node's pointer-bool form.
func override(o *apipb.SubscribeOptionOverride) *auth.Override {
	if o == nil {
		return nil
	}
	return &auth.Override{
		Presence:           boolPtr(o.GetPresence()),
		JoinLeave:          boolPtr(o.GetJoinLeave()),
		ForceRecovery:      boolPtr(o.GetForceRecovery()),
		ForcePositioning:   boolPtr(o.GetForcePositioning()),
		ForcePushJoinLeave: boolPtr(o.GetForcePushJoinLeave()),
	}
}

func boolPtr(v *apipb.BoolValue) *bool {
	if v == nil {
		return nil
	}
	b := v.GetValue()
	return &b
}

// Unsubscribe removes a user's (or one client's / session's) subscription
// to a channel; the connections are told with unsubscribe code 2000.
func (e *Executor) Unsubscribe(ctx context.Context, req *apipb.UnsubscribeRequest) *apipb.UnsubscribeResponse {
	if err := e.node.Unsubscribe(ctx, req.GetUser(), req.GetChannel(), req.GetClient(), req.GetSession()); err != nil {
		return &apipb.UnsubscribeResponse{Error: e.fail(ctx, "unsubscribe", err, "channel", req.GetChannel(), "user", req.GetUser())}
	}
	return &apipb.UnsubscribeResponse{Result: &apipb.UnsubscribeResult{}}
}

// Disconnect closes a user's connections on every node, sparing the
// client ids in whitelist. Without a disconnect object the clients get
// 3503 "force disconnect" (no reconnect).
func (e *Executor) Disconnect(ctx context.Context, req *apipb.DisconnectRequest) *apipb.DisconnectResponse {
	var d *node.Disconnect
	if w := req.GetDisconnect(); w != nil {
		d = &node.Disconnect{Code: w.GetCode(), Reason: w.GetReason()}
	}
	if err := e.node.Disconnect(ctx, req.GetUser(), d, req.GetClient(), req.GetWhitelist()); err != nil {
		return &apipb.DisconnectResponse{Error: e.fail(ctx, "disconnect", err, "user", req.GetUser())}
	}
	return &apipb.DisconnectResponse{Result: &apipb.DisconnectResult{}}
}

// Refresh extends (or, with expired, ends with 3005) a user's connections'
// lifetime, for backends that manage expiry without tokens.
func (e *Executor) Refresh(ctx context.Context, req *apipb.RefreshRequest) *apipb.RefreshResponse {
	if err := e.node.Refresh(ctx, req.GetUser(), req.GetClient(), req.GetExpired(), req.GetExpireAt(), req.GetInfo()); err != nil {
		return &apipb.RefreshResponse{Error: e.fail(ctx, "refresh", err, "user", req.GetUser())}
	}
	return &apipb.RefreshResponse{Result: &apipb.RefreshResult{}}
}
