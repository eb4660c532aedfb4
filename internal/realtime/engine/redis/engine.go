package redis

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spindle-rt/spindle/internal/realtime/engine"
)

// Engine keeps broker state, history, presence and map channels in Redis
// so that several nodes share them; it implements engine.Engine and
// engine.MapBroker.
type Engine struct {
	opts   Options
	mode   mode
	shards []*shard
	subs   []*subscriber

	handler atomic.Pointer[dispatcher]
	closed  atomic.Bool
	closeMu sync.Mutex
	// cleanup is the map key expiry loop, started by Run; guarded by
	// closeMu.
	cleanup *mapCleanup
}

var _ engine.Engine = (*Engine)(nil)

// New connects to Redis and returns an engine. Events are delivered only
// after Run. It fails when no configured server answers.
func New(opts Options) (*Engine, error) {
	o, m, err := opts.normalize()
	if err != nil {
		return nil, err
	}
	e := &Engine{opts: o, mode: m}
	var groups [][]string
	switch m {
	case modeStandalone:
		for _, a := range o.Addresses {
			groups = append(groups, []string{a})
		}
	case modeSentinel:
		groups = [][]string{o.SentinelAddresses}
	case modeCluster:
		groups = [][]string{o.ClusterAddresses}
	}
	for _, g := range groups {
		sh, err := e.newShard(g)
		if err != nil {
			e.closeClients()
			return nil, err
		}
		e.shards = append(e.shards, sh)
	}
	return e, nil
}

// NodeID returns the id other nodes use to address this one with
// PublishControl.
func (e *Engine) NodeID() string {
	return e.opts.NodeID
}

// Run starts delivering events to h and subscribes this node's control
// channels, so control messages published after Run returns arrive. It
// may be called once.
func (e *Engine) Run(h engine.EventHandler) error {
	if e.closed.Load() {
		return fmt.Errorf("run: %w", errClosed)
	}
	if h == nil {
		return errors.New("redis engine run: nil event handler")
	}
	e.closeMu.Lock()
	defer e.closeMu.Unlock()
	if e.closed.Load() {
		return fmt.Errorf("run: %w", errClosed)
	}
	if e.handler.Load() != nil {
		return errors.New("redis engine run: already running")
	}
	d := newDispatcher(h, e.opts.Logger)
	e.handler.Store(d)
	for _, s := range e.subs {
		s.start(d)
	}
	e.startMapCleanup()
	ctrl := e.route(controlRoute)
	if err := ctrl.sub.subscribe([]string{ctrl.keys.control()}, target{control: true}, e.subscribeWait()); err != nil {
		return fmt.Errorf("redis engine run: control channel: %w", err)
	}
	node := e.route(nodeRoute + e.opts.NodeID)
	if err := node.sub.subscribe([]string{node.keys.node(e.opts.NodeID)}, target{control: true}, e.subscribeWait()); err != nil {
		return fmt.Errorf("redis engine run: node channel: %w", err)
	}
	return nil
}

// subscribeWait bounds how long Subscribe waits for Redis, including one
// reconnect attempt.
func (e *Engine) subscribeWait() time.Duration {
	return e.opts.ConnectTimeout + 2*e.opts.IOTimeout
}

// Close stops delivery and disconnects. Closing twice is harmless. It
// returns early with ctx's error if ctx ends first.
func (e *Engine) Close(ctx context.Context) error {
	if ctx == nil {
		ctx = context.Background()
	}
	e.closeMu.Lock()
	defer e.closeMu.Unlock()
	if e.closed.Swap(true) {
		return nil
	}
	var errs []error
	if err := e.stopMapCleanup(ctx); err != nil {
		errs = append(errs, err)
	}
	running := e.handler.Load() != nil
	if running {
		for _, s := range e.subs {
			if err := s.close(ctx); err != nil {
				errs = append(errs, err)
			}
		}
	}
	e.closeClients()
	if d := e.handler.Load(); d != nil {
		done := make(chan struct{})
		go func() {
			d.close()
			close(done)
		}()
		select {
		case <-done:
		case <-ctx.Done():
			errs = append(errs, fmt.Errorf("close redis engine: waiting for handlers: %w", ctx.Err()))
		}
	}
	return errors.Join(errs...)
}

func (e *Engine) closeClients() {
	for _, sh := range e.shards {
		sh.client.Close()
	}
}
