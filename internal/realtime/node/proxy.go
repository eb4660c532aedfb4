package node

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spindle-rt/spindle/internal/clientheaders"
	"github.com/spindle-rt/spindle/internal/realtime/auth"
	"github.com/spindle-rt/spindle/proto/proxypb"
)

// checkProxies makes sure every configured proxy has a backend, so a
// wiring mistake fails at start-up, not at a client's first event.
func checkProxies(cfg *Config) error {
	check := func(where string, p *Proxy) error {
		if p != nil && p.Backend == nil {
			return fmt.Errorf("%s proxy %q (%s) has no backend", where, p.Name, p.Endpoint)
		}
		return nil
	}
	errs := []error{check("connect", cfg.Connect), check("refresh", cfg.Refresh), check("rpc", cfg.RPCProxy)}
	for _, ns := range cfg.RPC.Namespaces {
		errs = append(errs, check("rpc namespace "+ns.Name, ns.Proxy))
	}
	nss := append([]Namespace{{ChannelOptions: cfg.Channel.WithoutNamespace}}, cfg.Channel.Namespaces...)
	for _, ns := range nss {
		o := &ns.ChannelOptions
		errs = append(errs, check("subscribe", o.SubscribeProxy), check("publish", o.PublishProxy), check("sub_refresh", o.SubRefreshProxy),
			check("map_publish", o.Map.PublishProxy), check("map_remove", o.Map.RemoveProxy))
	}
	return errors.Join(errs...)
}

// proxyCommon fills the four fields every per-connection request starts
// with.
func (c *Client) proxyCommon(p *Proxy) (client, transport, protocol, encoding string) {
	encoding = "json"
	if p.BinaryEncoding {
		encoding = "binary"
	}
	return c.id, c.t.Name(), string(c.proto), encoding
}

// proxyData puts client payload bytes in the field the proxy's encoding
// asks for.
func proxyData(p *Proxy, data []byte) ([]byte, string) {
	if p.BinaryEncoding {
		if len(data) == 0 {
			return nil, ""
		}
		return nil, base64.StdEncoding.EncodeToString(data)
	}
	return data, ""
}

// proxyMeta is the connection meta, sent only to proxies that ask for it.
func (c *Client) proxyMeta(p *Proxy) []byte {
	if !p.IncludeConnectionMeta {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.meta
}

// proxyCtx carries the upgrade-request headers to the backend.
func (c *Client) proxyCtx(ctx context.Context) context.Context {
	return clientheaders.With(ctx, c.req.Header)
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

// proxyFailed turns a failed proxy call, or an answer the node cannot use,
// into the client's temporary internal error; the command's failure is
// logged once, where commands fail. The gRPC and HTTP proxy clients
// already name the event and endpoint in their errors; an in-process
// backend or a bad answer does not, so only then does the node add them.
func (c *Client) proxyFailed(event string, p *Proxy, err error) error {
	if p.Endpoint == "" || !strings.Contains(err.Error(), p.Endpoint) {
		err = fmt.Errorf("proxy %s %s: %w", event, p.Endpoint, err)
	}
	return &wrappedInternal{err}
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
func (c *Client) connectViaProxy(ctx context.Context, p *Proxy, name, version string, data []byte, channels []string) (*credentials, error) {
	req := &proxypb.ConnectRequest{Name: name, Version: version, Channels: channels}
	req.Client, req.Transport, req.Protocol, req.Encoding = c.proxyCommon(p)
	req.Data, req.B64Data = proxyData(p, data)
	resp, err := p.Backend.Connect(c.proxyCtx(ctx), req)
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
	if cred.info, err = pickInfo(r.Info, r.B64Info); err != nil {
		return nil, c.proxyFailed("connect", p, err)
	}
	if cred.data, err = c.pickData(r.Data, r.B64Data); err != nil {
		return nil, c.proxyFailed("connect", p, err)
	}
	if len(r.Subs) > 0 {
		cred.subs = make(map[string]auth.SubscribeOptions, len(r.Subs))
		for ch, o := range r.Subs {
			so := auth.SubscribeOptions{Override: overrideFromProxy(o.GetOverride())}
			if so.Info, err = pickInfo(o.Info, o.B64Info); err != nil {
				return nil, c.proxyFailed("connect", p, err)
			}
			if so.Data, err = c.pickData(o.Data, o.B64Data); err != nil {
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
func (c *Client) subscribeViaProxy(ctx context.Context, p *Proxy, ch string, data []byte, opts *subOptions) (*auth.Override, error) {
	req := &proxypb.SubscribeRequest{User: c.User(), Channel: ch, Meta: c.proxyMeta(p)}
	req.Client, req.Transport, req.Protocol, req.Encoding = c.proxyCommon(p)
	req.Data, req.B64Data = proxyData(p, data)
	resp, err := p.Backend.Subscribe(c.proxyCtx(ctx), req)
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
	if opts.chanInfo, err = pickInfo(r.Info, r.B64Info); err != nil {
		return nil, c.proxyFailed("subscribe", p, err)
	}
	if opts.data, err = c.pickData(r.Data, r.B64Data); err != nil {
		return nil, c.proxyFailed("subscribe", p, err)
	}
	return overrideFromProxy(r.GetOverride()), nil
}

// publishViaProxy asks the namespace's publish proxy; it may replace the
// data or keep the publication out of history.
func (c *Client) publishViaProxy(ctx context.Context, p *Proxy, ch string, data []byte) ([]byte, bool, error) {
	req := &proxypb.PublishRequest{User: c.User(), Channel: ch, Meta: c.proxyMeta(p)}
	req.Client, req.Transport, req.Protocol, req.Encoding = c.proxyCommon(p)
	req.Data, req.B64Data = proxyData(p, data)
	resp, err := p.Backend.Publish(c.proxyCtx(ctx), req)
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
	if d, ok, err := rewrittenData(r.Data, r.B64Data); err != nil {
		return nil, false, c.proxyFailed("publish", p, err)
	} else if ok {
		data = d
	}
	if err := c.checkData(data); err != nil {
		return nil, false, c.proxyFailed("publish", p, err)
	}
	return data, r.SkipHistory, nil
}

// rpcViaProxy forwards a client RPC.
func (c *Client) rpcViaProxy(ctx context.Context, p *Proxy, method string, data []byte) ([]byte, error) {
	req := &proxypb.RPCRequest{User: c.User(), Method: method, Meta: c.proxyMeta(p)}
	req.Client, req.Transport, req.Protocol, req.Encoding = c.proxyCommon(p)
	req.Data, req.B64Data = proxyData(p, data)
	resp, err := p.Backend.RPC(c.proxyCtx(ctx), req)
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
	out, err := c.pickData(r.Data, r.B64Data)
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
func (c *Client) refreshViaProxy(ctx context.Context, p *Proxy) (int64, []byte, []byte, error) {
	req := &proxypb.RefreshRequest{User: c.User(), Meta: c.proxyMeta(p)}
	req.Client, req.Transport, req.Protocol, req.Encoding = c.proxyCommon(p)
	resp, err := p.Backend.Refresh(c.proxyCtx(ctx), req)
	if err != nil {
		c.log.Warn("proxy call failed", "event", "refresh", "endpoint", p.Endpoint, "error", err)
		return 0, nil, nil, errProxyRetry
	}
	r := resp.GetResult()
	if r == nil || r.Expired {
		return 0, nil, nil, DisconnectExpired
	}
	info, err := pickInfo(r.Info, r.B64Info)
	if err != nil {
		c.log.Warn("proxy refresh result", "error", err)
		return 0, nil, nil, errProxyRetry
	}
	return r.ExpireAt, info, r.Meta, nil
}

// subRefreshViaProxy asks the sub_refresh proxy to prolong a subscription.
// expireAt 0 means the subscription stops expiring.
func (c *Client) subRefreshViaProxy(ctx context.Context, p *Proxy, ch string) (int64, []byte, error) {
	req := &proxypb.SubRefreshRequest{User: c.User(), Channel: ch, Meta: c.proxyMeta(p)}
	req.Client, req.Transport, req.Protocol, req.Encoding = c.proxyCommon(p)
	resp, err := p.Backend.SubRefresh(c.proxyCtx(ctx), req)
	if err != nil {
		c.log.Warn("proxy call failed", "event", "sub_refresh", "endpoint", p.Endpoint, "error", err)
		return 0, nil, errProxyRetry
	}
	r := resp.GetResult()
	if r == nil || r.Expired {
		return 0, nil, DisconnectSubExpired
	}
	info, err := pickInfo(r.Info, r.B64Info)
	if err != nil {
		return 0, nil, errProxyRetry
	}
	return r.ExpireAt, info, nil
}

// proxyTimeout is the deadline of one call to p (1s when unset, as in
// Centrifugo).
func proxyTimeout(p *Proxy) time.Duration {
	if p.Timeout > 0 {
		return p.Timeout
	}
	return time.Second
}

// rewrittenData is the payload a publish-like proxy result puts in place
// of the client's: a present data wins, b64data counts only without it;
// ok is false when the result rewrites nothing.
func rewrittenData(raw []byte, b64 string) ([]byte, bool, error) {
	switch {
	case len(raw) > 0:
		return raw, true, nil
	case b64 != "":
		d, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			return nil, false, fmt.Errorf("bad base64 in proxy result: %w", err)
		}
		return d, true, nil
	}
	return nil, false, nil
}
