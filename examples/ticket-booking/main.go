// Command ticket-booking runs the demo's services as their own process,
// the way a Spiral application runs behind RoadRunner's centrifuge plugin:
// `spindle server` (or Centrifugo) calls it over gRPC for every connect,
// subscribe and RPC, and it publishes seat events back through the gRPC
// server API. It also serves the page and the sign-in endpoint on :8080.
//
// `spindle dev` runs exactly these services in one process; see README.md
// for the three commands that run them separately.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spindle-rt/spindle/apiclient"
	"github.com/spindle-rt/spindle/app"
	"github.com/spindle-rt/spindle/demo"
	"github.com/spindle-rt/spindle/internal/config"
)

// DemoPollSecret is config.json's shared_poll.hmac_secret_key: a published
// development key, like the gRPC API key.
const DemoPollSecret = "dev-poll-secret-change-me-0123456789abcdef"

func main() {
	rrFile := flag.String("c", ".rr.yaml", "RoadRunner-style config: centrifuge.proxy_address and centrifuge.grpc_api_address")
	httpAddr := flag.String("http", "127.0.0.1:8080", "where the page and /demo/login are served")
	ws := flag.String("ws", "ws://127.0.0.1:8000/connection/websocket", "the real-time server's WebSocket endpoint, as the browser reaches it")
	pollSecret := flag.String("poll-secret", DemoPollSecret, "the server's shared_poll.hmac_secret_key, to sign the schedule counts a page tracks")
	flag.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))

	cfg, warnings, err := config.LoadApp(*rrFile, os.Environ())
	for _, w := range warnings {
		log.Warn("config: " + w.String())
	}
	if err != nil {
		log.Error("config", "file", *rrFile, "error", err)
		os.Exit(1)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err = run(ctx, options{
		ProxyAddress: cfg.Centrifuge.ProxyAddress,
		APIAddress:   cfg.Centrifuge.GRPCAPIAddress,
		APIKey:       cfg.Centrifuge.GRPCAPIKey,
		APITimeout:   cfg.Centrifuge.APITimeout,
		HTTPAddress:  *httpAddr,
		WebSocketURL: *ws,
		Secret:       []byte(os.Getenv("SPINDLE_DEMO_SECRET")),
		PollSecret:   []byte(*pollSecret),
	}, log)
	if err != nil {
		log.Error("ticket-booking stopped", "error", err)
		os.Exit(1)
	}
}

// options are what run needs; main fills them from .rr.yaml and flags.
type options struct {
	ProxyAddress string // where the real-time server calls us
	APIAddress   string // the real-time server's gRPC API
	APIKey       string
	APITimeout   time.Duration
	HTTPAddress  string // page and /demo/login
	WebSocketURL string
	Secret       []byte
	PollSecret   []byte
	// ready, if set, is told the bound addresses (tests listen on port 0).
	ready func(proxy, http net.Addr)
}

// run serves the proxy endpoint and the page until ctx ends.
func run(ctx context.Context, o options, log *slog.Logger) error {
	api, conn, err := apiclient.Dial(apiclient.DialConfig{Address: o.APIAddress, Key: o.APIKey, Timeout: o.APITimeout})
	if err != nil {
		return fmt.Errorf("server API: %w", err)
	}
	defer conn.Close()

	d, err := demo.New(demo.Options{
		Publisher:    demo.APIPublisher(api),
		SeatMap:      demo.APISeatMap(api),
		Secret:       o.Secret,
		PollSecret:   o.PollSecret,
		WebSocketURL: o.WebSocketURL,
		Logger:       log,
	})
	if err != nil {
		return err
	}
	a := app.New(app.Options{Logger: log})
	d.Register(a)

	proxyLn, err := app.Listen(o.ProxyAddress)
	if err != nil {
		return fmt.Errorf("proxy listener: %w", err)
	}
	httpLn, err := net.Listen("tcp", o.HTTPAddress)
	if err != nil {
		_ = proxyLn.Close()
		return fmt.Errorf("page listener %s: %w", o.HTTPAddress, err)
	}
	if o.ready != nil {
		o.ready(proxyLn.Addr(), httpLn.Addr())
	}
	log.Info("ticket-booking: serving", "proxy", proxyLn.Addr().String(), "page", "http://"+httpLn.Addr().String()+"/", "server_api", o.APIAddress)

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go d.Run(ctx)
	hs := &http.Server{Handler: d.Handler(), ReadHeaderTimeout: 10 * time.Second}
	appDone := make(chan error, 1)
	go func() { appDone <- a.Serve(ctx, proxyLn) }()
	httpDone := make(chan error, 1)
	go func() {
		err := hs.Serve(httpLn)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		httpDone <- err
	}()

	// Whichever stops first (or ctx) stops the other.
	var appErr, httpErr error
	appStopped, httpStopped := false, false
	select {
	case <-ctx.Done():
	case appErr = <-appDone:
		appStopped = true
	case httpErr = <-httpDone:
		httpStopped = true
	}
	cancel()
	sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer scancel()
	if err := hs.Shutdown(sctx); err != nil {
		_ = hs.Close()
	}
	if !appStopped {
		appErr = <-appDone
	}
	if !httpStopped {
		httpErr = <-httpDone
	}
	return errors.Join(appErr, httpErr)
}
