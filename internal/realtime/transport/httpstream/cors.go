package httpstream

import (
	"net/http"

	"github.com/spindle-rt/spindle/internal/realtime/transport/websocket"
)

// cors applies Centrifugo's rule for HTTP-based connection endpoints: when
// the request's Origin passes allowed_origins, echo it with credentials
// allowed and the headers the preflight asked for. A failed check only
// leaves the headers out; the browser then refuses to hand the response
// to the page, while non-browser clients (no Origin) are unaffected.
func cors(w http.ResponseWriter, r *http.Request, origins *websocket.OriginMatcher) {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return
	}
	h := w.Header()
	h.Add("Vary", "Origin")
	if !origins.Allow(origin, true) {
		return
	}
	h.Set("Access-Control-Allow-Origin", origin)
	h.Set("Access-Control-Allow-Credentials", "true")
	if rh := r.Header.Get("Access-Control-Request-Headers"); rh != "" && rh != "null" {
		h.Set("Access-Control-Allow-Headers", rh)
	}
}

// preflight answers a CORS preflight for an endpoint taking POST.
func preflight(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Access-Control-Max-Age", "300")
	h.Set("Access-Control-Allow-Methods", "POST, OPTIONS")
	w.WriteHeader(http.StatusNoContent)
}

// postOnly applies CORS and lets only POST through: a preflight is
// answered 204, any other method 405. false means the request has been
// answered.
func postOnly(w http.ResponseWriter, r *http.Request, origins *websocket.OriginMatcher) bool {
	cors(w, r, origins)
	switch r.Method {
	case http.MethodPost:
		return true
	case http.MethodOptions:
		preflight(w)
	default:
		w.Header().Set("Allow", "POST, OPTIONS")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
	return false
}
