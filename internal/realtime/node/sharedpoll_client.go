package node

import (
	"context"
	"encoding/json"
	"time"

	"github.com/spindle-rt/spindle/proto/clientpb"
	"github.com/spindle-rt/spindle/proto/proxypb"
)

// The client half of shared poll: subscribe with type 4, then track and
// untrack keys with sub_refresh (type 1 track, with signed batches and an
// optional inline untrack; type 2 untrack). See sharedpoll.go for the
// polling.

// Track request types (SubRefreshRequest.type).
const (
	refreshTypeTrack   int32 = 1
	refreshTypeUntrack int32 = 2
)

// pollTracking is a shared-poll subscription's tracked keys; guarded by
// the client's mu.
type pollTracking struct {
	keys map[string]*trackedKey
}

type trackedKey struct {
	version  uint64 // the newest version this connection got
	expireAt int64  // Unix seconds its signature lapses; 0 never
}

// handleSharedPollSubscribe subscribes a client to a shared_poll channel:
// authorised like a stream subscribe, no positioning or recovery (the
// versions it tracks are its position).
func (c *Client) handleSharedPollSubscribe(ctx context.Context, req *clientpb.SubscribeRequest, info channelInfo) (*clientpb.Reply, error) {
	ns := info.ns
	if p := ns.opts.SharedPoll.Proxy; p == nil || p.Backend == nil {
		return nil, ErrorNotAvailable
	}
	o, err := c.authorizeNew(ctx, req, info)
	if err != nil {
		return nil, err
	}
	s := &subscription{
		channel:       req.Channel,
		ns:            ns,
		mapType:       subTypeSharedPoll,
		poll:          &pollTracking{keys: make(map[string]*trackedKey)},
		chanInfo:      o.chanInfo,
		presence:      o.presence,
		emitJoinLeave: o.joinLeave,
		pushJoinLeave: o.pushJL,
		expireAt:      o.expireAt,
		delta:         o.delta,
		syncing:       true,
		checkedAt:     time.Now(),
	}
	// Counted in the channel's state before the subscription exists, so
	// that whatever ends it (a close racing this subscribe included)
	// finds the state to leave.
	pc, epoch := c.n.joinPollChannel(req.Channel, &ns.opts.SharedPoll)
	if err := c.join(ctx, s); err != nil {
		pc.leave(c, nil)
		return nil, err
	}
	res := &clientpb.SubscribeResult{Type: subTypeSharedPoll, Epoch: epoch, Data: o.data, Delta: s.delta}
	if o.expireAt > 0 && ns.opts.SubRefreshProxy == nil {
		res.Expires = true
		res.Ttl = ttlSeconds(o.expireAt - time.Now().Unix())
	}
	if err := c.completeJoin(ctx, s); err != nil {
		return nil, err
	}
	return &clientpb.Reply{Subscribe: res}, nil
}

// handleTrack is sub_refresh on a shared_poll channel: track (type 1) or
// untrack (type 2) keys.
func (c *Client) handleTrack(ctx context.Context, req *clientpb.SubRefreshRequest) (*clientpb.Reply, error) {
	c.mu.Lock()
	s := c.subs[req.Channel]
	user := c.user
	c.mu.Unlock()
	if s == nil || s.poll == nil || s.syncing {
		return nil, ErrorPermissionDenied
	}
	switch req.Type {
	case refreshTypeTrack:
		return c.track(req, s, user)
	case refreshTypeUntrack:
		if len(req.Untrack) == 0 {
			return nil, ErrorBadRequest
		}
		c.untrackKeys(s, req.Untrack)
		return &clientpb.Reply{SubRefresh: &clientpb.SubRefreshResult{}}, nil
	}
	return nil, ErrorBadRequest
}

func (c *Client) track(req *clientpb.SubRefreshRequest, s *subscription, user string) (*clientpb.Reply, error) {
	if len(req.Track) == 0 {
		return nil, ErrorBadRequest
	}
	cfg := &c.n.settings().cfg.SharedPoll
	now := time.Now()
	var keys []string
	var versions []uint64
	var exps []int64
	minExp := int64(0)
	for _, b := range req.Track {
		if b == nil || len(b.Items) == 0 {
			return nil, ErrorBadRequest
		}
		bk := make([]string, len(b.Items))
		for i, it := range b.Items {
			if it == nil || !validMapKey(it.Key) {
				return nil, ErrorBadRequest
			}
			bk[i] = it.Key
		}
		sig, err := verifyTrackBatch(cfg, b.Signature, user, req.Channel, bk, now)
		if err != nil {
			return nil, err
		}
		if sig.exp > 0 && (minExp == 0 || sig.exp < minExp) {
			minExp = sig.exp
		}
		for _, it := range b.Items {
			keys = append(keys, it.Key)
			versions = append(versions, it.Version)
			exps = append(exps, sig.exp)
		}
	}
	pc := c.n.pollChannel(req.Channel, &s.ns.opts.SharedPoll)
	if pc.unavailable(keys) {
		return nil, ErrorInternal
	}
	limit := s.ns.opts.SharedPoll.MaxKeysPerConnection
	if limit <= 0 {
		limit = defaultPollMaxKeys
	}
	c.mu.Lock()
	if c.subs[req.Channel] != s {
		c.mu.Unlock()
		return nil, ErrorPermissionDenied
	}
	fresh := 0
	seen := make(map[string]struct{}, len(keys))
	for _, k := range keys {
		if _, ok := s.poll.keys[k]; !ok {
			if _, dup := seen[k]; !dup {
				fresh++
			}
		}
		seen[k] = struct{}{}
	}
	if len(s.poll.keys)+fresh > limit {
		c.mu.Unlock()
		return nil, ErrorLimitExceeded
	}
	for i, k := range keys {
		tk := s.poll.keys[k]
		if tk == nil {
			tk = &trackedKey{}
			s.poll.keys[k] = tk
		}
		// The client says which version it holds (0: none); the next
		// delivery is anything newer.
		tk.version, tk.expireAt = versions[i], exps[i]
	}
	c.mu.Unlock()
	pc.track(c, keys, versions)
	if len(req.Untrack) > 0 {
		c.untrackKeys(s, req.Untrack)
	}
	res := &clientpb.SubRefreshResult{}
	if minExp > 0 {
		res.Expires = true
		res.Ttl = ttlSeconds(minExp - now.Unix())
	}
	return &clientpb.Reply{SubRefresh: res}, nil
}

// untrackKeys stops delivering keys to this connection.
func (c *Client) untrackKeys(s *subscription, keys []string) {
	c.mu.Lock()
	for _, k := range keys {
		delete(s.poll.keys, k)
	}
	c.mu.Unlock()
	if pc := c.n.existingPollChannel(s.channel); pc != nil {
		pc.untrack(c, keys)
	}
}

// expirePollKeysLocked drops the keys whose signature lapsed more than the
// namespace's grace ago (the client had that long to track them again
// with a fresh signature); it returns them. Callers hold c.mu.
func expirePollKeysLocked(s *subscription, now time.Time) []string {
	extra := s.ns.opts.SharedPoll.TrackExpiredExtraDelay
	if extra <= 0 {
		extra = defaultPollTrackExpiredExtra
	}
	var gone []string
	for k, tk := range s.poll.keys {
		if tk.expireAt > 0 && now.After(time.Unix(tk.expireAt, 0).Add(extra)) {
			delete(s.poll.keys, k)
			gone = append(gone, k)
		}
	}
	return gone
}

// sharedPollEnded forgets a shared-poll subscription's keys.
func (n *Node) sharedPollEnded(ch string, c *Client, s *subscription) {
	if s.poll == nil {
		return
	}
	c.mu.Lock()
	keys := make([]string, 0, len(s.poll.keys))
	for k := range s.poll.keys {
		keys = append(keys, k)
	}
	c.mu.Unlock()
	if pc := n.existingPollChannel(ch); pc != nil {
		pc.leave(c, keys)
	}
}

// SharedPollPublish pushes a new version of an item of a shared_poll
// channel on behalf of the backend (versioned namespaces with
// publish_enabled), on every node: subscribers tracking the key at an
// older version get it without waiting for the next poll.
func (n *Node) SharedPollPublish(ctx context.Context, ch, key string, data []byte, version uint64, epoch string) error {
	if ch == "" || !validMapKey(key) || version == 0 || !json.Valid(data) {
		return ErrorBadRequest
	}
	info, err := n.settings().rules.lookup(ch)
	if err != nil {
		return err
	}
	o := &info.ns.opts
	if subscriptionTypeOf(o) != subTypeSharedPoll {
		return ErrorBadRequest
	}
	if !o.SharedPoll.PublishEnabled || o.SharedPoll.Mode != "versioned" {
		return ErrorNotAvailable
	}
	return n.sendControl(ctx, controlMessage{Op: opSharedPoll, Channel: ch, Key: key, Data: data, Version: version, Epoch: epoch})
}

// applySharedPollPublish is a shared_poll_publish arriving at this node.
func (n *Node) applySharedPollPublish(m controlMessage) {
	pc := n.existingPollChannel(m.Channel)
	if pc == nil {
		return // nobody here tracks the channel
	}
	pc.mu.Lock()
	epoch := pc.epoch
	pc.mu.Unlock()
	if m.Epoch != "" && epoch != "" && m.Epoch != epoch {
		return // a version of another epoch says nothing about these
	}
	if epoch == "" {
		epoch = m.Epoch
	}
	pc.apply(epoch, []*proxypb.SharedPollRefreshResultItem{{Key: m.Key, Data: m.Data, Version: m.Version}})
}
