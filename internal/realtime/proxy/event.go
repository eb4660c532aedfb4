package proxy

import "github.com/spindle-rt/spindle/proto/proxypb"

// event names one proxied client event; it indexes per-event tables
// (metric children, gRPC method paths) so a call does no string lookups.
type event uint8

const (
	evConnect event = iota
	evRefresh
	evSubscribe
	evPublish
	evRPC
	evSubRefresh
	evMapPublish
	evMapRemove
	evSharedPollRefresh
	numEvents
)

// eventNames are the names used in metric labels and error messages; they
// match Centrifugo's event names so dashboards and logs read the same.
var eventNames = [numEvents]string{
	evConnect:           "connect",
	evRefresh:           "refresh",
	evSubscribe:         "subscribe",
	evPublish:           "publish",
	evRPC:               "rpc",
	evSubRefresh:        "sub_refresh",
	evMapPublish:        "map_publish",
	evMapRemove:         "map_remove",
	evSharedPollRefresh: "shared_poll_refresh",
}

// grpcMethods are the CentrifugoProxy method paths for each event.
var grpcMethods = [numEvents]string{
	evConnect:           proxypb.CentrifugoProxy_Connect_FullMethodName,
	evRefresh:           proxypb.CentrifugoProxy_Refresh_FullMethodName,
	evSubscribe:         proxypb.CentrifugoProxy_Subscribe_FullMethodName,
	evPublish:           proxypb.CentrifugoProxy_Publish_FullMethodName,
	evRPC:               proxypb.CentrifugoProxy_RPC_FullMethodName,
	evSubRefresh:        proxypb.CentrifugoProxy_SubRefresh_FullMethodName,
	evMapPublish:        proxypb.CentrifugoProxy_MapPublish_FullMethodName,
	evMapRemove:         proxypb.CentrifugoProxy_MapRemove_FullMethodName,
	evSharedPollRefresh: proxypb.CentrifugoProxy_SharedPollRefresh_FullMethodName,
}

func (e event) String() string {
	if e < numEvents {
		return eventNames[e]
	}
	return "unknown"
}
