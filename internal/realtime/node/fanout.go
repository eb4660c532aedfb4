package node

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/spindle-rt/spindle/internal/realtime/engine"
	"github.com/spindle-rt/spindle/internal/realtime/protocol"
	"github.com/spindle-rt/spindle/proto/clientpb"
)

// addSubscription puts the client in the channel's subscribers and makes
// sure this node receives the channel from the broker. Callers hold no
// lock (it takes the channel's subLock, then the hub shard's).
func (n *Node) addSubscription(ctx context.Context, ch string, c *Client, isMap bool) error {
	mu := &n.subLocks[shardIndex(ch)]
	mu.Lock()
	defer mu.Unlock()
	if first := n.hub.addSub(ch, c); first {
		if err := n.brokerOf(isMap).Subscribe(ch); err != nil {
			n.hub.removeSub(ch, c)
			return engineError(err)
		}
	}
	n.metrics.subscriptions.Inc()
	return nil
}

// removeSubscription undoes addSubscription and announces the leave.
// Callers hold no lock: it takes a subLock, then c.mu, one after the
// other, and calls the engine.
func (n *Node) removeSubscription(ch string, c *Client, s *subscription) {
	mu := &n.subLocks[shardIndex(ch)]
	mu.Lock()
	removed, last := n.hub.removeSub(ch, c)
	if last {
		if err := n.brokerOf(isMapType(s.mapType)).Unsubscribe(ch); err != nil {
			n.log.Warn("broker unsubscribe", "channel", ch, "error", err)
		}
		n.deltaBases.drop(ch)
	}
	mu.Unlock()
	if removed {
		// A close racing a subscribe may call this twice for one
		// subscription (see Client.subscribe); count it once.
		n.metrics.subscriptions.Dec()
	}
	// s is out of c.subs already, but a command that looked it up before
	// (sub_refresh) may still write its fields under c.mu: read them
	// there too.
	c.mu.Lock()
	leave := removed && s.emitJoinLeave && !s.syncing
	info := &engine.ClientInfo{User: c.user, Client: c.id, ConnInfo: c.info, ChanInfo: s.chanInfo}
	c.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if s.presence {
		if err := n.engine.RemovePresence(ctx, ch, c.id, info.User); err != nil {
			n.log.Warn("remove presence", "channel", ch, "error", err)
		}
	}
	if leave {
		if err := n.engine.PublishLeave(ctx, ch, info); err != nil {
			n.log.Warn("publish leave", "channel", ch, "error", err)
		}
	}
	if removed {
		n.mapSubscriptionEnded(ch, c, s)
		n.sharedPollEnded(ch, c, s)
	}
}

// channelSubscriber is the half of a broker that routes channels to
// this node.
type channelSubscriber interface {
	Subscribe(channel string) error
	Unsubscribe(channel string) error
}

// brokerOf is the broker that delivers a channel's publications: the map
// broker for map channels, the engine for streams.
func (n *Node) brokerOf(isMap bool) channelSubscriber {
	if isMap && n.maps != nil {
		return n.maps
	}
	return n.engine
}

// preparedPush is a push encoded at most once per wire format, whatever
// the number of subscribers.
type preparedPush struct {
	reply *clientpb.Reply
	// delta holds the forms for delta subscribers of a publication push
	// (unused for other pushes).
	delta deltaPush
	// bare is the push without its Reply wrapper, for unidirectional
	// clients: [json, protobuf].
	bare     [2]encoded
	jsonOnce sync.Once
	json     []byte
	jsonErr  error
	pbOnce   sync.Once
	pb       []byte
	pbErr    error
}

func (p *preparedPush) bytes(t protocol.Type) ([]byte, error) {
	if t == protocol.TypeJSON {
		p.jsonOnce.Do(func() { p.json, p.jsonErr = protocol.EncodeReply(t, p.reply) })
		return p.json, p.jsonErr
	}
	p.pbOnce.Do(func() { p.pb, p.pbErr = protocol.EncodeReply(t, p.reply) })
	return p.pb, p.pbErr
}

// bareBytes is the push alone, as unidirectional transports carry it.
func (p *preparedPush) bareBytes(t protocol.Type) ([]byte, error) {
	i := 0
	if t == protocol.TypeProtobuf {
		i = 1
	}
	e := &p.bare[i]
	e.once.Do(func() { e.b, e.err = protocol.EncodePush(t, p.reply.Push) })
	return e.b, e.err
}

// enqueuePush queues a prepared push for this client in the given form.
func (c *Client) enqueuePush(p *preparedPush, form pushForm) {
	var b []byte
	var err error
	if c.uni {
		b, err = p.bareBytes(c.proto)
	} else {
		b, err = p.bytesFor(c.proto, form)
	}
	if err != nil {
		if errors.Is(err, protocol.ErrInvalidJSONPayload) {
			go c.close(DisconnectInappropriateProtocol)
			return
		}
		c.log.Error("encode push", "error", err)
		go c.close(DisconnectServerError)
		return
	}
	c.enqueue(b)
}

func toProtoInfo(i *engine.ClientInfo) *clientpb.ClientInfo {
	if i == nil {
		return nil
	}
	return &clientpb.ClientInfo{User: i.User, Client: i.Client, ConnInfo: i.ConnInfo, ChanInfo: i.ChanInfo}
}

func toProtoPub(p *engine.Publication) *clientpb.Publication {
	return &clientpb.Publication{Data: p.Data, Info: toProtoInfo(p.Info), Offset: p.Offset, Tags: p.Tags, Time: p.Time, Key: p.Key, Removed: p.Removed}
}

// eventHandler receives the broker's events for this node.
type eventHandler struct{ n *Node }

func (h *eventHandler) HandlePublication(ch string, pub *engine.Publication, sp engine.StreamPosition) error {
	h.n.broadcastPublication(ch, pub, sp)
	return nil
}

func (h *eventHandler) HandleJoin(ch string, info *engine.ClientInfo) error {
	h.n.broadcastJoinLeave(ch, &clientpb.Push{Channel: ch, Join: &clientpb.Join{Info: toProtoInfo(info)}})
	return nil
}

func (h *eventHandler) HandleLeave(ch string, info *engine.ClientInfo) error {
	h.n.broadcastJoinLeave(ch, &clientpb.Push{Channel: ch, Leave: &clientpb.Leave{Info: toProtoInfo(info)}})
	return nil
}

func (h *eventHandler) HandleControl(data []byte) error {
	return h.n.handleControl(data)
}

var subscriberSlices = sync.Pool{New: func() any { s := make([]*Client, 0, 64); return &s }}

// broadcastPublication delivers one publication to every local
// subscriber, encoding it once per wire format.
func (n *Node) broadcastPublication(ch string, pub *engine.Publication, sp engine.StreamPosition) {
	sp2 := subscriberSlices.Get().(*[]*Client)
	subs := n.hub.subscribers(ch, (*sp2)[:0])
	if len(subs) > 0 {
		pp := toProtoPub(pub)
		p := &preparedPush{reply: &clientpb.Reply{Push: &clientpb.Push{Channel: ch, Pub: pp}}}
		switch {
		case pub.Key != "":
			// A map change: its patch base is the key's previous value,
			// which the engine hands along. The first change of a stream
			// names the epoch, so a client that saw an empty map adopts it.
			if pub.Delta && pub.PrevData != nil {
				p.delta.base = pub.PrevData
			}
			if pub.Offset == 1 {
				pp.Epoch = sp.Epoch
			}
		case pub.Offset > 0:
			if base := n.deltaBases.swap(ch, sp.Epoch, pub); pub.Delta {
				p.delta.base = base
			}
		}
		for _, c := range subs {
			c.deliverPublication(ch, pub, sp, p)
		}
		n.metrics.publicationsDelivered.Add(float64(len(subs)))
	}
	for i := range subs {
		subs[i] = nil
	}
	*sp2 = subs[:0]
	subscriberSlices.Put(sp2)
}

// deliverPublication queues a publication for this client, or holds it
// while the subscription is syncing.
func (c *Client) deliverPublication(ch string, pub *engine.Publication, sp engine.StreamPosition, p *preparedPush) {
	c.mu.Lock()
	s := c.subs[ch]
	if s == nil {
		c.mu.Unlock()
		return
	}
	if s.syncing {
		s.pending = append(s.pending, pendingPub{pub: pub, sp: sp, push: p})
		c.mu.Unlock()
		return
	}
	ok := c.acceptPublicationLocked(s, pub, sp) && s.filter.match(pub.Tags)
	form := formPlain
	if ok {
		form = c.formLocked(s, p, pub, sp)
	}
	c.mu.Unlock()
	if ok {
		c.enqueuePush(p, form)
	}
}

// acceptPublicationLocked checks a positioned subscription's continuity:
// a duplicate is skipped, a gap means the client lost messages and must
// resubscribe (or reconnect, for server-side subscriptions). Callers hold
// c.mu; the resubscribe runs on its own goroutine because it takes c.mu.
func (c *Client) acceptPublicationLocked(s *subscription, pub *engine.Publication, sp engine.StreamPosition) bool {
	if !s.positioned || pub.Offset == 0 {
		return true
	}
	if sp.Epoch != "" && s.epoch != "" && sp.Epoch != s.epoch {
		go c.insufficientState(s)
		return false
	}
	if pub.Offset <= s.offset {
		return false
	}
	if pub.Offset != s.offset+1 {
		go c.insufficientState(s)
		return false
	}
	s.offset = pub.Offset
	return true
}

func (c *Client) insufficientState(s *subscription) {
	c.log.Info("publication stream gap", "channel", s.channel)
	if s.serverSide {
		c.close(DisconnectInsufficientState)
		return
	}
	c.serverUnsubscribe(s.channel, UnsubscribeCodeInsufficientState, "insufficient state")
}

// broadcastJoinLeave tells subscribers that asked for it.
func (n *Node) broadcastJoinLeave(ch string, push *clientpb.Push) {
	subs := n.hub.subscribers(ch, nil)
	if len(subs) == 0 {
		return
	}
	p := &preparedPush{reply: &clientpb.Reply{Push: push}}
	for _, c := range subs {
		c.mu.Lock()
		s := c.subs[ch]
		want := s != nil && s.pushJoinLeave && !s.syncing
		c.mu.Unlock()
		if want {
			c.enqueuePush(p, formPlain)
		}
	}
}

// engineError maps engine failures to client errors.
func engineError(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, engine.ErrUnrecoverablePosition) {
		return ErrorUnrecoverablePosition
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &wrappedInternal{err}
}

// wrappedInternal keeps the cause of an internal error for logs while the
// client sees code 100.
type wrappedInternal struct{ err error }

func (w *wrappedInternal) Error() string { return w.err.Error() }
func (w *wrappedInternal) Unwrap() error { return w.err }
