package httpstream

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/spindle-rt/spindle/internal/realtime/transport/websocket"
)

// Router delivers one emulation request's commands to the session it
// names, on whichever node holds it.
type Router interface {
	Emulate(ctx context.Context, node, session string, data []byte) error
}

// ErrUnknownNode is what a Router returns for a node it does not know; the
// endpoint answers 404.
var ErrUnknownNode = errors.New("unknown node")

// DefaultRouteTimeout bounds delivering one request (Centrifugo's survey
// timeout); past it the endpoint answers 500.
const DefaultRouteTimeout = 10 * time.Second

// EndpointConfig configures the emulation endpoint.
type EndpointConfig struct {
	Origins            *websocket.OriginMatcher
	MaxRequestBodySize int // default 65536; 413 beyond
	Router             Router
	Logger             *slog.Logger
}

// Request is one emulation request: the commands in data are for the
// session on node.
type Request struct {
	Node, Session string
	Data          []byte
}

// NewEndpoint is /emulation: each POST carries a batch of commands for an
// existing session, as JSON {"node","session","data":"<commands>"} or, with
// Content-Type application/octet-stream, as a Protobuf EmulationRequest.
// It answers 204 once the commands are handed over; their replies travel
// down the session's stream.
func NewEndpoint(cfg EndpointConfig) http.Handler {
	cfg.MaxRequestBodySize, cfg.Logger, cfg.Origins = commonDefaults(cfg.MaxRequestBodySize, cfg.Logger, cfg.Origins)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, ok := readPost(w, r, cfg.Origins, cfg.MaxRequestBodySize)
		if !ok {
			return
		}
		var req Request
		var err error
		if r.Header.Get("Content-Type") == "application/octet-stream" {
			req, err = DecodeProtobuf(body)
		} else {
			req, err = DecodeJSON(body)
		}
		if err != nil {
			http.Error(w, "bad emulation request: "+err.Error(), http.StatusBadRequest)
			return
		}
		if cfg.Router == nil {
			http.Error(w, "endpoint not configured", http.StatusInternalServerError)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), DefaultRouteTimeout)
		defer cancel()
		switch err := cfg.Router.Emulate(ctx, req.Node, req.Session, req.Data); {
		case err == nil:
			w.WriteHeader(http.StatusNoContent)
		case errors.Is(err, ErrUnknownNode):
			http.Error(w, "unknown node", http.StatusNotFound)
		default:
			cfg.Logger.Warn("emulation request not delivered", "node", req.Node, "error", err)
			http.Error(w, "emulation request not delivered", http.StatusInternalServerError)
		}
	})
}

// DecodeJSON reads {"node":…,"session":…,"data":"…"}: data is a JSON
// string holding the newline-joined commands.
func DecodeJSON(body []byte) (Request, error) {
	var m struct {
		Node    *string `json:"node"`
		Session *string `json:"session"`
		Data    *string `json:"data"`
	}
	if err := json.Unmarshal(body, &m); err != nil {
		return Request{}, fmt.Errorf("json: %w", err)
	}
	if m.Node == nil || m.Session == nil || m.Data == nil {
		return Request{}, errors.New(`json: "node", "session" and "data" are required`)
	}
	return Request{Node: *m.Node, Session: *m.Session, Data: []byte(*m.Data)}, nil
}

// DecodeProtobuf reads an EmulationRequest: 1 node, 2 session, 3 data.
// Unknown fields are skipped, as Protobuf requires.
func DecodeProtobuf(b []byte) (Request, error) {
	var req Request
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return Request{}, fmt.Errorf("protobuf: %w", protowire.ParseError(n))
		}
		b = b[n:]
		if num >= 1 && num <= 3 && typ == protowire.BytesType {
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return Request{}, fmt.Errorf("protobuf field %d: %w", num, protowire.ParseError(n))
			}
			b = b[n:]
			switch num {
			case 1:
				req.Node = string(v)
			case 2:
				req.Session = string(v)
			case 3:
				req.Data = append([]byte(nil), v...)
			}
			continue
		}
		if num >= 1 && num <= 3 {
			return Request{}, fmt.Errorf("protobuf field %d: wire type %d, want bytes", num, typ)
		}
		n = protowire.ConsumeFieldValue(num, typ, b)
		if n < 0 {
			return Request{}, fmt.Errorf("protobuf field %d: %w", num, protowire.ParseError(n))
		}
		b = b[n:]
	}
	return req, nil
}
