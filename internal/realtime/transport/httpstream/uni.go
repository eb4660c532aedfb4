package httpstream

import (
	"net/http"

	"github.com/spindle-rt/spindle/internal/realtime/protocol"
)

// NewUniHTTPStreamHandler is /connection/uni_http_stream: a POST whose JSON
// body is the connect request, answered by a stream of bare pushes, one
// per line — readable with `curl -N`.
func NewUniHTTPStreamHandler(cfg StreamConfig) http.Handler {
	cfg = cfg.withDefaults()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, ok := readPost(w, r, cfg.Origins, cfg.MaxRequestBodySize)
		if !ok || !validConnect(w, body) {
			return
		}
		serveStream(w, r, &cfg, HTTPStream, protocol.TypeJSON, body, true)
	})
}

// NewUniSSEHandler is /connection/uni_sse: GET with an optional cf_connect
// query parameter (EventSource, curl), or POST with the connect request as
// the JSON body; answered by SSE events of bare pushes.
func NewUniSSEHandler(cfg StreamConfig) http.Handler {
	cfg = cfg.withDefaults()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cors(w, r, cfg.Origins)
		body, ok := sseRequest(w, r, cfg.MaxRequestBodySize, false)
		if !ok {
			return
		}
		if !validConnect(w, body) {
			return
		}
		serveStream(w, r, &cfg, SSE, protocol.TypeJSON, body, true)
	})
}

// validConnect refuses a connect request that does not decode, before the
// stream starts, so the client gets a 400 it can read.
func validConnect(w http.ResponseWriter, body []byte) bool {
	if _, err := protocol.DecodeConnectRequest(protocol.TypeJSON, body); err != nil {
		http.Error(w, "bad connect request: "+err.Error(), http.StatusBadRequest)
		return false
	}
	return true
}
