package node

import (
	"context"
	"time"

	"github.com/spindle-rt/spindle/internal/realtime/engine"
	"github.com/spindle-rt/spindle/proto/clientpb"
)

// maxKeysPerConnection bounds how many distinct keys of one map channel a
// connection may write, so a client allowed to publish cannot grow a map
// without limit; keys chosen by the server (client_key) are one per
// connection anyway.
const maxKeysPerConnection = 1000

// handleMapPublish is a client's write to a map channel (publish with
// type 1): a key's new value, or its removal.
func (c *Client) handleMapPublish(ctx context.Context, req *clientpb.PublishRequest, info channelInfo) (*clientpb.Reply, error) {
	if c.n.maps == nil {
		return nil, ErrorNotAvailable
	}
	ns := info.ns
	mo := &ns.opts.Map
	if subscriptionTypeOf(&ns.opts) != subTypeMap {
		// Presence maps are written by the server only.
		return nil, ErrorPermissionDenied
	}
	if req.Removed && len(req.Data) > 0 {
		return nil, ErrorBadRequest
	}
	user := c.User()
	proxyOn := mo.PublishProxyEnabled
	if req.Removed {
		proxyOn = mo.RemoveProxyEnabled
	}
	switch {
	case proxyOn:
		// The backend decides, and may rename the key (map_proxy.go).
		return c.mapWriteViaProxy(ctx, req, ns)
	case req.Removed && c.mapWriteAllowed(mo.AllowRemoveForClient, mo.AllowRemoveForSubscriber, mo.AllowRemoveForAnonymous, req.Channel, user):
	case !req.Removed && c.mapWriteAllowed(mo.AllowPublishForClient, mo.AllowPublishForSubscriber, mo.AllowPublishForAnonymous, req.Channel, user):
	case c.n.settings().cfg.Client.Insecure:
	default:
		return nil, ErrorPermissionDenied
	}
	key := req.Key
	switch mo.ClientKey {
	case "client_id":
		key = c.id
	case "user_id":
		if user == "" {
			return nil, ErrorPermissionDenied
		}
		key = user
	}
	if !validMapKey(key) {
		return nil, ErrorBadRequest
	}
	if !c.noteMapKey(req.Channel, key) {
		return nil, ErrorLimitExceeded
	}
	if req.Removed {
		if _, err := c.n.mapRemove(ctx, req.Channel, ns, key, ""); err != nil {
			return nil, err
		}
		return &clientpb.Reply{Publish: &clientpb.PublishResult{}}, nil
	}
	_, chanInfo := c.subscribed(req.Channel)
	if _, err := c.n.mapPublish(ctx, req.Channel, ns, key, req.Data, mapWrite{info: c.clientInfo(chanInfo)}); err != nil {
		return nil, err
	}
	return &clientpb.Reply{Publish: &clientpb.PublishResult{}}, nil
}

// mapWriteAllowed applies a map namespace's *_for_client,
// *_for_subscriber and *_for_anonymous permissions.
func (c *Client) mapWriteAllowed(forClient, forSubscriber, forAnonymous bool, ch, user string) bool {
	if forClient && (user != "" || forAnonymous) {
		return true
	}
	if forSubscriber {
		ok, _ := c.subscribed(ch)
		return ok
	}
	return false
}

// noteMapKey counts the distinct keys this connection wrote per map
// channel; false means the limit is reached.
func (c *Client) noteMapKey(ch, key string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.mapKeys == nil {
		c.mapKeys = make(map[string]map[string]struct{})
	}
	keys := c.mapKeys[ch]
	if _, ok := keys[key]; ok {
		return true
	}
	if len(keys) >= maxKeysPerConnection {
		return false
	}
	if keys == nil {
		keys = make(map[string]struct{})
		c.mapKeys[ch] = keys
	}
	keys[key] = struct{}{}
	return true
}

// writePresenceMaps puts the client in the presence maps of a
// subscription's channel: keyed by client id with its ClientInfo under
// map_clients_presence_channel_prefix, by user id under
// map_users_presence_channel_prefix (anonymous users are not listed).
// A present key only has its TTL renewed, so observers see one entry.
func (c *Client) writePresenceMaps(s *subscription) {
	n := c.n
	if n.maps == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	o := &s.ns.opts
	c.mu.Lock()
	user, chanInfo := c.user, s.chanInfo
	c.mu.Unlock()
	if p := o.MapClientsPresenceChannelPrefix; p != "" {
		c.writePresenceKey(ctx, p+s.channel, c.id, c.clientInfo(chanInfo))
	}
	if p := o.MapUsersPresenceChannelPrefix; p != "" && user != "" {
		c.writePresenceKey(ctx, p+s.channel, user, nil)
	}
}

func (c *Client) writePresenceKey(ctx context.Context, ch, key string, info *engine.ClientInfo) {
	ns, err := c.n.mapNamespace(ch)
	if err != nil {
		c.log.Warn("presence map channel is not a map", "channel", ch, "error", err)
		return
	}
	if _, err := c.n.mapPublish(ctx, ch, ns, key, nil, mapWrite{info: info, keyMode: engine.KeyModeIfNew, refreshTTL: true}); err != nil {
		c.log.Warn("write presence map", "channel", ch, "error", err)
	}
}
