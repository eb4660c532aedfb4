package node

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/spindle-rt/spindle/internal/config"
	"github.com/spindle-rt/spindle/internal/realtime/auth"
	"github.com/spindle-rt/spindle/internal/realtime/proxy"
	"github.com/spindle-rt/spindle/proto/proxypb"
)

// ProxyResolver turns a configured proxy into a backend to call: a gRPC or
// HTTP client in `spindle server`, the application itself in `spindle dev`.
type ProxyResolver func(cfg *config.Proxy) (proxy.Backend, error)

// proxyRef is a configured proxy with its backend.
type proxyRef struct {
	cfg *config.Proxy
	b   proxy.Backend
}

// proxies are the backends for every proxied event, resolved at start-up.
type proxies struct {
	connect *proxyRef
	refresh *proxyRef
	rpc     *proxyRef
	rpcNS   map[string]*proxyRef // rpc namespace → proxy (nil value: none)
}

// resolveProxies builds every backend the configuration refers to, so a
// broken endpoint fails at start-up, not at a client's first event.
func (n *Node) resolveProxies(resolve ProxyResolver) error {
	cache := map[*config.Proxy]*proxyRef{}
	get := func(p *config.Proxy) (*proxyRef, error) {
		if p == nil {
			return nil, nil
		}
		if r, ok := cache[p]; ok {
			return r, nil
		}
		if resolve == nil {
			return nil, fmt.Errorf("proxy %q (%s) is configured but this node has no proxy support", p.Name, p.Endpoint)
		}
		b, err := resolve(p)
		if err != nil {
			return nil, fmt.Errorf("proxy %q: %w", p.Name, err)
		}
		r := &proxyRef{cfg: p, b: b}
		cache[p] = r
		return r, nil
	}
	var err error
	pc := &n.cfg.Proxy
	if n.proxies.connect, err = get(pc.Connect); err != nil {
		return err
	}
	if n.proxies.refresh, err = get(pc.Refresh); err != nil {
		return err
	}
	if n.proxies.rpc, err = get(pc.RPC); err != nil {
		return err
	}
	n.proxies.rpcNS = map[string]*proxyRef{}
	for _, ns := range n.cfg.RPC.Namespaces {
		r, err := get(ns.Proxy)
		if err != nil {
			return err
		}
		n.proxies.rpcNS[ns.Name] = r
	}
	all := append([]*namespace{n.rules.root}, mapValues(n.rules.namespaces)...)
	for _, ns := range all {
		o := &ns.opts
		if ns.subscribeProxy, err = get(o.SubscribeProxy); err != nil {
			return err
		}
		if ns.publishProxy, err = get(o.PublishProxy); err != nil {
			return err
		}
		if ns.subRefreshProxy, err = get(o.SubRefreshProxy); err != nil {
			return err
		}
	}
	return nil
}

func mapValues[K comparable, V any](m map[K]V) []V {
	out := make([]V, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

// proxyCommon fills the four fields every per-connection request starts
// with.
func (c *Client) proxyCommon(p *proxyRef) (client, transport, protocol, encoding string) {
	encoding = "json"
	if p.cfg.BinaryEncoding {
		encoding = "binary"
	}
	return c.id, c.t.Name(), string(c.proto), encoding
}

// proxyData puts client payload bytes in the field the proxy's encoding
// asks for.
func proxyData(p *proxyRef, data []byte) ([]byte, string) {
	if p.cfg.BinaryEncoding {
		if len(data) == 0 {
			return nil, ""
		}
		return nil, base64.StdEncoding.EncodeToString(data)
	}
	return data, ""
}

// proxyMeta is the connection meta, sent only to proxies that ask for it.
func (c *Client) proxyMeta(p *proxyRef) []byte {
	if !p.cfg.IncludeConnectionMeta {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.meta
}

// proxyCtx carries the upgrade-request headers to the backend.
func (c *Client) proxyCtx(ctx context.Context) context.Context {
	return proxy.WithClientHeaders(ctx, c.req.Header)
}

// pickBytes applies the proxy rule for info/data pairs: a non-empty b64
// string wins over the raw bytes.
func pickBytes(raw []byte, b64 string) ([]byte, error) {
	if b64 != "" {
		d, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			return nil, fmt.Errorf("bad base64 in proxy result: %w", err)
		}
		return d, nil
	}
	return raw, nil
}

// proxyFailed turns a failed proxy call into the client's temporary
// internal error, logging why.
func (c *Client) proxyFailed(event string, p *proxyRef, err error) error {
	c.log.Warn("proxy call failed", "event", event, "endpoint", p.cfg.Endpoint, "error", err)
	return &wrappedInternal{fmt.Errorf("proxy %s %s: %w", event, p.cfg.Endpoint, err)}
}

// replyOutcome maps the error/disconnect parts of a proxy response.
func replyOutcome(e *proxypb.Error, d *proxypb.Disconnect) error {
	if d != nil {
		return &Disconnect{Code: d.Code, Reason: d.Reason}
	}
	if e != nil {
		return &Error{Code: e.Code, Message: e.Message, Temporary: e.Temporary}
	}
	return nil
}

// connectViaProxy asks the connect proxy for credentials; nil credentials
// mean the backend gave none.
func (c *Client) connectViaProxy(ctx context.Context, p *proxyRef, name, version string, data []byte, channels []string) (*credentials, error) {
	req := &proxypb.ConnectRequest{Name: name, Version: version, Channels: channels}
	req.Client, req.Transport, req.Protocol, req.Encoding = c.proxyCommon(p)
	req.Data, req.B64Data = proxyData(p, data)
	resp, err := p.b.Connect(c.proxyCtx(ctx), req)
	if err != nil {
		return nil, c.proxyFailed("connect", p, err)
	}
	if err := replyOutcome(resp.GetError(), resp.GetDisconnect()); err != nil {
		return nil, err
	}
	r := resp.GetResult()
	if r == nil {
		return nil, nil
	}
	cred := &credentials{user: r.User, expireAt: r.ExpireAt, meta: r.Meta, channels: r.Channels}
	if cred.info, err = pickBytes(r.Info, r.B64Info); err != nil {
		return nil, c.proxyFailed("connect", p, err)
	}
	if cred.data, err = pickBytes(r.Data, r.B64Data); err != nil {
		return nil, c.proxyFailed("connect", p, err)
	}
	if len(r.Subs) > 0 {
		cred.subs = make(map[string]auth.SubscribeOptions, len(r.Subs))
		for ch, o := range r.Subs {
			so := auth.SubscribeOptions{Override: overrideFromProxy(o.GetOverride())}
			if so.Info, err = pickBytes(o.Info, o.B64Info); err != nil {
				return nil, c.proxyFailed("connect", p, err)
			}
			if so.Data, err = pickBytes(o.Data, o.B64Data); err != nil {
				return nil, c.proxyFailed("connect", p, err)
			}
			cred.subs[ch] = so
		}
	}
	return cred, nil
}

func overrideFromProxy(o *proxypb.SubscribeOptionOverride) *auth.Override {
	if o == nil {
		return nil
	}
	b := func(v *proxypb.BoolValue) *bool {
		if v == nil {
			return nil
		}
		x := v.Value
		return &x
	}
	return &auth.Override{
		Presence:           b(o.Presence),
		JoinLeave:          b(o.JoinLeave),
		ForceRecovery:      b(o.ForceRecovery),
		ForcePositioning:   b(o.ForcePositioning),
		ForcePushJoinLeave: b(o.ForcePushJoinLeave),
	}
}

// subscribeViaProxy asks the namespace's subscribe proxy; an empty answer
// allows with namespace defaults.
func (c *Client) subscribeViaProxy(ctx context.Context, p *proxyRef, ch string, data []byte, opts *subOptions) (*auth.Override, error) {
	req := &proxypb.SubscribeRequest{User: c.User(), Channel: ch, Meta: c.proxyMeta(p)}
	req.Client, req.Transport, req.Protocol, req.Encoding = c.proxyCommon(p)
	req.Data, req.B64Data = proxyData(p, data)
	resp, err := p.b.Subscribe(c.proxyCtx(ctx), req)
	if err != nil {
		return nil, c.proxyFailed("subscribe", p, err)
	}
	if err := replyOutcome(resp.GetError(), resp.GetDisconnect()); err != nil {
		return nil, err
	}
	r := resp.GetResult()
	if r == nil {
		return nil, nil
	}
	opts.expireAt = r.ExpireAt
	if opts.chanInfo, err = pickBytes(r.Info, r.B64Info); err != nil {
		return nil, c.proxyFailed("subscribe", p, err)
	}
	if opts.data, err = pickBytes(r.Data, r.B64Data); err != nil {
		return nil, c.proxyFailed("subscribe", p, err)
	}
	return overrideFromProxy(r.GetOverride()), nil
}

// publishViaProxy asks the namespace's publish proxy; it may replace the
// data or keep the publication out of history.
func (c *Client) publishViaProxy(ctx context.Context, p *proxyRef, ch string, data []byte) ([]byte, bool, error) {
	req := &proxypb.PublishRequest{User: c.User(), Channel: ch, Meta: c.proxyMeta(p)}
	req.Client, req.Transport, req.Protocol, req.Encoding = c.proxyCommon(p)
	req.Data, req.B64Data = proxyData(p, data)
	resp, err := p.b.Publish(c.proxyCtx(ctx), req)
	if err != nil {
		return nil, false, c.proxyFailed("publish", p, err)
	}
	if err := replyOutcome(resp.GetError(), resp.GetDisconnect()); err != nil {
		return nil, false, err
	}
	r := resp.GetResult()
	if r == nil {
		return data, false, nil
	}
	// For publish a present data wins; b64data counts only without it.
	switch {
	case len(r.Data) > 0:
		data = r.Data
	case r.B64Data != "":
		d, err := base64.StdEncoding.DecodeString(r.B64Data)
		if err != nil {
			return nil, false, c.proxyFailed("publish", p, err)
		}
		data = d
	}
	return data, r.SkipHistory, nil
}

// rpcViaProxy forwards a client RPC.
func (c *Client) rpcViaProxy(ctx context.Context, p *proxyRef, method string, data []byte) ([]byte, error) {
	req := &proxypb.RPCRequest{User: c.User(), Method: method, Meta: c.proxyMeta(p)}
	req.Client, req.Transport, req.Protocol, req.Encoding = c.proxyCommon(p)
	req.Data, req.B64Data = proxyData(p, data)
	resp, err := p.b.RPC(c.proxyCtx(ctx), req)
	if err != nil {
		return nil, c.proxyFailed("rpc", p, err)
	}
	if err := replyOutcome(resp.GetError(), resp.GetDisconnect()); err != nil {
		return nil, err
	}
	r := resp.GetResult()
	if r == nil {
		return nil, nil
	}
	out, err := pickBytes(r.Data, r.B64Data)
	if err != nil {
		return nil, c.proxyFailed("rpc", p, err)
	}
	return out, nil
}

// errProxyRetry marks a refresh whose proxy call failed: the connection or
// subscription is extended and the call retried later.
var errProxyRetry = errors.New("proxy refresh failed, retrying later")

// refreshViaProxy asks the refresh proxy to prolong the connection.
// It returns the new expiry, or errProxyRetry, or DisconnectExpired.
func (c *Client) refreshViaProxy(ctx context.Context, p *proxyRef) (int64, []byte, []byte, error) {
	req := &proxypb.RefreshRequest{User: c.User(), Meta: c.proxyMeta(p)}
	req.Client, req.Transport, req.Protocol, req.Encoding = c.proxyCommon(p)
	resp, err := p.b.Refresh(c.proxyCtx(ctx), req)
	if err != nil {
		c.log.Warn("proxy call failed", "event", "refresh", "endpoint", p.cfg.Endpoint, "error", err)
		return 0, nil, nil, errProxyRetry
	}
	r := resp.GetResult()
	if r == nil || r.Expired {
		return 0, nil, nil, DisconnectExpired
	}
	info, err := pickBytes(r.Info, r.B64Info)
	if err != nil {
		c.log.Warn("proxy refresh result", "error", err)
		return 0, nil, nil, errProxyRetry
	}
	return r.ExpireAt, info, r.Meta, nil
}

// subRefreshViaProxy asks the sub_refresh proxy to prolong a subscription.
// expireAt 0 means the subscription stops expiring.
func (c *Client) subRefreshViaProxy(ctx context.Context, p *proxyRef, ch string) (int64, []byte, error) {
	req := &proxypb.SubRefreshRequest{User: c.User(), Channel: ch, Meta: c.proxyMeta(p)}
	req.Client, req.Transport, req.Protocol, req.Encoding = c.proxyCommon(p)
	resp, err := p.b.SubRefresh(c.proxyCtx(ctx), req)
	if err != nil {
		c.log.Warn("proxy call failed", "event", "sub_refresh", "endpoint", p.cfg.Endpoint, "error", err)
		return 0, nil, errProxyRetry
	}
	r := resp.GetResult()
	if r == nil || r.Expired {
		return 0, nil, DisconnectSubExpired
	}
	info, err := pickBytes(r.Info, r.B64Info)
	if err != nil {
		return 0, nil, errProxyRetry
	}
	return r.ExpireAt, info, nil
}

// proxyTimeout is the deadline of one call to p (1s when unset, as in
// Centrifugo).
func proxyTimeout(p *proxyRef) time.Duration {
	if p.cfg.Timeout > 0 {
		return p.cfg.Timeout
	}
	return time.Second
}
