package api

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"

	"google.golang.org/protobuf/proto"

	"github.com/spindle-rt/spindle/internal/pbjson"
	"github.com/spindle-rt/spindle/proto/apipb"
)

// DefaultMaxBodySize bounds an HTTP API request body when HTTPConfig
// leaves MaxBodySize zero: large enough for big batches, small enough
// that a runaway client cannot exhaust memory.
const DefaultMaxBodySize = 10 << 20

// HTTPConfig configures the HTTP server API.
type HTTPConfig struct {
	// Prefix is the path the API lives under (api_handler_prefix), "/api"
	// when empty. The handler matches full request paths: mount it on the
	// mux at both Prefix (the legacy single endpoint) and Prefix+"/"
	// (POST Prefix/<method>), without stripping the prefix.
	Prefix string
	// Key is the API key callers must present (api_key).
	Key string
	// Insecure turns key checks off (api_insecure), for trusted networks.
	// With Insecure off and Key empty every request gets 401.
	Insecure bool
	// ErrorMode "transport" answers errors with an HTTP status and a bare
	// error body instead of 200 with an error field (api_error_mode).
	// Callers can also ask per request: X-Centrifugo-Error-Mode: transport.
	ErrorMode string
	// MaxBodySize bounds request bodies (413 beyond it); 0 means
	// DefaultMaxBodySize.
	MaxBodySize int64
	// Logger receives request failures; nil means slog.Default().
	Logger *slog.Logger
}

type httpHandler struct {
	exec      *Executor
	prefix    string
	key       string
	insecure  bool
	transport bool
	maxBody   int64
	log       *slog.Logger
}

// NewHTTPHandler serves the HTTP server API: `POST <Prefix>/<method>` with
// the request message as JSON, and the deprecated newline-delimited
// `POST <Prefix>` endpoint Centrifugo v5 still accepts.
func NewHTTPHandler(exec *Executor, cfg HTTPConfig) http.Handler {
	h := &httpHandler{
		exec:      exec,
		prefix:    strings.TrimRight(cfg.Prefix, "/"),
		key:       cfg.Key,
		insecure:  cfg.Insecure,
		transport: cfg.ErrorMode == ErrorModeTransport,
		maxBody:   cfg.MaxBodySize,
		log:       cfg.Logger,
	}
	if cfg.Prefix == "" {
		h.prefix = "/api"
	}
	if h.maxBody <= 0 {
		h.maxBody = DefaultMaxBodySize
	}
	if h.log == nil {
		h.log = slog.Default()
	}
	return h
}

func (h *httpHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	legacy := p == h.prefix || p == h.prefix+"/"
	if !legacy && !strings.HasPrefix(p, h.prefix+"/") {
		http.NotFound(w, r)
		return
	}
	if !h.insecure && !httpAuthorized(r, h.key) {
		// Centrifugo answers an empty 401; the API's own error shape says
		// the same to a client that only reads bodies, and costs nothing.
		h.writeError(w, r, http.StatusUnauthorized, apiError(CodeUnauthorized, "unauthorized"), false)
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "method not allowed: the server API only accepts POST", http.StatusMethodNotAllowed)
		return
	}
	body, ok := h.readBody(w, r)
	if !ok {
		return
	}
	if legacy {
		h.serveLegacy(w, r, body)
		return
	}
	h.serveMethod(w, r, p[len(h.prefix)+1:], body)
}

// readBody reads the whole body within the size limit, answering 413 or
// 500 itself when that fails.
func (h *httpHandler) readBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.maxBody))
	if err == nil {
		return body, true
	}
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		http.Error(w, fmt.Sprintf("request body larger than %d bytes", tooBig.Limit), http.StatusRequestEntityTooLarge)
		return nil, false
	}
	h.log.Error("read HTTP API request body", "path", r.URL.Path, "error", err)
	http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
	return nil, false
}

func (h *httpHandler) transportMode(r *http.Request) bool {
	return h.transport || r.Header.Get("X-Centrifugo-Error-Mode") == ErrorModeTransport
}

// serveMethod answers POST <prefix>/<name>.
func (h *httpHandler) serveMethod(w http.ResponseWriter, r *http.Request, name string, body []byte) {
	m, ok := methods[name]
	if !ok {
		// PRO methods and typos: Centrifugo OSS has no route for them.
		h.writeError(w, r, http.StatusNotFound, errNotFound(), h.transportMode(r))
		return
	}
	req := m.newRequest()
	if err := decodeBody(body, req); err != nil {
		http.Error(w, "invalid JSON request body: "+err.Error(), http.StatusBadRequest)
		return
	}
	resp := m.run(h.exec, r.Context(), req)
	if resp == nil {
		h.log.Error("HTTP API method produced no response", "method", name)
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		return
	}
	if apiErr := errorOf(resp); apiErr != nil && m.transportErrors && h.transportMode(r) {
		h.writeError(w, r, httpStatus(apiErr), apiErr, true)
		return
	}
	h.writeJSON(w, r, http.StatusOK, resp)
}

// decodeBody reads a request message; an empty body is an empty request
// (so `info` needs no body at all).
func decodeBody(body []byte, req proto.Message) error {
	if len(strings.TrimSpace(string(body))) == 0 {
		return nil
	}
	if err := pbjson.Unmarshal(body, req); err != nil {
		return fmt.Errorf("decode %s: %w", req.ProtoReflect().Descriptor().Name(), err)
	}
	return nil
}

// writeError writes an API error: bare in transport mode, wrapped in an
// {"error":…} object otherwise.
func (h *httpHandler) writeError(w http.ResponseWriter, r *http.Request, status int, apiErr *apipb.Error, bare bool) {
	if bare {
		h.writeJSON(w, r, status, apiErr)
		return
	}
	// Every XxxResponse is {error, result}; any of them gives the envelope.
	h.writeJSON(w, r, status, &apipb.InfoResponse{Error: apiErr})
}

func (h *httpHandler) writeJSON(w http.ResponseWriter, r *http.Request, status int, m proto.Message) {
	data, err := pbjson.Marshal(m, pbjson.APIResults())
	if err != nil {
		h.log.Error("encode HTTP API response", "path", r.URL.Path, "error", err)
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		return
	}
	h.writeRaw(w, status, data)
}

func (h *httpHandler) writeRaw(w http.ResponseWriter, status int, data []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(data)
}
