package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"google.golang.org/protobuf/proto"

	"github.com/spindle-rt/spindle/internal/appserver/worker"
	"github.com/spindle-rt/spindle/internal/appserver/worker/frame"
	"github.com/spindle-rt/spindle/proto/proxypb"
)

// WorkerExecutor runs one request on an application worker and returns
// its reply. *worker.Pool implements it; tests substitute fakes.
type WorkerExecutor interface {
	Exec(ctx context.Context, p worker.Payload) (worker.Payload, error)
}

// WorkerHandler returns a Handler that answers any event type by handing
// the request to a worker process, exactly as RoadRunner's centrifuge
// plugin does, so workers written for RoadRunner (roadrunner-php/centrifugo,
// or the examples under examples/workers) run unchanged:
//
//   - Context: JSON object of the call's metadata (Request.Header), keys
//     lower-cased, each value an array, with "type" set — not appended —
//     to Type.String(): connect, refresh, subscribe, publish, rpc or
//     subrefresh.
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
func WorkerHandler(ex WorkerExecutor, log *slog.Logger) Handler {
	if log == nil {
		log = slog.Default()
	}
	return func(ctx context.Context, req Request) (Reply, error) {
		return execOnWorker(ctx, ex, log, req)
	}
}

// UseWorkers makes ex answer the given event types (all six when none are
// given). For TypeRPC the workers become the RPC fallback: methods
// registered with HandleRPC keep going to their Go services, every other
// method goes to a worker. Interceptors still run first.
func (a *App) UseWorkers(ex WorkerExecutor, types ...Type) {
	if len(types) == 0 {
		types = Types()
	}
	h := WorkerHandler(ex, a.log)
	for _, t := range types {
		switch {
		case !t.Valid():
			a.log.Warn("app: workers registered for an unknown event type; ignored", "type", int(t))
		case t == TypeRPC:
			a.HandleRPCFallback(func(ctx context.Context, r *RPCRequest) (*proxypb.RPCResponse, error) {
				rep, err := h(ctx, r)
				if err != nil {
					return nil, err
				}
				resp, ok := rep.(*proxypb.RPCResponse)
				if !ok {
					return nil, fmt.Errorf("app: worker rpc reply of type %T", rep)
				}
				return resp, nil
			})
		default:
			a.setService(t, h)
		}
	}
}

// workerErrorReply answers a worker's ERROR frame. The worker's message
// is logged, not sent: it may carry internals the client must not see.
var workerErrorReply = &Error{Code: CodeInternal, Message: "internal server error", Temporary: true}

func execOnWorker(ctx context.Context, ex WorkerExecutor, log *slog.Logger, req Request) (Reply, error) {
	body, err := proto.Marshal(req.Proto())
	if err != nil {
		return nil, fmt.Errorf("workers: encoding %s request: %w", req.Type(), err)
	}
	hdr, err := WorkerContext(req)
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
		return nil, fmt.Errorf("workers: %s: %w", req.Type(), err)
	}
	rep := req.reply(nil, nil) // an empty response of the request's own type
	if err := proto.Unmarshal(out.Body, rep); err != nil {
		return nil, fmt.Errorf("workers: decoding the worker's %s reply (%d bytes) as %T: %w",
			req.Type(), len(out.Body), rep, err)
	}
	return rep, nil
}

// WorkerContext returns the Context a worker receives with req: the
// metadata as a JSON object of arrays, keys lower-cased, "type" set to
// the RoadRunner type name. It is exported so other transports to
// workers (and tests) build exactly the same bytes.
func WorkerContext(req Request) ([]byte, error) {
	h := req.Header()
	m := make(map[string][]string, len(h)+1)
	for k, vs := range h {
		k = strings.ToLower(k)
		if k == "type" {
			continue // set below: a forwarded "type" header must not mis-route the worker
		}
		m[k] = append(m[k], vs...)
	}
	m["type"] = []string{req.Type().String()}
	b, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("workers: encoding %s context: %w", req.Type(), err)
	}
	return b, nil
}
