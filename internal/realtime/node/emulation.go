package node

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/google/uuid"
)

// EmulatedTransport is a Transport whose client-to-server direction does
// not travel with it: HTTP-streaming and SSE carry only the server's
// replies, and the client posts its later commands to the emulation
// endpoint, addressed by (node, session). A transport that reports true
// gets a session id, and its connect reply names the session and this
// node, which is all the client needs to address its commands.
type EmulatedTransport interface {
	Transport
	Emulated() bool
}

// ErrUnknownNode answers an emulation request addressed to a node that is
// neither this one nor one it has heard from (the HTTP endpoint's 404).
var ErrUnknownNode = errors.New("unknown node")

// sessionIndex finds an emulated connection by its session id. Its mu is
// a leaf: nothing is taken under it.
type sessionIndex struct {
	mu      sync.Mutex
	clients map[string]*Client
}

func (s *sessionIndex) add(c *Client) {
	s.mu.Lock()
	if s.clients == nil {
		s.clients = make(map[string]*Client)
	}
	s.clients[c.session] = c
	s.mu.Unlock()
}

func (s *sessionIndex) remove(c *Client) {
	s.mu.Lock()
	if s.clients[c.session] == c {
		delete(s.clients, c.session)
	}
	s.mu.Unlock()
}

func (s *sessionIndex) get(session string) *Client {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.clients[session]
}

// startSession gives an emulated connection its session id.
func (c *Client) startSession() {
	if et, ok := c.t.(EmulatedTransport); ok && et.Emulated() {
		c.session = uuid.NewString()
		c.n.sessions.add(c)
		return
	}
	if c.uni {
		// Named in the connect push (Centrifugo gives uni clients one too);
		// nothing is ever addressed to it.
		c.session = uuid.NewString()
	}
}

// Emulate delivers the commands of one emulation request (data, in the
// session's own wire format) to the session on nodeID: here when nodeID is
// this node, else through the engine's control channel to the node that
// holds it. A session that no longer exists is not an error — its stream
// has ended and the client will reconnect — so the endpoint answers the
// same way Centrifugo does; only an unknown node is (ErrUnknownNode).
func (n *Node) Emulate(ctx context.Context, nodeID, session string, data []byte) error {
	if nodeID == n.id {
		n.emulateLocal(session, data)
		return nil
	}
	if !n.nodes.known(nodeID) {
		n.metrics.emulationRequests.WithLabelValues("unknown_node").Inc()
		return ErrUnknownNode
	}
	m := controlMessage{Op: opEmulation, Session: session, Data: data}
	if err := n.sendControlTo(ctx, m, nodeID); err != nil {
		n.metrics.emulationRequests.WithLabelValues("failed").Inc()
		return fmt.Errorf("emulation to node %s: %w", nodeID, err)
	}
	n.metrics.emulationRequests.WithLabelValues("forwarded").Inc()
	return nil
}

// emulateLocal hands data to the session's client as if its transport had
// read it. A session over is dropped silently.
func (n *Node) emulateLocal(session string, data []byte) {
	c := n.sessions.get(session)
	if c == nil {
		n.metrics.emulationRequests.WithLabelValues("unknown_session").Inc()
		n.log.Debug("emulation request for an unknown session", "session", session)
		return
	}
	n.metrics.emulationRequests.WithLabelValues("local").Inc()
	c.HandleFrame(data)
}
