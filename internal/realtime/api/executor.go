package api

import (
	"context"
	"log/slog"
	"sync"

	"github.com/spindle-rt/spindle/proto/apipb"
)

// RPCHandler serves one method of the `rpc` API command. OSS Centrifugo has
// no built-in ones; the hook exists so the server can add its own without
// touching the transports. params and the returned data are raw JSON (or
// raw bytes over gRPC). A returned *node.Error keeps its code; any other
// error becomes 100.
type RPCHandler func(ctx context.Context, params []byte) ([]byte, error)

// ExecutorOptions configures an Executor.
type ExecutorOptions struct {
	// Logger receives internal errors (whose details callers never see).
	// Nil means slog.Default().
	Logger *slog.Logger
	// RPC maps `rpc` method names to handlers. Nil means none: every rpc
	// call answers 104.
	RPC map[string]RPCHandler
}

// Executor runs server API commands against the node. Every transport
// goes through it, so HTTP, gRPC and batch commands share one set of
// validation rules and error codes. Methods never return nil and never
// panic on any request content; problems are reported in the response's
// Error field.
type Executor struct {
	node Node
	log  *slog.Logger
	rpc  map[string]RPCHandler
}

// NewExecutor returns an Executor over n.
func NewExecutor(n Node, opts ExecutorOptions) *Executor {
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	rpc := make(map[string]RPCHandler, len(opts.RPC))
	for k, v := range opts.RPC {
		if v != nil {
			rpc[k] = v
		}
	}
	return &Executor{node: n, log: log, rpc: rpc}
}

// fail turns err into an API error, logging the cause of internal ones
// because the caller only sees "internal server error".
func (e *Executor) fail(ctx context.Context, method string, err error, attrs ...any) *apipb.Error {
	apiErr, internal := toAPIError(err)
	if internal {
		e.log.ErrorContext(ctx, "server API call failed", append([]any{"method", method, "error", err}, attrs...)...)
	}
	return apiErr
}

// maxConcurrency bounds the goroutines one broadcast or parallel batch
// starts, so a huge request cannot spawn unbounded work.
const maxConcurrency = 1024

// forEach calls fn(i) for i in [0,n) on up to maxConcurrency goroutines
// and returns when all calls have returned.
func forEach(n int, fn func(i int)) {
	if n == 1 {
		fn(0)
		return
	}
	sem := make(chan struct{}, min(n, maxConcurrency))
	var wg sync.WaitGroup
	wg.Add(n)
	for i := range n {
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			fn(i)
		}()
	}
	wg.Wait()
}
