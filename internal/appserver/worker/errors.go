package worker

import (
	"errors"
	"fmt"
)

// Errors returned by Pool.Exec and friends; they are wrapped with details,
// so test with errors.Is. The app layer maps them to gRPC statuses.
var (
	// ErrQueueFull: max_queue_size requests are already waiting for a worker.
	ErrQueueFull = errors.New("worker pool queue is full (pool.max_queue_size reached)")
	// ErrNoFreeWorkers: no worker became free within allocate_timeout or the
	// caller's deadline.
	ErrNoFreeWorkers = errors.New("no free workers in the pool")
	// ErrPoolDestroyed: the pool is shutting down or gone.
	ErrPoolDestroyed = errors.New("worker pool is destroyed")
	// ErrEmptyPayload: both context and body are empty; PHP workers treat
	// such a payload as "stop", so it is never sent.
	ErrEmptyPayload = errors.New("empty payload")
	// ErrExecTimeout: the worker did not answer within min(exec_ttl, caller's
	// deadline); it was killed and is being replaced.
	ErrExecTimeout = errors.New("worker execution timed out")
	// ErrWorkerCrashed: the worker process died or closed its relay while
	// handling the request.
	ErrWorkerCrashed = errors.New("worker crashed")
	// ErrWorkerBroken: the worker broke the protocol (garbage on stdout, a
	// malformed reply); it was killed and is being replaced.
	ErrWorkerBroken = errors.New("worker broke the goridge protocol")
	// ErrWorkerStopped: the request was retried after workers asked to stop
	// ({"stop":true} replies) until the retry budget ran out.
	ErrWorkerStopped = errors.New("workers kept asking to stop")
	// ErrSpawn: a worker could not be started or failed its handshake.
	ErrSpawn = errors.New("failed to spawn a worker")
)

// WorkerError is a soft error: the worker answered with a goridge ERROR
// frame (PHP $worker->error()). The worker stays in service.
type WorkerError struct {
	// PID of the worker that answered.
	PID int
	// Message is the frame payload as sent by the worker.
	Message string
}

// Error returns the worker's message.
func (e *WorkerError) Error() string {
	return fmt.Sprintf("worker %d replied with an error: %s", e.PID, e.Message)
}
