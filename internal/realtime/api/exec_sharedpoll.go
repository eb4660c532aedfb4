package api

import (
	"context"

	"github.com/spindle-rt/spindle/proto/apipb"
)

// SharedPollPublish pushes a new version of one item of a shared_poll
// channel (a versioned namespace with publish_enabled; else 108) to every
// connection tracking it at an older version, on every node, without
// waiting for the next poll. The version must be > 0 and the data JSON
// (data, or b64data holding JSON): shared-poll items reach JSON clients
// as they are. An epoch other than the channel's is ignored by the nodes,
// as a version of another epoch says nothing about the current ones.
func (e *Executor) SharedPollPublish(ctx context.Context, req *apipb.SharedPollPublishRequest) *apipb.SharedPollPublishResponse {
	ch, key := req.GetChannel(), req.GetKey()
	if perr := badMapTarget(ch, key); perr != nil {
		return &apipb.SharedPollPublishResponse{Error: perr}
	}
	data, perr := optional(req.GetData(), req.GetB64Data())
	if perr != nil {
		return &apipb.SharedPollPublishResponse{Error: perr}
	}
	if req.GetVersion() == 0 {
		return &apipb.SharedPollPublishResponse{Error: apiError(CodeBadRequest, "bad request: version must be greater than 0")}
	}
	if err := e.node.SharedPollPublish(ctx, ch, key, data, req.GetVersion(), req.GetEpoch()); err != nil {
		return &apipb.SharedPollPublishResponse{Error: e.fail(ctx, "shared_poll_publish", err, "channel", ch)}
	}
	return &apipb.SharedPollPublishResponse{Result: &apipb.SharedPollPublishResult{}}
}
