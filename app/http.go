package app

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/spindle-rt/spindle/internal/pbjson"
	"github.com/spindle-rt/spindle/proto/proxypb"
)

// HTTPHandler serves the HTTP proxy variant, for programs that mount it
// in their own mux. It takes POST requests whose path ends in one of the
// event names below, with the proxypb request as JSON (Centrifugo's
// mapping: proto field names, bytes fields as embedded JSON), and answers
// 200 with the response as JSON. Errors: 405 (not POST), 404 (unknown
// event), 413 (body over Options.MaxRequestBytes), 400 (undecodable
// body), 504 (handler overran the deadline), 503 (caller went away);
// Centrifugo turns any of them into a temporary internal error for the
// client.
//
//	/connect  /refresh  /subscribe  /publish  /rpc  /sub_refresh
//	/map_publish  /map_remove  /shared_poll_refresh
func (a *App) HTTPHandler() http.Handler { return httpHandler{a: a} }

type httpHandler struct{ a *App }

// httpRoute decodes one event's JSON body and answers it.
type httpRoute func(a *App, ctx context.Context, body []byte, h http.Header) (Request, Reply, error)

var httpRoutes = map[string]httpRoute{
	"connect": func(a *App, ctx context.Context, body []byte, h http.Header) (Request, Reply, error) {
		m := &proxypb.ConnectRequest{}
		if err := pbjson.Unmarshal(body, m); err != nil {
			return nil, nil, badRequest{err}
		}
		r := NewConnectRequest(m, h)
		resp, err := invoke[*proxypb.ConnectResponse](a, ctx, r)
		return r, resp, err
	},
	"refresh": func(a *App, ctx context.Context, body []byte, h http.Header) (Request, Reply, error) {
		m := &proxypb.RefreshRequest{}
		if err := pbjson.Unmarshal(body, m); err != nil {
			return nil, nil, badRequest{err}
		}
		r := NewRefreshRequest(m, h)
		resp, err := invoke[*proxypb.RefreshResponse](a, ctx, r)
		return r, resp, err
	},
	"subscribe": func(a *App, ctx context.Context, body []byte, h http.Header) (Request, Reply, error) {
		m := &proxypb.SubscribeRequest{}
		if err := pbjson.Unmarshal(body, m); err != nil {
			return nil, nil, badRequest{err}
		}
		r := NewSubscribeRequest(m, h)
		resp, err := invoke[*proxypb.SubscribeResponse](a, ctx, r)
		return r, resp, err
	},
	"publish": func(a *App, ctx context.Context, body []byte, h http.Header) (Request, Reply, error) {
		m := &proxypb.PublishRequest{}
		if err := pbjson.Unmarshal(body, m); err != nil {
			return nil, nil, badRequest{err}
		}
		r := NewPublishRequest(m, h)
		resp, err := invoke[*proxypb.PublishResponse](a, ctx, r)
		return r, resp, err
	},
	"rpc": func(a *App, ctx context.Context, body []byte, h http.Header) (Request, Reply, error) {
		m := &proxypb.RPCRequest{}
		if err := pbjson.Unmarshal(body, m); err != nil {
			return nil, nil, badRequest{err}
		}
		r := NewRPCRequest(m, h)
		resp, err := invoke[*proxypb.RPCResponse](a, ctx, r)
		return r, resp, err
	},
	"sub_refresh": func(a *App, ctx context.Context, body []byte, h http.Header) (Request, Reply, error) {
		m := &proxypb.SubRefreshRequest{}
		if err := pbjson.Unmarshal(body, m); err != nil {
			return nil, nil, badRequest{err}
		}
		r := NewSubRefreshRequest(m, h)
		resp, err := invoke[*proxypb.SubRefreshResponse](a, ctx, r)
		return r, resp, err
	},
	"map_publish": func(a *App, ctx context.Context, body []byte, h http.Header) (Request, Reply, error) {
		m := &proxypb.MapPublishRequest{}
		if err := pbjson.Unmarshal(body, m); err != nil {
			return nil, nil, badRequest{err}
		}
		r := NewMapPublishRequest(m, h)
		resp, err := invoke[*proxypb.MapPublishResponse](a, ctx, r)
		return r, resp, err
	},
	"map_remove": func(a *App, ctx context.Context, body []byte, h http.Header) (Request, Reply, error) {
		m := &proxypb.MapRemoveRequest{}
		if err := pbjson.Unmarshal(body, m); err != nil {
			return nil, nil, badRequest{err}
		}
		r := NewMapRemoveRequest(m, h)
		resp, err := invoke[*proxypb.MapRemoveResponse](a, ctx, r)
		return r, resp, err
	},
	"shared_poll_refresh": func(a *App, ctx context.Context, body []byte, h http.Header) (Request, Reply, error) {
		m := &proxypb.SharedPollRefreshRequest{}
		if err := pbjson.Unmarshal(body, m); err != nil {
			return nil, nil, badRequest{err}
		}
		r := NewSharedPollRefreshRequest(m, h)
		resp, err := invoke[*proxypb.SharedPollRefreshResponse](a, ctx, r)
		return r, resp, err
	},
}

type badRequest struct{ err error }

func (b badRequest) Error() string { return "invalid request body: " + b.err.Error() }
func (b badRequest) Unwrap() error { return b.err }

func (h httpHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "use POST", http.StatusMethodNotAllowed)
		return
	}
	p := strings.TrimSuffix(r.URL.Path, "/")
	route, ok := httpRoutes[p[strings.LastIndexByte(p, '/')+1:]]
	if !ok {
		http.Error(w, "unknown event: the path must end in /connect, /refresh, /subscribe, /publish, /rpc, /sub_refresh, /map_publish, /map_remove or /shared_poll_refresh", http.StatusNotFound)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, int64(h.a.maxBytes)))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
			return
		}
		http.Error(w, "cannot read request body", http.StatusBadRequest)
		return
	}
	req, resp, err := route(h.a, r.Context(), body, r.Header)
	if err != nil {
		var br badRequest
		switch {
		case errors.As(err, &br):
			http.Error(w, br.Error(), http.StatusBadRequest)
		case errors.Is(err, context.DeadlineExceeded):
			http.Error(w, "handler overran its deadline", http.StatusGatewayTimeout)
		default:
			http.Error(w, "request abandoned", http.StatusServiceUnavailable)
		}
		return
	}
	out, err := pbjson.Marshal(resp)
	if err != nil {
		// Typically bytes that are not JSON in a reply to a JSON proxy.
		h.a.log.Error("app: reply cannot be encoded as JSON; answering error 100",
			append(reqAttrs(req), "error", err)...)
		out, err = pbjson.Marshal(internalReply(req))
		if err != nil {
			http.Error(w, "cannot encode reply", http.StatusInternalServerError)
			return
		}
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(out)
}
