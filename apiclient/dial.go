package apiclient

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/encoding/gzip"
)

// DefaultTimeout bounds an API call whose context has no deadline:
// unlike RoadRunner's client, no call can wait forever.
const DefaultTimeout = 5 * time.Second

// DialConfig describes how to reach a server's gRPC API.
type DialConfig struct {
	// Address is host:port; a tcp:// prefix is accepted and dropped.
	Address string
	// Key is sent as `authorization: apikey <Key>` when non-empty.
	Key string
	// Timeout applies to calls whose context has no deadline; zero means
	// DefaultTimeout.
	Timeout time.Duration
	// Compress asks for gzip (RoadRunner's use_compressor).
	Compress bool
	// TLS, when set, connects over TLS with these credentials: RootCAs
	// verifies the server (the system roots when nil), Certificates
	// present a client certificate, ServerName overrides the dialled host.
	// Nil connects in plaintext.
	TLS *tls.Config
}

// Dial returns a gRPC API client and its connection (close it when done).
// The connection is lazy: Dial does not wait for the server.
func Dial(cfg DialConfig) (*GRPC, *grpc.ClientConn, error) {
	addr := strings.TrimPrefix(cfg.Address, "tcp://")
	if addr == "" {
		return nil, nil, errors.New("server API address is empty")
	}
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	creds := insecure.NewCredentials()
	if cfg.TLS != nil {
		creds = credentials.NewTLS(cfg.TLS)
	}
	opts := []grpc.DialOption{
		grpc.WithTransportCredentials(creds),
		grpc.WithUnaryInterceptor(func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, o ...grpc.CallOption) error {
			if _, ok := ctx.Deadline(); !ok {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, timeout)
				defer cancel()
			}
			return invoker(ctx, method, req, reply, cc, o...)
		}),
	}
	if cfg.Compress {
		opts = append(opts, grpc.WithDefaultCallOptions(grpc.UseCompressor(gzip.Name)))
	}
	conn, err := grpc.NewClient(addr, opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("server API %s: %w", addr, err)
	}
	return NewGRPC(conn, cfg.Key), conn, nil
}
