package demo

import (
	"embed"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"path"
)

// web holds the page: hand-written HTML and CSS plus the esbuild bundle
// of web/src (committed, so `go build` needs no Node).
//
//go:embed web/index.html web/app.css web/favicon.svg web/dist/app.js
var web embed.FS

// assets maps URL paths to embedded files.
var assets = map[string]string{
	"/":            "web/index.html",
	"/index.html":  "web/index.html",
	"/app.css":     "web/app.css",
	"/app.js":      "web/dist/app.js",
	"/favicon.svg": "web/favicon.svg",
}

// maxLoginBody bounds a sign-in request.
const maxLoginBody = 1 << 10

// LoginReply is the answer to POST /demo/login.
type LoginReply struct {
	Token     string `json:"token"`
	User      string `json:"user"`
	Name      string `json:"name"`
	ExpiresAt int64  `json:"expires_at"`
}

// Handler serves the page at / and the demo's own HTTP endpoints:
// POST /demo/login (name → session token) and GET /demo/config (where
// the page finds the real-time server).
func (d *Demo) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/demo/login", d.login)
	mux.HandleFunc("GET /demo/config", d.config)
	mux.HandleFunc("/", serveAsset)
	return mux
}

func serveAsset(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	file, ok := assets[r.URL.Path]
	if !ok {
		http.NotFound(w, r)
		return
	}
	data, err := web.ReadFile(file)
	if err != nil {
		http.Error(w, "asset missing from this build", http.StatusInternalServerError)
		return
	}
	ctype := mime.TypeByExtension(path.Ext(file))
	if ctype == "" {
		ctype = "application/octet-stream"
	}
	h := w.Header()
	h.Set("Content-Type", ctype)
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Security-Policy", "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; frame-ancestors 'none'")
	_, _ = w.Write(data)
}

// login signs a visitor in by name. It takes JSON only, so a plain HTML
// form on another site cannot sign a visitor in behind their back.
func (d *Demo) login(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "POST {\"name\": \"…\"}"})
		return
	}
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct != "application/json" {
		writeJSON(w, http.StatusUnsupportedMediaType, map[string]string{"error": "send JSON: {\"name\": \"…\"}"})
		return
	}
	var body struct {
		Name string `json:"name"`
	}
	dec := json.NewDecoder(io.LimitReader(r.Body, maxLoginBody))
	if err := dec.Decode(&body); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "body must be {\"name\": \"…\"}"})
		return
	}
	token, s, err := d.Tokens.Issue(body.Name)
	if err != nil {
		status := http.StatusInternalServerError
		if errors.Is(err, ErrBadName) {
			status = http.StatusBadRequest
		}
		writeJSON(w, status, map[string]string{"error": err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, LoginReply{Token: token, User: s.User, Name: s.Name, ExpiresAt: s.ExpiresAt})
}

// config tells the page where the WebSocket endpoint is; "" means the
// page's own origin.
func (d *Demo) config(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"websocket": d.wsURL})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
