// Package apiclient is a Go client of the server API (Spindle's or
// Centrifugo's), over HTTP or gRPC behind one interface, so Go backends,
// the app side and end-to-end tests can command the real-time server
// without hand-writing requests.
package apiclient
