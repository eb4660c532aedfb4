package redis

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/rueidis"
	"github.com/spindle-rt/spindle/internal/realtime/engine"
)

// This file holds the per-call plumbing shared by every operation.

// errClosed is returned by every call made after Close. It wraps
// engine.ErrUnavailable so the node treats it like any backend outage.
var errClosed = fmt.Errorf("redis engine closed: %w", engine.ErrUnavailable)

// begin rejects calls on a closed engine and bounds calls that came
// without a deadline by IOTimeout.
func (e *Engine) begin(ctx context.Context, op string) (context.Context, context.CancelFunc, error) {
	if e.closed.Load() {
		return nil, nil, fmt.Errorf("%s: %w", op, errClosed)
	}
	if ctx == nil {
		ctx = context.Background()
	}
	if err := ctx.Err(); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", op, err)
	}
	if _, ok := ctx.Deadline(); ok {
		return ctx, func() {}, nil
	}
	c, cancel := context.WithTimeout(ctx, e.opts.IOTimeout)
	return c, cancel, nil
}

// fail wraps a Redis failure. Network problems, timeouts and the replies
// Redis gives while it cannot serve (loading, failover, cluster down)
// wrap engine.ErrUnavailable; an ended caller context and other error
// replies are returned as they are.
func fail(ctx context.Context, op string, err error) error {
	if ctx.Err() != nil && errors.Is(err, context.Canceled) {
		return fmt.Errorf("%s: %w", op, err)
	}
	if re, ok := rueidis.IsRedisErr(err); ok {
		msg := re.Error()
		transient := re.IsLoading() || re.IsClusterDown() || re.IsTryAgain() ||
			strings.HasPrefix(msg, "MASTERDOWN") || strings.HasPrefix(msg, "READONLY") ||
			strings.HasPrefix(msg, "BUSY") || strings.HasPrefix(msg, "NOREPLICAS")
		if !transient {
			return fmt.Errorf("%s: redis: %w", op, err)
		}
	}
	return fmt.Errorf("%s: %w: %w", op, engine.ErrUnavailable, err)
}

// ms formats a duration as whole milliseconds, at least 1 so that a
// sub-millisecond TTL never means "no expiry".
func ms(d time.Duration) string {
	v := d.Milliseconds()
	if v < 1 {
		v = 1
	}
	return strconv.FormatInt(v, 10)
}
