package workerrpc

import (
	"encoding/json"
	"errors"
	"fmt"

	"google.golang.org/protobuf/proto"

	"github.com/spindle-rt/spindle/internal/appserver/worker/frame"
	"github.com/spindle-rt/spindle/internal/pbjson"
)

// codecOf picks the codec a call uses from its flags byte, with goridge's
// priority (proto, JSON, raw, msgpack, gob); 0 means none we speak.
func codecOf(flags byte) byte {
	for _, c := range []byte{frame.CodecProto, frame.CodecJSON, frame.CodecRaw} {
		if flags&c != 0 {
			return c
		}
	}
	return 0
}

// codecName names a flags byte's codec in error messages.
func codecName(flags byte) string {
	switch {
	case flags&frame.CodecMsgpack != 0:
		return "msgpack"
	case flags&frame.CodecGob != 0:
		return "gob"
	default:
		return fmt.Sprintf("none (flags %#02x)", flags)
	}
}

// decodeMessage fills m from body; an empty body leaves m empty, as
// goridge does.
func decodeMessage(codec byte, body []byte, m proto.Message) error {
	if len(body) == 0 {
		return nil
	}
	switch codec {
	case frame.CodecProto:
		if err := proto.Unmarshal(body, m); err != nil {
			return fmt.Errorf("decoding %s from protobuf: %w", m.ProtoReflect().Descriptor().Name(), err)
		}
	case frame.CodecJSON:
		if err := pbjson.Unmarshal(body, m); err != nil {
			return fmt.Errorf("decoding %s from JSON: %w", m.ProtoReflect().Descriptor().Name(), err)
		}
	default:
		return fmt.Errorf("%s takes a protobuf or JSON argument, not raw bytes", m.ProtoReflect().Descriptor().Name())
	}
	return nil
}

// encodeMessage encodes a reply message in the call's codec.
func encodeMessage(codec byte, m proto.Message) ([]byte, error) {
	var (
		b   []byte
		err error
	)
	if codec == frame.CodecJSON {
		b, err = pbjson.Marshal(m)
	} else {
		b, err = proto.Marshal(m)
	}
	if err != nil {
		return nil, fmt.Errorf("encoding %s: %w", m.ProtoReflect().Descriptor().Name(), err)
	}
	return b, nil
}

// decodeString reads the plain-string argument of the informer and
// resetter methods: a JSON string or raw bytes. A string is no protobuf
// message, so the proto codec is refused (as goridge does).
func decodeString(codec byte, body []byte) (string, error) {
	switch codec {
	case frame.CodecJSON:
		var s string
		if len(body) == 0 {
			return "", nil
		}
		if err := json.Unmarshal(body, &s); err != nil {
			return "", fmt.Errorf("argument must be a JSON string: %w", err)
		}
		return s, nil
	case frame.CodecRaw:
		return string(body), nil
	default:
		return "", errNotProto
	}
}

// encodeValue encodes a plain Go reply (string, bool, struct) as JSON, or
// a string as its bytes under the raw codec.
func encodeValue(codec byte, v any) ([]byte, error) {
	switch codec {
	case frame.CodecRaw:
		if s, ok := v.(string); ok {
			return []byte(s), nil
		}
		return nil, fmt.Errorf("the raw codec carries only strings; use JSON for a %T reply", v)
	case frame.CodecJSON:
		b, err := json.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("encoding reply: %w", err)
		}
		return b, nil
	default:
		return nil, errNotProto
	}
}

// errNotProto refuses the proto codec for arguments and replies that are
// plain values, in goridge's words.
var errNotProto = errors.New("message type is not a proto: call this method with the JSON codec")
