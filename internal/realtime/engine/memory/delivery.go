package memory

import (
	"sync"

	"github.com/spindle-rt/spindle/internal/realtime/engine"
)

type eventKind uint8

const (
	eventPublication eventKind = iota + 1
	eventJoin
	eventLeave
)

// event is one delivery waiting in a channel's queue.
type event struct {
	kind eventKind
	pub  *engine.Publication
	sp   engine.StreamPosition
	info *engine.ClientInfo
}

// enqueue adds ev if the channel is subscribed and reports whether the
// caller must start draining: the first publisher to find the queue idle
// delivers every queued event, so order is kept without a per-channel
// goroutine and without holding the shard lock while the handler runs.
// Callers hold the shard lock.
func (cs *channelState) enqueue(ev event) bool {
	if !cs.subscribed {
		return false
	}
	cs.queue = append(cs.queue, ev)
	if cs.draining {
		return false
	}
	cs.draining = true
	return true
}

// drain delivers the channel's queued events in order until the queue is
// empty. The shard lock is taken only to swap buffers, never while the
// handler runs, so the handler may call back into the engine, even to
// publish to the same channel (that event is queued and delivered by this
// loop right after).
func (e *Engine) drain(h engine.EventHandler, sh *shard, channel string, cs *channelState) {
	var batch []event
	finished := false
	defer func() {
		if !finished {
			// The handler panicked: release the queue so later
			// publishes still get delivered, then let the panic go on.
			sh.mu.Lock()
			cs.draining = false
			cs.queue = cs.queue[:0]
			sh.mu.Unlock()
		}
	}()
	for {
		sh.mu.Lock()
		if batch != nil {
			clear(batch)
			cs.spare = batch[:0]
		}
		if len(cs.queue) == 0 {
			cs.draining = false
			sh.dropIfEmpty(channel, cs)
			sh.mu.Unlock()
			finished = true
			return
		}
		batch = cs.queue
		cs.queue, cs.spare = cs.spare, nil
		sh.mu.Unlock()
		for i := range batch {
			dispatch(h, channel, &batch[i])
		}
	}
}

// dispatch hands one event to the handler. Handler errors concern the
// node's own fan-out and cannot be fixed by the engine, so they are
// dropped here.
func dispatch(h engine.EventHandler, channel string, ev *event) {
	switch ev.kind {
	case eventPublication:
		_ = h.HandlePublication(channel, ev.pub, ev.sp)
	case eventJoin:
		_ = h.HandleJoin(channel, ev.info)
	case eventLeave:
		_ = h.HandleLeave(channel, ev.info)
	}
}

// controlQueue orders control messages the same way channel queues order
// channel events.
type controlQueue struct {
	mu       sync.Mutex
	queue    [][]byte
	draining bool
}

func (q *controlQueue) publish(h engine.EventHandler, data []byte) {
	q.mu.Lock()
	q.queue = append(q.queue, data)
	if q.draining {
		q.mu.Unlock()
		return
	}
	q.draining = true
	q.mu.Unlock()

	finished := false
	defer func() {
		if !finished {
			q.mu.Lock()
			q.draining = false
			q.queue = nil
			q.mu.Unlock()
		}
	}()
	for {
		q.mu.Lock()
		batch := q.queue
		q.queue = nil
		if len(batch) == 0 {
			q.draining = false
			q.mu.Unlock()
			finished = true
			return
		}
		q.mu.Unlock()
		for _, d := range batch {
			_ = h.HandleControl(d)
		}
	}
}
