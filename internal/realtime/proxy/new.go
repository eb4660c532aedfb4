package proxy

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"google.golang.org/grpc"
)

// Options are the server-wide dependencies of proxy backends.
type Options struct {
	// Logger receives configuration warnings and, at debug level, failed
	// calls. Nil discards.
	Logger *slog.Logger
	// Metrics records call durations and failures. Nil disables metrics.
	Metrics *Metrics
}

// Protocol names, as used in the `protocol` metric label.
const (
	protocolGRPC = "grpc"
	protocolHTTP = "http"
)

// protocolOf tells which transport an endpoint selects: http(s):// URLs
// are HTTP, grpc://host:port and bare host:port are gRPC, and any other
// scheme is refused rather than guessed.
func protocolOf(endpoint string) (string, error) {
	if endpoint == "" {
		return "", errors.New("empty endpoint")
	}
	lower := strings.ToLower(endpoint)
	switch {
	case strings.HasPrefix(lower, "http://"), strings.HasPrefix(lower, "https://"):
		return protocolHTTP, nil
	case strings.HasPrefix(lower, "grpc://"):
		return protocolGRPC, nil
	}
	if i := strings.Index(endpoint, "://"); i >= 0 {
		return "", fmt.Errorf("unsupported scheme %q (use grpc://host:port, host:port or http(s)://…)", endpoint[:i])
	}
	return protocolGRPC, nil
}

// New creates the backend for one configured proxy: a gRPC client for
// grpc://host:port or host:port endpoints, an HTTP client for http(s)://
// ones. The gRPC connection is made lazily on the first call. The result
// owns its connection and implements io.Closer; use a Set to share
// connections between proxies.
func New(cfg *Config, opts Options) (*Client, error) {
	return build(cfg, opts, ownResources{})
}

// resources supplies the connections a backend uses; a Set shares them,
// New gives every backend its own.
type resources interface {
	grpcConn(cfg *Config) (conn *grpc.ClientConn, owned bool, err error)
	httpRoundTripper(cfg *Config) (rt *http.Transport, owned bool, err error)
}

// ownResources gives each backend private connections.
type ownResources struct{}

func (ownResources) grpcConn(cfg *Config) (*grpc.ClientConn, bool, error) {
	c, err := dial(grpcDialKey(cfg), cfg)
	return c, true, err
}

func (ownResources) httpRoundTripper(cfg *Config) (*http.Transport, bool, error) {
	rt, err := newHTTPRoundTripper(cfg)
	return rt, true, err
}

func build(cfg *Config, opts Options, res resources) (*Client, error) {
	if cfg == nil {
		return nil, errors.New("proxy: nil config")
	}
	protocol, err := protocolOf(cfg.Endpoint)
	if err != nil {
		return nil, fmt.Errorf("proxy %q endpoint %q: %w", cfg.Name, cfg.Endpoint, err)
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &Client{
		endpoint: cfg.Endpoint,
		protocol: protocol,
		timeout:  cfg.Timeout,
		metrics:  opts.Metrics.forProtocol(protocol),
		log:      log,
	}
	if c.timeout <= 0 {
		c.timeout = defaultTimeout
	}
	var dropped []string
	switch protocol {
	case protocolHTTP:
		rt, owned, err := res.httpRoundTripper(cfg)
		if err != nil {
			return nil, fmt.Errorf("proxy %q endpoint %q: %w", cfg.Name, cfg.Endpoint, err)
		}
		c.t, dropped = newHTTPTransport(cfg, rt, owned)
	default:
		conn, owned, err := res.grpcConn(cfg)
		if err != nil {
			return nil, fmt.Errorf("proxy %q endpoint %q: %w", cfg.Name, cfg.Endpoint, err)
		}
		g, d, err := newGRPCTransport(cfg, conn)
		if err != nil {
			if owned {
				_ = conn.Close()
			}
			return nil, fmt.Errorf("proxy %q endpoint %q: %w", cfg.Name, cfg.Endpoint, err)
		}
		if owned {
			g.owned = conn
		}
		c.t, dropped = g, d
	}
	if len(dropped) > 0 {
		log.Warn("proxy: headers that cannot be forwarded are ignored",
			slog.String("proxy", cfg.Name), slog.String("endpoint", cfg.Endpoint),
			slog.Any("headers", dropped))
	}
	return c, nil
}
