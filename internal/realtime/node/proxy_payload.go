package node

import (
	"errors"

	"github.com/spindle-rt/spindle/internal/realtime/protocol"
)

// A backend (proxy or worker) may answer bytes that a JSON connection
// cannot carry: a gRPC answer is raw bytes and b64 fields decode to
// anything. Sent on, such bytes break the JSON frame and the connection is
// closed 3506, which the SDK treats as final; put in a publication they
// would close every JSON subscriber of the channel, again on every
// recovery. So the answer is checked where it enters, and only the one
// call fails (error 100, logged with the event and endpoint).
//
// Info (connection and channel info) reaches other clients in presence,
// join/leave and publications, whatever their format, so it must be JSON
// always. Data answered to the caller (connect and subscribe data, RPC
// results) and publication data rewritten by a publish proxy must be JSON
// when the caller uses the JSON format: a Protobuf client may exchange
// binary data with its backend, as in Centrifugo.

var (
	errInfoNotJSON = errors.New("info is not valid JSON (info reaches every client format; use JSON)")
	errDataNotJSON = errors.New("data is not valid JSON, and this client uses the JSON format")
)

// pickInfo is pickBytes for an info/b64info pair: the result must be JSON.
func pickInfo(raw []byte, b64 string) ([]byte, error) {
	b, err := pickBytes(raw, b64)
	if err != nil {
		return nil, err
	}
	if len(b) > 0 && !protocol.ValidJSONPayload(b) {
		return nil, errInfoNotJSON
	}
	return b, nil
}

// pickData is pickBytes for a data/b64data pair bound for this client (or,
// for a publish rewrite, for its channel): JSON clients need JSON.
func (c *Client) pickData(raw []byte, b64 string) ([]byte, error) {
	b, err := pickBytes(raw, b64)
	if err != nil {
		return nil, err
	}
	if err := c.checkData(b); err != nil {
		return nil, err
	}
	return b, nil
}

// checkData refuses non-JSON bytes for a JSON client.
func (c *Client) checkData(b []byte) error {
	if c.proto == protocol.TypeJSON && len(b) > 0 && !protocol.ValidJSONPayload(b) {
		return errDataNotJSON
	}
	return nil
}
