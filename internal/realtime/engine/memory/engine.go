// Package memory is the single-node engine: broker, history streams and
// presence kept in process memory. It is the default engine and the
// reference the contract suite (engine/enginetest) was written against.
package memory

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spindle-rt/spindle/internal/realtime/engine"
)

// Defaults used when the matching Options field is zero.
const (
	DefaultPresenceTTL         = 60 * time.Second
	DefaultHistoryMetaTTL      = 720 * time.Hour
	DefaultIdempotentResultTTL = 5 * time.Minute
	DefaultSweepInterval       = time.Second
)

// numShards spreads channels over independent locks so that unrelated
// channels do not contend; a power of two keeps the modulo cheap.
const numShards = 128

// ErrClosed is returned by every call made after Close. It wraps
// engine.ErrUnavailable so the node treats it like any backend outage.
var ErrClosed = fmt.Errorf("memory engine closed: %w", engine.ErrUnavailable)

// Options tunes lifetimes. Zero values mean the defaults above, so the zero
// Options is a valid production configuration.
type Options struct {
	// PresenceTTL is how long a presence entry lives without being
	// refreshed by AddPresence.
	PresenceTTL time.Duration
	// HistoryMetaTTL is how long a stream's epoch and top offset outlive
	// the last publication when the publish or history call names none.
	HistoryMetaTTL time.Duration
	// IdempotentResultTTL is how long a publish result is remembered for
	// its idempotency key when the publish names no lifetime.
	IdempotentResultTTL time.Duration
	// SweepInterval is how often expired streams, presence entries and
	// idempotency results are purged from memory. Expiry is also applied
	// lazily on access, so this only bounds memory, not correctness.
	SweepInterval time.Duration
	// Now replaces the wall clock, letting tests move time by hand.
	Now func() time.Time
}

// Engine keeps all state in memory; it implements engine.Engine for a
// single node.
type Engine struct {
	presenceTTL time.Duration
	metaTTL     time.Duration
	idemTTL     time.Duration
	now         func() time.Time

	seed   maphash.Seed
	shards [numShards]shard

	handler atomic.Pointer[handlerBox]
	closed  atomic.Bool

	ctrl controlQueue

	closeOnce sync.Once
	stop      chan struct{}
	sweeperWG sync.WaitGroup
}

// handlerBox lets the handler interface sit behind an atomic pointer.
type handlerBox struct {
	h engine.EventHandler
}

var _ engine.Engine = (*Engine)(nil)

// New builds an engine and starts its background sweeper; call Close to
// stop it.
func New(opts Options) *Engine {
	e := &Engine{
		presenceTTL: orDefault(opts.PresenceTTL, DefaultPresenceTTL),
		metaTTL:     orDefault(opts.HistoryMetaTTL, DefaultHistoryMetaTTL),
		idemTTL:     orDefault(opts.IdempotentResultTTL, DefaultIdempotentResultTTL),
		now:         opts.Now,
		seed:        maphash.MakeSeed(),
		stop:        make(chan struct{}),
	}
	if e.now == nil {
		e.now = time.Now
	}
	for i := range e.shards {
		e.shards[i].channels = make(map[string]*channelState)
	}
	interval := orDefault(opts.SweepInterval, DefaultSweepInterval)
	e.sweeperWG.Add(1)
	go e.runSweeper(interval)
	return e
}

func orDefault(v, def time.Duration) time.Duration {
	if v > 0 {
		return v
	}
	return def
}

// Run installs the handler that receives deliveries. It may be called only
// once, as the engine.Broker contract says.
func (e *Engine) Run(h engine.EventHandler) error {
	if e.closed.Load() {
		return fmt.Errorf("run: %w", ErrClosed)
	}
	if h == nil {
		return errors.New("memory engine run: nil event handler")
	}
	if !e.handler.CompareAndSwap(nil, &handlerBox{h: h}) {
		return errors.New("memory engine run: already running")
	}
	return nil
}

// Close stops the sweeper. Later calls fail with ErrClosed; closing twice
// is harmless. It returns early with ctx's error if ctx ends first.
func (e *Engine) Close(ctx context.Context) error {
	if ctx == nil {
		ctx = context.Background()
	}
	e.closeOnce.Do(func() {
		e.closed.Store(true)
		close(e.stop)
	})
	done := make(chan struct{})
	go func() {
		e.sweeperWG.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("close memory engine: %w", ctx.Err())
	}
}

// check rejects calls on a closed engine or with an ended context. A nil
// context is tolerated rather than panicking.
func (e *Engine) check(ctx context.Context, op string) error {
	if err := e.checkOpen(op); err != nil {
		return err
	}
	if ctx != nil {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
	}
	return nil
}

// checkOpen rejects calls on a closed engine.
func (e *Engine) checkOpen(op string) error {
	if e.closed.Load() {
		return fmt.Errorf("%s: %w", op, ErrClosed)
	}
	return nil
}

// eventHandler returns the installed handler or nil before Run.
func (e *Engine) eventHandler() engine.EventHandler {
	if b := e.handler.Load(); b != nil {
		return b.h
	}
	return nil
}

func (e *Engine) shardFor(channel string) *shard {
	return &e.shards[maphash.String(e.seed, channel)%numShards]
}
