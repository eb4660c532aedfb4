package app

// Type names a kind of proxied event. Services and interceptors are
// registered per Type.
type Type uint8

// The event types. String values are those RoadRunner puts in the `type`
// key of a worker request's context, so workers written for RoadRunner
// recognise them. RoadRunner's centrifuge plugin has no map events
// (Centrifugo v6.8's MapPublish and MapRemove), so their names are ours:
// "map_publish" and "map_remove", as Centrifugo names these events in its
// proxy metrics and as the HTTP paths read, rather than run together like
// RoadRunner's "subrefresh", a spelling nobody could guess for new names.
// Shared-poll refreshes (Centrifugo v6.8's SharedPollRefresh) are named
// "shared_poll_refresh" the same way. Unlike every other event they are
// per channel, not per connection: the server polls for the items a
// channel's subscribers track, so the request names no client or user.
const (
	TypeConnect Type = iota + 1
	TypeRefresh
	TypeSubscribe
	TypePublish
	TypeRPC
	TypeSubRefresh
	TypeMapPublish
	TypeMapRemove
	TypeSharedPollRefresh

	numTypes = int(TypeSharedPollRefresh) + 1
)

var typeNames = [numTypes]string{
	TypeConnect:           "connect",
	TypeRefresh:           "refresh",
	TypeSubscribe:         "subscribe",
	TypePublish:           "publish",
	TypeRPC:               "rpc",
	TypeSubRefresh:        "subrefresh",
	TypeMapPublish:        "map_publish",
	TypeMapRemove:         "map_remove",
	TypeSharedPollRefresh: "shared_poll_refresh",
}

// Types lists every event type, in protocol order.
func Types() []Type {
	return []Type{TypeConnect, TypeRefresh, TypeSubscribe, TypePublish, TypeRPC, TypeSubRefresh, TypeMapPublish, TypeMapRemove, TypeSharedPollRefresh}
}

// String returns the RoadRunner name of the type ("subrefresh" for
// TypeSubRefresh, without underscore, as RoadRunner sends it).
func (t Type) String() string {
	if t.Valid() {
		return typeNames[t]
	}
	return "unknown"
}

// Valid reports whether t is one of the declared types.
func (t Type) Valid() bool { return t >= TypeConnect && int(t) < numTypes }

// ParseType maps a type name back to its Type. It accepts both spellings
// of the subscription refresh seen in the wild: "subrefresh" (RoadRunner)
// and "sub_refresh" (Centrifugo, some PHP SDK versions).
func ParseType(s string) (Type, bool) {
	if s == "sub_refresh" {
		return TypeSubRefresh, true
	}
	for t := TypeConnect; int(t) < numTypes; t++ {
		if typeNames[t] == s {
			return t, true
		}
	}
	return 0, false
}
