package app

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"

	"github.com/spindle-rt/spindle/proto/proxypb"
)

// call is one dispatch in flight. It is pooled; a call whose caller gave
// up (deadline) is never returned to the pool, since its goroutine may
// still be writing to it.
type call struct {
	a     *App
	h     Handler
	ctx   context.Context
	req   Request
	reply Reply
	done  chan struct{}
}

var callPool = sync.Pool{New: func() any { return &call{done: make(chan struct{}, 1)} }}

// dispatch answers req through its chain under the caller's deadline.
// The only errors are context errors: the caller's deadline passed or the
// caller went away before the handler finished. Everything else —
// missing service, service error, panic, invalid reply — becomes an
// application-level reply.
func (a *App) dispatch(ctx context.Context, req Request) (Reply, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("app: %s for %s not started: %w", req.Type(), subject(req), err)
	}
	if _, ok := ctx.Deadline(); !ok && a.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, a.timeout)
		defer cancel()
	}
	c := callPool.Get().(*call)
	c.a, c.h, c.ctx, c.req = a, a.table().h[req.Type()], ctx, req
	go c.run()
	select {
	case <-c.done:
		reply := c.reply
		*c = call{done: c.done}
		callPool.Put(c)
		return reply, nil
	case <-ctx.Done():
		err := ctx.Err()
		a.log.Warn("app: handler overran the caller's deadline; abandoned",
			append(reqAttrs(req), "error", err)...)
		return nil, fmt.Errorf("app: %s for %s: %w", req.Type(), subject(req), err)
	}
}

// run executes the chain; a panic is turned into an internal-error reply.
func (c *call) run() {
	var reply Reply
	defer func() {
		if p := recover(); p != nil {
			c.a.log.Error("app: service panicked",
				append(reqAttrs(c.req), "panic", fmt.Sprint(p), "stack", string(debug.Stack()))...)
			reply = internalReply(c.req)
		}
		c.reply = reply
		c.done <- struct{}{}
	}()
	if c.h == nil { // a Request of an unknown type cannot be built, but be safe
		reply = internalReply(c.req)
		return
	}
	r, err := c.h(c.ctx, c.req)
	reply = c.a.finish(c.req, r, err)
}

// finish turns a handler's result into the reply actually sent.
func (a *App) finish(req Request, r Reply, err error) Reply {
	if err != nil {
		var ae *Error
		if errors.As(err, &ae) {
			return req.reply(newError(ae.Code, ae.Message, ae.Temporary), nil)
		}
		var de *DisconnectError
		if errors.As(err, &de) {
			return req.reply(nil, newDisconnect(de.Code, de.Reason))
		}
		a.log.Error("app: service failed; answering error 100", append(reqAttrs(req), "error", err)...)
		return internalReply(req)
	}
	if r == nil {
		a.log.Error("app: service returned neither a reply nor an error; answering error 100", reqAttrs(req)...)
		return internalReply(req)
	}
	if !replyFits(req.Type(), r) {
		a.log.Error("app: service returned a reply of the wrong type; answering error 100",
			append(reqAttrs(req), "reply", fmt.Sprintf("%T", r))...)
		return internalReply(req)
	}
	return r
}

func internalReply(req Request) Reply {
	return req.reply(newError(CodeInternal, "internal server error", true), nil)
}

// replyFits reports whether r is a non-nil response of t's type.
func replyFits(t Type, r Reply) bool {
	switch v := r.(type) {
	case *proxypb.ConnectResponse:
		return t == TypeConnect && v != nil
	case *proxypb.RefreshResponse:
		return t == TypeRefresh && v != nil
	case *proxypb.SubscribeResponse:
		return t == TypeSubscribe && v != nil
	case *proxypb.PublishResponse:
		return t == TypePublish && v != nil
	case *proxypb.RPCResponse:
		return t == TypeRPC && v != nil
	case *proxypb.SubRefreshResponse:
		return t == TypeSubRefresh && v != nil
	case *proxypb.MapPublishResponse:
		return t == TypeMapPublish && v != nil
	case *proxypb.MapRemoveResponse:
		return t == TypeMapRemove && v != nil
	case *proxypb.SharedPollRefreshResponse:
		return t == TypeSharedPollRefresh && v != nil
	}
	return false
}

// reqAttrs are the log attributes that identify a request. A shared-poll
// refresh has no client; its channel says which poll it was.
func reqAttrs(req Request) []any {
	switch r := req.(type) {
	case *SharedPollRefreshRequest:
		return []any{"type", req.Type().String(), "channel", r.GetChannel()}
	case *RPCRequest:
		return []any{"type", req.Type().String(), "client", req.GetClient(), "method", r.GetMethod()}
	}
	return []any{"type", req.Type().String(), "client", req.GetClient()}
}

// subject names whom a request is for in error messages: the client, or
// the channel of a shared-poll refresh.
func subject(req Request) string {
	if r, ok := req.(*SharedPollRefreshRequest); ok {
		return fmt.Sprintf("channel %q", r.GetChannel())
	}
	return fmt.Sprintf("client %q", req.GetClient())
}

// invoke is dispatch for a known response type P.
func invoke[P Reply](a *App, ctx context.Context, req Request) (P, error) {
	var zero P
	r, err := a.dispatch(ctx, req)
	if err != nil {
		return zero, err
	}
	p, ok := r.(P)
	if !ok { // finish guarantees the type; keep a clean error anyway
		return zero, fmt.Errorf("app: %s reply of type %T", req.Type(), r)
	}
	return p, nil
}
