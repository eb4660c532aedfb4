package api

import (
	"context"

	"google.golang.org/protobuf/proto"

	"github.com/spindle-rt/spindle/proto/apipb"
)

// errorOf returns the top-level error of a response (batch has none).
func errorOf(resp proto.Message) *apipb.Error {
	if r, ok := resp.(interface{ GetError() *apipb.Error }); ok {
		return r.GetError()
	}
	return nil
}

// method is one OSS API method as the JSON transports see it: a request
// message to decode into and a way to run it.
type method struct {
	newRequest func() proto.Message
	// run returns nil only if req is not from newRequest.
	run func(e *Executor, ctx context.Context, req proto.Message) proto.Message
	// transportErrors says whether transport error mode applies; batch
	// carries per-command errors, so it has no single status to give.
	transportErrors bool
}

func def[Req, Resp proto.Message](newReq func() Req, run func(*Executor, context.Context, Req) Resp) method {
	return method{
		newRequest: func() proto.Message { return newReq() },
		run: func(e *Executor, ctx context.Context, req proto.Message) proto.Message {
			r, ok := req.(Req)
			if !ok {
				return nil
			}
			return run(e, ctx, r)
		},
		transportErrors: true,
	}
}

// methods maps the HTTP path element and legacy method name to each method
// OSS Centrifugo implements. Anything else (PRO, shared_poll_publish) is
// 104.
var methods = map[string]method{
	"batch":          batchMethod(),
	"publish":        def(func() *apipb.PublishRequest { return new(apipb.PublishRequest) }, (*Executor).Publish),
	"broadcast":      def(func() *apipb.BroadcastRequest { return new(apipb.BroadcastRequest) }, (*Executor).Broadcast),
	"subscribe":      def(func() *apipb.SubscribeRequest { return new(apipb.SubscribeRequest) }, (*Executor).Subscribe),
	"unsubscribe":    def(func() *apipb.UnsubscribeRequest { return new(apipb.UnsubscribeRequest) }, (*Executor).Unsubscribe),
	"disconnect":     def(func() *apipb.DisconnectRequest { return new(apipb.DisconnectRequest) }, (*Executor).Disconnect),
	"presence":       def(func() *apipb.PresenceRequest { return new(apipb.PresenceRequest) }, (*Executor).Presence),
	"presence_stats": def(func() *apipb.PresenceStatsRequest { return new(apipb.PresenceStatsRequest) }, (*Executor).PresenceStats),
	"history":        def(func() *apipb.HistoryRequest { return new(apipb.HistoryRequest) }, (*Executor).History),
	"history_remove": def(func() *apipb.HistoryRemoveRequest { return new(apipb.HistoryRemoveRequest) }, (*Executor).HistoryRemove),
	"info":           def(func() *apipb.InfoRequest { return new(apipb.InfoRequest) }, (*Executor).Info),
	"rpc":            def(func() *apipb.RPCRequest { return new(apipb.RPCRequest) }, (*Executor).RPC),
	"refresh":        def(func() *apipb.RefreshRequest { return new(apipb.RefreshRequest) }, (*Executor).Refresh),
	"channels":       def(func() *apipb.ChannelsRequest { return new(apipb.ChannelsRequest) }, (*Executor).Channels),
	// v6.8 map channels. The legacy endpoint cannot reach them: its
	// MethodType enum stops at Centrifugo's last v5 method, as
	// Centrifugo's does, so "map_publish" there is an unknown method.
	"map_publish":     def(func() *apipb.MapPublishRequest { return new(apipb.MapPublishRequest) }, (*Executor).MapPublish),
	"map_remove":      def(func() *apipb.MapRemoveRequest { return new(apipb.MapRemoveRequest) }, (*Executor).MapRemove),
	"map_read_state":  def(func() *apipb.MapReadStateRequest { return new(apipb.MapReadStateRequest) }, (*Executor).MapReadState),
	"map_read_stream": def(func() *apipb.MapReadStreamRequest { return new(apipb.MapReadStreamRequest) }, (*Executor).MapReadStream),
	"map_stats":       def(func() *apipb.MapStatsRequest { return new(apipb.MapStatsRequest) }, (*Executor).MapStats),
	"map_clear":       def(func() *apipb.MapClearRequest { return new(apipb.MapClearRequest) }, (*Executor).MapClear),
	// v6.8 shared poll.
	"shared_poll_publish": def(func() *apipb.SharedPollPublishRequest { return new(apipb.SharedPollPublishRequest) }, (*Executor).SharedPollPublish),
}

func batchMethod() method {
	m := def(func() *apipb.BatchRequest { return new(apipb.BatchRequest) }, (*Executor).Batch)
	m.transportErrors = false
	return m
}

// resultOf returns the result message of a response, or nil when it has
// none, for the legacy endpoint which sends results as raw JSON.
func resultOf(resp proto.Message) proto.Message {
	m := resp.ProtoReflect()
	fd := m.Descriptor().Fields().ByName("result")
	if fd == nil || !m.Has(fd) {
		return nil
	}
	return m.Get(fd).Message().Interface()
}
