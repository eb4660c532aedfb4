package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/spindle-rt/spindle/internal/realtime/auth"
	"github.com/spindle-rt/spindle/internal/realtime/engine"
	"github.com/spindle-rt/spindle/internal/version"
)

// Version is reported to clients in the connect reply and in the info API.
var Version = version.Version

// TokenVerifier checks connection and subscription JWTs; auth.Verifier
// satisfies it.
type TokenVerifier interface {
	VerifyConnectToken(ctx context.Context, token string) (auth.ConnectToken, error)
	VerifySubscribeToken(ctx context.Context, token string) (auth.SubscribeToken, error)
}

// Options are the parts a Node is built from.
type Options struct {
	// ID is this node's unique id; empty means a fresh random one. The
	// server passes the id it gave the engine, so node-to-node control
	// messages addressed to this node arrive.
	ID     string
	Engine engine.Engine
	// MapBroker keeps map channels; nil means map subscriptions and the
	// map API answer 108 (not available). It may be the Engine itself.
	MapBroker engine.MapBroker
	// ConnectTokens verifies connection tokens, SubTokens subscription
	// tokens; either may be nil when no token settings are configured.
	ConnectTokens TokenVerifier
	SubTokens     TokenVerifier
	Logger        *slog.Logger
	Metrics       *Metrics
}

// Node is one `spindle server` process's view of the system.
type Node struct {
	id   string
	name string
	// cur is the configuration in force; Reconfigure swaps it whole (see
	// settings).
	cur     atomic.Pointer[settings]
	engine  engine.Engine
	maps    engine.MapBroker
	log     *slog.Logger
	metrics *Metrics
	hub     *hub
	// sessions finds emulated connections for the emulation endpoint.
	sessions sessionIndex
	// polls is this node's shared-poll channel states (sharedpoll.go).
	polls pollChannels
	// deltaBases is each channel's last delta-eligible publication.
	deltaBases deltaBases
	// subLocks serialise "first subscriber → broker subscribe" against
	// "last subscriber gone → broker unsubscribe" per channel shard.
	subLocks [hubShards]sync.Mutex
	started  time.Time
	// now is the clock of the command rate limit; tests replace it before
	// any client connects.
	now func() time.Time

	mu       sync.Mutex
	shutdown bool
	running  bool // Run has started the announcer
	nodes    *nodeRegistry
	done     chan struct{}
	// announcerDone is closed when the announcer has returned after done.
	announcerDone chan struct{}
}

// New builds a node. cfg is copied; the *Proxy values it points to are
// shared and must not change afterwards.
func New(cfg Config, opts Options) (*Node, error) {
	if opts.Engine == nil {
		return nil, errors.New("node: no engine")
	}
	s, err := newSettings(cfg, opts.ConnectTokens, opts.SubTokens)
	if err != nil {
		return nil, err
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	name := cfg.Name
	if name == "" {
		name, _ = os.Hostname()
	}
	id := opts.ID
	if id == "" {
		id = uuid.NewString()
	}
	n := &Node{
		id:      id,
		name:    name,
		engine:  opts.Engine,
		maps:    opts.MapBroker,
		log:     log,
		metrics: opts.Metrics,
		started: time.Now(),
		now:     time.Now,
		done:    make(chan struct{}),

		announcerDone: make(chan struct{}),
	}
	if n.metrics == nil {
		n.metrics = NewMetrics(nil)
	}
	n.cur.Store(s)
	n.hub = newHub()
	n.nodes = newNodeRegistry(n)
	return n, nil
}

// ID is this node's unique id (changes on every start).
func (n *Node) ID() string { return n.id }

// Name is this node's configured or derived name.
func (n *Node) Name() string { return n.name }

// Run connects the node to its engine; call it once before accepting
// connections.
func (n *Node) Run() error {
	h := &eventHandler{n: n}
	if err := n.engine.Run(h); err != nil {
		return fmt.Errorf("node: start engine: %w", err)
	}
	if n.separateMaps() {
		if err := n.maps.Run(h); err != nil {
			return fmt.Errorf("node: start map broker: %w", err)
		}
	}
	n.mu.Lock()
	n.running = true
	n.mu.Unlock()
	go n.nodes.run(n.done, n.announcerDone)
	go n.retireIdleWriters(n.done)
	return nil
}

// writerSweepInterval is how often the node ends the writer goroutines of
// connections that had nothing to write since the previous sweep: an idle
// connection keeps a writer for one to two intervals.
const writerSweepInterval = time.Second

// retireIdleWriters ends idle connections' writer goroutines (queue.go)
// until done is closed.
func (n *Node) retireIdleWriters(done <-chan struct{}) {
	t := time.NewTicker(writerSweepInterval)
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case <-t.C:
			for _, c := range n.hub.allClients() {
				c.q.retire()
			}
		}
	}
}

// Shutdown refuses new connections (NewClient returns DisconnectShutdown),
// tells the other nodes this one is leaving so their info drops it at
// once, disconnects every client with the shutdown code (SDKs reconnect,
// possibly to another node), waits until their queues are flushed or ctx
// ends, and closes the engine.
func (n *Node) Shutdown(ctx context.Context) error {
	n.mu.Lock()
	if n.shutdown {
		n.mu.Unlock()
		return nil
	}
	n.shutdown = true
	running := n.running
	close(n.done)
	n.mu.Unlock()

	if running {
		// The announcer's last announcement must not overtake the leave
		// message and bring this node back into the others' tables.
		select {
		case <-n.announcerDone:
		case <-ctx.Done():
		}
		if err := n.nodes.leave(ctx); err != nil {
			n.log.Warn("tell other nodes about the shutdown", "error", err)
		}
	}

	clients := n.hub.allClients()
	var wg sync.WaitGroup
	for _, c := range clients {
		wg.Add(1)
		go func(c *Client) {
			defer wg.Done()
			c.Disconnect(DisconnectShutdown)
			c.waitClosed(ctx)
		}(c)
	}
	waited := make(chan struct{})
	go func() { wg.Wait(); close(waited) }()
	select {
	case <-waited:
	case <-ctx.Done():
	}
	n.polls.stopAll()
	if c, ok := n.maps.(interface{ Close(context.Context) error }); ok && n.separateMaps() {
		if err := c.Close(ctx); err != nil {
			n.log.Warn("close map broker", "error", err)
		}
	}
	return n.engine.Close(ctx)
}

// separateMaps says the map broker is not the engine itself, so it is
// run and closed on its own.
func (n *Node) separateMaps() bool {
	if n.maps == nil {
		return false
	}
	e, ok := n.maps.(engine.Engine)
	return !ok || e != n.engine
}

func (n *Node) isShutdown() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.shutdown
}

// NumClients is the number of connections on this node.
func (n *Node) NumClients() int { return n.hub.numClients() }

// NumUsers is the number of distinct users connected to this node.
func (n *Node) NumUsers() int { return n.hub.numUsers() }

// NumChannels is the number of channels with subscribers on this node.
func (n *Node) NumChannels() int { return n.hub.numChannels() }

// NumSubscriptions is the total number of subscriptions on this node.
func (n *Node) NumSubscriptions() int { return n.hub.numSubscriptions() }
