package proxy

import (
	"context"
	"errors"
	"net/url"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// errNilRequest is returned instead of sending an empty message when the
// node passes a nil request, which would otherwise look like a valid call.
var errNilRequest = errors.New("nil request")

// ctxError marks a transport error caused by the call's context (deadline
// or cancellation), so that callers can test it with errors.Is against
// context.DeadlineExceeded / context.Canceled even when the underlying
// library (gRPC status errors) hides the context error.
type ctxError struct {
	cause error // context.DeadlineExceeded or context.Canceled
	err   error
}

func (e *ctxError) Error() string   { return e.err.Error() }
func (e *ctxError) Unwrap() []error { return []error{e.err, e.cause} }

// Timeout reports whether the call ran out of time, matching the
// net.Error convention so generic timeout checks work too.
func (e *ctxError) Timeout() bool { return e.cause == context.DeadlineExceeded }

// classify tells whether a transport error was a timeout and tidies it.
// ctx is the per-call context, still uncancelled by the caller.
func classify(ctx context.Context, err error) (timeout bool, _ error) {
	var ue *url.Error
	if errors.As(err, &ue) {
		// The endpoint is named by the caller's wrapping already; keep the
		// cause only, not `Post "http://…":` a second time.
		err = ue.Err
	}
	cause := ctx.Err()
	if cause == nil {
		switch status.Code(err) {
		case codes.DeadlineExceeded:
			cause = context.DeadlineExceeded
		case codes.Canceled:
			cause = context.Canceled
		}
	}
	if cause == nil {
		return false, err
	}
	timeout = errors.Is(cause, context.DeadlineExceeded)
	if errors.Is(err, cause) {
		return timeout, err
	}
	return timeout, &ctxError{cause: cause, err: err}
}
