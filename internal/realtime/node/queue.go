package node

import "sync"

// writeQueue holds encoded replies waiting for the connection's writer.
// Enqueue never blocks: a client that cannot keep up is disconnected as
// slow instead of slowing down fan-out for everyone else.
//
// The writer goroutine exists only while the connection is busy: a push
// (or close) into a queue without a writer starts it. The first writer of
// a sweep interval ends as soon as it has drained the queue (a connect
// reply, a rare push); a second one in the same interval marks the
// connection busy and stays, waiting for more, until the node's sweeper
// (retire, about once a second) finds that nothing was pushed since its
// last look and tells it to end. An idle connection therefore costs no writer
// goroutine and no stack, while a busy one does not pay for a new
// goroutine per frame.
type writeQueue struct {
	mu      sync.Mutex
	items   [][]byte
	size    int
	maxSize int
	closing *Disconnect
	closed  bool
	cond    *sync.Cond
	// writing is true while a writer goroutine runs (or was started).
	writing bool
	// pushes counts pushes; seen is its value at the sweeper's last look.
	pushes, seen uint64
	// retiring asks a waiting writer to end.
	retiring bool
	// starts counts writers started since the sweeper's last look.
	starts int
	// write is started as the writer goroutine; it drains the queue
	// with take until take says the queue is idle.
	write func()
}

func newWriteQueue(maxSize int, write func()) *writeQueue {
	q := &writeQueue{maxSize: maxSize, write: write}
	q.cond = sync.NewCond(&q.mu)
	return q
}

// push adds an item; ok is false if the queue is closing or over its limit
// (overflow is true in the latter case).
func (q *writeQueue) push(b []byte) (ok, overflow bool) {
	q.mu.Lock()
	if q.closing != nil || q.closed {
		q.mu.Unlock()
		return false, false
	}
	if q.maxSize > 0 && q.size+len(b) > q.maxSize {
		q.mu.Unlock()
		return false, true
	}
	q.items = append(q.items, b)
	q.size += len(b)
	q.pushes++
	q.retiring = false
	start := q.wakeLocked()
	q.mu.Unlock()
	if start {
		go q.write()
	}
	return true, false
}

// wakeLocked marks a writer as running and reports whether one must be
// started.
func (q *writeQueue) wakeLocked() bool {
	if q.closed {
		return false
	}
	if q.writing {
		q.cond.Signal()
		return false
	}
	q.writing = true
	q.starts++
	return true
}

// close asks the writer to flush what is queued and then close with d.
func (q *writeQueue) close(d *Disconnect) {
	q.mu.Lock()
	if q.closing == nil {
		q.closing = d
	}
	start := q.wakeLocked()
	q.mu.Unlock()
	if start {
		go q.write()
	}
}

// take waits until something is queued or a close is asked, and hands the
// writer what is queued (reusing spare for the next batch) and the close
// request. idle is true when the sweeper retired the writer instead: it
// must then return, and the next push starts a new one.
func (q *writeQueue) take(spare [][]byte) (items [][]byte, closing *Disconnect, idle bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for len(q.items) == 0 && q.closing == nil {
		if q.retiring || q.starts < 2 {
			q.retiring = false
			q.writing = false
			return nil, nil, true
		}
		q.cond.Wait()
	}
	items = q.items
	q.items = spare[:0]
	q.size = 0
	return items, q.closing, false
}

func (q *writeQueue) markClosed() {
	q.mu.Lock()
	q.closed = true
	q.items = nil
	q.mu.Unlock()
}

// retire is the sweeper's look at the queue: a writer that has had nothing
// pushed since the previous look is told to end.
func (q *writeQueue) retire() {
	q.mu.Lock()
	if q.writing && q.pushes == q.seen && len(q.items) == 0 && q.closing == nil {
		q.retiring = true
		q.cond.Signal()
	}
	q.seen = q.pushes
	q.starts = 0
	q.mu.Unlock()
}
