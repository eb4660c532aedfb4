package httpstream

import (
	"errors"
	"net/http"
	"time"

	"github.com/spindle-rt/spindle/internal/realtime/protocol"
	"github.com/spindle-rt/spindle/internal/realtime/transport/websocket"
	"github.com/spindle-rt/spindle/proto/clientpb"
)

// NewHTTPStreamHandler is /connection/http_stream: a POST whose body holds
// the connect command and whose response is the connection's stream.
func NewHTTPStreamHandler(cfg StreamConfig) http.Handler {
	cfg = cfg.withDefaults()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, ok := readPost(w, r, cfg.Origins, cfg.MaxRequestBodySize)
		if !ok {
			return
		}
		proto := protocol.TypeJSON
		if r.Header.Get("Content-Type") == "application/octet-stream" {
			proto = protocol.TypeProtobuf
		}
		serveStream(w, r, &cfg, HTTPStream, proto, body, nil)
	})
}

// NewSSEHandler is /connection/sse: EventSource's GET with the connect
// command in the cf_connect query parameter, or a POST with it in the
// body. SSE is JSON only.
func NewSSEHandler(cfg StreamConfig) http.Handler {
	cfg = cfg.withDefaults()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cors(w, r, cfg.Origins)
		body, ok := sseRequest(w, r, cfg.MaxRequestBodySize, true)
		if !ok {
			return
		}
		serveStream(w, r, &cfg, SSE, protocol.TypeJSON, body, nil)
	})
}

// sseRequest reads what an SSE connection starts with: the cf_connect
// query parameter of a GET (EventSource can send nothing else; required
// unless optional), or a POST body, each within limit. Other methods get
// 405. false means the request has been answered.
func sseRequest(w http.ResponseWriter, r *http.Request, limit int, required bool) ([]byte, bool) {
	switch r.Method {
	case http.MethodGet:
		body := []byte(r.URL.Query().Get("cf_connect"))
		if len(body) == 0 && required {
			http.Error(w, "missing cf_connect query parameter", http.StatusBadRequest)
			return nil, false
		}
		if len(body) > limit {
			http.Error(w, "cf_connect too large", http.StatusRequestEntityTooLarge)
			return nil, false
		}
		return body, true
	case http.MethodPost:
		return readBody(w, r, limit)
	}
	w.Header().Set("Allow", "GET, POST")
	http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	return nil, false
}

// streamHeaders keep proxies (nginx's X-Accel-Buffering) and caches from
// holding the stream back.
func streamHeaders(h http.Header, kind Kind, r *http.Request) {
	h.Set("X-Accel-Buffering", "no")
	h.Set("Cache-Control", "private, no-cache, no-store, must-revalidate, max-age=0")
	h.Set("Pragma", "no-cache")
	h.Set("Expire", "0") // sic: the header Centrifugo sends
	if kind == SSE {
		h.Set("Content-Type", "text/event-stream; charset=utf-8")
	}
	if r.ProtoMajor == 1 {
		h.Set("Connection", "keep-alive")
	}
}

// serveStream opens the stream, hands the connect frame (or, for a
// unidirectional stream, the connect request the handler already decoded,
// uni != nil) to a new session and holds the response until the session
// ends or the client goes away.
func serveStream(w http.ResponseWriter, r *http.Request, cfg *StreamConfig, kind Kind, proto protocol.Type, body []byte, uni *clientpb.ConnectRequest) {
	if !flushable(w) {
		http.Error(w, "streaming not supported", http.StatusInternalServerError)
		return
	}
	if cfg.Accept == nil {
		cfg.Logger.Error("httpstream: stream handler has no Accept function")
		http.Error(w, "endpoint not configured", http.StatusInternalServerError)
		return
	}
	rc := http.NewResponseController(w)
	// The server's read and write timeouts protect short requests; a
	// stream lives for hours, and each write gets its own deadline.
	_ = rc.SetReadDeadline(time.Time{})
	_ = rc.SetWriteDeadline(time.Time{})
	streamHeaders(w.Header(), kind, r)
	w.WriteHeader(http.StatusOK)
	c := newConn(kind, proto, w, r, cfg.WriteTimeout)
	c.uni = uni != nil
	defer c.finish()
	opening := []byte(nil)
	if kind == SSE {
		opening = []byte("\r\n")
	}
	c.mu.Lock()
	err := c.writeLocked(opening)
	c.mu.Unlock()
	if err != nil {
		cfg.Logger.Debug("httpstream: stream open failed", "transport", kind.String(), "error", err, "remote", r.RemoteAddr)
		return
	}
	sess, err := cfg.Accept(c, r)
	if err != nil || sess == nil {
		code, reason := 3004, "internal server error"
		var ce *websocket.CloseError
		if errors.As(err, &ce) {
			code, reason = ce.Code, ce.Reason
		}
		cfg.Logger.Debug("httpstream: connection refused", "transport", kind.String(), "error", err, "code", code)
		_ = c.Close(code, reason)
		return
	}
	if start(sess, body, uni) {
		select {
		case <-c.done:
		case <-r.Context().Done():
		}
	}
	sess.HandleClose()
	// A session that ended on its own has closed c; one whose client went
	// away is closed by HandleClose through the node's writer. Either way
	// nothing more is written once finish has run.
}

// start hands the request's payload to the new session: the first frame
// of commands, or a unidirectional client's connect request.
func start(sess Session, body []byte, uni *clientpb.ConnectRequest) bool {
	if uni == nil {
		return sess.HandleFrame(body)
	}
	us, ok := sess.(UniSession)
	return ok && us.ConnectUnidirectional(uni)
}

// flushable reports whether w, or a writer it wraps, can flush.
func flushable(w http.ResponseWriter) bool {
	for {
		if _, ok := w.(http.Flusher); ok {
			return true
		}
		u, ok := w.(interface{ Unwrap() http.ResponseWriter })
		if !ok {
			return false
		}
		w = u.Unwrap()
	}
}
