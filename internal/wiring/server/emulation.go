package server

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"github.com/spindle-rt/spindle/internal/config"
	"github.com/spindle-rt/spindle/internal/realtime/node"
	"github.com/spindle-rt/spindle/internal/realtime/transport/httpstream"
	"github.com/spindle-rt/spindle/internal/realtime/transport/websocket"
)

// registerEmulation serves the HTTP-streaming and SSE transports that are
// enabled, and with either of them the emulation endpoint their clients
// post commands to. Connection limits apply to the streams as to
// WebSockets; the emulation endpoint carries commands of connections that
// already passed them.
func registerEmulation(mux *http.ServeMux, cfg *config.Config, n *node.Node, gate *connectionGate, origins *websocket.OriginMatcher, log *slog.Logger) {
	if !cfg.HTTPStream.Enabled && !cfg.SSE.Enabled {
		return
	}
	stream := streamConfig(cfg, n, origins, log)
	if cfg.HTTPStream.Enabled {
		mux.Handle(cfg.HTTPStream.HandlerPrefix, gate.wrap(httpstream.NewHTTPStreamHandler(stream(cfg.HTTPStream))))
	}
	if cfg.SSE.Enabled {
		mux.Handle(cfg.SSE.HandlerPrefix, gate.wrap(httpstream.NewSSEHandler(stream(cfg.SSE))))
	}
	mux.Handle(cfg.Emulation.HandlerPrefix, httpstream.NewEndpoint(httpstream.EndpointConfig{
		Origins: origins, MaxRequestBodySize: cfg.Emulation.MaxRequestBodySize, Router: emulationRouter{n}, Logger: log,
	}))
}

// streamConfig is the configuration every HTTP-streamed transport shares,
// with t's body limit.
func streamConfig(cfg *config.Config, n *node.Node, origins *websocket.OriginMatcher, log *slog.Logger) func(t config.StreamTransport) httpstream.StreamConfig {
	accept := func(c *httpstream.Conn, r *http.Request) (httpstream.Session, error) {
		cl, err := acceptClient(n, c, r)
		if err != nil {
			return nil, err
		}
		return cl, nil
	}
	return func(t config.StreamTransport) httpstream.StreamConfig {
		return httpstream.StreamConfig{Origins: origins, MaxRequestBodySize: t.MaxRequestBodySize, WriteTimeout: cfg.WebSocket.WriteTimeout, Accept: accept, Logger: log}
	}
}

// emulationRouter is the node as the emulation endpoint's Router.
type emulationRouter struct{ n *node.Node }

func (r emulationRouter) Emulate(ctx context.Context, nodeID, session string, data []byte) error {
	err := r.n.Emulate(ctx, nodeID, session, data)
	if errors.Is(err, node.ErrUnknownNode) {
		return httpstream.ErrUnknownNode
	}
	return err
}
