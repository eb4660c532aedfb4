package node

import (
	"context"
	"errors"
	"time"

	"github.com/spindle-rt/spindle/internal/realtime/protocol"
	"github.com/spindle-rt/spindle/proto/clientpb"
)

// UnidirectionalTransport is a Transport whose client sends nothing but
// its connect request (uni_websocket, uni_sse, uni_http_stream, uni_grpc):
// the node writes bare pushes to it instead of replies, starts with a
// connect push, expects no pongs, and turns a refused connect into a
// disconnect. Everything else — tokens, the connect proxy, server-side
// subscriptions and their recovery, limits, pings, expiry, shutdown — is
// the same code as for every other transport.
type UnidirectionalTransport interface {
	Transport
	Unidirectional() bool
}

func isUnidirectional(t Transport) bool {
	u, ok := t.(UnidirectionalTransport)
	return ok && u.Unidirectional()
}

// ConnectUnidirectional runs a unidirectional client's connect request and
// queues its connect push; false means the connect was refused and the
// connection is being closed with the matching disconnect.
func (c *Client) ConnectUnidirectional(req *clientpb.ConnectRequest) bool {
	c.frameMu.Lock()
	defer c.frameMu.Unlock()
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	reply, err := c.handleConnect(ctx, req)
	cancel()
	c.n.metrics.commandDuration.WithLabelValues("connect").Observe(time.Since(start).Seconds())
	if err != nil {
		d := uniConnectDisconnect(err)
		c.n.metrics.commandErrors.WithLabelValues("connect", codeLabel(d.Code)).Inc()
		c.Disconnect(d)
		return c.sessionOver()
	}
	r := reply.Connect
	c.sendReply(&clientpb.Reply{Push: &clientpb.Push{Connect: &clientpb.Connect{
		Client: r.Client, Version: r.Version, Data: r.Data, Subs: r.Subs,
		Expires: r.Expires, Ttl: r.Ttl, Ping: r.Ping, Session: r.Session, Time: r.Time,
	}}})
	chs := make([]string, 0, len(r.Subs))
	for ch := range r.Subs {
		chs = append(chs, ch)
	}
	c.afterReply(chs...)
	return true
}

// uniConnectDisconnect is Centrifugo's default mapping of a connect error
// to the disconnect a unidirectional client gets instead of an error reply.
func uniConnectDisconnect(err error) *Disconnect {
	var d *Disconnect
	if errors.As(err, &d) {
		return d
	}
	switch toClientError(err).Code {
	case ErrorTokenExpired.Code, ErrorExpired.Code:
		return DisconnectExpired
	case ErrorTooManyRequests.Code:
		return DisconnectTooManyRequests
	case ErrorPermissionDenied.Code:
		return DisconnectPermissionDenied
	}
	return DisconnectServerError
}

// encodeForUni encodes what the node queues for a unidirectional client:
// the push alone (nothing else is ever sent to one).
func encodeForUni(t protocol.Type, r *clientpb.Reply) ([]byte, bool, error) {
	if r.Push == nil {
		return nil, false, nil
	}
	b, err := protocol.EncodePush(t, r.Push)
	return b, true, err
}
