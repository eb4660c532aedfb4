package workerrpc

import (
	"context"
	"errors"
	"fmt"

	"google.golang.org/protobuf/proto"

	"github.com/spindle-rt/spindle/apiclient"
	"github.com/spindle-rt/spindle/proto/apipb"
)

// handler answers one call: it decodes body in the call's codec and
// returns the encoded reply. A returned error becomes an ERROR frame.
type handler func(ctx context.Context, s *Server, codec byte, body []byte) ([]byte, error)

// ServiceName is the RPC service the server API methods are registered
// under, and the plugin name informer and resetter know — RoadRunner's.
const ServiceName = "centrifuge"

var errNoAPI = errors.New("the server API client is not configured (centrifuge.grpc_api_address)")

// forward makes a centrifuge.X handler: decode XRequest, call the API with
// a deadline, answer XResponse. An API-level error is put in the
// response, as RoadRunner does; a transport error is an ERROR frame.
func forward[Q any, PQ interface {
	*Q
	proto.Message
}, R any](call func(apiclient.Client, context.Context, PQ) (R, error), wrap func(R, *apipb.Error) proto.Message) handler {
	return func(ctx context.Context, s *Server, codec byte, body []byte) ([]byte, error) {
		req := PQ(new(Q))
		if err := decodeMessage(codec, body, req); err != nil {
			return nil, err
		}
		if s.api == nil {
			return nil, errNoAPI
		}
		ctx, cancel := context.WithTimeout(ctx, s.apiTimeout)
		defer cancel()
		res, err := call(s.api, ctx, req)
		var apiErr *apiclient.Error
		switch {
		case errors.As(err, &apiErr):
			var zero R
			return encodeMessage(codec, wrap(zero, &apipb.Error{Code: apiErr.Code, Message: apiErr.Message}))
		case err != nil:
			return nil, err
		}
		return encodeMessage(codec, wrap(res, nil))
	}
}

// apiMethods are the centrifuge.* methods backed by the server API.
var apiMethods = map[string]handler{
	"Publish": forward(apiclient.Client.Publish, func(r *apipb.PublishResult, e *apipb.Error) proto.Message {
		return &apipb.PublishResponse{Result: r, Error: e}
	}),
	"Broadcast": forward(apiclient.Client.Broadcast, func(r *apipb.BroadcastResult, e *apipb.Error) proto.Message {
		return &apipb.BroadcastResponse{Result: r, Error: e}
	}),
	"Subscribe": forward(apiclient.Client.Subscribe, func(r *apipb.SubscribeResult, e *apipb.Error) proto.Message {
		return &apipb.SubscribeResponse{Result: r, Error: e}
	}),
	"Unsubscribe": forward(apiclient.Client.Unsubscribe, func(r *apipb.UnsubscribeResult, e *apipb.Error) proto.Message {
		return &apipb.UnsubscribeResponse{Result: r, Error: e}
	}),
	"Disconnect": forward(apiclient.Client.Disconnect, func(r *apipb.DisconnectResult, e *apipb.Error) proto.Message {
		return &apipb.DisconnectResponse{Result: r, Error: e}
	}),
	"Presence": forward(apiclient.Client.Presence, func(r *apipb.PresenceResult, e *apipb.Error) proto.Message {
		return &apipb.PresenceResponse{Result: r, Error: e}
	}),
	"PresenceStats": forward(apiclient.Client.PresenceStats, func(r *apipb.PresenceStatsResult, e *apipb.Error) proto.Message {
		return &apipb.PresenceStatsResponse{Result: r, Error: e}
	}),
	"History": forward(apiclient.Client.History, func(r *apipb.HistoryResult, e *apipb.Error) proto.Message {
		return &apipb.HistoryResponse{Result: r, Error: e}
	}),
	"HistoryRemove": forward(apiclient.Client.HistoryRemove, func(r *apipb.HistoryRemoveResult, e *apipb.Error) proto.Message {
		return &apipb.HistoryRemoveResponse{Result: r, Error: e}
	}),
	"Info": forward(apiclient.Client.Info, func(r *apipb.InfoResult, e *apipb.Error) proto.Message {
		return &apipb.InfoResponse{Result: r, Error: e}
	}),
	"RPC": forward(apiclient.Client.RPC, func(r *apipb.RPCResult, e *apipb.Error) proto.Message {
		return &apipb.RPCResponse{Result: r, Error: e}
	}),
	"Refresh": forward(apiclient.Client.Refresh, func(r *apipb.RefreshResult, e *apipb.Error) proto.Message {
		return &apipb.RefreshResponse{Result: r, Error: e}
	}),
	"Channels": forward(apiclient.Client.Channels, func(r *apipb.ChannelsResult, e *apipb.Error) proto.Message {
		return &apipb.ChannelsResponse{Result: r, Error: e}
	}),
	// Batch carries per-command errors in its replies; the client reports
	// no API-level error for the batch as a whole.
	"Batch": forward(apiclient.Client.Batch, func(r *apipb.BatchResponse, _ *apipb.Error) proto.Message {
		if r == nil {
			return &apipb.BatchResponse{}
		}
		return r
	}),
}

// proMethods are centrifuge.* methods RoadRunner registers that only
// Centrifugo PRO implements; they are answered with a clear error rather
// than "can't find method".
var proMethods = map[string]bool{
	"Connections": true, "UpdateUserStatus": true, "GetUserStatus": true, "DeleteUserStatus": true,
	"BlockUser": true, "UnblockUser": true, "RevokeToken": true, "InvalidateUserTokens": true,
	"DeviceRegister": true, "DeviceUpdate": true, "DeviceRemove": true, "DeviceList": true,
	"DeviceTopicList": true, "DeviceTopicUpdate": true, "UserTopicList": true, "UserTopicUpdate": true,
	"SendPushNotification": true, "UpdatePushStatus": true, "CancelPush": true,
}

func proMethod(name string) handler {
	return func(context.Context, *Server, byte, []byte) ([]byte, error) {
		return nil, fmt.Errorf("%s.%s is a Centrifugo PRO method, which the real-time server does not offer", ServiceName, name)
	}
}
