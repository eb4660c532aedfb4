package protocol

import (
	"errors"
	"fmt"
)

// ErrMalformed is wrapped by every command decoding error so the server can
// answer any undecodable frame the same way (disconnect 3501) with one
// errors.Is check.
var ErrMalformed = errors.New("malformed command frame")

// ErrInvalidJSONPayload reports that a bytes field of a reply does not hold
// valid JSON, so the reply cannot be sent to a JSON connection; Centrifugo
// disconnects such a connection with 3506 "inappropriate protocol".
var ErrInvalidJSONPayload = errors.New("payload is not valid JSON")

// ErrUnknownType reports a Type other than TypeJSON or TypeProtobuf; it is a
// programming error in the caller, surfaced as an error instead of a panic.
var ErrUnknownType = errors.New("unknown protocol type")

// DecodeError says exactly where a command frame stopped making sense, so
// logs of rejected clients point at the offending byte and key.
type DecodeError struct {
	Type    Type   // wire format of the frame
	Command int    // 0-based index of the command within the frame
	Offset  int    // byte offset within the frame
	Path    string // dotted key path inside the command ("subscribe.offset"); empty at top level
	Reason  string // what was wrong
	Err     error  // underlying cause, when another package reported it
}

// Error implements error.
func (e *DecodeError) Error() string {
	if e.Path != "" {
		return fmt.Sprintf("protocol: %s command #%d at byte %d (%s): %s", e.Type, e.Command, e.Offset, e.Path, e.Reason)
	}
	return fmt.Sprintf("protocol: %s command #%d at byte %d: %s", e.Type, e.Command, e.Offset, e.Reason)
}

// Unwrap lets callers match any decoding failure with errors.Is(err,
// ErrMalformed) and still reach the underlying cause.
func (e *DecodeError) Unwrap() []error {
	if e.Err != nil {
		return []error{ErrMalformed, e.Err}
	}
	return []error{ErrMalformed}
}
