package api

import (
	"context"
	"encoding/base64"

	"github.com/spindle-rt/spindle/internal/realtime/node"
	"github.com/spindle-rt/spindle/proto/apipb"
)

// payload picks the publication data: b64 (the way to send non-JSON bytes
// over HTTP) wins over the raw field, as in Centrifugo. Undecodable or
// empty data is a bad request.
func payload(raw []byte, b64 string) ([]byte, *apipb.Error) {
	data := raw
	if b64 != "" {
		d, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			return nil, errBadRequest()
		}
		data = d
	}
	if len(data) == 0 {
		return nil, errBadRequest()
	}
	return data, nil
}

// optional decodes an optional payload (subscribe info/data): absent is
// fine, bad base64 is not.
func optional(raw []byte, b64 string) ([]byte, *apipb.Error) {
	if b64 == "" {
		return raw, nil
	}
	d, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, errBadRequest()
	}
	return d, nil
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
	}
	responses := make([]*apipb.PublishResponse, len(channels))
	forEach(len(channels), func(i int) {
		responses[i] = e.publish(ctx, "broadcast", channels[i], data, o)
	})
	return &apipb.BroadcastResponse{Result: &apipb.BroadcastResult{Responses: responses}}
}
