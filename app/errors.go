package app

import "strconv"

// Codes the App answers with by itself, taken from the client protocol's
// table so that client SDKs already know them.
const (
	// CodeInternal answers a service error, a panic or an invalid reply;
	// the Error is marked temporary.
	CodeInternal uint32 = 100
	// CodeMethodNotFound answers an RPC method with no service and no
	// fallback.
	CodeMethodNotFound uint32 = 104
	// CodeNotAvailable answers an event type with no service.
	CodeNotAvailable uint32 = 108
)

// Error is an error a service can return to answer with this code and
// message instead of the generic internal error; it is not logged.
type Error struct {
	Code      uint32
	Message   string
	Temporary bool
}

// Error renders the code and message.
func (e *Error) Error() string {
	return "app error " + strconv.FormatUint(uint64(e.Code), 10) + ": " + e.Message
}

// DisconnectError is an error a service can return to disconnect the
// client with this code and reason; it is not logged.
type DisconnectError struct {
	Code   uint32
	Reason string
}

// Error renders the code and reason.
func (e *DisconnectError) Error() string {
	return "app disconnect " + strconv.FormatUint(uint64(e.Code), 10) + ": " + e.Reason
}
