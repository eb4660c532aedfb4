package node

import (
	"context"
	"errors"
	"time"
	"unicode/utf8"

	"github.com/spindle-rt/spindle/internal/fossil"
	"github.com/spindle-rt/spindle/internal/realtime/engine"
	"github.com/spindle-rt/spindle/internal/realtime/protocol"
	"github.com/spindle-rt/spindle/proto/clientpb"
)

// A map subscription is a sequence of subscribe commands on one channel,
// each carrying a phase:
//
//   - STATE (2) pages through the keys in key order. The first page fixes
//     the position (epoch, offset) the state is read at; later pages send it
//     back and leave out keys changed after it.
//   - STREAM (1) pages through the changes since that position, for a map
//     with a stream. A reconnecting client starts here with recover set,
//     from the position it had.
//   - LIVE (0) is the server's answer once the client is close enough to
//     the top: the subscription joins the hub (publications buffer from
//     then on), the rest of the stream is read and sent in the reply, and
//     the buffered publications follow it, so nothing is missed or sent
//     twice. Ephemeral maps go live after the last state page.
//
// Between commands the flow's authorisation and position wait in
// Client.mapFlows; only the first command is authorised like a stream
// subscribe (token, proxy, permissions), later ones continue it. A flow
// must finish within the namespace's catch-up timeout.

// Map subscribe phases (SubscribeRequest.phase).
const (
	phaseLive   int32 = 0
	phaseStream int32 = 1
	phaseState  int32 = 2
)

// ErrorConcurrentPagination answers a page requested while another page of
// the same channel is being served.
var ErrorConcurrentPagination = &Error{Code: 113, Message: "concurrent pagination", Temporary: true}

// mapFlow is a map subscription between its first command and LIVE.
type mapFlow struct {
	ns      *namespace
	opts    subOptions
	filter  *tagsFilter
	started time.Time
	// pos is the position the state was read at, or the client's
	// position when it recovers.
	pos        engine.StreamPosition
	recovering bool
	// top is the stream top captured by the first STREAM page.
	top    engine.StreamPosition
	topSet bool
	busy   bool
}

// handleMapSubscribe serves one command of a map subscription.
func (c *Client) handleMapSubscribe(ctx context.Context, req *clientpb.SubscribeRequest, info channelInfo) (*clientpb.Reply, error) {
	if c.n.maps == nil {
		return nil, ErrorNotAvailable
	}
	if req.Phase < phaseLive || req.Phase > phaseState {
		return nil, ErrorBadRequest
	}
	ch := req.Channel
	f, first, err := c.beginMapCommand(req)
	if err != nil {
		return nil, err
	}
	if first {
		f, err = c.startMapFlow(ctx, req, info)
		if err != nil {
			return nil, err
		}
	}
	res, live, err := c.mapPhase(ctx, req, f)
	c.mu.Lock()
	switch {
	case err != nil || live:
		// A failed page ends the flow: the client starts again.
		if c.mapFlows[ch] == f {
			delete(c.mapFlows, ch)
		}
	default:
		f.busy = false
	}
	c.mu.Unlock()
	if err != nil {
		return nil, err
	}
	return &clientpb.Reply{Subscribe: res}, nil
}

// beginMapCommand finds the flow a command continues (marking it busy),
// or says the command starts a new one.
func (c *Client) beginMapCommand(req *clientpb.SubscribeRequest) (*mapFlow, bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.status == statusClosed {
		return nil, false, DisconnectConnectionClosed
	}
	if _, ok := c.subs[req.Channel]; ok {
		return nil, false, ErrorAlreadySubscribed
	}
	f := c.mapFlows[req.Channel]
	starts := req.Phase == phaseLive ||
		(req.Phase == phaseState && req.Cursor == "" && req.Epoch == "") ||
		(req.Phase == phaseStream && req.Recover && f == nil)
	if f != nil && f.busy {
		return nil, false, ErrorConcurrentPagination
	}
	if starts {
		if f != nil {
			delete(c.mapFlows, req.Channel)
		}
		return nil, true, nil
	}
	if f == nil {
		return nil, false, ErrorPermissionDenied
	}
	if time.Since(f.started) > catchUpWindow(&f.ns.opts.Map) {
		delete(c.mapFlows, req.Channel)
		return nil, false, DisconnectSlow
	}
	f.busy = true
	return f, false, nil
}

// startMapFlow authorises the first command of a map subscription like a
// stream subscribe and stores the flow.
func (c *Client) startMapFlow(ctx context.Context, req *clientpb.SubscribeRequest, info channelInfo) (*mapFlow, error) {
	nsOpts := &info.ns.opts
	if req.Tf != nil && !nsOpts.AllowTagsFilter {
		return nil, ErrorBadRequest
	}
	filter, err := compileTagsFilter(req.Tf)
	if err != nil {
		return nil, err
	}
	opts, err := c.authorizeNew(ctx, req, info)
	if err != nil {
		return nil, err
	}
	// Deltas and a tags filter do not combine: a filtered subscriber
	// would lack the bases of the publications it skipped.
	opts.delta = opts.delta && filter == nil
	f := &mapFlow{ns: info.ns, opts: opts, filter: filter, started: time.Now(), busy: true}
	if req.Phase == phaseStream {
		f.recovering = true
		f.pos = engine.StreamPosition{Offset: req.Offset, Epoch: req.Epoch}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.status == statusClosed {
		return nil, DisconnectConnectionClosed
	}
	if c.mapFlows == nil {
		c.mapFlows = make(map[string]*mapFlow)
	}
	c.mapFlows[req.Channel] = f
	return f, nil
}

// mapPhase answers one page; live reports that the subscription is now
// in the hub.
func (c *Client) mapPhase(ctx context.Context, req *clientpb.SubscribeRequest, f *mapFlow) (*clientpb.SubscribeResult, bool, error) {
	switch req.Phase {
	case phaseState:
		return c.mapStatePage(ctx, req, f)
	case phaseStream:
		return c.mapStreamPage(ctx, req, f)
	}
	res, err := c.mapGoLive(ctx, req, f, nil, nil)
	return res, err == nil, err
}

func (c *Client) mapStatePage(ctx context.Context, req *clientpb.SubscribeRequest, f *mapFlow) (*clientpb.SubscribeResult, bool, error) {
	mo := &f.ns.opts.Map
	stream := mapStreamOptions(mo)
	limit := pageSize(mo, req.Limit)
	o := engine.MapStateOptions{MapStreamOptions: stream, Cursor: req.Cursor, Limit: limit}
	continued := req.Cursor != "" || req.Epoch != ""
	if continued {
		if req.Epoch != f.pos.Epoch {
			return nil, false, ErrorUnrecoverablePosition
		}
		o.Revision = &f.pos
	}
	st, err := c.n.maps.MapState(ctx, req.Channel, o)
	if err != nil {
		return nil, false, engineError(err)
	}
	if !continued {
		f.pos = st.Position
	}
	entries := filterPubs(f.filter, st.Entries)
	if st.Cursor != "" {
		return &clientpb.SubscribeResult{
			Type: subTypeMap, Phase: phaseState, Cursor: st.Cursor,
			Epoch: f.pos.Epoch, Offset: f.pos.Offset,
			State: c.mapPubsWhole(f.opts.delta, entries),
		}, false, nil
	}
	if stream.StreamSize <= 0 {
		res, err := c.mapGoLive(ctx, req, f, entries, nil)
		return res, err == nil, err
	}
	top, err := c.n.mapTop(ctx, req.Channel, f.ns)
	if err != nil {
		return nil, false, err
	}
	if top.Epoch != f.pos.Epoch {
		return nil, false, ErrorUnrecoverablePosition
	}
	if f.pos.Offset+uint64(limit) >= top.Offset {
		since := f.pos
		res, err := c.mapGoLive(ctx, req, f, entries, &since)
		return res, err == nil, err
	}
	// The state is complete; the changes since it come page by page.
	return &clientpb.SubscribeResult{
		Type: subTypeMap, Phase: phaseState,
		Epoch: f.pos.Epoch, Offset: f.pos.Offset,
		State: c.mapPubsWhole(f.opts.delta, entries),
	}, false, nil
}

func (c *Client) mapStreamPage(ctx context.Context, req *clientpb.SubscribeRequest, f *mapFlow) (*clientpb.SubscribeResult, bool, error) {
	mo := &f.ns.opts.Map
	stream := mapStreamOptions(mo)
	if stream.StreamSize <= 0 {
		return nil, false, ErrorBadRequest
	}
	if f.pos.Epoch != "" && req.Epoch != f.pos.Epoch {
		return nil, false, ErrorUnrecoverablePosition
	}
	limit := pageSize(mo, req.Limit)
	if !f.topSet {
		top, err := c.n.mapTop(ctx, req.Channel, f.ns)
		if err != nil {
			return nil, false, err
		}
		if req.Epoch != "" && top.Epoch != req.Epoch {
			return nil, false, ErrorUnrecoverablePosition
		}
		f.top, f.topSet = top, true
	}
	since := engine.StreamPosition{Offset: req.Offset, Epoch: req.Epoch}
	if req.Offset+uint64(limit) >= f.top.Offset {
		res, err := c.mapGoLive(ctx, req, f, nil, &since)
		return res, err == nil, err
	}
	pubs, top, err := c.n.maps.MapStream(ctx, req.Channel, engine.MapReadOptions{MapStreamOptions: stream, Since: &since, Limit: limit})
	if err != nil {
		return nil, false, engineError(err)
	}
	last := req.Offset
	if len(pubs) > 0 {
		last = pubs[len(pubs)-1].Offset
	}
	return &clientpb.SubscribeResult{
		Type: subTypeMap, Phase: phaseStream, Epoch: top.Epoch, Offset: last,
		Publications: c.mapPubsWhole(f.opts.delta, filterPubs(f.filter, pubs)),
	}, false, nil
}

// mapGoLive joins the hub and answers the LIVE reply: the state of the
// last page (if any), the changes since `since` (stream-backed maps), and
// the position from which the buffered publications continue.
func (c *Client) mapGoLive(ctx context.Context, req *clientpb.SubscribeRequest, f *mapFlow, state []*engine.Publication, since *engine.StreamPosition) (*clientpb.SubscribeResult, error) {
	ch := req.Channel
	mo := &f.ns.opts.Map
	stream := mapStreamOptions(mo)
	backed := stream.StreamSize > 0
	o := f.opts
	s := &subscription{
		channel:       ch,
		ns:            f.ns,
		mapType:       subscriptionTypeOf(&f.ns.opts),
		filter:        f.filter,
		chanInfo:      o.chanInfo,
		presence:      o.presence,
		emitJoinLeave: o.joinLeave,
		pushJoinLeave: o.pushJL,
		positioned:    backed,
		recoverable:   backed,
		delta:         o.delta,
		expireAt:      o.expireAt,
		syncing:       true,
		checkedAt:     time.Now(),
	}
	if err := c.join(ctx, s); err != nil {
		return nil, err
	}
	undo := func(err error) (*clientpb.SubscribeResult, error) {
		c.n.removeSubscription(ch, c, s)
		c.dropSub(ch)
		return nil, err
	}
	res := &clientpb.SubscribeResult{Type: subTypeMap, Phase: phaseLive, Data: o.data, Delta: s.delta}
	if o.expireAt > 0 && f.ns.opts.SubRefreshProxy == nil {
		res.Expires = true
		res.Ttl = ttlSeconds(o.expireAt - time.Now().Unix())
	}
	res.State = c.mapPubsWhole(s.delta, state)
	if backed {
		var pubs []*engine.Publication
		var top engine.StreamPosition
		var err error
		if since == nil {
			top, err = c.n.mapTop(ctx, ch, f.ns)
		} else {
			lim := liveLimit(mo)
			pubs, top, err = c.n.maps.MapStream(ctx, ch, engine.MapReadOptions{MapStreamOptions: stream, Since: since, Limit: lim + 1})
			if err == nil && len(pubs) > lim {
				err = ErrorUnrecoverablePosition
			}
		}
		if err != nil {
			return undo(engineError(err))
		}
		// Buffered publications up to here are in pubs; acceptPublication
		// drops them by offset when the buffer is released.
		s.epoch, s.offset, s.seenTop = top.Epoch, top.Offset, top.Offset
		res.Epoch, res.Offset, res.Recoverable = top.Epoch, top.Offset, true
		res.Publications = c.mapCatchUp(s.delta, filterPubs(f.filter, pubs))
		if f.recovering {
			res.WasRecovering, res.Recovered = true, true
		}
	} else {
		res.Epoch = f.pos.Epoch
	}
	if err := c.completeJoin(ctx, s); err != nil {
		return nil, err
	}
	return res, nil
}

// filterPubs keeps the publications a tags filter lets through.
func filterPubs(f *tagsFilter, pubs []*engine.Publication) []*engine.Publication {
	if f == nil {
		return pubs
	}
	out := make([]*engine.Publication, 0, len(pubs))
	for _, p := range pubs {
		if f.match(p.Tags) {
			out = append(out, p)
		}
	}
	return out
}

// toMapPub is a map publication as the client protocol carries it.
func toMapPub(p *engine.Publication) *clientpb.Publication {
	return &clientpb.Publication{Key: p.Key, Removed: p.Removed, Data: p.Data, Info: toProtoInfo(p.Info), Offset: p.Offset, Tags: p.Tags, Time: p.Time}
}

// mapPubsWhole encodes state entries and stream pages: whole values, as
// JSON strings on a JSON connection that negotiated delta.
func (c *Client) mapPubsWhole(delta bool, pubs []*engine.Publication) []*clientpb.Publication {
	if len(pubs) == 0 {
		return nil
	}
	out := make([]*clientpb.Publication, len(pubs))
	for i, p := range pubs {
		out[i] = toMapPub(p)
		if delta && !p.Removed {
			out[i].Data = deltaData(c.proto, p.Data)
		}
	}
	return out
}

// mapCatchUp encodes the LIVE reply's changes: with delta, each key's
// first change whole and later ones as patches against the change before.
func (c *Client) mapCatchUp(delta bool, pubs []*engine.Publication) []*clientpb.Publication {
	if !delta {
		return c.mapPubsWhole(false, pubs)
	}
	out := make([]*clientpb.Publication, len(pubs))
	prev := make(map[string][]byte)
	for i, p := range pubs {
		out[i] = toMapPub(p)
		if p.Removed {
			delete(prev, p.Key)
			continue
		}
		if base, ok := prev[p.Key]; ok {
			if patch := fossil.Delta(base, p.Data); len(patch) < len(p.Data) && (c.proto == protocol.TypeProtobuf || utf8.Valid(patch)) {
				out[i].Data, out[i].Delta = deltaData(c.proto, patch), true
				prev[p.Key] = p.Data
				continue
			}
		}
		out[i].Data = deltaData(c.proto, p.Data)
		prev[p.Key] = p.Data
	}
	return out
}

// mapSubscriptionEnded cleans up what a map subscription leaves: its key
// when remove_client_on_unsubscribe is on, and its entry in the presence
// map of the channel.
func (n *Node) mapSubscriptionEnded(ch string, c *Client, s *subscription) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if isMapType(s.mapType) && s.ns.opts.Map.RemoveClientOnUnsubscribe && n.maps != nil {
		if _, err := n.mapRemove(ctx, ch, s.ns, c.id, ""); err != nil {
			n.log.Warn("remove client key", "channel", ch, "error", err)
		}
	}
	if p := s.ns.opts.MapClientsPresenceChannelPrefix; p != "" && n.maps != nil {
		if ns, err := n.mapNamespace(p + ch); err == nil {
			if _, err := n.mapRemove(ctx, p+ch, ns, c.id, ""); err != nil && !errors.Is(err, ErrorNotAvailable) {
				n.log.Warn("remove from presence map", "channel", p+ch, "error", err)
			}
		}
	}
}
