package enginetest

import (
	"sync"

	"github.com/spindle-rt/spindle/internal/realtime/engine"
)

type recordKind int

const (
	recPublication recordKind = iota + 1
	recJoin
	recLeave
	recControl
)

// record is one handler call as the engine made it.
type record struct {
	kind    recordKind
	channel string
	pub     *engine.Publication
	sp      engine.StreamPosition
	info    *engine.ClientInfo
	data    []byte
}

// recorder is the suite's EventHandler: it keeps every call in arrival
// order and can run a hook on publications to test re-entrancy.
type recorder struct {
	mu      sync.Mutex
	records []record
	onPub   func(channel string, pub *engine.Publication)
}

func newRecorder() *recorder {
	return &recorder{}
}

func (r *recorder) add(rec record) {
	r.mu.Lock()
	r.records = append(r.records, rec)
	r.mu.Unlock()
}

// setOnPublication installs a hook called after each publication is
// recorded, on the engine's delivering goroutine.
func (r *recorder) setOnPublication(f func(channel string, pub *engine.Publication)) {
	r.mu.Lock()
	r.onPub = f
	r.mu.Unlock()
}

// HandlePublication records the publication.
func (r *recorder) HandlePublication(channel string, pub *engine.Publication, sp engine.StreamPosition) error {
	r.add(record{kind: recPublication, channel: channel, pub: pub, sp: sp})
	r.mu.Lock()
	hook := r.onPub
	r.mu.Unlock()
	if hook != nil {
		hook(channel, pub)
	}
	return nil
}

// HandleJoin records the join.
func (r *recorder) HandleJoin(channel string, info *engine.ClientInfo) error {
	r.add(record{kind: recJoin, channel: channel, info: info})
	return nil
}

// HandleLeave records the leave.
func (r *recorder) HandleLeave(channel string, info *engine.ClientInfo) error {
	r.add(record{kind: recLeave, channel: channel, info: info})
	return nil
}

// HandleControl records the control message.
func (r *recorder) HandleControl(data []byte) error {
	r.add(record{kind: recControl, data: append([]byte(nil), data...)})
	return nil
}

// of returns, in arrival order, the records of the channel (any kind but
// control) or, for channel "", the control records.
func (r *recorder) of(channel string) []record {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []record
	for _, rec := range r.records {
		if (channel == "" && rec.kind == recControl) || (channel != "" && rec.channel == channel && rec.kind != recControl) {
			out = append(out, rec)
		}
	}
	return out
}

// publications returns the channel's delivered publications in order.
func (r *recorder) publications(channel string) []record {
	var out []record
	for _, rec := range r.of(channel) {
		if rec.kind == recPublication {
			out = append(out, rec)
		}
	}
	return out
}

// count is len(of(channel)), for wait conditions.
func (r *recorder) count(channel string) int {
	return len(r.of(channel))
}
