package node

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/spindle-rt/spindle/internal/realtime/engine"
	"github.com/spindle-rt/spindle/proto/clientpb"
)

// channelForCommand validates the channel of publish, presence and history
// commands.
func (c *Client) channelForCommand(ch string) (channelInfo, error) {
	if ch == "" {
		return channelInfo{}, DisconnectBadRequest
	}
	info, err := c.n.settings().rules.lookup(ch)
	if err != nil {
		return info, err
	}
	return info, nil
}

// subscribed reports whether the client is subscribed to ch and its
// channel info there.
func (c *Client) subscribed(ch string) (bool, []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.subs[ch]
	if s == nil {
		return false, nil
	}
	return true, s.chanInfo
}

// permitted applies the client / subscriber / anonymous / insecure rules
// shared by publish, presence and history.
func (c *Client) permitted(forClient, forSubscriber, forAnonymous bool, ch string) bool {
	if c.n.settings().cfg.Client.Insecure {
		return true
	}
	user := c.User()
	if forClient && (user != "" || forAnonymous) {
		return true
	}
	if forSubscriber && (user != "" || forAnonymous) {
		ok, _ := c.subscribed(ch)
		return ok
	}
	return false
}

func (c *Client) handlePublish(ctx context.Context, req *clientpb.PublishRequest) (*clientpb.Reply, error) {
	info, err := c.channelForCommand(req.Channel)
	if err != nil {
		return nil, err
	}
	o := &info.ns.opts
	switch isMap := isMapType(subscriptionTypeOf(o)); {
	case req.Type == subTypeMap && isMap:
		return c.handleMapPublish(ctx, req, info)
	case req.Type != subTypeStream || isMap:
		// A map write to a stream, or a stream publish to a map.
		return nil, ErrorBadRequest
	}
	data := req.Data
	skipHistory := false
	if o.ProxyPublish {
		p := info.ns.opts.PublishProxy
		if p == nil {
			return nil, ErrorNotAvailable
		}
		data, skipHistory, err = c.publishViaProxy(ctx, p, req.Channel, data)
		if err != nil {
			return nil, err
		}
	} else if !c.permitted(o.AllowPublishForClient, o.AllowPublishForSubscriber, o.AllowPublishForAnonymous, req.Channel) {
		return nil, ErrorPermissionDenied
	}
	_, chanInfo := c.subscribed(req.Channel)
	if _, err := c.n.publish(ctx, req.Channel, info.ns, data, publishOptions{info: c.clientInfo(chanInfo), skipHistory: skipHistory}); err != nil {
		return nil, err
	}
	return &clientpb.Reply{Publish: &clientpb.PublishResult{}}, nil
}

// presenceAllowed applies the checks presence and presence_stats share:
// presence on for the channel (else 108), then the permission rules.
func (c *Client) presenceAllowed(ch string) error {
	info, err := c.channelForCommand(ch)
	if err != nil {
		return err
	}
	o := &info.ns.opts
	if !o.Presence {
		return ErrorNotAvailable
	}
	if !c.permitted(o.AllowPresenceForClient, o.AllowPresenceForSubscriber, o.AllowPresenceForAnonymous, ch) {
		return ErrorPermissionDenied
	}
	return nil
}

func (c *Client) handlePresence(ctx context.Context, req *clientpb.PresenceRequest) (*clientpb.Reply, error) {
	if err := c.presenceAllowed(req.Channel); err != nil {
		return nil, err
	}
	p, err := c.n.engine.Presence(ctx, req.Channel)
	if err != nil {
		return nil, engineError(err)
	}
	res := &clientpb.PresenceResult{Presence: make(map[string]*clientpb.ClientInfo, len(p))}
	for id, ci := range p {
		res.Presence[id] = toProtoInfo(ci)
	}
	return &clientpb.Reply{Presence: res}, nil
}

func (c *Client) handlePresenceStats(ctx context.Context, req *clientpb.PresenceStatsRequest) (*clientpb.Reply, error) {
	if err := c.presenceAllowed(req.Channel); err != nil {
		return nil, err
	}
	st, err := c.n.engine.PresenceStats(ctx, req.Channel)
	if err != nil {
		return nil, engineError(err)
	}
	return &clientpb.Reply{PresenceStats: &clientpb.PresenceStatsResult{NumClients: uint32(st.NumClients), NumUsers: uint32(st.NumUsers)}}, nil
}

func (c *Client) handleHistory(ctx context.Context, req *clientpb.HistoryRequest) (*clientpb.Reply, error) {
	info, err := c.channelForCommand(req.Channel)
	if err != nil {
		return nil, err
	}
	o := &info.ns.opts
	if !historyOn(o) {
		return nil, ErrorNotAvailable
	}
	if !c.permitted(o.AllowHistoryForClient, o.AllowHistoryForSubscriber, o.AllowHistoryForAnonymous, req.Channel) {
		return nil, ErrorPermissionDenied
	}
	var since *engine.StreamPosition
	if req.Since != nil {
		since = &engine.StreamPosition{Offset: req.Since.Offset, Epoch: req.Since.Epoch}
	}
	pubs, top, err := c.n.history(ctx, req.Channel, info.ns, since, int(req.Limit), req.Reverse, c.n.settings().cfg.Client.HistoryMaxPublicationLimit)
	if err != nil {
		return nil, err
	}
	res := &clientpb.HistoryResult{Epoch: top.Epoch, Offset: top.Offset, Publications: make([]*clientpb.Publication, len(pubs))}
	for i, p := range pubs {
		res.Publications[i] = toProtoPub(p)
	}
	return &clientpb.Reply{History: res}, nil
}

func (c *Client) handleRPC(ctx context.Context, req *clientpb.RPCRequest) (*clientpb.Reply, error) {
	rpc := &c.n.settings().cfg.RPC
	if rpc.Ping && req.Method == rpc.PingMethod {
		return &clientpb.Reply{Rpc: &clientpb.RPCResult{}}, nil
	}
	p, err := c.n.rpcProxy(req.Method)
	if err != nil {
		return nil, err
	}
	data, err := c.rpcViaProxy(ctx, p, req.Method, req.Data)
	if err != nil {
		return nil, err
	}
	return &clientpb.Reply{Rpc: &clientpb.RPCResult{Data: data}}, nil
}

// rpcProxy routes a method: `ns:name` to its rpc namespace's proxy when
// rpc namespaces are configured, anything else to the default RPC proxy.
func (n *Node) rpcProxy(method string) (*Proxy, error) {
	s := n.settings()
	if len(s.rpcNS) > 0 {
		boundary := s.cfg.RPC.NamespaceBoundary
		if boundary == "" {
			boundary = ":"
		}
		if i := strings.Index(method, boundary); i >= 0 {
			p, ok := s.rpcNS[method[:i]]
			if !ok {
				return nil, ErrorMethodNotFound
			}
			if p == nil {
				return nil, ErrorNotAvailable
			}
			return p, nil
		}
	}
	if s.cfg.RPCProxy == nil {
		return nil, ErrorNotAvailable
	}
	return s.cfg.RPCProxy, nil
}

// startTicks arms the periodic work of a connection: presence refresh and
// subscription expiry.
func (c *Client) startTicks() {
	iv := c.n.settings().cfg.Client.PresenceUpdateInterval
	if iv <= 0 {
		return
	}
	c.mu.Lock()
	c.tickTimer = time.AfterFunc(iv, c.tick)
	c.mu.Unlock()
}

func (c *Client) tick() {
	now := time.Now().Unix()
	grace := int64(c.n.settings().cfg.Client.ExpiredSubCloseDelay / time.Second)
	type presenceEntry struct {
		ch   string
		info []byte
	}
	var presence []presenceEntry
	var presenceMaps []*subscription
	type lapsedKeys struct {
		ch   string
		keys []string
	}
	var lapsed []lapsedKeys
	var expired []*subscription
	c.mu.Lock()
	if c.status != statusConnected {
		c.mu.Unlock()
		return
	}
	var refresh, positionCheck []*subscription
	checkEvery := c.n.settings().cfg.Client.PositionCheckDelay
	for ch, s := range c.subs {
		if s.positioned && !s.syncing && checkEvery > 0 && time.Since(s.checkedAt) >= checkEvery {
			positionCheck = append(positionCheck, s)
		}
		if s.expireAt > 0 && s.ns.opts.SubRefreshProxy != nil && now >= s.expireAt {
			refresh = append(refresh, s)
		} else if s.expireAt > 0 && now >= s.expireAt+grace {
			expired = append(expired, s)
			continue
		}
		if s.presence {
			presence = append(presence, presenceEntry{ch, s.chanInfo})
		}
		if !s.syncing && (s.ns.opts.MapClientsPresenceChannelPrefix != "" || s.ns.opts.MapUsersPresenceChannelPrefix != "") {
			presenceMaps = append(presenceMaps, s)
		}
		if s.poll != nil {
			if gone := expirePollKeysLocked(s, time.Now()); len(gone) > 0 {
				lapsed = append(lapsed, lapsedKeys{s.channel, gone})
			}
		}
	}
	c.mu.Unlock()
	// The next tick is armed only when this one is done, so a slow
	// sub_refresh proxy never has a second call for the same subscription
	// started over the first (at most one tick, and so one refresh, in
	// flight per connection).
	defer c.rearmTick()

	for _, s := range refresh {
		if !c.refreshSubscription(s) {
			expired = append(expired, s)
		}
	}
	for _, s := range expired {
		if s.serverSide {
			c.close(DisconnectSubExpired)
			return
		}
		c.serverUnsubscribe(s.channel, UnsubscribeCodeExpired, "subscription expired")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, s := range positionCheck {
		c.checkPosition(ctx, s)
	}
	for _, p := range presence {
		if err := c.n.engine.AddPresence(ctx, p.ch, c.id, c.clientInfo(p.info)); err != nil {
			c.log.Warn("refresh presence", "channel", p.ch, "error", err)
		}
	}
	for _, s := range presenceMaps {
		c.writePresenceMaps(s)
	}
	for _, l := range lapsed {
		if pc := c.n.existingPollChannel(l.ch); pc != nil {
			pc.untrack(c, l.keys)
		}
	}
}

// rearmTick schedules the next tick of a connection still connected.
func (c *Client) rearmTick() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.status == statusConnected && c.tickTimer != nil {
		c.tickTimer.Reset(c.n.settings().cfg.Client.PresenceUpdateInterval)
	}
}

// refreshSubscription asks the sub_refresh proxy to prolong s; false means
// the subscription expired.
func (c *Client) refreshSubscription(s *subscription) bool {
	p := s.ns.opts.SubRefreshProxy
	ctx, cancel := context.WithTimeout(context.Background(), proxyTimeout(p))
	defer cancel()
	expireAt, info, err := c.subRefreshViaProxy(ctx, p, s.channel)
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case errors.Is(err, errProxyRetry):
		s.expireAt = time.Now().Unix() + int64(serverRefreshRetry/time.Second)
		return true
	case err != nil:
		return false
	}
	if expireAt > 0 && expireAt <= time.Now().Unix() {
		return false
	}
	s.expireAt = expireAt
	if len(info) > 0 {
		s.chanInfo = info
	}
	return true
}

// checkPosition compares a positioned subscription with its stream: a new
// epoch (the stream was lost, e.g. Redis restarted empty) or a client
// still behind the top seen at the previous check (publications that
// never arrived, e.g. while the broker link was down) means it missed
// something, and it is told to resubscribe and recover rather than stay
// silently behind. Being behind for less than one interval is normal: a
// publication may be on its way.
func (c *Client) checkPosition(ctx context.Context, s *subscription) {
	var top engine.StreamPosition
	var err error
	if isMapType(s.mapType) {
		top, err = c.n.mapTop(ctx, s.channel, s.ns)
	} else {
		_, top, err = c.n.engine.History(ctx, s.channel, engine.HistoryOptions{Limit: 0})
	}
	if err != nil {
		return // engine unavailable: check again next time
	}
	c.mu.Lock()
	behind := s.epoch != "" && top.Epoch != s.epoch || s.offset < s.seenTop
	s.seenTop = top.Offset
	s.checkedAt = time.Now()
	c.mu.Unlock()
	if behind {
		c.insufficientState(s)
	}
}
