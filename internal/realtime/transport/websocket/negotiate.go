package websocket

import (
	"net/http"

	"github.com/spindle-rt/spindle/internal/realtime/protocol"
)

// Subprotocols the server offers (spec §1.1).
const (
	SubprotocolJSON     = "centrifuge-json"
	SubprotocolProtobuf = "centrifuge-protobuf"
)

// subprotocolHeaders are the read-only response headers echoing each offered
// subprotocol; shared so the handshake allocates no map (and keeps the
// handler goroutine's stack small).
var subprotocolHeaders = map[string]http.Header{
	SubprotocolJSON:     {"Sec-Websocket-Protocol": {SubprotocolJSON}},
	SubprotocolProtobuf: {"Sec-Websocket-Protocol": {SubprotocolProtobuf}},
}

// selectSubprotocol walks the client's list in order and picks the first
// protocol the server offers (spec §1.1); gorilla's own choice would follow
// the server's order instead.
func selectSubprotocol(requested []string) string {
	for _, p := range requested {
		if p == SubprotocolJSON || p == SubprotocolProtobuf {
			return p
		}
	}
	return ""
}

// selectFormat picks protobuf if the query or the subprotocol asks for it,
// JSON otherwise (spec §1.1).
func selectFormat(r *http.Request, subprotocol string) protocol.Type {
	q := r.URL.Query()
	if q.Get("format") == "protobuf" || q.Get("cf_protocol") == "protobuf" || subprotocol == SubprotocolProtobuf {
		return protocol.TypeProtobuf
	}
	return protocol.TypeJSON
}
