package redis

import (
	"log/slog"
	"sync"

	"github.com/spindle-rt/spindle/internal/realtime/engine"
)

// numWorkers spreads handler calls over goroutines; a channel always maps
// to the same worker, which is what keeps its events in order.
const numWorkers = 32

// workerQueue bounds how many messages wait per worker before the PUB/SUB
// reader blocks, pushing back on Redis instead of growing without limit.
const workerQueue = 1024

// event is a raw PUB/SUB message waiting for its handler call.
type event struct {
	channel string // Spindle channel; unused for control
	control bool
	payload string
}

// dispatcher hands PUB/SUB messages to the EventHandler off the Redis
// reader goroutine, so a slow or re-entrant handler cannot stall reading.
type dispatcher struct {
	h      engine.EventHandler
	log    *slog.Logger
	queues [numWorkers]chan event
	stop   chan struct{}
	wg     sync.WaitGroup
}

func newDispatcher(h engine.EventHandler, log *slog.Logger) *dispatcher {
	d := &dispatcher{h: h, log: log, stop: make(chan struct{})}
	for i := range d.queues {
		d.queues[i] = make(chan event, workerQueue)
		d.wg.Add(1)
		go d.work(d.queues[i])
	}
	return d
}

// enqueue queues ev for its channel's worker; it drops ev once the
// dispatcher is stopped.
func (d *dispatcher) enqueue(ev event) {
	q := d.queues[fnv64a(ev.channel)%numWorkers]
	select {
	case q <- ev:
	case <-d.stop:
	}
}

func (d *dispatcher) work(q chan event) {
	defer d.wg.Done()
	for {
		select {
		case ev := <-q:
			d.deliver(ev)
		case <-d.stop:
			return
		}
	}
}

func (d *dispatcher) deliver(ev event) {
	if ev.control {
		if err := d.h.HandleControl([]byte(ev.payload)); err != nil {
			d.log.Debug("redis engine: control handler", "error", err)
		}
		return
	}
	f, err := decodeFrame(ev.payload)
	if err != nil {
		d.log.Warn("redis engine: dropping undecodable message", "channel", ev.channel, "error", err)
		return
	}
	switch f.kind {
	case framePublication:
		err = d.h.HandlePublication(ev.channel, f.pub, f.sp)
	case frameJoin:
		err = d.h.HandleJoin(ev.channel, f.info)
	case frameLeave:
		err = d.h.HandleLeave(ev.channel, f.info)
	}
	if err != nil {
		d.log.Debug("redis engine: event handler", "channel", ev.channel, "error", err)
	}
}

// close stops the workers and waits for the call in progress, if any.
func (d *dispatcher) close() {
	close(d.stop)
	d.wg.Wait()
}
