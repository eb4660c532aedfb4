package config

import (
	"reflect"
	"strings"
)

// Change is one key whose value differs between two loaded
// configurations, as a reload reports it.
type Change struct {
	// Key is the key as operators write it: the flat v5 name, a v6 path
	// for v6-only keys and whole v6 proxy objects, or an entry of a list
	// ("namespaces[chat].presence", "proxies[auth]").
	Key string
	// Field is the Config field the key fills, as a dotted Go path
	// ("Client.PingInterval", "Channel.Namespaces"), so a caller can
	// decide by section what it is able to apply at run time.
	Field string
}

// Changes lists the keys whose values differ between old and new, in the
// registry's order followed by the list entries. It names keys only, never
// values, so it is safe to log whatever the keys hold. A file whose
// contents changed behind an unchanged path (a TLS certificate) counts as
// a change of that key.
func Changes(old, new *Config) []Change {
	var out []Change
	fields := fieldPaths(old)
	so, sn := &state{cfg: old}, &state{cfg: new}
	for _, d := range reg.defs {
		if d.target == nil {
			continue
		}
		po, pn := reflect.ValueOf(d.target(so)), reflect.ValueOf(d.target(sn))
		path, ok := fields[fieldKey{po.Pointer(), po.Type().Elem()}]
		if !ok {
			// The key fills loader scratch (proxy_*_endpoint, the
			// subscription_token_* keys); its result is compared below.
			continue
		}
		if !reflect.DeepEqual(po.Elem().Interface(), pn.Elem().Interface()) || tlsFileChanged(old, new, path) {
			out = append(out, Change{Key: d.name, Field: path})
		}
	}
	if old.HTTP.InternalPort != new.HTTP.InternalPort {
		out = append(out, Change{Key: "internal_port", Field: "HTTP.InternalPort"})
	}
	if !reflect.DeepEqual(old.CommandRateLimit, new.CommandRateLimit) {
		// Staged from its own sub-tree, not a registry target.
		out = append(out, Change{Key: "client.rate_limit.client_command", Field: "CommandRateLimit"})
	}
	out = append(out, subTokenChanges(old, new)...)
	out = append(out, proxyChanges(old, new)...)
	out = append(out, namespaceChanges(old.Channel.Namespaces, new.Channel.Namespaces)...)
	out = append(out, rpcNamespaceChanges(old.RPC.Namespaces, new.RPC.Namespaces)...)
	return out
}

// tlsFileChanged reports whether path names a TLS file key whose PEM,
// read by validation, differs although the key's text is the same.
func tlsFileChanged(old, new *Config, path string) bool {
	if !strings.Contains(path, "TLS.") || !strings.HasSuffix(path, "File") {
		return false
	}
	pem := strings.TrimSuffix(path, "File")
	return !reflect.DeepEqual(fieldByPath(old, pem), fieldByPath(new, pem))
}

type fieldKey struct {
	addr uintptr
	typ  reflect.Type
}

// fieldPaths maps the address and type of every struct field reachable
// from cfg without following pointers or slices to its dotted path. The
// type is part of the key because a struct and its first field share an
// address.
func fieldPaths(cfg *Config) map[fieldKey]string {
	out := map[fieldKey]string{}
	var walk func(v reflect.Value, prefix string)
	walk = func(v reflect.Value, prefix string) {
		for i := range v.NumField() {
			f := v.Field(i)
			path := prefix + v.Type().Field(i).Name
			out[fieldKey{f.Addr().Pointer(), f.Type()}] = path
			if f.Kind() == reflect.Struct {
				walk(f, path+".")
			}
		}
	}
	walk(reflect.ValueOf(cfg).Elem(), "")
	return out
}

// fieldByPath is the value at a dotted path of fieldPaths.
func fieldByPath(cfg *Config, path string) any {
	v := reflect.ValueOf(cfg).Elem()
	for _, name := range strings.Split(path, ".") {
		v = v.FieldByName(name)
	}
	return v.Interface()
}

// subTokenChanges names the subscription_token_* keys whose resolved value
// changed on its own; while subscription tokens mirror the connection
// token settings, the token_* change already says it.
func subTokenChanges(old, new *Config) []Change {
	var out []Change
	for _, f := range tokenFields {
		oldSub, newSub := *f.field(&old.SubToken), *f.field(&new.SubToken)
		if oldSub == newSub {
			continue
		}
		if oldSub == *f.field(&old.Token) && newSub == *f.field(&new.Token) {
			continue
		}
		out = append(out, Change{Key: "subscription_token_" + f.suffix, Field: "SubToken"})
	}
	return out
}

// proxyChanges names the per-event proxies (by their v6 object, which
// covers every option of the proxy) and the named proxies that changed,
// appeared or went away.
func proxyChanges(old, new *Config) []Change {
	events := [numEvents]func(p *Proxies) *Proxy{
		evConnect:           func(p *Proxies) *Proxy { return p.Connect },
		evRefresh:           func(p *Proxies) *Proxy { return p.Refresh },
		evSubscribe:         func(p *Proxies) *Proxy { return p.Subscribe },
		evPublish:           func(p *Proxies) *Proxy { return p.Publish },
		evSubRefresh:        func(p *Proxies) *Proxy { return p.SubRefresh },
		evRPC:               func(p *Proxies) *Proxy { return p.RPC },
		evSubscribeStream:   func(p *Proxies) *Proxy { return p.SubscribeStream },
		evMapPublish:        func(p *Proxies) *Proxy { return p.MapPublish },
		evMapRemove:         func(p *Proxies) *Proxy { return p.MapRemove },
		evSharedPollRefresh: func(p *Proxies) *Proxy { return p.SharedPollRefresh },
	}
	var out []Change
	for ev, get := range events {
		if !reflect.DeepEqual(get(&old.Proxy), get(&new.Proxy)) {
			out = append(out, Change{Key: proxyEvents[ev].v6, Field: "Proxy"})
		}
	}
	return append(out, listChanges("proxies", "Proxy.Named", old.Proxy.Named, new.Proxy.Named,
		func(p Proxy) string { return p.Name },
		func(o, n Proxy) []string {
			if reflect.DeepEqual(o, n) {
				return nil
			}
			return []string{""}
		})...)
}

// namespaceChanges names each option that changed in a namespace kept,
// and each namespace added or removed.
func namespaceChanges(old, new []Namespace) []Change {
	return listChanges("namespaces", "Channel.Namespaces", old, new,
		func(ns Namespace) string { return ns.Name },
		func(o, n Namespace) []string {
			var keys []string
			for _, opt := range chanOpts {
				if opt.target == nil {
					continue
				}
				a, b := reflect.ValueOf(opt.target(&o.ChannelOptions)), reflect.ValueOf(opt.target(&n.ChannelOptions))
				if !reflect.DeepEqual(a.Elem().Interface(), b.Elem().Interface()) {
					keys = append(keys, opt.name)
				}
			}
			return keys
		})
}

func rpcNamespaceChanges(old, new []RPCNamespace) []Change {
	return listChanges("rpc_namespaces", "RPC.Namespaces", old, new,
		func(ns RPCNamespace) string { return ns.Name },
		func(o, n RPCNamespace) []string {
			if o.ProxyName != n.ProxyName {
				return []string{"rpc_proxy_name"}
			}
			return nil
		})
}

// listChanges compares two lists of named entries: an entry in one list
// only is a change of "list[name]"; an entry in both is a change of
// "list[name].key" for each key diff returns ("" for the entry as a
// whole).
func listChanges[T any](list, field string, old, new []T, name func(T) string, diff func(o, n T) []string) []Change {
	var out []Change
	olds := map[string]T{}
	for _, e := range old {
		olds[name(e)] = e
	}
	news := map[string]bool{}
	for _, e := range new {
		n := name(e)
		news[n] = true
		o, ok := olds[n]
		if !ok {
			out = append(out, Change{Key: list + "[" + n + "]", Field: field})
			continue
		}
		for _, k := range diff(o, e) {
			key := list + "[" + n + "]"
			if k != "" {
				key += "." + k
			}
			out = append(out, Change{Key: key, Field: field})
		}
	}
	for _, e := range old {
		if n := name(e); !news[n] {
			out = append(out, Change{Key: list + "[" + n + "]", Field: field})
		}
	}
	return out
}
