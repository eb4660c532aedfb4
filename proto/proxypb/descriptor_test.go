package proxypb

import (
	"testing"

	"google.golang.org/protobuf/reflect/protoreflect"
)

// These tests pin the parts of the schema that must match Centrifugo for
// gRPC and binary interop, so an edit of proxy.proto cannot drift silently.

func TestServiceMatchesCentrifugo(t *testing.T) {
	sd := File_proxy_proto.Services().ByName("CentrifugoProxy")
	if sd == nil || sd.FullName() != "centrifugal.centrifugo.proxy.CentrifugoProxy" {
		t.Fatalf("service = %v", sd)
	}
	want := []string{"Connect", "Refresh", "Subscribe", "Publish", "RPC", "SubRefresh",
		"SubscribeUnidirectional", "SubscribeBidirectional", "NotifyCacheEmpty",
		"NotifyChannelState", "MapPublish", "MapRemove", "SharedPollRefresh"}
	if sd.Methods().Len() != len(want) {
		t.Fatalf("%d methods, want %d", sd.Methods().Len(), len(want))
	}
	for i, name := range want {
		if got := sd.Methods().Get(i).Name(); string(got) != name {
			t.Errorf("method %d = %s, want %s", i, got, name)
		}
	}
	uni := sd.Methods().ByName("SubscribeUnidirectional")
	bidi := sd.Methods().ByName("SubscribeBidirectional")
	if uni.IsStreamingClient() || !uni.IsStreamingServer() || !bidi.IsStreamingClient() || !bidi.IsStreamingServer() {
		t.Error("stream kinds differ from the spec")
	}
}

func TestFieldNumbers(t *testing.T) {
	tests := []struct {
		msg    protoreflect.ProtoMessage
		fields map[string]protoreflect.FieldNumber
	}{
		{&ConnectRequest{}, map[string]protoreflect.FieldNumber{"client": 1, "transport": 2, "protocol": 3, "encoding": 4, "data": 10, "b64data": 11, "name": 12, "version": 13, "channels": 14}},
		{&ConnectResult{}, map[string]protoreflect.FieldNumber{"user": 1, "expire_at": 2, "info": 3, "b64info": 4, "data": 5, "b64data": 6, "channels": 7, "subs": 8, "meta": 9, "caps": 10, "labels": 11}},
		{&ConnectResponse{}, map[string]protoreflect.FieldNumber{"result": 1, "error": 2, "disconnect": 3}},
		{&Disconnect{}, map[string]protoreflect.FieldNumber{"code": 1, "reason": 2, "reconnect": 3}},
		{&SubscribeRequest{}, map[string]protoreflect.FieldNumber{"user": 10, "channel": 11, "token": 12, "meta": 13, "data": 14, "b64data": 15, "labels": 16}},
		{&SubscribeResult{}, map[string]protoreflect.FieldNumber{"override": 6, "allow": 7, "server_tags_filter": 8}},
		{&PublishResult{}, map[string]protoreflect.FieldNumber{"skip_history": 3, "tags": 4, "version": 7, "version_epoch": 8}},
		{&SubRefreshRequest{}, map[string]protoreflect.FieldNumber{"user": 10, "channel": 11, "meta": 12, "labels": 13}},
		{&Publication{}, map[string]protoreflect.FieldNumber{"data": 4, "tags": 7}},
		{&NotifyCacheEmptyResponse{}, map[string]protoreflect.FieldNumber{"result": 1}},
		{&MapPublishResult{}, map[string]protoreflect.FieldNumber{"score": 5, "version_epoch": 12}},
		{&SharedPollRefreshResultItem{}, map[string]protoreflect.FieldNumber{"removed": 4, "prev_data": 5}},
	}
	for _, tt := range tests {
		md := tt.msg.ProtoReflect().Descriptor()
		for name, num := range tt.fields {
			fd := md.Fields().ByName(protoreflect.Name(name))
			if fd == nil || fd.Number() != num {
				t.Errorf("%s.%s: got %v, want number %d", md.Name(), name, fd, num)
			}
		}
	}
}

// TestSharedPollRefreshResponseHasNoDisconnect pins the reason reply.go's
// GetDisconnect answers nil: the message has no field to hold one.
func TestSharedPollRefreshResponseHasNoDisconnect(t *testing.T) {
	md := (&SharedPollRefreshResponse{}).ProtoReflect().Descriptor()
	if fd := md.Fields().ByName("disconnect"); fd != nil {
		t.Fatalf("SharedPollRefreshResponse has a disconnect field (%d): return it from GetDisconnect", fd.Number())
	}
	if md.Fields().Len() != 2 || md.Fields().ByName("result").Number() != 1 || md.Fields().ByName("error").Number() != 2 {
		t.Fatalf("SharedPollRefreshResponse fields differ from result = 1, error = 2")
	}
	if (&SharedPollRefreshResponse{Error: &Error{Code: 1}}).GetDisconnect() != nil {
		t.Fatal("GetDisconnect is not nil")
	}
}
