// Package appserver assembles a running `spindle app` from a validated
// .rr.yaml (config.AppConfig): the server API client, the proxy listener
// (package app), the worker pool of server.command, the worker RPC
// endpoint at rpc.listen, the status and metrics listeners, and SIGHUP
// resets. It is the app-wing counterpart of internal/wiring/server;
// cmd/spindle only parses flags, loads the file and calls New and Serve.
package appserver

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"

	"google.golang.org/grpc"

	"github.com/spindle-rt/spindle/apiclient"
	"github.com/spindle-rt/spindle/app"
	"github.com/spindle-rt/spindle/internal/appserver/worker"
	"github.com/spindle-rt/spindle/internal/appserver/workerbridge"
	"github.com/spindle-rt/spindle/internal/config"
	"github.com/spindle-rt/spindle/internal/tlsconf"
)

// Server is a configured, not yet serving, application server.
type Server struct {
	cfg  *config.AppConfig
	log  *slog.Logger
	pc   worker.PoolConfig
	app  *app.App
	api  *apiclient.GRPC
	conn *grpc.ClientConn

	served    atomic.Bool
	closeOnce sync.Once
}

// New builds the parts cfg describes without listening or starting a
// process, so a bad value fails before anything is bound. The API
// connection is dialed lazily; Serve (or Close) releases it.
func New(cfg *config.AppConfig, log *slog.Logger) (*Server, error) {
	if log == nil {
		log = slog.Default()
	}
	api, conn, err := dialAPI(cfg.Centrifuge)
	if err != nil {
		return nil, err
	}
	pc := poolConfig(cfg.Centrifuge.Pool, log)
	return &Server{
		cfg: cfg, log: log, pc: pc, api: api, conn: conn,
		app: app.New(app.Options{Logger: log, API: api, ShutdownTimeout: pc.DestroyTimeout}),
	}, nil
}

// dialAPI connects (lazily) to the real-time server's gRPC API named by
// centrifuge.grpc_api_address, with the key, TLS and deadline RoadRunner
// lacks.
func dialAPI(c config.AppCentrifuge) (*apiclient.GRPC, *grpc.ClientConn, error) {
	dc := apiclient.DialConfig{Address: c.GRPCAPIAddress, Key: c.GRPCAPIKey, Timeout: c.APITimeout, Compress: c.UseCompressor}
	if c.TLS != nil {
		// RoadRunner's meaning: the client certificate, TLS 1.2 or later,
		// the server checked against the system roots, unless Spindle's
		// ca and server_name say otherwise.
		tc, err := tlsconf.Client(tlsconf.Settings{Cert: c.TLS.CertPEM, Key: c.TLS.KeyPEM, CA: c.TLS.CAPEM, ServerName: c.TLS.ServerName})
		if err != nil {
			return nil, nil, fmt.Errorf("centrifuge.tls: %w", err)
		}
		dc.TLS = tc
	}
	client, conn, err := apiclient.Dial(dc)
	if err != nil {
		return nil, nil, fmt.Errorf("centrifuge.grpc_api_address: %w", err)
	}
	return client, conn, nil
}

// Serve runs the app server until ctx ends, then stops it; it returns nil
// after a clean stop and the first fatal error otherwise (a worker
// command that cannot start fails it at once).
//
// Start order: rpc.listen opens first (booting workers may call it), then
// the workers start and must all pass the handshake, then status/metrics
// and SIGHUP handling, and last the proxy listener, so the real-time
// server is only answered once workers can answer.
//
// Shutdown order: stop taking proxy calls and let in-flight ones finish,
// then stop the workers, and only then close rpc.listen and the status
// listener — a worker finishing its last request may still call the API.
//
// While the pool runs, SIGHUP replaces every worker (as `spindle app
// reset` does over RPC); SIGINT and SIGTERM are the caller's to turn into
// ctx's end. Serve releases everything New opened; it runs once.
func (s *Server) Serve(ctx context.Context) error {
	if !s.served.CompareAndSwap(false, true) {
		return errors.New("appserver: Serve called twice")
	}
	defer s.Close()
	cfg := s.cfg

	// Services that must outlive the proxy listener.
	svcCtx, svcCancel := context.WithCancel(context.WithoutCancel(ctx))
	var bg sync.WaitGroup
	defer func() {
		svcCancel()
		bg.Wait()
	}()

	rpcSrv, err := listenWorkerRPC(cfg, s.api, s.log)
	if err != nil {
		return err
	}

	var pool *worker.Pool
	var mon *workerbridge.Monitor
	command := cfg.Centrifuge.Pool.Command
	if len(command) == 0 {
		command = cfg.Server.Command
	}
	if len(command) > 0 {
		pool, err = startPool(ctx, cfg, command, s.pc, s.log)
		if err != nil {
			rpcSrv.close()
			return err
		}
		mon = workerbridge.NewMonitor(pool)
		workerbridge.UseWith(s.app, mon, workerbridge.Options{SubRefreshType: cfg.Centrifuge.SubRefreshType})
	} else {
		s.log.Warn("no server.command and no Go services: every proxied event is answered with error 108 (not available); " +
			"set server.command to run workers, or embed package app in a Go program (see examples/goapp)")
	}
	rpcSrv.serve(svcCtx, &bg, pool, strings.Join(command, " "))
	if err := serveStatus(svcCtx, &bg, cfg, mon, s.log); err != nil {
		destroyPool(pool, s.pc.DestroyTimeout, s.log)
		return err
	}
	if pool != nil {
		resetOnHangup(svcCtx, &bg, pool, s.log)
	}

	err = s.serveProxies(ctx)
	destroyPool(pool, s.pc.DestroyTimeout, s.log)
	return err
}

// serveProxies answers proxied events on centrifuge.proxy_address, over
// TLS when centrifuge.proxy_tls is set. The listener prefers HTTP/1.1 in
// ALPN, so HTTPS proxy clients (which offer h2 and http/1.1) speak
// HTTP/1.1 to the HTTP handler while gRPC clients, which offer only h2,
// reach the gRPC server: both still share one port.
func (s *Server) serveProxies(ctx context.Context) error {
	ln, err := app.Listen(s.cfg.Centrifuge.ProxyAddress)
	if err != nil {
		return fmt.Errorf("centrifuge.proxy_address: %w", err)
	}
	if t := s.cfg.Centrifuge.ProxyTLS; t != nil {
		tc, err := tlsconf.Server(tlsconf.Settings{Cert: t.CertPEM, Key: t.KeyPEM, CA: t.ClientCAPEM}, "http/1.1", "h2")
		if err != nil {
			_ = ln.Close()
			return fmt.Errorf("centrifuge.proxy_tls: %w", err)
		}
		ln = tls.NewListener(ln, tc)
		s.log.Info("app: proxy listener speaks TLS", "mutual_tls", tc.ClientCAs != nil)
	}
	return s.app.Serve(ctx, ln)
}

// Close releases the API connection. Serve calls it; call it yourself
// only for a Server that is never served. It is safe to call twice.
func (s *Server) Close() error {
	var err error
	s.closeOnce.Do(func() {
		if cerr := s.conn.Close(); cerr != nil {
			err = fmt.Errorf("close server API connection: %w", cerr)
		}
	})
	return err
}

// Run is `spindle app`: New, then Serve until ctx ends.
func Run(ctx context.Context, cfg *config.AppConfig, log *slog.Logger) error {
	s, err := New(cfg, log)
	if err != nil {
		return err
	}
	return s.Serve(ctx)
}
