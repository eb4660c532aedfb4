// Package api is the server API: the HTTP (`POST /api/<method>`, legacy
// `POST /api`) and gRPC (`centrifugal.centrifugo.api.CentrifugoApi`)
// endpoints application backends use to command the real-time server.
//
// It is a thin translation layer: an Executor turns apipb requests into
// calls on the node and node results and errors into apipb responses, and
// the two transports only decode, authenticate and encode. Keeping the
// semantics in one Executor is what makes an HTTP call and a gRPC call (and
// a command inside a batch) behave identically, as they do in Centrifugo.
package api
