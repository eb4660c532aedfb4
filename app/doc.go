// Package app is the application side of proxied events: the Go
// counterpart of Spiral's Centrifugo services and interceptors running
// behind RoadRunner's centrifuge plugin. The real-time server (`spindle
// server` or Centrifugo) asks the application about every client connect,
// refresh, subscribe, publish, RPC and subscription refresh, about client
// writes to map channels (map_publish, map_remove), and polls it for the
// items of shared-poll channels (shared_poll_refresh, per channel rather
// than per connection); an App answers through typed services, wrapped in
// interceptors.
//
// # Services
//
// One service per event type, registered on an App:
//
//	a := app.New(app.Options{})
//	a.HandleConnect(func(ctx context.Context, req *app.ConnectRequest) (*proxypb.ConnectResponse, error) {
//		return req.Allow("42"), nil
//	})
//	a.HandleRPC("cinema.schedule", scheduleService)
//
// Each request type wraps the generated proxypb request (so req.Client,
// req.Data, req.Channel… are at hand) together with the call's Type and
// Header (incoming gRPC metadata or HTTP headers). Its methods build the
// matching response: Allow, Respond, Deny, DenyTemporary, Disconnect, and
// per type Extend/Expire (refresh), Rewrite (publish, map_publish), Answer
// (RPC), Unchanged/Fail (shared_poll_refresh, which has no Disconnect: a
// disconnect answer becomes an error of the same code and reason).
//
// # Interceptors
//
// Interceptors registered with InterceptAll run for every type, then those
// registered with Intercept for the request's type, each group in
// registration order; the first registered is the outermost. An
// interceptor can enrich the context (see Key), answer by itself (Deny,
// Disconnect) or wrap the call. Chains are built once and rebuilt only
// when registrations change; a pass-through interceptor costs no
// allocation.
//
// # The server is never left waiting
//
// Every call is answered. The codes, chosen from the client protocol's
// own table so that SDKs understand them:
//
//	108 "not available"          no service registered for the event type
//	                             (for rpc: no RPC service at all)
//	104 "method not found"       rpc method with no service and no fallback
//	100 "internal server error"  service error, panic, or a reply of the wrong
//	                             type (temporary: true; logged with the type,
//	                             client id and, for panics, the stack)
//
// A service may return *Error or *DisconnectError as its error to answer
// with that code instead of 100. Handlers run under the caller's deadline
// (gRPC deadline, HTTP request context, or Options.Timeout when the caller
// set none); a handler that overruns it is abandoned and the caller gets
// context.DeadlineExceeded (gRPC status DeadlineExceeded, HTTP 504).
// Note that Centrifugo ignores Error and Disconnect in refresh and
// sub_refresh answers: without a result the connection or subscription is
// treated as expired. A shared_poll_refresh answered with an error (108
// included) is a failed poll: the server changes nothing.
//
// # Serving
//
// ListenAndServe listens on one address — tcp://host:port, host:port or
// unix:///path — and serves both the gRPC service
// centrifugal.centrifugo.proxy.CentrifugoProxy and the HTTP proxy variant
// on it: connections that open with the HTTP/2 preface go to gRPC, all
// others to an HTTP/1.1 server that takes POST requests with JSON bodies
// at paths ending in /connect, /refresh, /subscribe, /publish, /rpc,
// /sub_refresh, /map_publish, /map_remove and /shared_poll_refresh (so both
// http://app:10001/connect and http://app:10001/centrifugo/connect work).
// The App also answers the events as plain methods, so `spindle dev` calls
// it in-process.
package app
