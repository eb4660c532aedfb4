package apiclient

import (
	"context"
	"fmt"

	"github.com/spindle-rt/spindle/proto/apipb"
)

// Client is the OSS server API. Every method returns the result on
// success, an *Error when the server answered with an API error, or a
// wrapped transport error otherwise.
type Client interface {
	Publish(ctx context.Context, req *apipb.PublishRequest) (*apipb.PublishResult, error)
	Broadcast(ctx context.Context, req *apipb.BroadcastRequest) (*apipb.BroadcastResult, error)
	Subscribe(ctx context.Context, req *apipb.SubscribeRequest) (*apipb.SubscribeResult, error)
	Unsubscribe(ctx context.Context, req *apipb.UnsubscribeRequest) (*apipb.UnsubscribeResult, error)
	Disconnect(ctx context.Context, req *apipb.DisconnectRequest) (*apipb.DisconnectResult, error)
	Presence(ctx context.Context, req *apipb.PresenceRequest) (*apipb.PresenceResult, error)
	PresenceStats(ctx context.Context, req *apipb.PresenceStatsRequest) (*apipb.PresenceStatsResult, error)
	History(ctx context.Context, req *apipb.HistoryRequest) (*apipb.HistoryResult, error)
	HistoryRemove(ctx context.Context, req *apipb.HistoryRemoveRequest) (*apipb.HistoryRemoveResult, error)
	Info(ctx context.Context, req *apipb.InfoRequest) (*apipb.InfoResult, error)
	RPC(ctx context.Context, req *apipb.RPCRequest) (*apipb.RPCResult, error)
	Refresh(ctx context.Context, req *apipb.RefreshRequest) (*apipb.RefreshResult, error)
	Channels(ctx context.Context, req *apipb.ChannelsRequest) (*apipb.ChannelsResult, error)

	// Map channels (Centrifugo v6.8+; Spindle namespaces with
	// subscription_type map, map_clients or map_users).
	MapPublish(ctx context.Context, req *apipb.MapPublishRequest) (*apipb.MapPublishResult, error)
	MapRemove(ctx context.Context, req *apipb.MapRemoveRequest) (*apipb.MapRemoveResult, error)
	MapReadState(ctx context.Context, req *apipb.MapReadStateRequest) (*apipb.MapReadStateResult, error)
	MapReadStream(ctx context.Context, req *apipb.MapReadStreamRequest) (*apipb.MapReadStreamResult, error)
	MapStats(ctx context.Context, req *apipb.MapStatsRequest) (*apipb.MapStatsResult, error)
	MapClear(ctx context.Context, req *apipb.MapClearRequest) (*apipb.MapClearResult, error)

	// SharedPollPublish pushes a new version of a shared-poll item to its
	// trackers on every node (versioned namespaces with publish_enabled).
	SharedPollPublish(ctx context.Context, req *apipb.SharedPollPublishRequest) (*apipb.SharedPollPublishResult, error)

	// Batch returns the replies as sent: per-command errors are in
	// each reply, not in the returned error.
	Batch(ctx context.Context, req *apipb.BatchRequest) (*apipb.BatchResponse, error)
}

// Error is an error the server API reported (code 100–113, or an
// application code passed through). Use errors.As to tell it from a
// network failure: an Error means the server did receive the call.
type Error struct {
	Code    uint32
	Message string
}

func (e *Error) Error() string { return fmt.Sprintf("server API error %d: %s", e.Code, e.Message) }

// result converts a response's (result, error) pair into Go's convention.
// A success without a result (the server omitted an empty one) yields a
// fresh empty result so callers never get (nil, nil).
func result[R any](res *R, e *apipb.Error) (*R, error) {
	if e != nil {
		return nil, &Error{Code: e.GetCode(), Message: e.GetMessage()}
	}
	if res == nil {
		res = new(R)
	}
	return res, nil
}
