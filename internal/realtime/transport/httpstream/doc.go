// Package emulation is the client-protocol transport for browsers and
// networks where WebSocket does not get through: HTTP-streaming and SSE
// carry the server's replies down one long-lived HTTP response, and the
// client posts its later commands to the emulation endpoint, addressed by
// the (node, session) pair its connect reply named. To the node such a
// connection is like any other; only framing and the way commands arrive
// differ, and this package is that difference.
//
// Framing (one write and flush per batch of replies):
//   - HTTP-streaming, JSON: each reply followed by "\n";
//   - HTTP-streaming, Protobuf (request Content-Type application/octet-stream):
//     each reply length-prefixed, a ping is the single byte 0;
//   - SSE (JSON only): "\r\n" once, then "data: <reply>\n\n" per reply.
//
// The server's disconnect travels as a disconnect push, since there is no
// close frame, and then the response ends. The handlers start no goroutine:
// the stream is held on the HTTP handler's goroutine, and writes happen on
// the node's writer.
package httpstream
