package app_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/spindle-rt/spindle/app"
	"github.com/spindle-rt/spindle/proto/proxypb"
)

// A connect service decides who a client connecting without a token is.
// The real-time server asks it over gRPC or HTTP; here it is asked
// in-process, the way `spindle dev` does.
func Example_connectService() {
	a := app.New(app.Options{})
	a.HandleConnect(func(ctx context.Context, r *app.ConnectRequest) (*proxypb.ConnectResponse, error) {
		if r.Header().Get("Cookie") != "session=alice" {
			return r.Deny(4001, "sign in first"), nil
		}
		return r.Allow("alice"), nil
	})

	ctx := context.Background()
	resp, _ := a.Connect(ctx, &proxypb.ConnectRequest{Client: "c1"})
	fmt.Println("no cookie:", resp.GetError().GetCode(), resp.GetError().GetMessage())
	// Output:
	// no cookie: 4001 sign in first
}

// An interceptor runs before the services of the types it is registered
// for; this one refuses subscriptions to admin channels for everyone but
// the admin, without the subscribe service ever running.
func ExampleApp_Intercept() {
	a := app.New(app.Options{})
	a.HandleSubscribe(func(ctx context.Context, r *app.SubscribeRequest) (*proxypb.SubscribeResponse, error) {
		return r.Allow(), nil
	})
	a.Intercept(func(ctx context.Context, req app.Request, next app.Handler) (app.Reply, error) {
		sub := req.(*app.SubscribeRequest)
		if strings.HasPrefix(sub.GetChannel(), "admin:") && sub.GetUser() != "root" {
			return app.Deny(req, 103, "permission denied"), nil
		}
		return next(ctx, req)
	}, app.TypeSubscribe)

	ctx := context.Background()
	for _, user := range []string{"alice", "root"} {
		resp, _ := a.Subscribe(ctx, &proxypb.SubscribeRequest{User: user, Channel: "admin:stats"})
		if e := resp.GetError(); e != nil {
			fmt.Printf("%s: refused (%d)\n", user, e.GetCode())
		} else {
			fmt.Printf("%s: allowed\n", user)
		}
	}
	// Output:
	// alice: refused (103)
	// root: allowed
}

// RPC methods are routed by name; a method nobody registered is answered
// with Centrifugo's 104 (method not found).
func ExampleApp_HandleRPC() {
	a := app.New(app.Options{})
	a.HandleRPC("time", func(ctx context.Context, r *app.RPCRequest) (*proxypb.RPCResponse, error) {
		return r.Answer([]byte(`{"year":2026}`)), nil
	})

	ctx := context.Background()
	for _, method := range []string{"time", "weather"} {
		resp, _ := a.RPC(ctx, &proxypb.RPCRequest{Method: method})
		if e := resp.GetError(); e != nil {
			fmt.Printf("%s: error %d\n", method, e.GetCode())
		} else {
			fmt.Printf("%s: %s\n", method, resp.GetResult().GetData())
		}
	}
	// Output:
	// time: {"year":2026}
	// weather: error 104
}

// Serve answers the real-time server's proxy calls, gRPC and HTTP on one
// port. Here an HTTP proxy call is made by hand, as Centrifugo's HTTP proxy
// would make it (one URL per event).
func ExampleApp_Serve() {
	a := app.New(app.Options{Logger: slog.New(slog.DiscardHandler)})
	a.HandleConnect(func(ctx context.Context, r *app.ConnectRequest) (*proxypb.ConnectResponse, error) {
		return r.Allow("42"), nil
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	done := make(chan error, 1)
	go func() { done <- a.Serve(ctx, ln) }()

	hc := &http.Client{Timeout: 5 * time.Second}
	resp, err := hc.Post("http://"+ln.Addr().String()+"/centrifugo/connect", "application/json",
		strings.NewReader(`{"client":"c1","transport":"websocket","protocol":"json","encoding":"json"}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	fmt.Println(resp.StatusCode, string(body))

	stop()
	fmt.Println("stopped:", <-done)
	// Output:
	// 200 {"result":{"user":"42"}}
	// stopped: <nil>
}

// Handle passes every request of a type to one function over the Request
// and Reply interfaces — how `spindle app` hands events to worker
// processes, and how an app forwards events it does not decide itself.
// Here every RPC method nobody routed is refused with a custom code, while
// "time" stays a Go service.
func ExampleApp_Handle() {
	a := app.New(app.Options{})
	a.HandleRPC("time", func(ctx context.Context, r *app.RPCRequest) (*proxypb.RPCResponse, error) {
		return r.Answer([]byte(`"12:00"`)), nil
	})
	a.Handle(app.TypeRPC, func(ctx context.Context, req app.Request) (app.Reply, error) {
		return app.Deny(req, 4404, "no such method: "+req.(*app.RPCRequest).GetMethod()), nil
	})

	ctx := context.Background()
	for _, method := range []string{"time", "weather"} {
		resp, _ := a.RPC(ctx, &proxypb.RPCRequest{Method: method})
		if e := resp.GetError(); e != nil {
			fmt.Printf("%s: %d %s\n", method, e.GetCode(), e.GetMessage())
		} else {
			fmt.Printf("%s: %s\n", method, resp.GetResult().GetData())
		}
	}
	// Output:
	// time: "12:00"
	// weather: 4404 no such method: weather
}

// Map channels hold keyed state (seats of a show, say). With
// map.publish_proxy_enabled and map.remove_proxy_enabled in the channel's
// namespace, the real-time server asks the app about every client write
// and removal of a key: here a write is stamped with who made it and a
// taken seat cannot be booked twice, while removals are refused outright.
func ExampleApp_HandleMapPublish() {
	a := app.New(app.Options{})
	taken := map[string]bool{"A1": true}
	a.HandleMapPublish(func(ctx context.Context, r *app.MapPublishRequest) (*proxypb.MapPublishResponse, error) {
		if taken[r.GetKey()] {
			return r.Deny(1409, "seat taken"), nil
		}
		return r.Respond(&proxypb.MapPublishResult{
			Data:    []byte(`{"by":"` + r.GetUser() + `"}`),
			KeyMode: "if_new", // a seat another client booked meanwhile stays theirs
		}), nil
	})
	a.HandleMapRemove(func(ctx context.Context, r *app.MapRemoveRequest) (*proxypb.MapRemoveResponse, error) {
		return r.Deny(1403, "bookings are final"), nil
	})

	ctx := context.Background()
	for _, seat := range []string{"A1", "B2"} {
		resp, _ := a.MapPublish(ctx, &proxypb.MapPublishRequest{User: "alice", Channel: "seats:show1", Key: seat, Data: []byte(`{}`)})
		if e := resp.GetError(); e != nil {
			fmt.Printf("book %s: %d %s\n", seat, e.GetCode(), e.GetMessage())
		} else {
			fmt.Printf("book %s: %s %s\n", seat, resp.GetResult().GetData(), resp.GetResult().GetKeyMode())
		}
	}
	rem, _ := a.MapRemove(ctx, &proxypb.MapRemoveRequest{User: "alice", Channel: "seats:show1", Key: "B2"})
	fmt.Println("cancel B2:", rem.GetError().GetCode(), rem.GetError().GetMessage())
	// Output:
	// book A1: 1409 seat taken
	// book B2: {"by":"alice"} if_new
	// cancel B2: 1403 bookings are final
}

// A shared-poll channel lets many clients track items (here, live match
// scores) that the application holds: the real-time server polls the app
// once per channel for the keys its subscribers track, sending the version
// it has of each, and fans out what changed. With a versioned namespace
// the app answers only the items newer than the server's version, and
// reports items that no longer exist as removed.
func ExampleApp_HandleSharedPollRefresh() {
	type score struct {
		json    string
		version uint64
	}
	store := map[string]score{
		"match:1": {`{"home":2,"away":1}`, 7},
		"match:2": {`{"home":0,"away":0}`, 3},
	}
	a := app.New(app.Options{})
	a.HandleSharedPollRefresh(func(ctx context.Context, r *app.SharedPollRefreshRequest) (*proxypb.SharedPollRefreshResponse, error) {
		var items []*proxypb.SharedPollRefreshResultItem
		for _, it := range r.GetItems() {
			s, ok := store[it.GetKey()]
			switch {
			case !ok:
				items = append(items, &proxypb.SharedPollRefreshResultItem{Key: it.GetKey(), Removed: true})
			case s.version > it.GetVersion():
				items = append(items, &proxypb.SharedPollRefreshResultItem{Key: it.GetKey(), Data: []byte(s.json), Version: s.version})
			}
		}
		if len(items) == 0 {
			return r.Unchanged(), nil
		}
		return r.Respond(&proxypb.SharedPollRefreshResult{Items: items}), nil
	})

	resp, _ := a.SharedPollRefresh(context.Background(), &proxypb.SharedPollRefreshRequest{
		Channel: "scores:league",
		Items:   []*proxypb.SharedPollRefreshItem{{Key: "match:1", Version: 6}, {Key: "match:2", Version: 3}, {Key: "match:9"}},
	})
	for _, it := range resp.GetResult().GetItems() {
		if it.GetRemoved() {
			fmt.Println(it.GetKey(), "removed")
			continue
		}
		fmt.Println(it.GetKey(), string(it.GetData()), "version", it.GetVersion())
	}
	// Output:
	// match:1 {"home":2,"away":1} version 7
	// match:9 removed
}
