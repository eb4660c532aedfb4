package server

import (
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/time/rate"
)

// connectionGate refuses a new connection before the upgrade when the node
// already holds client_connection_limit connected clients, or when more
// than client_connection_rate_limit connections arrived in the last
// second: HTTP 503 with an empty body, as Centrifugo answers. Refusing at
// the door keeps a flood from costing a goroutine and a handshake each.
//
// The rate is a token bucket that refills at the configured rate per
// second with a burst of the same size, which is what the key's name says.
// Centrifugo's own bucket refills only one token per second whatever the
// rate, so after the first burst it admits about one connection a second;
// we decided not to copy that.
//
// The connection limit is read per request, so a reload can change it
// (setLimit); the rate limiter is built once and needs a restart.
type connectionGate struct {
	limit   atomic.Int64  // 0 = no limit
	rate    *rate.Limiter // nil = no rate limit
	count   func() int
	refused *prometheus.CounterVec
	log     *slog.Logger
	warned  atomic.Int64 // unix nanos of the last limit warning
}

func newConnectionGate(limit, perSecond int, count func() int, reg prometheus.Registerer, log *slog.Logger) *connectionGate {
	g := &connectionGate{count: count, log: log,
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "spindle", Subsystem: "node", Name: "connections_refused_total",
			Help: "New connections refused before the upgrade, by the limit that refused them.",
		}, []string{"limit"}),
	}
	if perSecond > 0 {
		g.rate = rate.NewLimiter(rate.Limit(perSecond), perSecond)
	}
	g.setLimit(limit)
	reg.MustRegister(g.refused)
	return g
}

// setLimit changes client_connection_limit for the connections that
// arrive from now on (0 = unlimited).
func (g *connectionGate) setLimit(limit int) { g.limit.Store(int64(max(limit, 0))) }

// wrap puts the gate in front of a connection endpoint.
func (g *connectionGate) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if g.rate != nil && !g.rate.Allow() {
			g.refuse(w, "rate")
			return
		}
		if limit := int(g.limit.Load()); limit > 0 && g.count() >= limit {
			g.refuse(w, "connections")
			if now := time.Now().UnixNano(); now-g.warned.Load() > int64(3*time.Second) {
				g.warned.Store(now)
				g.log.Warn("node connection limit reached: new connections get 503", "client_connection_limit", limit)
			}
			return
		}
		h.ServeHTTP(w, r)
	})
}

func (g *connectionGate) refuse(w http.ResponseWriter, limit string) {
	g.refused.WithLabelValues(limit).Inc()
	w.WriteHeader(http.StatusServiceUnavailable)
}
