package node

import (
	"context"
	"errors"
	"time"

	"github.com/spindle-rt/spindle/internal/realtime/auth"
	"github.com/spindle-rt/spindle/internal/realtime/engine"
	"github.com/spindle-rt/spindle/proto/clientpb"
)

// subscription is one client's membership in one channel.
type subscription struct {
	channel    string
	ns         *namespace
	serverSide bool
	// mapType is the map kind (subTypeMap…) of a map subscription, 0 for
	// a stream; filter is its tags filter (nil: everything).
	mapType int32
	filter  *tagsFilter
	// poll is a shared-poll subscription's tracked keys (nil otherwise).
	poll     *pollTracking
	chanInfo []byte

	presence      bool // keep this client in the channel's presence
	emitJoinLeave bool // tell others when this client joins and leaves
	pushJoinLeave bool // tell this client about others' joins and leaves
	positioned    bool
	recoverable   bool
	// delta: the client negotiated Fossil deltas; deltaReady, deltaOffset
	// and deltaEpoch say which publication it holds as its base (see
	// delta.go).
	delta       bool
	deltaReady  bool
	deltaOffset uint64
	deltaEpoch  string

	epoch  string
	offset uint64 // offset of the last publication delivered

	// checkedAt and seenTop drive the periodic position check: the
	// stream top seen at the last check, which the client must have
	// reached by the next one.
	checkedAt time.Time
	seenTop   uint64

	expireAt int64 // Unix seconds, 0 = never

	// syncing is true from the moment the client is in the hub until its
	// subscribe reply is queued; publications arriving meanwhile wait in
	// pending so none is lost, duplicated or sent before the reply.
	syncing bool
	pending []pendingPub
}

type pendingPub struct {
	pub  *engine.Publication
	sp   engine.StreamPosition
	push *preparedPush
}

// subOptions is the resolved behaviour of a new subscription.
type subOptions struct {
	chanInfo    []byte
	data        []byte
	expireAt    int64
	presence    bool
	joinLeave   bool
	pushJL      bool
	positioned  bool
	recoverable bool
	delta       bool
}

// applyOverride lets a token or proxy change namespace flags for one
// subscription.
func (o *subOptions) applyOverride(ov *auth.Override) {
	if ov == nil {
		return
	}
	if ov.Presence != nil {
		o.presence = *ov.Presence
	}
	if ov.JoinLeave != nil {
		o.joinLeave = *ov.JoinLeave
	}
	if ov.ForcePushJoinLeave != nil {
		o.pushJL = *ov.ForcePushJoinLeave
	}
	if ov.ForcePositioning != nil {
		o.positioned = *ov.ForcePositioning
	}
	if ov.ForceRecovery != nil {
		o.recoverable = *ov.ForceRecovery
	}
}

func historyOn(o *ChannelOptions) bool { return o.HistorySize > 0 && o.HistoryTTL > 0 }

// handleSubscribe is a client-side subscribe: the request is checked,
// the subscription authorised and its options resolved, then the client
// joins the channel (registration, positioning, recovery, reply).
func (c *Client) handleSubscribe(ctx context.Context, req *clientpb.SubscribeRequest) (*clientpb.Reply, error) {
	info, err := c.checkSubscribeRequest(req)
	if err != nil {
		return nil, err
	}
	switch {
	case isMapType(req.Type):
		return c.handleMapSubscribe(ctx, req, info)
	case req.Type == subTypeSharedPoll:
		return c.handleSharedPollSubscribe(ctx, req, info)
	}
	opts, err := c.authorizeNew(ctx, req, info)
	if err != nil {
		return nil, err
	}
	res, err := c.subscribe(ctx, req.Channel, info.ns, opts, false, req)
	if err != nil {
		return nil, err
	}
	return &clientpb.Reply{Subscribe: res}, nil
}

// checkSubscribeRequest rejects what no configuration allows: a missing
// channel or unknown delta (bad request, closes), map subscriptions (not
// available), bad or unknown channel names.
func (c *Client) checkSubscribeRequest(req *clientpb.SubscribeRequest) (channelInfo, error) {
	if req.Channel == "" {
		return channelInfo{}, DisconnectBadRequest
	}
	if req.Delta != "" && req.Delta != "fossil" {
		return channelInfo{}, DisconnectBadRequest
	}
	info, cerr := c.n.settings().rules.validate(req.Channel)
	if cerr != nil {
		return info, cerr
	}
	// The request's type must be the namespace's (Centrifugo checks
	// shared poll first: a type 4 request elsewhere is 108).
	want := subscriptionTypeOf(&info.ns.opts)
	switch {
	case req.Type == subTypeSharedPoll && want != subTypeSharedPoll:
		return info, ErrorNotAvailable
	case want == subTypeSharedPoll && req.Type != subTypeSharedPoll:
		return info, ErrorBadRequest
	case req.Type != want:
		return info, ErrorPermissionDenied
	}
	return info, nil
}

// authorizeNew decides a client's subscribe (every type: stream, the
// first page of a map, shared poll): limits, then the authorisation, then
// the subscription's options.
func (c *Client) authorizeNew(ctx context.Context, req *clientpb.SubscribeRequest, info channelInfo) (subOptions, error) {
	user, err := c.checkSubscriptionLimits(req.Channel)
	if err != nil {
		return subOptions{}, err
	}
	g, err := c.authorizeSubscribe(ctx, req, info, user)
	if err != nil {
		return subOptions{}, err
	}
	return c.subscribeOptions(req, info, user, g)
}

// checkSubscriptionLimits refuses a second subscription to ch and one over
// the channel limit; it returns the connection's user for the checks that
// follow.
func (c *Client) checkSubscriptionLimits(ch string) (string, error) {
	c.mu.Lock()
	_, already := c.subs[ch]
	count := len(c.subs)
	user := c.user
	c.mu.Unlock()
	if already {
		return "", ErrorAlreadySubscribed
	}
	if lim := c.n.settings().cfg.Client.ChannelLimit; lim > 0 && count >= lim {
		return "", ErrorLimitExceeded
	}
	return user, nil
}

// subGrant is what authorised a subscription: payloads and expiry from a
// token or backend, their override of namespace options, and whether the
// client's own flags may still shape the subscription.
type subGrant struct {
	opts        subOptions // chanInfo, data and expireAt only
	override    *auth.Override
	clientFlags bool
}

// authorizeSubscribe decides whether the user may subscribe, in the order
// Centrifugo applies: private channels need a token, a token wins, then
// user-limited channels, the subscribe proxy, the namespace permissions,
// and insecure mode.
func (c *Client) authorizeSubscribe(ctx context.Context, req *clientpb.SubscribeRequest, info channelInfo, user string) (subGrant, error) {
	nsOpts := &info.ns.opts
	g := subGrant{clientFlags: true}
	switch {
	case info.private && req.Token == "":
		return g, ErrorPermissionDenied
	case req.Token != "":
		tok, err := c.verifySubToken(ctx, req.Token, req.Channel, user)
		if err != nil {
			return g, err
		}
		g.opts.chanInfo, g.opts.data, g.opts.expireAt = tok.Info, tok.Data, tok.ExpireAt
		g.override = tok.Override
	case c.userLimitedAllowed(info, req.Channel, user):
	case nsOpts.ProxySubscribe:
		p := nsOpts.SubscribeProxy
		if p == nil {
			return g, ErrorNotAvailable
		}
		// The backend decides; only namespace force_* options and its
		// override shape the subscription, not the client's flags.
		g.clientFlags = false
		ov, err := c.subscribeViaProxy(ctx, p, req.Channel, req.Data, &g.opts)
		if err != nil {
			return g, err
		}
		g.override = ov
	case nsOpts.AllowSubscribeForClient && (user != "" || nsOpts.AllowSubscribeForAnonymous) && !c.isUserLimited(info, req.Channel):
	case c.n.settings().cfg.Client.Insecure:
	default:
		return g, ErrorPermissionDenied
	}
	return g, nil
}

// subscribeOptions resolves the subscription's behaviour: namespace
// defaults and force_* options, the client's flags where its history and
// presence permissions allow them, then the grant's override. A grant
// that has already expired is refused.
func (c *Client) subscribeOptions(req *clientpb.SubscribeRequest, info channelInfo, user string, g subGrant) (subOptions, error) {
	nsOpts := &info.ns.opts
	o := g.opts
	o.presence = nsOpts.Presence
	o.joinLeave = nsOpts.JoinLeave
	o.pushJL = nsOpts.ForcePushJoinLeave
	o.positioned = nsOpts.ForcePositioning
	o.recoverable = nsOpts.ForceRecovery
	if g.clientFlags {
		insecure := c.n.settings().cfg.Client.Insecure
		historyPerm := insecure || allowedFor(user, nsOpts.AllowHistoryForClient, nsOpts.AllowHistoryForAnonymous) || nsOpts.AllowHistoryForSubscriber
		presencePerm := insecure || allowedFor(user, nsOpts.AllowPresenceForClient, nsOpts.AllowPresenceForAnonymous) || nsOpts.AllowPresenceForSubscriber
		o.positioned = o.positioned || (req.Positioned && (nsOpts.AllowPositioning || historyPerm))
		o.recoverable = o.recoverable || (req.Recoverable && (nsOpts.AllowRecovery || historyPerm))
		o.pushJL = o.pushJL || (req.JoinLeave && nsOpts.JoinLeave && presencePerm)
	}
	o.delta = req.Delta == "fossil" && nsOpts.DeltaFossil
	o.applyOverride(g.override)
	if o.expireAt > 0 && o.expireAt <= time.Now().Unix() {
		return o, ErrorExpired
	}
	return o, nil
}

// allowedFor applies the *_for_client / *_for_anonymous pair of options.
func allowedFor(user string, forClient, forAnonymous bool) bool {
	return forClient && (user != "" || forAnonymous)
}

func (c *Client) isUserLimited(info channelInfo, ch string) bool {
	if !info.ns.opts.AllowUserLimitedChannels {
		return false
	}
	limited, _ := c.n.settings().rules.userAllowed(ch, "")
	return limited
}

func (c *Client) userLimitedAllowed(info channelInfo, ch, user string) bool {
	if !info.ns.opts.AllowUserLimitedChannels {
		return false
	}
	limited, ok := c.n.settings().rules.userAllowed(ch, user)
	return limited && ok
}

// verifySubToken checks a subscription token against the channel and the
// connection: an expired token is 109, a bad one 103, a token for another
// channel, user or client closes the connection.
func (c *Client) verifySubToken(ctx context.Context, token, ch, user string) (auth.SubscribeToken, error) {
	subTok := c.n.settings().subTok
	if subTok == nil {
		return auth.SubscribeToken{}, ErrorPermissionDenied
	}
	tok, err := subTok.VerifySubscribeToken(ctx, token)
	if err != nil {
		if errors.Is(err, auth.ErrTokenExpired) {
			return tok, ErrorTokenExpired
		}
		c.log.Info("invalid subscription token", "channel", ch, "error", err)
		return tok, ErrorPermissionDenied
	}
	if tok.Channel != ch || tok.UserID != user || (tok.Client != "" && tok.Client != c.id) {
		c.log.Info("subscription token does not match", "channel", ch, "token_channel", tok.Channel)
		return tok, DisconnectInvalidToken
	}
	return tok, nil
}

// subscribeServerSide joins a channel the server chose for the client at
// connect time.
func (c *Client) subscribeServerSide(ctx context.Context, s serverSubRequest, recoverReq *clientpb.SubscribeRequest) (*clientpb.SubscribeResult, error) {
	info, err := c.n.settings().rules.lookup(s.channel)
	if err != nil {
		return nil, err
	}
	ns := &info.ns.opts
	opts := subOptions{
		chanInfo:    s.opts.Info,
		data:        s.opts.Data,
		presence:    ns.Presence,
		joinLeave:   ns.JoinLeave,
		pushJL:      ns.ForcePushJoinLeave,
		positioned:  ns.ForcePositioning,
		recoverable: ns.ForceRecovery,
	}
	opts.applyOverride(s.opts.Override)
	req := recoverReq
	if req == nil {
		req = &clientpb.SubscribeRequest{}
	}
	return c.subscribe(ctx, s.channel, info.ns, opts, true, req)
}

// subscribe adds the subscription, registers the node with the broker and
// computes the reply (position, recovered publications). The subscription
// stays in syncing state until afterReply.
func (c *Client) subscribe(ctx context.Context, ch string, ns *namespace, o subOptions, serverSide bool, req *clientpb.SubscribeRequest) (*clientpb.SubscribeResult, error) {
	hist := historyOn(&ns.opts)
	if !hist {
		o.positioned, o.recoverable = false, false
	}
	if o.recoverable {
		o.positioned = true
	}
	s := &subscription{
		channel:       ch,
		ns:            ns,
		serverSide:    serverSide,
		chanInfo:      o.chanInfo,
		presence:      o.presence,
		emitJoinLeave: o.joinLeave,
		pushJoinLeave: o.pushJL,
		positioned:    o.positioned,
		recoverable:   o.recoverable,
		delta:         o.delta,
		expireAt:      o.expireAt,
		syncing:       true,
		checkedAt:     time.Now(),
	}
	if err := c.join(ctx, s); err != nil {
		return nil, err
	}
	res := &clientpb.SubscribeResult{Data: o.data, Delta: s.delta}
	if o.expireAt > 0 && ns.opts.SubRefreshProxy == nil {
		res.Expires = true
		res.Ttl = ttlSeconds(o.expireAt - time.Now().Unix())
	}
	if s.positioned {
		if err := c.position(ctx, s, req, res); err != nil {
			c.n.removeSubscription(ch, c, s)
			c.dropSub(ch)
			return nil, err
		}
	}
	if err := c.completeJoin(ctx, s); err != nil {
		return nil, err
	}
	return res, nil
}

// completeJoin adds a joined subscription to presence and undoes the
// join when the connection closed meanwhile.
func (c *Client) completeJoin(ctx context.Context, s *subscription) error {
	ch := s.channel
	if s.presence {
		if err := c.n.engine.AddPresence(ctx, ch, c.id, c.clientInfo(s.chanInfo)); err != nil {
			c.log.Warn("add presence", "channel", ch, "error", err)
		}
	}
	// A close that raced with this subscribe may have taken c.subs before
	// the hub or the presence knew of this subscription, so its cleanup
	// missed them; undo them here, or the closed client would stay a
	// subscriber and in presence. A close after this check finds the
	// subscription complete and cleans it up itself.
	c.mu.Lock()
	closed := c.status == statusClosed
	c.mu.Unlock()
	if closed {
		c.n.removeSubscription(ch, c, s)
		return DisconnectConnectionClosed
	}
	return nil
}

// join puts a new (syncing) subscription in c.subs and the hub, so
// publications buffer in it from now on.
func (c *Client) join(ctx context.Context, s *subscription) error {
	ch := s.channel
	c.mu.Lock()
	if c.status == statusClosed {
		c.mu.Unlock()
		return DisconnectConnectionClosed
	}
	if _, ok := c.subs[ch]; ok {
		c.mu.Unlock()
		return ErrorAlreadySubscribed
	}
	c.subs[ch] = s
	c.mu.Unlock()
	if err := c.n.addSubscription(ctx, ch, c, isMapType(s.mapType)); err != nil {
		c.dropSub(ch)
		return err
	}
	return nil
}

func (c *Client) dropSub(ch string) {
	c.mu.Lock()
	if c.subs != nil {
		delete(c.subs, ch)
	}
	c.mu.Unlock()
}

// position fills the reply with the stream position and, when the client
// asked to recover, the publications it missed.
func (c *Client) position(ctx context.Context, s *subscription, req *clientpb.SubscribeRequest, res *clientpb.SubscribeResult) error {
	eng := c.n.engine
	metaTTL := s.ns.opts.HistoryMetaTTL
	if metaTTL == 0 {
		metaTTL = c.n.settings().cfg.Channel.HistoryMetaTTL
	}
	res.Positioned = true
	res.Recoverable = s.recoverable
	res.WasRecovering = req.Recover
	if s.recoverable && req.Recover {
		pubs, top, recovered, err := c.recover(ctx, s, req, metaTTL)
		if err != nil {
			return err
		}
		res.Epoch = top.Epoch
		if recovered {
			res.Recovered = true
			res.Offset = req.Offset
			if s.delta {
				res.Publications = c.recoveredForDelta(s, pubs, top.Epoch)
			} else {
				res.Publications = make([]*clientpb.Publication, len(pubs))
				for i, p := range pubs {
					res.Publications[i] = toProtoPub(p)
				}
			}
			s.offset = req.Offset
			if len(pubs) > 0 {
				s.offset = pubs[len(pubs)-1].Offset
			}
		} else {
			if req.Flag&2 != 0 {
				return ErrorUnrecoverablePosition
			}
			res.Offset = top.Offset
			s.offset = top.Offset
		}
		s.epoch = top.Epoch
		c.n.metrics.recoveries.WithLabelValues(boolLabel(recovered)).Inc()
		return nil
	}
	_, top, err := eng.History(ctx, s.channel, engine.HistoryOptions{Limit: 0, MetaTTL: metaTTL})
	if err != nil {
		return engineError(err)
	}
	res.Epoch, res.Offset = top.Epoch, top.Offset
	s.epoch, s.offset = top.Epoch, top.Offset
	return nil
}

// recover fetches what the client missed since its last position and says
// whether continuity is proven.
func (c *Client) recover(ctx context.Context, s *subscription, req *clientpb.SubscribeRequest, metaTTL time.Duration) ([]*engine.Publication, engine.StreamPosition, bool, error) {
	eng := c.n.engine
	limit := c.n.settings().cfg.Client.RecoveryMaxPublicationLimit
	// An empty request epoch matches any stream (engine contract).
	epoch := req.Epoch
	if s.ns.opts.ForceRecoveryMode == "cache" {
		pubs, top, err := eng.History(ctx, s.channel, engine.HistoryOptions{Limit: 1, Reverse: true, MetaTTL: metaTTL})
		if err != nil {
			return nil, top, false, engineError(err)
		}
		if len(pubs) > 0 && pubs[0].Offset > req.Offset {
			return pubs, top, true, nil
		}
		return nil, top, true, nil
	}
	fetch := -1
	if limit > 0 {
		fetch = limit + 1
	}
	pubs, top, err := eng.History(ctx, s.channel, engine.HistoryOptions{
		Since:   &engine.StreamPosition{Offset: req.Offset, Epoch: epoch},
		Limit:   fetch,
		MetaTTL: metaTTL,
	})
	if errors.Is(err, engine.ErrUnrecoverablePosition) {
		_, top, err = eng.History(ctx, s.channel, engine.HistoryOptions{Limit: 0, MetaTTL: metaTTL})
		if err != nil {
			return nil, top, false, engineError(err)
		}
		return nil, top, false, nil
	}
	if err != nil {
		return nil, top, false, engineError(err)
	}
	if limit > 0 && len(pubs) > limit {
		return nil, top, false, nil
	}
	var recovered bool
	if len(pubs) == 0 {
		recovered = top.Offset == req.Offset
	} else {
		recovered = pubs[0].Offset == req.Offset+1 && pubs[len(pubs)-1].Offset == top.Offset
	}
	if !recovered {
		return nil, top, false, nil
	}
	return pubs, top, true, nil
}

// afterReply ends the syncing state of the subscriptions to channels once
// their reply (or subscribe push) is queued: buffered publications follow
// the reply, then live ones. Joins are announced last, so the subscriber
// sees its own. Only the named subscriptions are released: another one may
// still wait for its own reply, as when a server API subscribe completes
// while a client subscribe is reading history.
func (c *Client) afterReply(channels ...string) {
	type joined struct {
		ch   string
		info []byte
	}
	var joins []joined
	var presenceMaps []*subscription
	c.mu.Lock()
	for _, ch := range channels {
		s := c.subs[ch]
		if s == nil || !s.syncing {
			continue
		}
		pending := s.pending
		s.pending = nil
		s.syncing = false
		for _, p := range pending {
			if c.acceptPublicationLocked(s, p.pub, p.sp) && s.filter.match(p.pub.Tags) {
				c.enqueuePush(p.push, c.formLocked(s, p.push, p.pub, p.sp))
			}
		}
		if s.emitJoinLeave {
			joins = append(joins, joined{ch, s.chanInfo})
		}
		if s.ns.opts.MapClientsPresenceChannelPrefix != "" || s.ns.opts.MapUsersPresenceChannelPrefix != "" {
			presenceMaps = append(presenceMaps, s)
		}
	}
	c.mu.Unlock()
	for _, s := range presenceMaps {
		c.writePresenceMaps(s)
	}
	for _, j := range joins {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second*5)
		if err := c.n.engine.PublishJoin(ctx, j.ch, c.clientInfo(j.info)); err != nil {
			c.log.Warn("publish join", "channel", j.ch, "error", err)
		}
		cancel()
	}
}

// handleUnsubscribe leaves a channel; it always succeeds.
func (c *Client) handleUnsubscribe(ctx context.Context, req *clientpb.UnsubscribeRequest) (*clientpb.Reply, error) {
	if req.Channel == "" {
		return nil, DisconnectBadRequest
	}
	c.mu.Lock()
	s := c.subs[req.Channel]
	if s != nil {
		delete(c.subs, req.Channel)
	}
	delete(c.mapFlows, req.Channel)
	c.mu.Unlock()
	if s != nil {
		c.n.removeSubscription(req.Channel, c, s)
	}
	return &clientpb.Reply{Unsubscribe: &clientpb.UnsubscribeResult{}}, nil
}

// serverUnsubscribe removes a subscription and tells the client why.
func (c *Client) serverUnsubscribe(ch string, code uint32, reason string) {
	c.mu.Lock()
	s := c.subs[ch]
	if s != nil {
		delete(c.subs, ch)
	}
	c.mu.Unlock()
	if s == nil {
		return
	}
	c.n.removeSubscription(ch, c, s)
	c.sendReply(&clientpb.Reply{Push: &clientpb.Push{Channel: ch, Unsubscribe: &clientpb.Unsubscribe{Code: code, Reason: reason}}})
}

// handleSubRefresh takes a new subscription token (client-side refresh).
func (c *Client) handleSubRefresh(ctx context.Context, req *clientpb.SubRefreshRequest) (*clientpb.Reply, error) {
	if req.Channel == "" {
		return nil, DisconnectBadRequest
	}
	if req.Type != 0 {
		return c.handleTrack(ctx, req)
	}
	if req.Token == "" {
		return nil, ErrorBadRequest
	}
	c.mu.Lock()
	s := c.subs[req.Channel]
	user := c.user
	c.mu.Unlock()
	if s == nil {
		return nil, ErrorPermissionDenied
	}
	if s.ns.opts.SubRefreshProxy != nil {
		return nil, DisconnectBadRequest
	}
	tok, err := c.verifySubToken(ctx, req.Token, req.Channel, user)
	if err != nil {
		return nil, err
	}
	now := time.Now().Unix()
	if tok.ExpireAt > 0 && tok.ExpireAt <= now {
		return nil, ErrorExpired
	}
	c.mu.Lock()
	s.expireAt = tok.ExpireAt
	if len(tok.Info) > 0 {
		s.chanInfo = tok.Info
	}
	c.mu.Unlock()
	res := &clientpb.SubRefreshResult{}
	if tok.ExpireAt > 0 {
		res.Expires = true
		res.Ttl = ttlSeconds(tok.ExpireAt - now)
	}
	return &clientpb.Reply{SubRefresh: res}, nil
}
