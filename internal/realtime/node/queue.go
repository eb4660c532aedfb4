package node

import "sync"

// writeQueue holds encoded replies waiting for the connection's writer.
// Enqueue never blocks: a client that cannot keep up is disconnected as
// slow instead of slowing down fan-out for everyone else.
type writeQueue struct {
	mu      sync.Mutex
	cond    *sync.Cond
	items   [][]byte
	size    int
	maxSize int
	closing *Disconnect
	closed  bool
}

func newWriteQueue(maxSize int) *writeQueue {
	q := &writeQueue{maxSize: maxSize}
	q.cond = sync.NewCond(&q.mu)
	return q
}

// push adds an item; ok is false if the queue is closing or over its limit
// (overflow is true in the latter case).
func (q *writeQueue) push(b []byte) (ok, overflow bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closing != nil || q.closed {
		return false, false
	}
	if q.maxSize > 0 && q.size+len(b) > q.maxSize {
		return false, true
	}
	q.items = append(q.items, b)
	q.size += len(b)
	q.cond.Signal()
	return true, false
}

// close asks the writer to flush what is queued and then close with d.
func (q *writeQueue) close(d *Disconnect) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closing == nil {
		q.closing = d
	}
	q.cond.Signal()
}

// wait blocks until there is something to write or the queue is closing;
// it hands the items over (reusing spare for the next batch).
func (q *writeQueue) wait(spare [][]byte) (items [][]byte, closing *Disconnect) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for len(q.items) == 0 && q.closing == nil {
		q.cond.Wait()
	}
	items = q.items
	q.items = spare[:0]
	q.size = 0
	return items, q.closing
}

func (q *writeQueue) markClosed() {
	q.mu.Lock()
	q.closed = true
	q.items = nil
	q.mu.Unlock()
}
