// Package demo is the ticket-booking demo that `spindle dev` serves: the
// Spindle counterpart of Spiral's ticket-booking application, small enough
// to read in one sitting and real enough to show every moving part.
//
// Visitors watch screenings and their seat maps live; a visitor who signs
// in with a name gets an HMAC-signed session token (POST /demo/login) that
// the page sends in the connect command's data as "authToken". From then
// on everything travels over the real-time connection:
//
//   - connect, subscribe and RPC events are proxied to an *app.App, where
//     the demo's services answer them behind two interceptors: timing
//     (outermost, on every event) and auth (turns the token or the
//     connection's user into the context user);
//   - RPC methods list screenings, return a seat map and reserve, buy or
//     cancel a seat; seats move free → reserved (for ReservationTTL) →
//     sold, and a per-screening mutex keeps any seat from being booked
//     twice;
//   - every change is published to "screening.<id>", purchases and
//     expired reservations also to the user's own channel "user#<id>".
//
// Publishing goes through the Publisher interface, so the same services
// run inside `spindle dev` (publishing straight into the node) and as a
// separate process that reaches the server's API over gRPC (see
// examples/ticket-booking).
package demo
