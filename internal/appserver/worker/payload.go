package worker

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/spindle-rt/spindle/internal/appserver/worker/frame"
)

// Payload is one request to, or reply from, a worker. For Centrifugo proxy
// calls Context is the JSON metadata map (with "type") and Body the protobuf
// proxy request; the worker replies with the protobuf response in Body.
type Payload struct {
	// Context travels first; RoadRunner calls it the header.
	Context []byte
	// Body is the request or reply proper.
	Body []byte
	// Codec is the frame flags byte: frame.CodecProto for Centrifugo calls
	// (0 is sent as CodecProto). On replies it is what the worker sent.
	Codec byte
}

// appendRequest encodes p as RoadRunner lays requests out: one option
// holding the context length, payload = context ‖ body.
func appendRequest(dst []byte, p Payload) ([]byte, error) {
	codec := p.Codec
	if codec == 0 {
		codec = frame.CodecProto
	}
	opts := [1]uint32{uint32(len(p.Context))}
	dst, err := frame.AppendHeader(dst, codec, 0, opts[:], len(p.Context)+len(p.Body))
	if err != nil {
		return dst, err
	}
	return append(append(dst, p.Context...), p.Body...), nil
}

// replyPayload splits a worker's reply frame. Errors here mean the worker
// broke the protocol and must not be trusted with another request.
func replyPayload(f frame.Frame) (Payload, error) {
	if f.Flags&frame.FlagControl != 0 {
		return Payload{}, fmt.Errorf("got a control frame %q where a reply was expected", trim(f.Payload))
	}
	if f.Byte10&frame.BitStream != 0 {
		return Payload{}, fmt.Errorf("streaming response not supported")
	}
	if len(f.Options) != 1 {
		return Payload{}, fmt.Errorf("reply must carry exactly one option (context length), got %d", len(f.Options))
	}
	n := f.Options[0]
	if uint64(n) > uint64(len(f.Payload)) {
		return Payload{}, fmt.Errorf("bad payload: context length %d exceeds payload length %d", n, len(f.Payload))
	}
	return Payload{Context: f.Payload[:n:n], Body: f.Payload[n:], Codec: f.Flags}, nil
}

// isStopRequest recognises PHP Worker::stop(): context {"stop":true} and no
// body — the worker wants to be retired and the request retried elsewhere.
func isStopRequest(p Payload) bool {
	if len(p.Body) != 0 || len(p.Context) == 0 || len(p.Context) > 256 || !bytes.Contains(p.Context, []byte("stop")) {
		return false
	}
	var c struct {
		Stop bool `json:"stop"`
	}
	return json.Unmarshal(p.Context, &c) == nil && c.Stop
}

// trim shortens worker output quoted in errors.
func trim(b []byte) []byte {
	if len(b) > 128 {
		return b[:128]
	}
	return b
}
