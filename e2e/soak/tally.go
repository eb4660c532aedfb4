package main

import (
	"slices"
	"sync"
)

// received records which sequence numbers of one channel a subscriber has
// seen, so that the end of the soak can say exactly which acknowledged
// publications it never got, and which it got twice.
type received struct {
	mu         sync.Mutex
	seen       []bool // index = sequence number
	duplicates int
	// lastOffset and epoch are the stream position of the newest
	// publication, which a churning client recovers from.
	lastOffset uint64
	epoch      string
}

// add marks seq as seen and reports whether it was new.
func (r *received) add(seq int, offset uint64) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if seq < 0 {
		return false
	}
	if seq >= len(r.seen) {
		r.seen = slices.Grow(r.seen, seq+1-len(r.seen))[:seq+1]
	}
	if offset > r.lastOffset {
		r.lastOffset = offset
	}
	if r.seen[seq] {
		r.duplicates++
		return false
	}
	r.seen[seq] = true
	return true
}

// position is where a recovering subscribe starts from.
func (r *received) position() (string, uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.epoch, r.lastOffset
}

// setEpoch records the stream epoch from a subscribe reply; the offset is
// raised to the reply's when nothing newer has arrived yet.
func (r *received) setEpoch(epoch string, offset uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.epoch = epoch
	if offset > r.lastOffset {
		r.lastOffset = offset
	}
}

// missing counts the acknowledged sequence numbers (acked[seq] true) that
// were never seen.
func (r *received) missing(acked []bool) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for seq, ok := range acked {
		if ok && (seq >= len(r.seen) || !r.seen[seq]) {
			n++
		}
	}
	return n
}

// channelLog is the publisher's record of one channel: the next sequence
// number and which of those the server API acknowledged.
type channelLog struct {
	mu    sync.Mutex
	next  int
	acked []bool
}

// take reserves the next sequence number.
func (l *channelLog) take() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	seq := l.next
	l.next++
	l.acked = append(l.acked, false)
	return seq
}

func (l *channelLog) ack(seq int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.acked[seq] = true
}

func (l *channelLog) snapshot() []bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.acked)
}
