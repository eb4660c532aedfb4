package app

import (
	"context"
	"errors"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/spindle-rt/spindle/proto/proxypb"
)

// callAll sends one request of every type in-process and returns the
// replies in Types() order.
func callAll(t *testing.T, a *App, ctx context.Context) []Reply {
	t.Helper()
	var out []Reply
	add := func(r Reply, err error) {
		if err != nil {
			t.Fatalf("unexpected call error: %v", err)
		}
		out = append(out, r)
	}
	add(a.Connect(ctx, &proxypb.ConnectRequest{Client: "c1"}))
	add(a.Refresh(ctx, &proxypb.RefreshRequest{Client: "c1"}))
	add(a.Subscribe(ctx, &proxypb.SubscribeRequest{Client: "c1"}))
	add(a.Publish(ctx, &proxypb.PublishRequest{Client: "c1"}))
	add(a.RPC(ctx, &proxypb.RPCRequest{Client: "c1", Method: "m"}))
	add(a.SubRefresh(ctx, &proxypb.SubRefreshRequest{Client: "c1"}))
	add(a.MapPublish(ctx, &proxypb.MapPublishRequest{Client: "c1"}))
	add(a.MapRemove(ctx, &proxypb.MapRemoveRequest{Client: "c1"}))
	add(a.SharedPollRefresh(ctx, &proxypb.SharedPollRefreshRequest{Channel: "poll:c1"}))
	return out
}

func TestMissingServiceAnswersNotAvailable(t *testing.T) {
	a, lb := testApp(Options{})
	for i, r := range callAll(t, a, context.Background()) {
		want := &proxypb.Error{Code: CodeNotAvailable, Message: "not available"}
		if !proto.Equal(r.GetError(), want) || r.GetDisconnect() != nil {
			t.Errorf("%s: %v", Types()[i], r)
		}
	}
	lb.waitFor(t, "no service registered", "type=subrefresh", "type=map_publish", "type=map_remove", "type=shared_poll_refresh")
}

func TestRPCFallbackAndMethodNotFound(t *testing.T) {
	a, _ := testApp(Options{})
	a.HandleRPC("known", func(_ context.Context, r *RPCRequest) (*proxypb.RPCResponse, error) {
		return r.Answer([]byte(`"known"`)), nil
	})
	ctx := context.Background()
	resp, _ := a.RPC(ctx, &proxypb.RPCRequest{Method: "other"})
	if resp.GetError().GetCode() != CodeMethodNotFound {
		t.Fatalf("unknown method: %v", resp)
	}
	a.HandleRPCFallback(func(_ context.Context, r *RPCRequest) (*proxypb.RPCResponse, error) {
		return r.Answer([]byte(`"fallback:` + r.GetMethod() + `"`)), nil
	})
	for method, want := range map[string]string{"known": `"known"`, "other": `"fallback:other"`} {
		resp, _ := a.RPC(ctx, &proxypb.RPCRequest{Method: method})
		if string(resp.GetResult().GetData()) != want {
			t.Errorf("%s: %v", method, resp)
		}
	}
	a.HandleRPC("known", nil)
	a.HandleRPCFallback(nil)
	resp, _ = a.RPC(ctx, &proxypb.RPCRequest{Method: "known"})
	if resp.GetError().GetCode() != CodeNotAvailable {
		t.Fatalf("no RPC services left: %v", resp)
	}
}

// everyService registers the same behaviour for every type.
func everyService(a *App, f func(ctx context.Context, req Request) error) {
	a.HandleConnect(func(ctx context.Context, r *ConnectRequest) (*proxypb.ConnectResponse, error) {
		return r.Allow(""), f(ctx, r)
	})
	a.HandleRefresh(func(ctx context.Context, r *RefreshRequest) (*proxypb.RefreshResponse, error) {
		return r.Extend(1), f(ctx, r)
	})
	a.HandleSubscribe(func(ctx context.Context, r *SubscribeRequest) (*proxypb.SubscribeResponse, error) {
		return r.Allow(), f(ctx, r)
	})
	a.HandlePublish(func(ctx context.Context, r *PublishRequest) (*proxypb.PublishResponse, error) {
		return r.Allow(), f(ctx, r)
	})
	a.HandleRPCFallback(func(ctx context.Context, r *RPCRequest) (*proxypb.RPCResponse, error) {
		return r.Answer(nil), f(ctx, r)
	})
	a.HandleSubRefresh(func(ctx context.Context, r *SubRefreshRequest) (*proxypb.SubRefreshResponse, error) {
		return r.Extend(1), f(ctx, r)
	})
	a.HandleMapPublish(func(ctx context.Context, r *MapPublishRequest) (*proxypb.MapPublishResponse, error) {
		return r.Allow(), f(ctx, r)
	})
	a.HandleMapRemove(func(ctx context.Context, r *MapRemoveRequest) (*proxypb.MapRemoveResponse, error) {
		return r.Allow(), f(ctx, r)
	})
	a.HandleSharedPollRefresh(func(ctx context.Context, r *SharedPollRefreshRequest) (*proxypb.SharedPollRefreshResponse, error) {
		return r.Unchanged(), f(ctx, r)
	})
}

func TestServiceFailures(t *testing.T) {
	internal := &proxypb.Error{Code: CodeInternal, Message: "internal server error", Temporary: true}
	tests := []struct {
		name     string
		fail     func(ctx context.Context, req Request) error
		wantErr  *proxypb.Error
		wantDisc *proxypb.Disconnect
		wantLog  []string
	}{
		{"plain error", func(context.Context, Request) error { return errors.New("db down") },
			internal, nil, []string{"service failed", "db down", "client=c1", "type=rpc", "method=m"}},
		{"app Error keeps its code", func(context.Context, Request) error {
			return fmtWrap(&Error{Code: 403, Message: "forbidden", Temporary: true})
		}, &proxypb.Error{Code: 403, Message: "forbidden", Temporary: true}, nil, nil},
		{"DisconnectError disconnects", func(context.Context, Request) error { return &DisconnectError{Code: 4503, Reason: "banned"} },
			nil, &proxypb.Disconnect{Code: 4503, Reason: "banned"}, nil},
		{"panic", func(context.Context, Request) error { panic("boom") },
			internal, nil, []string{"panicked", "boom", "goroutine", "type=connect", "client=c1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, lb := testApp(Options{})
			everyService(a, tt.fail)
			for i, r := range callAll(t, a, context.Background()) {
				wantErr, wantDisc := tt.wantErr, tt.wantDisc
				if Types()[i] == TypeSharedPollRefresh && wantDisc != nil {
					// A poll has no connection to close: the disconnect
					// arrives as an error of its code and reason.
					wantErr, wantDisc = &proxypb.Error{Code: wantDisc.Code, Message: wantDisc.Reason}, nil
				}
				if !proto.Equal(r.GetError(), wantErr) || !proto.Equal(r.GetDisconnect(), wantDisc) {
					t.Errorf("%s: %v", Types()[i], r)
				}
			}
			if tt.wantLog != nil {
				lb.waitFor(t, tt.wantLog...)
			} else if s := lb.String(); s != "" {
				t.Errorf("expected no log, got %s", s)
			}
		})
	}
}

func fmtWrap(err error) error { return errors.Join(errors.New("context"), err) }

func TestNilReplyIsInternalError(t *testing.T) {
	a, lb := testApp(Options{})
	a.HandleSubscribe(func(context.Context, *SubscribeRequest) (*proxypb.SubscribeResponse, error) {
		return nil, nil
	})
	resp, err := a.Subscribe(context.Background(), &proxypb.SubscribeRequest{Client: "c7"})
	if err != nil || resp.GetError().GetCode() != CodeInternal || resp.GetResult() != nil {
		t.Fatalf("%v %v", resp, err)
	}
	lb.waitFor(t, "neither a reply nor an error", "client=c7")
}

func TestInProcessDeadlineOverrun(t *testing.T) {
	a, lb := testApp(Options{})
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	a.HandlePublish(func(context.Context, *PublishRequest) (*proxypb.PublishResponse, error) {
		<-release
		return nil, nil
	})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	resp, err := a.Publish(ctx, &proxypb.PublishRequest{Client: "c3"})
	if !errors.Is(err, context.DeadlineExceeded) || resp != nil {
		t.Fatalf("got %v, %v; want DeadlineExceeded", resp, err)
	}
	if el := time.Since(start); el > time.Second {
		t.Fatalf("took %v", el)
	}
	lb.waitFor(t, "overran", "client=c3")

	// A context that is already done is refused without running anything.
	if _, err := a.Publish(ctx, &proxypb.PublishRequest{}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("done context: %v", err)
	}
}

func TestDefaultTimeoutAppliesWithoutDeadline(t *testing.T) {
	a, _ := testApp(Options{Timeout: 50 * time.Millisecond})
	a.HandleRefresh(func(ctx context.Context, r *RefreshRequest) (*proxypb.RefreshResponse, error) {
		if _, ok := ctx.Deadline(); !ok {
			return nil, errors.New("no deadline")
		}
		<-ctx.Done() // a well-behaved service gives up with its context
		return nil, ctx.Err()
	})
	_, err := a.Refresh(context.Background(), &proxypb.RefreshRequest{})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v", err)
	}
}

func TestNilProtoRequestIsSafe(t *testing.T) {
	a, _ := fullApp(Options{})
	if resp, err := a.Connect(context.Background(), nil); err != nil || resp.GetResult().GetUser() != "56" {
		t.Fatalf("%v %v", resp, err)
	}
	if resp, err := a.RPC(context.Background(), nil); err != nil || resp.GetError().GetCode() != CodeMethodNotFound {
		t.Fatalf("%v %v", resp, err)
	}
}

func TestTypes(t *testing.T) {
	for _, typ := range Types() {
		got, ok := ParseType(typ.String())
		if !ok || got != typ {
			t.Errorf("%v round trip: %v %v", typ, got, ok)
		}
	}
	if got, ok := ParseType("sub_refresh"); !ok || got != TypeSubRefresh {
		t.Errorf("sub_refresh: %v", got)
	}
	// The map events' names are ours (RoadRunner has none); workers match
	// on them, so they are pinned here.
	if TypeMapPublish.String() != "map_publish" || TypeMapRemove.String() != "map_remove" {
		t.Errorf("map type names %q %q", TypeMapPublish, TypeMapRemove)
	}
	if TypeSharedPollRefresh.String() != "shared_poll_refresh" {
		t.Errorf("shared poll type name %q", TypeSharedPollRefresh)
	}
	if len(Types()) != numTypes-1 {
		t.Errorf("Types() lists %d of %d types", len(Types()), numTypes-1)
	}
	if _, ok := ParseType("notify"); ok {
		t.Error("unknown type parsed")
	}
	if Type(0).Valid() || Type(0).String() != "unknown" || Type(99).Valid() {
		t.Error("invalid types reported valid")
	}
}
