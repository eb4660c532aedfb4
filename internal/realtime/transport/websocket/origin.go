package websocket

import (
	"fmt"
	"strings"

	"github.com/gobwas/glob"
)

// OriginMatcher decides whether a browser Origin may connect (spec §6.4). It
// is exported so HTTP-based transports can apply the same CORS rule.
type OriginMatcher struct {
	allowAll bool
	patterns []*glob.Pattern
}

// NewOriginMatcher compiles the allowed_origins list once, so config
// validation can report a bad pattern before the server starts.
func NewOriginMatcher(allowed []string) (*OriginMatcher, error) {
	m := &OriginMatcher{}
	for _, p := range allowed {
		if p == "*" {
			m.allowAll = true
			continue
		}
		g, err := glob.Compile(strings.ToLower(p))
		if err != nil {
			return nil, fmt.Errorf("allowed origin %q: %w", p, err)
		}
		m.patterns = append(m.patterns, g)
	}
	return m, nil
}

// Allow reports whether a request carrying the given Origin value may
// proceed; present is false when the request had no Origin header at all
// (non-browser clients), which always passes.
func (m *OriginMatcher) Allow(origin string, present bool) bool {
	if !present || m.allowAll {
		return true
	}
	origin = strings.ToLower(origin)
	for _, g := range m.patterns {
		if g.Match(origin) {
			return true
		}
	}
	return false
}
