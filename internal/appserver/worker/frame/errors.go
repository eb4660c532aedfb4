package frame

import "errors"

// Reasons a byte stream is not a valid goridge frame. They are wrapped with
// the offending details, so test with errors.Is.
var (
	// ErrCRCMismatch means the header checksum is wrong: almost always the
	// peer printed ordinary text (echo, var_dump, a warning) to the frame
	// channel instead of a frame.
	ErrCRCMismatch = errors.New("frame header CRC mismatch")
	// ErrVersion means the version nibble is not 1.
	ErrVersion = errors.New("unsupported frame version")
	// ErrHeaderLength means HL is below the 3-word minimum.
	ErrHeaderLength = errors.New("bad frame header length")
	// ErrTooManyOptions means more than MaxOptions option words.
	ErrTooManyOptions = errors.New("too many frame options")
	// ErrPayloadTooLarge means the payload exceeds the configured maximum.
	ErrPayloadTooLarge = errors.New("frame payload too large")
	// ErrFileNotFound is PHP's "Could not open input file: …" arriving
	// instead of a frame: the worker command names a script that is missing.
	ErrFileNotFound = errors.New("worker script not found")
)

// IsProtocolError reports whether err says the peer sent bytes that are not
// a goridge frame (as opposed to the stream simply closing).
func IsProtocolError(err error) bool {
	for _, e := range []error{ErrCRCMismatch, ErrVersion, ErrHeaderLength, ErrTooManyOptions, ErrPayloadTooLarge, ErrFileNotFound} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}
