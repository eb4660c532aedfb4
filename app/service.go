package app

import (
	"context"
	"fmt"

	"github.com/spindle-rt/spindle/proto/proxypb"
)

// Services decide one event type each. A service answers with the
// response built by its request's methods (req.Allow(…), req.Deny(…)…).
// A non-nil error becomes an Error reply: the code of an *Error, a
// disconnect for a *DisconnectError, otherwise CodeInternal (logged).
type (
	// ConnectService decides connects.
	ConnectService func(ctx context.Context, req *ConnectRequest) (*proxypb.ConnectResponse, error)
	// RefreshService decides connection refreshes.
	RefreshService func(ctx context.Context, req *RefreshRequest) (*proxypb.RefreshResponse, error)
	// SubscribeService decides subscriptions.
	SubscribeService func(ctx context.Context, req *SubscribeRequest) (*proxypb.SubscribeResponse, error)
	// PublishService decides client publications.
	PublishService func(ctx context.Context, req *PublishRequest) (*proxypb.PublishResponse, error)
	// RPCService runs client RPCs.
	RPCService func(ctx context.Context, req *RPCRequest) (*proxypb.RPCResponse, error)
	// SubRefreshService decides subscription refreshes.
	SubRefreshService func(ctx context.Context, req *SubRefreshRequest) (*proxypb.SubRefreshResponse, error)
	// MapPublishService decides client writes to map channels.
	MapPublishService func(ctx context.Context, req *MapPublishRequest) (*proxypb.MapPublishResponse, error)
	// MapRemoveService decides client removals from map channels.
	MapRemoveService func(ctx context.Context, req *MapRemoveRequest) (*proxypb.MapRemoveResponse, error)
	// SharedPollRefreshService tells the server the current state of the
	// items a shared-poll channel's subscribers track.
	SharedPollRefreshService func(ctx context.Context, req *SharedPollRefreshRequest) (*proxypb.SharedPollRefreshResponse, error)
)

// HandleConnect sets the connect service; nil removes it.
func (a *App) HandleConnect(s ConnectService) { a.setService(TypeConnect, adapt(TypeConnect, s)) }

// HandleRefresh sets the refresh service; nil removes it.
func (a *App) HandleRefresh(s RefreshService) { a.setService(TypeRefresh, adapt(TypeRefresh, s)) }

// HandleSubscribe sets the subscribe service; nil removes it.
func (a *App) HandleSubscribe(s SubscribeService) {
	a.setService(TypeSubscribe, adapt(TypeSubscribe, s))
}

// HandlePublish sets the publish service; nil removes it.
func (a *App) HandlePublish(s PublishService) { a.setService(TypePublish, adapt(TypePublish, s)) }

// HandleSubRefresh sets the sub_refresh service; nil removes it.
func (a *App) HandleSubRefresh(s SubRefreshService) {
	a.setService(TypeSubRefresh, adapt(TypeSubRefresh, s))
}

// HandleMapPublish sets the map_publish service; nil removes it.
func (a *App) HandleMapPublish(s MapPublishService) {
	a.setService(TypeMapPublish, adapt(TypeMapPublish, s))
}

// HandleMapRemove sets the map_remove service; nil removes it.
func (a *App) HandleMapRemove(s MapRemoveService) {
	a.setService(TypeMapRemove, adapt(TypeMapRemove, s))
}

// HandleSharedPollRefresh sets the shared_poll_refresh service; nil
// removes it. A DisconnectError from it becomes an error reply of the
// same code and reason, since a poll has no connection to close.
func (a *App) HandleSharedPollRefresh(s SharedPollRefreshService) {
	a.setService(TypeSharedPollRefresh, adapt(TypeSharedPollRefresh, s))
}

// HandleRPC routes the RPC method (exact, case-sensitive match) to s; nil
// removes the route. Interceptors registered for TypeRPC run before the
// routing, so they guard every method.
func (a *App) HandleRPC(method string, s RPCService) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if s == nil {
		delete(a.rpcMethods, method)
	} else {
		if a.rpcMethods == nil {
			a.rpcMethods = map[string]RPCService{}
		}
		a.rpcMethods[method] = s
	}
	a.changed()
}

// HandleRPCFallback sets the service for RPC methods without their own
// route; without one they get CodeMethodNotFound. nil removes it. It
// shares its place with Handle(TypeRPC, …): the later call wins.
func (a *App) HandleRPCFallback(s RPCService) { a.setService(TypeRPC, adapt(TypeRPC, s)) }

// Handle makes h answer every request of type t. It is for code that does
// not decide events itself but passes them on — to worker processes, to
// another proxy, to a queue — and so wants one function over the Request
// and Reply interfaces instead of one typed service per event. h must
// answer with the response type of the request it got (a
// *proxypb.ConnectResponse for a connect, and so on; Deny, DenyTemporary
// and Disconnect build one for any request); any other reply is logged
// and answered with CodeInternal, as for a typed service. Interceptors run
// before h as before any service. nil removes the handler; an invalid t
// is ignored and logged.
//
// For every type but TypeRPC, h takes the place of the service set by
// HandleConnect and its siblings (the later call wins).
//
// For TypeRPC, h is the RPC fallback, the same place HandleRPCFallback
// sets: methods routed with HandleRPC keep going to their services and h
// answers every other method. It does not replace the routing, so the
// order of Handle and HandleRPC calls does not matter and Go methods can
// live next to a generic handler; to send every method to h, route none.
func (a *App) Handle(t Type, h Handler) {
	if !t.Valid() {
		a.log.Warn("app: handler registered for an unknown event type; ignored", "type", int(t))
		return
	}
	a.setService(t, h)
}

// setService stores the innermost handler of t; for TypeRPC that is the
// fallback behind the method routes (see rpcRouter). t must be valid.
func (a *App) setService(t Type, h Handler) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if t == TypeRPC {
		a.rpcFallback = h
	} else {
		a.services[t] = h
	}
	a.changed()
}

// adapt turns a typed service into a Handler; nil stays nil.
func adapt[R Request, P interface {
	Reply
	comparable
}](t Type, s func(context.Context, R) (P, error)) Handler {
	if s == nil {
		return nil
	}
	return func(ctx context.Context, req Request) (Reply, error) {
		r, ok := req.(R)
		if !ok {
			return nil, fmt.Errorf("app: %s service got a %T request", t, req)
		}
		resp, err := s(ctx, r)
		var zero P
		if resp == zero {
			return nil, err // no typed nil inside the interface
		}
		return resp, err
	}
}

// rpcRouter routes by method over a snapshot of the routes; nil when no
// RPC service exists at all. The caller holds a.mu.
func (a *App) rpcRouter() Handler {
	if len(a.rpcMethods) == 0 && a.rpcFallback == nil {
		return nil
	}
	routes := make(map[string]Handler, len(a.rpcMethods))
	for m, s := range a.rpcMethods {
		routes[m] = adapt(TypeRPC, s)
	}
	fallback := a.rpcFallback
	return func(ctx context.Context, req Request) (Reply, error) {
		var method string
		if r, ok := req.(*RPCRequest); ok {
			method = r.GetMethod()
		}
		if h, ok := routes[method]; ok {
			return h(ctx, req)
		}
		if fallback != nil {
			return fallback(ctx, req)
		}
		return req.reply(newError(CodeMethodNotFound, "method not found", false), nil), nil
	}
}
