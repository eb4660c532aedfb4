package proxy

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/encoding/gzip"
	"google.golang.org/protobuf/proto"

	"github.com/spindle-rt/spindle/internal/tlsconf"
)

// grpcTransport calls CentrifugoProxy methods on one connection.
type grpcTransport struct {
	conn     grpc.ClientConnInterface
	callOpts []grpc.CallOption
	md       grpcMetadata
	owned    *grpc.ClientConn // closed by close(); nil when a Set owns conn
}

func (g *grpcTransport) invoke(ctx context.Context, ev event, req, resp proto.Message) error {
	return g.conn.Invoke(g.md.outgoing(ctx), grpcMethods[ev], req, resp, g.callOpts...)
}

func (g *grpcTransport) close() error {
	if g.owned == nil {
		return nil
	}
	return g.owned.Close()
}

// dialKey identifies connections that can be shared: everything that goes
// into grpc.NewClient. Compression and credentials are per call.
type dialKey struct {
	target string
	tls    string // tlsKey of the TLS settings; "" is plaintext
}

// grpcDialKey derives the connection identity of a gRPC proxy config.
func grpcDialKey(cfg *Config) dialKey {
	ep := cfg.Endpoint
	if len(ep) >= len("grpc://") && strings.EqualFold(ep[:len("grpc://")], "grpc://") {
		ep = ep[len("grpc://"):]
	}
	return dialKey{target: "dns:///" + ep, tls: tlsKey(cfg.GRPCTLS)}
}

// tlsKey tells TLS settings apart by content, so proxies configured alike
// (the flat v5 per-event proxies share their options) share connections.
// "" means no TLS.
func tlsKey(s *tlsconf.Settings) string {
	if s == nil {
		return ""
	}
	h := sha256.New()
	for _, part := range [][]byte{s.Cert, s.Key, s.CA, []byte(s.ServerName), []byte(strconv.FormatBool(s.InsecureSkipVerify))} {
		_, _ = fmt.Fprintf(h, "%d:", len(part))
		_, _ = h.Write(part)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// reconnectBackoff caps gRPC's reconnect backoff (120 s by default) so a
// restarted application backend is reachable again within seconds: while
// the connection is in backoff every proxied command fails fast.
var reconnectBackoff = grpc.ConnectParams{
	Backoff: backoff.Config{
		BaseDelay:  250 * time.Millisecond,
		Multiplier: 1.6,
		Jitter:     0.2,
		MaxDelay:   5 * time.Second,
	},
	MinConnectTimeout: 5 * time.Second,
}

// dial creates the (lazy) client connection for cfg, whose key is k;
// nothing touches the network until the first call.
func dial(k dialKey, cfg *Config) (*grpc.ClientConn, error) {
	creds := insecure.NewCredentials()
	if cfg.GRPCTLS != nil {
		tc, err := tlsconf.Client(*cfg.GRPCTLS)
		if err != nil {
			return nil, fmt.Errorf("error make TLS config (for proxy_grpc:%s): %w", cfg.Name, err)
		}
		creds = credentials.NewTLS(tc)
	}
	conn, err := grpc.NewClient(k.target,
		grpc.WithTransportCredentials(creds),
		grpc.WithConnectParams(reconnectBackoff),
	)
	if err != nil {
		return nil, fmt.Errorf("create grpc client: %w", err)
	}
	return conn, nil
}

// newGRPCTransport builds the per-proxy call settings around conn.
func newGRPCTransport(cfg *Config, conn grpc.ClientConnInterface) (*grpcTransport, []string, error) {
	g := &grpcTransport{conn: conn}
	if cfg.GRPCCompression {
		g.callOpts = append(g.callOpts, grpc.UseCompressor(gzip.Name))
	}
	if cfg.GRPCCredentialsKey != "" {
		k := strings.ToLower(cfg.GRPCCredentialsKey)
		if !mdKeyOK(k) {
			return nil, nil, fmt.Errorf("grpc credentials key %q is not a valid metadata key", cfg.GRPCCredentialsKey)
		}
		if !mdValueOK(k, cfg.GRPCCredentialsValue) {
			return nil, nil, fmt.Errorf("grpc credentials value for key %q has non-printable characters", cfg.GRPCCredentialsKey)
		}
		g.md.credKey, g.md.credValue = k, cfg.GRPCCredentialsValue
	}
	headers, dropped := allowList(cfg.HTTPHeaders, mdKeyOK)
	g.md.headers = headers
	incoming, dropped2 := allowList(cfg.GRPCMetadata, mdKeyOK)
	for _, a := range incoming {
		g.md.incoming = append(g.md.incoming, a.lower)
	}
	return g, append(dropped, dropped2...), nil
}
