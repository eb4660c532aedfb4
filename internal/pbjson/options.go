package pbjson

import "google.golang.org/protobuf/reflect/protoreflect"

// Option adjusts how Marshal writes a message.
type Option func(options) options

// options is passed by value so that applying options does not force the
// encoder onto the heap.
type options struct {
	emit  [2]func(protoreflect.FieldDescriptor) bool
	n     int
	extra []func(protoreflect.FieldDescriptor) bool
}

func (o options) withEmit(f func(protoreflect.FieldDescriptor) bool) options {
	if o.n < len(o.emit) {
		o.emit[o.n] = f
		o.n++
		return o
	}
	o.extra = append(o.extra[:len(o.extra):len(o.extra)], f)
	return o
}

func (o *options) hasEmit() bool { return o.n > 0 }

func (o *options) alwaysEmit(fd protoreflect.FieldDescriptor) bool {
	for _, f := range o.emit[:o.n] {
		if f(fd) {
			return true
		}
	}
	for _, f := range o.extra {
		if f(fd) {
			return true
		}
	}
	return false
}

// AlwaysEmit makes the named fields appear even when they hold their zero
// value, because some peers require the key (Centrifugo always sends
// `user`, "" for anonymous, in proxy requests). Names are full field names
// such as "centrifugal.centrifugo.proxy.RPCRequest.user". A scalar is
// written as its zero value, an empty list as [], an empty map as {}, and
// an unset bytes or message field as null.
func AlwaysEmit(names ...protoreflect.FullName) Option {
	set := make(map[protoreflect.FullName]struct{}, len(names))
	for _, n := range names {
		set[n] = struct{}{}
	}
	f := func(fd protoreflect.FieldDescriptor) bool {
		_, ok := set[fd.FullName()]
		return ok
	}
	return func(o options) options { return o.withEmit(f) }
}

// AlwaysEmitFunc is AlwaysEmit with a predicate, for rules that are easier
// to express in code than as a list of names.
func AlwaysEmitFunc(f func(protoreflect.FieldDescriptor) bool) Option {
	return func(o options) options {
		if f == nil {
			return o
		}
		return o.withEmit(f)
	}
}

// proxyUserFields are the proxy requests whose `user` key Centrifugo's HTTP
// proxy always sends. The map requests (v6.8) are listed too, though
// whether Centrifugo keeps the key there is not established: every other
// request that names a user carries it, and a key too many breaks no
// backend while a missing one breaks those that index it.
var proxyUserFields = []protoreflect.FullName{
	"centrifugal.centrifugo.proxy.RefreshRequest.user",
	"centrifugal.centrifugo.proxy.SubscribeRequest.user",
	"centrifugal.centrifugo.proxy.PublishRequest.user",
	"centrifugal.centrifugo.proxy.RPCRequest.user",
	"centrifugal.centrifugo.proxy.SubRefreshRequest.user",
	"centrifugal.centrifugo.proxy.MapPublishRequest.user",
	"centrifugal.centrifugo.proxy.MapRemoveRequest.user",
}

var proxyUser = AlwaysEmit(proxyUserFields...)

// ProxyUser is the option an HTTP proxy client needs so that request bodies
// carry `"user":""` for anonymous connections exactly like Centrifugo's.
func ProxyUser() Option { return proxyUser }

// apiResultFields are the server API result fields Centrifugo writes even
// when empty, so HTTP API clients may read them without a presence check.
var apiResultFields = []protoreflect.FullName{
	"centrifugal.centrifugo.api.HistoryResult.publications",
	"centrifugal.centrifugo.api.HistoryResult.epoch",
	"centrifugal.centrifugo.api.HistoryResult.offset",
	"centrifugal.centrifugo.api.PresenceResult.presence",
	"centrifugal.centrifugo.api.PresenceStatsResult.num_clients",
	"centrifugal.centrifugo.api.PresenceStatsResult.num_users",
	"centrifugal.centrifugo.api.ChannelsResult.channels",
	"centrifugal.centrifugo.api.ChannelInfo.num_clients",
	"centrifugal.centrifugo.api.NodeResult.uid",
	"centrifugal.centrifugo.api.NodeResult.name",
	"centrifugal.centrifugo.api.NodeResult.version",
	"centrifugal.centrifugo.api.NodeResult.num_clients",
	"centrifugal.centrifugo.api.NodeResult.num_users",
	"centrifugal.centrifugo.api.NodeResult.num_channels",
	"centrifugal.centrifugo.api.NodeResult.num_subs",
	"centrifugal.centrifugo.api.NodeResult.uptime",
	"centrifugal.centrifugo.api.ClientInfo.user",
	"centrifugal.centrifugo.api.ClientInfo.client",
	"centrifugal.centrifugo.api.InfoResult.nodes",
}

var apiResults = AlwaysEmit(apiResultFields...)

// APIResults is the option the HTTP server API needs so that empty results
// keep the keys Centrifugo's API JSON always carries.
func APIResults() Option { return apiResults }
