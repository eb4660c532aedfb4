package memory

import (
	"sync"
	"time"

	"github.com/spindle-rt/spindle/internal/realtime/engine"
)

// shard owns the state of the channels that hash to it, under one lock.
type shard struct {
	mu       sync.Mutex
	channels map[string]*channelState
}

// channelState is everything the engine knows about one channel. It is
// created on first need and dropped once empty, so idle channels cost
// nothing.
type channelState struct {
	subscribed bool
	stream     *stream
	presence   map[string]presenceEntry
	idem       map[string]idemResult
	// m is the channel's keyed state when it is a map channel.
	m *mapChannel

	// queue holds deliveries waiting for the goroutine that is draining
	// this channel; spare is the drained buffer kept for reuse.
	queue    []event
	spare    []event
	draining bool
}

type presenceEntry struct {
	info     *engine.ClientInfo
	expireAt time.Time
}

type idemResult struct {
	sp       engine.StreamPosition
	expireAt time.Time
}

// get returns the channel's state, or nil when the engine holds none.
// Callers hold s.mu.
func (s *shard) get(channel string) *channelState {
	return s.channels[channel]
}

// getOrCreate returns the channel's state, creating it. Callers hold s.mu.
func (s *shard) getOrCreate(channel string) *channelState {
	cs := s.channels[channel]
	if cs == nil {
		cs = &channelState{}
		s.channels[channel] = cs
	}
	return cs
}

// dropIfEmpty forgets the channel once nothing about it is left, so memory
// follows the set of live channels. Callers hold s.mu.
func (s *shard) dropIfEmpty(channel string, cs *channelState) {
	if cs.empty() {
		delete(s.channels, channel)
	}
}

func (cs *channelState) empty() bool {
	return !cs.subscribed && cs.stream == nil && cs.m == nil && len(cs.presence) == 0 &&
		len(cs.idem) == 0 && !cs.draining && len(cs.queue) == 0
}

// expire applies every lifetime that has run out by now; it reports
// whether map key expiry queued removals the caller must deliver.
func (cs *channelState) expire(now time.Time) bool {
	cs.expireStream(now)
	queued := cs.expireMap(now)
	if cs.m != nil && cs.m.empty(now) {
		cs.m = nil
	}
	for id, p := range cs.presence {
		if !now.Before(p.expireAt) {
			delete(cs.presence, id)
		}
	}
	for k, r := range cs.idem {
		if !now.Before(r.expireAt) {
			delete(cs.idem, k)
		}
	}
	return queued
}

// expireStream forgets the stream after its meta TTL and its publications
// after the history TTL.
func (cs *channelState) expireStream(now time.Time) {
	if cs.stream == nil {
		return
	}
	if !now.Before(cs.stream.metaExpireAt) {
		cs.stream = nil
		return
	}
	if !now.Before(cs.stream.pubsExpireAt) {
		cs.stream.clear()
	}
}
