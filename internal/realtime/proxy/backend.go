// Package proxy is how `spindle server` asks an application backend about
// client events (connect, refresh, subscribe, publish, rpc, sub_refresh):
// the CentrifugoProxy protocol over gRPC or HTTP. The node depends only on
// the Backend interface, so `spindle dev` can plug the application in
// directly, in process, through the very same interface.
package proxy

import (
	"context"
	"net/http"

	"github.com/spindle-rt/spindle/proto/proxypb"
)

// Backend answers proxied events. A returned error means the call itself
// failed (unreachable, timeout, undecodable answer): the node then gives
// the client a temporary internal error. Application-level answers —
// including denials — travel inside the response's Error or Disconnect.
type Backend interface {
	Connect(ctx context.Context, req *proxypb.ConnectRequest) (*proxypb.ConnectResponse, error)
	Refresh(ctx context.Context, req *proxypb.RefreshRequest) (*proxypb.RefreshResponse, error)
	Subscribe(ctx context.Context, req *proxypb.SubscribeRequest) (*proxypb.SubscribeResponse, error)
	Publish(ctx context.Context, req *proxypb.PublishRequest) (*proxypb.PublishResponse, error)
	RPC(ctx context.Context, req *proxypb.RPCRequest) (*proxypb.RPCResponse, error)
	SubRefresh(ctx context.Context, req *proxypb.SubRefreshRequest) (*proxypb.SubRefreshResponse, error)
}

type headersKey struct{}

// WithClientHeaders attaches the client's WebSocket upgrade request headers
// to ctx; backends forward the allow-listed ones (as HTTP headers or gRPC
// metadata) for the connection's whole life. h is only read, never
// modified; backends look names up in canonical form (as net/http stores
// them), so hand-built maps should use http.Header.Set/Add.
func WithClientHeaders(ctx context.Context, h http.Header) context.Context {
	if h == nil {
		return ctx
	}
	return context.WithValue(ctx, headersKey{}, h)
}

// ClientHeaders returns the headers attached by WithClientHeaders.
func ClientHeaders(ctx context.Context) http.Header {
	h, _ := ctx.Value(headersKey{}).(http.Header)
	return h
}
