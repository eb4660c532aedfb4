package app

import (
	"context"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/spindle-rt/spindle/proto/proxypb"
)

func TestGRPCEveryEvent(t *testing.T) {
	a, _ := fullApp(Options{})
	c := grpcClient(t, serveTCP(t, a))
	ctx := metadata.AppendToOutgoingContext(ctxTimeout(t, 5*time.Second), "authorization", "Bearer tok")

	tests := []struct {
		name string
		call func() (proto.Message, error)
		want proto.Message
	}{
		{"connect allowed", func() (proto.Message, error) {
			return c.Connect(ctx, &proxypb.ConnectRequest{Client: "c1", Transport: "websocket", Protocol: "json", Encoding: "json", Data: []byte(`{"x":1}`), Channels: []string{"news"}})
		}, &proxypb.ConnectResponse{Result: &proxypb.ConnectResult{User: "56", Data: []byte(`{"x":1}`), Channels: []string{"news"}}}},
		{"connect disconnected", func() (proto.Message, error) {
			return c.Connect(ctx, &proxypb.ConnectRequest{Client: "c1", Name: "deny"})
		}, &proxypb.ConnectResponse{Disconnect: &proxypb.Disconnect{Code: 4501, Reason: "unauthorized"}}},
		{"refresh extended", func() (proto.Message, error) {
			return c.Refresh(ctx, &proxypb.RefreshRequest{Client: "c1", User: "56"})
		}, &proxypb.RefreshResponse{Result: &proxypb.RefreshResult{ExpireAt: 1700000000}}},
		{"refresh expired", func() (proto.Message, error) {
			return c.Refresh(ctx, &proxypb.RefreshRequest{Client: "c1"})
		}, &proxypb.RefreshResponse{Result: &proxypb.RefreshResult{Expired: true}}},
		{"subscribe allowed", func() (proto.Message, error) {
			return c.Subscribe(ctx, &proxypb.SubscribeRequest{Client: "c1", User: "56", Channel: "news"})
		}, &proxypb.SubscribeResponse{Result: &proxypb.SubscribeResult{Info: []byte(`{"user":"56"}`)}}},
		{"subscribe denied", func() (proto.Message, error) {
			return c.Subscribe(ctx, &proxypb.SubscribeRequest{Client: "c1", User: "56", Channel: "private:x"})
		}, &proxypb.SubscribeResponse{Error: &proxypb.Error{Code: 403, Message: "permission denied"}}},
		{"publish rewritten", func() (proto.Message, error) {
			return c.Publish(ctx, &proxypb.PublishRequest{Client: "c1", User: "56", Channel: "chat", Data: []byte(`{"t":"hi"}`)})
		}, &proxypb.PublishResponse{Result: &proxypb.PublishResult{Data: []byte(`{"wrapped":{"t":"hi"}}`)}}},
		{"publish as is", func() (proto.Message, error) {
			return c.Publish(ctx, &proxypb.PublishRequest{Client: "c1", Channel: "asis", Data: []byte(`1`)})
		}, &proxypb.PublishResponse{Result: &proxypb.PublishResult{}}},
		{"rpc echo", func() (proto.Message, error) {
			return c.RPC(ctx, &proxypb.RPCRequest{Client: "c1", User: "56", Method: "echo", Data: []byte(`[1,2]`)})
		}, &proxypb.RPCResponse{Result: &proxypb.RPCResult{Data: []byte(`[1,2]`)}}},
		{"rpc sees metadata", func() (proto.Message, error) {
			return c.RPC(ctx, &proxypb.RPCRequest{Client: "c1", User: "56", Method: "whoami"})
		}, &proxypb.RPCResponse{Result: &proxypb.RPCResult{Data: []byte(`{"user":"56","auth":"Bearer tok"}`)}}},
		{"rpc unknown method", func() (proto.Message, error) {
			return c.RPC(ctx, &proxypb.RPCRequest{Client: "c1", Method: "nope"})
		}, &proxypb.RPCResponse{Error: &proxypb.Error{Code: CodeMethodNotFound, Message: "method not found"}}},
		{"sub_refresh extended", func() (proto.Message, error) {
			return c.SubRefresh(ctx, &proxypb.SubRefreshRequest{Client: "c1", User: "56", Channel: "news"})
		}, &proxypb.SubRefreshResponse{Result: &proxypb.SubRefreshResult{ExpireAt: 1800000000}}},
		{"sub_refresh expired", func() (proto.Message, error) {
			return c.SubRefresh(ctx, &proxypb.SubRefreshRequest{Client: "c1", Channel: "gone"})
		}, &proxypb.SubRefreshResponse{Result: &proxypb.SubRefreshResult{Expired: true}}},
		{"map_publish rewritten", func() (proto.Message, error) {
			return c.MapPublish(ctx, &proxypb.MapPublishRequest{Client: "c1", User: "56", Channel: "seats:1", Key: "a1", Data: []byte(`{"n":1}`)})
		}, &proxypb.MapPublishResponse{Result: &proxypb.MapPublishResult{Data: []byte(`{"by":"56","was":{"n":1}}`), KeyMode: "if_new"}}},
		{"map_publish denied", func() (proto.Message, error) {
			return c.MapPublish(ctx, &proxypb.MapPublishRequest{Client: "c1", User: "56", Channel: "seats:1", Key: "taken-a2"})
		}, &proxypb.MapPublishResponse{Error: &proxypb.Error{Code: 1409, Message: "seat taken"}}},
		{"map_remove tagged", func() (proto.Message, error) {
			return c.MapRemove(ctx, &proxypb.MapRemoveRequest{Client: "c1", User: "56", Channel: "seats:1", Key: "a1"})
		}, &proxypb.MapRemoveResponse{Result: &proxypb.MapRemoveResult{Tags: map[string]string{"by": "56"}}}},
		{"map_remove disconnected", func() (proto.Message, error) {
			return c.MapRemove(ctx, &proxypb.MapRemoveRequest{Client: "c1", Channel: "seats:1", Key: "a1"})
		}, &proxypb.MapRemoveResponse{Disconnect: &proxypb.Disconnect{Code: 4503, Reason: "sign in"}}},
		{"shared_poll_refresh items, metadata seen", func() (proto.Message, error) {
			return c.SharedPollRefresh(ctx, &proxypb.SharedPollRefreshRequest{Channel: "poll:1", Items: []*proxypb.SharedPollRefreshItem{{Key: "k1", Version: 2}, {Key: "gone-k2"}}})
		}, &proxypb.SharedPollRefreshResponse{Result: &proxypb.SharedPollRefreshResult{Epoch: "e1", Items: []*proxypb.SharedPollRefreshResultItem{
			{Key: "k1", Data: []byte(`{"key":"k1","auth":"Bearer tok"}`), Version: 3},
			{Key: "gone-k2", Removed: true},
		}}}},
		{"shared_poll_refresh failed", func() (proto.Message, error) {
			return c.SharedPollRefresh(ctx, &proxypb.SharedPollRefreshRequest{Channel: "poll:down", Items: []*proxypb.SharedPollRefreshItem{{Key: "k1"}}})
		}, &proxypb.SharedPollRefreshResponse{Error: &proxypb.Error{Code: 1500, Message: "store down"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.call()
			if err != nil {
				t.Fatalf("call failed: %v", err)
			}
			if !proto.Equal(got, tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestGRPCStubsAreUnimplemented(t *testing.T) {
	a, _ := fullApp(Options{})
	c := grpcClient(t, serveTCP(t, a))
	ctx := ctxTimeout(t, 5*time.Second)

	checks := map[string]func() error{
		"SubscribeUnidirectional": func() error {
			s, err := c.SubscribeUnidirectional(ctx, &proxypb.SubscribeRequest{Channel: "x"})
			if err != nil {
				return err
			}
			_, err = s.Recv()
			return err
		},
		"SubscribeBidirectional": func() error {
			s, err := c.SubscribeBidirectional(ctx)
			if err != nil {
				return err
			}
			_, err = s.Recv()
			return err
		},
		"NotifyCacheEmpty": func() error {
			_, err := c.NotifyCacheEmpty(ctx, &proxypb.NotifyCacheEmptyRequest{Channel: "x"})
			return err
		},
		"NotifyChannelState": func() error {
			_, err := c.NotifyChannelState(ctx, &proxypb.NotifyChannelStateRequest{})
			return err
		},
	}
	for name, call := range checks {
		if code := status.Code(call()); code != codes.Unimplemented {
			t.Errorf("%s: code %v, want Unimplemented", name, code)
		}
	}
}

func TestGRPCDeadlineOverrun(t *testing.T) {
	a, lb := testApp(Options{})
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	a.HandleSubscribe(func(context.Context, *SubscribeRequest) (*proxypb.SubscribeResponse, error) {
		<-release // ignores its context on purpose
		return nil, nil
	})
	c := grpcClient(t, serveTCP(t, a))

	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err := c.Subscribe(ctx, &proxypb.SubscribeRequest{Client: "slow-client", Channel: "x"})
	if code := status.Code(err); code != codes.DeadlineExceeded {
		t.Fatalf("code %v (%v), want DeadlineExceeded", code, err)
	}
	if el := time.Since(start); el > 2*time.Second {
		t.Fatalf("call took %v", el)
	}
	lb.waitFor(t, "overran", "type=subscribe", "client=slow-client")
}
