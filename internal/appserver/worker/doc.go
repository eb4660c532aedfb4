// Package worker runs the long-lived application workers of `spindle app`:
// processes in any language that speak RoadRunner's goridge protocol over
// pipes, TCP or a unix socket. A Pool keeps them warm, hands each request to
// a free one, and replaces workers that crash, hang, misbehave or outgrow
// their limits — so a PHP worker written for roadrunner-php/centrifugo runs
// unchanged behind Spindle.
//
// Wire contract (RoadRunner's): a worker is started with RR_RELAY, RR_RPC,
// RR_VERSION and RR_MODE in its environment, answers a {"pid":…} control
// frame with its own pid, then loops: read a request frame (one option =
// context length, payload = context ‖ body), write one reply frame with the
// same layout, or an ERROR frame (a soft error: the worker stays), or a
// reply with context {"stop":true} and no body (the worker is retired and
// the request retried elsewhere). A {"stop":true} control frame asks it to
// exit. Stdout of a pipes worker carries only frames; stderr is logged.
//
// Unlike RoadRunner, nothing waits forever: every execution is bounded by
// min(exec_ttl, caller's deadline), and a worker that misses it is killed.
package worker
