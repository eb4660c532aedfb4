package app

import (
	"context"

	"google.golang.org/grpc"
	"google.golang.org/grpc/status"

	"github.com/spindle-rt/spindle/proto/proxypb"
)

// RegisterGRPC registers the App as the CentrifugoProxy service on s, for
// programs that run their own gRPC server. The nine event methods are
// served (the six of RoadRunner's plugin, MapPublish, MapRemove and
// SharedPollRefresh); the streaming and notification methods
// (SubscribeUnidirectional, SubscribeBidirectional, NotifyCacheEmpty,
// NotifyChannelState) answer codes.Unimplemented.
func (a *App) RegisterGRPC(s grpc.ServiceRegistrar) {
	proxypb.RegisterCentrifugoProxyServer(s, grpcService{a: a})
}

// grpcService adapts the App to the generated server interface. Call
// metadata is read lazily from the incoming context, only if a handler
// asks for Header().
type grpcService struct {
	proxypb.UnimplementedCentrifugoProxyServer
	a *App
}

func (s grpcService) Connect(ctx context.Context, in *proxypb.ConnectRequest) (*proxypb.ConnectResponse, error) {
	r := NewConnectRequest(in, nil)
	r.mctx = ctx
	resp, err := invoke[*proxypb.ConnectResponse](s.a, ctx, r)
	return resp, grpcError(err)
}

func (s grpcService) Refresh(ctx context.Context, in *proxypb.RefreshRequest) (*proxypb.RefreshResponse, error) {
	r := NewRefreshRequest(in, nil)
	r.mctx = ctx
	resp, err := invoke[*proxypb.RefreshResponse](s.a, ctx, r)
	return resp, grpcError(err)
}

func (s grpcService) Subscribe(ctx context.Context, in *proxypb.SubscribeRequest) (*proxypb.SubscribeResponse, error) {
	r := NewSubscribeRequest(in, nil)
	r.mctx = ctx
	resp, err := invoke[*proxypb.SubscribeResponse](s.a, ctx, r)
	return resp, grpcError(err)
}

func (s grpcService) Publish(ctx context.Context, in *proxypb.PublishRequest) (*proxypb.PublishResponse, error) {
	r := NewPublishRequest(in, nil)
	r.mctx = ctx
	resp, err := invoke[*proxypb.PublishResponse](s.a, ctx, r)
	return resp, grpcError(err)
}

func (s grpcService) RPC(ctx context.Context, in *proxypb.RPCRequest) (*proxypb.RPCResponse, error) {
	r := NewRPCRequest(in, nil)
	r.mctx = ctx
	resp, err := invoke[*proxypb.RPCResponse](s.a, ctx, r)
	return resp, grpcError(err)
}

func (s grpcService) SubRefresh(ctx context.Context, in *proxypb.SubRefreshRequest) (*proxypb.SubRefreshResponse, error) {
	r := NewSubRefreshRequest(in, nil)
	r.mctx = ctx
	resp, err := invoke[*proxypb.SubRefreshResponse](s.a, ctx, r)
	return resp, grpcError(err)
}

func (s grpcService) MapPublish(ctx context.Context, in *proxypb.MapPublishRequest) (*proxypb.MapPublishResponse, error) {
	r := NewMapPublishRequest(in, nil)
	r.mctx = ctx
	resp, err := invoke[*proxypb.MapPublishResponse](s.a, ctx, r)
	return resp, grpcError(err)
}

func (s grpcService) MapRemove(ctx context.Context, in *proxypb.MapRemoveRequest) (*proxypb.MapRemoveResponse, error) {
	r := NewMapRemoveRequest(in, nil)
	r.mctx = ctx
	resp, err := invoke[*proxypb.MapRemoveResponse](s.a, ctx, r)
	return resp, grpcError(err)
}

func (s grpcService) SharedPollRefresh(ctx context.Context, in *proxypb.SharedPollRefreshRequest) (*proxypb.SharedPollRefreshResponse, error) {
	r := NewSharedPollRefreshRequest(in, nil)
	r.mctx = ctx
	resp, err := invoke[*proxypb.SharedPollRefreshResponse](s.a, ctx, r)
	return resp, grpcError(err)
}

// grpcError gives context errors their gRPC codes (DeadlineExceeded,
// Canceled) instead of Unknown.
func grpcError(err error) error {
	if err == nil {
		return nil
	}
	return status.FromContextError(err).Err()
}
