// Package workerrpc serves RoadRunner's worker RPC endpoint (`rpc.listen`)
// for `spindle app`: the socket through which application workers call
// back into the app server — above all to reach the real-time server API
// (roadrunner-php/centrifugo's RPCCentrifugoApi: centrifuge.Publish,
// centrifuge.Broadcast, …) — plus the small informer/resetter/rpc
// services that RoadRunner tooling expects.
//
// # Wire protocol
//
// goridge's RPC codec, the one Go's net/rpc used with goridge: each call is
// one goridge frame whose options are [seq, len(method)] and whose payload
// is the method name ("service.Method") followed by the encoded argument;
// the flags byte names the codec. The answer echoes seq and the method
// name with the same codec; a failure is the same frame with the ERROR
// flag and the error text after the method name. Several calls may be in
// flight on one connection (PHP's MultiRPC); each is answered when done.
//
// Codecs: proto (what the PHP SDK uses: protobuf messages of package
// centrifugal.centrifugo.api) and JSON (Centrifugo's HTTP API mapping,
// bytes fields as embedded JSON — see internal/pbjson). Raw is accepted
// for the methods that take a plain string. Msgpack and gob are refused
// with an error frame.
//
// # Semantics
//
// centrifuge.X forwards XRequest to the server API with a deadline and
// answers XResponse: an API-level error (say, unknown channel) is a
// successful call whose response has error set, as in RoadRunner; only a
// transport failure (server down, deadline) is an error frame.
package workerrpc
