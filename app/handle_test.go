package app

import (
	"context"
	"testing"

	"github.com/spindle-rt/spindle/proto/proxypb"
)

// TestHandle registers generic handlers and checks who answers: the
// handler for its own type, typed services it replaced or that replaced
// it, Go RPC methods beside an RPC handler, interceptors before it.
func TestHandle(t *testing.T) {
	// echo answers any request with an error carrying tag, so the test
	// sees which handler answered without caring about the event type.
	echo := func(tag string) Handler {
		return func(_ context.Context, req Request) (Reply, error) { return Deny(req, 400, tag), nil }
	}
	rpc := func(method string) Request { return NewRPCRequest(&proxypb.RPCRequest{Method: method}, nil) }
	cases := []struct {
		name     string
		setup    func(a *App)
		req      Request
		wantCode uint32
		wantMsg  string
		wantLog  string
	}{
		{"connect", func(a *App) { a.Handle(TypeConnect, echo("h")) }, NewConnectRequest(nil, nil), 400, "h", ""},
		{"refresh", func(a *App) { a.Handle(TypeRefresh, echo("h")) }, NewRefreshRequest(nil, nil), 400, "h", ""},
		{"subscribe", func(a *App) { a.Handle(TypeSubscribe, echo("h")) }, NewSubscribeRequest(nil, nil), 400, "h", ""},
		{"publish", func(a *App) { a.Handle(TypePublish, echo("h")) }, NewPublishRequest(nil, nil), 400, "h", ""},
		{"rpc", func(a *App) { a.Handle(TypeRPC, echo("h")) }, rpc("any"), 400, "h", ""},
		{"sub_refresh", func(a *App) { a.Handle(TypeSubRefresh, echo("h")) }, NewSubRefreshRequest(nil, nil), 400, "h", ""},
		{"map_publish", func(a *App) { a.Handle(TypeMapPublish, echo("h")) }, NewMapPublishRequest(nil, nil), 400, "h", ""},
		{"map_remove", func(a *App) { a.Handle(TypeMapRemove, echo("h")) }, NewMapRemoveRequest(nil, nil), 400, "h", ""},
		{"shared_poll_refresh", func(a *App) { a.Handle(TypeSharedPollRefresh, echo("h")) }, NewSharedPollRefreshRequest(nil, nil), 400, "h", ""},
		{
			name:  "only its own type",
			setup: func(a *App) { a.Handle(TypeConnect, echo("h")) },
			req:   NewSubscribeRequest(nil, nil), wantCode: CodeNotAvailable, wantMsg: "not available",
		},
		{
			name: "replaces the typed service",
			setup: func(a *App) {
				a.HandleConnect(func(_ context.Context, r *ConnectRequest) (*proxypb.ConnectResponse, error) {
					return r.Deny(400, "typed"), nil
				})
				a.Handle(TypeConnect, echo("h"))
			},
			req: NewConnectRequest(nil, nil), wantCode: 400, wantMsg: "h",
		},
		{
			name: "typed service registered later wins",
			setup: func(a *App) {
				a.Handle(TypeConnect, echo("h"))
				a.HandleConnect(func(_ context.Context, r *ConnectRequest) (*proxypb.ConnectResponse, error) {
					return r.Deny(400, "typed"), nil
				})
			},
			req: NewConnectRequest(nil, nil), wantCode: 400, wantMsg: "typed",
		},
		{
			name:  "nil removes it",
			setup: func(a *App) { a.Handle(TypeConnect, echo("h")); a.Handle(TypeConnect, nil) },
			req:   NewConnectRequest(nil, nil), wantCode: CodeNotAvailable, wantMsg: "not available",
		},
		{
			name: "rpc: routed Go methods keep their service",
			setup: func(a *App) {
				a.Handle(TypeRPC, echo("h"))
				a.HandleRPC("go", func(_ context.Context, r *RPCRequest) (*proxypb.RPCResponse, error) {
					return r.Deny(400, "go"), nil
				})
			},
			req: rpc("go"), wantCode: 400, wantMsg: "go",
		},
		{
			name: "rpc: other methods go to the handler whatever the order",
			setup: func(a *App) {
				a.HandleRPC("go", func(_ context.Context, r *RPCRequest) (*proxypb.RPCResponse, error) {
					return r.Deny(400, "go"), nil
				})
				a.Handle(TypeRPC, echo("h"))
			},
			req: rpc("other"), wantCode: 400, wantMsg: "h",
		},
		{
			name: "rpc: HandleRPCFallback registered later replaces it",
			setup: func(a *App) {
				a.Handle(TypeRPC, echo("h"))
				a.HandleRPCFallback(func(_ context.Context, r *RPCRequest) (*proxypb.RPCResponse, error) {
					return r.Deny(400, "fallback"), nil
				})
			},
			req: rpc("other"), wantCode: 400, wantMsg: "fallback",
		},
		{
			name: "rpc: Handle replaces HandleRPCFallback",
			setup: func(a *App) {
				a.HandleRPCFallback(func(_ context.Context, r *RPCRequest) (*proxypb.RPCResponse, error) {
					return r.Deny(400, "fallback"), nil
				})
				a.Handle(TypeRPC, echo("h"))
			},
			req: rpc("other"), wantCode: 400, wantMsg: "h",
		},
		{
			name:  "rpc: nil removes it",
			setup: func(a *App) { a.Handle(TypeRPC, echo("h")); a.Handle(TypeRPC, nil) },
			req:   rpc("other"), wantCode: CodeNotAvailable, wantMsg: "not available",
		},
		{
			name: "rpc: nil leaves the routed methods",
			setup: func(a *App) {
				a.HandleRPC("go", func(_ context.Context, r *RPCRequest) (*proxypb.RPCResponse, error) {
					return r.Deny(400, "go"), nil
				})
				a.Handle(TypeRPC, echo("h"))
				a.Handle(TypeRPC, nil)
			},
			req: rpc("other"), wantCode: CodeMethodNotFound, wantMsg: "method not found",
		},
		{
			name: "interceptors run first",
			setup: func(a *App) {
				a.Handle(TypePublish, echo("h"))
				a.Intercept(func(_ context.Context, req Request, _ Handler) (Reply, error) {
					return Deny(req, 403, "intercepted"), nil
				}, TypePublish)
			},
			req: NewPublishRequest(nil, nil), wantCode: 403, wantMsg: "intercepted",
		},
		{
			name: "reply of another type is an internal error",
			setup: func(a *App) {
				a.Handle(TypeSubscribe, func(context.Context, Request) (Reply, error) {
					return &proxypb.ConnectResponse{}, nil
				})
			},
			req: NewSubscribeRequest(nil, nil), wantCode: CodeInternal, wantMsg: "internal server error",
			wantLog: "reply of the wrong type",
		},
		{
			name: "error becomes the error reply",
			setup: func(a *App) {
				a.Handle(TypeRefresh, func(context.Context, Request) (Reply, error) {
					return nil, &Error{Code: 429, Message: "slow down", Temporary: true}
				})
			},
			req: NewRefreshRequest(nil, nil), wantCode: 429, wantMsg: "slow down",
		},
		{
			name:  "unknown type is ignored and logged",
			setup: func(a *App) { a.Handle(Type(0), echo("h")); a.Handle(Type(99), echo("h")) },
			req:   NewConnectRequest(nil, nil), wantCode: CodeNotAvailable, wantMsg: "not available",
			wantLog: "handler registered for an unknown event type",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a, lb := testApp(Options{})
			tc.setup(a)
			rep, err := a.dispatch(context.Background(), tc.req)
			if err != nil {
				t.Fatal(err)
			}
			if !replyFits(tc.req.Type(), rep) {
				t.Fatalf("reply %T does not fit %s", rep, tc.req.Type())
			}
			if e := rep.GetError(); e.GetCode() != tc.wantCode || e.GetMessage() != tc.wantMsg {
				t.Errorf("got %v, want error %d %q", rep, tc.wantCode, tc.wantMsg)
			}
			if tc.wantLog != "" {
				lb.waitFor(t, tc.wantLog)
			}
		})
	}
}

// TestLogger is the logger of Options, or slog.Default().
func TestLogger(t *testing.T) {
	a, lb := testApp(Options{})
	a.Logger().Info("from outside")
	lb.waitFor(t, "from outside")
	if New(Options{}).Logger() == nil {
		t.Error("Logger is nil without Options.Logger")
	}
}
