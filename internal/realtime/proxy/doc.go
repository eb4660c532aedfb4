// Package proxy is how `spindle server` asks an application backend about
// client events (connect, refresh, subscribe, publish, rpc, sub_refresh,
// map_publish, map_remove) and polls it for shared-poll channels
// (shared_poll_refresh): the CentrifugoProxy protocol over gRPC or HTTP. The node depends only on
// its own Backend interface, which *Client satisfies, so `spindle dev` can
// plug the application in directly, in process, instead.
package proxy
