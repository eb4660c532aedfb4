package websocket

import (
	"errors"
	"net/http"
	"sync"

	gws "github.com/gorilla/websocket"
)

// Close codes the transport itself uses.
const (
	closeMessageTooBig = 1009
	closeInternal      = 3004
)

type handler struct {
	cfg      Config
	origins  *OriginMatcher
	upgrader gws.Upgrader
}

// NewHandler returns the WebSocket endpoint. An invalid allowed-origins
// pattern is logged and the handler then refuses every request that carries
// an Origin (validate early with NewOriginMatcher to avoid that).
func NewHandler(cfg Config) http.Handler {
	cfg = cfg.withDefaults()
	origins, err := NewOriginMatcher(cfg.AllowedOrigins)
	if err != nil {
		cfg.Logger.Error("websocket: invalid allowed origins, refusing browser origins", "error", err)
		origins = &OriginMatcher{}
	}
	return &handler{
		cfg:     cfg,
		origins: origins,
		upgrader: gws.Upgrader{
			HandshakeTimeout:  cfg.WriteTimeout,
			ReadBufferSize:    cfg.ReadBufferSize,
			WriteBufferPool:   &sync.Pool{}, // idle connections hold no write buffer
			EnableCompression: cfg.Compression,
			// The origin is checked before Upgrade with our own rules.
			CheckOrigin: func(*http.Request) bool { return true },
		},
	}
}

// ServeHTTP upgrades the request, starts the connection's reader on a
// goroutine of its own and returns. Returning lets net/http drop what it
// holds for a request for as long as its handler runs (its 4 KiB response
// buffer, the response, the handler's deep stack): an idle connection then
// keeps only the reader, whose stack is the read loop's few frames (see
// BenchmarkIdleConnection in internal/wiring/server). The hijacked
// connection is no longer net/http's: the node closes it on shutdown.
func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c, sess := h.open(w, r)
	if c == nil {
		return
	}
	go c.serve(sess, h.cfg.MessageSizeLimit)
}

// serve reads the connection until it is gone, then tells the session.
func (c *Conn) serve(sess Session, limit int) {
	c.readLoop(sess, limit)
	if sess != nil {
		sess.HandleClose()
	}
}

// open checks the origin, upgrades and asks Accept for a session. It returns
// a nil Conn when no WebSocket was established (an HTTP error was sent), and
// a nil Session when Accept refused the connection (a close frame was sent;
// the read loop then only waits for the peer's close).
func (h *handler) open(w http.ResponseWriter, r *http.Request) (*Conn, Session) {
	sub, ok := h.precheck(w, r)
	if !ok {
		return nil, nil
	}
	ws, err := h.upgrader.Upgrade(w, r, subprotocolHeaders[sub])
	if err != nil {
		// The upgrader has already answered with an HTTP error.
		h.cfg.Logger.Debug("websocket: upgrade failed", "error", err, "remote", r.RemoteAddr)
		return nil, nil
	}
	c := newConn(ws, r, selectFormat(r, sub), sub, &h.cfg)
	return c, h.accept(c, r)
}

// precheck applies the checks that must answer with plain HTTP before any
// upgrade, and picks the subprotocol.
func (h *handler) precheck(w http.ResponseWriter, r *http.Request) (string, bool) {
	origin := r.Header.Values("Origin")
	// Several Origin headers are never sent by browsers; refusing them
	// keeps a wildcard pattern from matching a forged combination.
	if len(origin) > 1 || (len(origin) == 1 && !h.origins.Allow(origin[0], true)) {
		h.cfg.Logger.Debug("websocket: origin not allowed", "origin", origin, "remote", r.RemoteAddr)
		http.Error(w, "origin not allowed", http.StatusForbidden)
		return "", false
	}
	if h.cfg.CheckRequest != nil {
		if err := h.cfg.CheckRequest(r); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return "", false
		}
	}
	if h.cfg.Accept == nil {
		h.cfg.Logger.Error("websocket: handler has no Accept function")
		http.Error(w, "websocket endpoint not configured", http.StatusInternalServerError)
		return "", false
	}
	return selectSubprotocol(gws.Subprotocols(r)), true
}

// accept asks Config.Accept for a session; on refusal it sends the close
// frame and returns nil, so the read loop only waits for the peer's close.
func (h *handler) accept(c *Conn, r *http.Request) Session {
	sess, err := h.cfg.Accept(c, r)
	if err == nil && sess == nil {
		err = errors.New("accept returned no session")
	}
	if err == nil {
		return sess
	}
	code, reason := closeInternal, "internal server error"
	var ce *CloseError
	if errors.As(err, &ce) {
		code, reason = ce.Code, ce.Reason
	}
	h.cfg.Logger.Debug("websocket: connection refused", "error", err, "code", code, "remote", r.RemoteAddr)
	if cerr := c.Close(code, reason); cerr != nil {
		h.cfg.Logger.Debug("websocket: close after refusal", "error", cerr)
	}
	return nil
}
