// Package websocket is the client-protocol WebSocket transport: it upgrades
// HTTP requests (origin check, subprotocol and wire-format selection), feeds
// each incoming message to a Session, and gives the node a Conn to write
// frames and close with a disconnect code.
//
// It is built on github.com/gorilla/websocket, chosen by the benchmarks in
// bench_compare_test.go (see docs/benchmarks-websocket.md). The transport
// starts no goroutines of its own: the reader runs on the HTTP handler
// goroutine and writes happen on the caller's goroutine.
package websocket
