package server

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/spindle-rt/spindle/internal/config"
	"github.com/spindle-rt/spindle/internal/realtime/node"
)

// Loader reads the configuration again, from the same file, environment
// and flags the server started with.
type Loader func() (*config.Config, []config.Warning, error)

// ReloadOn reloads the configuration each time sig delivers (SIGHUP in
// `spindle server`) until ctx ends. A configuration that does not load or
// validate is logged and the one in force stays.
func (s *Server) ReloadOn(ctx context.Context, sig <-chan os.Signal, load Loader) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-sig:
		}
		s.log.Info("config reload requested")
		cfg, warnings, err := load()
		if err != nil {
			s.log.Error("config reload failed: keeping the configuration in force", "error", err)
			continue
		}
		for _, w := range warnings {
			s.log.Warn("config: " + w.String())
		}
		if err := s.Reload(cfg); err != nil {
			s.log.Error("config reload failed: keeping the configuration in force", "error", err)
		}
	}
}

// Reload applies what can change while the server runs, as Centrifugo does
// on SIGHUP: the token verifiers (connection and subscription), the
// shared-poll HMAC keys, channel, namespace and RPC options (map and
// shared_poll ones included, for new subscriptions), client_connection_limit,
// the per-user connection limit and the other per-connection client
// options, and shutdown_timeout. Everything built at start — listeners, ports, TLS, the
// engine, proxy clients, the connection-rate limiter, the APIs — keeps its
// start-up value, and a changed key of that kind is logged as needing a
// restart. Events and namespaces bind to the proxies built at start by
// name; a proxy that did not exist then is not available until a restart.
// Each changed key is logged by name, never by value. On error nothing is
// applied.
func (s *Server) Reload(cfg *config.Config) error {
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	old := s.cur.Load()
	connTokens, subTokens, err := verifiers(cfg)
	if err != nil {
		return err
	}
	var unbound []string
	nc, err := nodeConfig(cfg, func(p *config.Proxy) (*node.Proxy, error) {
		np, ok := s.bound[p.Name]
		if !ok {
			unbound = append(unbound, p.Name)
		}
		return np, nil
	})
	if err != nil {
		return fmt.Errorf("node: %w", err)
	}
	// Which proxy connect, refresh and RPC without namespace use is built
	// at start: keep those the node runs with.
	running := s.Node.Config()
	nc.Connect, nc.Refresh, nc.RPCProxy = running.Connect, running.Refresh, running.RPCProxy
	if err := s.Node.Reconfigure(nc, connTokens, subTokens); err != nil {
		return err
	}
	s.gate.setLimit(cfg.Limits.Connections)
	s.cur.Store(cfg)

	var applied, restart []string
	for _, c := range config.Changes(old, cfg) {
		if appliedAtRunTime(c.Field) {
			applied = append(applied, c.Key)
			s.log.Info("config reload: applied", "key", c.Key)
		} else {
			restart = append(restart, c.Key)
			s.log.Warn("config reload: changed, needs a restart to take effect", "key", c.Key)
		}
	}
	for _, name := range unbound {
		s.log.Warn("config reload: proxy not configured at start, its events are not available until a restart", "proxy", name)
	}
	s.log.Info("config reloaded", "applied", len(applied), "need_restart", len(restart))
	return nil
}

// appliedAtRunTime says whether Reload applies the Config field a key
// fills (config.Change.Field) to the running server.
func appliedAtRunTime(field string) bool {
	switch field {
	case "Client.AllowedOrigins", // the WebSocket handler's origin matcher is built at start
		"RPC.ProxyName": // picks the RPC proxy, built at start
		return false
	case "Limits.Connections", "ShutdownTimeout", "SubToken",
		"CommandRateLimit", // read when a connection is made: new connections get the new buckets
		// The node checks every track request against the keys in force,
		// as it does tokens; the next batch is verified with the new ones.
		"SharedPoll.HMACSecretKey", "SharedPoll.HMACPreviousSecretKey", "SharedPoll.HMACPreviousSecretKeyValidUntil":
		return true
	case "SharedPoll.ConcurrencyLimit": // the node sizes its poll semaphore once, for its first shared-poll channel
		return false
	}
	for _, section := range []string{"Client.", "Token.", "Channel.", "RPC."} {
		if strings.HasPrefix(field, section) {
			return true
		}
	}
	return false
}
