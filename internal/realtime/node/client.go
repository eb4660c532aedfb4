package node

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/spindle-rt/spindle/internal/realtime/engine"
	"github.com/spindle-rt/spindle/internal/realtime/protocol"
	"github.com/spindle-rt/spindle/proto/clientpb"
)

type clientStatus uint8

const (
	statusConnecting clientStatus = iota
	statusConnected
	statusConnectFailed
	statusClosed
)

// Client is one connection. Its commands are handled one after another on
// the transport's reader goroutine; its replies and pushes are written by
// a writer goroutine that runs only while something is queued (queue.go),
// so an idle connection costs the reader goroutine alone.
type Client struct {
	n     *Node
	id    string
	t     Transport
	proto protocol.Type
	req   RequestInfo
	log   *slog.Logger
	// session is the session id of an emulated or unidirectional
	// transport ("" for WebSocket).
	session string
	// uni: the transport is unidirectional (bare pushes, no pongs).
	uni bool
	// framesOut and messagesOut are this transport's children of the
	// node's counters, looked up once.
	framesOut, messagesOut prometheus.Counter

	// frameMu serialises HandleFrame: a WebSocket has one reader, but an
	// emulated connection's frames come from concurrent HTTP requests.
	// It is taken before Client.mu.
	frameMu sync.Mutex

	q        *writeQueue
	cmds     *commandQueue
	limiter  *commandLimiter // nil: commands are not rate limited
	closedCh chan struct{}

	mu       sync.Mutex
	status   clientStatus
	user     string
	info     []byte // conn_info
	meta     []byte
	expireAt int64 // Unix seconds, 0 = never
	subs     map[string]*subscription
	// mapFlows holds map subscriptions between their first page and LIVE
	// (map_subscribe.go); nil until the first one.
	mapFlows map[string]*mapFlow
	// mapKeys are the keys this connection wrote, per map channel (see
	// maxKeysPerConnection); nil until the first write.
	mapKeys map[string]map[string]struct{}

	pingOutstanding bool
	staleTimer      *time.Timer
	pingTimer       *time.Timer
	pongTimer       *time.Timer
	expireTimer     *time.Timer
	tickTimer       *time.Timer
}

// NewClient attaches a freshly upgraded transport to the node. The client
// must send connect within the stale delay or it is closed.
func (n *Node) NewClient(t Transport, req RequestInfo) (*Client, error) {
	if n.isShutdown() {
		return nil, DisconnectShutdown
	}
	cc := &n.settings().cfg.Client
	c := &Client{
		n:        n,
		id:       uuid.NewString(),
		t:        t,
		proto:    t.Protocol(),
		req:      req,
		closedCh: make(chan struct{}),
		subs:     make(map[string]*subscription),
	}
	c.q = newWriteQueue(cc.QueueMaxSize, c.writeLoop)
	c.log = n.log.With("client", c.id)
	c.uni = isUnidirectional(t)
	c.framesOut = n.metrics.framesOut.WithLabelValues(t.Name())
	c.messagesOut = n.metrics.messagesOut.WithLabelValues(t.Name())
	c.startSession()
	c.cmds = newCommandQueue(c, cc.Concurrency)
	if rl := n.settings().cfg.CommandRateLimit; rl != nil {
		c.limiter = newCommandLimiter(rl, n.now, n.metrics)
	}
	if d := cc.StaleCloseDelay; d > 0 {
		// Under c.mu: the timer may fire before AfterFunc returns, and
		// close reads the field under c.mu.
		c.mu.Lock()
		c.staleTimer = time.AfterFunc(d, func() { c.closeIfNotConnected(DisconnectStale) })
		c.mu.Unlock()
	}
	n.metrics.connectionsOpened.WithLabelValues(t.Name()).Inc()
	return c, nil
}

// ID is the connection id given to the client in the connect reply.
func (c *Client) ID() string { return c.id }

// User is the authenticated user id ("" for anonymous).
func (c *Client) User() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.user
}

// HandleFrame processes one incoming message of one or more commands. It
// returns false when the connection is over.
func (c *Client) HandleFrame(data []byte) bool {
	c.frameMu.Lock()
	defer c.frameMu.Unlock()
	dec := protocol.NewCommandDecoder(c.proto, data)
	n := 0
	for {
		cmd, err := dec.Decode()
		if err != nil {
			if errors.Is(err, io.EOF) && n > 0 {
				return true
			}
			c.log.Info("bad frame", "error", err)
			c.Disconnect(DisconnectBadRequest)
			return c.sessionOver()
		}
		n++
		c.n.metrics.commandsIn.Inc()
		if !c.dispatch(cmd) {
			return c.sessionOver()
		}
	}
}

// dispatch decides where a command runs. Pongs, and everything before the
// connection is established (connect itself, and what must refuse to run
// without one), run here on the reader, in order. Commands of a connected
// client go to its command queue, so the reader stays free for pongs.
// false means the session is over.
func (c *Client) dispatch(cmd *clientpb.Command) bool {
	if cmd.Id == 0 && cmd.Send == nil {
		return c.handlePong()
	}
	c.mu.Lock()
	connected := c.status == statusConnected
	c.mu.Unlock()
	if !connected || cmd.Connect != nil {
		return c.handleCommand(cmd)
	}
	return c.cmds.push(cmd)
}

// sessionOver waits (briefly) for the writer to flush and send the close
// frame, so the transport does not drop TCP before the client learns why.
func (c *Client) sessionOver() bool {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	c.waitClosed(ctx)
	return false
}

// HandleClose is called by the transport when the connection is gone.
func (c *Client) HandleClose() {
	c.close(DisconnectConnectionClosed)
}

// Disconnect closes the connection with d after flushing queued replies.
func (c *Client) Disconnect(d *Disconnect) {
	c.close(d)
}

func (c *Client) closeIfNotConnected(d *Disconnect) {
	c.mu.Lock()
	st := c.status
	c.mu.Unlock()
	if st == statusConnecting || st == statusConnectFailed {
		c.close(d)
	}
}

func (c *Client) close(d *Disconnect) {
	c.mu.Lock()
	if c.status == statusClosed {
		c.mu.Unlock()
		return
	}
	wasConnected := c.status == statusConnected
	c.status = statusClosed
	subs := c.subs
	c.subs = nil
	c.mapFlows = nil
	for _, t := range []*time.Timer{c.staleTimer, c.pingTimer, c.pongTimer, c.expireTimer, c.tickTimer} {
		if t != nil {
			t.Stop()
		}
	}
	c.mu.Unlock()

	if c.session != "" {
		c.n.sessions.remove(c)
	}
	if wasConnected {
		c.n.hub.removeClient(c)
		for ch, s := range subs {
			c.n.removeSubscription(ch, c, s)
		}
	}
	c.cmds.stop()
	c.n.metrics.disconnects.WithLabelValues(codeLabel(d.Code)).Inc()
	if d.Code != DisconnectConnectionClosed.Code {
		c.log.Debug("disconnect", "code", d.Code, "reason", d.Reason)
	}
	c.q.close(d)
}

// waitClosed waits until the close frame was written (or ctx ends).
func (c *Client) waitClosed(ctx context.Context) {
	select {
	case <-c.closedCh:
	case <-ctx.Done():
	}
}

// writeLoop is the connection's writer while something is queued: it
// batches whatever is queued into one frame, returns when the queue is
// empty, and on close flushes the rest before the close frame.
func (c *Client) writeLoop() {
	var spare [][]byte
	var frame []byte
	for {
		items, closing, idle := c.q.take(spare)
		if idle {
			return
		}
		if len(items) > 0 {
			var err error
			switch bw, ok := c.t.(BatchWriter); {
			case ok:
				err = bw.WriteBatch(items)
			case len(items) == 1:
				err = c.t.Write(items[0]) // nothing to join: no copy
			default:
				frame = joinFrame(c.proto, frame[:0], items)
				err = c.t.Write(frame)
			}
			if err != nil {
				c.q.markClosed()
				if closing == nil {
					c.close(DisconnectWriteError)
				}
				_ = c.t.Close(int(DisconnectWriteError.Code), DisconnectWriteError.Reason)
				close(c.closedCh)
				return
			}
			c.framesOut.Inc()
			c.messagesOut.Add(float64(len(items)))
			for i := range items {
				items[i] = nil
			}
			spare = items
			if cap(frame) > 64<<10 {
				frame = nil
			}
		}
		if closing != nil {
			// Anything queued after the close request is dropped.
			c.q.markClosed()
			_ = c.t.Close(int(closing.Code), closing.Reason)
			close(c.closedCh)
			return
		}
	}
}

// joinFrame puts several encoded replies into one WebSocket message: JSON
// ones separated by a newline, Protobuf ones back to back (each carries its
// length prefix).
func joinFrame(t protocol.Type, dst []byte, items [][]byte) []byte {
	for i, it := range items {
		if i > 0 && t == protocol.TypeJSON {
			dst = append(dst, '\n')
		}
		dst = append(dst, it...)
	}
	return dst
}

// enqueue queues encoded bytes for the writer; a full queue disconnects
// the client as slow.
func (c *Client) enqueue(b []byte) {
	ok, overflow := c.q.push(b)
	if !ok && overflow {
		go c.close(DisconnectSlow)
	}
}

// sendReply encodes and queues a reply to this client.
func (c *Client) sendReply(r *clientpb.Reply) {
	var b []byte
	var err error
	if c.uni {
		var ok bool
		if b, ok, err = encodeForUni(c.proto, r); !ok {
			return // a reply to a command no unidirectional client can send
		}
	} else {
		b, err = protocol.EncodeReply(c.proto, r)
	}
	if err != nil {
		if errors.Is(err, protocol.ErrInvalidJSONPayload) {
			c.log.Info("payload is not JSON for a JSON client", "error", err)
			go c.close(DisconnectInappropriateProtocol)
			return
		}
		c.log.Error("encode reply", "error", err)
		go c.close(DisconnectServerError)
		return
	}
	c.enqueue(b)
}

// startPings arms the server ping: first at a random point of the first
// interval, then every interval; each ping wants one pong in time.
func (c *Client) startPings() {
	iv := c.n.settings().cfg.Client.PingInterval
	if iv <= 0 {
		return
	}
	first := iv/2 + time.Duration(rand.Int64N(int64(iv/2)+1))
	// Under c.mu, like every timer field: sendPing resets it and close
	// stops it, both from other goroutines.
	c.mu.Lock()
	c.pingTimer = time.AfterFunc(first, c.sendPing)
	c.mu.Unlock()
}

func (c *Client) sendPing() {
	c.mu.Lock()
	if c.status != statusConnected {
		c.mu.Unlock()
		return
	}
	// A unidirectional client cannot answer: its pings only keep the
	// stream alive through proxies.
	c.pingOutstanding = !c.uni
	if pt := c.n.settings().cfg.Client.PongTimeout; pt > 0 && !c.uni {
		if c.pongTimer == nil {
			c.pongTimer = time.AfterFunc(pt, c.pongMissed)
		} else {
			c.pongTimer.Reset(pt)
		}
	}
	c.pingTimer.Reset(c.n.settings().cfg.Client.PingInterval)
	c.mu.Unlock()
	if c.uni && c.proto == protocol.TypeProtobuf {
		c.enqueue([]byte{}) // an empty Push message on a gRPC stream
		return
	}
	c.enqueue(emptyMessage(c.proto))
}

func (c *Client) pongMissed() {
	c.mu.Lock()
	missed := c.pingOutstanding && c.status == statusConnected
	c.mu.Unlock()
	if missed {
		c.close(DisconnectNoPong)
	}
}

// handlePong accepts exactly one pong per ping.
func (c *Client) handlePong() bool {
	c.mu.Lock()
	if !c.pingOutstanding || c.status != statusConnected {
		c.mu.Unlock()
		c.Disconnect(DisconnectBadRequest)
		return false
	}
	c.pingOutstanding = false
	if c.pongTimer != nil {
		c.pongTimer.Stop()
	}
	c.mu.Unlock()
	return true
}

// emptyMessage is a server ping: a reply with nothing set.
func emptyMessage(t protocol.Type) []byte {
	if t == protocol.TypeJSON {
		return []byte("{}")
	}
	return []byte{0}
}

// clientInfo is how this connection appears to others in a channel.
func (c *Client) clientInfo(chanInfo []byte) *engine.ClientInfo {
	c.mu.Lock()
	defer c.mu.Unlock()
	return &engine.ClientInfo{User: c.user, Client: c.id, ConnInfo: c.info, ChanInfo: chanInfo}
}
