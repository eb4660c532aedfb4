// Package workerbridge makes worker processes (internal/appserver/worker)
// answer the proxied events of an app.App: it turns each app.Request into
// the goridge payload RoadRunner's centrifuge plugin sends, and the
// worker's reply back into the response of the request's type. Monitor
// observes the pool for metrics and the /health and /ready probes.
//
// It lives outside package app because its API is made of the worker
// package's types, which users of the public SDK cannot name, and a Go
// program has no worker pool to give it anyway: only `spindle app`
// (internal/wiring/appserver) runs workers.
package workerbridge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"

	"google.golang.org/protobuf/proto"

	"github.com/spindle-rt/spindle/app"
	"github.com/spindle-rt/spindle/internal/appserver/worker"
	"github.com/spindle-rt/spindle/internal/appserver/worker/frame"
	"github.com/spindle-rt/spindle/proto/proxypb"
)

// Executor runs one request on an application worker and returns its
// reply. *worker.Pool and *Monitor implement it; tests substitute fakes.
type Executor interface {
	Exec(ctx context.Context, p worker.Payload) (worker.Payload, error)
}

// Handler returns an app.Handler that answers any event type by handing
// the request to a worker process, exactly as RoadRunner's centrifuge
// plugin does, so workers written for RoadRunner (roadrunner-php/centrifugo,
// or the examples under examples/workers) run unchanged:
//
//   - Context: JSON object of the call's metadata (Request.Header), keys
//     lower-cased, each value an array, with "type" set — not appended —
//     to Type.String(): connect, refresh, subscribe, publish, rpc or
//     subrefresh; map_publish and map_remove for the map events and
//     shared_poll_refresh for shared-poll channels, which RoadRunner's
//     plugin does not have (the names are ours; see app.Type).
//   - Body: the protobuf encoding of the proxypb request; codec flag proto.
//   - Reply Body: the protobuf proxypb response of the same event type; an
//     empty body is an empty response.
//
// The worker runs under the call's deadline (the pool applies the smaller
// of it and exec_ttl and kills a worker that overruns). A worker's ERROR
// frame becomes error 100 (temporary) with the worker's message logged;
// any other failure (queue full, no free worker, timeout, crash, garbage
// reply) takes the App's internal-error path, also error 100. A nil
// logger means slog.Default().
func Handler(ex Executor, log *slog.Logger) app.Handler {
	return HandlerWith(ex, log, Options{})
}

// Options shape what workers receive.
type Options struct {
	// SubRefreshType is the "type" a subscription refresh carries:
	// "subrefresh" (RoadRunner; the default when empty) or "sub_refresh"
	// (what roadrunner-php/centrifugo 2.x understands).
	SubRefreshType string

	// hint is set once the handler has said how to fix a worker that never
	// answers subscription refreshes, so it says it once.
	hint *atomic.Bool
}

// HandlerWith is Handler with Options.
func HandlerWith(ex Executor, log *slog.Logger, o Options) app.Handler {
	if log == nil {
		log = slog.Default()
	}
	o.hint = new(atomic.Bool)
	return func(ctx context.Context, req app.Request) (app.Reply, error) {
		return execOnWorker(ctx, ex, log, o, req)
	}
}

// Use makes ex answer the given event types of a (every type, map and
// shared-poll events included, when none are given), logging through a's
// logger. A worker that does not know a type it is sent fails that call
// only; the map events reach workers only when the server's map
// namespaces point their publish/remove proxies at this app, and
// shared_poll_refresh only when a shared_poll namespace's proxy does. For
// TypeRPC the workers become the RPC fallback (see app.App.Handle):
// methods registered with HandleRPC keep going to their Go services, every
// other method goes to a worker. Interceptors still run first.
func Use(a *app.App, ex Executor, types ...app.Type) {
	UseWith(a, ex, Options{}, types...)
}

// UseWith is Use with Options.
func UseWith(a *app.App, ex Executor, o Options, types ...app.Type) {
	if len(types) == 0 {
		types = app.Types()
	}
	log := a.Logger()
	h := HandlerWith(ex, log, o)
	for _, t := range types {
		if !t.Valid() {
			log.Warn("app: workers registered for an unknown event type; ignored", "type", int(t))
			continue
		}
		a.Handle(t, h)
	}
}

// workerErrorReply answers a worker's ERROR frame. The worker's message
// is logged, not sent: it may carry internals the client must not see.
var workerErrorReply = &app.Error{Code: app.CodeInternal, Message: "internal server error", Temporary: true}

func execOnWorker(ctx context.Context, ex Executor, log *slog.Logger, o Options, req app.Request) (app.Reply, error) {
	body, err := proto.Marshal(req.Proto())
	if err != nil {
		return nil, fmt.Errorf("workers: encoding %s request: %w", req.Type(), err)
	}
	hdr, err := contextWith(req, o)
	if err != nil {
		return nil, err
	}
	out, err := ex.Exec(ctx, worker.Payload{Context: hdr, Body: body, Codec: frame.CodecProto})
	if err != nil {
		var we *worker.WorkerError
		if errors.As(err, &we) {
			log.Error("app: worker answered with an error frame; answering error 100",
				append(reqAttrs(req), "pid", we.PID, "worker_error", we.Message)...)
			return nil, workerErrorReply
		}
		if req.Type() == app.TypeSubRefresh && o.hint != nil && o.hint.CompareAndSwap(false, true) {
			typ := o.SubRefreshType
			if typ == "" {
				typ = app.TypeSubRefresh.String()
			}
			other := map[string]string{"subrefresh": "sub_refresh", "sub_refresh": "subrefresh"}[typ]
			log.Warn(fmt.Sprintf("workers did not answer a subscription refresh sent as type %q: a worker SDK that only knows %q never answers it "+
				"(roadrunner-php/centrifugo 2.x knows \"sub_refresh\"); set centrifuge.sub_refresh_type: %s if that is yours", typ, other, other),
				"error", err)
		}
		return nil, fmt.Errorf("workers: %s: %w", req.Type(), err)
	}
	rep, err := emptyReply(req)
	if err != nil {
		return nil, err
	}
	if err := proto.Unmarshal(out.Body, rep); err != nil {
		return nil, fmt.Errorf("workers: decoding the worker's %s reply (%d bytes) as %T: %w",
			req.Type(), len(out.Body), rep, err)
	}
	return rep, nil
}

// emptyReply is an empty response of req's own type, for the worker's
// reply to be decoded into. A switch here rather than a helper in app:
// the response types are public already, and app.Request is sealed,
// so the switch cannot fall out of date silently (the default case
// reports a type it does not know).
func emptyReply(req app.Request) (app.Reply, error) {
	switch req.Type() {
	case app.TypeConnect:
		return &proxypb.ConnectResponse{}, nil
	case app.TypeRefresh:
		return &proxypb.RefreshResponse{}, nil
	case app.TypeSubscribe:
		return &proxypb.SubscribeResponse{}, nil
	case app.TypePublish:
		return &proxypb.PublishResponse{}, nil
	case app.TypeRPC:
		return &proxypb.RPCResponse{}, nil
	case app.TypeSubRefresh:
		return &proxypb.SubRefreshResponse{}, nil
	case app.TypeMapPublish:
		return &proxypb.MapPublishResponse{}, nil
	case app.TypeMapRemove:
		return &proxypb.MapRemoveResponse{}, nil
	case app.TypeSharedPollRefresh:
		return &proxypb.SharedPollRefreshResponse{}, nil
	}
	return nil, fmt.Errorf("workers: no response type for event type %d", int(req.Type()))
}

// reqAttrs are the log attributes that identify a request, the same the
// App logs its own failures with: a shared-poll refresh has no client, so
// its channel names it.
func reqAttrs(req app.Request) []any {
	switch r := req.(type) {
	case *app.SharedPollRefreshRequest:
		return []any{"type", req.Type().String(), "channel", r.GetChannel()}
	case *app.RPCRequest:
		return []any{"type", req.Type().String(), "client", req.GetClient(), "method", r.GetMethod()}
	}
	return []any{"type", req.Type().String(), "client", req.GetClient()}
}

// Context returns the Context a worker receives with req: the metadata
// as a JSON object of arrays, keys lower-cased, "type" set to the
// RoadRunner type name. It is exported so other transports to workers
// (and tests) build exactly the same bytes.
func Context(req app.Request) ([]byte, error) { return contextWith(req, Options{}) }

// contextWith is Context with the type names of o.
func contextWith(req app.Request, o Options) ([]byte, error) {
	h := req.Header()
	m := make(map[string][]string, len(h)+1)
	for k, vs := range h {
		k = strings.ToLower(k)
		if k == "type" {
			continue // set below: a forwarded "type" header must not mis-route the worker
		}
		m[k] = append(m[k], vs...)
	}
	typ := req.Type().String()
	if req.Type() == app.TypeSubRefresh && o.SubRefreshType != "" {
		typ = o.SubRefreshType
	}
	m["type"] = []string{typ}
	b, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("workers: encoding %s context: %w", req.Type(), err)
	}
	return b, nil
}
