package node

import (
	"fmt"
)

// settings is everything a configuration reload may replace while the
// node runs: the channel, client and RPC configuration, the channel rules
// and RPC routes derived from it, and the token verifiers. A *settings is
// immutable once published, so a reader that loads it once sees one
// consistent configuration for the whole command, however many reloads
// happen meanwhile; a reload publishes a new one with one atomic store.
type settings struct {
	cfg   Config
	rules *channelRules
	// rpcNS routes `ns:method` to its namespace's proxy (nil value: the
	// namespace has none).
	rpcNS  map[string]*Proxy
	tokens TokenVerifier
	subTok TokenVerifier
}

// newSettings validates cfg and derives the lookup structures from it.
func newSettings(cfg Config, tokens, subTok TokenVerifier) (*settings, error) {
	rules, err := newChannelRules(cfg.Channel)
	if err != nil {
		return nil, fmt.Errorf("node: %w", err)
	}
	if err := checkProxies(&cfg); err != nil {
		return nil, fmt.Errorf("node: %w", err)
	}
	s := &settings{cfg: cfg, rules: rules, tokens: tokens, subTok: subTok, rpcNS: make(map[string]*Proxy, len(cfg.RPC.Namespaces))}
	for _, ns := range cfg.RPC.Namespaces {
		s.rpcNS[ns.Name] = ns.Proxy
	}
	return s, nil
}

// settings returns the configuration in force. Callers that need several
// values for one decision load it once and read them all from the result.
func (n *Node) settings() *settings { return n.cur.Load() }

// Reconfigure replaces the node's channel, client and RPC configuration
// and its token verifiers, as a SIGHUP reload does. cfg.Name is ignored:
// the node keeps the name it announced at start. What a connection reads
// when it connects (queue size, concurrency, stale delay) applies to new
// connections; what is read per command or per timer tick (permissions,
// namespaces, limits, ping interval, tokens) applies at once to every
// connection. Subscriptions already made keep the channel options they
// were made with. An invalid cfg is refused and the old one stays. Either
// verifier may be nil (tokens are then refused as invalid).
func (n *Node) Reconfigure(cfg Config, connectTokens, subTokens TokenVerifier) error {
	s, err := newSettings(cfg, connectTokens, subTokens)
	if err != nil {
		return err
	}
	n.cur.Store(s)
	return nil
}

// Config is the configuration in force (the last one Reconfigure
// accepted). The *Proxy values it points to are shared: do not modify.
func (n *Node) Config() Config { return n.settings().cfg }
