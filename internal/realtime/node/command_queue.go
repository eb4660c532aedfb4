package node

import (
	"sync"

	"github.com/spindle-rt/spindle/proto/clientpb"
)

// commandQueue runs a connected client's commands off the transport's
// reader goroutine, so that a slow command — an RPC waiting on its proxy —
// never keeps the reader from seeing the client's pongs (a client that
// answers every ping must not be closed 3012 for a slow backend).
//
// Up to limit commands run at once (Centrifugo's client.concurrency; 1
// keeps them strictly in order, the default). Runners are started only
// while there is work and exit when the queue is empty, so an idle
// connection costs no goroutine. When maxPending commands wait, the reader
// runs the next one itself: a client flooding commands slows down its own
// reading instead of growing the queue without bound.
//
// Lock order: commandQueue.mu is a leaf; handleCommand runs without it.
type commandQueue struct {
	c     *Client
	limit int

	mu      sync.Mutex
	pending []*clientpb.Command
	running int
	stopped bool // a command ended the session, or the client closed
}

// maxPendingCommands bounds the commands one connection may queue.
const maxPendingCommands = 256

func newCommandQueue(c *Client, concurrency int) *commandQueue {
	return &commandQueue{c: c, limit: max(concurrency, 1)}
}

// push queues cmd; false means the session is over and cmd was dropped.
func (q *commandQueue) push(cmd *clientpb.Command) bool {
	q.mu.Lock()
	if q.stopped {
		q.mu.Unlock()
		return false
	}
	if len(q.pending) >= maxPendingCommands {
		q.mu.Unlock()
		return q.run(cmd)
	}
	q.pending = append(q.pending, cmd)
	if q.running < q.limit {
		q.running++
		go q.drain()
	}
	q.mu.Unlock()
	return true
}

// drain runs queued commands until none is left.
func (q *commandQueue) drain() {
	for {
		q.mu.Lock()
		if q.stopped || len(q.pending) == 0 {
			q.pending = q.pending[:0]
			q.running--
			q.mu.Unlock()
			return
		}
		cmd := q.pending[0]
		q.pending[0] = nil
		q.pending = q.pending[1:]
		q.mu.Unlock()
		q.run(cmd)
	}
}

// run handles one command; when it ends the session, nothing queued after
// it runs.
func (q *commandQueue) run(cmd *clientpb.Command) bool {
	if q.c.handleCommand(cmd) {
		return true
	}
	q.stop()
	return false
}

// stop drops whatever is queued; commands already running finish.
func (q *commandQueue) stop() {
	q.mu.Lock()
	q.stopped = true
	q.pending = nil
	q.mu.Unlock()
}
