// Package spindle runs the real-time server inside a Go program: the same
// server `spindle server` runs, from the same Centrifugo-style
// configuration, with an optional in-process application answering its
// proxied events, so a Go backend can ship as one binary.
//
// It is the only entry to the server from outside this module; the parts
// it is built from (the hub, engines, transports) stay internal so they can
// change without breaking programs that embed it.
package spindle

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/spindle-rt/spindle/app"
	"github.com/spindle-rt/spindle/internal/config"
	"github.com/spindle-rt/spindle/internal/realtime/node"
	"github.com/spindle-rt/spindle/internal/wiring/server"
)

// Options say what to run.
type Options struct {
	// ConfigFile is a configuration in any format `spindle server -c`
	// takes: JSON with comments, YAML or TOML; flat v5 keys or the nested
	// v6 layout. Empty means the defaults.
	ConfigFile string
	// Config, when not nil, is the configuration's content; ConfigFile then
	// only names it (its extension picks the format; errors cite it).
	Config []byte
	// Env holds CENTRIFUGO_* overrides in os.Environ() form. Nil reads
	// none; pass os.Environ() to honour the process environment.
	Env []string
	// App, when set, answers in-process every proxied event the
	// configuration switches on (connect, refresh, subscribe, publish, RPC,
	// sub_refresh), in place of the configured endpoints, which are then
	// never dialled.
	App *app.App
	// Handlers are mounted on the main HTTP listener beside the WebSocket
	// and API endpoints (http.ServeMux pattern → handler).
	Handlers map[string]http.Handler
	// Logger receives the server's logs; nil means slog.Default().
	Logger *slog.Logger
}

// Server is an embedded real-time server.
type Server struct {
	srv      *server.Server
	warnings []string
}

// New validates the configuration and builds the server; nothing listens
// yet. A configuration error lists every problem with its key and line.
func New(o Options) (*Server, error) {
	log := o.Logger
	if log == nil {
		log = slog.Default()
	}
	cfg, warns, err := config.Load(config.LoadOptions{File: o.ConfigFile, Data: o.Config, Env: o.Env})
	if err != nil {
		return nil, fmt.Errorf("spindle config: %w", err)
	}
	s := &Server{}
	for _, w := range warns {
		s.warnings = append(s.warnings, w.String())
	}
	so := server.Options{Handlers: o.Handlers}
	if o.App != nil {
		so.Proxies = func(*config.Proxy) (node.Backend, error) { return o.App, nil }
	}
	if s.srv, err = server.NewWithOptions(cfg, log, so); err != nil {
		return nil, fmt.Errorf("spindle: %w", err)
	}
	return s, nil
}

// Warnings are the configuration's warnings (deprecated keys, settings
// that make little sense together), one sentence each.
func (s *Server) Warnings() []string { return s.warnings }

// Listen binds the configured ports, so the caller knows they are taken
// before it reports readiness. Run calls it when it has not been called.
func (s *Server) Listen() error { return s.srv.Listen() }

// Addr is the bound address of the main HTTP listener (WebSocket, API,
// health), after Listen; useful with port 0.
func (s *Server) Addr() string { return s.srv.HTTPAddr() }

// Run serves until ctx ends, then shuts down gracefully: clients are told
// to reconnect elsewhere and queued messages are written first. It returns
// nil after ctx ends and the cause when serving failed.
func (s *Server) Run(ctx context.Context) error {
	if err := s.srv.Serve(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}
