package websocket

import (
	"errors"
	"fmt"
)

// ErrClosed is returned by Write once the connection is closing or closed,
// so the node's writer can stop without inspecting library errors.
var ErrClosed = errors.New("websocket: connection closed")

// CloseError lets Config.Accept refuse a connection with a specific
// disconnect code (e.g. 3500 invalid token) instead of the generic 3004.
type CloseError struct {
	Code   int
	Reason string
}

// Error reports the code and reason so a refused connection is readable in logs.
func (e *CloseError) Error() string {
	return fmt.Sprintf("websocket close %d: %s", e.Code, e.Reason)
}
