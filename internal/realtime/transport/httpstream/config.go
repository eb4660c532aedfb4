package httpstream

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/spindle-rt/spindle/internal/realtime/transport/websocket"
	"github.com/spindle-rt/spindle/proto/clientpb"
)

// Defaults from Centrifugo, applied when the matching field is zero.
const (
	DefaultMaxRequestBodySize = 65536
	DefaultWriteTimeout       = time.Second
)

// Session receives a connection's incoming commands; the node's client
// implements it. HandleFrame may be called from several goroutines (the
// first frame from the stream request, later ones from emulation
// requests); the session serialises them.
type Session interface {
	HandleFrame(data []byte) bool
	HandleClose()
}

// UniSession is what a unidirectional client's session adds: it takes the
// connect request instead of frames of commands.
type UniSession interface {
	Session
	ConnectUnidirectional(req *clientpb.ConnectRequest) bool
}

// StreamConfig configures the HTTP-streaming and SSE endpoints.
type StreamConfig struct {
	// Origins is the allowed_origins rule. A failed check does not refuse
	// the request (as in Centrifugo); it only leaves out the CORS headers,
	// so a browser on a foreign page cannot read the stream.
	Origins *websocket.OriginMatcher
	// MaxRequestBodySize caps the connect request's body (413 beyond).
	MaxRequestBodySize int
	// WriteTimeout bounds each batch written to the stream; a client that
	// stops reading is cut off after it (the node then sees a write error).
	WriteTimeout time.Duration
	// Accept attaches the new connection to the node; an error whose type
	// is *websocket.CloseError is sent to the client as a disconnect push.
	Accept func(c *Conn, r *http.Request) (Session, error)
	Logger *slog.Logger
}

func (c StreamConfig) withDefaults() StreamConfig {
	c.MaxRequestBodySize, c.Logger, c.Origins = commonDefaults(c.MaxRequestBodySize, c.Logger, c.Origins)
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = DefaultWriteTimeout
	}
	return c
}

// commonDefaults fills what both endpoint kinds share: the body limit, a
// discarding logger, and an origin rule that admits only requests without
// an Origin.
func commonDefaults(limit int, log *slog.Logger, origins *websocket.OriginMatcher) (int, *slog.Logger, *websocket.OriginMatcher) {
	if limit <= 0 {
		limit = DefaultMaxRequestBodySize
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if origins == nil {
		origins = &websocket.OriginMatcher{}
	}
	return limit, log, origins
}
