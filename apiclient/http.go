package apiclient

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"

	"google.golang.org/protobuf/proto"

	"github.com/spindle-rt/spindle/internal/pbjson"
	"github.com/spindle-rt/spindle/proto/apipb"
)

// maxResponse bounds how much of a response body the client reads, so a
// misbehaving server cannot make it allocate without limit.
const maxResponse = 64 << 20

// HTTP is a Client over the HTTP server API (`POST <base>/<method>`).
type HTTP struct {
	base string
	key  string
	hc   *http.Client
}

var _ Client = (*HTTP)(nil)

// NewHTTP returns a client of the API at base (e.g.
// "http://127.0.0.1:8000/api") that sends key as X-API-Key when non-empty.
// hc nil means http.DefaultClient; pass one with a timeout for production.
// Over HTTP payload fields (data, info, params) travel as embedded JSON, so
// they must hold valid JSON; send other bytes with the b64 fields.
func NewHTTP(base, key string, hc *http.Client) *HTTP {
	if hc == nil {
		hc = http.DefaultClient
	}
	return &HTTP{base: strings.TrimRight(base, "/"), key: key, hc: hc}
}

// call POSTs req to method and decodes the answer into resp. API errors
// arrive inside resp (default error mode); a bare error body with a
// non-200 status (transport error mode) becomes an *Error too.
func (h *HTTP) call(ctx context.Context, method string, req, resp proto.Message) error {
	body, err := pbjson.Marshal(req)
	if err != nil {
		return fmt.Errorf("server API %s: encode request: %w", method, err)
	}
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, h.base+"/"+method, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("server API %s: %w", method, err)
	}
	hreq.Header.Set("Content-Type", "application/json")
	if h.key != "" {
		hreq.Header.Set("X-API-Key", h.key)
	}
	hresp, err := h.hc.Do(hreq)
	if err != nil {
		return fmt.Errorf("server API %s: %w", method, err)
	}
	defer hresp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(hresp.Body, maxResponse))
	if err != nil {
		return fmt.Errorf("server API %s: read response: %w", method, err)
	}
	if hresp.StatusCode != http.StatusOK {
		var apiErr apipb.Error
		if strings.HasPrefix(hresp.Header.Get("Content-Type"), "application/json") && pbjson.Unmarshal(data, &apiErr) == nil && apiErr.GetCode() != 0 {
			return &Error{Code: apiErr.GetCode(), Message: apiErr.GetMessage()}
		}
		// The status text says what a bare status means (a refused key
		// comes with an empty body); a body, when there is one, says more.
		if body := bytes.TrimSpace(data); len(body) > 0 {
			return fmt.Errorf("server API %s: %s: %s", method, hresp.Status, body)
		}
		return fmt.Errorf("server API %s: %s", method, hresp.Status)
	}
	if err := pbjson.Unmarshal(data, resp); err != nil {
		return fmt.Errorf("server API %s: decode response: %w", method, err)
	}
	return nil
}

// Publish sends data into one channel.
func (h *HTTP) Publish(ctx context.Context, req *apipb.PublishRequest) (*apipb.PublishResult, error) {
	resp := new(apipb.PublishResponse)
	if err := h.call(ctx, "publish", req, resp); err != nil {
		return nil, err
	}
	return result(resp.GetResult(), resp.GetError())
}

// Broadcast sends the same data into many channels.
func (h *HTTP) Broadcast(ctx context.Context, req *apipb.BroadcastRequest) (*apipb.BroadcastResult, error) {
	resp := new(apipb.BroadcastResponse)
	if err := h.call(ctx, "broadcast", req, resp); err != nil {
		return nil, err
	}
	return result(resp.GetResult(), resp.GetError())
}

// Subscribe subscribes a user's connections to a channel.
func (h *HTTP) Subscribe(ctx context.Context, req *apipb.SubscribeRequest) (*apipb.SubscribeResult, error) {
	resp := new(apipb.SubscribeResponse)
	if err := h.call(ctx, "subscribe", req, resp); err != nil {
		return nil, err
	}
	return result(resp.GetResult(), resp.GetError())
}

// Unsubscribe removes a user's subscription to a channel.
func (h *HTTP) Unsubscribe(ctx context.Context, req *apipb.UnsubscribeRequest) (*apipb.UnsubscribeResult, error) {
	resp := new(apipb.UnsubscribeResponse)
	if err := h.call(ctx, "unsubscribe", req, resp); err != nil {
		return nil, err
	}
	return result(resp.GetResult(), resp.GetError())
}

// Disconnect closes a user's connections.
func (h *HTTP) Disconnect(ctx context.Context, req *apipb.DisconnectRequest) (*apipb.DisconnectResult, error) {
	resp := new(apipb.DisconnectResponse)
	if err := h.call(ctx, "disconnect", req, resp); err != nil {
		return nil, err
	}
	return result(resp.GetResult(), resp.GetError())
}

// Presence lists a channel's connections.
func (h *HTTP) Presence(ctx context.Context, req *apipb.PresenceRequest) (*apipb.PresenceResult, error) {
	resp := new(apipb.PresenceResponse)
	if err := h.call(ctx, "presence", req, resp); err != nil {
		return nil, err
	}
	return result(resp.GetResult(), resp.GetError())
}

// PresenceStats counts a channel's connections and users.
func (h *HTTP) PresenceStats(ctx context.Context, req *apipb.PresenceStatsRequest) (*apipb.PresenceStatsResult, error) {
	resp := new(apipb.PresenceStatsResponse)
	if err := h.call(ctx, "presence_stats", req, resp); err != nil {
		return nil, err
	}
	return result(resp.GetResult(), resp.GetError())
}

// History reads a channel's history stream.
func (h *HTTP) History(ctx context.Context, req *apipb.HistoryRequest) (*apipb.HistoryResult, error) {
	resp := new(apipb.HistoryResponse)
	if err := h.call(ctx, "history", req, resp); err != nil {
		return nil, err
	}
	return result(resp.GetResult(), resp.GetError())
}

// HistoryRemove drops a channel's publications.
func (h *HTTP) HistoryRemove(ctx context.Context, req *apipb.HistoryRemoveRequest) (*apipb.HistoryRemoveResult, error) {
	resp := new(apipb.HistoryRemoveResponse)
	if err := h.call(ctx, "history_remove", req, resp); err != nil {
		return nil, err
	}
	return result(resp.GetResult(), resp.GetError())
}

// Info describes the running nodes.
func (h *HTTP) Info(ctx context.Context, req *apipb.InfoRequest) (*apipb.InfoResult, error) {
	resp := new(apipb.InfoResponse)
	if err := h.call(ctx, "info", req, resp); err != nil {
		return nil, err
	}
	return result(resp.GetResult(), resp.GetError())
}

// RPC calls a server-side extension method.
func (h *HTTP) RPC(ctx context.Context, req *apipb.RPCRequest) (*apipb.RPCResult, error) {
	resp := new(apipb.RPCResponse)
	if err := h.call(ctx, "rpc", req, resp); err != nil {
		return nil, err
	}
	return result(resp.GetResult(), resp.GetError())
}

// Refresh sets a new expiry for a user's connections.
func (h *HTTP) Refresh(ctx context.Context, req *apipb.RefreshRequest) (*apipb.RefreshResult, error) {
	resp := new(apipb.RefreshResponse)
	if err := h.call(ctx, "refresh", req, resp); err != nil {
		return nil, err
	}
	return result(resp.GetResult(), resp.GetError())
}

// Channels lists active channels.
func (h *HTTP) Channels(ctx context.Context, req *apipb.ChannelsRequest) (*apipb.ChannelsResult, error) {
	resp := new(apipb.ChannelsResponse)
	if err := h.call(ctx, "channels", req, resp); err != nil {
		return nil, err
	}
	return result(resp.GetResult(), resp.GetError())
}

// Batch runs several commands in one call.
func (h *HTTP) Batch(ctx context.Context, req *apipb.BatchRequest) (*apipb.BatchResponse, error) {
	resp := new(apipb.BatchResponse)
	if err := h.call(ctx, "batch", req, resp); err != nil {
		return nil, err
	}
	return resp, nil
}

// MapPublish writes one key of a map channel. A write that a key_mode,
// version or idempotency key suppressed is a success with Suppressed set.
func (h *HTTP) MapPublish(ctx context.Context, req *apipb.MapPublishRequest) (*apipb.MapPublishResult, error) {
	resp := new(apipb.MapPublishResponse)
	if err := h.call(ctx, "map_publish", req, resp); err != nil {
		return nil, err
	}
	return result(resp.GetResult(), resp.GetError())
}

// MapRemove removes one key of a map channel; an absent key is a success
// suppressed with key_not_found.
func (h *HTTP) MapRemove(ctx context.Context, req *apipb.MapRemoveRequest) (*apipb.MapRemoveResult, error) {
	resp := new(apipb.MapRemoveResponse)
	if err := h.call(ctx, "map_remove", req, resp); err != nil {
		return nil, err
	}
	return result(resp.GetResult(), resp.GetError())
}

// MapReadState reads a page of a map channel's keys in key order. Pass the
// result's Cursor, Offset and Epoch (as revision) to read the next page.
func (h *HTTP) MapReadState(ctx context.Context, req *apipb.MapReadStateRequest) (*apipb.MapReadStateResult, error) {
	resp := new(apipb.MapReadStateResponse)
	if err := h.call(ctx, "map_read_state", req, resp); err != nil {
		return nil, err
	}
	return result(resp.GetResult(), resp.GetError())
}

// MapReadStream reads a map channel's change stream, optionally after a
// position (error 112 when that position is gone).
func (h *HTTP) MapReadStream(ctx context.Context, req *apipb.MapReadStreamRequest) (*apipb.MapReadStreamResult, error) {
	resp := new(apipb.MapReadStreamResponse)
	if err := h.call(ctx, "map_read_stream", req, resp); err != nil {
		return nil, err
	}
	return result(resp.GetResult(), resp.GetError())
}

// MapStats counts a map channel's keys.
func (h *HTTP) MapStats(ctx context.Context, req *apipb.MapStatsRequest) (*apipb.MapStatsResult, error) {
	resp := new(apipb.MapStatsResponse)
	if err := h.call(ctx, "map_stats", req, resp); err != nil {
		return nil, err
	}
	return result(resp.GetResult(), resp.GetError())
}

// MapClear drops a map channel's keys and stream; the next write starts
// a new epoch.
func (h *HTTP) MapClear(ctx context.Context, req *apipb.MapClearRequest) (*apipb.MapClearResult, error) {
	resp := new(apipb.MapClearResponse)
	if err := h.call(ctx, "map_clear", req, resp); err != nil {
		return nil, err
	}
	return result(resp.GetResult(), resp.GetError())
}

// SharedPollPublish pushes a new version of a shared-poll item to the
// connections tracking it, without waiting for the next poll.
func (h *HTTP) SharedPollPublish(ctx context.Context, req *apipb.SharedPollPublishRequest) (*apipb.SharedPollPublishResult, error) {
	resp := new(apipb.SharedPollPublishResponse)
	if err := h.call(ctx, "shared_poll_publish", req, resp); err != nil {
		return nil, err
	}
	return result(resp.GetResult(), resp.GetError())
}
