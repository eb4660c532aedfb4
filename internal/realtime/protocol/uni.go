package protocol

import (
	"bytes"
	"fmt"
	"strconv"

	"google.golang.org/protobuf/proto"

	"github.com/spindle-rt/spindle/proto/clientpb"
)

// Unidirectional transports carry no commands: the client sends one
// ConnectRequest (not wrapped in a Command) and receives bare Pushes (not
// wrapped in a Reply). These are their codecs.

// DecodeConnectRequest reads the connect request of a unidirectional
// client: a JSON object ("null" and empty input mean an empty request) or
// a Protobuf ConnectRequest.
func DecodeConnectRequest(t Type, data []byte) (*clientpb.ConnectRequest, error) {
	req := &clientpb.ConnectRequest{}
	switch t {
	case TypeJSON:
		trimmed := bytes.TrimSpace(data)
		if len(trimmed) == 0 || string(trimmed) == "null" {
			return req, nil
		}
		l := newLexer(trimmed)
		if l.Peek() != '{' {
			return nil, l.errorf("connect request must be a JSON object")
		}
		if err := decodeConnectRequest(&l, req); err != nil {
			return nil, err
		}
		if !l.AtEnd() {
			return nil, l.errorf("unexpected data after the connect request")
		}
		return req, nil
	case TypeProtobuf:
		if err := proto.Unmarshal(data, req); err != nil {
			return nil, fmt.Errorf("protocol: decode protobuf connect request: %w", err)
		}
		return req, nil
	}
	return nil, fmt.Errorf("protocol: decode connect request as %s: %w", strconv.Quote(string(t)), ErrUnknownType)
}

// EncodePush returns a bare push: compact JSON, or the Protobuf bytes of
// the Push message without a length prefix (a unidirectional gRPC stream
// frames each message itself). An empty Push is the server's ping.
func EncodePush(t Type, p *clientpb.Push) ([]byte, error) {
	switch t {
	case TypeJSON:
		w := jsonWriter{b: make([]byte, 0, 128)}
		w.push(p)
		if w.err != nil {
			return nil, w.err
		}
		return w.b, nil
	case TypeProtobuf:
		b, err := proto.Marshal(p)
		if err != nil {
			return nil, fmt.Errorf("protocol: marshal protobuf push: %w", err)
		}
		return b, nil
	}
	return nil, fmt.Errorf("protocol: encode push as %s: %w", strconv.Quote(string(t)), ErrUnknownType)
}
