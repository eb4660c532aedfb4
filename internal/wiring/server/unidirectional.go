package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"

	"github.com/spindle-rt/spindle/internal/config"
	"github.com/spindle-rt/spindle/internal/realtime/node"
	"github.com/spindle-rt/spindle/internal/realtime/transport/httpstream"
	"github.com/spindle-rt/spindle/internal/realtime/transport/unigrpc"
	"github.com/spindle-rt/spindle/internal/realtime/transport/uniws"
	"github.com/spindle-rt/spindle/internal/realtime/transport/websocket"
)

// registerUnidirectional serves the unidirectional HTTP transports that are
// enabled, behind the same connection gate as the others.
func registerUnidirectional(mux *http.ServeMux, cfg *config.Config, n *node.Node, gate *connectionGate, origins *websocket.OriginMatcher, log *slog.Logger) {
	stream := streamConfig(cfg, n, origins, log)
	if cfg.UniSSE.Enabled {
		mux.Handle(cfg.UniSSE.HandlerPrefix, gate.wrap(httpstream.NewUniSSEHandler(stream(cfg.UniSSE))))
	}
	if cfg.UniHTTPStream.Enabled {
		mux.Handle(cfg.UniHTTPStream.HandlerPrefix, gate.wrap(httpstream.NewUniHTTPStreamHandler(stream(cfg.UniHTTPStream))))
	}
	if cfg.UniWebSocket.Enabled {
		mux.Handle(cfg.UniWebSocket.HandlerPrefix, gate.wrap(uniws.NewHandler(uniws.Config{
			WebSocket: websocket.Config{
				AllowedOrigins:   cfg.Client.AllowedOrigins,
				MessageSizeLimit: cfg.UniWebSocket.MessageSizeLimit,
				WriteTimeout:     cfg.WebSocket.WriteTimeout,
				Logger:           log,
			},
			Accept: func(c *uniws.Conn, r *http.Request) (uniws.Session, error) {
				cl, err := acceptClient(n, c, r)
				if err != nil {
					return nil, err
				}
				return cl, nil
			},
		})))
	}
}

// newUniGRPC builds the uni_grpc server, or nil when it is off. The
// call's metadata stand in for the headers proxies forward.
func newUniGRPC(cfg *config.Config, n *node.Node, log *slog.Logger) *grpc.Server {
	if !cfg.UniGRPC.Enabled {
		return nil
	}
	opts := unigrpc.ServerOptions()
	if cfg.UniGRPC.MaxReceiveMessageSize > 0 {
		opts = append(opts, grpc.MaxRecvMsgSize(cfg.UniGRPC.MaxReceiveMessageSize))
	}
	srv := grpc.NewServer(opts...)
	unigrpc.Register(srv, unigrpc.Config{
		Logger: log,
		Accept: func(c *unigrpc.Conn, ctx context.Context) (unigrpc.Session, error) {
			info := node.RequestInfo{Header: http.Header{}}
			if md, ok := metadata.FromIncomingContext(ctx); ok {
				for k, vs := range md {
					if !strings.HasPrefix(k, ":") {
						info.Header[http.CanonicalHeaderKey(k)] = vs
					}
				}
			}
			if p, ok := peer.FromContext(ctx); ok && p.Addr != nil {
				info.RemoteAddr = p.Addr.String()
			}
			cl, err := n.NewClient(c, info)
			var d *node.Disconnect
			if errors.As(err, &d) {
				return nil, &unigrpc.CloseError{Code: int(d.Code), Reason: d.Reason}
			}
			if err != nil {
				return nil, err
			}
			return cl, nil
		},
	})
	return srv
}

// uniGRPCAddr is where uni_grpc listens.
func uniGRPCAddr(cfg *config.Config) string {
	return net.JoinHostPort(cfg.UniGRPC.Address, strconv.Itoa(cfg.UniGRPC.Port))
}

// listenUniGRPC binds the uni_grpc port.
func listenUniGRPC(cfg *config.Config) (net.Listener, error) {
	ln, err := net.Listen("tcp", uniGRPCAddr(cfg))
	if err != nil {
		return nil, fmt.Errorf("listen %s (uni_grpc_address/uni_grpc_port): %w", uniGRPCAddr(cfg), err)
	}
	return ln, nil
}
