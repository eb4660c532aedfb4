package app

import (
	"context"

	"github.com/spindle-rt/spindle/internal/realtime/proxy"
	"github.com/spindle-rt/spindle/proto/proxypb"
)

// The App is a proxy.Backend, so `spindle dev` can call it in-process
// with no network hop. Headers come from proxy.ClientHeaders(ctx). A
// returned error is always a context error (deadline passed, caller gone);
// every other outcome is an application-level reply.
var _ proxy.Backend = (*App)(nil)

// Connect answers a connect in-process.
func (a *App) Connect(ctx context.Context, req *proxypb.ConnectRequest) (*proxypb.ConnectResponse, error) {
	r := NewConnectRequest(req, proxy.ClientHeaders(ctx))
	return invoke[*proxypb.ConnectResponse](a, ctx, r)
}

// Refresh answers a refresh in-process.
func (a *App) Refresh(ctx context.Context, req *proxypb.RefreshRequest) (*proxypb.RefreshResponse, error) {
	r := NewRefreshRequest(req, proxy.ClientHeaders(ctx))
	return invoke[*proxypb.RefreshResponse](a, ctx, r)
}

// Subscribe answers a subscribe in-process.
func (a *App) Subscribe(ctx context.Context, req *proxypb.SubscribeRequest) (*proxypb.SubscribeResponse, error) {
	r := NewSubscribeRequest(req, proxy.ClientHeaders(ctx))
	return invoke[*proxypb.SubscribeResponse](a, ctx, r)
}

// Publish answers a publish in-process.
func (a *App) Publish(ctx context.Context, req *proxypb.PublishRequest) (*proxypb.PublishResponse, error) {
	r := NewPublishRequest(req, proxy.ClientHeaders(ctx))
	return invoke[*proxypb.PublishResponse](a, ctx, r)
}

// RPC answers an RPC in-process.
func (a *App) RPC(ctx context.Context, req *proxypb.RPCRequest) (*proxypb.RPCResponse, error) {
	r := NewRPCRequest(req, proxy.ClientHeaders(ctx))
	return invoke[*proxypb.RPCResponse](a, ctx, r)
}

// SubRefresh answers a sub_refresh in-process.
func (a *App) SubRefresh(ctx context.Context, req *proxypb.SubRefreshRequest) (*proxypb.SubRefreshResponse, error) {
	r := NewSubRefreshRequest(req, proxy.ClientHeaders(ctx))
	return invoke[*proxypb.SubRefreshResponse](a, ctx, r)
}
