package api

import (
	"context"
	"encoding/base64"

	"github.com/spindle-rt/spindle/internal/realtime/node"
	"github.com/spindle-rt/spindle/internal/realtime/protocol"
	"github.com/spindle-rt/spindle/proto/apipb"
)

// payload picks the publication data: b64 (the way to send non-JSON bytes,
// which only Protobuf subscribers can read) wins over the raw field, as in
// Centrifugo. Undecodable or empty data is a bad request, and so is a raw
// field that is not JSON: the HTTP API can only carry JSON there, but a
// gRPC caller can send any bytes, and a publication JSON subscribers cannot
// decode would close every one of them (3506) on delivery and again on
// every recovery from before it.
func payload(raw []byte, b64 string) ([]byte, *apipb.Error) {
	if b64 != "" {
		d, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			return nil, errBadRequest()
		}
		raw = d
	} else if err := rawJSON(raw); err != nil {
		return nil, err
	}
	if len(raw) == 0 {
		return nil, errBadRequest()
	}
	return raw, nil
}

// optional decodes an optional payload (subscribe info/data): absent is
// fine, bad base64 or a raw field that is not JSON is not.
func optional(raw []byte, b64 string) ([]byte, *apipb.Error) {
	if b64 == "" {
		return raw, rawJSON(raw)
	}
	d, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, errBadRequest()
	}
	return d, nil
}

// rawJSON refuses non-empty raw bytes that are not JSON, saying so.
func rawJSON(raw []byte) *apipb.Error {
	if len(raw) > 0 && !protocol.ValidJSONPayload(raw) {
		return apiError(CodeBadRequest, "bad request: data is not valid JSON (binary data goes in b64data)")
	}
	return nil
}

// Publish sends data into one channel; the result is the publication's
// place in history (zero when the namespace keeps none or skip_history is
// set).
func (e *Executor) Publish(ctx context.Context, req *apipb.PublishRequest) *apipb.PublishResponse {
	if req.GetChannel() == "" {
		return &apipb.PublishResponse{Error: errBadRequest()}
	}
	data, perr := payload(req.GetData(), req.GetB64Data())
	if perr != nil {
		return &apipb.PublishResponse{Error: perr}
	}
	return e.publish(ctx, "publish", req.GetChannel(), data, node.PublishOptions{
		SkipHistory:    req.GetSkipHistory(),
		Tags:           req.GetTags(),
		IdempotencyKey: req.GetIdempotencyKey(),
		Delta:          req.GetDelta(),
	})
}

func (e *Executor) publish(ctx context.Context, method, ch string, data []byte, o node.PublishOptions) *apipb.PublishResponse {
	if ch == "" {
		return &apipb.PublishResponse{Error: errBadRequest()}
	}
	sp, err := e.node.Publish(ctx, ch, data, o)
	if err != nil {
		return &apipb.PublishResponse{Error: e.fail(ctx, method, err, "channel", ch)}
	}
	return &apipb.PublishResponse{Result: &apipb.PublishResult{Offset: sp.Offset, Epoch: sp.Epoch}}
}

// Broadcast publishes the same data into many channels concurrently. Each
// channel gets its own response, in request order; the top-level error is
// only for problems with the request as a whole (no channels, no data).
func (e *Executor) Broadcast(ctx context.Context, req *apipb.BroadcastRequest) *apipb.BroadcastResponse {
	channels := req.GetChannels()
	if len(channels) == 0 {
		return &apipb.BroadcastResponse{Error: errBadRequest()}
	}
	data, perr := payload(req.GetData(), req.GetB64Data())
	if perr != nil {
		return &apipb.BroadcastResponse{Error: perr}
	}
	o := node.PublishOptions{
		SkipHistory:    req.GetSkipHistory(),
		Tags:           req.GetTags(),
		IdempotencyKey: req.GetIdempotencyKey(),
		Delta:          req.GetDelta(),
	}
	responses := make([]*apipb.PublishResponse, len(channels))
	forEach(len(channels), func(i int) {
		responses[i] = e.publish(ctx, "broadcast", channels[i], data, o)
	})
	return &apipb.BroadcastResponse{Result: &apipb.BroadcastResult{Responses: responses}}
}
