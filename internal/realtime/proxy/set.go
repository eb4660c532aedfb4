package proxy

import (
	"errors"
	"fmt"
	"net/http"
	"sync"

	"google.golang.org/grpc"
)

// Set hands out one Backend per configured proxy and lets them share
// connections: every event configured with the same *Config gets the
// same *Client, gRPC proxies with the same target and TLS settings
// share one connection (flat configs often point several events at one
// backend), and HTTP proxies with the same TLS settings one pool. The node creates one Set at start-up and closes it on
// shutdown.
type Set struct {
	opts Options

	mu       sync.Mutex
	backends map[*Config]*Client
	conns    map[dialKey]*grpc.ClientConn
	rts      map[string]*http.Transport // by tlsKey of the HTTP TLS settings
	closed   bool
}

// errSetClosed reports a Get after Close.
var errSetClosed = errors.New("proxy: set is closed")

// NewSet creates an empty Set whose backends use opts.
func NewSet(opts Options) *Set {
	return &Set{
		opts:     opts,
		backends: make(map[*Config]*Client),
		conns:    make(map[dialKey]*grpc.ClientConn),
		rts:      make(map[string]*http.Transport),
	}
}

// Get returns the Backend for cfg, creating it on first use. Later calls
// with the same pointer return the same Backend; a failed creation is not
// remembered, so it is retried.
func (s *Set) Get(cfg *Config) (*Client, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, errSetClosed
	}
	if b, ok := s.backends[cfg]; ok {
		return b, nil
	}
	b, err := build(cfg, s.opts, setResources{s})
	if err != nil {
		return nil, err
	}
	s.backends[cfg] = b
	return b, nil
}

// Close closes the shared connections: gRPC backends from this Set fail
// afterwards, HTTP ones drop their idle connections. It is safe to call
// more than once.
func (s *Set) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	var errs []error
	for k, c := range s.conns {
		if err := c.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close grpc connection to %s: %w", k.target, err))
		}
	}
	for _, rt := range s.rts {
		rt.CloseIdleConnections()
	}
	return errors.Join(errs...)
}

// setResources hands out the Set's shared connections; s.mu is held.
type setResources struct{ s *Set }

func (r setResources) grpcConn(cfg *Config) (*grpc.ClientConn, bool, error) {
	k := grpcDialKey(cfg)
	if c, ok := r.s.conns[k]; ok {
		return c, false, nil
	}
	c, err := dial(k, cfg)
	if err != nil {
		return nil, false, err
	}
	r.s.conns[k] = c
	return c, false, nil
}

func (r setResources) httpRoundTripper(cfg *Config) (*http.Transport, bool, error) {
	k := tlsKey(cfg.HTTPTLS)
	if rt, ok := r.s.rts[k]; ok {
		return rt, false, nil
	}
	rt, err := newHTTPRoundTripper(cfg)
	if err != nil {
		return nil, false, err
	}
	r.s.rts[k] = rt
	return rt, false, nil
}
