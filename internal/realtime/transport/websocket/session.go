package websocket

// Session receives a connection's incoming messages; the node's client
// implements it, which keeps this package free of any node import.
type Session interface {
	// HandleFrame processes one incoming WebSocket message; false means
	// the session is over and the transport must stop reading. data is
	// owned by the session from then on.
	HandleFrame(data []byte) bool
	// HandleClose is called once when the connection is gone (read error,
	// peer close, or after Close).
	HandleClose()
}
