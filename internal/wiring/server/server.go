// Package server assembles a running `spindle server` from validated
// configuration: engine, token verifiers, node, WebSocket transport, server
// API (HTTP and gRPC), health and metrics. cmd/spindle only parses flags
// and calls it.
package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/reflection"

	"github.com/spindle-rt/spindle/internal/config"
	"github.com/spindle-rt/spindle/internal/realtime/api"
	"github.com/spindle-rt/spindle/internal/realtime/auth"
	"github.com/spindle-rt/spindle/internal/realtime/engine"
	"github.com/spindle-rt/spindle/internal/realtime/engine/memory"
	"github.com/spindle-rt/spindle/internal/realtime/engine/redis"
	"github.com/spindle-rt/spindle/internal/realtime/node"
	"github.com/spindle-rt/spindle/internal/realtime/proxy"
	"github.com/spindle-rt/spindle/internal/realtime/transport/websocket"
)

// Server is a configured, not yet listening, real-time server.
type Server struct {
	// cfg is the configuration the server started with: listeners, TLS
	// and everything else built once are read from it.
	cfg  *config.Config
	log  *slog.Logger
	Node *node.Node

	// cur is the configuration in force: cfg, or what the last successful
	// reload loaded (see Reload). reloadMu serialises reloads.
	cur      atomic.Pointer[config.Config]
	reloadMu sync.Mutex
	// bound holds the proxies built at start, by name; reloads bind to
	// them, since proxy clients are not rebuilt at run time.
	bound map[string]*node.Proxy
	gate  *connectionGate
	// draining is set when shutdown starts: /health answers 503 from then
	// until the listeners close, so load balancers take the node out.
	draining atomic.Bool
	// beforeClose, when set (tests), runs after the node has drained and
	// before the listeners close, so a test can look at the server in
	// that state.
	beforeClose func(ctx context.Context)

	httpSrv *http.Server
	// intSrv serves the API, metrics and health on the internal listener
	// when internal_address/internal_port name one of its own; nil
	// otherwise (everything is on httpSrv).
	intSrv  *http.Server
	intAddr string
	httpTLS *tls.Config // nil: plain HTTP
	// acmeSrv answers ACME HTTP-01 challenges when tls_autocert_http is
	// on; nil otherwise.
	acmeSrv *http.Server
	grpcSrv *grpc.Server
	// uniGRPC is the uni_grpc transport's server; nil when it is off.
	uniGRPC *grpc.Server
	proxies *proxy.Set

	mu        sync.Mutex
	httpLn    net.Listener
	intLn     net.Listener
	grpcLn    net.Listener
	uniLn     net.Listener
	acmeLn    net.Listener
	serveErrs chan error
}

// Options let an embedder such as `spindle dev` change how the parts are
// wired; the zero value is what `spindle server` runs.
type Options struct {
	// Proxies resolves configured proxies to backends in place of the
	// gRPC/HTTP proxy clients, e.g. to answer them with an in-process app.
	Proxies ProxyResolver
	// Handlers are mounted on the main HTTP listener beside the WebSocket
	// and API endpoints (ServeMux pattern → handler), e.g. a page at "/".
	Handlers map[string]http.Handler
	// Timeouts of the main HTTP listener; zero fields take
	// DefaultHTTPTimeouts. Tests shorten them.
	Timeouts HTTPTimeouts
}

// HTTPTimeouts bound each phase of a plain HTTP exchange on the main
// listener, so idle keep-alive connections and bodies dripped a byte at a
// time cannot be held open forever. A WebSocket leaves them behind at the
// upgrade: its connection's deadlines are cleared and then set per write
// by the transport.
type HTTPTimeouts struct {
	ReadHeader time.Duration
	Read       time.Duration
	Write      time.Duration
	Idle       time.Duration
}

// DefaultHTTPTimeouts are Centrifugo's server timeouts (10 s header, 30 s
// read, 10 s write), plus an idle keep-alive limit equal to the read
// timeout, which is what net/http falls back to and what Centrifugo gets.
var DefaultHTTPTimeouts = HTTPTimeouts{ReadHeader: 10 * time.Second, Read: 30 * time.Second, Write: 10 * time.Second, Idle: 30 * time.Second}

func (t HTTPTimeouts) withDefaults() HTTPTimeouts {
	d := DefaultHTTPTimeouts
	if t.ReadHeader > 0 {
		d.ReadHeader = t.ReadHeader
	}
	if t.Read > 0 {
		d.Read = t.Read
	}
	if t.Write > 0 {
		d.Write = t.Write
	}
	if t.Idle > 0 {
		d.Idle = t.Idle
	}
	return d
}

// New builds every part from cfg. An HTTP API without a key refuses every
// request unless api_insecure is on; the configuration's validation warns
// about that, once, where the key is named.
func New(cfg *config.Config, log *slog.Logger) (*Server, error) {
	return NewWithOptions(cfg, log, Options{})
}

// NewWithOptions is New with embedder options.
func NewWithOptions(cfg *config.Config, log *slog.Logger, o Options) (*Server, error) {
	nodeID := uuid.NewString()
	eng, err := newEngine(cfg, nodeID, log)
	if err != nil {
		return nil, err
	}
	maps, releaseMaps, err := newMapBroker(cfg, eng)
	if err != nil {
		return nil, err
	}
	connTokens, subTokens, err := verifiers(cfg)
	if err != nil {
		releaseMaps()
		return nil, err
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	metrics := node.NewMetrics(reg)
	proxies := proxy.NewSet(proxy.Options{Logger: log, Metrics: proxy.NewMetrics(reg)})
	opts := node.Options{ID: nodeID, Engine: eng, MapBroker: maps, Logger: log, Metrics: metrics, ConnectTokens: connTokens, SubTokens: subTokens}
	resolve := o.Proxies
	if resolve == nil {
		resolve = func(p *config.Proxy) (node.Backend, error) { return proxies.Get(proxyClientConfig(p)) }
	}
	bound := map[string]*node.Proxy{}
	nc, err := nodeConfig(cfg, startBinder(resolve, bound))
	if err != nil {
		_ = proxies.Close()
		releaseMaps()
		return nil, fmt.Errorf("node: %w", err)
	}
	n, err := node.New(nc, opts)
	if err != nil {
		_ = proxies.Close()
		releaseMaps()
		return nil, err
	}
	metrics.RegisterGauges(reg, n)

	s := &Server{cfg: cfg, log: log, Node: n, proxies: proxies, bound: bound, serveErrs: make(chan error, 4)}
	s.cur.Store(cfg)
	mux := http.NewServeMux()
	// The internal listener (Centrifugo's internal port) takes the API,
	// metrics and health off the client-facing port; with no internal
	// port, or one equal to the main host:port, both are one mux.
	internal := mux
	if addr, separate := internalAddr(cfg); separate {
		internal = http.NewServeMux()
		s.intAddr = addr
	}
	apiMux := internal
	if cfg.HTTPAPI.External {
		apiMux = mux
	}
	s.gate = newConnectionGate(cfg.Limits.Connections, cfg.Limits.ConnectionRate, n.NumClients, reg, log)
	origins, err := websocket.NewOriginMatcher(cfg.Client.AllowedOrigins)
	if err != nil {
		_ = proxies.Close()
		return nil, fmt.Errorf("allowed_origins: %w", err)
	}
	if !cfg.WebSocket.Disabled {
		mux.Handle(cfg.WebSocket.HandlerPrefix, s.gate.wrap(websocket.NewHandler(websocket.Config{
			AllowedOrigins:   cfg.Client.AllowedOrigins,
			MessageSizeLimit: cfg.WebSocket.MessageSizeLimit,
			WriteTimeout:     cfg.WebSocket.WriteTimeout,
			ReadBufferSize:   cfg.WebSocket.ReadBufferSize,
			Compression:      cfg.WebSocket.Compression,
			Logger:           log,
			Accept: func(t *websocket.Conn, r *http.Request) (websocket.Session, error) {
				return acceptClient(n, t, r)
			},
		})))
	}
	registerEmulation(mux, cfg, n, s.gate, origins, log)
	registerUnidirectional(mux, cfg, n, s.gate, origins, log)
	s.uniGRPC = newUniGRPC(cfg, n, log)
	exec := api.NewExecutor(n, api.ExecutorOptions{Logger: log})
	if !cfg.HTTPAPI.Disabled {
		prefix := strings.TrimSuffix(cfg.HTTPAPI.HandlerPrefix, "/")
		h := api.NewHTTPHandler(exec, api.HTTPConfig{Prefix: prefix, Key: cfg.HTTPAPI.Key, Insecure: cfg.HTTPAPI.Insecure, ErrorMode: cfg.HTTPAPI.ErrorMode, Logger: log})
		apiMux.Handle(prefix, h)
		apiMux.Handle(prefix+"/", h)
	}
	if cfg.Health {
		internal.HandleFunc("/health", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			if s.draining.Load() {
				w.WriteHeader(http.StatusServiceUnavailable)
			}
			_, _ = w.Write([]byte("{}"))
		})
	}
	if cfg.Prometheus {
		internal.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	}
	if cfg.Debug.Enabled {
		registerPprof(internal, cfg.Debug.HandlerPrefix)
	}
	for pattern, h := range o.Handlers {
		mux.Handle(pattern, h)
	}
	// HTTP/2 first: a browser opens at most six HTTP/1.1 connections per
	// host, so a seventh tab's SSE or HTTP-stream would hang without it.
	// WebSockets still use HTTP/1.1: the server does not announce RFC
	// 8441's extended CONNECT (Go leaves it off), so browsers open their
	// upgrade on an HTTP/1.1 connection.
	if s.httpTLS, err = serverTLS(cfg.HTTP.TLS, "h2", "http/1.1"); err != nil {
		_ = proxies.Close()
		return nil, fmt.Errorf("tls: %w", err)
	}
	if cfg.HTTP.Autocert.Enabled { // wins over tls, as in Centrifugo
		s.httpTLS, s.acmeSrv = autocertTLS(cfg.HTTP.Autocert)
	}
	to := o.Timeouts.withDefaults()
	s.httpSrv = &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: to.ReadHeader,
		ReadTimeout:       to.Read,
		WriteTimeout:      to.Write,
		IdleTimeout:       to.Idle,
	}
	if cfg.HTTP.H2CExternal {
		p := new(http.Protocols)
		p.SetHTTP1(true)
		p.SetUnencryptedHTTP2(true)
		s.httpSrv.Protocols = p
	}
	if internal != mux {
		s.intSrv = &http.Server{Handler: internal, ReadHeaderTimeout: to.ReadHeader, ReadTimeout: to.Read, WriteTimeout: to.Write, IdleTimeout: to.Idle}
	}
	if cfg.GRPCAPI.Enabled {
		var gopts []grpc.ServerOption
		if cfg.GRPCAPI.MaxReceiveMessageSize > 0 {
			gopts = append(gopts, grpc.MaxRecvMsgSize(cfg.GRPCAPI.MaxReceiveMessageSize))
		}
		gtls, err := serverTLS(cfg.GRPCAPI.TLS)
		if err != nil {
			_ = proxies.Close()
			return nil, fmt.Errorf("grpc_api_tls: %w", err)
		}
		if gtls != nil {
			gopts = append(gopts, grpc.Creds(credentials.NewTLS(gtls)))
		}
		s.grpcSrv = grpc.NewServer(gopts...)
		if cfg.GRPCAPI.Reflection {
			// grpcurl and friends can then list and call the API without
			// the .proto files.
			reflection.Register(s.grpcSrv)
		}
		api.RegisterGRPC(s.grpcSrv, exec, api.GRPCConfig{Key: cfg.GRPCAPI.Key, ErrorMode: cfg.GRPCAPI.ErrorMode, Logger: log})
	}
	return s, nil
}

// acceptClient attaches a new connection of any transport to the node.
// During shutdown the refusal carries 3001, so the client reconnects,
// typically to another node.
func acceptClient(n *node.Node, t node.Transport, r *http.Request) (*node.Client, error) {
	c, err := n.NewClient(t, node.RequestInfo{Header: r.Header.Clone(), RemoteAddr: r.RemoteAddr})
	var d *node.Disconnect
	if errors.As(err, &d) {
		return nil, &websocket.CloseError{Code: int(d.Code), Reason: d.Reason}
	}
	return c, err
}

func newEngine(cfg *config.Config, nodeID string, log *slog.Logger) (engine.Engine, error) {
	switch cfg.Engine.Type {
	case "", "memory":
		return memory.New(memory.Options{PresenceTTL: cfg.Engine.PresenceTTL, HistoryMetaTTL: cfg.Channel.HistoryMetaTTL}), nil
	case "redis":
		rs := redisSettings(cfg.Engine.Redis)
		rs.MapCleanupInterval, rs.MapCleanupBatchSize = cfg.MapBroker.RedisCleanupInterval, cfg.MapBroker.RedisCleanupBatchSize
		o, err := redis.FromSettings(rs, cfg.Engine.PresenceTTL, cfg.Channel.HistoryMetaTTL, nodeID)
		if err != nil {
			return nil, fmt.Errorf("engine redis: %w", err)
		}
		o.Logger = log
		e, err := redis.New(o)
		if err != nil {
			return nil, fmt.Errorf("engine redis (redis_address %v): %w", redactedAddresses(cfg.Engine.Redis.Addresses), err)
		}
		return e, nil
	default:
		return nil, fmt.Errorf("engine %q is not available (use \"memory\" or \"redis\")", cfg.Engine.Type)
	}
}

// redactedAddresses are Redis addresses fit for an error message.
func redactedAddresses(addrs []string) []string {
	out := make([]string, len(addrs))
	for i, a := range addrs {
		out[i] = redis.RedactAddress(a)
	}
	return out
}

// verifiers builds the connection and subscription token verifiers. Each
// is a nil interface when no key for it is configured.
func verifiers(cfg *config.Config) (conn, sub node.TokenVerifier, err error) {
	c, err := newVerifier(cfg.Token, cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("connection token config: %w", err)
	}
	sv, err := newVerifier(cfg.SubToken, cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("subscription token config: %w", err)
	}
	// A nil *auth.Verifier in the interface would look configured.
	if c != nil {
		conn = c
	}
	if sv != nil {
		sub = sv
	}
	return conn, sub, nil
}

// newVerifier returns nil when no token key of any kind is configured, so
// the node answers tokens with "invalid token" instead of crashing.
func newVerifier(t config.Token, cfg *config.Config) (*auth.Verifier, error) {
	if t.HMACSecretKey == "" && t.RSAPublicKey == "" && t.ECDSAPublicKey == "" && t.JWKSPublicEndpoint == "" && !cfg.Client.InsecureSkipTokenSignature {
		return nil, nil
	}
	return auth.NewVerifier(auth.TokenConfig(t), auth.Options{SkipSignature: cfg.Client.InsecureSkipTokenSignature})
}

// Listen binds the HTTP (and gRPC API) listeners, so the caller knows the
// ports are taken before it reports readiness.
func (s *Server) Listen() error {
	addr := net.JoinHostPort(s.cfg.HTTP.Address, strconv.Itoa(s.cfg.HTTP.Port))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen %s (address/port): %w", addr, err)
	}
	if s.httpTLS != nil {
		ln = tls.NewListener(ln, s.httpTLS)
	}
	s.mu.Lock()
	s.httpLn = ln
	s.mu.Unlock()
	if s.intSrv != nil {
		iln, err := net.Listen("tcp", s.intAddr)
		if err != nil {
			_ = ln.Close()
			return fmt.Errorf("listen %s (internal_address/internal_port): %w", s.intAddr, err)
		}
		if s.httpTLS != nil { // Centrifugo: the internal listener uses the main TLS
			iln = tls.NewListener(iln, s.httpTLS)
		}
		s.mu.Lock()
		s.intLn = iln
		s.mu.Unlock()
	}
	if s.grpcSrv != nil {
		gaddr := net.JoinHostPort(s.cfg.GRPCAPI.Address, strconv.Itoa(s.cfg.GRPCAPI.Port))
		gln, err := net.Listen("tcp", gaddr)
		if err != nil {
			s.closeListeners()
			return fmt.Errorf("listen %s (grpc_api_address/grpc_api_port): %w", gaddr, err)
		}
		s.mu.Lock()
		s.grpcLn = gln
		s.mu.Unlock()
	}
	if s.uniGRPC != nil {
		uln, err := listenUniGRPC(s.cfg)
		if err != nil {
			s.closeListeners()
			return err
		}
		s.mu.Lock()
		s.uniLn = uln
		s.mu.Unlock()
	}
	if s.acmeSrv != nil {
		aln, err := net.Listen("tcp", s.acmeSrv.Addr)
		if err != nil {
			s.closeListeners()
			return fmt.Errorf("listen %s (tls_autocert_http_addr): %w", s.acmeSrv.Addr, err)
		}
		s.mu.Lock()
		s.acmeLn = aln
		s.mu.Unlock()
	}
	return nil
}

// closeListeners releases what a failed Listen had bound.
func (s *Server) closeListeners() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ln := range []net.Listener{s.httpLn, s.intLn, s.grpcLn, s.uniLn, s.acmeLn} {
		if ln != nil {
			_ = ln.Close()
		}
	}
}

// AutocertHTTPAddr is the bound ACME HTTP-01 challenge listener, or ""
// when tls_autocert_http is off.
func (s *Server) AutocertHTTPAddr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.acmeLn == nil {
		return ""
	}
	return s.acmeLn.Addr().String()
}

// HTTPAddr is the bound main listener address (after Listen).
func (s *Server) HTTPAddr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.httpLn == nil {
		return ""
	}
	return s.httpLn.Addr().String()
}

// InternalAddr is the bound internal listener address, or "" when the
// API, metrics and health share the main listener.
func (s *Server) InternalAddr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.intLn == nil {
		return ""
	}
	return s.intLn.Addr().String()
}

// internalAddr is the internal listener's host:port, defaulting address
// and port to the main ones as Centrifugo does, and whether it is a
// listener of its own.
func internalAddr(cfg *config.Config) (string, bool) {
	if cfg.HTTP.InternalAddress == "" && cfg.HTTP.InternalPort == "" {
		return "", false
	}
	host, port := cfg.HTTP.InternalAddress, cfg.HTTP.InternalPort
	if host == "" {
		host = cfg.HTTP.Address
	}
	if port == "" {
		port = strconv.Itoa(cfg.HTTP.Port)
	}
	addr := net.JoinHostPort(host, port)
	return addr, addr != net.JoinHostPort(cfg.HTTP.Address, strconv.Itoa(cfg.HTTP.Port))
}

// UniGRPCAddr is the bound uni_grpc address, or "" when it is off.
func (s *Server) UniGRPCAddr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.uniLn == nil {
		return ""
	}
	return s.uniLn.Addr().String()
}

// GRPCAddr is the bound gRPC API address, or "" when it is off.
func (s *Server) GRPCAddr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.grpcLn == nil {
		return ""
	}
	return s.grpcLn.Addr().String()
}

// Serve runs until ctx ends, then shuts down gracefully: clients get the
// shutdown disconnect (they reconnect elsewhere) and queues are drained.
func (s *Server) Serve(ctx context.Context) error {
	if s.httpLn == nil {
		if err := s.Listen(); err != nil {
			return err
		}
	}
	if err := s.Node.Run(); err != nil {
		return err
	}
	go func() {
		if err := s.httpSrv.Serve(s.httpLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.serveErrs <- fmt.Errorf("http server: %w", err)
		}
	}()
	if s.intSrv != nil {
		go func() {
			if err := s.intSrv.Serve(s.intLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
				s.serveErrs <- fmt.Errorf("internal http server: %w", err)
			}
		}()
	}
	if s.grpcSrv != nil {
		go func() {
			if err := s.grpcSrv.Serve(s.grpcLn); err != nil {
				s.serveErrs <- fmt.Errorf("grpc api: %w", err)
			}
		}()
	}
	if s.uniGRPC != nil {
		go func() {
			if err := s.uniGRPC.Serve(s.uniLn); err != nil {
				s.serveErrs <- fmt.Errorf("uni_grpc: %w", err)
			}
		}()
	}
	if s.acmeSrv != nil {
		go func() {
			if err := s.acmeSrv.Serve(s.acmeLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
				s.serveErrs <- fmt.Errorf("autocert http-01 server: %w", err)
			}
		}()
	}
	s.log.Info("spindle server started", "http", s.HTTPAddr(), "tls", s.httpTLS != nil, "autocert", s.cfg.HTTP.Autocert.Enabled, "autocert_http", s.AutocertHTTPAddr(), "mutual_tls", s.httpTLS != nil && s.httpTLS.ClientCAs != nil, "internal", s.InternalAddr(), "grpc_api", s.GRPCAddr(), "uni_grpc", s.UniGRPCAddr(), "version", node.Version)
	var err error
	select {
	case <-ctx.Done():
	case err = <-s.serveErrs:
	}
	if serr := s.shutdown(); serr != nil {
		return errors.Join(err, serr)
	}
	return err
}

// ErrShutdownTimeout is returned by Serve when the drain did not finish
// within shutdown_timeout; the process should exit non-zero.
var ErrShutdownTimeout = errors.New("shutdown timeout reached")

// shutdown drains the server within shutdown_timeout (default 30 s, the
// value in force after the last reload): /health turns 503 and new
// WebSockets are closed with 3001 at once; the gRPC API stops gracefully
// while the node tells the other nodes it leaves, disconnects every client
// with 3001 and flushes their queues; then the HTTP listeners close
// (idle keep-alives closed, requests in flight awaited) and the proxy
// connections. When the deadline passes first it returns
// ErrShutdownTimeout without waiting for the rest.
func (s *Server) shutdown() error {
	timeout := s.cur.Load().ShutdownTimeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	s.draining.Store(true)
	s.log.Info("shutting down: draining", "shutdown_timeout", timeout, "clients", s.Node.NumClients())
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.drain(ctx)
	}()
	select {
	case <-done:
		if ctx.Err() == nil {
			s.log.Info("shutdown complete")
			return nil
		}
	case <-ctx.Done():
	}
	s.log.Error("shutdown timeout reached: exiting before the drain finished", "shutdown_timeout", timeout, "clients", s.Node.NumClients())
	return fmt.Errorf("%w (shutdown_timeout %s)", ErrShutdownTimeout, timeout)
}

// drain runs the steps of shutdown; each gives up when ctx ends.
func (s *Server) drain(ctx context.Context) {
	var wg sync.WaitGroup
	if s.grpcSrv != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stopped := make(chan struct{})
			go func() { s.grpcSrv.GracefulStop(); close(stopped) }()
			select {
			case <-stopped:
			case <-ctx.Done():
				s.grpcSrv.Stop()
			}
		}()
	}
	if err := s.Node.Shutdown(ctx); err != nil {
		s.log.Warn("node shutdown", "error", err)
	}
	if s.uniGRPC != nil {
		// Its streams end with their clients, which the node has just
		// disconnected (3001, flushed as a push); past the deadline Stop
		// cuts whatever is left.
		stopped := make(chan struct{})
		go func() { s.uniGRPC.GracefulStop(); close(stopped) }()
		select {
		case <-stopped:
		case <-ctx.Done():
			s.uniGRPC.Stop()
		}
	}
	if s.beforeClose != nil {
		s.beforeClose(ctx)
	}
	for _, hs := range []*http.Server{s.httpSrv, s.intSrv, s.acmeSrv} {
		if hs == nil {
			continue
		}
		if err := hs.Shutdown(ctx); err != nil {
			s.log.Warn("http shutdown: closing the connections still open", "error", err)
			_ = hs.Close()
		}
	}
	wg.Wait()
	if err := s.proxies.Close(); err != nil {
		s.log.Warn("close proxies", "error", err)
	}
}
