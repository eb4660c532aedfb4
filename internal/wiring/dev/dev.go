// Package dev assembles `spindle dev`: the real-time server, the
// application server and the ticket-booking demo in one process, on the
// in-memory engine, so one command gives a working real-time app.
//
// Nothing is short-circuited: the node reaches the demo through its
// ProxyResolver, which returns the in-process *app.App, so every connect,
// subscribe and RPC passes the same proxy interface, interceptors and
// services as with separate processes; only the network hop is gone.
package dev

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/spindle-rt/spindle/app"
	"github.com/spindle-rt/spindle/demo"
	"github.com/spindle-rt/spindle/internal/config"
	"github.com/spindle-rt/spindle/internal/realtime/node"
	"github.com/spindle-rt/spindle/internal/wiring/server"
)

// Default listen address of `spindle dev`.
const (
	DefaultAddress = "127.0.0.1"
	DefaultPort    = 8000
)

// Options configure a dev server.
type Options struct {
	// Address and Port to listen on; DefaultAddress when empty. Port 0
	// picks a free port (tests).
	Address string
	Port    int
	// Secret signs the demo's session tokens; empty means a random key
	// per process (signing everyone out on restart).
	Secret []byte
	// ReservationTTL overrides demo.DefaultReservationTTL.
	ReservationTTL time.Duration
	// Logger receives server logs; slog.Default() when nil.
	Logger *slog.Logger
}

// Dev is one assembled `spindle dev`.
type Dev struct {
	address string
	cfgJSON []byte
	cfg     *config.Config
	log     *slog.Logger
	app     *app.App
	demo    *demo.Demo
	srv     *server.Server

	mu       sync.Mutex
	resolved []string // names of the proxies bound to the in-process app
}

// New builds the config, the demo app and the server; nothing listens
// yet.
func New(o Options) (*Dev, error) {
	if o.Address == "" {
		o.Address = DefaultAddress
	}
	if o.Port < 0 || o.Port > 65535 {
		return nil, fmt.Errorf("port %d out of range", o.Port)
	}
	log := o.Logger
	if log == nil {
		log = slog.Default()
	}
	apiKey, err := randomKey()
	if err != nil {
		return nil, err
	}
	pollSecret, err := randomKey()
	if err != nil {
		return nil, err
	}
	d := &Dev{address: o.Address, log: log, cfgJSON: configJSON(o.Address, o.Port, apiKey, pollSecret)}
	if d.cfg, err = loadConfig(d.cfgJSON); err != nil {
		return nil, err
	}

	d.demo, err = demo.New(demo.Options{
		Publisher:      demo.PublisherFunc(d.publish),
		SeatMap:        nodeSeatMap{d},
		PollSecret:     []byte(pollSecret),
		Secret:         o.Secret,
		ReservationTTL: o.ReservationTTL,
		Logger:         log,
	})
	if err != nil {
		return nil, err
	}
	d.app = app.New(app.Options{Logger: log})
	d.demo.Register(d.app)

	d.srv, err = server.NewWithOptions(d.cfg, log, server.Options{
		Proxies:  d.resolve,
		Handlers: map[string]http.Handler{"/": d.demo.Handler()},
	})
	if err != nil {
		return nil, fmt.Errorf("dev server: %w", err)
	}
	return d, nil
}

// loadConfig runs the generated config through the same loader as
// `spindle server -c config.json`, so what is printed is what runs.
func loadConfig(data []byte) (*config.Config, error) {
	cfg, _, err := config.Load(config.LoadOptions{File: "spindle-dev.json", Data: data})
	if err != nil {
		return nil, fmt.Errorf("dev config: %w", err)
	}
	return cfg, nil
}

// The in-process app answers the hub exactly as a remote backend would.
var _ node.Backend = (*app.App)(nil)

// resolve is the server's ProxyResolver: every configured proxy is answered
// by the in-process app.
func (d *Dev) resolve(p *config.Proxy) (node.Backend, error) {
	d.mu.Lock()
	d.resolved = append(d.resolved, p.Name)
	d.mu.Unlock()
	return d.app, nil
}

// publish hands demo events to the node, as the server API would.
func (d *Dev) publish(ctx context.Context, channel string, data []byte) error {
	if _, err := d.srv.Node.Publish(ctx, channel, data, node.PublishOptions{}); err != nil {
		return fmt.Errorf("node publish: %w", err)
	}
	return nil
}

// nodeSeatMap keeps the demo's seat maps in the node, as the server API
// would.
type nodeSeatMap struct{ d *Dev }

func (m nodeSeatMap) WriteSeat(ctx context.Context, channel, key string, data []byte, version uint64, versionEpoch string) error {
	if _, err := m.d.srv.Node.MapPublish(ctx, channel, key, data, node.MapPublishOptions{Version: version, VersionEpoch: versionEpoch}); err != nil {
		return fmt.Errorf("node map publish %s: %w", channel, err)
	}
	return nil
}

func (m nodeSeatMap) CountKeys(ctx context.Context, channel string) (int, error) {
	n, err := m.d.srv.Node.MapStats(ctx, channel)
	if err != nil {
		return 0, fmt.Errorf("node map stats %s: %w", channel, err)
	}
	return n, nil
}

// Listen binds the HTTP listener.
func (d *Dev) Listen() error { return d.srv.Listen() }

// URL is where a browser opens the demo (after Listen).
func (d *Dev) URL() string {
	_, port, err := net.SplitHostPort(d.srv.HTTPAddr())
	if err != nil {
		port = strconv.Itoa(d.cfg.HTTP.Port)
	}
	return "http://" + net.JoinHostPort(browseHost(d.address), port) + "/"
}

// ConfigJSON is the configuration the server runs with.
func (d *Dev) ConfigJSON() []byte { return d.cfgJSON }

// Demo gives tests access to the running demo.
func (d *Dev) Demo() *demo.Demo { return d.demo }

// ResolvedProxies names the proxies bound to the in-process app.
func (d *Dev) ResolvedProxies() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.resolved...)
}

// Serve runs the server and the demo's reservation sweeper until ctx
// ends, then shuts both down.
func (d *Dev) Serve(ctx context.Context) error {
	sweepCtx, stop := context.WithCancel(ctx)
	defer stop()
	go d.demo.Run(sweepCtx)
	d.app.Start()
	return d.srv.Serve(ctx)
}

// PrintBanner tells a person where to go, what runs, and how to reach
// the API right away: the key is new on every start, so it gets a line of
// its own and a publish that can be pasted as it is.
func (d *Dev) PrintBanner(w io.Writer) {
	url := d.URL()
	ws := "ws" + url[len("http"):] + "connection/websocket"
	key := d.cfg.HTTPAPI.Key
	fmt.Fprintf(w, "\nSpindle dev — the ticket-booking demo is running.\n\n")
	fmt.Fprintf(w, "  Open       %s\n", url)
	fmt.Fprintf(w, "  WebSocket  %s\n", ws)
	fmt.Fprintf(w, "  API key    %s   (HTTP API at %sapi; a new key on every start)\n", key, url)
	if g := d.srv.GRPCAddr(); g != "" {
		fmt.Fprintf(w, "  gRPC API   %s   (key %s, loopback only)\n", g, DemoGRPCAPIKey)
	}
	fmt.Fprintf(w, "  Engine     in-memory (state is lost on restart)\n")
	fmt.Fprintf(w, "  App        connect, subscribe and RPC proxies answered in-process by the demo services\n\n")
	fmt.Fprintf(w, "  Publish through the API:\n    curl -s -H 'X-API-Key: %s' -d '{\"channel\":\"news\",\"data\":{\"text\":\"hello\"}}' %sapi/publish\n\n", key, url)
	if isUnspecified(d.address) {
		fmt.Fprintf(w, "  Warning: listening on every interface with allowed_origins [\"*\"]: any site can connect.\n\n")
	}
	fmt.Fprintf(w, "Configuration in use. Saved as config.json it runs `spindle server -c config.json` with the demo\n"+
		"app as a separate process (examples/ticket-booking), and `spindle checkconfig -c config.json\n"+
		"--app examples/ticket-booking/.rr.yaml` checks the pair:\n\n%s\nStop with Ctrl+C.\n\n", d.cfgJSON)
}

// Run is `spindle dev`: build, listen, print the banner, serve until ctx
// ends.
func Run(ctx context.Context, o Options, out io.Writer) error {
	d, err := New(o)
	if err != nil {
		return err
	}
	if err := d.Listen(); err != nil {
		return err
	}
	d.PrintBanner(out)
	if err := d.Serve(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}
