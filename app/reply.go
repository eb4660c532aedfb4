package app

import (
	"github.com/spindle-rt/spindle/proto/proxypb"
)

// Reply constructors. Each typed request builds its own response type, so
// a service cannot answer a connect with a subscribe response. Codes:
// errors should use 400-1999 and disconnects 4000-4999 (4000-4499 let the
// client reconnect, 4500-4999 do not), as Centrifugo passes them to the
// client verbatim.

func newError(code uint32, message string, temporary bool) *proxypb.Error {
	return &proxypb.Error{Code: code, Message: message, Temporary: temporary}
}

func newDisconnect(code uint32, reason string) *proxypb.Disconnect {
	return &proxypb.Disconnect{Code: code, Reason: reason}
}

// Deny answers any request with a permanent error; for interceptors that
// serve several event types.
func Deny(req Request, code uint32, message string) Reply {
	return req.reply(newError(code, message, false), nil)
}

// DenyTemporary answers any request with an error that client SDKs retry.
func DenyTemporary(req Request, code uint32, message string) Reply {
	return req.reply(newError(code, message, true), nil)
}

// Disconnect answers any request by closing the client's connection.
func Disconnect(req Request, code uint32, reason string) Reply {
	return req.reply(nil, newDisconnect(code, reason))
}

// --- connect ---

// Allow accepts the connection as user ("" = anonymous).
func (r *ConnectRequest) Allow(user string) *proxypb.ConnectResponse {
	return &proxypb.ConnectResponse{Result: &proxypb.ConnectResult{User: user}}
}

// Respond accepts the connection with a full result (expiry, info,
// server-side subscriptions, meta…).
func (r *ConnectRequest) Respond(res *proxypb.ConnectResult) *proxypb.ConnectResponse {
	if res == nil {
		res = &proxypb.ConnectResult{}
	}
	return &proxypb.ConnectResponse{Result: res}
}

// Deny refuses the connection with a permanent error.
func (r *ConnectRequest) Deny(code uint32, message string) *proxypb.ConnectResponse {
	return &proxypb.ConnectResponse{Error: newError(code, message, false)}
}

// DenyTemporary refuses with an error the client SDK retries.
func (r *ConnectRequest) DenyTemporary(code uint32, message string) *proxypb.ConnectResponse {
	return &proxypb.ConnectResponse{Error: newError(code, message, true)}
}

// Disconnect closes the connection with code and reason.
func (r *ConnectRequest) Disconnect(code uint32, reason string) *proxypb.ConnectResponse {
	return &proxypb.ConnectResponse{Disconnect: newDisconnect(code, reason)}
}

func (r *ConnectRequest) reply(e *proxypb.Error, d *proxypb.Disconnect) Reply {
	return &proxypb.ConnectResponse{Error: e, Disconnect: d}
}

// --- refresh ---

// Extend keeps the connection alive until expireAt (Unix seconds, must be
// in the future).
func (r *RefreshRequest) Extend(expireAt int64) *proxypb.RefreshResponse {
	return &proxypb.RefreshResponse{Result: &proxypb.RefreshResult{ExpireAt: expireAt}}
}

// Expire ends the connection (Centrifugo disconnects it with 3005).
func (r *RefreshRequest) Expire() *proxypb.RefreshResponse {
	return &proxypb.RefreshResponse{Result: &proxypb.RefreshResult{Expired: true}}
}

// Respond answers with a full result (new info or meta as well).
func (r *RefreshRequest) Respond(res *proxypb.RefreshResult) *proxypb.RefreshResponse {
	if res == nil {
		res = &proxypb.RefreshResult{}
	}
	return &proxypb.RefreshResponse{Result: res}
}

// Deny answers with an error; Centrifugo ignores it for refresh and
// treats the connection as expired.
func (r *RefreshRequest) Deny(code uint32, message string) *proxypb.RefreshResponse {
	return &proxypb.RefreshResponse{Error: newError(code, message, false)}
}

// DenyTemporary is Deny with the temporary flag.
func (r *RefreshRequest) DenyTemporary(code uint32, message string) *proxypb.RefreshResponse {
	return &proxypb.RefreshResponse{Error: newError(code, message, true)}
}

// Disconnect answers with a disconnect; Centrifugo ignores it for refresh
// and treats the connection as expired.
func (r *RefreshRequest) Disconnect(code uint32, reason string) *proxypb.RefreshResponse {
	return &proxypb.RefreshResponse{Disconnect: newDisconnect(code, reason)}
}

func (r *RefreshRequest) reply(e *proxypb.Error, d *proxypb.Disconnect) Reply {
	return &proxypb.RefreshResponse{Error: e, Disconnect: d}
}

// --- subscribe ---

// Allow accepts the subscription with the namespace defaults.
func (r *SubscribeRequest) Allow() *proxypb.SubscribeResponse {
	return &proxypb.SubscribeResponse{Result: &proxypb.SubscribeResult{}}
}

// Respond accepts with a full result (expiry, channel info, data,
// per-subscription overrides).
func (r *SubscribeRequest) Respond(res *proxypb.SubscribeResult) *proxypb.SubscribeResponse {
	if res == nil {
		res = &proxypb.SubscribeResult{}
	}
	return &proxypb.SubscribeResponse{Result: res}
}

// Deny refuses the subscription with a permanent error.
func (r *SubscribeRequest) Deny(code uint32, message string) *proxypb.SubscribeResponse {
	return &proxypb.SubscribeResponse{Error: newError(code, message, false)}
}

// DenyTemporary refuses with an error the client SDK retries.
func (r *SubscribeRequest) DenyTemporary(code uint32, message string) *proxypb.SubscribeResponse {
	return &proxypb.SubscribeResponse{Error: newError(code, message, true)}
}

// Disconnect closes the client's connection.
func (r *SubscribeRequest) Disconnect(code uint32, reason string) *proxypb.SubscribeResponse {
	return &proxypb.SubscribeResponse{Disconnect: newDisconnect(code, reason)}
}

func (r *SubscribeRequest) reply(e *proxypb.Error, d *proxypb.Disconnect) Reply {
	return &proxypb.SubscribeResponse{Error: e, Disconnect: d}
}

// --- publish ---

// Allow lets the publication go out as sent.
func (r *PublishRequest) Allow() *proxypb.PublishResponse {
	return &proxypb.PublishResponse{Result: &proxypb.PublishResult{}}
}

// Rewrite publishes data instead of what the client sent.
func (r *PublishRequest) Rewrite(data []byte) *proxypb.PublishResponse {
	return &proxypb.PublishResponse{Result: &proxypb.PublishResult{Data: data}}
}

// Respond allows with a full result (replacement data, skip_history,
// tags…).
func (r *PublishRequest) Respond(res *proxypb.PublishResult) *proxypb.PublishResponse {
	if res == nil {
		res = &proxypb.PublishResult{}
	}
	return &proxypb.PublishResponse{Result: res}
}

// Deny refuses the publication with a permanent error.
func (r *PublishRequest) Deny(code uint32, message string) *proxypb.PublishResponse {
	return &proxypb.PublishResponse{Error: newError(code, message, false)}
}

// DenyTemporary refuses with an error the client SDK retries.
func (r *PublishRequest) DenyTemporary(code uint32, message string) *proxypb.PublishResponse {
	return &proxypb.PublishResponse{Error: newError(code, message, true)}
}

// Disconnect closes the client's connection.
func (r *PublishRequest) Disconnect(code uint32, reason string) *proxypb.PublishResponse {
	return &proxypb.PublishResponse{Disconnect: newDisconnect(code, reason)}
}

func (r *PublishRequest) reply(e *proxypb.Error, d *proxypb.Disconnect) Reply {
	return &proxypb.PublishResponse{Error: e, Disconnect: d}
}

// --- rpc ---

// Answer returns data (JSON for JSON clients) to the caller.
func (r *RPCRequest) Answer(data []byte) *proxypb.RPCResponse {
	return &proxypb.RPCResponse{Result: &proxypb.RPCResult{Data: data}}
}

// Respond answers with a full result (e.g. b64data for binary payloads).
func (r *RPCRequest) Respond(res *proxypb.RPCResult) *proxypb.RPCResponse {
	if res == nil {
		res = &proxypb.RPCResult{}
	}
	return &proxypb.RPCResponse{Result: res}
}

// Deny fails the call with a permanent error.
func (r *RPCRequest) Deny(code uint32, message string) *proxypb.RPCResponse {
	return &proxypb.RPCResponse{Error: newError(code, message, false)}
}

// DenyTemporary fails the call with an error the client SDK may retry.
func (r *RPCRequest) DenyTemporary(code uint32, message string) *proxypb.RPCResponse {
	return &proxypb.RPCResponse{Error: newError(code, message, true)}
}

// Disconnect closes the client's connection.
func (r *RPCRequest) Disconnect(code uint32, reason string) *proxypb.RPCResponse {
	return &proxypb.RPCResponse{Disconnect: newDisconnect(code, reason)}
}

func (r *RPCRequest) reply(e *proxypb.Error, d *proxypb.Disconnect) Reply {
	return &proxypb.RPCResponse{Error: e, Disconnect: d}
}

// --- sub_refresh ---

// Extend keeps the subscription until expireAt (Unix seconds; 0 stops it
// from expiring).
func (r *SubRefreshRequest) Extend(expireAt int64) *proxypb.SubRefreshResponse {
	return &proxypb.SubRefreshResponse{Result: &proxypb.SubRefreshResult{ExpireAt: expireAt}}
}

// Expire ends the subscription.
func (r *SubRefreshRequest) Expire() *proxypb.SubRefreshResponse {
	return &proxypb.SubRefreshResponse{Result: &proxypb.SubRefreshResult{Expired: true}}
}

// Respond answers with a full result (new channel info as well).
func (r *SubRefreshRequest) Respond(res *proxypb.SubRefreshResult) *proxypb.SubRefreshResponse {
	if res == nil {
		res = &proxypb.SubRefreshResult{}
	}
	return &proxypb.SubRefreshResponse{Result: res}
}

// Deny answers with an error; Centrifugo ignores it for sub_refresh and
// treats the subscription as expired.
func (r *SubRefreshRequest) Deny(code uint32, message string) *proxypb.SubRefreshResponse {
	return &proxypb.SubRefreshResponse{Error: newError(code, message, false)}
}

// DenyTemporary is Deny with the temporary flag.
func (r *SubRefreshRequest) DenyTemporary(code uint32, message string) *proxypb.SubRefreshResponse {
	return &proxypb.SubRefreshResponse{Error: newError(code, message, true)}
}

// Disconnect answers with a disconnect; Centrifugo ignores it for
// sub_refresh and treats the subscription as expired.
func (r *SubRefreshRequest) Disconnect(code uint32, reason string) *proxypb.SubRefreshResponse {
	return &proxypb.SubRefreshResponse{Disconnect: newDisconnect(code, reason)}
}

func (r *SubRefreshRequest) reply(e *proxypb.Error, d *proxypb.Disconnect) Reply {
	return &proxypb.SubRefreshResponse{Error: e, Disconnect: d}
}

// --- map_publish ---

// Allow lets the write go through as sent.
func (r *MapPublishRequest) Allow() *proxypb.MapPublishResponse {
	return &proxypb.MapPublishResponse{Result: &proxypb.MapPublishResult{}}
}

// Rewrite writes data to the key instead of what the client sent.
func (r *MapPublishRequest) Rewrite(data []byte) *proxypb.MapPublishResponse {
	return &proxypb.MapPublishResponse{Result: &proxypb.MapPublishResult{Data: data}}
}

// Respond allows with a full result: another key, replacement data, tags,
// key_mode ("if_new" or "if_exists"), idempotency key, version… The
// server ignores score and stream_data, as Centrifugo OSS does.
func (r *MapPublishRequest) Respond(res *proxypb.MapPublishResult) *proxypb.MapPublishResponse {
	if res == nil {
		res = &proxypb.MapPublishResult{}
	}
	return &proxypb.MapPublishResponse{Result: res}
}

// Deny refuses the write with a permanent error.
func (r *MapPublishRequest) Deny(code uint32, message string) *proxypb.MapPublishResponse {
	return &proxypb.MapPublishResponse{Error: newError(code, message, false)}
}

// DenyTemporary refuses with an error the client SDK retries.
func (r *MapPublishRequest) DenyTemporary(code uint32, message string) *proxypb.MapPublishResponse {
	return &proxypb.MapPublishResponse{Error: newError(code, message, true)}
}

// Disconnect closes the client's connection.
func (r *MapPublishRequest) Disconnect(code uint32, reason string) *proxypb.MapPublishResponse {
	return &proxypb.MapPublishResponse{Disconnect: newDisconnect(code, reason)}
}

func (r *MapPublishRequest) reply(e *proxypb.Error, d *proxypb.Disconnect) Reply {
	return &proxypb.MapPublishResponse{Error: e, Disconnect: d}
}

// --- map_remove ---

// Allow lets the removal go through as asked.
func (r *MapRemoveRequest) Allow() *proxypb.MapRemoveResponse {
	return &proxypb.MapRemoveResponse{Result: &proxypb.MapRemoveResult{}}
}

// Respond allows with a full result: another key, tags for the removal
// event, an idempotency key.
func (r *MapRemoveRequest) Respond(res *proxypb.MapRemoveResult) *proxypb.MapRemoveResponse {
	if res == nil {
		res = &proxypb.MapRemoveResult{}
	}
	return &proxypb.MapRemoveResponse{Result: res}
}

// Deny refuses the removal with a permanent error.
func (r *MapRemoveRequest) Deny(code uint32, message string) *proxypb.MapRemoveResponse {
	return &proxypb.MapRemoveResponse{Error: newError(code, message, false)}
}

// DenyTemporary refuses with an error the client SDK retries.
func (r *MapRemoveRequest) DenyTemporary(code uint32, message string) *proxypb.MapRemoveResponse {
	return &proxypb.MapRemoveResponse{Error: newError(code, message, true)}
}

// Disconnect closes the client's connection.
func (r *MapRemoveRequest) Disconnect(code uint32, reason string) *proxypb.MapRemoveResponse {
	return &proxypb.MapRemoveResponse{Disconnect: newDisconnect(code, reason)}
}

func (r *MapRemoveRequest) reply(e *proxypb.Error, d *proxypb.Disconnect) Reply {
	return &proxypb.MapRemoveResponse{Error: e, Disconnect: d}
}

// --- shared_poll_refresh ---

// Respond answers a poll with the items' current state and the epoch of
// their versions: per item its key, data (JSON), version (above the one
// requested, in versioned namespaces) or removed, and optionally
// prev_data as the delta base. Keys left out keep their state; keys the
// server did not ask for are ignored; a changed epoch resets every
// version the server holds (its subscribers resubscribe).
func (r *SharedPollRefreshRequest) Respond(res *proxypb.SharedPollRefreshResult) *proxypb.SharedPollRefreshResponse {
	if res == nil {
		res = &proxypb.SharedPollRefreshResult{}
	}
	return &proxypb.SharedPollRefreshResponse{Result: res}
}

// Unchanged answers that none of the requested items changed.
func (r *SharedPollRefreshRequest) Unchanged() *proxypb.SharedPollRefreshResponse {
	return &proxypb.SharedPollRefreshResponse{Result: &proxypb.SharedPollRefreshResult{}}
}

// Fail answers that the poll failed (the item store is down, say): the
// server changes nothing and polls again on its next round. The error
// reaches no client; it is there for the server's log. Temporary has no
// meaning for a poll, so there is no FailTemporary.
func (r *SharedPollRefreshRequest) Fail(code uint32, message string) *proxypb.SharedPollRefreshResponse {
	return &proxypb.SharedPollRefreshResponse{Error: newError(code, message, false)}
}

// reply keeps a disconnect as an error of the same code and reason: the
// response cannot carry a disconnect (there is no connection to close),
// and an error makes the server treat the poll as failed, which is the
// nearest to a refusal a poll can get, with the reason still in its log.
func (r *SharedPollRefreshRequest) reply(e *proxypb.Error, d *proxypb.Disconnect) Reply {
	if e == nil && d != nil {
		e = newError(d.GetCode(), d.GetReason(), false)
	}
	return &proxypb.SharedPollRefreshResponse{Error: e}
}
