package httpstream

import (
	"net/http"

	"github.com/spindle-rt/spindle/internal/realtime/protocol"
	"github.com/spindle-rt/spindle/proto/clientpb"
)

// NewUniHTTPStreamHandler is /connection/uni_http_stream: a POST whose JSON
// body is the connect request, answered by a stream of bare pushes, one
// per line — readable with `curl -N`.
func NewUniHTTPStreamHandler(cfg StreamConfig) http.Handler {
	cfg = cfg.withDefaults()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, ok := readPost(w, r, cfg.Origins, cfg.MaxRequestBodySize)
		if !ok {
			return
		}
		if req := decodeConnect(w, body); req != nil {
			serveStream(w, r, &cfg, HTTPStream, protocol.TypeJSON, nil, req)
		}
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
		if req := decodeConnect(w, body); req != nil {
			serveStream(w, r, &cfg, SSE, protocol.TypeJSON, nil, req)
		}
	})
}

// decodeConnect decodes the connect request before the stream starts, so
// one that does not decode gets a 400 the client can read (nil returned).
func decodeConnect(w http.ResponseWriter, body []byte) *clientpb.ConnectRequest {
	req, err := protocol.DecodeConnectRequest(protocol.TypeJSON, body)
	if err != nil {
		http.Error(w, "bad connect request: "+err.Error(), http.StatusBadRequest)
		return nil
	}
	return req
}
