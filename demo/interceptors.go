package demo

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/spindle-rt/spindle/app"
)

// sessionKey carries the caller's session from the auth interceptor to
// the services; User "" is an anonymous visitor.
var sessionKey = app.NewKey[Session]("demo.session")

// authStateKey tells the connect service what became of the token the
// page sent, so the page can ask the visitor to sign in again.
var authStateKey = app.NewKey[string]("demo.auth_state")

// Auth states reported to the page in the connect reply.
const (
	AuthAnonymous = "anonymous"
	AuthSignedIn  = "signed-in"
	AuthExpired   = "expired"
	AuthInvalid   = "invalid"
)

// connectData is what the page sends in the connect command, named as in
// Spiral's demo.
type connectData struct {
	AuthToken string `json:"authToken"`
}

// auth decides who is calling. On connect it verifies the session token
// from the connect data; a missing, expired or forged token leaves the
// visitor anonymous (watching is open to all), never someone else. On
// every later event the user is the one the connection was accepted as.
func (d *Demo) auth(ctx context.Context, req app.Request, next app.Handler) (app.Reply, error) {
	c, ok := req.(*app.ConnectRequest)
	if !ok {
		return next(sessionKey.WithValue(ctx, Session{User: req.GetUser()}), req)
	}
	var data connectData
	if len(c.GetData()) > 0 {
		if err := json.Unmarshal(c.GetData(), &data); err != nil {
			return c.Deny(CodeBadRequest, "connect data must be a JSON object"), nil
		}
	}
	state, s := AuthAnonymous, Session{}
	if data.AuthToken != "" {
		var err error
		s, err = d.Tokens.Verify(data.AuthToken)
		switch {
		case err == nil:
			state = AuthSignedIn
		case errors.Is(err, ErrTokenExpired):
			state, s = AuthExpired, Session{}
		default:
			state, s = AuthInvalid, Session{}
		}
	}
	ctx = authStateKey.WithValue(sessionKey.WithValue(ctx, s), state)
	return next(ctx, req)
}

// timing is the outermost interceptor: it times every event, counts it
// and logs the outcome at debug level (`--log_level debug` shows the
// whole proxy path).
func (d *Demo) timing(ctx context.Context, req app.Request, next app.Handler) (app.Reply, error) {
	start := time.Now()
	reply, err := next(ctx, req)
	d.stats.add(req.Type().String())
	if d.log.Enabled(ctx, slog.LevelDebug) {
		outcome := "ok"
		var appErr *app.Error
		switch {
		case errors.As(err, &appErr):
			outcome = appErr.Message
		case err != nil:
			outcome = err.Error()
		case reply != nil && reply.GetError() != nil:
			outcome = reply.GetError().GetMessage()
		case reply != nil && reply.GetDisconnect() != nil:
			outcome = "disconnect: " + reply.GetDisconnect().GetReason()
		}
		d.log.Debug("demo: event", "type", req.Type().String(), "detail", detail(req), "user", req.GetUser(),
			"client", req.GetClient(), "outcome", outcome, "took", time.Since(start))
	}
	return reply, err
}

// detail names what an event is about: the RPC method or the channel.
func detail(req app.Request) string {
	switch r := req.(type) {
	case *app.RPCRequest:
		return r.GetMethod()
	case *app.SubscribeRequest:
		return r.GetChannel()
	case *app.PublishRequest:
		return r.GetChannel()
	case *app.SubRefreshRequest:
		return r.GetChannel()
	}
	return ""
}

// Stats counts events per type; safe for concurrent use.
type Stats struct {
	mu sync.Mutex
	n  map[string]int64
}

func newStats() *Stats { return &Stats{n: map[string]int64{}} }

func (s *Stats) add(typ string) {
	s.mu.Lock()
	s.n[typ]++
	s.mu.Unlock()
}

func (s *Stats) snapshot() map[string]int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int64, len(s.n))
	for k, v := range s.n {
		out[k] = v
	}
	return out
}
