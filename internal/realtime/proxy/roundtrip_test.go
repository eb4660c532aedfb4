package proxy

import (
	"context"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/spindle-rt/spindle/proto/proxypb"
)

// roundTrips covers the nine unary methods; the fake app derives each answer
// from the request, so equality proves both directions of the codec.
var roundTrips = []struct {
	name string
	call func(ctx context.Context, b *Client) (proto.Message, error)
	want proto.Message
}{
	{
		name: "connect",
		call: func(ctx context.Context, b *Client) (proto.Message, error) {
			return b.Connect(ctx, &proxypb.ConnectRequest{Client: "c1", Transport: "websocket", Protocol: "json", Encoding: "json",
				Data: []byte(`{"x":1}`), Channels: []string{"a", "b"}})
		},
		want: &proxypb.ConnectResponse{Result: &proxypb.ConnectResult{User: "u-c1", Data: []byte(`{"x":1}`), Channels: []string{"a", "b"}}},
	},
	{
		name: "refresh",
		call: func(ctx context.Context, b *Client) (proto.Message, error) {
			return b.Refresh(ctx, &proxypb.RefreshRequest{Client: "c1", User: "42"})
		},
		want: &proxypb.RefreshResponse{Result: &proxypb.RefreshResult{ExpireAt: 1700000000, Info: []byte(`{"user":"42"}`)}},
	},
	{
		name: "subscribe",
		call: func(ctx context.Context, b *Client) (proto.Message, error) {
			return b.Subscribe(ctx, &proxypb.SubscribeRequest{Client: "c1", Channel: "news"})
		},
		want: &proxypb.SubscribeResponse{Result: &proxypb.SubscribeResult{Info: []byte(`"news"`)}},
	},
	{
		name: "publish",
		call: func(ctx context.Context, b *Client) (proto.Message, error) {
			return b.Publish(ctx, &proxypb.PublishRequest{Client: "c1", Channel: "news", Data: []byte(`{"text":"hi"}`)})
		},
		want: &proxypb.PublishResponse{Result: &proxypb.PublishResult{Data: []byte(`{"text":"hi"}`), SkipHistory: true}},
	},
	{
		name: "rpc",
		call: func(ctx context.Context, b *Client) (proto.Message, error) {
			return b.RPC(ctx, &proxypb.RPCRequest{Client: "c1", Method: "ns:get"})
		},
		want: &proxypb.RPCResponse{Error: &proxypb.Error{Code: 1000, Message: "ns:get", Temporary: true}},
	},
	{
		name: "sub_refresh",
		call: func(ctx context.Context, b *Client) (proto.Message, error) {
			return b.SubRefresh(ctx, &proxypb.SubRefreshRequest{Client: "c1", Channel: "news"})
		},
		want: &proxypb.SubRefreshResponse{Disconnect: &proxypb.Disconnect{Code: 4501, Reason: "news"}},
	},
	{
		name: "map_publish",
		call: func(ctx context.Context, b *Client) (proto.Message, error) {
			return b.MapPublish(ctx, &proxypb.MapPublishRequest{Client: "c1", User: "42", Channel: "seats", Key: "a1", Data: []byte(`{"by":"42"}`)})
		},
		want: &proxypb.MapPublishResponse{Result: &proxypb.MapPublishResult{
			Key: "a1-ok", Data: []byte(`{"by":"42"}`), Tags: map[string]string{"user": "42"}, KeyMode: "if_new", Version: 3,
		}},
	},
	{
		name: "map_remove",
		call: func(ctx context.Context, b *Client) (proto.Message, error) {
			return b.MapRemove(ctx, &proxypb.MapRemoveRequest{Client: "c1", Channel: "seats", Key: "a1"})
		},
		want: &proxypb.MapRemoveResponse{Result: &proxypb.MapRemoveResult{
			Key: "a1", Tags: map[string]string{"channel": "seats"}, IdempotencyKey: "c1",
		}},
	},
	{
		name: "shared_poll_refresh",
		call: func(ctx context.Context, b *Client) (proto.Message, error) {
			return b.SharedPollRefresh(ctx, &proxypb.SharedPollRefreshRequest{Channel: "poll:x", Items: []*proxypb.SharedPollRefreshItem{
				{Key: "k1", Version: 3}, {Key: "k2"}, {Key: "gone-k3", Version: 7},
			}})
		},
		want: &proxypb.SharedPollRefreshResponse{Result: &proxypb.SharedPollRefreshResult{Epoch: "e-poll:x", Items: []*proxypb.SharedPollRefreshResultItem{
			{Key: "k1", Data: []byte(`{"key":"k1","was":3}`), Version: 4, PrevData: []byte(`{"was":3}`)},
			{Key: "k2", Data: []byte(`{"key":"k2","was":0}`), Version: 1, PrevData: []byte(`{"was":0}`)},
			{Key: "gone-k3", Removed: true},
		}}},
	},
}

func TestRoundTrip(t *testing.T) {
	grpcAddr, _ := startGRPC(t, &fakeApp{})
	httpURL, _ := startHTTP(t, &fakeApp{}, nil)
	set := NewSet(Options{})
	t.Cleanup(func() { _ = set.Close() })

	for _, p := range []struct {
		name     string
		endpoint func(event string) string
	}{
		{"grpc", func(string) string { return "grpc://" + grpcAddr }},
		{"grpc-bare", func(string) string { return grpcAddr }},
		{"http", func(ev string) string { return httpURL + "/" + ev }},
	} {
		for _, tc := range roundTrips {
			t.Run(p.name+"/"+tc.name, func(t *testing.T) {
				b, err := set.Get(&Config{Name: tc.name, Endpoint: p.endpoint(tc.name), Timeout: 5 * time.Second})
				if err != nil {
					t.Fatal(err)
				}
				got, err := tc.call(context.Background(), b)
				if err != nil {
					t.Fatal(err)
				}
				if !proto.Equal(got, tc.want) {
					t.Fatalf("got %v, want %v", got, tc.want)
				}
			})
		}
	}
}

func TestNilRequest(t *testing.T) {
	httpURL, rec := startHTTP(t, &fakeApp{}, nil)
	b, err := New(&Config{Endpoint: httpURL + "/connect"}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Connect(context.Background(), nil); err == nil {
		t.Fatal("nil request: want error")
	}
	if _, _, body, _ := rec.last(); body != nil {
		t.Fatalf("nil request reached the backend: %q", body)
	}
}
