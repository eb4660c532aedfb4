package httpstream

import (
	"errors"
	"io"
	"net/http"

	"github.com/spindle-rt/spindle/internal/realtime/transport/websocket"
)

// statusClientClosedRequest is what Centrifugo answers when a body cannot
// be read for any reason but its size (nginx's 499).
const statusClientClosedRequest = 499

// readBody reads the whole request body, at most limit bytes. On failure
// it has already answered: 413 past the limit, 499 for other read errors.
func readBody(w http.ResponseWriter, r *http.Request, limit int) ([]byte, bool) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, int64(limit)))
	if err == nil {
		return body, true
	}
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
		return nil, false
	}
	http.Error(w, "cannot read request body", statusClientClosedRequest)
	return nil, false
}

// readPost is the entrance of the POST-only endpoints: CORS, the method
// (preflight 204, others 405) and the body within limit. false means the
// request has been answered.
func readPost(w http.ResponseWriter, r *http.Request, origins *websocket.OriginMatcher, limit int) ([]byte, bool) {
	if !postOnly(w, r, origins) {
		return nil, false
	}
	return readBody(w, r, limit)
}
