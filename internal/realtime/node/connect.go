package node

import (
	"context"
	"errors"
	"time"

	"github.com/spindle-rt/spindle/internal/realtime/auth"
	"github.com/spindle-rt/spindle/proto/clientpb"
)

// credentials are what authentication established about a connection.
type credentials struct {
	user     string
	expireAt int64
	info     []byte
	meta     []byte
	data     []byte
	channels []string
	subs     map[string]auth.SubscribeOptions
}

// handleConnect authenticates the connection, admits it within the
// limits, registers it and answers with the connect result, server-side
// subscriptions included.
func (c *Client) handleConnect(ctx context.Context, req *clientpb.ConnectRequest) (*clientpb.Reply, error) {
	cred, err := c.authenticate(ctx, req)
	if err != nil {
		return nil, err
	}
	now := time.Now().Unix()
	serverSubs, err := c.admit(cred, now)
	if err != nil {
		return nil, err
	}
	if err := c.register(cred); err != nil {
		return nil, err
	}
	res := c.connectResult(cred)
	c.armConnectionExpiry(cred.expireAt, now, res)
	if err := c.subscribeAtConnect(ctx, serverSubs, req.Subs, res); err != nil {
		return nil, err
	}
	c.startPings()
	c.startTicks()
	return &clientpb.Reply{Connect: res}, nil
}

// authenticate establishes who connects: from the token if one is sent,
// else from the connect proxy, else anonymously where the configuration
// allows it. Errors that leave the connection open mark it failed.
func (c *Client) authenticate(ctx context.Context, req *clientpb.ConnectRequest) (*credentials, error) {
	if req.Token != "" {
		return c.authenticateToken(ctx, req.Token)
	}
	if p := c.n.settings().cfg.Connect; p != nil {
		channels := make([]string, 0, len(req.Subs))
		for ch := range req.Subs {
			channels = append(channels, ch)
		}
		cred, err := c.connectViaProxy(ctx, p, req.Name, req.Version, req.Data, channels)
		if err != nil {
			var d *Disconnect
			if !errors.As(err, &d) {
				c.failConnect()
			}
			return nil, err
		}
		if cred != nil {
			return cred, nil
		}
	}
	cfg := &c.n.settings().cfg.Client
	if cfg.AllowAnonymousConnectWithoutToken || cfg.Insecure {
		return &credentials{}, nil
	}
	c.log.Info("connect without credentials: send a token or allow anonymous connects")
	return nil, DisconnectBadRequest
}

// authenticateToken verifies a connection token: expired is an error
// reply the SDK answers with a fresh token, anything else wrong closes.
func (c *Client) authenticateToken(ctx context.Context, token string) (*credentials, error) {
	s := c.n.settings()
	if s.tokens == nil {
		c.log.Info("connection token sent but no token key is configured")
		return nil, DisconnectInvalidToken
	}
	tok, err := s.tokens.VerifyConnectToken(ctx, token)
	if err != nil {
		if errors.Is(err, auth.ErrTokenExpired) {
			c.failConnect()
			return nil, ErrorTokenExpired
		}
		c.log.Info("invalid connection token", "error", err)
		return nil, DisconnectInvalidToken
	}
	if tok.UserID == "" && s.cfg.Client.DisallowAnonymousConnectionTokens {
		return nil, DisconnectPermissionDenied
	}
	return &credentials{user: tok.UserID, expireAt: tok.ExpireAt, info: tok.Info, meta: tok.Meta, channels: tok.Channels, subs: tok.Subs}, nil
}

// admit applies the limits to authenticated credentials (connections per
// user, expiry, channels) and returns the server-side subscriptions they
// bring. The user limit is checked again, atomically, by register; this
// check fails early, before any subscription work.
func (c *Client) admit(cred *credentials, now int64) ([]serverSubRequest, error) {
	cfg := &c.n.settings().cfg.Client
	if cfg.Insecure {
		cred.expireAt = 0
	}
	if lim := cfg.UserConnectionLimit; lim > 0 && cred.user != "" && len(c.n.hub.userConnections(cred.user)) >= lim {
		return nil, DisconnectConnectionLimit
	}
	if cred.expireAt > 0 && cred.expireAt <= now {
		c.failConnect()
		return nil, ErrorExpired
	}
	serverSubs, err := c.serverSideChannels(cred)
	if err != nil {
		c.failConnect()
		return nil, err
	}
	if len(serverSubs) > cfg.ChannelLimit && cfg.ChannelLimit > 0 {
		return nil, DisconnectChannelLimit
	}
	return serverSubs, nil
}

// register makes the connection connected and puts it in the hub.
func (c *Client) register(cred *credentials) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.status != statusConnecting {
		return DisconnectBadRequest
	}
	c.user = cred.user
	// Registering under c.mu makes connect and close exclusive: a close
	// either finds the client connected and in the hub, or comes first
	// and this connect fails above. The hub applies the user limit in
	// the same step, so connects arriving together cannot exceed it.
	if !c.n.hub.addClient(c, c.n.settings().cfg.Client.UserConnectionLimit) {
		return DisconnectConnectionLimit
	}
	c.status = statusConnected
	c.info = cred.info
	c.meta = cred.meta
	c.expireAt = cred.expireAt
	if c.staleTimer != nil {
		c.staleTimer.Stop()
	}
	return nil
}

// connectResult is the reply's fixed part: identity, version, backend
// data, ping settings and server time.
func (c *Client) connectResult(cred *credentials) *clientpb.ConnectResult {
	cfg := &c.n.settings().cfg.Client
	res := &clientpb.ConnectResult{Client: c.id, Version: Version, Data: cred.data}
	if c.session != "" {
		res.Session = c.session
		if !c.uni {
			res.Node = c.n.id // where to post commands; a uni client posts none
		}
	}
	if cfg.PingInterval > 0 {
		res.Ping = uint32(cfg.PingInterval / time.Second)
		res.Pong = !c.uni
	}
	if cfg.ConnectIncludeServerTime {
		res.Time = time.Now().UnixMilli()
	}
	return res
}

// armConnectionExpiry schedules what happens at expireAt: a refresh-proxy
// call when one is configured (the client is never told), else the
// expiry check after the client was told, in res, to refresh in time.
func (c *Client) armConnectionExpiry(expireAt, now int64, res *clientpb.ConnectResult) {
	if expireAt <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n.settings().cfg.Refresh != nil {
		c.armServerRefresh(time.Until(time.Unix(expireAt, 0)))
		return
	}
	res.Expires = true
	res.Ttl = ttlSeconds(expireAt - now)
	c.armExpiry(expireAt)
}

// subscribeAtConnect creates the server-side subscriptions, recovering
// those the client asks to in recover, and adds them to res.
func (c *Client) subscribeAtConnect(ctx context.Context, subs []serverSubRequest, recover map[string]*clientpb.SubscribeRequest, res *clientpb.ConnectResult) error {
	if len(subs) == 0 {
		return nil
	}
	res.Subs = make(map[string]*clientpb.SubscribeResult, len(subs))
	for _, s := range subs {
		if info, err := c.n.settings().rules.lookup(s.channel); err == nil && isMapType(subscriptionTypeOf(&info.ns.opts)) {
			// A map subscription is paged by the client (map_subscribe.go);
			// it cannot be made for it at connect. Skipped, not fatal:
			// failing the connect would only make the SDK reconnect into
			// the same refusal.
			c.log.Warn("server-side subscription to a map channel skipped: map channels are subscribed by clients", "channel", s.channel)
			continue
		}
		r, err := c.subscribeServerSide(ctx, s, recover[s.channel])
		if err != nil {
			// The connection is registered already: an error reply
			// would leave it half set up, so close it and let the SDK
			// reconnect.
			c.log.Warn("server-side subscription at connect failed", "channel", s.channel, "error", err)
			var d *Disconnect
			if errors.As(err, &d) {
				return d
			}
			return DisconnectServerError
		}
		res.Subs[s.channel] = r
	}
	return nil
}

// failConnect marks a connection whose connect got an error reply: it can
// do nothing more and is closed by the stale timer or its next command.
func (c *Client) failConnect() {
	c.mu.Lock()
	if c.status == statusConnecting {
		c.status = statusConnectFailed
	}
	c.mu.Unlock()
}

// serverSubRequest is a server-side subscription the connection gets at
// connect.
type serverSubRequest struct {
	channel string
	opts    auth.SubscribeOptions
}

// serverSideChannels lists the subscriptions credentials bring: token or
// proxy subs (or channels), and the personal channel.
func (c *Client) serverSideChannels(cred *credentials) ([]serverSubRequest, error) {
	var out []serverSubRequest
	seen := map[string]bool{}
	add := func(ch string, o auth.SubscribeOptions) error {
		if seen[ch] {
			return nil
		}
		if _, err := c.n.settings().rules.lookup(ch); err != nil {
			return err
		}
		seen[ch] = true
		out = append(out, serverSubRequest{channel: ch, opts: o})
		return nil
	}
	if len(cred.subs) > 0 {
		for ch, o := range cred.subs {
			if err := add(ch, o); err != nil {
				return nil, err
			}
		}
	} else {
		for _, ch := range cred.channels {
			if err := add(ch, auth.SubscribeOptions{}); err != nil {
				return nil, err
			}
		}
	}
	s := c.n.settings()
	cfg := &s.cfg.Client
	if cfg.SubscribeToUserPersonalChannel && cred.user != "" {
		// The rules hold the boundaries with their defaults applied; the
		// raw config may leave them empty.
		ch := s.rules.userBoundary + cred.user
		if cfg.PersonalChannelNamespace != "" {
			ch = cfg.PersonalChannelNamespace + s.rules.namespaceBoundary + ch
		}
		if err := add(ch, auth.SubscribeOptions{}); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// armServerRefresh schedules a refresh-proxy call (server-side refresh
// mode: the client is never asked for a token). Callers hold c.mu.
func (c *Client) armServerRefresh(d time.Duration) {
	if c.expireTimer != nil {
		c.expireTimer.Stop()
	}
	c.expireTimer = time.AfterFunc(max(d, 0), c.serverRefresh)
}

// serverRefreshRetry is how long a connection is extended when the
// refresh proxy cannot be reached.
const serverRefreshRetry = 60 * time.Second

func (c *Client) serverRefresh() {
	c.mu.Lock()
	st := c.status
	c.mu.Unlock()
	if st != statusConnected {
		return
	}
	p := c.n.settings().cfg.Refresh
	ctx, cancel := context.WithTimeout(context.Background(), proxyTimeout(p))
	defer cancel()
	expireAt, info, meta, err := c.refreshViaProxy(ctx, p)
	if errors.Is(err, errProxyRetry) {
		c.mu.Lock()
		c.armServerRefresh(serverRefreshRetry)
		c.mu.Unlock()
		return
	}
	if err != nil || expireAt <= time.Now().Unix() {
		c.close(DisconnectExpired)
		return
	}
	c.mu.Lock()
	c.expireAt = expireAt
	if len(info) > 0 {
		c.info = info
	}
	if meta != nil {
		c.meta = meta
	}
	c.armServerRefresh(time.Until(time.Unix(expireAt, 0)))
	c.mu.Unlock()
}

// armExpiry closes the connection if it is still expired a grace period
// after expireAt (the client was told to refresh). Callers hold c.mu.
func (c *Client) armExpiry(expireAt int64) {
	d := time.Until(time.Unix(expireAt, 0)) + c.n.settings().cfg.Client.ExpiredCloseDelay
	if c.expireTimer != nil {
		c.expireTimer.Stop()
	}
	c.expireTimer = time.AfterFunc(d, c.checkExpired)
}

func (c *Client) checkExpired() {
	c.mu.Lock()
	exp := c.expireAt
	st := c.status
	c.mu.Unlock()
	if st == statusConnected && exp > 0 && exp <= time.Now().Unix() {
		c.close(DisconnectExpired)
	}
}

// handleRefresh takes a new connection token (client-side refresh).
func (c *Client) handleRefresh(ctx context.Context, req *clientpb.RefreshRequest) (*clientpb.Reply, error) {
	s := c.n.settings()
	if req.Token == "" || s.tokens == nil || s.cfg.Refresh != nil {
		return nil, DisconnectBadRequest
	}
	tok, err := s.tokens.VerifyConnectToken(ctx, req.Token)
	if err != nil {
		if errors.Is(err, auth.ErrTokenExpired) {
			return nil, DisconnectExpired
		}
		c.log.Info("invalid refresh token", "error", err)
		return nil, DisconnectInvalidToken
	}
	c.mu.Lock()
	if tok.UserID != c.user {
		c.mu.Unlock()
		return nil, DisconnectInvalidToken
	}
	c.expireAt = tok.ExpireAt
	if len(tok.Info) > 0 {
		c.info = tok.Info
	}
	c.mu.Unlock()
	res := &clientpb.RefreshResult{Client: c.id, Version: Version}
	if tok.ExpireAt > 0 {
		ttl := tok.ExpireAt - time.Now().Unix()
		if ttl <= 0 {
			return nil, DisconnectExpired
		}
		res.Expires = true
		res.Ttl = ttlSeconds(ttl)
		c.mu.Lock()
		c.armExpiry(tok.ExpireAt)
		c.mu.Unlock()
	} else {
		c.mu.Lock()
		if c.expireTimer != nil {
			c.expireTimer.Stop()
		}
		c.mu.Unlock()
	}
	return &clientpb.Reply{Refresh: res}, nil
}
