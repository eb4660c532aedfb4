package app

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/spindle-rt/spindle/internal/clientheaders"
	"github.com/spindle-rt/spindle/proto/proxypb"
)

// TestMapEventsThroughInterceptors: map_publish and map_remove run the same
// chain as every event — "*" interceptors, then the type's, then the
// service — and interceptors tell them apart by their type strings.
func TestMapEventsThroughInterceptors(t *testing.T) {
	a, _ := testApp(Options{})
	var seen []string
	a.InterceptAll(func(ctx context.Context, req Request, next Handler) (Reply, error) {
		seen = append(seen, fmt.Sprintf("%s %T", req.Type(), req))
		return next(ctx, req)
	})
	a.Intercept(func(ctx context.Context, req Request, next Handler) (Reply, error) {
		if req.(*MapRemoveRequest).GetKey() == "locked" {
			return Deny(req, 1423, "locked"), nil
		}
		return next(ctx, req)
	}, TypeMapRemove)
	a.HandleMapPublish(func(_ context.Context, r *MapPublishRequest) (*proxypb.MapPublishResponse, error) {
		return r.Rewrite([]byte(`{"cookie":"` + r.Header().Get("Cookie") + `"}`)), nil
	})
	a.HandleMapRemove(func(_ context.Context, r *MapRemoveRequest) (*proxypb.MapRemoveResponse, error) {
		return r.Allow(), nil
	})

	ctx := clientheaders.With(context.Background(), http.Header{"Cookie": {"s=1"}})
	pub, err := a.MapPublish(ctx, &proxypb.MapPublishRequest{Client: "c1", Channel: "seats:1", Key: "a1"})
	if err != nil || string(pub.GetResult().GetData()) != `{"cookie":"s=1"}` {
		t.Fatalf("map_publish: %v %v", pub, err)
	}
	rem, err := a.MapRemove(ctx, &proxypb.MapRemoveRequest{Client: "c1", Channel: "seats:1", Key: "locked"})
	if err != nil || rem.GetError().GetCode() != 1423 {
		t.Fatalf("map_remove locked: %v %v", rem, err)
	}
	rem, err = a.MapRemove(ctx, &proxypb.MapRemoveRequest{Client: "c1", Channel: "seats:1", Key: "a1"})
	if err != nil || !proto.Equal(rem, &proxypb.MapRemoveResponse{Result: &proxypb.MapRemoveResult{}}) {
		t.Fatalf("map_remove: %v %v", rem, err)
	}
	want := []string{"map_publish *app.MapPublishRequest", "map_remove *app.MapRemoveRequest", "map_remove *app.MapRemoveRequest"}
	if fmt.Sprint(seen) != fmt.Sprint(want) {
		t.Fatalf("interceptor saw %v, want %v", seen, want)
	}
}

// TestMapReplyOfTheWrongType: a generic handler that answers a map event
// with another event's response gets the internal error, of the right
// response type, as for every event.
func TestMapReplyOfTheWrongType(t *testing.T) {
	a, lb := testApp(Options{})
	a.Handle(TypeMapPublish, func(context.Context, Request) (Reply, error) { return &proxypb.PublishResponse{}, nil })
	a.Handle(TypeMapRemove, func(context.Context, Request) (Reply, error) { return &proxypb.MapPublishResponse{}, nil })
	internal := &proxypb.Error{Code: CodeInternal, Message: "internal server error", Temporary: true}
	pub, err := a.MapPublish(context.Background(), &proxypb.MapPublishRequest{Client: "c1"})
	if err != nil || !proto.Equal(pub.GetError(), internal) {
		t.Fatalf("map_publish: %v %v", pub, err)
	}
	rem, err := a.MapRemove(context.Background(), &proxypb.MapRemoveRequest{Client: "c1"})
	if err != nil || !proto.Equal(rem.GetError(), internal) {
		t.Fatalf("map_remove: %v %v", rem, err)
	}
	lb.waitFor(t, "wrong type", "type=map_publish", "type=map_remove")
}

// TestMapReplyConstructors pins what each builder answers.
func TestMapReplyConstructors(t *testing.T) {
	p := NewMapPublishRequest(nil, nil)
	r := NewMapRemoveRequest(nil, nil)
	tests := []struct {
		name      string
		got, want proto.Message
	}{
		{"publish allow", p.Allow(), &proxypb.MapPublishResponse{Result: &proxypb.MapPublishResult{}}},
		{"publish rewrite", p.Rewrite([]byte(`1`)), &proxypb.MapPublishResponse{Result: &proxypb.MapPublishResult{Data: []byte(`1`)}}},
		{"publish respond nil", p.Respond(nil), &proxypb.MapPublishResponse{Result: &proxypb.MapPublishResult{}}},
		{"publish deny", p.Deny(1000, "no"), &proxypb.MapPublishResponse{Error: &proxypb.Error{Code: 1000, Message: "no"}}},
		{"publish deny temporary", p.DenyTemporary(1000, "later"), &proxypb.MapPublishResponse{Error: &proxypb.Error{Code: 1000, Message: "later", Temporary: true}}},
		{"publish disconnect", p.Disconnect(4500, "bye"), &proxypb.MapPublishResponse{Disconnect: &proxypb.Disconnect{Code: 4500, Reason: "bye"}}},
		{"remove allow", r.Allow(), &proxypb.MapRemoveResponse{Result: &proxypb.MapRemoveResult{}}},
		{"remove respond", r.Respond(&proxypb.MapRemoveResult{Key: "k"}), &proxypb.MapRemoveResponse{Result: &proxypb.MapRemoveResult{Key: "k"}}},
		{"remove deny", r.Deny(1000, "no"), &proxypb.MapRemoveResponse{Error: &proxypb.Error{Code: 1000, Message: "no"}}},
		{"remove deny temporary", r.DenyTemporary(1000, "later"), &proxypb.MapRemoveResponse{Error: &proxypb.Error{Code: 1000, Message: "later", Temporary: true}}},
		{"remove disconnect", r.Disconnect(4500, "bye"), &proxypb.MapRemoveResponse{Disconnect: &proxypb.Disconnect{Code: 4500, Reason: "bye"}}},
		{"generic deny", Deny(r, 1000, "no"), &proxypb.MapRemoveResponse{Error: &proxypb.Error{Code: 1000, Message: "no"}}},
	}
	for _, tt := range tests {
		if !proto.Equal(tt.got, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, tt.got, tt.want)
		}
	}
	if p.Type() != TypeMapPublish || r.Type() != TypeMapRemove || p.Proto() == nil || r.Proto() == nil {
		t.Fatalf("wrapped requests: %v %v", p.Type(), r.Type())
	}
}
