package app

import (
	"context"
	"sync"
)

// Handler answers one request; it is what an interceptor's next is.
type Handler func(ctx context.Context, req Request) (Reply, error)

// Interceptor runs around the handlers of the types it is registered
// for. It may call next (possibly with a derived context, e.g. carrying
// the authenticated user), answer by itself without calling next (Deny,
// Disconnect), or inspect and replace next's reply. Returning an error
// has the same effect as a service returning it.
type Interceptor func(ctx context.Context, req Request, next Handler) (Reply, error)

// chainTable holds one fully built handler per type.
type chainTable struct {
	h [numTypes]Handler
}

// Intercept registers ic for the given types, after the interceptors
// already registered for them. Invalid types are ignored and logged.
func (a *App) Intercept(ic Interceptor, types ...Type) {
	if ic == nil {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, t := range types {
		if !t.Valid() {
			a.log.Warn("app: interceptor registered for an unknown event type; ignored", "type", int(t))
			continue
		}
		a.per[t] = append(a.per[t], ic)
	}
	a.changed()
}

// InterceptAll registers ics for every type (Spiral's "*"); they run
// before the type-specific ones, in registration order.
func (a *App) InterceptAll(ics ...Interceptor) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, ic := range ics {
		if ic != nil {
			a.all = append(a.all, ic)
		}
	}
	a.changed()
}

// table returns the built chains, building them on first use after a
// registration.
func (a *App) table() *chainTable {
	if t := a.chains.Load(); t != nil {
		return t
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if t := a.chains.Load(); t != nil {
		return t
	}
	t := &chainTable{}
	for _, typ := range Types() {
		h := a.terminal(typ)
		list := make([]Interceptor, 0, len(a.all)+len(a.per[typ]))
		list = append(list, a.all...)
		list = append(list, a.per[typ]...)
		for i := len(list) - 1; i >= 0; i-- {
			h = wrap(list[i], h)
		}
		t.h[typ] = h
	}
	a.chains.Store(t)
	return t
}

// wrap puts one interceptor around next. The closure is made once per
// chain build, so a call through it allocates nothing.
func wrap(ic Interceptor, next Handler) Handler {
	return func(ctx context.Context, req Request) (Reply, error) {
		return ic(ctx, req, next)
	}
}

// terminal is the innermost handler for typ: the service, or the
// not-available answer. The caller holds a.mu.
func (a *App) terminal(typ Type) Handler {
	if typ == TypeRPC {
		if h := a.rpcRouter(); h != nil {
			return h
		}
	} else if h := a.services[typ]; h != nil {
		return h
	}
	return a.missing(typ)
}

// missing answers CodeNotAvailable and logs the gap once per chain build,
// so the operator learns which service is absent without a log flood.
func (a *App) missing(typ Type) Handler {
	var once sync.Once
	return func(_ context.Context, req Request) (Reply, error) {
		once.Do(func() {
			a.log.Warn("app: no service registered for event type; answering error 108 (not available)", "type", typ.String())
		})
		return req.reply(newError(CodeNotAvailable, "not available", false), nil), nil
	}
}
