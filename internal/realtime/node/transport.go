package node

import (
	"net/http"

	"github.com/spindle-rt/spindle/internal/realtime/protocol"
)

// Transport is a connection's carrier as the node sees it. The WebSocket
// transport implements it; the node never learns which library is below.
type Transport interface {
	// Name is the transport name reported to proxies ("websocket").
	Name() string
	// Protocol is the connection's wire format, fixed at upgrade.
	Protocol() protocol.Type
	// Write sends one frame holding one or more encoded replies. It is
	// called from a single goroutine per connection.
	Write(frame []byte) error
	// Close ends the connection with a close code and reason; it may be
	// called more than once.
	Close(code int, reason string) error
}

// BatchWriter is a Transport that frames each reply itself (an SSE event
// per reply, a line per reply on HTTP-streaming). The writer then hands
// it the queued replies as they are instead of joining them into one
// WebSocket-style frame. items are owned by the caller after the call.
type BatchWriter interface {
	WriteBatch(items [][]byte) error
}

// RequestInfo is what the node keeps of the upgrade request: proxies
// forward allow-listed headers from it for the connection's whole life.
type RequestInfo struct {
	Header     http.Header
	RemoteAddr string
}
