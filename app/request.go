package app

import (
	"context"
	"net/http"
	"strings"
	"sync"

	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"

	"github.com/spindle-rt/spindle/proto/proxypb"
)

// Request is what all typed requests share, so that one interceptor can
// serve every event type. The concrete value is always one of
// *ConnectRequest, *RefreshRequest, *SubscribeRequest, *PublishRequest,
// *RPCRequest, *SubRefreshRequest, *MapPublishRequest, *MapRemoveRequest
// or *SharedPollRefreshRequest; switch on it (or on Type) to reach the
// event's own fields. A shared-poll refresh belongs to a channel, not to
// a connection: its client, transport, protocol, encoding and user are
// always "", which interceptors that gate on the user must allow for.
type Request interface {
	// Type is the event type.
	Type() Type
	// Header holds the call's metadata: incoming gRPC metadata (keys
	// canonicalised, pseudo-headers dropped), the HTTP request headers of
	// the HTTP variant, or the client headers handed in-process. It is
	// shared: read it, don't modify it.
	Header() http.Header
	// GetClient is the connection id.
	GetClient() string
	// GetTransport is the client's transport name ("websocket", …).
	GetTransport() string
	// GetProtocol is the client's wire format ("json" or "protobuf").
	GetProtocol() string
	// GetEncoding is how payload bytes travel in this call ("json" or
	// "binary").
	GetEncoding() string
	// GetUser is the connection's user; "" for anonymous connections and
	// always "" for connect, where the user is not decided yet.
	GetUser() string
	// Proto is the underlying proxypb request message.
	Proto() proto.Message

	// reply builds this type's response carrying an error or a
	// disconnect; unexported, so only this package's types are Requests.
	reply(e *proxypb.Error, d *proxypb.Disconnect) Reply
}

// Reply is what all proxypb responses of the events share, so that
// interceptors can inspect an answer of any type.
type Reply interface {
	proto.Message
	GetError() *proxypb.Error
	GetDisconnect() *proxypb.Disconnect
}

// envelope is the per-call data that travels beside the proto request.
type envelope struct {
	typ  Type
	hdr  http.Header
	mctx context.Context // gRPC incoming context, read lazily into hdr; set once at construction
	once sync.Once
}

// Type returns the event type.
func (e *envelope) Type() Type { return e.typ }

// Header returns the call metadata as HTTP headers; see Request.Header.
func (e *envelope) Header() http.Header {
	if e.mctx != nil {
		e.once.Do(e.readMetadata)
	}
	return e.hdr
}

func (e *envelope) readMetadata() {
	md, ok := metadata.FromIncomingContext(e.mctx)
	if !ok {
		return
	}
	h := make(http.Header, len(md))
	for k, vs := range md {
		if strings.HasPrefix(k, ":") {
			continue
		}
		h[http.CanonicalHeaderKey(k)] = vs
	}
	e.hdr = h
}

// ConnectRequest asks whether a client connecting without a token may
// connect, and as whom.
type ConnectRequest struct {
	*proxypb.ConnectRequest
	envelope
}

// RefreshRequest asks whether an expiring connection may live on.
type RefreshRequest struct {
	*proxypb.RefreshRequest
	envelope
}

// SubscribeRequest asks whether a client may join a channel.
type SubscribeRequest struct {
	*proxypb.SubscribeRequest
	envelope
}

// PublishRequest asks whether a client publication may go out, and in
// which form.
type PublishRequest struct {
	*proxypb.PublishRequest
	envelope
}

// RPCRequest carries a client RPC call; GetMethod routes it.
type RPCRequest struct {
	*proxypb.RPCRequest
	envelope
}

// SubRefreshRequest asks whether an expiring subscription may live on.
type SubRefreshRequest struct {
	*proxypb.SubRefreshRequest
	envelope
}

// MapPublishRequest asks whether a client may write a key of a map
// channel, and in which form (key, data, tags, key mode…).
type MapPublishRequest struct {
	*proxypb.MapPublishRequest
	envelope
}

// MapRemoveRequest asks whether a client may remove a key of a map
// channel.
type MapRemoveRequest struct {
	*proxypb.MapRemoveRequest
	envelope
}

// SharedPollRefreshRequest is the real-time server polling for the
// current state of the items (keys, with the versions the server has) that
// the subscribers of a shared-poll channel track. The server sends one per
// channel and batch of keys, whoever tracks them, so it carries no
// connection fields; the Get methods of the Request interface answer "".
type SharedPollRefreshRequest struct {
	*proxypb.SharedPollRefreshRequest
	envelope
}

// GetUser is always "" for connect: deciding the user is the point of
// the call.
func (r *ConnectRequest) GetUser() string { return "" }

// Proto returns the underlying proxypb message.
func (r *ConnectRequest) Proto() proto.Message { return r.ConnectRequest }

// Proto returns the underlying proxypb message.
func (r *RefreshRequest) Proto() proto.Message { return r.RefreshRequest }

// Proto returns the underlying proxypb message.
func (r *SubscribeRequest) Proto() proto.Message { return r.SubscribeRequest }

// Proto returns the underlying proxypb message.
func (r *PublishRequest) Proto() proto.Message { return r.PublishRequest }

// Proto returns the underlying proxypb message.
func (r *RPCRequest) Proto() proto.Message { return r.RPCRequest }

// Proto returns the underlying proxypb message.
func (r *SubRefreshRequest) Proto() proto.Message { return r.SubRefreshRequest }

// Proto returns the underlying proxypb message.
func (r *MapPublishRequest) Proto() proto.Message { return r.MapPublishRequest }

// Proto returns the underlying proxypb message.
func (r *MapRemoveRequest) Proto() proto.Message { return r.MapRemoveRequest }

// Proto returns the underlying proxypb message.
func (r *SharedPollRefreshRequest) Proto() proto.Message { return r.SharedPollRefreshRequest }

// GetClient is always "": a poll is per channel, for no one connection.
func (r *SharedPollRefreshRequest) GetClient() string { return "" }

// GetTransport is always "": a poll is per channel, for no one connection.
func (r *SharedPollRefreshRequest) GetTransport() string { return "" }

// GetProtocol is always "": a poll is per channel, for no one connection.
func (r *SharedPollRefreshRequest) GetProtocol() string { return "" }

// GetEncoding is always "": item data travel as JSON (raw JSON in the HTTP
// variant), with no binary-encoding switch.
func (r *SharedPollRefreshRequest) GetEncoding() string { return "" }

// GetUser is always "": a poll serves every user tracking the keys.
func (r *SharedPollRefreshRequest) GetUser() string { return "" }

// NewConnectRequest wraps a proto request, e.g. to unit-test a service.
// A nil msg is replaced by an empty message.
func NewConnectRequest(msg *proxypb.ConnectRequest, h http.Header) *ConnectRequest {
	if msg == nil {
		msg = &proxypb.ConnectRequest{}
	}
	return &ConnectRequest{ConnectRequest: msg, envelope: envelope{typ: TypeConnect, hdr: h}}
}

// NewRefreshRequest wraps a proto request, e.g. to unit-test a service.
func NewRefreshRequest(msg *proxypb.RefreshRequest, h http.Header) *RefreshRequest {
	if msg == nil {
		msg = &proxypb.RefreshRequest{}
	}
	return &RefreshRequest{RefreshRequest: msg, envelope: envelope{typ: TypeRefresh, hdr: h}}
}

// NewSubscribeRequest wraps a proto request, e.g. to unit-test a service.
func NewSubscribeRequest(msg *proxypb.SubscribeRequest, h http.Header) *SubscribeRequest {
	if msg == nil {
		msg = &proxypb.SubscribeRequest{}
	}
	return &SubscribeRequest{SubscribeRequest: msg, envelope: envelope{typ: TypeSubscribe, hdr: h}}
}

// NewPublishRequest wraps a proto request, e.g. to unit-test a service.
func NewPublishRequest(msg *proxypb.PublishRequest, h http.Header) *PublishRequest {
	if msg == nil {
		msg = &proxypb.PublishRequest{}
	}
	return &PublishRequest{PublishRequest: msg, envelope: envelope{typ: TypePublish, hdr: h}}
}

// NewRPCRequest wraps a proto request, e.g. to unit-test a service.
func NewRPCRequest(msg *proxypb.RPCRequest, h http.Header) *RPCRequest {
	if msg == nil {
		msg = &proxypb.RPCRequest{}
	}
	return &RPCRequest{RPCRequest: msg, envelope: envelope{typ: TypeRPC, hdr: h}}
}

// NewSubRefreshRequest wraps a proto request, e.g. to unit-test a service.
func NewSubRefreshRequest(msg *proxypb.SubRefreshRequest, h http.Header) *SubRefreshRequest {
	if msg == nil {
		msg = &proxypb.SubRefreshRequest{}
	}
	return &SubRefreshRequest{SubRefreshRequest: msg, envelope: envelope{typ: TypeSubRefresh, hdr: h}}
}

// NewMapPublishRequest wraps a proto request, e.g. to unit-test a service.
func NewMapPublishRequest(msg *proxypb.MapPublishRequest, h http.Header) *MapPublishRequest {
	if msg == nil {
		msg = &proxypb.MapPublishRequest{}
	}
	return &MapPublishRequest{MapPublishRequest: msg, envelope: envelope{typ: TypeMapPublish, hdr: h}}
}

// NewMapRemoveRequest wraps a proto request, e.g. to unit-test a service.
func NewMapRemoveRequest(msg *proxypb.MapRemoveRequest, h http.Header) *MapRemoveRequest {
	if msg == nil {
		msg = &proxypb.MapRemoveRequest{}
	}
	return &MapRemoveRequest{MapRemoveRequest: msg, envelope: envelope{typ: TypeMapRemove, hdr: h}}
}

// NewSharedPollRefreshRequest wraps a proto request, e.g. to unit-test a
// service.
func NewSharedPollRefreshRequest(msg *proxypb.SharedPollRefreshRequest, h http.Header) *SharedPollRefreshRequest {
	if msg == nil {
		msg = &proxypb.SharedPollRefreshRequest{}
	}
	return &SharedPollRefreshRequest{SharedPollRefreshRequest: msg, envelope: envelope{typ: TypeSharedPollRefresh, hdr: h}}
}
