package workerrpc

import (
	"fmt"

	"github.com/spindle-rt/spindle/internal/appserver/worker/frame"
)

// call is one decoded request frame.
type call struct {
	seq    uint32
	flags  byte // as received
	codec  byte // chosen from flags; 0 if none we speak
	method string
	body   []byte
}

// parseCall splits a goridge RPC request frame: options [seq,
// len(method)], payload method ‖ argument. Errors mean the peer does not
// speak the protocol; without a sequence number there is nobody to answer.
func parseCall(f frame.Frame) (call, error) {
	if f.Flags&frame.FlagControl != 0 {
		return call{}, fmt.Errorf("got a control frame where an RPC call was expected")
	}
	if len(f.Options) != 2 {
		return call{}, fmt.Errorf("should be 2 options (SEQ_ID and METHOD_LEN), got %d", len(f.Options))
	}
	n := f.Options[1]
	if n == 0 || uint64(n) > uint64(len(f.Payload)) {
		return call{}, fmt.Errorf("method length %d does not fit the %d-byte payload", n, len(f.Payload))
	}
	return call{
		seq: f.Options[0], flags: f.Flags, codec: codecOf(f.Flags),
		method: string(f.Payload[:n]), body: f.Payload[n:],
	}, nil
}

// codecBits are the flags that name a payload codec.
const codecBits = frame.CodecRaw | frame.CodecJSON | frame.CodecMsgpack | frame.CodecGob | frame.CodecProto

// reply encodes the answer frame: same seq and method, the call's codec
// flag plus extra (FlagError for failures), payload method ‖ body.
func (c call) reply(extra byte, body []byte) []byte {
	flags := c.codec
	if flags == 0 {
		flags = c.flags & codecBits
	}
	opts := [2]uint32{c.seq, uint32(len(c.method))}
	buf := make([]byte, 0, frame.HeaderSize+8+len(c.method)+len(body))
	buf, err := frame.AppendHeader(buf, flags|extra, 0, opts[:], len(c.method)+len(body))
	if err != nil { // only for bodies over 4 GiB
		return c.reply(frame.FlagError, []byte(fmt.Sprintf("%s: reply too large: %v", c.method, err)))
	}
	return append(append(buf, c.method...), body...)
}
