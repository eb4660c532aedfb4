package node

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/spindle-rt/spindle/proto/clientpb"
)

// Control operations carried between nodes.
const (
	opSubscribe   = "subscribe"
	opUnsubscribe = "unsubscribe"
	opDisconnect  = "disconnect"
	opRefresh     = "refresh"
	opNode        = "node"
	// opShutdown says the node in Node.UID is leaving, so the others drop
	// it from info at once instead of when its announcements stop.
	opShutdown = "shutdown"
	// opEmulation carries an emulation request to the node holding its
	// session (sent to that node only).
	opEmulation = "emulation"
	// opSharedPoll carries a shared_poll_publish to every node.
	opSharedPoll = "shared_poll"
)

// controlMessage is a node-to-node command. It is JSON: control traffic
// is rare, and JSON keeps it readable in Redis MONITOR.
type controlMessage struct {
	Op        string            `json:"op"`
	User      string            `json:"user,omitempty"`
	Channel   string            `json:"channel,omitempty"`
	Client    string            `json:"client,omitempty"`
	Session   string            `json:"session,omitempty"`
	Whitelist []string          `json:"whitelist,omitempty"`
	Code      uint32            `json:"code,omitempty"`
	Reason    string            `json:"reason,omitempty"`
	Expired   bool              `json:"expired,omitempty"`
	ExpireAt  int64             `json:"expire_at,omitempty"`
	Info      []byte            `json:"info,omitempty"`
	Subscribe *SubscribeOptions `json:"subscribe,omitempty"`
	Node      *NodeInfo         `json:"node,omitempty"`
	Data      []byte            `json:"data,omitempty"`
	Key       string            `json:"key,omitempty"`
	Version   uint64            `json:"version,omitempty"`
	Epoch     string            `json:"epoch,omitempty"`
}

func (n *Node) handleControl(data []byte) error {
	var m controlMessage
	if err := json.Unmarshal(data, &m); err != nil {
		return fmt.Errorf("decode control message: %w", err)
	}
	switch m.Op {
	case opNode:
		if m.Node != nil {
			n.nodes.update(*m.Node)
		}
		return nil
	case opShutdown:
		if m.Node != nil {
			n.nodes.remove(m.Node.UID)
		}
		return nil
	case opEmulation:
		// On a goroutine of its own, as a local emulation request runs on
		// its HTTP handler's: a command waiting for a free slot of its
		// connection must not hold up this node's other control messages.
		go n.emulateLocal(m.Session, m.Data)
		return nil
	case opSharedPoll:
		n.applySharedPollPublish(m)
		return nil
	}
	for _, c := range n.hub.userConnections(m.User) {
		if m.Client != "" && c.id != m.Client {
			continue
		}
		switch m.Op {
		case opSubscribe:
			go c.apiSubscribe(m.Channel, m.Subscribe)
		case opUnsubscribe:
			go c.serverUnsubscribe(m.Channel, UnsubscribeCodeServer, "server unsubscribe")
		case opDisconnect:
			if slices.Contains(m.Whitelist, c.id) {
				continue
			}
			go c.Disconnect(&Disconnect{Code: m.Code, Reason: m.Reason})
		case opRefresh:
			go c.apiRefresh(m.Expired, m.ExpireAt, m.Info)
		}
	}
	return nil
}

// apiSubscribe is a server-side subscription made through the API; the
// client learns of it from a subscribe push.
func (c *Client) apiSubscribe(ch string, o *SubscribeOptions) {
	if o == nil {
		o = &SubscribeOptions{}
	}
	c.mu.Lock()
	_, already := c.subs[ch]
	c.mu.Unlock()
	if already {
		return
	}
	req := &clientpb.SubscribeRequest{}
	if o.RecoverSince != nil {
		req.Recover = true
		req.Offset = o.RecoverSince.Offset
		req.Epoch = o.RecoverSince.Epoch
	}
	s := serverSubRequest{channel: ch}
	s.opts.Info, s.opts.Data, s.opts.Override = o.Info, o.Data, o.Override
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := c.subscribeServerSide(ctx, s, req)
	if err != nil {
		c.log.Info("server API subscribe failed", "channel", ch, "error", err)
		return
	}
	if o.ExpireAt > 0 {
		c.mu.Lock()
		if sub := c.subs[ch]; sub != nil {
			sub.expireAt = o.ExpireAt
		}
		c.mu.Unlock()
	}
	c.sendReply(&clientpb.Reply{Push: &clientpb.Push{Channel: ch, Subscribe: &clientpb.Subscribe{
		Recoverable: res.Recoverable, Epoch: res.Epoch, Offset: res.Offset, Positioned: res.Positioned, Data: res.Data,
	}}})
	c.afterReply(ch)
}

// apiRefresh applies a server API refresh to this connection.
func (c *Client) apiRefresh(expired bool, expireAt int64, info []byte) {
	if expired {
		c.close(DisconnectExpired)
		return
	}
	c.mu.Lock()
	c.expireAt = expireAt
	if len(info) > 0 {
		c.info = info
	}
	if expireAt > 0 {
		c.armExpiry(expireAt)
	} else if c.expireTimer != nil {
		c.expireTimer.Stop()
	}
	c.mu.Unlock()
}
