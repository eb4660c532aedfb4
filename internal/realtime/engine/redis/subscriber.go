package redis

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/rueidis"
	"github.com/spindle-rt/spindle/internal/realtime/engine"
)

// Reconnect backoff of a PUB/SUB connection: quick first retries so a
// Redis restart costs little, capped so a long outage is not hammered.
const (
	minBackoff = 20 * time.Millisecond
	maxBackoff = time.Second
)

// maxBatch bounds how many channels one SUBSCRIBE or UNSUBSCRIBE names.
const maxBatch = 512

// errLost reports a PUB/SUB connection that went away; everything on it is
// resubscribed on a new one.
var errLost = errors.New("pub/sub connection lost")

// target is what a Redis PUB/SUB channel stands for on this node.
type target struct {
	channel string
	control bool
}

// subOp is a queued subscribe or unsubscribe. done is nil for
// unsubscribes, which nobody waits for.
type subOp struct {
	names []string
	sub   bool
	done  chan error
}

// subscriber owns one dedicated PUB/SUB connection (one per shard, or per
// cluster partition). The set of wanted channels lives here, not in
// Redis, so a new connection after a Redis restart or failover is brought
// to the same state by resubscribing all of it.
type subscriber struct {
	client    rueidis.Client
	sharded   bool
	ioTimeout time.Duration
	log       *slog.Logger
	disp      *dispatcher

	mu      sync.RWMutex
	targets map[string]target
	// unsubs counts unsubscribe confirmations this subscriber asked for
	// on the current connection; any other unsubscribe notice for a
	// wanted channel means Redis dropped it (slot migration).
	unsubs map[string]int

	// connects counts connection attempts, so tests can tell a backoff
	// from a tight reconnect loop.
	connects atomic.Int64

	ops  chan subOp
	kick chan struct{}
	stop chan struct{}
	done chan struct{}
}

func newSubscriber(client rueidis.Client, sharded bool, o Options) *subscriber {
	return &subscriber{
		client:    client,
		sharded:   sharded,
		ioTimeout: o.IOTimeout,
		log:       o.Logger,
		targets:   make(map[string]target),
		unsubs:    make(map[string]int),
		ops:       make(chan subOp, 1024),
		kick:      make(chan struct{}, 1),
		stop:      make(chan struct{}),
		done:      make(chan struct{}),
	}
}

// start begins maintaining the connection and delivering to disp.
func (s *subscriber) start(disp *dispatcher) {
	s.disp = disp
	go s.run()
}

// close stops the loop and waits for it to release its connection.
func (s *subscriber) close(ctx context.Context) error {
	select {
	case <-s.stop:
	default:
		close(s.stop)
	}
	select {
	case <-s.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("close pub/sub connection: %w", ctx.Err())
	}
}

// subscribe makes names wanted and waits until Redis confirmed them, or
// fails (leaving them unwanted) so the caller can report it.
func (s *subscriber) subscribe(names []string, t target, wait time.Duration) error {
	s.mu.Lock()
	for _, n := range names {
		s.targets[n] = t
	}
	s.mu.Unlock()
	err := s.request(subOp{names: names, sub: true, done: make(chan error, 1)}, wait)
	if err != nil {
		s.mu.Lock()
		for _, n := range names {
			if s.targets[n] == t {
				delete(s.targets, n)
			}
		}
		s.mu.Unlock()
	}
	return err
}

// unsubscribe makes names unwanted at once (later messages are dropped)
// and queues the UNSUBSCRIBE without waiting for it.
func (s *subscriber) unsubscribe(names []string) error {
	s.mu.Lock()
	for _, n := range names {
		delete(s.targets, n)
	}
	s.mu.Unlock()
	select {
	case s.ops <- subOp{names: names}:
		return nil
	case <-s.stop:
		return fmt.Errorf("unsubscribe: %w", errClosed)
	}
}

func (s *subscriber) request(op subOp, wait time.Duration) error {
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case s.ops <- op:
	case <-s.stop:
		return fmt.Errorf("subscribe: %w", errClosed)
	case <-timer.C:
		return fmt.Errorf("subscribe: queue full for %v: %w", wait, engine.ErrUnavailable)
	}
	select {
	case err := <-op.done:
		return err
	case <-s.stop:
		return fmt.Errorf("subscribe: %w", errClosed)
	case <-timer.C:
		return fmt.Errorf("subscribe: no confirmation from Redis within %v: %w", wait, engine.ErrUnavailable)
	}
}

func (s *subscriber) run() {
	defer close(s.done)
	backoff := minBackoff
	for {
		conn, release, lost, err := s.connect()
		if err == nil {
			began := time.Now()
			err = s.serve(conn, lost)
			release()
			if err == nil {
				return
			}
			if time.Since(began) > maxBackoff {
				// A healthy connection dropped: try again at once.
				s.log.Warn("redis engine: pub/sub connection lost", "error", err)
				backoff = minBackoff
				continue
			}
		}
		// Failing to connect, or losing a connection right away, waits:
		// a dead server must not be dialled in a tight loop.
		s.log.Warn("redis engine: pub/sub connect", "error", err, "retry_in", backoff)
		if !s.idle(backoff, err) {
			return
		}
		backoff = min(backoff*2, maxBackoff)
	}
}

// connect takes a dedicated connection and subscribes every wanted
// channel on it.
func (s *subscriber) connect() (rueidis.DedicatedClient, func(), <-chan error, error) {
	s.connects.Add(1)
	conn, release := s.client.Dedicate()
	lost := conn.SetPubSubHooks(rueidis.PubSubHooks{
		OnMessage:      s.onMessage,
		OnSubscription: s.onSubscription,
	})
	select {
	case <-s.kick: // about the previous connection
	default:
	}
	s.mu.Lock()
	clear(s.unsubs)
	names := make([]string, 0, len(s.targets))
	for n := range s.targets {
		names = append(names, n)
	}
	s.mu.Unlock()
	for len(names) > 0 {
		k := min(len(names), maxBatch)
		if err := s.send(conn, names[:k], true); err != nil {
			release()
			return nil, nil, nil, fmt.Errorf("resubscribe: %w", err)
		}
		names = names[k:]
	}
	// Any ops queued meanwhile are replayed by serve; resubscribing a
	// channel twice is harmless.
	return conn, release, lost, nil
}

// idle waits out a reconnect backoff, failing subscribe requests at once
// (the node answers its client with a temporary error) rather than making
// them wait for Redis to come back. It reports false when stopped.
func (s *subscriber) idle(d time.Duration, cause error) bool {
	timer := time.NewTimer(d)
	defer timer.Stop()
	for {
		select {
		case <-s.stop:
			return false
		case <-timer.C:
			return true
		case op := <-s.ops:
			if op.done != nil {
				op.done <- fmt.Errorf("subscribe: %w: %w", engine.ErrUnavailable, cause)
			}
		}
	}
}

// serve applies queued ops until the connection is lost (error) or the
// subscriber is stopped (nil).
func (s *subscriber) serve(conn rueidis.DedicatedClient, lost <-chan error) error {
	for {
		select {
		case <-s.stop:
			return nil
		case err := <-lost:
			if err == nil {
				err = errLost
			}
			return fmt.Errorf("%w: %w", errLost, err)
		case <-s.kick:
			return fmt.Errorf("%w: Redis dropped a subscription", errLost)
		case op := <-s.ops:
			batch := []subOp{op}
			for len(batch) < maxBatch {
				select {
				case more := <-s.ops:
					batch = append(batch, more)
					continue
				default:
				}
				break
			}
			if err := s.apply(conn, batch); err != nil {
				return err
			}
		}
	}
}

// apply sends a batch of ops in order, merging runs of the same kind into
// single commands, and answers the waiters.
func (s *subscriber) apply(conn rueidis.DedicatedClient, batch []subOp) error {
	for i := 0; i < len(batch); {
		j := i
		var names []string
		for j < len(batch) && batch[j].sub == batch[i].sub && len(names) < maxBatch {
			names = append(names, batch[j].names...)
			j++
		}
		err := s.send(conn, names, batch[i].sub)
		for _, op := range batch[i:j] {
			if op.done != nil {
				if err != nil {
					op.done <- fmt.Errorf("subscribe: %w: %w", engine.ErrUnavailable, err)
				} else {
					op.done <- nil
				}
			}
		}
		if err != nil {
			for _, op := range batch[j:] {
				if op.done != nil {
					op.done <- fmt.Errorf("subscribe: %w: %w", engine.ErrUnavailable, err)
				}
			}
			return err
		}
		i = j
	}
	return nil
}

// send issues one (S)SUBSCRIBE or (S)UNSUBSCRIBE and waits for Redis to
// confirm every channel in it.
func (s *subscriber) send(conn rueidis.DedicatedClient, names []string, sub bool) error {
	var cmd rueidis.Completed
	switch {
	case sub && s.sharded:
		cmd = conn.B().Ssubscribe().Channel(names...).Build()
	case sub:
		cmd = conn.B().Subscribe().Channel(names...).Build()
	case s.sharded:
		cmd = conn.B().Sunsubscribe().Channel(names...).Build()
	default:
		cmd = conn.B().Unsubscribe().Channel(names...).Build()
	}
	if !sub {
		s.mu.Lock()
		for _, n := range names {
			s.unsubs[n]++
		}
		s.mu.Unlock()
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.ioTimeout)
	defer cancel()
	if err := conn.Do(ctx, cmd).Error(); err != nil {
		return fmt.Errorf("redis %s: %w", cmdName(sub, s.sharded), err)
	}
	return nil
}

func cmdName(sub, sharded bool) string {
	name := "UNSUBSCRIBE"
	if sub {
		name = "SUBSCRIBE"
	}
	if sharded {
		name = "S" + name
	}
	return name
}

// onMessage runs on the connection's reader goroutine: it only looks up
// the channel and queues the payload.
func (s *subscriber) onMessage(m rueidis.PubSubMessage) {
	s.mu.RLock()
	t, ok := s.targets[m.Channel]
	s.mu.RUnlock()
	if !ok {
		return
	}
	s.disp.enqueue(event{channel: t.channel, control: t.control, payload: m.Message})
}

// onSubscription notices unsubscribes this subscriber did not ask for and
// makes the loop reconnect, which resubscribes on the right node.
func (s *subscriber) onSubscription(ps rueidis.PubSubSubscription) {
	if ps.Kind != "unsubscribe" && ps.Kind != "sunsubscribe" {
		return
	}
	s.mu.Lock()
	expected := s.unsubs[ps.Channel] > 0
	if expected {
		if s.unsubs[ps.Channel]--; s.unsubs[ps.Channel] == 0 {
			delete(s.unsubs, ps.Channel)
		}
	}
	_, wanted := s.targets[ps.Channel]
	s.mu.Unlock()
	if !expected && wanted {
		select {
		case s.kick <- struct{}{}:
		default:
		}
	}
}
