package memory

import "time"

// runSweeper purges expired state periodically so channels nobody touches
// again do not hold memory forever; lazy expiry alone would keep them.
func (e *Engine) runSweeper(interval time.Duration) {
	defer e.sweeperWG.Done()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-e.stop:
			return
		case <-t.C:
			e.sweep()
		}
	}
}

// sweep applies expiry to every channel, one shard at a time so other
// shards stay available meanwhile.
func (e *Engine) sweep() {
	type queued struct {
		ch string
		cs *channelState
	}
	var deliver []queued
	h := e.eventHandler()
	for i := range e.shards {
		sh := &e.shards[i]
		sh.mu.Lock()
		now := e.now()
		for ch, cs := range sh.channels {
			if cs.expire(now) {
				deliver = append(deliver, queued{ch, cs})
			}
			sh.dropIfEmpty(ch, cs)
		}
		sh.mu.Unlock()
		// Map keys that expired are removals subscribers must see; they
		// are delivered outside the lock like every event.
		for _, q := range deliver {
			if h != nil {
				e.drain(h, sh, q.ch, q.cs)
			}
		}
		deliver = deliver[:0]
	}
}
