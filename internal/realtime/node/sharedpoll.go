package node

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"math/rand/v2"
	"slices"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/spindle-rt/spindle/internal/realtime/protocol"
	"github.com/spindle-rt/spindle/proto/clientpb"
	"github.com/spindle-rt/spindle/proto/proxypb"
)

// Shared poll (Centrifugo v6.8+): subscribers of a shared_poll channel
// track keys (sharedpoll_client.go); this node polls the namespace's
// backend (SharedPollRefresh) for the union of the keys its subscribers
// track — once per channel, however many subscribers — and pushes each
// item that changed to the subscribers that track it and hold an older
// version. A key new to the channel is polled at once, so a subscriber
// does not wait a whole interval for its first value; a key the channel
// already polls is sent to a new tracker from the last value polled
// (Centrifugo polls again instead), so the backend sees one call per
// interval per channel however many subscribers come and go. A failing
// backend changes nothing for subscribers (they keep what they have) and
// pushes the next full refresh further out, up to 8 intervals.
//
// Versions: in versioned mode they are the backend's, under the backend's
// epoch (a new epoch means every version is void: the channel's
// subscribers are unsubscribed with 2500 and resubscribe). In versionless
// mode (the default) the node versions items itself by content, under an
// epoch of its own, new each time the channel's state is created.
//
// Each pollChannel has its own mutex, a leaf: delivery locks a client's mu
// only after releasing it.

// Shared-poll defaults (Centrifugo's).
const (
	defaultPollInterval          = 10 * time.Second
	defaultPollBatchSize         = 1000
	defaultPollMaxKeys           = 5000
	defaultPollShutdownDelay     = time.Second
	defaultPollTrackExpiredExtra = 25 * time.Second
	defaultPollConcurrency       = 64
	// maxPollBackoff caps how far a failing backend pushes out the next
	// full refresh (as a multiple of the interval).
	maxPollBackoff = 8
)

func pollInterval(o *SharedPollOptions) time.Duration {
	if o.RefreshInterval > 0 {
		return o.RefreshInterval
	}
	return defaultPollInterval
}

func pollBatchSize(o *SharedPollOptions) int {
	if o.RefreshBatchSize > 0 {
		return o.RefreshBatchSize
	}
	return defaultPollBatchSize
}

// pollChannels is this node's shared-poll channel states.
type pollChannels struct {
	mu  sync.Mutex
	m   map[string]*pollChannel
	sem chan struct{} // bounds concurrent backend calls (concurrency_limit)
}

// pollChannel is one channel's shared-poll state on this node.
type pollChannel struct {
	n    *Node
	ch   string
	opts *SharedPollOptions

	mu          sync.Mutex
	epoch       string
	subscribers int
	items       map[string]*pollItem
	// trackers are the connections tracking each key.
	trackers map[string]map[*Client]struct{}
	counter  uint64 // versionless versions
	urgent   map[string]struct{}
	failures int
	closed   bool

	wake chan struct{}
	stop chan struct{}
}

type pollItem struct {
	version uint64
	hash    [32]byte
	// data is the last value polled, so a connection that starts tracking
	// a key this node already polls gets it at once, without a backend
	// call (the backend is asked once per interval per channel, however
	// many subscribers come and go).
	data []byte
}

func (pc *pollChannel) versioned() bool { return pc.opts.Mode == "versioned" }

// pollChannel returns the channel's state, creating it (and its poller).
func (n *Node) pollChannel(ch string, opts *SharedPollOptions) *pollChannel {
	n.polls.mu.Lock()
	defer n.polls.mu.Unlock()
	return n.pollChannelLocked(ch, opts)
}

// joinPollChannel counts a new subscriber in the channel's state and
// returns the state and the epoch the subscriber starts from. It holds the
// table's lock throughout, so a state shutting down (shutdownIfIdle) is
// never joined.
func (n *Node) joinPollChannel(ch string, opts *SharedPollOptions) (*pollChannel, string) {
	n.polls.mu.Lock()
	defer n.polls.mu.Unlock()
	pc := n.pollChannelLocked(ch, opts)
	pc.mu.Lock()
	defer pc.mu.Unlock()
	pc.subscribers++
	return pc, pc.epoch
}

// pollChannelLocked is pollChannel with the table's lock held.
func (n *Node) pollChannelLocked(ch string, opts *SharedPollOptions) *pollChannel {
	ps := &n.polls
	if ps.m == nil {
		ps.m = make(map[string]*pollChannel)
		lim := n.settings().cfg.SharedPoll.ConcurrencyLimit
		if lim <= 0 {
			lim = defaultPollConcurrency
		}
		ps.sem = make(chan struct{}, lim)
	}
	if pc := ps.m[ch]; pc != nil {
		return pc
	}
	pc := &pollChannel{
		n: n, ch: ch, opts: opts,
		items:    make(map[string]*pollItem),
		trackers: make(map[string]map[*Client]struct{}),
		urgent:   make(map[string]struct{}),
		wake:     make(chan struct{}, 1),
		stop:     make(chan struct{}),
	}
	if !pc.versioned() {
		pc.epoch = newPollEpoch()
	}
	ps.m[ch] = pc
	go pc.run()
	return pc
}

// stopAll ends every channel's poller (node shutdown).
func (ps *pollChannels) stopAll() {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	for ch, pc := range ps.m {
		pc.mu.Lock()
		if !pc.closed {
			pc.closed = true
			close(pc.stop)
		}
		pc.mu.Unlock()
		delete(ps.m, ch)
	}
}

// existingPollChannel is the channel's state if this node has one.
func (n *Node) existingPollChannel(ch string) *pollChannel {
	n.polls.mu.Lock()
	defer n.polls.mu.Unlock()
	return n.polls.m[ch]
}

const pollEpochLetters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"

// newPollEpoch is a versionless channel state's epoch: 8 random letters.
func newPollEpoch() string {
	out := make([]byte, 8)
	for i := range out {
		out[i] = pollEpochLetters[rand.N(len(pollEpochLetters))]
	}
	return string(out)
}

// leave uncounts a subscriber and its keys; the state goes once nobody is
// left for the shutdown delay.
func (pc *pollChannel) leave(c *Client, keys []string) {
	pc.untrack(c, keys)
	pc.mu.Lock()
	pc.subscribers--
	empty := pc.subscribers <= 0
	pc.mu.Unlock()
	if !empty {
		return
	}
	delay := pc.opts.ChannelShutdownDelay
	if delay <= 0 {
		delay = defaultPollShutdownDelay
	}
	time.AfterFunc(delay, pc.shutdownIfIdle)
}

func (pc *pollChannel) shutdownIfIdle() {
	ps := &pc.n.polls
	ps.mu.Lock()
	defer ps.mu.Unlock()
	pc.mu.Lock()
	defer pc.mu.Unlock()
	if pc.subscribers > 0 || pc.closed {
		return
	}
	pc.closed = true
	close(pc.stop)
	if ps.m[pc.ch] == pc {
		delete(ps.m, pc.ch)
	}
}

// track registers c for keys (with the versions it holds). A key new to
// the channel is polled at once; one the channel already has a value for
// is sent from that value when c holds an older version; one still waiting
// for its first answer reaches c with it.
func (pc *pollChannel) track(c *Client, keys []string, versions []uint64) {
	var cached []pollDelivery
	pc.mu.Lock()
	urgent := false
	for i, k := range keys {
		t := pc.trackers[k]
		if t == nil {
			t = make(map[*Client]struct{})
			pc.trackers[k] = t
		}
		t[c] = struct{}{}
		it := pc.items[k]
		switch {
		case it == nil:
			pc.items[k] = &pollItem{}
			pc.urgent[k] = struct{}{}
			urgent = true
		case it.version > versions[i] && it.data != nil:
			cached = append(cached, pollDelivery{key: k, version: it.version, push: pc.itemPush(k, it.data, it.version, false)})
		}
	}
	pc.mu.Unlock()
	for _, d := range cached {
		c.deliverPollItem(pc.ch, d)
	}
	if urgent {
		select {
		case pc.wake <- struct{}{}:
		default:
		}
	}
}

// unavailable says whether a track of keys cannot be served now: the
// backend failed its last call and some key has no value yet. The client
// is told (a temporary error; the SDK tracks again with back-off) rather
// than left waiting without a word.
func (pc *pollChannel) unavailable(keys []string) bool {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	if pc.failures == 0 {
		return false
	}
	for _, k := range keys {
		if it := pc.items[k]; it == nil || it.data == nil {
			return true
		}
	}
	return false
}

// itemPush is the push of one item.
func (pc *pollChannel) itemPush(key string, data []byte, version uint64, removed bool) *preparedPush {
	pub := &clientpb.Publication{Key: key, Removed: removed}
	if !removed {
		pub.Data, pub.Version = data, version
	}
	return &preparedPush{reply: &clientpb.Reply{Push: &clientpb.Push{Channel: pc.ch, Pub: pub}}}
}

// untrack removes c from keys; a key nobody tracks is forgotten.
func (pc *pollChannel) untrack(c *Client, keys []string) {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	for _, k := range keys {
		t := pc.trackers[k]
		delete(t, c)
		if len(t) == 0 {
			delete(pc.trackers, k)
			delete(pc.items, k)
			delete(pc.urgent, k)
		}
	}
}

// run is the channel's poller: urgent keys at once, every key each
// interval (further apart while the backend fails).
func (pc *pollChannel) run() {
	interval := pollInterval(pc.opts)
	timer := time.NewTimer(interval)
	defer timer.Stop()
	for {
		select {
		case <-pc.stop:
			return
		case <-pc.wake:
			pc.pollUrgent()
		case <-timer.C:
			pc.pollAll()
			pc.mu.Lock()
			failures := pc.failures
			pc.mu.Unlock()
			timer.Reset(time.Duration(pollBackoff(failures)) * interval)
		}
	}
}

// pollBackoff is how many intervals the next full refresh waits after
// failures consecutive failed calls: 1 while the backend answers, then 2,
// 4 and at most maxPollBackoff.
func pollBackoff(failures int) int {
	return min(1<<min(failures, 3), maxPollBackoff)
}

func (pc *pollChannel) pollUrgent() {
	pc.mu.Lock()
	keys := make([]string, 0, len(pc.urgent))
	for k := range pc.urgent {
		keys = append(keys, k)
	}
	clear(pc.urgent)
	pc.mu.Unlock()
	slices.Sort(keys)
	pc.pollKeys(keys)
}

func (pc *pollChannel) pollAll() {
	pc.mu.Lock()
	keys := make([]string, 0, len(pc.trackers))
	for k := range pc.trackers {
		keys = append(keys, k)
	}
	pc.mu.Unlock()
	slices.Sort(keys)
	pc.pollKeys(keys)
}

// pollKeys asks the backend about keys, a batch at a time.
func (pc *pollChannel) pollKeys(keys []string) {
	size := pollBatchSize(pc.opts)
	for len(keys) > 0 {
		n := min(size, len(keys))
		pc.pollBatch(keys[:n])
		keys = keys[n:]
	}
}

func (pc *pollChannel) pollBatch(keys []string) {
	p := pc.opts.Proxy
	if p == nil || p.Backend == nil {
		return
	}
	req := &proxypb.SharedPollRefreshRequest{Channel: pc.ch, Items: make([]*proxypb.SharedPollRefreshItem, 0, len(keys))}
	pc.mu.Lock()
	for _, k := range keys {
		item := &proxypb.SharedPollRefreshItem{Key: k}
		// A versioned backend is told the version known, so it can answer
		// only what changed; a re-broadcast asks for the value again.
		if it := pc.items[k]; it != nil && pc.versioned() {
			item.Version = it.version
		}
		req.Items = append(req.Items, item)
	}
	pc.mu.Unlock()
	sem := pc.n.polls.sem
	sem <- struct{}{}
	ctx, cancel := context.WithTimeout(context.Background(), proxyTimeout(p))
	resp, err := p.Backend.SharedPollRefresh(ctx, req)
	cancel()
	<-sem
	if err == nil && resp.GetError() != nil {
		err = &Error{Code: resp.GetError().GetCode(), Message: resp.GetError().GetMessage()}
	}
	if err != nil {
		pc.mu.Lock()
		pc.failures++
		first := pc.failures == 1
		pc.mu.Unlock()
		pc.n.metrics.sharedPollCalls.WithLabelValues("failed").Inc()
		if first {
			pc.n.log.Warn("shared poll backend failed", "channel", pc.ch, "proxy", p.Name, "error", err)
		}
		return
	}
	pc.n.metrics.sharedPollCalls.WithLabelValues("ok").Inc()
	pc.mu.Lock()
	if pc.failures > 0 {
		pc.n.log.Info("shared poll backend answers again", "channel", pc.ch, "proxy", p.Name, "failures", pc.failures)
	}
	pc.failures = 0
	pc.mu.Unlock()
	if r := resp.GetResult(); r != nil {
		pc.apply(r.GetEpoch(), r.GetItems())
	}
}

// pollDelivery is one item for the connections that track its key.
type pollDelivery struct {
	key     string
	version uint64
	removed bool
	push    *preparedPush
	to      []*Client
	// baseVersion is the version the push's delta patch applies to (the
	// item's previous version); 0 when there is no base.
	baseVersion uint64
}

// apply takes a backend answer (or a shared_poll_publish) and delivers
// what changed.
func (pc *pollChannel) apply(epoch string, items []*proxypb.SharedPollRefreshResultItem) {
	var out []pollDelivery
	var reset bool
	pc.mu.Lock()
	if pc.versioned() && epoch != pc.epoch {
		// The backend's versions restarted: every version known is void.
		reset = pc.epoch != ""
		pc.epoch = epoch
		for _, it := range pc.items {
			it.version, it.hash, it.data = 0, [32]byte{}, nil
		}
	}
	for _, r := range items {
		it := pc.items[r.GetKey()]
		if it == nil {
			continue // a key nobody here tracks
		}
		d := pollDelivery{key: r.GetKey()}
		prevData, prevVersion := it.data, it.version
		switch {
		case r.GetRemoved():
			d.removed = true
			it.version, it.hash = 0, [32]byte{}
		case !json.Valid(r.GetData()):
			pc.n.log.Warn("shared poll backend answered data that is not JSON", "channel", pc.ch, "key", r.GetKey())
			continue
		case r.GetVersion() > 0:
			if r.GetVersion() <= it.version {
				continue
			}
			it.version = r.GetVersion()
		default:
			h := sha256.Sum256(r.GetData())
			if h == it.hash {
				continue
			}
			pc.counter++
			it.version, it.hash = pc.counter, h
		}
		if !d.removed {
			it.data = r.GetData()
		}
		d.version = it.version
		d.push = pc.itemPush(d.key, r.GetData(), d.version, d.removed)
		// A tracker that negotiated delta and holds exactly the previous
		// version can take a patch against it.
		if !d.removed && prevData != nil && prevVersion > 0 {
			d.push.delta.base, d.baseVersion = prevData, prevVersion
		}
		for c := range pc.trackers[d.key] {
			d.to = append(d.to, c)
		}
		if d.removed {
			delete(pc.trackers, d.key)
			delete(pc.items, d.key)
		}
		out = append(out, d)
	}
	pc.mu.Unlock()
	if reset {
		for _, c := range pc.n.hub.subscribers(pc.ch, nil) {
			go c.serverUnsubscribe(pc.ch, UnsubscribeCodeInsufficientState, "shared poll epoch changed")
		}
		return
	}
	for _, d := range out {
		for _, c := range d.to {
			c.deliverPollItem(pc.ch, d)
		}
	}
}

// deliverPollItem pushes an item to this client when it tracks the key at
// an older version.
func (c *Client) deliverPollItem(ch string, d pollDelivery) {
	c.mu.Lock()
	s := c.subs[ch]
	if s == nil || s.poll == nil {
		c.mu.Unlock()
		return
	}
	tk := s.poll.keys[d.key]
	switch {
	case tk == nil:
		c.mu.Unlock()
		return
	case d.removed:
		delete(s.poll.keys, d.key)
	case d.version <= tk.version:
		c.mu.Unlock()
		return
	}
	form := formPlain
	if s.delta && !d.removed {
		// Delta subscribers get every value in delta form: a patch when
		// they hold exactly the base version, else the value whole.
		form = formDeltaWhole
		if d.baseVersion > 0 && tk.version == d.baseVersion {
			if patch := d.push.delta.patchFor(d.push.reply.Push.Pub.Data); patch != nil && (c.proto == protocol.TypeProtobuf || utf8.Valid(patch)) {
				form = formDeltaPatch
			}
		}
	}
	if !d.removed {
		tk.version = d.version
	}
	c.mu.Unlock()
	c.enqueuePush(d.push, form)
}
