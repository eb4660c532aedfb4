package node

import (
	"context"
	"errors"
	"fmt"

	"github.com/spindle-rt/spindle/proto/clientpb"
	"github.com/spindle-rt/spindle/proto/proxypb"
)

// Map proxies (Centrifugo v6.8): in a map namespace with
// map.publish_proxy_enabled (map.remove_proxy_enabled), every client write
// (removal) of a key goes to the backend first, as MapPublish (MapRemove).
// The backend's answer takes the place of the allow_* rules and of
// client.insecure, exactly like the publish proxy on stream channels:
// an Error reaches the client verbatim, a Disconnect closes it, a failed
// call is a temporary internal error (100).
//
// What a backend answers is applied as far as the map broker can carry it:
// MapPublish may rename the key (a non-empty key), replace the data (data
// wins over b64data, as for publish), and set tags, key_mode, the
// idempotency key, delta, version and version_epoch; score and
// stream_data/b64stream_data are accepted and ignored, as Centrifugo OSS
// does (it has no ordered maps, and a change's stream entry is the new
// value). MapRemove may rename the key and set tags and the idempotency
// key. An answer the node cannot use — bad base64, a key_mode other than
// if_new/if_exists, a key longer than 1024 bytes or not UTF-8,
// non-JSON data for a JSON client — fails the one write with 100, since
// the client asked for nothing wrong (107 would blame it).
//
// client_key is refused together with map proxies by the configuration,
// as by Centrifugo: the backend names the key instead. The per-connection
// cap on distinct keys (maxKeysPerConnection) does not apply either: the
// backend approves each write, so it is the one to bound them.

var (
	errProxyKey     = errors.New("key in proxy result is not a valid map key (1-1024 bytes of UTF-8)")
	errProxyKeyMode = errors.New(`key_mode in proxy result is neither "if_new" nor "if_exists"`)
)

// mapWriteViaProxy answers a client's map write or removal in a namespace
// whose proxy for it is on; nil proxy with the switch on is 108.
func (c *Client) mapWriteViaProxy(ctx context.Context, req *clientpb.PublishRequest, ns *namespace) (*clientpb.Reply, error) {
	mo := &ns.opts.Map
	p := mo.PublishProxy
	if req.Removed {
		p = mo.RemoveProxy
	}
	if p == nil {
		return nil, ErrorNotAvailable
	}
	// A key the hub would refuse anyway is the client's mistake: 107
	// without bothering the backend.
	if !validMapKey(req.Key) {
		return nil, ErrorBadRequest
	}
	if req.Removed {
		key, w, err := c.mapRemoveViaProxy(ctx, p, req.Channel, req.Key)
		if err != nil {
			return nil, err
		}
		if _, err := c.n.mapRemoveWith(ctx, req.Channel, ns, key, w); err != nil {
			return nil, err
		}
		return &clientpb.Reply{Publish: &clientpb.PublishResult{}}, nil
	}
	key, data, w, err := c.mapPublishViaProxy(ctx, p, req.Channel, req.Key, req.Data)
	if err != nil {
		return nil, err
	}
	_, chanInfo := c.subscribed(req.Channel)
	w.info = c.clientInfo(chanInfo)
	if _, err := c.n.mapPublish(ctx, req.Channel, ns, key, data, w); err != nil {
		return nil, err
	}
	return &clientpb.Reply{Publish: &clientpb.PublishResult{}}, nil
}

// mapPublishViaProxy asks the namespace's map publish proxy about writing
// key; it returns the key and data to write and the write's extras.
func (c *Client) mapPublishViaProxy(ctx context.Context, p *Proxy, ch, key string, data []byte) (string, []byte, mapWrite, error) {
	const event = "map_publish"
	req := &proxypb.MapPublishRequest{User: c.User(), Channel: ch, Key: key, Meta: c.proxyMeta(p)}
	req.Client, req.Transport, req.Protocol, req.Encoding = c.proxyCommon(p)
	req.Data, req.B64Data = proxyData(p, data)
	pctx, cancel := context.WithTimeout(c.proxyCtx(ctx), proxyTimeout(p))
	resp, err := p.Backend.MapPublish(pctx, req)
	cancel()
	if err != nil {
		return "", nil, mapWrite{}, c.proxyFailed(event, p, err)
	}
	if err := replyOutcome(resp.GetError(), resp.GetDisconnect()); err != nil {
		return "", nil, mapWrite{}, err
	}
	r := resp.GetResult()
	if r == nil {
		return key, data, mapWrite{}, nil
	}
	if r.Key != "" {
		if !validMapKey(r.Key) {
			return "", nil, mapWrite{}, c.proxyFailed(event, p, errProxyKey)
		}
		key = r.Key
	}
	// The client's own data passed the codec; only a rewrite is checked.
	d, rewritten, err := rewrittenData(r.Data, r.B64Data)
	if err != nil {
		return "", nil, mapWrite{}, c.proxyFailed(event, p, err)
	}
	if rewritten {
		data = d
		if err := c.checkData(data); err != nil {
			return "", nil, mapWrite{}, c.proxyFailed(event, p, err)
		}
	}
	mode, ok := parseKeyMode(r.KeyMode)
	if !ok {
		return "", nil, mapWrite{}, c.proxyFailed(event, p, fmt.Errorf("%w: %q", errProxyKeyMode, r.KeyMode))
	}
	return key, data, mapWrite{
		tags:           r.Tags,
		idempotencyKey: r.IdempotencyKey,
		delta:          r.Delta,
		version:        r.Version,
		versionEpoch:   r.VersionEpoch,
		keyMode:        mode,
	}, nil
}

// mapRemoveViaProxy asks the namespace's map remove proxy about removing
// key; it returns the key to remove and the removal's extras.
func (c *Client) mapRemoveViaProxy(ctx context.Context, p *Proxy, ch, key string) (string, mapWrite, error) {
	const event = "map_remove"
	req := &proxypb.MapRemoveRequest{User: c.User(), Channel: ch, Key: key, Meta: c.proxyMeta(p)}
	req.Client, req.Transport, req.Protocol, req.Encoding = c.proxyCommon(p)
	pctx, cancel := context.WithTimeout(c.proxyCtx(ctx), proxyTimeout(p))
	resp, err := p.Backend.MapRemove(pctx, req)
	cancel()
	if err != nil {
		return "", mapWrite{}, c.proxyFailed(event, p, err)
	}
	if err := replyOutcome(resp.GetError(), resp.GetDisconnect()); err != nil {
		return "", mapWrite{}, err
	}
	r := resp.GetResult()
	if r == nil {
		return key, mapWrite{}, nil
	}
	if r.Key != "" {
		if !validMapKey(r.Key) {
			return "", mapWrite{}, c.proxyFailed(event, p, errProxyKey)
		}
		key = r.Key
	}
	return key, mapWrite{tags: r.Tags, idempotencyKey: r.IdempotencyKey}, nil
}
