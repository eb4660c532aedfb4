// Command goapp is a small application behind `spindle server` (or
// Centrifugo): it decides who connects, who may subscribe to which
// channel, stamps publications with the server time and answers two RPC
// methods. It shows the whole app API in one page; see README.md for the
// matching server config.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spindle-rt/spindle/app"
	"github.com/spindle-rt/spindle/proto/proxypb"
)

// tokens stands in for a real session store.
var tokens = map[string]string{"alice-token": "alice", "bob-token": "bob"}

// userKey carries the authenticated user ("" = anonymous) from the auth
// interceptor to the services.
var userKey = app.NewKey[string]("user")

func main() {
	proxyAddr := flag.String("proxy", "tcp://127.0.0.1:10001", "listen address for proxied events: tcp://host:port, host:port or unix:///path")
	flag.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))

	a := newApp(log)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := a.ListenAndServe(ctx, *proxyAddr); err != nil {
		log.Error("goapp stopped", "error", err)
		os.Exit(1)
	}
}

// newApp wires the services and interceptors.
func newApp(log *slog.Logger) *app.App {
	a := app.New(app.Options{Logger: log})
	a.InterceptAll(timing(log), auth) // timing is outermost, so it also times auth
	a.HandleConnect(connect)
	a.HandleSubscribe(subscribe)
	a.HandlePublish(publish)
	a.HandleRPC("echo", echo)
	a.HandleRPC("whoami", whoami)
	return a
}

// timing logs every event with its outcome and duration.
func timing(log *slog.Logger) app.Interceptor {
	return func(ctx context.Context, req app.Request, next app.Handler) (app.Reply, error) {
		start := time.Now()
		reply, err := next(ctx, req)
		denied := reply != nil && (reply.GetError() != nil || reply.GetDisconnect() != nil)
		log.Info("event", "type", req.Type(), "client", req.GetClient(), "user", req.GetUser(),
			"denied", denied, "took", time.Since(start))
		return reply, err
	}
}

// auth finds the user: on connect from the token in the connect data
// ({"token": "…"}; none = anonymous, unknown = disconnect), afterwards
// from the connection's user. Services read it with userKey.
func auth(ctx context.Context, req app.Request, next app.Handler) (app.Reply, error) {
	user := req.GetUser()
	if c, ok := req.(*app.ConnectRequest); ok {
		var data struct {
			Token string `json:"token"`
		}
		if len(c.GetData()) > 0 {
			if err := json.Unmarshal(c.GetData(), &data); err != nil {
				return c.Deny(400, "connect data must be a JSON object"), nil
			}
		}
		if data.Token != "" {
			u, ok := tokens[data.Token]
			if !ok {
				return app.Disconnect(req, 4501, "invalid token"), nil
			}
			user = u
		}
	}
	return next(userKey.WithValue(ctx, user), req)
}

func connect(ctx context.Context, req *app.ConnectRequest) (*proxypb.ConnectResponse, error) {
	user, _ := userKey.Value(ctx)
	return req.Allow(user), nil
}

// subscribe: public:* is open to everyone, members:* to signed-in users,
// anything else is refused.
func subscribe(ctx context.Context, req *app.SubscribeRequest) (*proxypb.SubscribeResponse, error) {
	user, _ := userKey.Value(ctx)
	switch ch := req.GetChannel(); {
	case strings.HasPrefix(ch, "public:"):
		return req.Allow(), nil
	case strings.HasPrefix(ch, "members:") && user != "":
		return req.Allow(), nil
	default:
		return req.Deny(403, "permission denied"), nil
	}
}

// publish adds who sent the message and the server time to the JSON
// object the client published.
func publish(ctx context.Context, req *app.PublishRequest) (*proxypb.PublishResponse, error) {
	var msg map[string]any
	if err := json.Unmarshal(req.GetData(), &msg); err != nil || msg == nil {
		return req.Deny(400, "publication must be a JSON object"), nil
	}
	user, _ := userKey.Value(ctx)
	msg["from"] = user
	msg["server_ts"] = time.Now().UnixMilli()
	data, err := json.Marshal(msg)
	if err != nil {
		return nil, err // logged; the client gets a temporary internal error
	}
	return req.Rewrite(data), nil
}

func echo(_ context.Context, req *app.RPCRequest) (*proxypb.RPCResponse, error) {
	return req.Answer(req.GetData()), nil
}

func whoami(ctx context.Context, req *app.RPCRequest) (*proxypb.RPCResponse, error) {
	user, _ := userKey.Value(ctx)
	data, err := json.Marshal(map[string]string{"user": user, "client": req.GetClient(), "transport": req.GetTransport()})
	if err != nil {
		return nil, err
	}
	return req.Answer(data), nil
}
