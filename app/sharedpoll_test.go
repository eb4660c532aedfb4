package app

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/spindle-rt/spindle/internal/clientheaders"
	"github.com/spindle-rt/spindle/proto/proxypb"
)

// TestSharedPollRefreshThroughInterceptors: a shared-poll refresh runs the
// same chain as every event — "*" interceptors, then the type's, then the
// service — and interceptors tell it apart by its type string. A generic
// interceptor's Disconnect, which a poll cannot carry, arrives as an error
// of the same code and reason, so the server still sees a failed poll.
func TestSharedPollRefreshThroughInterceptors(t *testing.T) {
	a, _ := testApp(Options{})
	var seen []string
	a.InterceptAll(func(ctx context.Context, req Request, next Handler) (Reply, error) {
		seen = append(seen, fmt.Sprintf("%s %T user=%q client=%q", req.Type(), req, req.GetUser(), req.GetClient()))
		return next(ctx, req)
	})
	a.Intercept(func(ctx context.Context, req Request, next Handler) (Reply, error) {
		switch req.(*SharedPollRefreshRequest).GetChannel() {
		case "poll:closed":
			return Deny(req, 1423, "closed"), nil
		case "poll:banned":
			return Disconnect(req, 4503, "banned"), nil
		}
		return next(ctx, req)
	}, TypeSharedPollRefresh)
	a.HandleSharedPollRefresh(func(_ context.Context, r *SharedPollRefreshRequest) (*proxypb.SharedPollRefreshResponse, error) {
		items := make([]*proxypb.SharedPollRefreshResultItem, 0, len(r.GetItems()))
		for _, it := range r.GetItems() {
			items = append(items, &proxypb.SharedPollRefreshResultItem{
				Key: it.GetKey(), Data: []byte(`{"by":"` + r.Header().Get("X-Poller") + `"}`), Version: 1,
			})
		}
		return r.Respond(&proxypb.SharedPollRefreshResult{Items: items}), nil
	})

	ctx := clientheaders.With(context.Background(), http.Header{"X-Poller": {"hub"}})
	ok, err := a.SharedPollRefresh(ctx, &proxypb.SharedPollRefreshRequest{Channel: "poll:1", Items: []*proxypb.SharedPollRefreshItem{{Key: "k1"}}})
	want := &proxypb.SharedPollRefreshResponse{Result: &proxypb.SharedPollRefreshResult{Items: []*proxypb.SharedPollRefreshResultItem{
		{Key: "k1", Data: []byte(`{"by":"hub"}`), Version: 1},
	}}}
	if err != nil || !proto.Equal(ok, want) {
		t.Fatalf("poll: %v %v, want %v", ok, err, want)
	}
	closed, err := a.SharedPollRefresh(ctx, &proxypb.SharedPollRefreshRequest{Channel: "poll:closed"})
	if err != nil || !proto.Equal(closed, &proxypb.SharedPollRefreshResponse{Error: &proxypb.Error{Code: 1423, Message: "closed"}}) {
		t.Fatalf("closed: %v %v", closed, err)
	}
	banned, err := a.SharedPollRefresh(ctx, &proxypb.SharedPollRefreshRequest{Channel: "poll:banned"})
	if err != nil || !proto.Equal(banned, &proxypb.SharedPollRefreshResponse{Error: &proxypb.Error{Code: 4503, Message: "banned"}}) || banned.GetDisconnect() != nil {
		t.Fatalf("banned: %v %v", banned, err)
	}
	line := `shared_poll_refresh *app.SharedPollRefreshRequest user="" client=""`
	if want := []string{line, line, line}; fmt.Sprint(seen) != fmt.Sprint(want) {
		t.Fatalf("interceptor saw %v, want %v", seen, want)
	}
}

// TestSharedPollRefreshFailuresNameTheChannel: a poll has no client, so
// the App's logs and errors name its channel instead of an empty client,
// and every failure still answers with the event's own response type.
func TestSharedPollRefreshFailuresNameTheChannel(t *testing.T) {
	internal := &proxypb.Error{Code: CodeInternal, Message: "internal server error", Temporary: true}
	t.Run("service error", func(t *testing.T) {
		a, lb := testApp(Options{})
		a.HandleSharedPollRefresh(func(context.Context, *SharedPollRefreshRequest) (*proxypb.SharedPollRefreshResponse, error) {
			return nil, errors.New("store down")
		})
		resp, err := a.SharedPollRefresh(context.Background(), &proxypb.SharedPollRefreshRequest{Channel: "poll:7"})
		if err != nil || !proto.Equal(resp, &proxypb.SharedPollRefreshResponse{Error: internal}) {
			t.Fatalf("%v %v", resp, err)
		}
		lb.waitFor(t, "service failed", "store down", "type=shared_poll_refresh", "channel=poll:7")
	})
	t.Run("DisconnectError", func(t *testing.T) {
		a, _ := testApp(Options{})
		a.HandleSharedPollRefresh(func(context.Context, *SharedPollRefreshRequest) (*proxypb.SharedPollRefreshResponse, error) {
			return nil, &DisconnectError{Code: 4500, Reason: "gone"}
		})
		resp, err := a.SharedPollRefresh(context.Background(), &proxypb.SharedPollRefreshRequest{Channel: "poll:7"})
		if err != nil || !proto.Equal(resp, &proxypb.SharedPollRefreshResponse{Error: &proxypb.Error{Code: 4500, Message: "gone"}}) {
			t.Fatalf("%v %v", resp, err)
		}
	})
	t.Run("reply of the wrong type", func(t *testing.T) {
		a, lb := testApp(Options{})
		a.Handle(TypeSharedPollRefresh, func(context.Context, Request) (Reply, error) { return &proxypb.SubRefreshResponse{}, nil })
		resp, err := a.SharedPollRefresh(context.Background(), &proxypb.SharedPollRefreshRequest{Channel: "poll:7"})
		if err != nil || !proto.Equal(resp, &proxypb.SharedPollRefreshResponse{Error: internal}) {
			t.Fatalf("%v %v", resp, err)
		}
		lb.waitFor(t, "wrong type", "type=shared_poll_refresh", "channel=poll:7")
	})
	t.Run("panic", func(t *testing.T) {
		a, lb := testApp(Options{})
		a.HandleSharedPollRefresh(func(context.Context, *SharedPollRefreshRequest) (*proxypb.SharedPollRefreshResponse, error) {
			panic("boom")
		})
		resp, err := a.SharedPollRefresh(context.Background(), &proxypb.SharedPollRefreshRequest{Channel: "poll:7"})
		if err != nil || !proto.Equal(resp, &proxypb.SharedPollRefreshResponse{Error: internal}) {
			t.Fatalf("%v %v", resp, err)
		}
		lb.waitFor(t, "panicked", "boom", "channel=poll:7")
	})
	t.Run("deadline overrun", func(t *testing.T) {
		a, lb := testApp(Options{})
		release := make(chan struct{})
		t.Cleanup(func() { close(release) })
		a.HandleSharedPollRefresh(func(context.Context, *SharedPollRefreshRequest) (*proxypb.SharedPollRefreshResponse, error) {
			<-release
			return nil, nil
		})
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		resp, err := a.SharedPollRefresh(ctx, &proxypb.SharedPollRefreshRequest{Channel: "poll:7"})
		if !errors.Is(err, context.DeadlineExceeded) || resp != nil {
			t.Fatalf("got %v, %v; want DeadlineExceeded", resp, err)
		}
		if want := `app: shared_poll_refresh for channel "poll:7": context deadline exceeded`; err.Error() != want {
			t.Fatalf("error %q, want %q", err, want)
		}
		lb.waitFor(t, "overran", "channel=poll:7")
	})
}

// TestSharedPollRefreshHTTPReplyNotJSON: item data the HTTP variant cannot
// carry as raw JSON fail that poll with error 100, like any reply that
// cannot be encoded, instead of a body the server could not read.
func TestSharedPollRefreshHTTPReplyNotJSON(t *testing.T) {
	a, lb := testApp(Options{})
	a.HandleSharedPollRefresh(func(_ context.Context, r *SharedPollRefreshRequest) (*proxypb.SharedPollRefreshResponse, error) {
		return r.Respond(&proxypb.SharedPollRefreshResult{Items: []*proxypb.SharedPollRefreshResultItem{{Key: "k", Data: []byte("not json"), Version: 1}}}), nil
	})
	base := "http://" + serveTCP(t, a)
	code, body := post(t, http.DefaultClient, base+"/shared_poll_refresh", `{"channel":"poll:x","items":[{"key":"k"}]}`, nil)
	if code != http.StatusOK || body != `{"error":{"code":100,"message":"internal server error","temporary":true}}` {
		t.Fatalf("%d %s", code, body)
	}
	lb.waitFor(t, "cannot be encoded as JSON", "channel=poll:x")
	code, body = post(t, http.DefaultClient, base+"/shared_poll_refresh", `{"channel":"poll:x","items":[{"key":"k","version":"one"}]}`, nil)
	if code != http.StatusBadRequest {
		t.Fatalf("undecodable request: %d %s", code, body)
	}
}

// TestSharedPollReplyConstructors pins what each builder answers, and that
// the request presents no connection.
func TestSharedPollReplyConstructors(t *testing.T) {
	r := NewSharedPollRefreshRequest(nil, nil)
	items := []*proxypb.SharedPollRefreshResultItem{{Key: "k", Data: []byte(`1`), Version: 2}, {Key: "x", Removed: true}}
	tests := []struct {
		name      string
		got, want proto.Message
	}{
		{"respond", r.Respond(&proxypb.SharedPollRefreshResult{Items: items, Epoch: "e"}),
			&proxypb.SharedPollRefreshResponse{Result: &proxypb.SharedPollRefreshResult{Items: items, Epoch: "e"}}},
		{"respond nil", r.Respond(nil), &proxypb.SharedPollRefreshResponse{Result: &proxypb.SharedPollRefreshResult{}}},
		{"unchanged", r.Unchanged(), &proxypb.SharedPollRefreshResponse{Result: &proxypb.SharedPollRefreshResult{}}},
		{"fail", r.Fail(1500, "down"), &proxypb.SharedPollRefreshResponse{Error: &proxypb.Error{Code: 1500, Message: "down"}}},
		{"generic deny", Deny(r, 1000, "no"), &proxypb.SharedPollRefreshResponse{Error: &proxypb.Error{Code: 1000, Message: "no"}}},
		{"generic deny temporary", DenyTemporary(r, 1000, "later"), &proxypb.SharedPollRefreshResponse{Error: &proxypb.Error{Code: 1000, Message: "later", Temporary: true}}},
		{"generic disconnect", Disconnect(r, 4500, "bye"), &proxypb.SharedPollRefreshResponse{Error: &proxypb.Error{Code: 4500, Message: "bye"}}},
	}
	for _, tt := range tests {
		if !proto.Equal(tt.got, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, tt.got, tt.want)
		}
	}
	if r.Type() != TypeSharedPollRefresh || r.Proto() == nil || r.GetItems() != nil {
		t.Fatalf("wrapped request: %v %v", r.Type(), r.Proto())
	}
	if r.GetClient() != "" || r.GetTransport() != "" || r.GetProtocol() != "" || r.GetEncoding() != "" || r.GetUser() != "" {
		t.Fatal("a poll presents connection fields")
	}
}
