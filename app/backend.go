package app

import (
	"context"

	"github.com/spindle-rt/spindle/internal/clientheaders"
	"github.com/spindle-rt/spindle/proto/proxypb"
)

// The methods below answer the proxied events in-process, with the
// same method set as the real-time server's proxy clients, so `spindle dev`
// calls the App directly with no network hop. Headers come from the
// context the server attached them to. A returned error is always a
// context error (deadline passed, caller gone); every other outcome is an
// application-level reply.

// Connect answers a connect in-process.
func (a *App) Connect(ctx context.Context, req *proxypb.ConnectRequest) (*proxypb.ConnectResponse, error) {
	r := NewConnectRequest(req, clientheaders.From(ctx))
	return invoke[*proxypb.ConnectResponse](a, ctx, r)
}

// Refresh answers a refresh in-process.
func (a *App) Refresh(ctx context.Context, req *proxypb.RefreshRequest) (*proxypb.RefreshResponse, error) {
	r := NewRefreshRequest(req, clientheaders.From(ctx))
	return invoke[*proxypb.RefreshResponse](a, ctx, r)
}

// Subscribe answers a subscribe in-process.
func (a *App) Subscribe(ctx context.Context, req *proxypb.SubscribeRequest) (*proxypb.SubscribeResponse, error) {
	r := NewSubscribeRequest(req, clientheaders.From(ctx))
	return invoke[*proxypb.SubscribeResponse](a, ctx, r)
}

// Publish answers a publish in-process.
func (a *App) Publish(ctx context.Context, req *proxypb.PublishRequest) (*proxypb.PublishResponse, error) {
	r := NewPublishRequest(req, clientheaders.From(ctx))
	return invoke[*proxypb.PublishResponse](a, ctx, r)
}

// RPC answers an RPC in-process.
func (a *App) RPC(ctx context.Context, req *proxypb.RPCRequest) (*proxypb.RPCResponse, error) {
	r := NewRPCRequest(req, clientheaders.From(ctx))
	return invoke[*proxypb.RPCResponse](a, ctx, r)
}

// SubRefresh answers a sub_refresh in-process.
func (a *App) SubRefresh(ctx context.Context, req *proxypb.SubRefreshRequest) (*proxypb.SubRefreshResponse, error) {
	r := NewSubRefreshRequest(req, clientheaders.From(ctx))
	return invoke[*proxypb.SubRefreshResponse](a, ctx, r)
}

// MapPublish answers a map_publish in-process.
func (a *App) MapPublish(ctx context.Context, req *proxypb.MapPublishRequest) (*proxypb.MapPublishResponse, error) {
	r := NewMapPublishRequest(req, clientheaders.From(ctx))
	return invoke[*proxypb.MapPublishResponse](a, ctx, r)
}

// MapRemove answers a map_remove in-process.
func (a *App) MapRemove(ctx context.Context, req *proxypb.MapRemoveRequest) (*proxypb.MapRemoveResponse, error) {
	r := NewMapRemoveRequest(req, clientheaders.From(ctx))
	return invoke[*proxypb.MapRemoveResponse](a, ctx, r)
}

// SharedPollRefresh answers a shared_poll_refresh in-process. The poller
// runs for a channel, not a connection, so the context usually holds no
// client headers and Header() is empty.
func (a *App) SharedPollRefresh(ctx context.Context, req *proxypb.SharedPollRefreshRequest) (*proxypb.SharedPollRefreshResponse, error) {
	r := NewSharedPollRefreshRequest(req, clientheaders.From(ctx))
	return invoke[*proxypb.SharedPollRefreshResponse](a, ctx, r)
}
