package apipb

import (
	"testing"

	"google.golang.org/protobuf/reflect/protoreflect"
)

// These tests pin the parts of the schema that must match Centrifugo for
// gRPC and binary interop, so an edit of api.proto cannot drift silently.

var commandFields = []string{
	"publish", "broadcast", "subscribe", "unsubscribe", "disconnect", "presence",
	"presence_stats", "history", "history_remove", "info", "rpc", "refresh",
	"channels", "connections", "update_user_status", "get_user_status",
	"delete_user_status", "block_user", "unblock_user", "revoke_token",
	"invalidate_user_tokens", "device_register", "device_update", "device_remove",
	"device_list", "device_topic_list", "device_topic_update", "user_topic_list",
	"user_topic_update", "send_push_notification", "update_push_status",
	"cancel_push", "map_publish", "map_remove", "map_read_state",
	"map_read_stream", "map_stats", "map_clear", "shared_poll_publish",
}

func TestServiceMatchesCentrifugo(t *testing.T) {
	sd := File_api_proto.Services().ByName("CentrifugoApi")
	if sd == nil || sd.FullName() != "centrifugal.centrifugo.api.CentrifugoApi" {
		t.Fatalf("service = %v", sd)
	}
	if sd.Methods().Len() != 1+len(commandFields) {
		t.Fatalf("%d methods, want %d", sd.Methods().Len(), 1+len(commandFields))
	}
	// Every command has a unary method XxxRequest -> XxxResponse.
	for i := 0; i < sd.Methods().Len(); i++ {
		m := sd.Methods().Get(i)
		if m.IsStreamingClient() || m.IsStreamingServer() {
			t.Errorf("%s streams", m.Name())
		}
		if string(m.Input().Name()) != string(m.Name())+"Request" || string(m.Output().Name()) != string(m.Name())+"Response" {
			t.Errorf("%s: %s -> %s", m.Name(), m.Input().Name(), m.Output().Name())
		}
		resp := m.Output().Fields()
		if m.Name() == "Batch" {
			continue
		}
		if e, r := resp.ByName("error"), resp.ByName("result"); e == nil || e.Number() != 1 || r == nil || r.Number() != 2 {
			t.Errorf("%s: want error=1, result=2", m.Output().Name())
		}
	}
}

func TestCommandAndReplyNumbers(t *testing.T) {
	cmd := (&Command{}).ProtoReflect().Descriptor().Fields()
	reply := (&Reply{}).ProtoReflect().Descriptor().Fields()
	for i, name := range commandFields {
		num := protoreflect.FieldNumber(i + 4)
		if fd := cmd.ByName(protoreflect.Name(name)); fd == nil || fd.Number() != num {
			t.Errorf("Command.%s: got %v, want %d", name, fd, num)
		}
		if fd := reply.ByName(protoreflect.Name(name)); fd == nil || fd.Number() != num {
			t.Errorf("Reply.%s: got %v, want %d", name, fd, num)
		}
	}
	legacy := map[string]protoreflect.FieldNumber{"id": 1, "method": 2, "params": 3}
	for name, num := range legacy {
		if fd := cmd.ByName(protoreflect.Name(name)); fd == nil || fd.Number() != num {
			t.Errorf("Command.%s: got %v", name, fd)
		}
	}
	if fd := reply.ByName("result"); fd == nil || fd.Number() != 3 || fd.Kind() != protoreflect.BytesKind {
		t.Errorf("Reply.result: got %v", fd)
	}
	if Command_REFRESH != 12 || Command_CONNECTIONS != 14 || Command_CANCEL_PUSH != 32 {
		t.Error("MethodType numbers differ from the spec")
	}
}

func TestMessageFieldNumbers(t *testing.T) {
	tests := []struct {
		msg    protoreflect.ProtoMessage
		fields map[string]protoreflect.FieldNumber
	}{
		{&PublishRequest{}, map[string]protoreflect.FieldNumber{"channel": 1, "data": 2, "b64data": 3, "skip_history": 4, "tags": 5, "idempotency_key": 6, "delta": 7, "version": 8, "version_epoch": 9}},
		{&SubscribeRequest{}, map[string]protoreflect.FieldNumber{"recover_since": 9, "override": 10, "session": 11}},
		{&DisconnectRequest{}, map[string]protoreflect.FieldNumber{"user": 1, "disconnect": 2, "client": 3, "whitelist": 4, "session": 5}},
		{&HistoryRequest{}, map[string]protoreflect.FieldNumber{"channel": 1, "limit": 2, "since": 3, "reverse": 4}},
		{&Publication{}, map[string]protoreflect.FieldNumber{"data": 2, "info": 3, "offset": 4, "tags": 5}},
		{&NodeResult{}, map[string]protoreflect.FieldNumber{"uptime": 7, "metrics": 8, "process": 9, "num_subs": 10}},
		{&RefreshRequest{}, map[string]protoreflect.FieldNumber{"expired": 3, "expire_at": 4, "info": 5, "session": 6}},
		{&ConnectionInfo{}, map[string]protoreflect.FieldNumber{"app_name": 1, "protocol": 4, "user": 8, "state": 9}},
		{&BatchRequest{}, map[string]protoreflect.FieldNumber{"commands": 1, "parallel": 2}},
		{&MapPublishRequest{}, map[string]protoreflect.FieldNumber{"channel": 1, "key": 2, "data": 3, "b64data": 4, "stream_data": 5, "b64stream_data": 6, "tags": 7, "idempotency_key": 8, "delta": 9, "version": 10, "version_epoch": 11, "score": 12, "key_mode": 13}},
		{&MapPublishResult{}, map[string]protoreflect.FieldNumber{"offset": 1, "epoch": 2, "suppressed": 3, "suppress_reason": 4}},
		{&MapRemoveRequest{}, map[string]protoreflect.FieldNumber{"channel": 1, "key": 2, "idempotency_key": 3}},
		{&MapRemoveResult{}, map[string]protoreflect.FieldNumber{"offset": 1, "epoch": 2, "suppressed": 3, "suppress_reason": 4}},
		{&MapReadStateRequest{}, map[string]protoreflect.FieldNumber{"channel": 1, "cursor": 2, "limit": 3, "key": 4, "asc": 5, "revision_offset": 6, "revision_epoch": 7}},
		{&MapReadStateResult{}, map[string]protoreflect.FieldNumber{"entries": 1, "offset": 2, "epoch": 3, "cursor": 4}},
		{&MapReadStreamRequest{}, map[string]protoreflect.FieldNumber{"channel": 1, "since_offset": 2, "since_epoch": 3, "limit": 4, "reverse": 5}},
		{&MapReadStreamResult{}, map[string]protoreflect.FieldNumber{"entries": 1, "offset": 2, "epoch": 3}},
		{&MapEntry{}, map[string]protoreflect.FieldNumber{"key": 1, "data": 2, "tags": 3, "offset": 4, "score": 5, "removed": 6, "time": 7}},
		{&MapStatsRequest{}, map[string]protoreflect.FieldNumber{"channel": 1}},
		{&MapStatsResult{}, map[string]protoreflect.FieldNumber{"num_keys": 1}},
		{&MapClearRequest{}, map[string]protoreflect.FieldNumber{"channel": 1}},
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
